"""The model's rules, each a pure function over numpy arrays (or scalars).

Numbers in, numbers out; units and the source or assumption behind each rule are in its
docstring and in ``docs/ODD.md``. The Mesa agents call these with their own values; the ensemble
engine calls them on arrays of many replicates. Only elementwise numpy operations are used here,
so a value computed for one agent is bit-for-bit the value computed for it inside an array.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "active_fraction",
    "unit_logistic",
    "authority_change",
    "spending_power_after",
    "cumulative_pressure",
    "eroded",
    "observed_evidence",
    "updated_belief",
    "belief_mean",
    "belief_moments",
    "review_probability",
    "combined_reduction",
    "net_transition_cost",
    "affordability",
    "feasibility",
    "decision_utility",
    "adoption_probability",
    "preparation_years",
    "launch_probability",
    "pipeline_outcome",
    "viability_from_uniform",
    "operation_outcome",
    "ration",
]


def active_fraction(year_from, year_to, start, end):
    """Share of the model year [year_from, year_to) inside an instrument's window [start, end].

    >>> active_fraction(2011.0, 2012.0, 2011.92, 2014.0)  # Dec 2011 start
    0.08...
    """
    overlap = np.minimum(year_to, end) - np.maximum(year_from, start)
    return np.clip(overlap / (year_to - year_from), 0.0, 1.0)


def unit_logistic(u):
    """Logistic noise of mean 0 and variance 1 from uniforms on [0, 1): bell-shaped like the
    normal, with heavier tails, and cheap to compute (one log)."""
    u = np.clip(u, 2.0**-53, 1.0 - 2.0**-53)
    return np.log(u / (1.0 - u)) * (np.sqrt(3.0) / np.pi)


def authority_change(national_change, deprivation, z, gradient, noise_sd):
    """An authority's real-terms change in spending power over one year (fraction).

    The national change is scaled by ``1 + gradient (deprivation - 0.5) + noise_sd z``, floored
    at zero: more deprived areas were cut more (IFS 2019), and cuts varied widely between
    authorities (PAC 2014: 5% to 40%). ``z`` is noise of mean 0 and variance 1.
    """
    multiplier = np.maximum(0.0, 1.0 + gradient * (deprivation - 0.5) + noise_sd * z)
    return national_change * multiplier


def spending_power_after(spending_power, change):
    """Spending power index (1.0 in 2010-11) after a year's fractional change; never negative."""
    return spending_power * np.maximum(0.0, 1.0 + change)


def cumulative_pressure(spending_power):
    """Cumulative fiscal pressure: the share of 2010-11 spending power lost, in [0, 1]."""
    return np.clip(1.0 - spending_power, 0.0, 1.0)


def eroded(base, pressure, erosion):
    """Capacity or reserves left after cuts: ``base (1 - erosion pressure)``, floored at zero."""
    return base * np.clip(1.0 - erosion * pressure, 0.0, 1.0)


def observed_evidence(own, group, national, peer_weight, national_weight):
    """Evidence an authority takes from a year's outcomes (pseudo-observations).

    Its own mutuals count fully, its peer group's (``group`` includes its own) with
    ``peer_weight``, everyone else's (``national`` includes the group) with ``national_weight``.
    """
    return own + peer_weight * (group - own) + national_weight * (national - group)


def updated_belief(alpha, beta, prior_alpha, prior_beta, memory, good, bad):
    """Beta posterior on the yearly chance that a mutual does well, with fading evidence.

    Accumulated evidence (the posterior minus the prior) keeps the share ``memory`` a year, then
    the year's good and bad observations are added.
    """
    return (prior_alpha + memory * (alpha - prior_alpha) + good,
            prior_beta + memory * (beta - prior_beta) + bad)


def belief_mean(alpha, beta):
    """Mean of a Beta(alpha, beta) belief: the expected yearly chance a mutual does well."""
    return alpha / (alpha + beta)


def belief_moments(alpha, beta):
    """Mean and standard deviation of a Beta(alpha, beta) belief."""
    total = alpha + beta
    mean = belief_mean(alpha, beta)
    sd = np.sqrt(alpha * beta / (total * total * (total + 1.0)))
    return mean, sd


def review_probability(review_rate, pressure, pressure_review):
    """Chance a service comes up for review this year; pressure makes reviews more frequent."""
    return np.clip(review_rate * (1.0 + pressure_review * pressure), 0.0, 1.0)


def combined_reduction(*reductions):
    """Share of a cost removed by several independent reductions: ``1 - prod(1 - r)``."""
    kept = 1.0
    for r in reductions:
        kept = kept * (1.0 - r)
    return 1.0 - kept


def net_transition_cost(transition_cost, reduction, grant):
    """GBP m an authority must find up front: cost after reductions, less the grant, >= 0."""
    return np.maximum(0.0, transition_cost * (1.0 - reduction) - grant)


def affordability(reserves, net_cost):
    """Chance the up-front cost can be found: ``reserves / (reserves + net_cost)``; 1 if free."""
    total = reserves + net_cost
    safe = np.where(total > 0.0, total, 1.0)
    return np.where(total > 0.0, reserves / safe, 1.0)


def feasibility(capacity, affordable, challenged, challenge_capacity):
    """Chance a wanted spin-out is feasible: capacity times affordability.

    A Right to Challenge bid brings its proposers' own capacity (``challenge_capacity``)."""
    usable = np.where(challenged, np.maximum(capacity, challenge_capacity), capacity)
    return usable * affordable


def decision_utility(mean, sd, savings_value, failure_cost, net_cost, risk_aversion, motivation):
    """Certainty-equivalent value of a spin-out to an authority, GBP m.

    ``motivation * mean * savings_value - (1 - mean) * failure_cost - net_cost
    - risk_premium``, where the risk premium is ``ra / (1 - ra)`` times the belief's standard
    deviation times the stake (savings plus failure cost). An authority of risk aversion 1 accepts
    no uncertainty at all (infinite premium)."""
    odds = np.where(risk_aversion < 1.0, risk_aversion / np.maximum(1.0 - risk_aversion, 1e-300), np.inf)
    exposure = sd * (savings_value + failure_cost)
    with np.errstate(invalid="ignore"):
        premium = np.where(exposure > 0.0, odds * exposure, 0.0)
    return motivation * mean * savings_value - (1.0 - mean) * failure_cost - net_cost - premium


def adoption_probability(utility, temperature, feasible, p, q, share):
    """Chance that a proposal is approved this year (bounded rationality).

    A proposal of positive value is taken with chance ``1 - exp(-utility / temperature)``; none
    of zero or negative value is. Diffusion's outside influence ``p`` and imitation ``q`` of the
    share of authorities already running a mutual add to it (Bass 1969); both are 0 by default.
    The sum is scaled by feasibility and clipped to [0, 1]."""
    value = -np.expm1(-np.maximum(utility, 0.0) / temperature)
    return np.clip(feasible * (value + p + q * share), 0.0, 1.0)


def preparation_years(base_years, reduction):
    """Mean years from approval to launch after advice and tested models shorten it."""
    return np.maximum(0.0, base_years * (1.0 - reduction))


def launch_probability(mean_years):
    """Yearly chance a project in preparation launches: 1 / mean years (at most 1)."""
    return np.where(mean_years > 1.0, 1.0 / np.maximum(mean_years, 1.0), 1.0)


def pipeline_outcome(u, abandon, launch):
    """Abandoned or launched this year, from one uniform: abandonment first, then launch."""
    abandoned = u < abandon
    launched = ~abandoned & (u < abandon + (1.0 - abandon) * launch)
    return abandoned, launched


def viability_from_uniform(u, mean, half_width):
    """A new mutual's latent viability: uniform on mean +/- half_width, clipped to [0, 1]."""
    return np.clip(mean + half_width * (2.0 * u - 1.0), 0.0, 1.0)


def operation_outcome(u_year, u_fail, viability, failure_given_struggle):
    """A live mutual's year: good with chance ``viability``; a bad year ends in failure (return
    in house) with chance ``failure_given_struggle``. Returns (good, bad, failed)."""
    good = u_year < viability
    bad = ~good
    return good, bad, bad & (u_fail < failure_given_struggle)


def ration(demand, allowance):
    """Pro-rata rationing of a budget: (paid, share of each request met). Order-free."""
    paid = np.minimum(demand, allowance)
    share = np.where(demand > 0.0, paid / np.where(demand > 0.0, demand, 1.0), 1.0)
    return paid, share
