"""Make the tutorial notebooks (notebooks/*.ipynb) from the tutorial pages
(docs/tutorials/*.md): text becomes markdown cells, each ```python block a code cell. The pages
are the source; ``make notebooks`` runs this, and the test suite checks the two agree.

    python notebooks/make_notebooks.py [--check]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "tutorials"
TUTORIALS = ("association", "safeguards", "false-matches")
CODE = re.compile(r"^```python\n(.*?)^```\n", re.M | re.S)


def notebook(page: Path) -> nbformat.NotebookNode:
    """The notebook of one tutorial page."""
    text = page.read_text(encoding="utf-8")
    text = text.replace("](../", "](https://scoresim.invalid/")  # links only the site resolves
    cells, at = [], 0
    for m in CODE.finditer(text):
        before = text[at:m.start()].strip()
        if before:
            cells.append(nbformat.v4.new_markdown_cell(before))
        cells.append(nbformat.v4.new_code_cell(m.group(1).rstrip("\n")))
        at = m.end()
    if text[at:].strip():
        cells.append(nbformat.v4.new_markdown_cell(text[at:].strip()))
    for k, cell in enumerate(cells):
        cell["id"] = f"{page.stem}-{k}"  # stable ids: the files change only with the pages
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def render(name: str) -> str:
    """A tutorial's notebook as the text of its file."""
    return nbformat.writes(notebook(PAGES / f"{name}.md")) + "\n"


def main(check: bool) -> int:
    """Write the notebooks, or with ``check`` report those that differ from their pages."""
    stale = []
    for name in TUTORIALS:
        path = ROOT / "notebooks" / f"{name}.ipynb"
        text = render(name)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run make notebooks):", ", ".join(stale), file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
