"""One model year, composed from the rules: shared by the Mesa agents and the ensemble engine.

Model-level steps (:func:`year_context`, rationing, the books) are numpy functions of scalars or
of arrays of replicates. Element steps are compiled by Numba (``@element``). The order of a year
is written once, in :func:`authorities_year`: each authority's year (:func:`authority_year`),
then each of its services' (:func:`slot_year`), over a range of one replicate's authorities; the
ensemble engine's compiled loop calls it for all the authorities of each replicate, a Mesa agent
for itself. Parameters come as :class:`Params` and the year's context as :class:`Year`, named
tuples of floats, and the steps return named tuples (:class:`AuthorityYear`, :class:`SlotYear`,
:class:`Events`). Model-level quantities (support on offer, pooled
evidence, the share of adopters) are computed once per year from last year's state, so no
decision depends on the order in which authorities act.

Random numbers: each replicate's generator first draws the population's uniforms (see
:mod:`sim.population`), then, every year, one block of ``tape_width`` uniforms laid out as
[fiscal noise per authority | u_a per slot | u_b per slot]. A slot is in one state at a time, so
its two uniforms serve whichever event that state can have (review or challenge and approval;
abandonment or launch; a good or bad year and failure).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba.np.unsafe.ndarray import to_fixed_tuple

from . import (
    _compiled,
    rules,
)
from .instruments import EFFECTS, INSTRUMENTS
from .population import ServiceState, Structure
from .scenario import Scenario

IN_HOUSE, PREPARING, SPUN_OUT, RETURNED, ALTERNATIVE, NOT_READY = (int(s) for s in ServiceState)

element = _compiled.njit(inline="always")
"""Compile an element step: a Mesa agent calls it with its own values; the ensemble engine's
compiled loop inlines it (passing the parameters to a call, rather than inlining, costs ten
times the work of a service's year)."""


def tape_width(structure: Structure) -> int:
    """Uniforms each replicate draws per year."""
    return structure.n_authorities + 2 * structure.n_slots


class Params(NamedTuple):
    """The scenario's parameters that the element steps read, as plain floats (compiled code
    cannot read a pydantic model)."""

    deprivation_gradient: float
    noise_sd: float
    peer_weight: float
    prior_alpha: float
    prior_beta: float
    memory: float
    capacity_erosion: float
    review_rate: float
    pressure_review: float
    pressure_adaptation: float
    readiness_growth: float
    transition_cost: float
    savings_rate: float
    payback_years: float
    failure_cost_share: float
    pressure_motivation: float
    challenge_capacity: float
    temperature: float
    p: float
    q: float
    viability: float
    viability_spread: float
    failure_given_struggle: float
    bad_news_weight: float
    capacity_per_project: float
    reserves_drawdown: float
    alternative_savings_rate: float
    alternative_release: float  # yearly chance a service delivered another way comes back
    contract_loss: float  # yearly chance a live mutual loses its contract


PARAM_FIELDS = len(Params._fields)


@element
def params_of(table, r):
    """Replicate r's :class:`Params` from a (replicates, fields) table of :func:`params` rows
    (a batch of scenarios: each replicate its own parameters)."""
    return Params(*to_fixed_tuple(table[r], PARAM_FIELDS))


def params(s: Scenario) -> Params:
    """The element steps' parameters from a scenario, each named (a missing or misspelt one is
    an error)."""
    f, b, m = s.fiscal, s.behaviour, s.mutuals
    prior_alpha, prior_beta = prior(s)
    loss = (1.0 - m.retention) / m.contract_years if m.contract_years > 0 else 0.0
    return Params(
        deprivation_gradient=f.deprivation_gradient, noise_sd=f.noise_sd,
        peer_weight=b.peer_weight, prior_alpha=prior_alpha, prior_beta=prior_beta,
        memory=b.memory, capacity_erosion=b.capacity_erosion, review_rate=b.review_rate,
        pressure_review=b.pressure_review, pressure_adaptation=b.pressure_adaptation,
        readiness_growth=s.population.readiness_growth, transition_cost=m.transition_cost,
        savings_rate=b.savings_rate, payback_years=b.payback_years,
        failure_cost_share=b.failure_cost_share, pressure_motivation=b.pressure_motivation,
        challenge_capacity=b.challenge_capacity, temperature=b.temperature, p=b.p, q=b.q,
        viability=m.viability, viability_spread=m.viability_spread,
        failure_given_struggle=m.failure_given_struggle, bad_news_weight=b.bad_news_weight,
        capacity_per_project=b.capacity_per_project, reserves_drawdown=b.reserves_drawdown,
        alternative_savings_rate=b.alternative_savings_rate,
        alternative_release=1.0 / b.alternative_years, contract_loss=min(loss, 1.0),
    )


class Year(NamedTuple):
    """What one replicate's authorities and services face this year (see :class:`YearContext`),
    as plain numbers for the element steps."""

    national_change: float
    national_weight: float
    p_challenge: float
    share: float
    cost_reduction: float
    expected_grant: float
    failure_cost_factor: float
    launch: float
    abandon: float
    instant: float  # 1.0 if projects launch the year they are approved (no preparation)
    attention: float  # share of reviews in which a mutual is on the table


YEAR_FIELDS = len(Year._fields)


@element
def year_of(table, r):
    """Replicate r's :class:`Year` from a table made by :meth:`YearContext.table`, whose columns
    are :class:`Year`'s fields in order."""
    return Year(*to_fixed_tuple(table[r], YEAR_FIELDS))


@dataclass(frozen=True)
class YearContext:
    """What every authority faces this year, set from last year's state (model level)."""

    year: int
    national_change: np.ndarray | float
    share: np.ndarray | float  # share of authorities running a mutual, last year
    national_weight: np.ndarray | float
    p_challenge: np.ndarray | float
    cost_reduction: np.ndarray | float
    expected_grant: np.ndarray | float
    failure_cost_factor: np.ndarray | float
    preparation_years: np.ndarray | float
    launch: np.ndarray | float
    abandon: np.ndarray | float
    attention: np.ndarray | float
    allowance: dict[str, np.ndarray | float]
    on: dict[str, np.ndarray | float]  # each instrument's strength this year: share of the year
    # active, times (for programmes) the share of the full-effect budget funded; 0 if unfunded

    def table(self, replicates: int) -> np.ndarray:
        """Each replicate's :class:`Year` as a row of a (replicates, fields) array."""
        out = np.empty((replicates, YEAR_FIELDS))
        for k, name in enumerate(Year._fields):
            out[:, k] = (np.asarray(self.preparation_years) <= 0.0) if name == "instant" else getattr(self, name)
        return out


class Schedule(NamedTuple):
    """What each year of a run holds whatever happens in it, for S scenarios (or, repeated, for
    their replicates): each instrument's strength (``on``: the share of the year it runs times
    its strength in each window, at most 1) and ``allowance`` (GBP m of its budgets falling in
    the year), national ``attention`` (:func:`sim.rules.national_attention`) and the national
    change in spending power (``national_change``), arrays (S, T) over the years ``years`` (T,)
    after the start."""

    years: np.ndarray
    on: dict[str, np.ndarray]
    allowance: dict[str, np.ndarray]
    attention: np.ndarray
    national_change: np.ndarray

    def repeat(self, counts) -> Schedule:
        """Row s repeated ``counts[s]`` times: one row per replicate."""
        return self._map(lambda x: np.repeat(x, counts, axis=0))

    def row(self, i: int) -> Schedule:
        """Scenario ``i``'s alone, arrays (T,): a Mesa model's."""
        return self._map(lambda x: x[i])

    def _map(self, fn) -> Schedule:
        return Schedule(self.years, {k: fn(v) for k, v in self.on.items()},
                        {k: fn(v) for k, v in self.allowance.items()}, fn(self.attention), fn(self.national_change))


def schedule(scenarios: list[Scenario]) -> Schedule:
    """The :class:`Schedule` of scenarios that share their years, computed together: numpy over
    scenarios and years, each instrument's windows visited in order (:meth:`_Instrument.windows`)."""
    run = scenarios[0].run
    years = np.arange(run.start_year + 1, run.end_year + 1)
    y1 = years.astype(float)
    y0 = y1 - 1.0
    on, allowance = {}, {}
    for name in INSTRUMENTS:
        insts = [getattr(s.support, name) for s in scenarios]
        windows = [inst.windows() for inst in insts]
        strong = np.zeros((len(scenarios), years.size))
        money = np.zeros((len(scenarios), years.size))
        for k in range(max(len(w) for w in windows)):  # every scenario's k-th window, together
            has = [i for i, w in enumerate(windows) if len(w) > k]
            nth = [windows[i][k] for i in has]
            start, end, budget = (np.array([getattr(w, f) for w in nth])[:, None] for f in ("start", "end", "budget"))
            strength = np.array([insts[i].strength(w) for i, w in zip(has, nth, strict=True)])[:, None]
            frac = rules.active_fraction(y0, y1, start, end)
            strong[has] = np.minimum(1.0, strong[has] + frac * strength)
            money[has] = money[has] + budget / (end - start) * frac * (y1 - y0)
        on[name], allowance[name] = strong, money
    b = [s.behaviour for s in scenarios]
    floor, memory, budget = (np.array([getattr(x, f) for x in b]) for f in
                             ("attention_floor", "attention_memory", "attention_budget"))
    pushes = rules.national_push(sum(allowance.values()), budget[:, None])
    attention = np.stack([rules.national_attention(pushes[:, :t + 1].T, floor, memory)
                          for t in range(years.size)], axis=1)
    cuts = {}  # each scenario's cuts by year, computed once per distinct fiscal section
    for s in scenarios:
        f = s.fiscal
        if id(f) not in cuts:
            cuts[id(f)] = [f.trajectory.get(int(y), f.later_change) for y in years]
    change = (np.array([cuts[id(s.fiscal)] for s in scenarios])
              * np.array([s.fiscal.severity for s in scenarios])[:, None])
    return Schedule(years, on, allowance, attention, change)


def support_budget(s: Scenario) -> float:
    """GBP m of the instruments' budgets that fall within the run (the yearly allowances of
    :func:`schedule`, summed): what the support could have spent, beside what it did."""
    return float(sum(schedule([s]).allowance.values()).sum())


def attention_path(s: Scenario) -> dict[int, float]:
    """National attention in each year of the run, by the year it ends (:func:`schedule`): a
    function of the scenario alone; 1 in every year when the mechanism is off (a floor of 1)."""
    sched = schedule([s])
    return {int(y): float(a) for y, a in zip(sched.years, sched.attention[0], strict=True)}


STACKED = ("behaviour", "mutuals", "support")
"""The sections the model-level steps of a year read (:func:`year_context`, :func:`books`)."""


def stack(scenarios: list[Scenario], counts) -> Scenario:
    """One scenario whose numbers in the sections :data:`STACKED` are arrays over replicates
    (scenario ``i``'s value repeated ``counts[i]`` times), built without validation
    (``model_construct``), for the model-level steps of a batch (:func:`year_context`,
    :func:`books`: the instruments' own methods then act on every replicate at once). A value
    that is not a number is the first scenario's if all share it, else None (no model-level step
    of a year reads one); the other sections are the first scenario's."""
    from pydantic import BaseModel

    def stacked(models: list):
        first = models[0]
        values = {}
        for name in type(first).model_fields:
            got = [getattr(m, name) for m in models]
            if isinstance(got[0], BaseModel):
                values[name] = stacked(got)
            elif isinstance(got[0], (int, float)):
                values[name] = np.repeat(np.asarray(got, dtype=float), counts)
            else:
                values[name] = got[0] if all(g == got[0] for g in got[1:]) else None
        return type(first).model_construct(**values)

    return scenarios[0].model_copy(update={name: stacked([getattr(s, name) for s in scenarios]) for name in STACKED})


def year_context(s: Scenario, sched: Schedule, t: int, share, met: dict) -> YearContext:
    """Support on offer and national conditions for the year ``sched.years[t]``.

    ``share`` (of authorities running a mutual) and ``met`` (per rationed instrument, the share
    of its requests met) describe last year's state: scalars for one model, arrays of shape (R,)
    for an ensemble, whose ``s`` is then :func:`stack`'s and ``sched`` one row per replicate.
    Each instrument says what it changes (:meth:`sim.scenario._Instrument.effects`);
    reductions combine as independent shares (:func:`sim.rules.kept_share`), the rest add up.
    """
    on = {k: v[..., t] for k, v in sched.on.items()}
    allowance = {k: v[..., t] for k, v in sched.allowance.items()}
    effects: dict[str, list] = {name: [] for name in EFFECTS}
    for name, inst in s.support.instruments().items():
        for effect, value in inst.effects(on[name], met.get(name, 1.0)).items():
            if effect not in effects:
                raise ValueError(f"instrument {name}: unknown effect {effect!r}; allowed: {', '.join(EFFECTS)}")
            effects[effect].append(value)
    added = {name: sum(effects[name], 0.0) for name in ("visibility", "challenge_rate", "grant")}
    prep = rules.preparation_years(s.mutuals.preparation_years,
                                   1.0 - rules.kept_share(*effects["time_reduction"]))
    return YearContext(
        year=int(sched.years[t]),
        national_change=sched.national_change[..., t],
        share=share,
        national_weight=s.behaviour.national_weight + added["visibility"],
        p_challenge=added["challenge_rate"],
        cost_reduction=1.0 - rules.kept_share(*effects["cost_reduction"]),
        expected_grant=added["grant"],
        failure_cost_factor=rules.kept_share(*effects["risk_reduction"]),
        preparation_years=prep,
        launch=rules.launch_probability(prep),
        abandon=s.mutuals.abandon_rate * rules.kept_share(*effects["abandon_reduction"]),
        attention=sched.attention[..., t],
        allowance=allowance,
        on=on,
    )


def prior(s: Scenario) -> tuple[float, float]:
    """Beta prior (alpha, beta) from the prior mean and strength."""
    b = s.behaviour
    return b.prior_mean * b.prior_strength, (1.0 - b.prior_mean) * b.prior_strength


@element
def capacity_and_reserves(p: Params, capacity0, reserves0, pressure):
    """Capacity and reserves left after cuts (docs/ODD.md section 3): the double edge."""
    return (rules.eroded(capacity0, pressure, p.capacity_erosion),
            rules.eroded(reserves0, pressure, p.capacity_erosion))


@element
def review_probability(p: Params, pressure):
    """Chance each of an authority's in-house services comes up for review this year."""
    return rules.review_probability(p.review_rate, pressure, p.pressure_review)


class Outcomes(NamedTuple):
    """A year's outcomes seen by an authority: of its own mutuals and projects, its peer
    group's (including its own) or the nation's."""

    good: float  # good years of live mutuals
    bad: float  # bad years
    news: float  # bad news: abandoned projects, failures and lost contracts


@element
def evidence(p: Params, c: Year, own: Outcomes, group: Outcomes, national: Outcomes):
    """(good, bad) observations an authority takes from last year's :class:`Outcomes`. Bad news
    counts ``bad_news_weight`` bad years each."""
    good = rules.observed_evidence(own.good, group.good, national.good, p.peer_weight,
                                   c.national_weight)
    bad = rules.observed_evidence(own.bad, group.bad, national.bad, p.peer_weight, c.national_weight)
    news = rules.observed_evidence(own.news, group.news, national.news, p.peer_weight,
                                   c.national_weight)
    return good, bad + p.bad_news_weight * news


class AuthorityYear(NamedTuple):
    """An authority after its year (:func:`authority_year`)."""

    spending_power: float
    reference: float  # the spending power it is used to
    pressure: float  # felt (rules.felt_pressure): what motivation and reviews answer
    alpha: float
    beta: float
    capacity: float
    reserves: float
    p_review: float  # chance each in-house service comes up for review


@element
def authority_year(p: Params, c: Year, spending_power, reference, alpha, beta, deprivation, u, capacity0,
                   reserves0, own: Outcomes, group: Outcomes, national: Outcomes, n_preparing,
                   drawn) -> AuthorityYear:
    """An authority's year before its services' (ODD section 3, steps 1-3).

    ``reference`` is the spending power it was used to last year; ``u`` is its fiscal uniform;
    ``capacity0`` and ``reserves0`` its capacity and reserves
    before cuts; ``own``, ``group`` and ``national`` last year's :class:`Outcomes`;
    ``n_preparing`` its projects in preparation, which take up capacity; ``drawn`` the GBP m its
    earlier spin-outs drew from its reserves."""
    # noise scales the national change: with no change it changes nothing, so skip its log
    z = rules.unit_logistic(u) if c.national_change != 0.0 else 0.0
    change = rules.authority_change(c.national_change, deprivation, z, p.deprivation_gradient,
                                    p.noise_sd)
    spending_power = rules.spending_power_after(spending_power, change)
    pressure = rules.cumulative_pressure(spending_power)  # the whole cut erodes capacity
    felt = rules.felt_pressure(spending_power, reference)  # the cuts not yet adapted to
    good, bad = evidence(p, c, own, group, national)
    alpha = rules.updated_belief(alpha, p.prior_alpha, p.memory, good)
    beta = rules.updated_belief(beta, p.prior_beta, p.memory, bad)
    capacity, reserves = capacity_and_reserves(p, capacity0, reserves0, pressure)
    if n_preparing > 0.0:  # (with none, both rules leave their value as it is)
        capacity = rules.committed_capacity(capacity, n_preparing, p.capacity_per_project)
    if drawn > 0.0:
        reserves = rules.reserves_left(reserves, drawn)
    return AuthorityYear(spending_power=spending_power,
                         reference=rules.adapted_reference(reference, spending_power, p.pressure_adaptation),
                         pressure=felt, alpha=alpha, beta=beta, capacity=capacity, reserves=reserves,
                         p_review=review_probability(p, felt))


@element
def net_cost(p: Params, c: Year):
    """GBP m an authority must find up front for a spin-out this year."""
    return rules.net_transition_cost(p.transition_cost, c.cost_reduction, c.expected_grant)


@element
def proposal(c: Year, u_a, p_review):
    """(arrival, challenged): a review with chance ``p_review``, else a Right to Challenge bid,
    both from one uniform."""
    arrival = u_a < p_review + c.p_challenge
    return arrival, arrival and u_a >= p_review


@element
def choice_probabilities(p: Params, c: Year, cost, challenged, pressure, capacity, reserves,
                         alpha, beta, odds):
    """(chance of a mutual, its value, the other model's value) for a review of a service of
    yearly cost ``cost`` (the options appraisal), by an authority whose belief is Beta(alpha,
    beta) and whose risk odds are ``odds`` (see :func:`sim.rules.risk_odds`: fixed for a run, so
    computed once per authority). A review puts a mutual on the table with chance
    ``c.attention`` (a Right to Challenge bid always does). The chance of the other model,
    :func:`sim.rules.alternative_probability` of these, is needed only if no mutual is chosen."""
    net = net_cost(p, c)
    motivation = 1.0 + p.pressure_motivation * pressure
    utility = rules.decision_utility(
        rules.belief_mean(alpha, beta), rules.belief_sd(alpha, beta),
        p.savings_rate * p.payback_years * cost, p.failure_cost_share * cost * c.failure_cost_factor,
        net, odds, motivation,
    )
    other = rules.alternative_value(p.alternative_savings_rate, p.payback_years, cost, motivation)
    feasible = rules.feasibility(capacity, rules.affordability(reserves, net), challenged,
                                 p.challenge_capacity)
    if not challenged:
        feasible = feasible * c.attention
    p_adopt = rules.adoption_probability(utility, other, p.temperature, feasible, p.p, p.q, c.share)
    return p_adopt, utility, other


@element
def quiet(p: Params, c: Year, state, u_a, u_b, p_review):
    """Nothing happens to a service this year: in house with no proposal (and, without a ready
    team, none forming), delivered another way and not coming back, or returned after a failure.
    :func:`slot_year` would leave it as it is,
    with no event; the ensemble's loop skips it (a review arrives for about one service in ten
    a year)."""
    if state == IN_HOUSE:
        return not proposal(c, u_a, p_review)[0]
    if state == NOT_READY:
        return not proposal(c, u_a, p_review)[0] and not rules.team_formed(u_b, p.readiness_growth)
    if state == ALTERNATIVE:
        return not rules.released(u_a, p.alternative_release)
    return state == RETURNED


class SlotYear(NamedTuple):
    """A service after its year (:func:`slot_year`): its state and viability, and what
    happened."""

    state: int
    viability: float
    accepted: bool  # a mutual was approved
    launched: bool
    abandoned: bool
    good: bool  # a live mutual's good year
    bad: bool
    failed: bool
    challenged: bool  # an accepted Right to Challenge bid
    alternative: bool  # a review chose another delivery model
    lost: bool  # a mutual lost its contract


class Events(NamedTuple):
    """Counts of a year's events, over some authorities' services (:func:`authorities_year`)."""

    accepted: float  # mutuals approved
    launched: float
    abandoned: float
    failed: float
    challenged: float  # accepted Right to Challenge bids
    alternative: float  # reviews that chose another delivery model
    lost: float  # contracts lost by mutuals


EVENTS = Events._fields
"""The events counted per replicate and year, in the order of :class:`Events`."""


@element
def slot_year(p: Params, c: Year, state, viability, cost, u_a, u_b, p_review, pressure, capacity,
              reserves, alpha, beta, odds) -> SlotYear:
    """A service's year (ODD section 3, steps 5-8): proposal and options appraisal if in house
    (without a ready team only a Right to Challenge bid can make a mutual, and a team may form
    when no proposal arrives), abandonment or launch if in preparation, a good or bad year (and maybe failure or a lost
    contract) if spun out, the end of its contract if delivered another way.

    Authority values (p_review ... odds) are those of the service's authority. Both engines call
    this for every service; the decision is computed only where a proposal arrived."""
    accepted = launched = abandoned = good = bad = failed = challenged = alternative = False
    lost = False
    new_state = state
    if state == IN_HOUSE or state == NOT_READY:
        arrival, challenged = proposal(c, u_a, p_review)
        if arrival:
            usable = capacity if state == IN_HOUSE else 0.0
            p_adopt, utility, other = choice_probabilities(p, c, cost, challenged, pressure,
                                                           usable, reserves, alpha, beta, odds)
            accepted = u_b < p_adopt
            if accepted:
                # given approval (u_b < p_adopt), u_b / p_adopt is uniform on [0, 1): the new
                # mutual's latent viability is drawn from it
                viability = rules.viability_from_uniform(u_b / p_adopt, p.viability,
                                                         p.viability_spread)
                launched = c.instant > 0.0
                new_state = SPUN_OUT if launched else PREPARING
            elif other > 0.0 and u_b < p_adopt + rules.alternative_probability(
                    utility, other, p.temperature, p_adopt):
                alternative = True
                new_state = ALTERNATIVE
        elif state == NOT_READY and rules.team_formed(u_b, p.readiness_growth):
            new_state = IN_HOUSE
        challenged = challenged and accepted
    elif state == PREPARING:
        abandoned = rules.abandoned(u_a, c.abandon)
        launched = rules.launched(u_a, c.abandon, c.launch)
        new_state = IN_HOUSE if abandoned else (SPUN_OUT if launched else state)
    elif state == SPUN_OUT:
        good = rules.good_year(u_a, viability)
        bad = not good
        failed = rules.failed(u_a, u_b, viability, p.failure_given_struggle)
        lost = (not failed and p.contract_loss > 0.0
                and rules.contract_lost(u_a, u_b, viability, p.failure_given_struggle, p.contract_loss))
        new_state = RETURNED if failed else (ALTERNATIVE if lost else state)
    elif state == ALTERNATIVE:
        new_state = IN_HOUSE if rules.released(u_a, p.alternative_release) else state
    return SlotYear(state=new_state, viability=viability, accepted=accepted, launched=launched,
                    abandoned=abandoned, good=good, bad=bad, failed=failed, challenged=challenged,
                    alternative=alternative, lost=lost)


def books(s: Scenario, ctx: YearContext, preparing, accepted) -> tuple[dict, dict]:
    """(GBP m spent per instrument, share of requests met per instrument) this year, given the
    projects ``preparing`` at its start and ``accepted`` in it (see
    :meth:`sim.scenario._Instrument.spend`)."""
    spend, met = {}, {}
    for name, inst in s.support.instruments().items():
        spend[name], met[name] = inst.spend(ctx.on[name], ctx.allowance[name], preparing, accepted)
    return spend, met


MEASURES = (
    "authorities_with_mutual", "share_with_mutual", "live_mutuals", "cumulative_spinouts",
    "in_preparation", "abandoned", "failures", "returned_in_house", "savings",
    "support_spent", "cumulative_support_spent", "alternative_delivery", "lost_contracts",
    *(f"spent_{name}" for name in INSTRUMENTS),
    "mean_belief", "mean_spending_power", "challenges",
)
"""Per replicate and year. Counts are numbers of authorities or mutuals; money is GBP m (savings
and support in the year, cumulative support since the start); beliefs and spending power are
means over authorities."""


STATE_MEASURES = ("authorities_with_mutual", "live_mutuals", "in_preparation", "returned_in_house",
                  "alternative_delivery", "savings", "mean_belief", "mean_spending_power")


class Tally(NamedTuple):
    """An authority's services, counted by state (:func:`count_slot`)."""

    live: float
    live_cost: float  # summed yearly cost of the services its live mutuals run
    preparing: float
    returned: float
    other: float  # delivered another way


class Totals(NamedTuple):
    """A replicate's running totals over its authorities (:func:`add_authority`)."""

    with_mutual: float  # authorities running at least one live mutual
    live: float
    preparing: float
    returned: float
    other: float
    savings: float
    belief: float  # summed over authorities
    power: float  # spending power, summed


ZERO_TALLY = Tally(0.0, 0.0, 0.0, 0.0, 0.0)
ZERO_TOTALS = Totals(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@element
def count_slot(tally: Tally, state, cost) -> Tally:
    """One service added to its authority's tally."""
    t = tally
    if state == SPUN_OUT:
        return Tally(t.live + 1, t.live_cost + cost, t.preparing, t.returned, t.other)
    if state == PREPARING:
        return Tally(t.live, t.live_cost, t.preparing + 1, t.returned, t.other)
    if state == RETURNED:
        return Tally(t.live, t.live_cost, t.preparing, t.returned + 1, t.other)
    if state == ALTERNATIVE:
        return Tally(t.live, t.live_cost, t.preparing, t.returned, t.other + 1)
    return t


@element
def add_authority(totals: Totals, tally: Tally, spending_power, alpha, beta, savings_rate) -> Totals:
    """A replicate's running totals with one authority's tally and values added."""
    s, t = totals, tally
    return Totals(s.with_mutual + (t.live > 0), s.live + t.live, s.preparing + t.preparing,
                  s.returned + t.returned, s.other + t.other,
                  s.savings + savings_rate * t.live_cost * spending_power,
                  s.belief + rules.belief_mean(alpha, beta), s.power + spending_power)


@element
def replicate_measures(state, first_slot, slot_cost, spending_power, alpha, beta, savings_rate):
    """:data:`STATE_MEASURES` of one replicate, from its services' states (N,) and its
    authorities' spending power and beliefs (A,); authority ``a`` owns services ``first_slot[a]``
    to ``first_slot[a + 1] - 1``. Sums run over authorities in order, each over its services in
    order: the ensemble engine's loop, which tallies as it goes, adds in the same order."""
    A = spending_power.shape[0]
    totals = ZERO_TOTALS
    for a in range(A):
        tally = ZERO_TALLY
        for j in range(first_slot[a], first_slot[a + 1]):
            tally = count_slot(tally, state[j], slot_cost[j])
        totals = add_authority(totals, tally, spending_power[a], alpha[a], beta[a], savings_rate)
    return finish_measures(totals, A)


@element
def finish_measures(totals: Totals, A):
    """:data:`STATE_MEASURES` from a replicate's totals (:func:`add_authority`)."""
    t = totals
    return t.with_mutual, t.live, t.preparing, t.returned, t.other, t.savings, t.belief / A, t.power / A


@_compiled.njit()
def state_measures(state, first_slot, slot_cost, spending_power, alpha, beta, savings_rate):
    """:func:`replicate_measures` of each of R replicates (R, 8): state (R, N), the rest (R, A)."""
    out = np.empty((state.shape[0], len(STATE_MEASURES)))
    for r in range(state.shape[0]):
        out[r] = replicate_measures(state[r], first_slot, slot_cost, spending_power[r],
                                    alpha[r], beta[r], savings_rate)
    return out


def observe(structure: Structure, values: np.ndarray, counters: dict) -> dict:
    """The measures of one year, each an (R,) array, from :func:`state_measures` (R, 8) and the
    year's counters."""
    out = dict(zip(STATE_MEASURES, values.T, strict=True))
    out["share_with_mutual"] = out["authorities_with_mutual"] / structure.n_authorities
    out.update(counters)
    return out


def readiness_draws(structure: Structure, s: Scenario, random) -> np.ndarray | None:
    """The uniforms (N,) that decide which services have a ready team at the start, drawn by
    ``random`` (a generator's ``random``) after the population's; None, and nothing drawn, when
    every service is ready (``population.ready_share`` 1), so that the random stream is the one
    of the model without the mechanism."""
    return None if s.population.ready_share >= 1.0 else random(structure.n_slots)


def initial_state(structure: Structure, s: Scenario, initial_adopter, ready=None):
    """Slot states (int8) and viabilities at t=0, C-ordered: each initial adopter runs one live
    mutual, in its first service, of average viability; a service whose uniform in ``ready``
    (..., N; from :func:`readiness_draws`, or None) is at or above ``population.ready_share`` has
    no ready team. ``initial_adopter`` is (..., A) bool."""
    state = np.full(initial_adopter.shape[:-1] + (structure.n_slots,), IN_HOUSE, dtype=np.int8)
    if ready is not None:
        state[np.asarray(ready) >= s.population.ready_share] = NOT_READY
    viability = np.zeros(state.shape)
    first = structure.authority_starts
    state[..., first] = np.where(initial_adopter, SPUN_OUT, state[..., first])
    viability[..., first] = np.where(initial_adopter, s.mutuals.viability, 0.0)
    return state, viability


COUNTERS = ("cumulative_spinouts", "abandoned", "failures", "challenges", "lost_contracts",
            "cumulative_support_spent")


def first_tally(n_initial) -> dict:
    """Counters at t=0."""
    zero = n_initial * 0.0
    out = {name: zero for name in COUNTERS}
    out["cumulative_spinouts"] = n_initial + zero
    out["support_spent"] = zero
    out.update({f"spent_{k}": zero for k in INSTRUMENTS})
    return out


def tally(previous: dict, launched, abandoned, failed, challenged, lost, spend: dict) -> dict:
    """This year's counters from last year's and this year's events (counts) and spending."""
    spent = 0.0
    for value in spend.values():
        spent = spent + value
    out = {
        "cumulative_spinouts": previous["cumulative_spinouts"] + launched,
        "abandoned": previous["abandoned"] + abandoned,
        "failures": previous["failures"] + failed,
        "challenges": previous["challenges"] + challenged,
        "lost_contracts": previous["lost_contracts"] + lost,
        "support_spent": spent,
        "cumulative_support_spent": previous["cumulative_support_spent"] + spent,
    }
    out.update({f"spent_{k}": v for k, v in spend.items()})
    return out


@element
def pooled(group_of, own):
    """Totals of per-authority counts ``own`` (k, A): per peer group (k, G), where authority
    ``a`` is in group ``group_of[a]``, and nationally (k,). Authorities are sorted by group (see
    :mod:`sim.population`); counts are whole numbers, so the sums are exact in any order."""
    k, A = own.shape
    group = np.zeros((k, group_of[A - 1] + 1))
    national = np.zeros(k)
    for i in range(k):
        for a in range(A):
            group[i, group_of[a]] += own[i, a]
            national[i] += own[i, a]
    return group, national


class Authorities(NamedTuple):
    """One replicate's authorities, arrays of shape (A,) (``own``: (4, A)), as
    :func:`authorities_year` reads them; the last six are updated in place."""

    deprivation: np.ndarray
    capacity0: np.ndarray  # before cuts
    reserves0: np.ndarray
    odds: np.ndarray  # its risk premium's weight (sim.rules.risk_odds)
    spending_power: np.ndarray
    reference: np.ndarray  # the spending power it is used to
    alpha: np.ndarray
    beta: np.ndarray
    drawn: np.ndarray  # GBP m its spin-outs have drawn from its reserves
    own: np.ndarray  # last year's good years, bad years, bad news; projects in preparation


LAUNCHED, GOOD, BAD, FAILED, LOST = 1, 2, 4, 8, 16
"""Bits of ``happened[j]`` (:func:`authorities_year`): what happened to service j this year
that a Mesa agent acts on (a launch creates a :class:`sim.agents.Mutual`; a live mutual's good or
bad year, failure or lost contract is recorded on it)."""


@element
def authorities_year(p: Params, c: Year, first, last, group_of, first_slot, slot_cost, u, slot, viability,
                     st: Authorities, group, national: Outcomes, savings_rate, happened):
    """The year of authorities ``first`` to ``last - 1`` of one replicate and of their services:
    the order of a year, written once (ODD section 3). The ensemble engine calls it for all the
    authorities of each replicate, a Mesa agent for itself alone.

    Each authority has its year (:func:`authority_year`: cuts, learning from last year's
    ``own``, ``group`` and ``national`` outcomes, capacity and reserves), then each of its
    services has its own (:func:`slot_year`) with the authority's new values; a service to which
    nothing can happen (:func:`quiet`) is only tallied. ``u`` is the replicate's year of
    uniforms, [fiscal per authority | u_a per service | u_b per service]. ``slot``, ``viability``,
    the authorities' changing values and ``own`` are updated in place; ``happened[j]`` gets the
    bits :data:`LAUNCHED` ... :data:`LOST` of every service that was not quiet (pass an empty
    array to record nothing). Returns the
    :class:`Events` of these services and the :class:`Totals` of these authorities after the
    year (their tally is kept as the services are visited, in :func:`replicate_measures`'s
    order)."""
    A, N = st.spending_power.shape[0], slot.shape[0]
    record = happened.shape[0] > 0  # an empty array: nothing to record
    own = st.own
    n_accepted = n_launched = n_abandoned = n_failed = n_challenged = n_other = n_lost = 0
    up_front = p.reserves_drawdown * net_cost(p, c)
    totals = ZERO_TOTALS
    for a in range(first, last):
        g = group_of[a]
        it = authority_year(
            p, c, st.spending_power[a], st.reference[a], st.alpha[a], st.beta[a], st.deprivation[a], u[a],
            st.capacity0[a],
            st.reserves0[a], Outcomes(own[0, a], own[1, a], own[2, a]), Outcomes(group[0, g], group[1, g], group[2, g]),
            national, own[3, a], st.drawn[a])
        st.spending_power[a], st.reference[a] = it.spending_power, it.reference
        st.alpha[a], st.beta[a] = it.alpha, it.beta
        n_good = n_bad = n_news = 0.0
        tally = ZERO_TALLY
        for j in range(first_slot[a], first_slot[a + 1]):
            if quiet(p, c, slot[j], u[A + j], u[A + N + j], it.p_review):
                tally = count_slot(tally, slot[j], slot_cost[j])
                continue
            res = slot_year(p, c, slot[j], viability[j], slot_cost[j], u[A + j], u[A + N + j], it.p_review,
                            it.pressure, it.capacity, it.reserves, it.alpha, it.beta, st.odds[a])
            slot[j], viability[j] = res.state, res.viability
            if record:
                happened[j] = (LAUNCHED * res.launched + GOOD * res.good + BAD * res.bad + FAILED * res.failed
                               + LOST * res.lost)
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
            tally = count_slot(tally, slot[j], slot_cost[j])
            if res.accepted:
                st.drawn[a] += up_front
        own[0, a], own[1, a], own[2, a], own[3, a] = n_good, n_bad, n_news, tally.preparing
        totals = add_authority(totals, tally, it.spending_power, it.alpha, it.beta, savings_rate)
    events = Events(accepted=float(n_accepted), launched=float(n_launched), abandoned=float(n_abandoned),
                    failed=float(n_failed), challenged=float(n_challenged), alternative=float(n_other),
                    lost=float(n_lost))
    return events, totals
