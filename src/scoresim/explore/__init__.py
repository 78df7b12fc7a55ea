"""The explorer: ask what-if questions of a scenario in a browser (``scoresim explore``).

A local web application (Dash and Plotly, :mod:`.app`) whose runs go to a warm pool of worker
processes (:mod:`.pool`, :mod:`.worker`); it reads runs only through scoresim's public API
(``Sim``, ``run_with_counterfactual``, ``run_compare``, ``load_scenario``,
``scenario_to_yaml``, ``run_report``). Nothing is imported here, so that a worker process
does not load the web stack.
"""
