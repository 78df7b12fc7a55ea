"""A report's figures as files: each one an SVG, a 300 dpi PNG and a CSV of exactly the data it
plots, in ``figures/`` of the output folder, and the same figure embedded in the page.

A :class:`Panel` is a recipe: ``data`` computes the tidy table the figure shows (or None when
there is nothing to show, so a report never carries an empty panel) and ``draw`` draws that
table, and nothing else, on an Axes. Several panels can share one figure (``Results.plot``);
in a report each is its own :class:`Chart`.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .style import drawing

PNG_DPI = 300  # the file a journal takes
PAGE_DPI = 110  # the copy embedded in report.html


@dataclass(frozen=True)
class Panel:
    """A figure's recipe: a name (its files' stem), the data it plots and how to draw it."""

    name: str
    title: str
    caption: str
    data: Callable[[Any], pd.DataFrame | None]
    draw: Callable[[Axes, pd.DataFrame, Any], None]
    size: tuple[float, float] = (6.4, 3.9)


@dataclass
class Chart:
    """One drawn figure of a report, with the data behind it."""

    name: str
    title: str
    caption: str
    figure: Figure
    data: pd.DataFrame

    def files(self) -> list[str]:
        """The names of its files in ``figures/``."""
        return [f"{self.name}.{ext}" for ext in ("svg", "png", "csv")]

    def page_png(self) -> str:
        """The figure as a base64 PNG for the page."""
        buf = io.BytesIO()
        with drawing():
            self.figure.savefig(buf, format="png", dpi=PAGE_DPI)
        return base64.b64encode(buf.getvalue()).decode("ascii")


def slug(text: str) -> str:
    """A file-name-safe stem: lowercase letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "figure"


def new_figure(size: tuple[float, float]) -> Figure:
    """A Figure outside pyplot (no global state, no GUI backend), laid out to fit."""
    return Figure(figsize=size, layout="constrained")


# columns that place or count a figure's values rather than being values themselves
NOT_VALUES = frozenset({"day", "first_day", "days", "partial", "n", "seeds", "members",
                        "requests", "sample"})


def shows_something(data: pd.DataFrame | None) -> bool:
    """False for no table, or one whose values are all zero or undefined (a figure of it
    would be empty: the report says so in words instead)."""
    if data is None or data.empty:
        return False
    values = data[[c for c in data.columns if c not in NOT_VALUES
                   and pd.api.types.is_numeric_dtype(data[c])
                   and not pd.api.types.is_bool_dtype(data[c])]]
    return bool(values.fillna(0).ne(0).to_numpy().any())


def chart(panel: Panel, ctx: Any, name: str | None = None) -> Chart | None:
    """Draw ``panel`` for ``ctx`` as a figure of its own; None when it has nothing to show."""
    with drawing():
        data = panel.data(ctx)
        if not shows_something(data):
            return None
        fig = new_figure(panel.size)
        panel.draw(fig.subplots(), data, ctx)
    return Chart(name or panel.name, panel.title, panel.caption, fig, data)


def charts(panels: Iterable[Panel], ctx: Any) -> list[Chart]:
    """Every panel that has something to show, each as its own figure."""
    return [c for c in (chart(p, ctx) for p in panels) if c is not None]


def unique_names(found: list[Chart]) -> list[Chart]:
    """Charts whose names repeat get -2, -3... (their files must not overwrite each other)."""
    seen: dict[str, int] = {}
    for c in found:
        seen[c.name] = seen.get(c.name, 0) + 1
        if seen[c.name] > 1:
            c.name = f"{c.name}-{seen[c.name]}"
    return found


def write_figures(folder: Path, found: list[Chart]) -> None:
    """Each chart as ``NAME.svg``, ``NAME.png`` (300 dpi) and ``NAME.csv`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with drawing():
        for c in found:
            c.figure.savefig(folder / f"{c.name}.svg", format="svg",
                             metadata={"Date": None})
            c.figure.savefig(folder / f"{c.name}.png", format="png", dpi=PNG_DPI)
            c.data.to_csv(folder / f"{c.name}.csv", index=False)
