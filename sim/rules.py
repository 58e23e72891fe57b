"""The model's rules, each a pure function: numbers in, numbers out.

Each rule's docstring gives its units (inputs and output), its equation and the sources it rests
on, cited by key (``[@HC112, paras 50-51]``: the reference list of ``docs/ODD.md``, section
10), or says that it is an assumption and where the ODD describes it; ``docs/ODD.md`` section 9
gives every parameter's default and plausible range. Shares, chances and fractions are
dimensionless; money is GBP m; time is years.

Two kinds of rule:

- *Model-level rules* (support on offer, rationing) run once per replicate and year, on scalars or
  on arrays of replicates. They are plain numpy functions.
- *Element rules* run once per authority or service and year, about 30 million times for 10,000
  replicates. They are plain functions of scalars, compiled by Numba (``@rule``) on first use
  and cached on disk (:mod:`sim._compiled`). The Mesa agents call them with their own values;
  the ensemble engine calls them inside its compiled loop over replicates and elements
  (:mod:`sim.ensemble`). Either way the same machine code computes each value, so the two
  engines agree to the bit. For arrays, call them in a loop or with :func:`numpy.vectorize`.
"""

from __future__ import annotations

import math

import numpy as np

from . import _compiled

__all__ = [
    "active_fraction",
    "unit_logistic",
    "authority_change",
    "spending_power_after",
    "cumulative_pressure",
    "felt_pressure",
    "adapted_reference",
    "national_push",
    "national_attention",
    "team_formed",
    "eroded",
    "observed_evidence",
    "updated_belief",
    "belief_mean",
    "belief_sd",
    "review_probability",
    "kept_share",
    "net_transition_cost",
    "affordability",
    "feasibility",
    "committed_capacity",
    "reserves_left",
    "risk_odds",
    "decision_utility",
    "adoption_probability",
    "alternative_value",
    "alternative_probability",
    "preparation_years",
    "launch_probability",
    "abandoned",
    "launched",
    "viability_from_uniform",
    "good_year",
    "failed",
    "contract_lost",
    "released",
    "ration",
]


rule = _compiled.njit()
"""Declare an element rule: a scalar function compiled by Numba on first use (for each type of
its arguments), and cached on disk."""


# Model-level rules (numpy) ---------------------------------------------------------------------


def active_fraction(year_from, year_to, start, end):
    """Share of the model year [year_from, year_to) inside an instrument's window [start, end].

    Parameters
    ----------
    year_from, year_to : float
        The model year, decimal years.
    start, end : float
        The instrument's window, decimal years.

    Returns
    -------
    float
        Share of the year, in [0, 1].

    Notes
    -----
    ``f = clip((min(year_to, end) - max(year_from, start)) / (year_to - year_from), 0, 1)``.
    A definition (docs/ODD.md section 3, step 1). Numpy: scalars, or arrays that broadcast
    (every year of every scenario's window at once).

    >>> active_fraction(2011.0, 2012.0, 2011.92, 2014.0)  # Dec 2011 start
    0.08...
    """
    overlap = np.minimum(year_to, end) - np.maximum(year_from, start)
    return np.minimum(np.maximum(overlap / (year_to - year_from), 0.0), 1.0)


def kept_share(*reductions):
    """Share of a cost left after several independent reductions.

    Parameters
    ----------
    *reductions : numeric
        Shares removed, each in [0, 1].

    Returns
    -------
    numeric
        Share kept, ``prod(1 - r)`` (1 with none); the share removed is one minus it.

    Notes
    -----
    Assumption: the instruments' reductions act independently (docs/ODD.md section 3,
    *Instruments*)."""
    kept = 1.0
    for r in reductions:
        kept = kept * (1.0 - r)
    return kept


def preparation_years(base_years, reduction):
    """Mean years from approval to launch after advice and tested models shorten it.

    Parameters
    ----------
    base_years : numeric
        Mean preparation time before support, years (``mutuals.preparation_years``).
    reduction : numeric
        Combined share of the time saved, in [0, 1].

    Returns
    -------
    numeric
        Years, ``max(0, base_years (1 - reduction))``.

    Notes
    -----
    Assumption 1-3 years (Dec 2011: 8 of 21 pathfinders due to launch [@Guardian2011]);
    docs/ODD.md section 3, step 7."""
    return np.maximum(0.0, base_years * (1.0 - reduction))


def launch_probability(mean_years):
    """Yearly chance a project in preparation launches.

    Parameters
    ----------
    mean_years : numeric
        Mean preparation time, years.

    Returns
    -------
    numeric
        Chance per year: ``1 / mean_years`` if ``mean_years > 1``, else 1.

    Notes
    -----
    Assumption: a geometric waiting time of mean ``mean_years`` (docs/ODD.md section 3, step 7)."""
    return np.where(mean_years > 1.0, 1.0 / np.maximum(mean_years, 1.0), 1.0)


def national_push(allowance, attention_budget):
    """How strongly the centre pushes mutuals in a year.

    Parameters
    ----------
    allowance : numeric
        GBP m of national support (every instrument's budget) falling in the year.
    attention_budget : numeric
        GBP m a year that gives full attention (``behaviour.attention_budget``).

    Returns
    -------
    numeric
        In [0, 1], ``min(1, allowance / attention_budget)``.

    Notes
    -----
    Assumption 0.5-5 GBP m a year for the budget (docs/ODD.md section 3, step 1, *National
    attention*)."""
    return np.minimum(1.0, np.asarray(allowance) / attention_budget)


def national_attention(pushes, floor, memory):
    """Share of reviews in which a mutual is on the table, after a run of yearly pushes.

    Parameters
    ----------
    pushes : sequence of numeric
        :func:`national_push` of each year from the start up to this one, in order.
    floor : numeric
        Share without any attention (``behaviour.attention_floor``), in [0, 1].
    memory : numeric
        Share of last year's attention kept (``behaviour.attention_memory``), in [0, 1].

    Returns
    -------
    numeric
        ``floor + (1 - floor) h`` with ``h_t = max(push_t, memory h_(t-1))`` and ``h = 0``
        before the first year: attention rises at once with a push and fades geometrically
        after it; 1 whatever the pushes when ``floor`` is 1.

    Notes
    -----
    Assumption: the pathfinders, the Mutuals Taskforce and the Mutuals Support Programme put
    mutuals on councils' agendas [@HC112]; support was near nil from 2015 to 2017 (docs/ODD.md
    section 3, step 1, *National attention*)."""
    h = 0.0
    for push in pushes:
        h = np.maximum(push, memory * h)
    return floor + (1.0 - floor) * h


def ration(demand, allowance):
    """Pro-rata rationing of a budget: (paid, share of each request met). Order-free.

    Parameters
    ----------
    demand : numeric
        GBP m asked for this year.
    allowance : numeric
        GBP m available this year.

    Returns
    -------
    paid : numeric
        GBP m, ``min(demand, allowance)``.
    share : numeric
        Share of every request met, ``paid / demand`` (1 when nothing is asked for).

    Notes
    -----
    A definition: no instrument overspends (docs/ODD.md section 3, step 9)."""
    paid = np.minimum(demand, allowance)
    share = np.where(demand > 0.0, paid / np.where(demand > 0.0, demand, 1.0), 1.0)
    return paid, share


# Element rules (compiled) ----------------------------------------------------------------------


@rule
def unit_logistic(u):
    """Logistic noise of mean 0 and variance 1 from a uniform.

    Parameters
    ----------
    u : float
        Uniform draw on [0, 1).

    Returns
    -------
    float
        ``z = ln(u / (1 - u)) sqrt(3) / pi``, with ``u`` first clipped to [2^-53, 1 - 2^-53]
        (a logistic of scale ``sqrt(3) / pi`` has variance 1).

    Notes
    -----
    Assumption: bell-shaped like the normal, with heavier tails, and cheap to compute (one log);
    docs/ODD.md section 3, step 2."""
    u = min(max(u, 2.0**-53), 1.0 - 2.0**-53)
    return math.log(u / (1.0 - u)) * (math.sqrt(3.0) / math.pi)


@rule
def authority_change(national_change, deprivation, z, gradient, noise_sd):
    """An authority's real-terms change in spending power over one year.

    Parameters
    ----------
    national_change : float
        National change over the year, fraction (-0.05 is a 5% cut).
    deprivation : float
        The authority's deprivation score, 0-1 (0.5 is the middle).
    z : float
        Noise of mean 0 and variance 1 (:func:`unit_logistic`).
    gradient : float
        Extra cut per unit of deprivation above 0.5, relative.
    noise_sd : float
        Standard deviation of the authority's cut, relative.

    Returns
    -------
    float
        Change over the year, fraction:
        ``national_change max(0, 1 + gradient (deprivation - 0.5) + noise_sd z)``.

    Notes
    -----
    The multiplier is floored at zero: no authority gains from a cut. More deprived areas were
    cut more [@IFS2019], and cuts varied widely between authorities, 5% to 40% [@PAC2014];
    docs/ODD.md section 3, step 2."""
    multiplier = max(0.0, 1.0 + gradient * (deprivation - 0.5) + noise_sd * z)
    return national_change * multiplier


@rule
def spending_power_after(spending_power, change):
    """Spending power after a year's change.

    Parameters
    ----------
    spending_power : float
        Spending-power index (1.0 in 2010-11).
    change : float
        Change over the year, fraction.

    Returns
    -------
    float
        Index, ``spending_power max(0, 1 + change)``; never negative.

    Notes
    -----
    A definition; the national trajectory is in ``fiscal.trajectory`` [@NAO2018]."""
    return spending_power * max(0.0, 1.0 + change)


@rule
def cumulative_pressure(spending_power):
    """Cumulative fiscal pressure: the share of 2010-11 spending power lost.

    Parameters
    ----------
    spending_power : float
        Spending-power index (1.0 in 2010-11).

    Returns
    -------
    float
        Share, ``clip(1 - spending_power, 0, 1)``.

    Notes
    -----
    A definition (docs/ODD.md section 2)."""
    return min(max(1.0 - spending_power, 0.0), 1.0)


@rule
def felt_pressure(spending_power, reference):
    """Fiscal pressure an authority feels: the share it has lost of the spending power it is
    used to.

    Parameters
    ----------
    spending_power : float
        Spending-power index (1.0 in 2010-11).
    reference : float
        The spending power it is used to (:func:`adapted_reference`; 1.0 without adaptation).

    Returns
    -------
    float
        Share, ``clip(1 - spending_power / reference, 0, 1)``: :func:`cumulative_pressure` when
        ``reference`` is 1.

    Notes
    -----
    Assumption: motivation and reviews answer the cuts an authority has not yet adapted to
    (docs/ODD.md section 3, step 2, *Recent pressure*)."""
    return min(max(1.0 - spending_power / reference, 0.0), 1.0)


@rule
def adapted_reference(reference, spending_power, adaptation):
    """The spending power an authority is used to, after a year of adaptation.

    Parameters
    ----------
    reference : float
        Last year's reference, spending-power index.
    spending_power : float
        This year's spending power, index.
    adaptation : float
        Share of the gap closed in a year (``behaviour.pressure_adaptation``), in [0, 1].

    Returns
    -------
    float
        Index, ``reference + adaptation (spending_power - reference)``; ``reference`` itself
        when ``adaptation`` is 0.

    Notes
    -----
    Assumption 0-0.5 (docs/ODD.md section 3, step 2, *Recent pressure*)."""
    return reference + adaptation * (spending_power - reference)


@rule
def team_formed(u, growth):
    """An in-house service without a ready staff team gets one this year.

    Parameters
    ----------
    u : float
        Uniform draw on [0, 1).
    growth : float
        Chance per year (``population.readiness_growth``).

    Returns
    -------
    bool
        ``u < growth``.

    Notes
    -----
    Assumption 0-0.05 (docs/ODD.md section 3, step 5, *A finite pool of ready services*)."""
    return u < growth


@rule
def eroded(base, pressure, erosion):
    """Capacity or reserves left after cuts.

    Parameters
    ----------
    base : float
        Uneroded capacity (0-1) or reserves (GBP m).
    pressure : float
        Cumulative pressure, share of spending power lost (:func:`cumulative_pressure`).
    erosion : float
        Share of ``base`` lost per unit of pressure (``behaviour.capacity_erosion``).

    Returns
    -------
    float
        In the unit of ``base``: ``base clip(1 - erosion pressure, 0, 1)``.

    Notes
    -----
    Assumption 0.5-2.5: cuts are a double-edged sword [@HC112, para 93]; docs/ODD.md section 3,
    step 3."""
    return base * min(max(1.0 - erosion * pressure, 0.0), 1.0)


@rule
def observed_evidence(own, group, national, peer_weight, national_weight):
    """Evidence an authority takes from a year's outcomes.

    Parameters
    ----------
    own, group, national : float
        Outcomes of one kind (good years, bad years, or bad news) of its own mutuals, of its
        peer group's (``group`` includes its own) and of all (``national`` includes the group);
        counts.
    peer_weight, national_weight : float
        Weight of a peer's and of a non-peer's outcome against one's own (``national_weight``
        includes the evidence programme's visibility while it runs).

    Returns
    -------
    float
        Pseudo-observations,
        ``own + peer_weight (group - own) + national_weight (national - group)``.

    Notes
    -----
    Assumption: learning from others' outcomes, as among governments [@Shipan2008]; the
    weights are assumptions (docs/ODD.md section 4, *Learning*)."""
    return own + peer_weight * (group - own) + national_weight * (national - group)


@rule
def updated_belief(previous, prior, memory, observed):
    """One parameter of the Beta belief, updated with fading evidence.

    Parameters
    ----------
    previous : float
        Last year's alpha (or beta), pseudo-observations.
    prior : float
        The prior's alpha (or beta), pseudo-observations.
    memory : float
        Share of the accumulated evidence kept each year, 0-1.
    observed : float
        The year's observations, good for alpha, bad for beta (:func:`observed_evidence`).

    Returns
    -------
    float
        ``prior + memory (previous - prior) + observed``.

    Notes
    -----
    Beta-Bernoulli updating with forgetting, on the yearly chance that a mutual does well; an
    assumption (docs/ODD.md section 4, *Learning*)."""
    return prior + memory * (previous - prior) + observed


@rule
def belief_mean(alpha, beta):
    """Mean of a Beta(alpha, beta) belief.

    Parameters
    ----------
    alpha, beta : float
        The belief's parameters, pseudo-observations (> 0).

    Returns
    -------
    float
        Expected yearly chance that a mutual does well, ``alpha / (alpha + beta)``."""
    return alpha / (alpha + beta)


@rule
def belief_sd(alpha, beta):
    """Standard deviation of the Beta(alpha, beta) belief of :func:`belief_mean` (the same
    parameters): a chance per year, ``sqrt(alpha beta / ((alpha + beta)^2 (alpha + beta + 1)))``."""
    total = alpha + beta
    return math.sqrt(alpha * beta / (total * total * (total + 1.0)))


@rule
def review_probability(review_rate, pressure, pressure_review):
    """Chance a service comes up for review this year.

    Parameters
    ----------
    review_rate : float
        Chance per year without pressure.
    pressure : float
        Cumulative pressure, share of spending power lost.
    pressure_review : float
        Relative rise in the review rate per unit of pressure.

    Returns
    -------
    float
        Chance per year, ``clip(review_rate (1 + pressure_review pressure), 0, 1)``.

    Notes
    -----
    Assumption: pressure makes reviews more frequent, one edge of the sword [@HC112, para 93];
    docs/ODD.md section 3, step 5."""
    return min(max(review_rate * (1.0 + pressure_review * pressure), 0.0), 1.0)


@rule
def net_transition_cost(transition_cost, reduction, grant):
    """Up-front cost an authority must find for a spin-out.

    Parameters
    ----------
    transition_cost : float
        GBP m per spin-out before support.
    reduction : float
        Combined share of the cost removed by advice, tested models and barrier removal, 0-1.
    grant : float
        GBP m of grant expected.

    Returns
    -------
    float
        GBP m, ``max(0, transition_cost (1 - reduction) - grant)``.

    Notes
    -----
    Assumption 0.2-1.0 GBP m: setting up takes "significant time, effort and resource"
    [@HC112, paras 50-51]; docs/ODD.md section 4, *Individual decision-making*."""
    return max(0.0, transition_cost * (1.0 - reduction) - grant)


@rule
def affordability(reserves, net_cost):
    """Chance the up-front cost can be found.

    Parameters
    ----------
    reserves : float
        GBP m free for up-front investment.
    net_cost : float
        GBP m to find (:func:`net_transition_cost`).

    Returns
    -------
    float
        Chance, ``reserves / (reserves + net_cost)``; 1 if both are 0.

    Notes
    -----
    Assumption: start-up finance is a barrier [@HC112, paras 50-51]; docs/ODD.md section 4,
    *Individual decision-making*."""
    total = reserves + net_cost
    return reserves / total if total > 0.0 else 1.0


@rule
def feasibility(capacity, affordable, challenged, challenge_capacity):
    """Chance a wanted spin-out is feasible: capacity times affordability.

    Parameters
    ----------
    capacity : float
        The authority's capacity left, 0-1.
    affordable : float
        Chance the cost can be found (:func:`affordability`).
    challenged : bool
        Whether the proposal is a Right to Challenge bid.
    challenge_capacity : float
        Capacity a staff or community bid brings, 0-1.

    Returns
    -------
    float
        Chance, ``c affordable`` with ``c = max(capacity, challenge_capacity)`` for a bid and
        ``c = capacity`` otherwise.

    Notes
    -----
    Assumption (docs/ODD.md section 4, *Individual decision-making*)."""
    usable = max(capacity, challenge_capacity) if challenged else capacity
    return usable * affordable


@rule
def committed_capacity(capacity, n_preparing, per_project):
    """Capacity left for a new project while others are in preparation (finite capacity).

    Parameters
    ----------
    capacity : float
        Capacity after erosion, 0-1.
    n_preparing : int
        Projects the authority has in preparation.
    per_project : float
        Capacity each takes up, 0-1.

    Returns
    -------
    float
        ``max(capacity - per_project n_preparing, 0)``.

    Notes
    -----
    Assumption 0-0.4 per project: "significant time, effort and resource" [@HC112, para 51];
    docs/ODD.md section 3, step 3."""
    return max(capacity - per_project * n_preparing, 0.0)


@rule
def reserves_left(reserves, drawn):
    """Reserves free for up-front investment after earlier spin-outs.

    Parameters
    ----------
    reserves : float
        GBP m after erosion.
    drawn : float
        GBP m drawn for good by the authority's spin-outs so far.

    Returns
    -------
    float
        GBP m, ``max(reserves - drawn, 0)``.

    Notes
    -----
    Assumption: seedcorn capital comes from the council [@HC112, paras 50-51]; docs/ODD.md
    section 3, step 3."""
    return max(reserves - drawn, 0.0)


@rule
def risk_odds(risk_aversion):
    """The risk premium's weight for a risk aversion.

    Parameters
    ----------
    risk_aversion : float
        ``ra``, in [0, 1].

    Returns
    -------
    float
        ``ra / max(1 - ra, 1e-300)``: 0 for a risk-neutral authority, 1 at 0.5, and 1e300 at 1,
        where no uncertainty is accepted at all (finite, so that no stake gives an infinite or
        undefined premium).

    Notes
    -----
    Assumption (docs/ODD.md section 4, *Individual decision-making*)."""
    return risk_aversion / max(1.0 - risk_aversion, 1e-300)


@rule
def decision_utility(mean, sd, savings_value, failure_cost, net_cost, odds, motivation):
    """Certainty-equivalent value of a spin-out to an authority.

    Parameters
    ----------
    mean, sd : float
        Mean and standard deviation of the belief, chance per year (:func:`belief_mean`,
        :func:`belief_sd`).
    savings_value : float
        ``S``, GBP m of savings counted: ``savings_rate x payback_years x`` the service's yearly
        cost.
    failure_cost : float
        ``F``, GBP m lost if the mutual fails, after barrier removal.
    net_cost : float
        ``K``, GBP m up front (:func:`net_transition_cost`).
    odds : float
        The risk premium's weight (:func:`risk_odds`).
    motivation : float
        ``1 + pressure_motivation x pressure``, dimensionless.

    Returns
    -------
    float
        GBP m, ``motivation mean S - (1 - mean) F - K - odds sd (S + F)``; the premium
        ``odds sd (S + F)`` is 0 when ``sd (S + F)`` is.

    Notes
    -----
    A mean-variance certainty equivalent, an assumption holding the forces the Committee names
    (savings under pressure, caution about untried arrangements, up-front cost) [@HC112];
    docs/ODD.md section 4, *Individual decision-making*."""
    exposure = sd * (savings_value + failure_cost)
    premium = odds * exposure if exposure > 0.0 else 0.0
    return motivation * mean * savings_value - (1.0 - mean) * failure_cost - net_cost - premium


@rule
def alternative_value(alternative_savings_rate, payback_years, cost, motivation):
    """Value of another alternative delivery model for a service.

    Parameters
    ----------
    alternative_savings_rate : float
        Share of the service's cost it saves each year.
    payback_years : float
        Years of savings counted.
    cost : float
        The service's yearly cost, GBP m.
    motivation : float
        ``1 + pressure_motivation x pressure``, dimensionless, as for the mutual.

    Returns
    -------
    float
        GBP m, ``motivation alternative_savings_rate payback_years cost``; 0 when there is no
        alternative.

    Notes
    -----
    The council-owned company, outsourcing or shared service is better understood
    [@SteppingOut2014]: no risk premium, failure cost or transition cost. Assumption 0-0.08 for
    the rate (docs/ODD.md section 4, *Individual decision-making*)."""
    return motivation * alternative_savings_rate * payback_years * cost


@rule
def adoption_probability(utility, alternative, temperature, feasible, p, q, share):
    """Chance that a proposal is approved as a mutual this year (options appraisal with bounded
    rationality).

    Parameters
    ----------
    utility : float
        The mutual's value, GBP m (:func:`decision_utility`).
    alternative : float
        The other delivery model's value, GBP m, >= 0 (:func:`alternative_value`).
    temperature : float
        Scale of the bounded-rational choice, GBP m.
    feasible : float
        Chance the spin-out is feasible (:func:`feasibility`).
    p : float
        Diffusion's outside influence, chance per year.
    q : float
        Imitation, chance per year per share of authorities adopted.
    share : float
        Share of authorities already running a mutual.

    Returns
    -------
    float
        Chance, ``clip(feasible (v + p + q share), 0, 1)`` with
        ``v = 1 - exp(-(utility - alternative) / temperature)`` if the margin is positive, else
        0.

    Notes
    -----
    The review weighs the mutual against staying in house (value 0) and the other model
    (``alternative`` >= 0): the mutual must beat both. The terms ``p`` and ``q`` are Bass's
    [@Bass1969], 0 except in the docking case (p = 0.03, q = 0.38 [@Sultan1990]). With no
    alternative (0) this is the two-way choice of earlier versions, to the bit. The form of the
    choice is an assumption (docs/ODD.md section 4, *Individual decision-making*)."""
    margin = utility - alternative
    value = -math.expm1(-margin * (1.0 / temperature)) if margin > 0.0 else 0.0
    return min(max(feasible * (value + p + q * share), 0.0), 1.0)


@rule
def alternative_probability(utility, alternative, temperature, p_adopt):
    """Chance the review ends in the other delivery model instead.

    Parameters
    ----------
    utility, alternative : float
        Values of the mutual and of the other model, GBP m.
    temperature : float
        Scale of the bounded-rational choice, GBP m.
    p_adopt : float
        Chance of the mutual (:func:`adoption_probability`).

    Returns
    -------
    float
        Chance, ``min(1 - exp(-m / temperature), 1 - p_adopt)`` for the margin
        ``m = alternative - max(utility, 0)`` if it is positive, else 0.

    Notes
    -----
    Assumption (docs/ODD.md section 4, *Individual decision-making*); the alternatives are
    those of [@SteppingOut2014]."""
    margin = alternative - max(utility, 0.0)
    value = -math.expm1(-margin * (1.0 / temperature)) if margin > 0.0 else 0.0
    return min(value, 1.0 - p_adopt)


@rule
def abandoned(u, abandon):
    """A project in preparation is abandoned this year.

    Parameters
    ----------
    u : float
        Uniform draw on [0, 1).
    abandon : float
        Chance per year, after advice (``abandon_rate (1 - abandon_reduction x coverage)``).

    Returns
    -------
    bool
        ``u < abandon``.

    Notes
    -----
    Dec 2011: 4 of 21 pathfinders dropped [@Guardian2011]; the rate is an assumption 0.05-0.3
    (docs/ODD.md section 3, step 7)."""
    return u < abandon


@rule
def launched(u, abandon, launch):
    """A project in preparation launches this year.

    Parameters
    ----------
    u : float
        The uniform draw :func:`abandoned` used.
    abandon : float
        Chance per year of abandonment.
    launch : float
        Chance per year of launch if not abandoned (:func:`launch_probability`).

    Returns
    -------
    bool
        ``abandon <= u < abandon + (1 - abandon) launch``.

    Notes
    -----
    Assumption (docs/ODD.md section 3, step 7)."""
    return abandon <= u < abandon + (1.0 - abandon) * launch


@rule
def viability_from_uniform(u, mean, half_width):
    """A new mutual's latent viability: its yearly chance of a good year.

    Parameters
    ----------
    u : float
        Uniform draw on [0, 1).
    mean : float
        Mean viability, chance per year.
    half_width : float
        Half-width of the uniform spread.

    Returns
    -------
    float
        Chance per year, ``clip(mean + half_width (2 u - 1), 0, 1)``.

    Notes
    -----
    92% made a profit [@StateOfSector2018], of survivors only: the mean is an assumption
    0.7-0.97, its spread 0.02-0.1 (docs/ODD.md section 4, *Learning*)."""
    return min(max(mean + half_width * (2.0 * u - 1.0), 0.0), 1.0)


@rule
def good_year(u, viability):
    """A live mutual has a good year.

    Parameters
    ----------
    u : float
        Uniform draw on [0, 1).
    viability : float
        The mutual's chance per year of a good year.

    Returns
    -------
    bool
        ``u < viability``."""
    return u < viability


@rule
def failed(u_year, u_fail, viability, failure_given_struggle):
    """A live mutual fails (returns in house): a bad year, then failure.

    Parameters
    ----------
    u_year : float
        The uniform :func:`good_year` used.
    u_fail : float
        A second uniform draw on [0, 1).
    viability : float
        Chance per year of a good year.
    failure_given_struggle : float
        Chance a bad year ends in failure.

    Returns
    -------
    bool
        ``u_year >= viability and u_fail < failure_given_struggle``.

    Notes
    -----
    Assumption 0.1-0.5 for the chance (docs/ODD.md section 3, step 8)."""
    return u_year >= viability and u_fail < failure_given_struggle


@rule
def contract_lost(u_year, u_fail, viability, failure_given_struggle, loss):
    """A live mutual that has not failed loses its contract this year.

    Parameters
    ----------
    u_year, u_fail : float
        The uniforms :func:`failed` used.
    viability, failure_given_struggle : float
        As for :func:`failed`.
    loss : float
        Chance per year, ``(1 - retention) / contract_years``: its contract ends with chance
        ``1 / contract_years`` a year and is not kept at re-procurement with chance
        ``1 - retention``.

    Returns
    -------
    bool
        ``u < loss``, where ``u`` is the part of ``u_fail`` that :func:`failed` leaves unused:
        ``u_fail`` itself after a good year, ``(u_fail - f) / (1 - f)`` after a bad year that
        did not end in failure (``f`` is ``failure_given_struggle``); both are uniform on [0, 1)
        given what happened. False if ``loss`` is 0.

    Notes
    -----
    Mostly uncontested contracts of up to 3 years [@AnthonyCollins]; the retention is an
    assumption 0.5-0.95 (docs/ODD.md section 3, step 8)."""
    if loss <= 0.0:
        return False
    if u_year < viability:
        u = u_fail
    else:
        u = (u_fail - failure_given_struggle) / (1.0 - failure_given_struggle)
    return u < loss


@rule
def released(u, release):
    """A service delivered another way comes back in house (its contract ends).

    Parameters
    ----------
    u : float
        Uniform draw on [0, 1).
    release : float
        Chance per year, ``1 / alternative_years``.

    Returns
    -------
    bool
        ``u < release``.

    Notes
    -----
    Assumption 3-15 years for the contract (docs/ODD.md section 3, step 6)."""
    return u < release
