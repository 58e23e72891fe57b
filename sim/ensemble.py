"""The ensemble engine: every replicate and authority of a scenario stepped at once as arrays.

It calls exactly the functions the Mesa agents call (:mod:`sim.dynamics`, built from
:mod:`sim.rules`), on arrays of shape (replicates, authorities) and (replicates, slots), and
draws each replicate's random numbers from that replicate's own generator in the same order as
the Mesa model does, so that the two engines give identical tables.
"""

from __future__ import annotations

import numpy as np

from . import dynamics as dyn
from .population import POPULATION_DRAWS, build_structure, draw_attributes
from .scenario import Scenario


def _col(value, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (n, 1)).reshape(n)


def run_ensemble(scenario: Scenario, seeds: list[int]) -> np.ndarray:
    """Measures for each replicate seed and year: an array (R, years, len(MEASURES))."""
    s = scenario
    structure = build_structure(s)
    A = structure.n_authorities
    R = len(seeds)
    years = range(s.run.start_year, s.run.end_year + 1)
    out = np.empty((R, len(years), len(dyn.MEASURES)))
    generators = [np.random.default_rng(seed) for seed in seeds]

    u_pop = np.stack([g.random((POPULATION_DRAWS, A)) for g in generators])
    attrs = draw_attributes(structure, s, u_pop)
    state, viability = dyn.initial_state(structure, s, attrs["initial_adopter"])
    prior_alpha, prior_beta = dyn.prior(s)
    alpha, beta = np.full((R, A), prior_alpha), np.full((R, A), prior_beta)
    spending_power = np.ones((R, A))
    mean = alpha / (alpha + beta)
    own_good, own_bad = np.zeros((R, A)), np.zeros((R, A))
    grant_share = np.ones((R, 1))
    counters = dyn.first_tally(attrs["initial_adopter"].sum(axis=-1).astype(float))

    def record(t: int, counters: dict) -> dict:
        obs = dyn.observe(structure, s, state, spending_power, mean, counters)
        for m, name in enumerate(dyn.MEASURES):
            out[:, t, m] = obs[name]
        return obs

    obs = record(0, counters)
    tape = np.empty((R, dyn.tape_width(structure)))
    sa = structure.slot_authority
    for t, year in enumerate(years[1:], start=1):
        for i, g in enumerate(generators):
            g.random(out=tape[i])
        z, u_a, u_b = dyn.split_tape(tape, structure)
        ctx = dyn.year_context(s, year, obs["share_with_mutual"][:, None],
                               obs["in_preparation"][:, None].astype(float), grant_share)
        group_good, national_good = dyn.pooled(structure, own_good)
        group_bad, national_bad = dyn.pooled(structure, own_bad)
        auth = dyn.authority_year(s, ctx, spending_power, alpha, beta, attrs["deprivation"], z,
                                  attrs["capacity"], attrs["reserves"], (own_good, own_bad),
                                  (group_good, group_bad), (national_good, national_bad))
        res = dyn.slot_year(s, ctx, state, viability, structure.slot_cost, u_a, u_b,
                            auth["pressure"][:, sa], auth["capacity"][:, sa],
                            auth["reserves"][:, sa], auth["mean"][:, sa], auth["sd"][:, sa],
                            attrs["risk_aversion"][:, sa])
        n = {k: res[k].sum(axis=-1).astype(float) for k in
             ("accepted", "launched", "abandoned", "failed", "challenged")}
        paid, grant_share = dyn.grants_paid(s, ctx, n["accepted"][:, None])
        spend = {k: _col(v, R) for k, v in dyn.spending(ctx, paid).items()}
        counters = dyn.tally(counters, n["launched"], n["abandoned"], n["failed"],
                             n["challenged"], spend)
        state, viability = res["state"], res["viability"]
        spending_power, alpha, beta, mean = (auth["spending_power"], auth["alpha"],
                                             auth["beta"], auth["mean"])
        own_good = np.add.reduceat(res["good"], structure.authority_starts, axis=-1).astype(float)
        own_bad = np.add.reduceat(res["bad"], structure.authority_starts, axis=-1).astype(float)
        obs = record(t, counters)
    return out
