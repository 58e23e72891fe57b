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

from . import rules
from .population import ServiceState, Structure
from .scenario import INSTRUMENTS, Scenario

IN_HOUSE, PREPARING, SPUN_OUT, RETURNED = (int(s) for s in ServiceState)


def tape_width(structure: Structure) -> int:
    """Uniforms each replicate draws per year."""
    return structure.n_authorities + 2 * structure.n_slots


def split_tape(u: np.ndarray, structure: Structure):
    """(fiscal noise per authority, u_a per slot, u_b per slot) from one year's uniforms."""
    a, n = structure.n_authorities, structure.n_slots
    return rules.unit_logistic(u[..., :a]), u[..., a:a + n], u[..., a + n:]


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
    on: dict[str, float]  # each instrument's strength this year: share of the year active,
    # times (for programmes) the share of the full-effect budget funded; 0 if unfunded
    advice_paid: np.ndarray | float

    def take(self, replicate: np.ndarray) -> YearContext:
        """The context seen by elements belonging to the given replicates (ensemble engine)."""
        picked = {k: (v[replicate] if isinstance(v, np.ndarray) and v.ndim else v)
                  for k, v in self.__dict__.items()}
        return YearContext(**picked)


def year_context(s: Scenario, year: int, share, n_preparing, grant_share) -> YearContext:
    """Support on offer and national conditions for the year ending at ``year``.

    ``share``, ``n_preparing`` and ``grant_share`` (the share of grant requests met last year)
    describe last year's state: scalars for one model, arrays of shape (R,) for an ensemble.
    """
    y0, y1 = float(year - 1), float(year)
    sup = s.support
    allowance, on = {}, {}
    for name in INSTRUMENTS:
        inst = getattr(sup, name)
        on[name], allowance[name] = 0.0, 0.0
        for w in inst.windows():
            frac = float(rules.active_fraction(y0, y1, w.start, w.end))
            per_year = w.budget / (w.end - w.start)
            if name == "right_to_challenge":
                strength = 1.0 if inst.rate > 0 else 0.0
            elif hasattr(inst, "full_effect_budget"):  # programmes: effect grows with money
                strength = min(1.0, per_year / inst.full_effect_budget)
            else:  # grants and advice: money rationed per project
                strength = 1.0 if w.budget > 0 else 0.0
            on[name] = min(1.0, on[name] + frac * strength)
            allowance[name] += per_year * frac * (y1 - y0)
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
                   own, group, national):
    """An authority's fiscal and learning steps (MODEL.md section 3, steps 1 and 3).

    ``own``, ``group`` and ``national`` are (good, bad) counts of last year's outcomes."""
    f, b = s.fiscal, s.behaviour
    change = rules.authority_change(ctx.national_change, deprivation, z,
                                    f.deprivation_gradient, f.noise_sd)
    spending_power = rules.spending_power_after(spending_power, change)
    pressure = rules.cumulative_pressure(spending_power)
    good = rules.observed_evidence(own[0], group[0], national[0], b.peer_weight, ctx.national_weight)
    bad = rules.observed_evidence(own[1], group[1], national[1], b.peer_weight, ctx.national_weight)
    prior_alpha, prior_beta = prior(s)
    alpha, beta = rules.updated_belief(alpha, beta, prior_alpha, prior_beta, b.memory, good, bad)
    return dict(spending_power=spending_power, pressure=pressure, alpha=alpha, beta=beta)


def capacity_and_reserves(s: Scenario, capacity0, reserves0, pressure):
    """Capacity and reserves left after cuts (MODEL.md section 3, step 2): the double edge."""
    erosion = s.behaviour.capacity_erosion
    return rules.eroded(capacity0, pressure, erosion), rules.eroded(reserves0, pressure, erosion)


def review_probability(s: Scenario, pressure):
    """Chance each of an authority's in-house services comes up for review this year."""
    return rules.review_probability(s.behaviour.review_rate, pressure, s.behaviour.pressure_review)


def proposal(ctx: YearContext, u_a, p_review):
    """(arrival, challenged): a review with chance ``p_review``, else a Right to Challenge bid,
    both from one uniform."""
    arrival = u_a < p_review + ctx.p_challenge
    return arrival, arrival & (u_a >= p_review)


def approval_probability(s: Scenario, ctx: YearContext, cost, challenged, pressure, capacity,
                         reserves, alpha, beta, risk_aversion):
    """Chance a proposal for a service of yearly cost ``cost`` is approved (the decision), by an
    authority whose belief is Beta(alpha, beta)."""
    b, m = s.behaviour, s.mutuals
    mean, sd = rules.belief_moments(alpha, beta)
    net_cost = rules.net_transition_cost(m.transition_cost, ctx.cost_reduction, ctx.expected_grant)
    utility = rules.decision_utility(
        mean, sd, b.savings_rate * b.payback_years * cost,
        b.failure_cost_share * cost * ctx.failure_cost_factor, net_cost, risk_aversion,
        1.0 + b.pressure_motivation * pressure,
    )
    feasible = rules.feasibility(capacity, rules.affordability(reserves, net_cost), challenged,
                                 b.challenge_capacity)
    return rules.adoption_probability(utility, b.temperature, feasible, b.p, b.q, ctx.share)


def new_viability(s: Scenario, u_b, p_adopt):
    """Given approval (u_b < p_adopt), u_b / p_adopt is uniform on [0, 1): the new mutual's
    latent viability is drawn from it."""
    return rules.viability_from_uniform(u_b / np.where(p_adopt > 0.0, p_adopt, 1.0),
                                        s.mutuals.viability, s.mutuals.viability_spread)


def slot_year(s: Scenario, ctx: YearContext, state, viability, cost, u_a, u_b, p_review,
              pressure, capacity, reserves, alpha, beta, risk_aversion):
    """A service's year (MODEL.md section 3, steps 4-7): proposal and decision if in house,
    abandonment or launch if in preparation, a good or bad year (and maybe failure) if spun out.

    Authority values (p_review ... risk_aversion) are those of the service's authority. The Mesa
    agents call this for each service; the ensemble engine calls the same parts on the services
    in each state."""
    in_house, preparing, live = state == IN_HOUSE, state == PREPARING, state == SPUN_OUT
    arrival, challenged = proposal(ctx, u_a, p_review)
    p_adopt = approval_probability(s, ctx, cost, challenged, pressure, capacity, reserves, alpha,
                                   beta, risk_aversion)
    accepted = in_house & arrival & (u_b < p_adopt)
    instant = accepted & (ctx.preparation_years <= 0.0)
    abandoned, launched = rules.pipeline_outcome(u_a, ctx.abandon, ctx.launch)
    abandoned, launched = abandoned & preparing, launched & preparing
    good, bad, failed = rules.operation_outcome(u_a, u_b, viability, s.mutuals.failure_given_struggle)
    good, bad, failed = good & live, bad & live, failed & live
    new_state = np.where(accepted, np.where(instant, SPUN_OUT, PREPARING),
                         np.where(abandoned, IN_HOUSE,
                                  np.where(launched, SPUN_OUT,
                                           np.where(failed, RETURNED, state))))
    return dict(state=new_state,
                viability=np.where(accepted, new_viability(s, u_b, p_adopt), viability),
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
    """Sum over the last axis of a C-ordered copy, so that a row's total is the same bits
    whether it stands alone or among many rows (numpy sums each contiguous row with the same
    pairwise loop; a strided layout would take another path)."""
    return np.ascontiguousarray(x).sum(axis=-1)


def observe(structure: Structure, s: Scenario, state, spending_power, mean_belief,
            counters: dict, busy: np.ndarray | None = None) -> dict:
    """The measures of one year from state arrays of shape (R, N) / (R, A) (R may be 1);
    ``mean_belief`` is each authority's belief mean.

    Counts per authority come from ``bincount`` of the live services, so every sum is exact or
    taken in a fixed order whatever R is."""
    R, N = state.shape
    A = structure.n_authorities
    if busy is None:  # flat indices of the services not in house (the caller may know them)
        busy = np.flatnonzero(state.reshape(-1) != IN_HOUSE)
    busy_state = state.reshape(-1)[busy]
    rep_busy = busy // N
    flat = busy[busy_state == SPUN_OUT]
    rep, slot = np.divmod(flat, N)
    key = rep * A + structure.slot_authority[slot]
    live_per_authority = np.bincount(key, minlength=R * A).reshape(R, A)
    cost_per_authority = np.bincount(key, weights=structure.slot_cost[slot],
                                     minlength=R * A).reshape(R, A)
    n_with = np.count_nonzero(live_per_authority, axis=-1)
    out = {
        "authorities_with_mutual": n_with,
        "share_with_mutual": n_with / A,
        "live_mutuals": np.bincount(rep, minlength=R),
        "in_preparation": np.bincount(rep_busy[busy_state == PREPARING], minlength=R),
        "returned_in_house": np.bincount(rep_busy[busy_state == RETURNED], minlength=R),
        "savings": ordered_sum(s.behaviour.savings_rate * cost_per_authority * spending_power),
        "mean_belief": ordered_sum(mean_belief) / A,
        "mean_spending_power": ordered_sum(spending_power) / A,
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
