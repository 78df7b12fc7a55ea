"""Rongcheng's point arithmetic through the engine (docs/validation.md §2): start 1,000;
grades AAA >= 1,050, AA 1,030-1,049, A 960-1,029, B 850-959, C 600-849, D <= 599; one -50
deduction (found in breach of contract) moves a resident from A to B, and D needs at least 401
points of deductions. Every resident is found in breach once a day and nothing else happens
(caution cannot deter it)."""

from __future__ import annotations

from ..registry import Check, CheckResult, Context, Row, band, over_seeds, register

AGENTS = 1_000
SOURCE = ("Rongcheng Individual Credit Assessment Standard and Measures; Daum, \"Getting "
          "Rongcheng Right\" (sources §1.6 [V] deductions, [K] bands)")
ADDRESS = "https://www.chinalawtranslate.com/en/rongcheng-personal-credit-reward-and-punishment-measures/"
OTHERS = ("bank_arrears", "credit_obligation_default", "fraud_or_counterfeit", "utility_theft",
          "destroying_public_equipment", "volunteering", "donation", "online_criticism")
ONLY_BREACH = (*(f"behaviours.{b}.rate=0" for b in OTHERS),
               "behaviours.contract_breach.deterrability=0", "behaviours.contract_breach.rate=1")

# (what, days, extra overrides, the daily column read on the last day, its value per agent)
FACTS = (
    ("share in grade A before any deduction", 1, ("behaviours.contract_breach.rate=0",),
     "grade_A", 1.0),
    ("score after one -50 deduction", 1, (), "mean_score", 950.0),
    ("share in grade B after one -50 deduction (1,000 - 50 = 950)", 1, (), "grade_B", 1.0),
    ("share in grade C after eight (600)", 8, (), "grade_C", 1.0),
    ("share in grade D after nine (550)", 9, (), "grade_D", 1.0),
    ("share in grade C after one -400 deduction (600)", 1,
     ("scoring.rules.contract_breach=-400",), "grade_C", 1.0),
    ("share in grade D after one -401 deduction (599)", 1,
     ("scoring.rules.contract_breach=-401",), "grade_D", 1.0),
)


def arithmetic(ctx: Context) -> CheckResult:
    """Each fact of the grade arithmetic, through the engine, on every seed."""
    from ....sim import Sim

    rows = []
    for what, days, extra, column, expected in FACTS:
        values = []
        for seed in range(1, ctx.seeds + 1):
            daily = Sim("rongcheng", agents=AGENTS, days=days, seed=seed,
                        overrides=[*ONLY_BREACH, *extra]).run().daily
            value = float(daily[column].iloc[-1])
            values.append(value if column == "mean_score" else value / AGENTS)
        mean, lo, hi, n = over_seeds(values)
        accepted, words = band(expected)
        rows.append(Row(figure=what, published=expected, simulated=mean, low=lo, high=hi,
                        seeds=n, band=accepted, tolerance=words, role="arithmetic",
                        source=SOURCE, address=ADDRESS))
    return CheckResult(rows, notes=[f"{AGENTS:,} residents, each found in breach of contract "
                                    "once a day, nothing else scored."])


register(Check(
    name="rongcheng", title="Rongcheng's grade arithmetic",
    section="docs/validation.md §2", source="Rongcheng's published scale (sources §1.6)",
    tolerance="exact", run=arithmetic))
