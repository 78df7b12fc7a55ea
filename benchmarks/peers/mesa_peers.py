"""The peers reference workload in Mesa, written the way Mesa models are written.

Each agent is a ``FixedAgent`` on a cell of a ``mesa.discrete_space.Network`` built from a
NetworkX random graph of mean degree 20 (as Mesa's own virus-on-network example does); agent
behaviour is Python methods called through the model's ``AgentSet``. The day is three staged
activations in scoresim's order: act (offend, be observed, penalise self and neighbours), then
recover and sanction, then respond (caution from the share of sanctioned neighbours). Per-agent
Python is what Mesa is, so only small populations are practical: the comparison is of rates.
With ``skip_idle`` the neighbour walks are skipped on days when nobody is sanctioned (a
shortcut that exploits this workload's rare sanctions; off by default).

    python benchmarks/peers/mesa_peers.py --agents 10000 --days 100

SYNTHETIC agents only. Needs the optional ``peers`` extra (``pip install -e '.[peers]'``).
"""

from __future__ import annotations

import argparse
import json
import time

import mesa
import networkx as nx
from mesa.discrete_space import FixedAgent, Network


class Citizen(FixedAgent):
    """One synthetic agent: a score, a caution and whether it is sanctioned."""

    def __init__(self, model: PeersModel, cell):
        super().__init__(model)
        self.cell = cell
        self.score = model.initial
        self.caution = 0.0
        self.sanctioned = False

    def act(self):
        m = self.model
        if self.random.random() < m.p_infraction * (1 - self.caution):
            if self.random.random() < m.p_observed:
                m.observed_total += 1
                self.score -= m.own_points
                for neighbour in self.cell.neighborhood.agents:
                    neighbour.score -= m.neighbour_points

    def recover_and_sanction(self):
        m = self.model
        if self.score < m.initial:
            self.score = min(self.score + m.recovery, m.initial)
        self.sanctioned = self.score < m.threshold

    def respond(self):
        m = self.model
        share = 0.0
        if m.any_sanctioned:  # always, unless skip_idle found nobody sanctioned today
            neighbours = list(self.cell.neighborhood.agents)
            share = sum(n.sanctioned for n in neighbours) / max(len(neighbours), 1)
        c = self.caution + m.follow * (min(1.0, m.from_ties * share) - self.caution)
        self.caution = c if c >= m.floor else 0.0


class PeersModel(mesa.Model):
    """N citizens on a random network of mean degree 20."""

    def __init__(self, n_agents: int = 10_000, mean_degree: float = 20, seed: int | None = None,
                 skip_idle: bool = False):
        super().__init__(seed=seed)
        # skip_idle: skip every agent's walk over its neighbours on days when nobody is
        # sanctioned (most days here); off, the model is written as the workload reads
        self.skip_idle = skip_idle
        self.p_infraction, self.p_observed = 0.002, 0.6
        self.own_points, self.neighbour_points = 30.0, 5.0
        self.initial, self.recovery, self.threshold = 1000.0, 0.5, 900.0
        # caution moves toward the share of sanctioned neighbours, closing 1 - 2**(-1/14) of
        # the gap a day; below 2**-16 it is 0
        self.from_ties, self.follow, self.floor = 1.0, 1 - 2 ** (-1 / 14), 2.0**-16
        self.observed_total = 0
        self.any_sanctioned = True
        graph = nx.gnm_random_graph(n_agents, round(n_agents * mean_degree / 2), seed=seed)
        self.grid = Network(graph, capacity=1, random=self.random)
        Citizen.create_agents(self, n_agents, list(self.grid.all_cells))
        self.datacollector = mesa.DataCollector(
            model_reporters={"mean_score": lambda m: sum(m.agents.get("score")) / len(m.agents)}
        )

    def step(self):
        self.agents.shuffle_do("act")
        self.agents.do("recover_and_sanction")
        if self.skip_idle:
            self.any_sanctioned = any(self.agents.get("sanctioned"))
        self.agents.do("respond")
        self.datacollector.collect(self)


def run(agents: int, days: int, seed: int, skip_idle: bool = False) -> dict:
    t0 = time.perf_counter()
    model = PeersModel(agents, seed=seed, skip_idle=skip_idle)
    t1 = time.perf_counter()
    for _ in range(days):
        model.step()
    t2 = time.perf_counter()
    scores = model.agents.get("score")
    mean = sum(scores) / agents
    degree = sum(len(c.connections) for c in model.grid.all_cells) / agents
    return {
        "implementation": "mesa-skip" if skip_idle else "mesa", "version": mesa.__version__,
        "agents": agents,
        "days": days, "seed": seed, "build_seconds": t1 - t0, "run_seconds": t2 - t1,
        "mean_score": mean,
        "sd_score": (sum((x - mean) ** 2 for x in scores) / agents) ** 0.5,
        "sanctioned_share": sum(model.agents.get("sanctioned")) / agents,
        "mean_caution": sum(model.agents.get("caution")) / agents,
        "observed_per_agent_day": model.observed_total / (agents * days),
        "mean_degree": degree,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-idle", action="store_true", help="skip neighbour walks on idle days")
    a = ap.parse_args()
    print(json.dumps(run(a.agents, a.days, a.seed, a.skip_idle)))


if __name__ == "__main__":
    main()
