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

from typing import NamedTuple

import numpy as np

from . import _compiled
from . import dynamics as dyn
from .population import POPULATION_DRAWS, build_structure, draw_attributes
from .scenario import Scenario


class Layout(NamedTuple):
    """Who owns what, the same in every replicate: authority ``a`` is in peer group
    ``group_of[a]`` and owns the services ``first_slot[a]`` to ``first_slot[a + 1] - 1``, whose
    yearly costs are ``slot_cost``."""

    group_of: np.ndarray  # (A,)
    first_slot: np.ndarray  # (A + 1,)
    slot_cost: np.ndarray  # (N,)


class Drawn(NamedTuple):
    """Each authority's attributes, drawn at set-up (R, A)."""

    deprivation: np.ndarray
    capacity0: np.ndarray  # before cuts
    reserves0: np.ndarray
    odds: np.ndarray  # its risk premium's weight (sim.rules.risk_odds)


class State(NamedTuple):
    """What changes from year to year, updated in place."""

    slot: np.ndarray  # each service's state, int8 (R, N)
    viability: np.ndarray  # (R, N)
    spending_power: np.ndarray  # (R, A)
    alpha: np.ndarray  # (R, A)
    beta: np.ndarray  # (R, A)
    own: np.ndarray  # last year's good years, bad years, bad news; projects in preparation (4, R, A)
    drawn: np.ndarray  # GBP m each authority's spin-outs have drawn from its reserves (R, A)


@_compiled.njit()
def elements_year(p, table, next_double, generators, layout: Layout, fixed: Drawn, x: State,
                  savings_rate):
    """One year of every authority and service of R replicates, ``x`` updated in place.

    ``table`` holds each replicate's :class:`sim.dynamics.Year`. Replicate r draws its year's
    uniforms (see :mod:`sim.dynamics`) from its numpy generator, whose state is at address
    ``generators[r]``, through the generator's C function ``next_double`` (numpy's documented
    interface for compiled code, ``BitGenerator.ctypes``): the numbers ``Generator.random``
    gives. Returns the counts of :data:`sim.dynamics.EVENTS` (R, 7) and the
    :data:`sim.dynamics.STATE_MEASURES` after the year (R, 8), per replicate.

    Each replicate draws its uniforms and pools last year's evidence by peer group; then each
    authority has its year, then its services theirs, reading its new values. An authority's
    year reads only its own state and last year's pooled evidence, so the order changes
    nothing; its counts are kept in locals and written once, and the measures are tallied as
    the services are visited, in :func:`sim.dynamics.replicate_measures`'s order. A service to
    which nothing can happen this year (:func:`sim.dynamics.quiet`) is only tallied."""
    R, A = x.spending_power.shape
    N = x.slot.shape[1]
    own = x.own
    events = np.zeros((R, len(dyn.EVENTS)))
    measures = np.empty((R, len(dyn.STATE_MEASURES)))
    u = np.empty(A + 2 * N)  # one replicate's year of uniforms: [fiscal | u_a | u_b]
    for r in range(R):
        for i in range(u.size):
            u[i] = next_double(generators[r])
        c = dyn.year_of(table, r)
        group, national = dyn.pooled(layout.group_of, own[:3, r])
        nation = dyn.Outcomes(national[0], national[1], national[2])
        n_accepted = n_launched = n_abandoned = n_failed = n_challenged = n_other = n_lost = 0
        up_front = p.reserves_drawdown * dyn.net_cost(p, c)
        totals = dyn.ZERO_TOTALS
        for a in range(A):
            g = layout.group_of[a]
            it = dyn.authority_year(
                p, c, x.spending_power[r, a], x.alpha[r, a], x.beta[r, a], fixed.deprivation[r, a],
                u[a], fixed.capacity0[r, a], fixed.reserves0[r, a],
                dyn.Outcomes(own[0, r, a], own[1, r, a], own[2, r, a]),
                dyn.Outcomes(group[0, g], group[1, g], group[2, g]), nation, own[3, r, a],
                x.drawn[r, a])
            x.spending_power[r, a], x.alpha[r, a], x.beta[r, a] = it.spending_power, it.alpha, it.beta
            n_good = n_bad = n_news = 0.0
            tally = dyn.ZERO_TALLY
            for j in range(layout.first_slot[a], layout.first_slot[a + 1]):
                if dyn.quiet(p, c, x.slot[r, j], u[A + j], it.p_review):
                    tally = dyn.count_slot(tally, x.slot[r, j], layout.slot_cost[j])
                    continue
                res = dyn.slot_year(
                    p, c, x.slot[r, j], x.viability[r, j], layout.slot_cost[j], u[A + j],
                    u[A + N + j], it.p_review, it.pressure, it.capacity, it.reserves, it.alpha,
                    it.beta, fixed.odds[r, a])
                x.slot[r, j], x.viability[r, j] = res.state, res.viability
                n_accepted += res.accepted
                n_launched += res.launched
                n_abandoned += res.abandoned
                n_failed += res.failed
                n_challenged += res.challenged
                n_other += res.alternative
                n_lost += res.lost
                n_good += res.good
                n_bad += res.bad
                n_news += res.abandoned + res.failed + res.lost
                tally = dyn.count_slot(tally, x.slot[r, j], layout.slot_cost[j])
                if res.accepted:
                    x.drawn[r, a] += up_front
            own[0, r, a], own[1, r, a], own[2, r, a], own[3, r, a] = n_good, n_bad, n_news, tally.preparing
            totals = dyn.add_authority(totals, tally, it.spending_power, it.alpha, it.beta,
                                       savings_rate)
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
    prior_alpha, prior_beta = dyn.prior(s)
    x = State(*dyn.initial_state(st, s, attrs["initial_adopter"]), spending_power=np.ones((R, A)),
              alpha=np.full((R, A), prior_alpha), beta=np.full((R, A), prior_beta),
              own=np.zeros((4, R, A)), drawn=np.zeros((R, A)))
    met = {}  # share of each rationed instrument's requests met last year (all, at first)
    counters = dyn.first_tally(attrs["initial_adopter"].sum(axis=-1).astype(float))
    p = dyn.params(s)
    def drawn(name: str) -> np.ndarray:
        return np.ascontiguousarray(attrs[name], dtype=float)

    fixed = Drawn(deprivation=drawn("deprivation"), capacity0=drawn("capacity"),
                  reserves0=drawn("reserves"), odds=risk_odds(attrs["risk_aversion"]))
    layout = Layout(st.group, st.first_slot, st.slot_cost)

    def record(t: int, values: np.ndarray, counters: dict) -> dict:
        obs = dyn.observe(st, values, counters)
        for m, name in enumerate(dyn.MEASURES):
            out[:, t, m] = obs[name]
        return obs

    next_double = generators[0].bit_generator.ctypes.next_double
    addresses = np.array([g.bit_generator.ctypes.state_address for g in generators], dtype=np.uint64)
    savings_rate = s.behaviour.savings_rate
    obs = record(0, dyn.state_measures(x.slot, st.first_slot, st.slot_cost, x.spending_power,
                                       x.alpha, x.beta, savings_rate), counters)
    for t, year in enumerate(years[1:], start=1):
        ctx = dyn.year_context(s, year, obs["share_with_mutual"], met)
        events, measures = elements_year(p, ctx.table(R), next_double, addresses, layout, fixed, x,
                                         savings_rate)
        n = dict(zip(dyn.EVENTS, events.T, strict=True))
        spend, met = dyn.books(s, ctx, obs["in_preparation"], n["accepted"])
        spend = {k: np.broadcast_to(np.asarray(v, dtype=float), (R,)).copy() for k, v in spend.items()}
        counters = dyn.tally(counters, launched=n["launched"], abandoned=n["abandoned"],
                             failed=n["failed"], challenged=n["challenged"], lost=n["lost"],
                             spend=spend)
        obs = record(t, measures, counters)
    return out
