"""Live face recognition against its field trials and NIST's arithmetic (docs/validation.md
§5-§7): the built-in ``cardiff-2017`` and ``met-2019`` rebuild each trial's day from its
ingredients (one agent per face scanned), and their alerts, true and false, are compared with
the reported counts; NIST FRTE's laboratory operating point is turned into a per-comparison
rate and back, and applied to Cardiff's gallery."""

from __future__ import annotations

import math

import pandas as pd

from ..registry import Check, CheckResult, Context, Row, band, over_seeds, register
from ..runs import RunSpec

# each trial: faces scanned (agents), seeds (quick, full), the reported counts, the source
TRIALS = {
    "cardiff-2017": {
        "faces": 170_000, "seeds": {"quick": 3, "full": 30},
        "reported": {"alerts": 2470, "true_alerts": 173, "false_alerts": 2297},
        "source": "South Wales Police, UEFA Champions League final, 3 June 2017 "
                  "(sources §1.11 [V])",
        "address": "https://www.computing.co.uk/news/3009078/south-wales-police-to-scan-every-"
                   "fans-face-at-champions-league-final-next-month",
        "note": "the FMR and the watch list are derived from the false and true alerts: "
                "a reproduction of the pipeline's arithmetic, not a prediction"},
    "met-2019": {
        "faces": 42_500, "seeds": {"quick": 16, "full": 400},
        "reported": {"alerts": 42, "true_alerts": 8, "false_alerts": 34},
        "source": "Fussey and Murray, six Metropolitan Police trials 2018-2019 "
                  "(sources §1.11 [V])",
        "address": "https://www.essex.ac.uk/news/2019/07/03/met-police-live-facial-"
                   "recognition-trial-concerns",
        "note": "the faces scanned and the listed present are derived from the false and true "
                "alerts: a reproduction of the pipeline's arithmetic, not a prediction"},
}
WORDS = {"alerts": "alerts", "true_alerts": "true alerts", "false_alerts": "false alerts"}
TOLERANCE = 0.1  # as tests/test_recognition.py
NIST_FPIR, NIST_GALLERY = 0.003, 12_000_000  # FRTE 1:N operating point, about 12 M mugshots
NIST_ADDRESS = "https://pages.nist.gov/frvt/html/frvt1N.html"


def _specs(ctx: Context, name: str) -> list[RunSpec]:
    t = TRIALS[name]
    return [RunSpec(name, t["faces"], 1, seed) for seed in range(t["seeds"][ctx.mode])]


def _needs(ctx: Context) -> list[RunSpec]:
    return [s for name in TRIALS for s in _specs(ctx, name)]


def _count(daily: pd.DataFrame, key: str) -> float:
    """A count over the run's groups (the daily table keeps one column per group)."""
    return float(daily.filter(regex=f"^{key}__").to_numpy().sum())


def field_trials(ctx: Context) -> CheckResult:
    """Each trial's alerts, true and false, over seeds, against the reported counts."""
    rows = []
    for name, t in TRIALS.items():
        dailies = [ctx.runs.daily(s) for s in _specs(ctx, name)]
        for key, pub in t["reported"].items():
            mean, lo, hi, n = over_seeds([_count(d, key) for d in dailies])
            accepted, words = band(pub, tolerance=TOLERANCE)
            rows.append(Row(figure=f"{name}: {WORDS[key]}", name=f"{name}_{key}",
                            published=pub, simulated=mean, low=lo, high=hi, seeds=n,
                            band=accepted, tolerance=words, role="fitted", unit="alerts",
                            source=t["source"], address=t["address"], note=t["note"]))
    return CheckResult(rows, notes=[f"{t['faces']:,} faces ({name}), one day a seed"
                                    for name, t in TRIALS.items()])


def nist_arithmetic(ctx: Context) -> CheckResult:
    """NIST's operating point as a per-comparison rate and back (the model's FPIR of a gallery),
    and what it would have given at Cardiff: laboratory rates are a best case."""
    from ....scenario import load_scenario

    fmr = -math.log(1 - NIST_FPIR) / NIST_GALLERY
    cam = load_scenario("cardiff-2017").channels["camera"]
    lab = cam.model_copy(update={"fmr": fmr, "gallery": float(NIST_GALLERY)})
    at_cardiff = cam.model_copy(update={"fmr": fmr})
    faces = TRIALS["cardiff-2017"]["faces"]
    listed = faces * cam.watch_list
    false_at_cardiff = (faces - listed) * at_cardiff.false_alert_rate()
    src = "NIST FRTE 1:N: FPIR 0.003 on about 12 M mugshots (sources §1.11 [V]); FMR [D]"
    rows = []
    for figure, pub, value, tol in (
            ("FMR per comparison implied by NIST's operating point", 2.5e-10, fmr, 0.01),
            ("FPIR of a 12 M gallery at that FMR (the model's FPIR = 1 - (1 - FMR)^N)",
             NIST_FPIR, lab.false_alert_rate(), 1e-4),
            ("false alerts at Cardiff at NIST's laboratory FMR", 21.0, false_at_cardiff, 0.05)):
        accepted, words = band(pub, tolerance=tol)
        rows.append(Row(figure=figure, published=pub, simulated=value, low=math.nan,
                        high=math.nan, seeds=1, band=accepted, tolerance=words,
                        role="arithmetic", source=src, address=NIST_ADDRESS,
                        note="closed form from the scenario's channel (no run)"))
    return CheckResult(rows)


register(Check(
    name="recognition-trials", title="Live face recognition: Cardiff 2017 and the Met 2019",
    section="docs/validation.md §5-§6", source="South Wales Police; Fussey and Murray "
    "(sources §1.11)", tolerance="within 10% of the reported counts", run=field_trials,
    needs=_needs))
register(Check(
    name="nist-arithmetic", title="NIST FRTE's operating point: FMR, FPIR and a gallery",
    section="docs/validation.md §7", source="NIST FRTE 1:N (sources §1.11)",
    tolerance="the closed forms (1% on the rounded FMR, 0.01% on the FPIR, 5% on 21 alerts)",
    run=nist_arithmetic))
