"""Outputs of one run, written atomically: each file goes to a temporary name and is renamed,
so a reader (or a crash) never sees a half-written file."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

RESULT_MARKERS = ("summary.json", "compare.json", "validation.json")


class OutputError(Exception):
    """The output folder cannot be used."""


def check_out_dir(path: Path) -> None:
    """An output folder must be new, empty, or a previous scoresim result (overwritten)."""
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()):
        if not any((path / m).exists() for m in RESULT_MARKERS):
            raise OutputError(
                f"{path}: folder exists, is not empty and is not a previous scoresim result; "
                "choose another --out")


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=2) + "\n"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    write_atomic(path, lambda p: frame.to_parquet(p, index=False))


def write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda p: p.write_text(text))


def write_folder(out: Path, files: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Write a whole result folder at once: every file goes into a temporary folder beside
    ``out``, which then takes the place of ``out`` (a previous result there is replaced)."""
    check_out_dir(out)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a result folder is not
    try:
        for name, write in files.items():
            write(tmp / name)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "previous")
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / name for name in files]


def write_run(out: Path, summary: dict, daily: pd.DataFrame, scenario_yaml: str,
              profile: pd.DataFrame | None = None,
              extra: dict[str, Callable[[Path], None]] | None = None) -> list[Path]:
    """The files of one run: summary.json, daily.parquet, scenario.yaml (and profile)."""
    files: dict[str, Callable[[Path], None]] = {
        "summary.json": lambda p: p.write_text(json.dumps(summary, indent=2) + "\n"),
        "daily.parquet": lambda p: daily.to_parquet(p, index=False),
        "scenario.yaml": lambda p: p.write_text(scenario_yaml),
    }
    if profile is not None:
        files["profile.parquet"] = lambda p: profile.to_parquet(p, index=False)
    files.update(extra or {})
    return write_folder(out, files)
