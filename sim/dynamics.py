"""One model year, composed from the rules: shared by the Mesa agents and the ensemble engine.

Each function is pure and elementwise over its arguments, so an agent calls it with its own
scalars and the ensemble engine with arrays of shape (replicates, authorities) or (replicates,
slots). Model-level quantities (support on offer, pooled evidence, the share of adopters) are
computed once per year from last year's state, so no decision depends on the order in which
authorities act.

Random numbers: each replicate's generator first draws the population's uniforms (see
:mod:`sim.population`), then, every year, one block of ``tape_width`` uniforms laid out as
[fiscal noise per authority | u_a per slot | u_b per slot]. A slot is in one state at a time, so
its two uniforms serve whichever event that state can have (review or challenge and approval;
abandonment or launch; a good or bad year and failure).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from . import rules
from .population import ServiceState, Structure
from .scenario import INSTRUMENTS, Scenario

IN_HOUSE, PREPARING, SPUN_OUT, RETURNED = (int(s) for s in ServiceState)


def tape_width(structure: Structure) -> int:
    """Uniforms each replicate draws per year."""
    return structure.n_authorities + 2 * structure.n_slots


def split_tape(u: np.ndarray, structure: Structure):
    """(fiscal z per authority, u_a per slot, u_b per slot) from one year's uniforms."""
    a, n = structure.n_authorities, structure.n_slots
    return ndtri(u[..., :a]), u[..., a:a + n], u[..., a + n:]


@dataclass(frozen=True)
class YearContext:
    """What every authority faces this year, set from last year's state (model level)."""

    year: int
    national_change: float
    share: np.ndarray | float  # share of authorities running a mutual, last year
    national_weight: float
    p_challenge: float
    cost_reduction: np.ndarray | float
    expected_grant: np.ndarray | float
    failure_cost_factor: float
    preparation_years: np.ndarray | float
    launch: np.ndarray | float
    abandon: np.ndarray | float
    allowance: dict[str, float]
    on: dict[str, float]  # share of the year each instrument is active (0 if unfunded)
    advice_paid: np.ndarray | float


def year_context(s: Scenario, year: int, share, n_preparing, grant_share) -> YearContext:
    """Support on offer and national conditions for the year ending at ``year``.

    ``share``, ``n_preparing`` and ``grant_share`` (the share of grant requests met last year)
    describe last year's state: scalars for one model, arrays of shape (R, 1) for an ensemble.
    """
    y0, y1 = float(year - 1), float(year)
    sup = s.support
    allowance, on = {}, {}
    for name in INSTRUMENTS:
        inst = getattr(sup, name)
        on[name], allowance[name] = 0.0, 0.0
        for w in inst.windows():
            frac = float(rules.active_fraction(y0, y1, w.start, w.end))
            funded = inst.rate > 0 if name == "right_to_challenge" else w.budget > 0
            on[name] = min(1.0, on[name] + (frac if funded else 0.0))
            allowance[name] += w.budget * frac * (y1 - y0) / (w.end - w.start)
    adv = sup.advice
    demand = n_preparing * adv.per_project
    advice_paid, met = rules.ration(demand, allowance["advice"])
    coverage = met * (1.0 if on["advice"] > 0 else 0.0)
    cost_reduction = rules.combined_reduction(
        adv.cost_reduction * coverage,
        sup.tested_models.cost_reduction * on["tested_models"],
        sup.barriers.cost_reduction * on["barriers"],
    )
    time_reduction = rules.combined_reduction(
        adv.time_reduction * coverage, sup.tested_models.time_reduction * on["tested_models"]
    )
    prep = rules.preparation_years(s.mutuals.preparation_years, time_reduction)
    grant_offer = sup.grants.per_spinout if on["grants"] > 0 else 0.0
    return YearContext(
        year=year,
        national_change=s.fiscal.trajectory.get(year, s.fiscal.later_change) * s.fiscal.severity,
        share=share,
        national_weight=s.behaviour.national_weight + sup.evidence.visibility * on["evidence"],
        p_challenge=sup.right_to_challenge.rate * on["right_to_challenge"],
        cost_reduction=cost_reduction,
        expected_grant=grant_offer * grant_share,
        failure_cost_factor=1.0 - sup.barriers.risk_reduction * on["barriers"],
        preparation_years=prep,
        launch=rules.launch_probability(prep),
        abandon=s.mutuals.abandon_rate * (1.0 - adv.abandon_reduction * coverage),
        allowance=allowance,
        on=on,
        advice_paid=advice_paid,
    )


def prior(s: Scenario) -> tuple[float, float]:
    """Beta prior (alpha, beta) from the prior mean and strength."""
    b = s.behaviour
    return b.prior_mean * b.prior_strength, (1.0 - b.prior_mean) * b.prior_strength


def authority_year(s: Scenario, ctx: YearContext, spending_power, alpha, beta, deprivation, z,
                   capacity0, reserves0, own, group, national):
    """An authority's fiscal, capacity and learning steps (MODEL.md section 3, steps 1-3).

    ``own``, ``group`` and ``national`` are (good, bad) counts of last year's outcomes."""
    f, b = s.fiscal, s.behaviour
    change = rules.authority_change(ctx.national_change, deprivation, z,
                                    f.deprivation_gradient, f.noise_sd)
    spending_power = rules.spending_power_after(spending_power, change)
    pressure = rules.cumulative_pressure(spending_power)
    capacity = rules.eroded(capacity0, pressure, b.capacity_erosion)
    reserves = rules.eroded(reserves0, pressure, b.capacity_erosion)
    good = rules.observed_evidence(own[0], group[0], national[0], b.peer_weight, ctx.national_weight)
    bad = rules.observed_evidence(own[1], group[1], national[1], b.peer_weight, ctx.national_weight)
    prior_alpha, prior_beta = prior(s)
    alpha, beta = rules.updated_belief(alpha, beta, prior_alpha, prior_beta, b.memory, good, bad)
    mean, sd = rules.belief_moments(alpha, beta)
    return dict(spending_power=spending_power, pressure=pressure, capacity=capacity,
                reserves=reserves, alpha=alpha, beta=beta, mean=mean, sd=sd)


def slot_year(s: Scenario, ctx: YearContext, state, viability, cost, u_a, u_b, pressure,
              capacity, reserves, mean, sd, risk_aversion):
    """A service's year (MODEL.md section 3, steps 4-7): proposal and decision if in house,
    abandonment or launch if in preparation, a good or bad year (and maybe failure) if spun out.

    Authority values (pressure ... risk_aversion) are those of the slot's authority."""
    b, m = s.behaviour, s.mutuals
    in_house, preparing, live = state == IN_HOUSE, state == PREPARING, state == SPUN_OUT
    # proposals: a review, else a Right to Challenge bid, from one uniform
    p_review = rules.review_probability(b.review_rate, pressure, b.pressure_review)
    arrival = u_a < p_review + ctx.p_challenge
    challenged = arrival & (u_a >= p_review)
    # decision
    net_cost = rules.net_transition_cost(m.transition_cost, ctx.cost_reduction, ctx.expected_grant)
    utility = rules.decision_utility(
        mean, sd, b.savings_rate * b.payback_years * cost,
        b.failure_cost_share * cost * ctx.failure_cost_factor, net_cost, risk_aversion,
        1.0 + b.pressure_motivation * pressure,
    )
    feasible = rules.feasibility(capacity, rules.affordability(reserves, net_cost), challenged,
                                 b.challenge_capacity)
    p_adopt = rules.adoption_probability(utility, b.temperature, feasible, b.p, b.q, ctx.share)
    accepted = in_house & arrival & (u_b < p_adopt)
    # given approval, u_b / p_adopt is uniform on [0, 1): the new mutual's latent viability
    fresh = rules.viability_from_uniform(u_b / np.where(p_adopt > 0.0, p_adopt, 1.0),
                                         m.viability, m.viability_spread)
    instant = accepted & (ctx.preparation_years <= 0.0)
    # pipeline
    abandoned, launched = rules.pipeline_outcome(u_a, ctx.abandon, ctx.launch)
    abandoned, launched = abandoned & preparing, launched & preparing
    # operation
    good, bad, failed = rules.operation_outcome(u_a, u_b, viability, m.failure_given_struggle)
    good, bad, failed = good & live, bad & live, failed & live
    new_state = np.where(accepted, np.where(instant, SPUN_OUT, PREPARING),
                         np.where(abandoned, IN_HOUSE,
                                  np.where(launched, SPUN_OUT,
                                           np.where(failed, RETURNED, state))))
    return dict(state=new_state, viability=np.where(accepted, fresh, viability),
                accepted=accepted, launched=launched | instant, abandoned=abandoned,
                good=good, bad=bad, failed=failed, challenged=challenged & accepted)


def grants_paid(s: Scenario, ctx: YearContext, n_accepted):
    """Grants paid this year, pro rata within the allowance: (paid GBP m, share of requests met)."""
    offer = s.support.grants.per_spinout if ctx.on["grants"] > 0 else 0.0
    return rules.ration(n_accepted * offer, ctx.allowance["grants"])


MEASURES = (
    "authorities_with_mutual", "share_with_mutual", "live_mutuals", "cumulative_spinouts",
    "in_preparation", "abandoned", "failures", "returned_in_house", "savings",
    "support_spent", "cumulative_support_spent", "spent_grants", "spent_advice",
    "spent_evidence", "spent_tested_models", "spent_barriers", "spent_right_to_challenge",
    "mean_belief", "mean_spending_power", "challenges",
)
"""Per replicate and year. Counts are numbers of authorities or mutuals; money is GBP m (savings
and support in the year, cumulative support since the start); beliefs and spending power are
means over authorities."""


def ordered_sum(x):
    """Sum over the last axis in a fixed, sequential order, so that a row's total does not
    depend on how many rows are stacked with it (numpy's pairwise ``sum`` can)."""
    return np.cumsum(x, axis=-1)[..., -1]


def observe(structure: Structure, s: Scenario, state, spending_power, mean_belief,
            counters: dict) -> dict:
    """The measures of one year from state arrays of shape (R, N) / (R, A) (R may be 1)."""
    live = state == SPUN_OUT
    with_mutual = np.maximum.reduceat(live, structure.authority_starts, axis=-1)
    n_with = with_mutual.sum(axis=-1)
    sp_slot = spending_power[..., structure.slot_authority]
    savings = np.where(live, s.behaviour.savings_rate * structure.slot_cost * sp_slot, 0.0)
    out = {
        "authorities_with_mutual": n_with,
        "share_with_mutual": n_with / structure.n_authorities,
        "live_mutuals": live.sum(axis=-1),
        "in_preparation": (state == PREPARING).sum(axis=-1),
        "returned_in_house": (state == RETURNED).sum(axis=-1),
        "savings": ordered_sum(savings),
        "mean_belief": ordered_sum(mean_belief) / structure.n_authorities,
        "mean_spending_power": ordered_sum(spending_power) / structure.n_authorities,
    }
    out.update(counters)
    return out


SPENDING = ("grants", "advice", "evidence", "tested_models", "barriers", "right_to_challenge")


def spending(ctx: YearContext, grants: np.ndarray | float) -> dict:
    """GBP m spent this year per instrument: grants and advice as rationed, the programmes their
    whole allowance while active, Right to Challenge nothing (a statutory right)."""
    return {
        "grants": grants,
        "advice": ctx.advice_paid,
        "evidence": ctx.allowance["evidence"] if ctx.on["evidence"] > 0 else 0.0,
        "tested_models": ctx.allowance["tested_models"] if ctx.on["tested_models"] > 0 else 0.0,
        "barriers": ctx.allowance["barriers"] if ctx.on["barriers"] > 0 else 0.0,
        "right_to_challenge": 0.0,
    }


def initial_state(structure: Structure, s: Scenario, initial_adopter):
    """Slot states and viabilities at t=0: each initial adopter runs one live mutual, in its
    first service, of average viability. ``initial_adopter`` is (..., A) bool."""
    first_slot = np.zeros(structure.n_slots, dtype=bool)
    first_slot[structure.authority_starts] = True
    live = first_slot & initial_adopter[..., structure.slot_authority]
    state = np.where(live, SPUN_OUT, IN_HOUSE)
    viability = np.where(live, s.mutuals.viability, 0.0)
    return state, viability


COUNTERS = ("cumulative_spinouts", "abandoned", "failures", "challenges",
            "cumulative_support_spent")


def first_tally(n_initial) -> dict:
    """Counters at t=0."""
    zero = n_initial * 0.0
    out = {name: zero for name in COUNTERS}
    out["cumulative_spinouts"] = n_initial + zero
    out["support_spent"] = zero
    out.update({f"spent_{k}": zero for k in SPENDING})
    return out


def tally(previous: dict, launched, abandoned, failed, challenged, spend: dict) -> dict:
    """This year's counters from last year's and this year's events (counts) and spending."""
    spent = 0.0
    for value in spend.values():
        spent = spent + value
    out = {
        "cumulative_spinouts": previous["cumulative_spinouts"] + launched,
        "abandoned": previous["abandoned"] + abandoned,
        "failures": previous["failures"] + failed,
        "challenges": previous["challenges"] + challenged,
        "support_spent": spent,
        "cumulative_support_spent": previous["cumulative_support_spent"] + spent,
    }
    out.update({f"spent_{k}": v for k, v in spend.items()})
    return out


def pooled(structure: Structure, own):
    """Group and national totals of per-authority counts (..., A), broadcast back to (..., A)
    and (..., 1). Counts are whole numbers, so the sums are exact in any order."""
    group = np.add.reduceat(own, structure.group_starts, axis=-1)[..., structure.group]
    return group, own.sum(axis=-1, keepdims=True)
