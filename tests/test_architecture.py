"""The code's structure holds: imports point one way down the floors (no circles), kernels take
a few typed bundles, parallel kernels never write through a bundle's field, the random streams
never collide, and the day is declared once."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from scoresim.core import rng
from scoresim.engine.day import DAY, STAGE_NAMES
from scoresim.engine.effects import EFFECTS

SRC = Path(__file__).resolve().parents[1] / "src" / "scoresim"

# the floors, from the ground up: a module may import from its own floor's package and from
# floors below; never from above
FLOORS = [
    {"core", "scenario"},
    {"network"},
    {"population", "engine"},
    {"results"},
    {"sim"},
    {"scale"},
    {"experiments"},
    {"report"},
    {"explore"},
    {"cli"},
]
FLOOR = {pkg: k for k, floor in enumerate(FLOORS) for pkg in floor}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(["scoresim", *parts])] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The scoresim modules a module imports at run time (anywhere in it, lazily or not;
    imports for type checkers only, under ``if TYPE_CHECKING:``, are not dependencies)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                   for n in ast.walk(block)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                out.add(full if full in MODULES else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("scoresim")}


def _floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOOR.get(parts[1]) if len(parts) > 1 else None


def test_every_package_has_a_floor():
    packages = {m.split(".")[1] for m in MODULES if m.count(".") >= 1}
    assert packages - set(FLOOR) == {"__init__"} or packages <= set(FLOOR) | {"__init__"}, (
        packages - set(FLOOR))


def test_imports_point_down_the_floors():
    wrong = []
    for name, path in MODULES.items():
        mine = _floor(name)
        if mine is None:  # the package's API (scoresim/__init__.py) may import any floor
            continue
        for target in _imports(name, path):
            theirs = _floor(target)
            if target == "scoresim":
                wrong.append(f"{name} imports the package API")
            elif theirs is not None and theirs > mine:
                wrong.append(f"{name} (floor {mine}) imports {target} (floor {theirs})")
            elif theirs == mine and target.split(".")[1] != name.split(".")[1]:
                wrong.append(f"{name} imports {target}, a neighbour on its floor")
    assert not wrong, "\n".join(wrong)


def test_no_import_circles():
    graph = {name: {t for t in _imports(name, path) if t in MODULES and t != name}
             for name, path in MODULES.items()}
    # a package's __init__ re-exporting its modules is not a circle through them
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    seen, stack, cycles = set(), [], []

    def visit(node: str) -> None:
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for t in sorted(graph[node]):
            visit(t)
        stack.pop()

    for node in sorted(graph):
        visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def _kernels():
    """(module, function node, parallel) of every Numba kernel in the source."""
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                text = ast.unparse(dec)
                if text.startswith(("nb.njit", "njit", "numba.njit")):
                    yield name, node, "parallel=True" in text


def test_no_kernel_takes_more_than_twelve_arguments():
    kernels = list(_kernels())
    assert len(kernels) > 30
    long = [f"{m}.{f.name}: {len(f.args.args)}" for m, f, _ in kernels if len(f.args.args) > 12]
    assert not long, long


def test_parallel_kernels_write_no_array_through_a_bundle_field():
    """Numba (0.6x) loses ``bundle.field[i] = x`` made directly in a prange body: parallel
    kernels bind what they write to a local first (or write through a called function)."""
    write = re.compile(r"^\s*(\w+)\.(\w+)\[[^\]]*\]\s*(?:[+\-|&]?=)(?!=)", re.M)
    found = []
    for m, f, parallel in _kernels():
        if not parallel:
            continue
        src = ast.unparse(f)
        for loop in re.finditer(r"for \w+ in nb\.prange\(", src):
            body = src[loop.start():]
            for hit in write.finditer(body):
                found.append(f"{m}.{f.name}: {hit.group(0).strip()}")
    assert not found, found


def test_random_streams_never_collide():
    """Every (stage, sub) stream the model makes is distinct for any count the schema allows
    (below 256 behaviours, groups, venue kinds, cities, tie layers and regions)."""
    K = rng.MAX_KINDS - 1
    visit = ([rng.venue_group(k, g) for k in range(K) for g in range(K)]
             + [rng.venue_pick(k) for k in range(K)] + [rng.VENUE_IDENTIFY])
    ties = ([rng.tie_region(layer, r) for layer in range(K) for r in range(K)]
            + [rng.tie_cross(layer, c, g) for layer in range(K) for c in range(0, K, 7)
               for g in range(K)])
    names = [rng.name_at_home(b) for b in range(K)] + [rng.name_at_venue(k) for k in range(K)]
    for subs in (visit, ties, names):
        assert len(set(subs)) == len(subs)
    stages = [rng.ACT, rng.ACT_ACCEPT, rng.OBSERVE, rng.SERVICE, rng.APPEAL, rng.VISIT,
              rng.VENUE_ACT, rng.WATCH_LIST, rng.NAME, rng.BUILD_TIES, rng.AVOID,
              rng.LIST_ENTRY, rng.LIST_REMOVAL, rng.SERVICE_ACCEPT, rng.SERVICE_AFTER]
    assert len(set(stages)) == len(stages)
    # the keys themselves: distinct (stage, sub) pairs give distinct streams
    keys = {int(rng.stream(3, 5, s, sub)) for s, sub in itertools.product(stages, range(300))}
    assert len(keys) == len(stages) * 300
    # a list's draws for one agent and day are distinct; a request's retries (at most
    # MAX_TRIES) never reach the switch's draw
    from scoresim.engine.stages.services import MAX_TRIES

    entry = (rng.LIST_PUBLISH, rng.LIST_TERM, rng.LIST_EXTEND, rng.LIST_EXTEND_DAYS,
             rng.LIST_INITIAL)
    assert len(set(entry)) == len(entry)
    assert rng.SERVICE_GIVE_UP == 0 < MAX_TRIES < rng.SERVICE_SWITCH
    # a venue act's index keeps agent and behaviour apart
    idx = {np.int64(i) * rng.MAX_KINDS + b for i in range(50) for b in range(K)}
    assert len(idx) == 50 * K


def test_the_day_is_declared_once_with_consistent_effects():
    assert len(set(STAGE_NAMES)) == len(STAGE_NAMES)
    emitted = {k for s in DAY for k in s.emits}
    received = {k for s in DAY for k in s.receives}
    assert emitted == received == set(EFFECTS)
    # every effect is received by a later stage than the first that emits it
    order = {s.name: i for i, s in enumerate(DAY)}
    for kind in EFFECTS:
        first = min(order[s.name] for s in DAY if kind in s.emits)
        assert all(order[s.name] > first for s in DAY if kind in s.receives), kind


def test_the_partition_driver_holds_no_model_logic():
    """The driver and worker import no stage: what a day runs is engine/day.py's."""
    for mod in ("scoresim.experiments.partitioned", "scoresim.experiments.partition_worker"):
        assert not any(".stages" in t for t in _imports(mod, MODULES[mod])), mod


@pytest.mark.parametrize("name", ["NEVER", "CHUNK", "CAUSES", "FIXED", "BLOCK"])
def test_constants_are_defined_once(name):
    pattern = re.compile(rf"^{name}\s*=", re.M)
    where = [m for m, p in MODULES.items() if pattern.search(p.read_text())]
    assert where == ["scoresim.core.constants"], where
