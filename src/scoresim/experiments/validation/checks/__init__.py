"""Every area's checks, one module each; importing a module registers its checks
(``registry.register``).

To add a check: write a function of the :class:`~..registry.Context` that returns a
:class:`~..registry.CheckResult` (a row per published figure, with its source, the simulated
value over seeds and the tolerance band), register it as a :class:`~..registry.Check`, and
describe it in docs/validation.md. An area's checks go in a module of their own here, imported
below: the recognition field trials (cardiff-2017, met-2019) and the NIST arithmetic in
``recognition.py``; the chilling shock in ``chilling.py``.
"""

from __future__ import annotations

from . import chilling, national, population, recognition, rongcheng

__all__ = ["chilling", "national", "population", "recognition", "rongcheng"]
