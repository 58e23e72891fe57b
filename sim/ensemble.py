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

import copy
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


class SetUp:
    """One scenario's replicates within a batch, set up (the population drawn, the first state):
    their generators, attributes, first state and parameters. None of it reads the support, so
    one set-up serves any support package on the same scenario and seeds
    (:meth:`with_support`)."""

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
        self.states = [g.bit_generator.state for g in self.generators]  # the streams after set-up
        self._spares: list[list[np.random.Generator]] = []  # generators to reuse (with_support)
        self.years = 0  # years already run (see advance)
        self.after: dict = {}  # then: the state, the books and the measures so far

    def with_support(self, s: Scenario, slot: int | None = None) -> SetUp:
        """This set-up for ``s``, a scenario that differs from its own in the support alone, its
        generators where set-up left them (so that it runs as if set up afresh): new ones, or
        with ``slot`` the set-up's spare set of that number, reset (cheaper; the copies in one
        batch must then have distinct slots)."""
        other = copy.copy(self)
        other.s = s
        if slot is None:
            other.generators = [np.random.Generator(np.random.PCG64(0)) for _ in self.states]
        else:
            while len(self._spares) <= slot:
                self._spares.append([np.random.Generator(np.random.PCG64(0)) for _ in self.states])
            other.generators = self._spares[slot]
        for g, state in zip(other.generators, self.states, strict=True):
            g.bit_generator.state = state
        return other


class _Books:
    """The model-level steps (the support on offer, rationing, the books) of every replicate of
    a batch at once, as numpy over replicates: the groups' scenarios stacked
    (:func:`sim.dynamics.stack`), their schedules one row per replicate; the measures in ``out``."""

    def __init__(self, groups: list[SetUp], st):
        counts = [g.R for g in groups]
        scenarios = [g.s for g in groups]
        self.s, self.st, self.R = dyn.stack(scenarios, counts), st, sum(counts)
        self.schedule = dyn.schedule(scenarios).repeat(counts)
        self.met: dict = {}  # share of each rationed instrument's requests met last year (all, at first)
        adopters = np.concatenate([g.attrs["initial_adopter"] for g in groups])
        self.counters = dyn.first_tally(adopters.sum(axis=-1).astype(float))
        self.out = np.empty((self.R, self.schedule.years.size + 1, len(dyn.MEASURES)))

    def record(self, t: int, values: np.ndarray) -> None:
        self.obs = dyn.observe(self.st, values, self.counters)
        for m, name in enumerate(dyn.MEASURES):
            self.out[:, t, m] = self.obs[name]

    def year_table(self, t: int) -> np.ndarray:
        """The :class:`sim.dynamics.Year` table of the year ``t`` after the start."""
        self.ctx = dyn.year_context(self.s, self.schedule, t - 1, self.obs["share_with_mutual"], self.met)
        return self.ctx.table(self.R)

    def books(self, t: int, events: np.ndarray, measures: np.ndarray) -> None:
        n = dict(zip(dyn.EVENTS, events.T, strict=True))
        spend, self.met = dyn.books(self.s, self.ctx, self.obs["in_preparation"], n["accepted"])
        spend = {k: np.broadcast_to(np.asarray(v, dtype=float), (self.R,)) for k, v in spend.items()}
        self.counters = dyn.tally(self.counters, launched=n["launched"], abandoned=n["abandoned"],
                                  failed=n["failed"], challenged=n["challenged"], lost=n["lost"], spend=spend)
        self.record(t, measures)


def run_batch(scenarios: list[Scenario], seeds: list[list[int]]) -> list[np.ndarray]:
    """Measures (R_g, years, len(MEASURES)) of each scenario ``g`` for its replicate seeds, every
    replicate of every scenario stepped in one compiled call a year, each with its own
    parameters, and the model-level steps done for all of them at once (:class:`_Books`). The
    scenarios must share :func:`batch_key`; each one's array is the one it gives alone (a
    replicate's year depends on its own parameters, support and random numbers only)."""
    keys = {batch_key(s) for s in scenarios}
    if len(keys) > 1:
        raise ValueError(f"a batch shares its structure and years; given {sorted(keys)}")
    st = build_structure(scenarios[0])
    return run_set_up([SetUp(s, list(q), st) for s, q in zip(scenarios, seeds, strict=True)], st)


def run_set_up(groups: list[SetUp], st) -> list[np.ndarray]:
    """:func:`run_batch` of replicates already set up (:class:`SetUp`, or after some years:
    :func:`advance`, all the same number of them), on the structure ``st`` they share."""
    books, _, first = _steps(groups, st, None)
    return [books.out[first[k]:first[k + 1]] for k in range(len(groups))]


def advance(groups: list[SetUp], st, years: int) -> list[SetUp]:
    """The set-ups after their first ``years`` years, each under its own scenario: its state,
    books, measures and generators then, from which :func:`run_set_up` goes on. Only for
    packages whose support those years do not see (the same :func:`sim.dynamics.schedule` in
    them as the set-up's own scenario): a set-up after its years serves them as one at the
    start would (tested)."""
    books, x, first = _steps(groups, st, years)
    out = []
    def part(values: dict, a: int, b: int) -> dict:
        return {k: np.array(np.broadcast_to(np.asarray(v, dtype=float), (books.R,))[a:b]) for k, v in values.items()}

    for g, a, b in zip(groups, first[:-1], first[1:], strict=True):
        later = copy.copy(g)
        later.years, later._spares = years, []
        later.states = [gen.bit_generator.state for gen in g.generators]
        later.after = dict(x=State(*(np.array(v[a:b]) for v in x)), counters=part(books.counters, a, b),
                           met=part(books.met, a, b), obs=part(books.obs, a, b), out=books.out[a:b, :years + 1].copy())
        out.append(later)
    return out


def _steps(groups: list[SetUp], st, stop: int | None):
    """Step the groups from the years they have run to ``stop`` (the end if None): the books,
    the state and the first replicate of each group."""
    done = groups[0].years
    if any(g.years != done for g in groups):
        raise ValueError(f"a batch's set-ups have run the same years; given {sorted({g.years for g in groups})}")
    books = _Books(groups, st)
    R, A = books.R, st.n_authorities

    def stacked(name: str) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate([g.attrs[name] for g in groups]), dtype=float)

    fixed = Drawn(deprivation=stacked("deprivation"), capacity0=stacked("capacity"), reserves0=stacked("reserves"),
                  odds=risk_odds(np.concatenate([g.attrs["risk_aversion"] for g in groups])))
    first = np.cumsum([0, *(g.R for g in groups)])
    if done:
        x = State(*(np.concatenate([g.after["x"][i] for g in groups]) for i in range(len(State._fields))))
        books.counters, books.met, books.obs = ({k: np.concatenate([g.after[what][k] for g in groups])
                                                 for k in groups[0].after[what]} for what in ("counters", "met", "obs"))
        books.out[:, :done + 1] = np.concatenate([g.after["out"] for g in groups])
    else:
        x = State(slot=np.concatenate([g.slot for g in groups]),
                  viability=np.concatenate([g.viability for g in groups]),
                  spending_power=np.ones((R, A)), reference=np.ones((R, A)),
                  alpha=np.concatenate([np.full((g.R, A), g.prior[0]) for g in groups]),
                  beta=np.concatenate([np.full((g.R, A), g.prior[1]) for g in groups]),
                  own=np.zeros((R, 4, A)), drawn=np.zeros((R, A)))
        spans = zip(groups, first[:-1], first[1:], strict=True)
        books.record(0, np.concatenate([  # each group's own savings rate values its mutuals' savings
            dyn.state_measures(x.slot[a:b], st.first_slot, st.slot_cost, x.spending_power[a:b], x.alpha[a:b],
                               x.beta[a:b], g.s.behaviour.savings_rate) for g, a, b in spans]))
    params = np.concatenate([g.params for g in groups])
    layout = Layout(st.group, st.first_slot, st.slot_cost)
    generators = [gen for g in groups for gen in g.generators]
    next_double = generators[0].bit_generator.ctypes.next_double
    addresses = np.array([gen.bit_generator.ctypes.state_address for gen in generators], dtype=np.uint64)
    for t in range(done + 1, (books.schedule.years.size if stop is None else stop) + 1):
        events, measures = elements_year(params, books.year_table(t), next_double, addresses, layout, fixed, x)
        books.books(t, events, measures)
    return books, x, first


def run_ensemble(scenario: Scenario, seeds: list[int]) -> np.ndarray:
    """Measures for each replicate seed and year: an array (R, years, len(MEASURES))."""
    return run_batch([scenario], [seeds])[0]
