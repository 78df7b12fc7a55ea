"""Figures of one run by group, of its lists and of its reach abroad (see plots.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from . import names as N
from .charts import Panel
from .run_context import RunContext, lines, window
from .style import colour, legend, percent_axis, pretty, title, wrap

SEP = N.GROUP_SEP


# ---------------------------------------------------------------- groups
def _group_sanctioned_data(ctx: RunContext) -> pd.DataFrame | None:
    cols = {f"share_{g}": ctx.daily[f"{N.SANCTIONED_ANY}{SEP}{g}"] / size
            for g, size in ctx.group_sizes().items()
            if size and f"{N.SANCTIONED_ANY}{SEP}{g}" in ctx.daily}
    return ctx.frame(cols) if len(cols) > 1 else None


def _draw_group_sanctioned(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    sizes = ctx.group_sizes()
    cols = [c for c in data.columns if c.startswith("share_")]
    lines(ax, ctx, data, cols, [f"{pretty(c[6:])} ({int(sizes[c[6:]]):,} people)"
                                for c in cols])
    percent_axis(ax.yaxis)
    ax.set_ylabel("share of the group")
    title(ax, "Share of each group under any sanction")
    legend(ax)


def _group_expression_data(ctx: RunContext) -> pd.DataFrame | None:
    w = window(int(ctx.summary["days"]))
    cols = {f"per_1000_{g}": ctx.daily[f"{N.EXPRESSION_BY_GROUP}{SEP}{g}"].rolling(
                w, min_periods=1).mean() * 1000.0 / size
            for g, size in ctx.group_sizes().items()
            if size and f"{N.EXPRESSION_BY_GROUP}{SEP}{g}" in ctx.daily}
    return ctx.frame(cols) if len(cols) > 1 else None


def _draw_group_expression(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    cols = [c for c in data.columns if c.startswith("per_1000_")]
    lines(ax, ctx, data, cols, [pretty(c[9:]) for c in cols])
    ax.set_ylabel("acts per 1,000 members per day")
    title(ax, f"Expression acts by group ({window(int(ctx.summary['days']))}-day average)")
    legend(ax)


def _group_denials_data(ctx: RunContext) -> pd.DataFrame | None:
    sizes, days = ctx.group_sizes(), max(int(ctx.summary["days"]), 1)
    services = list(ctx.final.get(N.DENIED, {}))
    if not services or len(sizes) < 2:
        return None
    rows = [{"service": s, "group": g,
             "denied": float(ctx.daily.get(f"{N.DENIED_PREFIX}{s}{SEP}{g}",
                                           pd.Series([0.0])).sum()),
             "members": size} for s in services for g, size in sizes.items()]
    out = pd.DataFrame(rows)
    out["denied_per_1000_per_year"] = (out["denied"] * 1000.0 / out["members"].clip(lower=1)
                                       * 365.0 / days)
    return out if out["denied"].sum() > 0 else None


def _draw_group_denials(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    services = list(dict.fromkeys(data["service"]))
    groups = list(dict.fromkeys(data["group"]))
    height = 0.8 / len(groups)
    y = np.arange(len(services))[::-1]
    for k, g in enumerate(groups):
        rate = data[data["group"] == g].set_index("service").loc[services,
                                                                 "denied_per_1000_per_year"]
        ax.barh(y + 0.4 - (k + 0.5) * height, rate.to_numpy(), height, label=pretty(g),
                color=colour(k))
    ax.set_yticks(y, [wrap(pretty(s), 18) for s in services])
    ax.set_xlabel("denials per 1,000 members per year")
    ax.grid(False, axis="y")
    title(ax, "Requests denied by group")
    legend(ax)


# ---------------------------------------------------------------- lists
def _list_stock_data(ctx: RunContext) -> pd.DataFrame | None:
    found = ctx.columns(N.LISTED_PREFIX)
    per = 1000.0 / ctx.agents
    return ctx.frame({f"per_1000_{x}": ctx.daily[N.LISTED_PREFIX + x] * per
                      for x in found}) if found else None


def _draw_list_stock(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    cols = [c for c in data.columns if c.startswith("per_1000_")]
    lines(ax, ctx, data, cols, [pretty(c[9:]) for c in cols])
    ax.set_ylabel("people listed per 1,000 people")
    title(ax, "People on each list (stock)")
    legend(ax)


def _list_flows_data(ctx: RunContext) -> pd.DataFrame | None:
    found = ctx.columns(N.LISTED_PREFIX)
    if not found:
        return None
    cols = {}
    for x in found:
        cols[f"added_{x}"] = ctx.daily[N.LISTINGS_PREFIX + x]
        cols[f"removed_{x}"] = ctx.daily[N.DELISTINGS_PREFIX + x]
    return ctx.binned(pd.DataFrame(cols))


def _draw_list_flows(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    b = ctx.axis.bin()
    lists = [c[6:] for c in data.columns if c.startswith("added_")]
    x = ctx.axis.num(data["first_day"].to_numpy())
    width = b.days * 0.8 / len(lists)
    handles: list[Patch] = []
    for k, name in enumerate(lists):
        for col, sign, shade in ((f"added_{name}", 1, 2 * k),
                                 (f"removed_{name}", -1, 2 * k + 1)):
            bars = ax.bar(x + k * width, sign * data[col].to_numpy(), width, align="edge",
                          color=colour(shade))
            for bar, partial in zip(bars, data["partial"], strict=True):
                bar.set_alpha(0.45 if partial else 1.0)
            # a handle of its own: the legend must not take a partial period's paler colour
            handles.append(Patch(color=colour(shade), label=f"{pretty(name)}: "
                                 + ("added" if sign > 0 else "removed")))
    ax.axhline(0, color="grey", lw=0.8)
    ctx.axis.finish(ax)
    ax.set_ylabel(f"people per {b.name}")
    title(ax, f"List flows per {b.name} (added above zero, removed below)")
    legend(ax, ncol=2, handles=handles)


# ---------------------------------------------------------------- abroad
def _records_home_data(ctx: RunContext) -> pd.DataFrame | None:
    groups = ctx.summary.get("overseas", {}).get("groups_abroad", {})
    cols = {}
    for g in groups:
        found = [c for c in ctx.daily.columns
                 if c.startswith(N.RECORDS_HOME_PREFIX) and c.endswith(f"{SEP}{g}")]
        if found:
            cols[f"records_{g}"] = ctx.daily[found].sum(axis=1)
    if not cols:
        return None
    return ctx.binned(pd.DataFrame(cols))


def _draw_records_home(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    b = ctx.axis.bin()
    cols = [c for c in data.columns if c.startswith("records_")]
    x = ctx.axis.num(data["first_day"].to_numpy())
    for k, col in enumerate(cols):
        ax.plot(x, data[col], label=pretty(col[8:]), color=colour(k), marker=".")
    ctx.axis.finish(ax)
    ax.set_ylabel(f"records per {b.name}")
    title(ax, "Venue camera records crossing the border, by the patron's origin")
    legend(ax)


def _chilling_of(ctx: RunContext, groups) -> pd.DataFrame | None:
    """Per group, the share of expression acts lost against the counterfactual, in a trailing
    window."""
    if ctx.cf_daily is None:
        return None
    w = window(int(ctx.summary["days"]))
    cols = {}
    for g in groups:
        col = f"{N.EXPRESSION_BY_GROUP}{SEP}{g}"
        if col in ctx.daily and col in ctx.cf_daily:
            a = ctx.daily[col].rolling(w, min_periods=1).sum()
            c = ctx.cf_daily[col].rolling(w, min_periods=1).sum()
            cols[f"fall_{g}"] = (1.0 - a / c.where(c > 0)).astype(float)
    return ctx.frame(cols) if cols else None


def _group_chilling_data(ctx: RunContext) -> pd.DataFrame | None:
    data = _chilling_of(ctx, ctx.group_sizes())
    return data if data is not None and data.shape[1] > 2 else None


def _draw_group_chilling(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    cols = [c for c in data.columns if c.startswith("fall_")]
    ax.axhline(0, color="grey", lw=0.8)
    lines(ax, ctx, data, cols, [pretty(c[5:]) for c in cols])
    percent_axis(ax.yaxis)
    ax.set_ylabel(f"expression acts lost vs. no scoring\n(trailing "
                  f"{window(int(ctx.summary['days']))}-day window)")
    title(ax, "Chilling effect by group")
    legend(ax)


def _abroad_chilling_data(ctx: RunContext) -> pd.DataFrame | None:
    return _chilling_of(ctx, ctx.summary.get("overseas", {}).get("groups_abroad", {}))


def _draw_abroad_chilling(ax: Axes, data: pd.DataFrame, ctx: RunContext) -> None:
    cols = [c for c in data.columns if c.startswith("fall_")]
    ax.axhline(0, color="grey", lw=0.8)
    lines(ax, ctx, data, cols, [pretty(c[5:]) for c in cols])
    percent_axis(ax.yaxis)
    ax.set_ylabel(f"acts lost vs. no scoring\n(trailing {window(int(ctx.summary['days']))}"
                  "-day window)")
    title(ax, "Expression abroad: acts lost to the system, by origin")
    legend(ax)


GROUP_PANELS = [
    Panel("groups-sanctioned", "Sanctioned by group",
          "The share of each group under any sanction each day. Groups may differ in how "
          "closely they are watched and how often recognition mistakes them for someone else.",
          _group_sanctioned_data, _draw_group_sanctioned),
    Panel("groups-expression", "Expression by group",
          "Expression acts per 1,000 members per day, a trailing average.",
          _group_expression_data, _draw_group_expression),
    Panel("groups-chilling", "Chilling by group",
          "How much of each group's expression the system suppresses, against the same people "
          "without it (needs --counterfactual): a group watched more, or mistaken for others "
          "more often, may be chilled more.", _group_chilling_data, _draw_group_chilling),
    Panel("groups-denials", "Denials by group",
          "Requests denied per 1,000 members per year, by service and group.",
          _group_denials_data, _draw_group_denials),
]
LIST_PANELS = [
    Panel("lists-stock", "Lists: stock", "People on each named list per 1,000 people.",
          _list_stock_data, _draw_list_stock),
    Panel("lists-flows", "Lists: flows",
          "People added to (above zero) and removed from (below zero) each list per period, "
          "by repair or expiry. A period the run covers only in part (paler bars) is scaled "
          "to a full period's rate.", _list_flows_data, _draw_list_flows),
]
ABROAD_PANELS = [
    Panel("abroad-records", "Records sent home",
          "Venue camera records sent home per period, by the patron's origin (local residents "
          "are not enrolled, but a false match can name an enrolled person for them); partial "
          "periods scaled to a full period's rate.", _records_home_data, _draw_records_home),
    Panel("abroad-chilling", "Expression abroad",
          "How much expression each origin group abroad gives up, against the same people "
          "without the system (needs --counterfactual).", _abroad_chilling_data,
          _draw_abroad_chilling),
]
