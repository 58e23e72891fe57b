"""The ensemble engine: every replicate of a scenario stepped at once.

The model-level steps of a year (the support on offer, rationing, the books) run as numpy over
arrays of replicates. Everything else runs in :func:`elements_year`, one compiled loop over
replicates, authorities and their services, which calls exactly the functions the Mesa model and
its agents call (:func:`sim.dynamics.pooled`, :func:`sim.dynamics.authority_year`,
:func:`sim.dynamics.slot_year`, :func:`sim.dynamics.replicate_measures` and the rules they use).
Each replicate draws its random numbers from its own generator in the same layout as the Mesa
model, so that the two engines give identical tables.
"""

from __future__ import annotations

import numpy as np

from . import _compiled
from . import dynamics as dyn
from .population import POPULATION_DRAWS, build_structure, draw_attributes
from .scenario import Scenario


@_compiled.njit()
def elements_year(p, table, next_double, generators, group_of, first_slot, slot_cost,
                  savings_rate, state, viability, spending_power, alpha, beta,
                  deprivation, capacity0, reserves0, odds, own, drawn):
    """One year of every authority and service of R replicates, updated in place.

    ``table`` holds each replicate's :class:`sim.dynamics.Year`. Replicate r draws its year's
    uniforms (see :mod:`sim.dynamics`) from its numpy generator, whose state is at address
    ``generators[r]``, through the generator's C function ``next_double`` (numpy's documented
    interface for compiled code, ``BitGenerator.ctypes``): the numbers ``Generator.random``
    gives.
    Authority ``a`` is in peer group ``group_of[a]`` and owns the services ``first_slot[a]`` to
    ``first_slot[a + 1] - 1``.
    ``own`` holds last year's (good years, bad years, bad news) per authority and its projects
    in preparation at the year's end (4, R, A), replaced by this year's; ``drawn`` the reserves
    each authority's spin-outs have drawn (R, A). Returns the counts of
    :data:`sim.dynamics.EVENTS` (R, 7) and the :data:`sim.dynamics.STATE_MEASURES` after the
    year (R, 8), per replicate.

    Each replicate draws its uniforms and pools last year's evidence by peer group; then each
    authority has its year, then its services theirs, reading its new values. An authority's
    year reads only its own state and last year's pooled evidence, so the order changes
    nothing; its counts are kept in locals and written once, and the measures are tallied as
    the services are visited, in :func:`sim.dynamics.replicate_measures`'s order. A service to
    which nothing can happen this year (:func:`sim.dynamics.quiet`) is only tallied."""
    R, A = spending_power.shape
    N = state.shape[1]
    events = np.zeros((R, len(dyn.EVENTS)))
    measures = np.empty((R, len(dyn.STATE_MEASURES)))
    u = np.empty(A + 2 * N)  # one replicate's year of uniforms: [fiscal | u_a | u_b]
    for r in range(R):
        for i in range(u.size):
            u[i] = next_double(generators[r])
        c = dyn.year_of(table, r)
        group, national = dyn.pooled(group_of, own[:3, r])
        n_accepted = n_launched = n_abandoned = n_failed = n_challenged = n_other = n_lost = 0
        up_front = p.reserves_drawdown * dyn.net_cost(p, c)
        totals = dyn.ZERO_TOTALS
        for a in range(A):
            g = group_of[a]
            (spending_power[r, a], pressure, alpha[r, a], beta[r, a], capacity, reserves,
             p_review) = dyn.authority_year(
                p, c, spending_power[r, a], alpha[r, a], beta[r, a], deprivation[r, a], u[a],
                capacity0[r, a], reserves0[r, a], (own[0, r, a], own[1, r, a], own[2, r, a]),
                (group[0, g], group[1, g], group[2, g]), (national[0], national[1], national[2]),
                own[3, r, a], drawn[r, a])
            n_good = n_bad = n_news = 0.0
            tally = dyn.ZERO_TALLY
            for j in range(first_slot[a], first_slot[a + 1]):
                if dyn.quiet(p, c, state[r, j], u[A + j], p_review):
                    tally = dyn.count_slot(tally, state[r, j], slot_cost[j])
                    continue
                (state[r, j], viability[r, j], accepted, launched, abandoned, good, bad, failed,
                 challenged, other, lost) = dyn.slot_year(
                    p, c, state[r, j], viability[r, j], slot_cost[j], u[A + j], u[A + N + j],
                    p_review, pressure, capacity, reserves, alpha[r, a], beta[r, a], odds[r, a])
                n_accepted += accepted
                n_launched += launched
                n_abandoned += abandoned
                n_failed += failed
                n_challenged += challenged
                n_other += other
                n_lost += lost
                n_good += good
                n_bad += bad
                n_news += abandoned + failed + lost
                tally = dyn.count_slot(tally, state[r, j], slot_cost[j])
                if accepted:
                    drawn[r, a] += up_front
            own[0, r, a], own[1, r, a], own[2, r, a], own[3, r, a] = n_good, n_bad, n_news, tally[2]
            totals = dyn.add_authority(totals, tally, spending_power[r, a], alpha[r, a],
                                       beta[r, a], savings_rate)
        events[r] = n_accepted, n_launched, n_abandoned, n_failed, n_challenged, n_other, n_lost
        measures[r] = dyn.finish_measures(totals, A)
    return events, measures


@_compiled.njit()
def risk_odds(risk_aversion):
    """:func:`sim.rules.risk_odds` of each authority of each replicate (R, A)."""
    out = np.empty(risk_aversion.shape)
    for r in range(risk_aversion.shape[0]):
        for a in range(risk_aversion.shape[1]):
            out[r, a] = dyn.rules.risk_odds(risk_aversion[r, a])
    return out


def run_ensemble(scenario: Scenario, seeds: list[int]) -> np.ndarray:
    """Measures for each replicate seed and year: an array (R, years, len(MEASURES))."""
    s = scenario
    st = build_structure(s)
    A = st.n_authorities
    R = len(seeds)
    years = range(s.run.start_year, s.run.end_year + 1)
    out = np.empty((R, len(years), len(dyn.MEASURES)))
    generators = [np.random.default_rng(seed) for seed in seeds]

    u_pop = np.stack([g.random((POPULATION_DRAWS, A)) for g in generators])
    attrs = draw_attributes(st, s, u_pop)
    state, viability = dyn.initial_state(st, s, attrs["initial_adopter"])
    prior_alpha, prior_beta = dyn.prior(s)
    alpha, beta = np.full((R, A), prior_alpha), np.full((R, A), prior_beta)
    spending_power = np.ones((R, A))
    own = np.zeros((4, R, A))  # good years, bad years, bad news; projects in preparation
    drawn = np.zeros((R, A))
    met = {}  # share of each rationed instrument's requests met last year (all, at first)
    counters = dyn.first_tally(attrs["initial_adopter"].sum(axis=-1).astype(float))
    p = dyn.params(s)
    fixed = [np.ascontiguousarray(attrs[k], dtype=float) for k in ("deprivation", "capacity", "reserves")]
    odds = risk_odds(attrs["risk_aversion"])

    def record(t: int, values: np.ndarray, counters: dict) -> dict:
        obs = dyn.observe(st, values, counters)
        for m, name in enumerate(dyn.MEASURES):
            out[:, t, m] = obs[name]
        return obs

    next_double = generators[0].bit_generator.ctypes.next_double
    addresses = np.array([g.bit_generator.ctypes.state_address for g in generators], dtype=np.uint64)
    savings_rate = s.behaviour.savings_rate
    first_slot = st.first_slot
    obs = record(0, dyn.state_measures(state, first_slot, st.slot_cost, spending_power,
                                       alpha, beta, savings_rate), counters)
    for t, year in enumerate(years[1:], start=1):
        ctx = dyn.year_context(s, year, obs["share_with_mutual"], met)
        events, measures = elements_year(
            p, ctx.table(R), next_double, addresses, st.group, first_slot,
            st.slot_cost, savings_rate, state, viability, spending_power, alpha, beta, *fixed, odds,
            own, drawn)
        accepted, launched, abandoned, failed, challenged, _, lost = events.T
        spend, met = dyn.books(s, ctx, obs["in_preparation"], accepted)
        spend = {k: np.broadcast_to(np.asarray(v, dtype=float), (R,)).copy() for k, v in spend.items()}
        counters = dyn.tally(counters, launched, abandoned, failed, challenged, lost, spend)
        obs = record(t, measures, counters)
    return out
