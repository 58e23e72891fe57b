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

import json
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
def elements_year(params, table, next_double, generators, layout: Layout, fixed: Drawn, x: State):
    """One year of every authority and service of R replicates, ``x`` updated in place.

    ``params`` holds each replicate's :class:`sim.dynamics.Params` (a batch may hold several
    scenarios), ``table`` its :class:`sim.dynamics.Year`. Replicate r draws its year's
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
        p = dyn.params_of(params, r)
        c = dyn.year_of(table, r)
        group, national = dyn.pooled(layout.group_of, x.own[r, :3])
        st = dyn.Authorities(fixed.deprivation[r], fixed.capacity0[r], fixed.reserves0[r], fixed.odds[r],
                             x.spending_power[r], x.reference[r], x.alpha[r], x.beta[r], x.drawn[r], x.own[r])
        counts, totals = dyn.authorities_year(
            p, c, 0, A, layout.group_of, layout.first_slot, layout.slot_cost, u, x.slot[r], x.viability[r], st,
            group, dyn.Outcomes(national[0], national[1], national[2]), p.savings_rate, happened)
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


def batch_key(scenario: Scenario) -> tuple:
    """What the scenarios of one batch (:func:`run_batch`) must share: their authorities and
    services, and their years."""
    return (scenario.population.structure, scenario.population.services, scenario.run.start_year,
            scenario.run.end_year)


def context_key(scenario: Scenario) -> str:
    """What the model-level steps of a year read (:func:`sim.dynamics.year_context`,
    :func:`sim.dynamics.attention_path`, :func:`sim.dynamics.books`): the scenarios of a batch
    that share it have those steps done once, over all their replicates together."""
    b, m = scenario.behaviour, scenario.mutuals
    return json.dumps([scenario.support.model_dump(mode="json"), scenario.fiscal.model_dump(mode="json"),
                       b.national_weight, b.attention_floor, b.attention_budget, b.attention_memory,
                       m.preparation_years, m.abandon_rate, scenario.run.start_year, scenario.run.end_year])


class _Group:
    """One scenario's replicates within a batch, set up: their generators, attributes, first
    state and parameters."""

    def __init__(self, s: Scenario, seeds: list[int], st):
        self.s, self.R = s, len(seeds)
        A = st.n_authorities
        self.generators = [np.random.default_rng(seed) for seed in seeds]
        u_pop = np.stack([g.random((POPULATION_DRAWS, A)) for g in self.generators])
        self.attrs = draw_attributes(st, s, u_pop)
        self.prior = dyn.prior(s)
        ready = [dyn.readiness_draws(st, s, g.random) for g in self.generators]
        self.slot, self.viability = dyn.initial_state(st, s, self.attrs["initial_adopter"],
                                                      None if ready[0] is None else np.stack(ready))
        self.params = np.array([tuple(dyn.params(s))] * self.R, dtype=float).reshape(self.R, dyn.PARAM_FIELDS)


class _Books:
    """The model-level steps (the support on offer, rationing, the books), as numpy over the
    replicates of the groups of one :func:`context_key`; their measures in ``out``."""

    def __init__(self, groups: list[_Group], st):
        s = groups[0].s
        self.s, self.st, self.R = s, st, sum(g.R for g in groups)
        self.met: dict = {}  # share of each rationed instrument's requests met last year (all, at first)
        self.support = {y: dyn.instrument_year(s, y) for y in range(s.run.start_year + 1, s.run.end_year + 1)}
        self.attention = dyn.attention_path(s, self.support)
        adopters = np.concatenate([g.attrs["initial_adopter"] for g in groups])
        self.counters = dyn.first_tally(adopters.sum(axis=-1).astype(float))
        self.out = np.empty((self.R, s.run.end_year - s.run.start_year + 1, len(dyn.MEASURES)))

    def record(self, t: int, values: np.ndarray) -> None:
        self.obs = dyn.observe(self.st, values, self.counters)
        for m, name in enumerate(dyn.MEASURES):
            self.out[:, t, m] = self.obs[name]

    def year_table(self, year: int) -> np.ndarray:
        self.ctx = dyn.year_context(self.s, year, self.obs["share_with_mutual"], self.met, self.attention[year],
                                    self.support[year])
        return self.ctx.table(self.R)

    def books(self, t: int, events: np.ndarray, measures: np.ndarray) -> None:
        n = dict(zip(dyn.EVENTS, events.T, strict=True))
        spend, self.met = dyn.books(self.s, self.ctx, self.obs["in_preparation"], n["accepted"])
        spend = {k: np.full(self.R, v, dtype=float) if np.ndim(v) == 0 else np.array(v, dtype=float)
                 for k, v in spend.items()}
        self.counters = dyn.tally(self.counters, launched=n["launched"], abandoned=n["abandoned"],
                                  failed=n["failed"], challenged=n["challenged"], lost=n["lost"], spend=spend)
        self.record(t, measures)


def run_batch(scenarios: list[Scenario], seeds: list[list[int]]) -> list[np.ndarray]:
    """Measures (R_g, years, len(MEASURES)) of each scenario ``g`` for its replicate seeds, every
    replicate of every scenario stepped in one compiled call a year, each with its own
    parameters, and the model-level steps done once for the scenarios that share a
    :func:`context_key`. The scenarios must share :func:`batch_key`; each one's array is the one
    it gives alone (a replicate's year depends on its own parameters, support and random numbers
    only)."""
    keys = {batch_key(s) for s in scenarios}
    if len(keys) > 1:
        raise ValueError(f"a batch shares its structure and years; given {sorted(keys)}")
    st = build_structure(scenarios[0])
    members: dict[str, list[int]] = {}
    for i, s in enumerate(scenarios):
        members.setdefault(context_key(s), []).append(i)
    order = [i for ids in members.values() for i in ids]  # replicates laid out unit by unit
    groups = {i: _Group(scenarios[i], list(seeds[i]), st) for i in order}
    units = [_Books([groups[i] for i in ids], st) for ids in members.values()]
    ordered = [groups[i] for i in order]
    R, A = sum(g.R for g in ordered), st.n_authorities

    def stacked(name: str) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate([g.attrs[name] for g in ordered]), dtype=float)

    fixed = Drawn(deprivation=stacked("deprivation"), capacity0=stacked("capacity"), reserves0=stacked("reserves"),
                  odds=risk_odds(np.concatenate([g.attrs["risk_aversion"] for g in ordered])))
    x = State(slot=np.concatenate([g.slot for g in ordered]), viability=np.concatenate([g.viability for g in ordered]),
              spending_power=np.ones((R, A)), reference=np.ones((R, A)),
              alpha=np.concatenate([np.full((g.R, A), g.prior[0]) for g in ordered]),
              beta=np.concatenate([np.full((g.R, A), g.prior[1]) for g in ordered]),
              own=np.zeros((R, 4, A)), drawn=np.zeros((R, A)))
    params = np.concatenate([g.params for g in ordered])
    layout = Layout(st.group, st.first_slot, st.slot_cost)
    generators = [gen for g in ordered for gen in g.generators]
    next_double = generators[0].bit_generator.ctypes.next_double
    addresses = np.array([gen.bit_generator.ctypes.state_address for gen in generators], dtype=np.uint64)
    edges = np.cumsum([0, *(u.R for u in units)])
    parts = [slice(edges[k], edges[k + 1]) for k in range(len(units))]
    first = np.cumsum([0, *(g.R for g in ordered)])
    spans = zip(ordered, first[:-1], first[1:], strict=True)
    initial = np.concatenate([  # each group's own savings rate values its mutuals' savings
        dyn.state_measures(x.slot[a:b], st.first_slot, st.slot_cost, x.spending_power[a:b], x.alpha[a:b],
                           x.beta[a:b], g.s.behaviour.savings_rate) for g, a, b in spans])
    for u, part in zip(units, parts, strict=True):
        u.record(0, initial[part])
    s0 = scenarios[0].run
    for t, year in enumerate(range(s0.start_year + 1, s0.end_year + 1), start=1):
        table = np.concatenate([u.year_table(year) for u in units])
        events, measures = elements_year(params, table, next_double, addresses, layout, fixed, x)
        for u, part in zip(units, parts, strict=True):
            u.books(t, events[part], measures[part])
    out = np.concatenate([u.out for u in units])
    return [out[first[k]:first[k + 1]] for k in np.argsort(order)]


def run_ensemble(scenario: Scenario, seeds: list[int]) -> np.ndarray:
    """Measures for each replicate seed and year: an array (R, years, len(MEASURES))."""
    return run_batch([scenario], [seeds])[0]
