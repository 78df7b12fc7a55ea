"""Every summary metric and daily column the reports read, in one place per report.

The engine's names may change (a metric renamed, a daily column split): this module is where a
report learns the new name, and nothing else in ``report/`` spells one out.
"""

from __future__ import annotations

# ---------------------------------------------------------------- one run (plots.py, html.py)
# summary["final"] keys
EVER_SANCTIONED = "ever_sanctioned_frac"
NEVER_ACTED_SANCTIONED = "never_acted_sanctioned_frac"  # sanctioned, never a scored act
FOR_OTHERS_ACTS = "sanctioned_for_others_acts_frac"  # own acts alone would not have done it
FOR_EXPRESSION = "sanctioned_for_expression_frac"  # not without penalties on speech
SANCTIONED_NOW = "sanctioned_frac"
EVER_BY_CAUSE = "ever_sanctioned_by_cause"
FALSE_ATTRIBUTIONS = "false_attributions"
DENIED = "denied"
REQUESTS = "requests"
BY_GROUP = "by_group"
EVER_LISTED = "ever_listed"
# daily columns (a prefix is followed by a name: a grade, a sanction, a list, a behaviour...)
DAY = "day"
MEAN_SCORE = "mean_score"
GRADE_PREFIX = "grade_"
NEW_SANCTIONS_PREFIX = "new_sanctioned_people_by_"  # + a cause (people, first time)
SANCTIONED_PREFIX = "sanctioned_"  # + a sanction's name, or "any"
SANCTIONED_ANY = "sanctioned_any"
ACTS_PREFIX = "acts_"  # + a behaviour
LISTED_PREFIX = "listed_"  # + a list: the stock
LISTINGS_PREFIX = "listings_"  # + a list: added that day
DELISTINGS_PREFIX = "delistings_"  # + a list: removed that day
DENIED_PREFIX = "denied_"  # + a service (and __group)
GROUP_SEP = "__"  # COLUMN__GROUP: the column for one group
EXPRESSION_BY_GROUP = "expression_acts"  # + __group
RECORDS_HOME_PREFIX = "records_home__"  # + venue__origin group

# ---------------------------------------------------------------- a comparison
# the metrics of experiments.metrics.run_metrics, and the families the report groups them in
CHILLING_PREFIX = "chilling."
CHILLING_OVERALL = "chilling.overall"
COMPARE_FAMILIES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    # (section title, metric prefixes, exact metric names)
    ("Chilling effect", ("chilling.", "chilling_by_group."), ()),
    ("Who is sanctioned, and why", ("ever_sanctioned_by_cause.",
                                    "sanctioned_for_others_acts_by_cause.",
                                    "ever_sanctioned_people_per_1000.",
                                    "sanction_activations_per_1000_per_year."),
     ("ever_sanctioned_frac", "sanctioned_for_others_acts_frac",
      "sanctioned_for_expression_frac", "never_acted_sanctioned_frac", "sanctioned_frac")),
    ("False attributions", (), ("false_attributions_per_1000_per_year",
                                "falsely_attributed_frac")),
    ("Services denied", ("denied_per_1000_per_year.",), ()),
    ("Disparity between groups", ("disparity.",), ()),
    ("Lists: stock and flows", ("lists.",), ()),
]

# ---------------------------------------------------------------- a sweep
# the metrics a sweep report draws, when the sweep measured them
SWEEP_METRICS = ("chilling.overall", "ever_sanctioned_frac", "sanctioned_for_others_acts_frac",
                 "ever_sanctioned_by_cause.association", "false_attributions_per_1000_per_year")
