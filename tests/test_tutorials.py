"""The tutorials work: each notebook (made from its page in docs/tutorials/) agrees with the
page, runs from top to bottom at a small size without an error, and draws its figure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "notebooks"))
import make_notebooks  # noqa: E402

FIGURES = {"association": "association.png", "safeguards": "safeguards.png",
           "false-matches": "false-matches.png"}


def test_the_notebooks_are_made_from_the_tutorial_pages() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "notebooks" / "make_notebooks.py"),
                        "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert set(make_notebooks.TUTORIALS) == set(FIGURES)
    for name in FIGURES:
        page = (ROOT / "docs" / "tutorials" / f"{name}.md").read_text()
        assert page.startswith("# ") and "?" in page.splitlines()[0]  # a question


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_a_tutorial_notebook_runs_and_draws_its_figure(name: str, tmp_path: Path,
                                                       monkeypatch) -> None:
    monkeypatch.setenv("SCORESIM_TUTORIAL_SMALL", "1")
    monkeypatch.setenv("NUMBA_NUM_THREADS", os.environ.get("NUMBA_NUM_THREADS", "1"))
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    png = tmp_path / FIGURES[name]
    assert png.exists(), f"{name} saved no figure"
    assert len(Image.open(png).convert("RGB").getcolors(2**24)) > 50  # something is drawn
