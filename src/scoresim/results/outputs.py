"""Outputs written so that a reader, a crash or a full disk never leaves half a result.

A result folder is written whole into a temporary folder beside it, then takes the place of
the previous result in two renames: the previous result moves into ``.NAME.PID.X.old/``, the
new folder to NAME. A process killed between the two renames leaves NAME missing for a
moment; the next writer (or ``check_out_dir``) sees that the writer is dead and finishes its
work: the new folder was complete before the first rename, so it takes NAME, and the previous
result is removed. Temporaries of dead writers are removed.

The output is checked before anything is computed (``check_out_dir``): a name the file system
accepts, a parent that is a folder this process can write in, and no foreign files replaced.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .faults import reach

RESULT_MARKERS = ("summary.json", "compare.json", "fit.json", "validation.json")
# a temporary beside NAME: .NAME.<pid>.<random>.tmp (the new folder) or .old (the previous)
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<token>[^.]+)\.(?P<kind>tmp|old)$")


class OutputError(Exception):
    """The output folder cannot be used (one line: the path and the reason)."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def recover(out: Path) -> str | None:
    """Finish or clean what writers killed while writing ``out`` left beside it; returns what
    was done, or None if there was nothing to do."""
    parent = out.parent if out.parent.is_dir() else None
    if parent is None:
        return None
    left: dict[str, dict[str, Path]] = {}
    try:
        entries = list(parent.iterdir())
    except OSError:
        return None
    for entry in entries:
        m = _TEMPORARY.match(entry.name)
        if m and m["name"] == out.name and int(m["pid"]) != os.getpid() \
                and not _alive(int(m["pid"])):
            left.setdefault(f"{m['pid']}.{m['token']}", {})[m["kind"]] = entry
    done = None
    for parts in left.values():
        old, tmp = parts.get("old"), parts.get("tmp")
        if old is not None and (old / "previous").exists() and not out.exists():
            if tmp is not None:  # complete: the previous result was moved aside after it
                os.replace(tmp, out)
                done = f"{out}: finished the replacement an interrupted run began"
            else:
                os.replace(old / "previous", out)
                done = f"{out}: restored the previous result an interrupted run moved aside"
        for path in (tmp, old):
            if path is not None and path.exists():
                shutil.rmtree(path, ignore_errors=True)
        done = done or f"{out}: removed what an interrupted run left beside it"
    return done


def _check_name(out: Path, probe: Path) -> None:
    """The temporaries' names (the longest: .NAME.PID.RANDOM.tmp) must fit the file system."""
    try:
        limit = os.pathconf(probe, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    longest = len(os.fsencode(f".{out.name}.{2**22}.{'x' * 8}.tmp"))
    if not out.name or out.name in (".", "..") or longest > limit:
        raise OutputError(f"{out}: not a usable folder name (at most {limit - 20} bytes here)")


def check_out_dir(out: Path, replace: bool = True) -> str | None:
    """Check that a result can be written to ``out`` before anything is computed: its parent
    is (or can become) a folder this process writes in, its name fits, and it is new, empty,
    or a previous scoresim result (replaced only with ``replace``). Leftovers of an
    interrupted write are finished or removed first; returns what that did, if anything."""
    if "\0" in str(out):
        raise OutputError(f"{str(out)!r}: a path cannot hold a NUL character")
    out = Path(out).resolve()
    done = recover(out)
    ancestor = out.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{out}: {ancestor} is a file, not a folder")
    _check_name(out, ancestor)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not any((out / m).exists() for m in RESULT_MARKERS):
            raise OutputError(f"{out}: folder exists, is not empty and is not a previous "
                              "scoresim result; choose another --out")
        if not replace:
            raise OutputError(f"{out}: holds a previous result; add --force to replace it, "
                              "or choose another --out")
    try:  # the one sure test of writability: make (and remove) a folder where the result goes
        os.rmdir(tempfile.mkdtemp(prefix=".scoresim-probe.", dir=ancestor))
    except OSError as exc:
        raise OutputError(f"{out}: cannot write in {ancestor}: {_reason(exc)}") from None
    return done


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place;
    OutputError (one line) if the file system refuses."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {_reason(exc)}") from None
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {_reason(exc)}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON, written atomically."""
    write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=2) + "\n"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """A DataFrame as Parquet (no index), written atomically."""
    write_atomic(path, lambda p: frame.to_parquet(p, index=False))


def write_text(path: Path, text: str) -> None:
    """UTF-8 text, written atomically."""
    write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def _fill(tmp: Path, files: dict[str, Callable[[Path], None]], out: Path) -> None:
    for name, write in files.items():
        try:
            write(tmp / name)
        except OSError as exc:  # a full disk, a quota: the previous result stays in place
            what = "the disk is full" if exc.errno == errno.ENOSPC else _reason(exc)
            raise OutputError(f"{out}: cannot write {name}: {what}; the previous result, if "
                              "any, is unchanged") from None
        except UnicodeEncodeError as exc:
            raise OutputError(f"{out}: cannot write {name}: {exc.reason}") from None


def write_folder(out: Path, files: dict[str, Callable[[Path], None]],
                 replace: bool = True) -> list[Path]:
    """Write a whole result folder at once: every file goes into a temporary folder beside
    ``out``, which then takes the place of ``out`` (a previous result there is replaced if
    ``replace``). Raises OutputError, one line, with nothing changed at ``out``."""
    check_out_dir(out, replace)
    out = Path(out).resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp",
                                    dir=out.parent))
    except OSError as exc:
        raise OutputError(f"{out}: cannot write: {_reason(exc)}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a result folder is not
    old = tmp.with_name(tmp.name.removesuffix(".tmp") + ".old")
    try:
        _fill(tmp, files, out)
        reach("kill-before-renames")
        if out.exists():
            old.mkdir()
            os.replace(out, old / "previous")
            reach("kill-between-renames")
        try:
            os.replace(tmp, out)
        except OSError as exc:
            if (old / "previous").exists():
                os.replace(old / "previous", out)
            raise OutputError(f"{out}: cannot write: {_reason(exc)}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return [out / name for name in files]


def write_run(out: Path, summary: dict, daily: pd.DataFrame, scenario_yaml: str,
              profile: pd.DataFrame | None = None,
              extra: dict[str, Callable[[Path], None]] | None = None,
              replace: bool = True) -> list[Path]:
    """The files of one run: summary.json, daily.parquet, scenario.yaml (and profile)."""
    files: dict[str, Callable[[Path], None]] = {
        "summary.json": lambda p: p.write_text(json.dumps(summary, indent=2) + "\n"),
        "daily.parquet": lambda p: daily.to_parquet(p, index=False),
        "scenario.yaml": lambda p: p.write_text(scenario_yaml, encoding="utf-8"),
    }
    if profile is not None:
        files["profile.parquet"] = lambda p: profile.to_parquet(p, index=False)
    files.update(extra or {})
    return write_folder(out, files, replace)
