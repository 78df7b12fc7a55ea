"""The peers reference workload in Starsim, written the way Starsim models are written.

One custom module (``PeerScoring``) with its states (``ss.FloatArr``, ``ss.BoolState``) and
its Bernoulli distributions, on a static ``ss.RandomNet`` of mean degree 20 (the network's
``n_contacts`` counts both ends of each edge). Each step is vectorised NumPy over the agents
and over the network's edge arrays, as Starsim's own disease modules do. The day's order is
scoresim's: act, observe, score, spill, recover, sanction, respond. With ``skip_idle`` the
sanctioned-neighbour edge pass is skipped on days when nobody is sanctioned (a shortcut that
exploits this workload's rare sanctions; off by default).

    python benchmarks/peers/starsim_peers.py --agents 100000 --days 100

SYNTHETIC agents only. Needs the optional ``peers`` extra (``pip install -e '.[peers]'``).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import starsim as ss


class PeerScoring(ss.Module):
    """Scores, sanctions and caution on one network: the peers workload as a Starsim module."""

    def __init__(self, pars=None, **kwargs):
        super().__init__()
        self.define_pars(
            p_infraction=0.002,  # per day at zero caution
            p_observed=0.6,
            own_points=30.0,
            neighbour_points=5.0,
            initial=1000.0,
            recovery=0.5,  # points a day, up to the initial score
            threshold=900.0,  # sanctioned while below
            from_ties=1.0,  # perceived risk per unit share of sanctioned neighbours
            follow=1 - 2 ** (-1 / 14),  # share of the gap to it caution closes a day
            floor=2.0**-16,  # caution below it is 0
            skip_idle=False,  # skip the sanctioned-neighbour edge pass when nobody is sanctioned
        )
        self.update_pars(pars, **kwargs)
        self.define_states(
            ss.FloatArr("score", default=self.pars.initial),
            ss.FloatArr("caution", default=0.0),
            ss.BoolState("sanctioned", default=False),
        )
        self.infraction = ss.bernoulli(p=self.infraction_prob)
        self.observed = ss.bernoulli(p=self.pars.p_observed)
        self.degree = None  # per agent, from the (static) network
        self.observed_total = 0
        return

    @staticmethod
    def infraction_prob(self, sim, uids):
        return self.pars.p_infraction * (1 - self.caution[uids])

    def init_results(self):
        super().init_results()
        self.define_results(ss.Result("mean_score", dtype=float, scale=False))
        return

    def step(self):
        pars = self.pars
        edges = self.sim.networks[0].edges
        p1, p2 = edges.p1, edges.p2
        n = len(self.sim.people)
        if self.degree is None:  # the network is static: its degrees once, on the first step
            self.degree = np.bincount(p1, minlength=n) + np.bincount(p2, minlength=n)

        # act and observe: who is penalised today
        offenders = self.observed.filter(self.infraction.filter())
        self.observed_total += len(offenders)
        self.score[offenders] -= pars.own_points

        # spill: each neighbour of each penalised agent (both ends of every edge)
        if len(offenders):
            hit = np.zeros(n, dtype=bool)
            hit[offenders] = True
            times = (np.bincount(p2[hit[p1]], minlength=n)
                     + np.bincount(p1[hit[p2]], minlength=n))
            spilled = ss.uids(np.flatnonzero(times))
            self.score[spilled] -= pars.neighbour_points * times[spilled]

        # recover, then sanction while below the threshold
        below = (self.score < pars.initial).uids
        self.score[below] = np.minimum(self.score[below] + pars.recovery, pars.initial)
        self.sanctioned[:] = self.score < pars.threshold

        # respond: caution moves toward the share of sanctioned neighbours (with skip_idle,
        # the edge pass is skipped on days when nobody is sanctioned: most days here)
        share = 0.0
        if not pars.skip_idle or self.sanctioned.any():
            s = self.sanctioned.raw
            sanctioned_ties = (np.bincount(p2[s[p1]], minlength=n)
                               + np.bincount(p1[s[p2]], minlength=n))
            share = sanctioned_ties / np.maximum(self.degree, 1)
        risk = np.minimum(1.0, pars.from_ties * share)
        c = self.caution + pars.follow * (risk - self.caution)
        self.caution[:] = np.where(c >= pars.floor, c, 0.0)
        return

    def update_results(self):
        super().update_results()
        self.results.mean_score[self.ti] = self.score.mean()
        return


def make_sim(agents: int, days: int, seed: int, skip_idle: bool = False) -> ss.Sim:
    """A sim of ``days`` daily steps (Starsim counts the start as a step: dur = days - 1)."""
    return ss.Sim(
        n_agents=agents,
        networks=ss.RandomNet(n_contacts=20, dynamic=False),
        modules=PeerScoring(skip_idle=skip_idle),
        dt=ss.days(1),
        dur=ss.days(days - 1),
        rand_seed=seed,
        verbose=0,
    )


def run(agents: int, days: int, seed: int, skip_idle: bool = False) -> dict:
    t0 = time.perf_counter()
    sim = make_sim(agents, days, seed, skip_idle)
    sim.init()
    t1 = time.perf_counter()
    sim.run()
    t2 = time.perf_counter()
    mod = sim.custom["peerscoring"]
    score = np.asarray(mod.score.raw, dtype=np.float64)
    return {
        "implementation": "starsim-skip" if skip_idle else "starsim",
        "version": ss.__version__, "agents": agents,
        "days": int(sim.t.npts), "seed": seed,
        "build_seconds": t1 - t0, "run_seconds": t2 - t1,
        "mean_score": float(score.mean()), "sd_score": float(score.std()),
        "sanctioned_share": float(np.mean(mod.sanctioned.raw)),
        "mean_caution": float(np.mean(mod.caution.raw)),
        "observed_per_agent_day": mod.observed_total / (agents * days),
        "mean_degree": float(mod.degree.mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-idle", action="store_true", help="skip the edge pass on idle days")
    a = ap.parse_args()
    print(json.dumps(run(a.agents, a.days, a.seed, a.skip_idle)))


if __name__ == "__main__":
    main()
