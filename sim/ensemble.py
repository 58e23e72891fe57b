"""The ensemble engine: every replicate of a scenario stepped at once.

The model-level steps of a year (the support on offer, rationing, the books) run as numpy over
arrays of replicates. Everything else runs in :func:`elements_year`, one compiled loop over
replicates that calls exactly the functions the Mesa model and its agents call
(:func:`sim.dynamics.pooled`, and :func:`sim.dynamics.authorities_year` for every authority of
the replicate, the one place where the order of a year is written).
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
    reference: np.ndarray  # the spending power each authority is used to (R, A)
    alpha: np.ndarray  # (R, A)
    beta: np.ndarray  # (R, A)
    own: np.ndarray  # last year's good years, bad years, bad news; projects in preparation (R, 4, A)
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

    Each replicate draws its uniforms, pools last year's evidence by peer group and has the year
    of all its authorities and services (:func:`sim.dynamics.authorities_year`, called once per
    replicate so that its arrays are passed once, not once per authority)."""
    R, A = x.spending_power.shape
    N = x.slot.shape[1]
    events = np.zeros((R, len(dyn.EVENTS)))
    measures = np.empty((R, len(dyn.STATE_MEASURES)))
    u = np.empty(A + 2 * N)  # one replicate's year of uniforms: [fiscal | u_a | u_b]
    happened = np.zeros(0, dtype=np.int64)  # what the Mesa agents act on: not recorded here
    for r in range(R):
        for i in range(u.size):
            u[i] = next_double(generators[r])
        c = dyn.year_of(table, r)
        group, national = dyn.pooled(layout.group_of, x.own[r, :3])
        st = dyn.Authorities(fixed.deprivation[r], fixed.capacity0[r], fixed.reserves0[r], fixed.odds[r],
                             x.spending_power[r], x.reference[r], x.alpha[r], x.beta[r], x.drawn[r], x.own[r])
        counts, totals = dyn.authorities_year(
            p, c, 0, A, layout.group_of, layout.first_slot, layout.slot_cost, u, x.slot[r], x.viability[r], st,
            group, dyn.Outcomes(national[0], national[1], national[2]), savings_rate, happened)
        for k in range(len(counts)):
            events[r, k] = counts[k]
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
    ready = [dyn.readiness_draws(st, s, g.random) for g in generators]
    x = State(*dyn.initial_state(st, s, attrs["initial_adopter"], None if ready[0] is None else np.stack(ready)),
              spending_power=np.ones((R, A)), reference=np.ones((R, A)), alpha=np.full((R, A), prior_alpha),
              beta=np.full((R, A), prior_beta),
              own=np.zeros((R, 4, A)), drawn=np.zeros((R, A)))
    met = {}  # share of each rationed instrument's requests met last year (all, at first)
    attention = dyn.attention_path(s)
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
        ctx = dyn.year_context(s, year, obs["share_with_mutual"], met, attention[year])
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
