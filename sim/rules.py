"""The model's rules, each a pure function: numbers in, numbers out.

Units and the source or assumption behind each rule are in its docstring and in ``docs/ODD.md``.

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

    >>> active_fraction(2011.0, 2012.0, 2011.92, 2014.0)  # Dec 2011 start
    0.08...
    """
    overlap = np.minimum(year_to, end) - np.maximum(year_from, start)
    return np.clip(overlap / (year_to - year_from), 0.0, 1.0)


def kept_share(*reductions):
    """Share of a cost left after several independent reductions: ``prod(1 - r)`` (1 with
    none); the share removed is one minus it."""
    kept = 1.0
    for r in reductions:
        kept = kept * (1.0 - r)
    return kept


def preparation_years(base_years, reduction):
    """Mean years from approval to launch after advice and tested models shorten it."""
    return np.maximum(0.0, base_years * (1.0 - reduction))


def launch_probability(mean_years):
    """Yearly chance a project in preparation launches: 1 / mean years (at most 1)."""
    return np.where(mean_years > 1.0, 1.0 / np.maximum(mean_years, 1.0), 1.0)


def ration(demand, allowance):
    """Pro-rata rationing of a budget: (paid, share of each request met). Order-free."""
    paid = np.minimum(demand, allowance)
    share = np.where(demand > 0.0, paid / np.where(demand > 0.0, demand, 1.0), 1.0)
    return paid, share


# Element rules (compiled) ----------------------------------------------------------------------


@rule
def unit_logistic(u):
    """Logistic noise of mean 0 and variance 1 from a uniform on [0, 1): bell-shaped like the
    normal, with heavier tails, and cheap to compute (one log)."""
    u = min(max(u, 2.0**-53), 1.0 - 2.0**-53)
    return math.log(u / (1.0 - u)) * (math.sqrt(3.0) / math.pi)


@rule
def authority_change(national_change, deprivation, z, gradient, noise_sd):
    """An authority's real-terms change in spending power over one year (fraction).

    The national change is scaled by ``1 + gradient (deprivation - 0.5) + noise_sd z``, floored
    at zero: more deprived areas were cut more (IFS 2019), and cuts varied widely between
    authorities (PAC 2014: 5% to 40%). ``z`` is noise of mean 0 and variance 1.
    """
    multiplier = max(0.0, 1.0 + gradient * (deprivation - 0.5) + noise_sd * z)
    return national_change * multiplier


@rule
def spending_power_after(spending_power, change):
    """Spending power index (1.0 in 2010-11) after a year's fractional change; never negative."""
    return spending_power * max(0.0, 1.0 + change)


@rule
def cumulative_pressure(spending_power):
    """Cumulative fiscal pressure: the share of 2010-11 spending power lost, in [0, 1]."""
    return min(max(1.0 - spending_power, 0.0), 1.0)


@rule
def eroded(base, pressure, erosion):
    """Capacity or reserves left after cuts: ``base (1 - erosion pressure)``, floored at zero."""
    return base * min(max(1.0 - erosion * pressure, 0.0), 1.0)


@rule
def observed_evidence(own, group, national, peer_weight, national_weight):
    """Evidence an authority takes from a year's outcomes (pseudo-observations).

    Its own mutuals count fully, its peer group's (``group`` includes its own) with
    ``peer_weight``, everyone else's (``national`` includes the group) with ``national_weight``.
    """
    return own + peer_weight * (group - own) + national_weight * (national - group)


@rule
def updated_belief(previous, prior, memory, observed):
    """One parameter (alpha or beta) of the Beta belief on the yearly chance that a mutual does
    well, updated with fading evidence: the accumulated evidence (``previous - prior``) keeps the
    share ``memory`` a year, then the year's observations (good for alpha, bad for beta) are added.
    """
    return prior + memory * (previous - prior) + observed


@rule
def belief_mean(alpha, beta):
    """Mean of a Beta(alpha, beta) belief: the expected yearly chance a mutual does well."""
    return alpha / (alpha + beta)


@rule
def belief_sd(alpha, beta):
    """Standard deviation of a Beta(alpha, beta) belief."""
    total = alpha + beta
    return math.sqrt(alpha * beta / (total * total * (total + 1.0)))


@rule
def review_probability(review_rate, pressure, pressure_review):
    """Chance a service comes up for review this year; pressure makes reviews more frequent."""
    return min(max(review_rate * (1.0 + pressure_review * pressure), 0.0), 1.0)


@rule
def net_transition_cost(transition_cost, reduction, grant):
    """GBP m an authority must find up front: cost after reductions, less the grant, >= 0."""
    return max(0.0, transition_cost * (1.0 - reduction) - grant)


@rule
def affordability(reserves, net_cost):
    """Chance the up-front cost can be found: ``reserves / (reserves + net_cost)``; 1 if free."""
    total = reserves + net_cost
    return reserves / total if total > 0.0 else 1.0


@rule
def feasibility(capacity, affordable, challenged, challenge_capacity):
    """Chance a wanted spin-out is feasible: capacity times affordability.

    A Right to Challenge bid brings its proposers' own capacity (``challenge_capacity``)."""
    usable = max(capacity, challenge_capacity) if challenged else capacity
    return usable * affordable


@rule
def committed_capacity(capacity, n_preparing, per_project):
    """Capacity left for a new project when ``n_preparing`` projects already take
    ``per_project`` each: ``max(capacity - per_project n_preparing, 0)`` (finite capacity)."""
    return max(capacity - per_project * n_preparing, 0.0)


@rule
def reserves_left(reserves, drawn):
    """Reserves free for up-front investment after ``drawn`` GBP m went into earlier spin-outs."""
    return max(reserves - drawn, 0.0)


@rule
def risk_odds(risk_aversion):
    """The risk premium's weight ``ra / (1 - ra)`` for risk aversion ``ra`` in [0, 1]: 0 for a
    risk-neutral authority, 1 at 0.5, and 1e300 at 1, where no uncertainty is accepted at all
    (finite, so that no stake gives an infinite or undefined premium)."""
    return risk_aversion / max(1.0 - risk_aversion, 1e-300)


@rule
def decision_utility(mean, sd, savings_value, failure_cost, net_cost, odds, motivation):
    """Certainty-equivalent value of a spin-out to an authority, GBP m.

    ``motivation * mean * savings_value - (1 - mean) * failure_cost - net_cost
    - risk_premium``, where the risk premium is ``odds`` (see :func:`risk_odds`) times the
    belief's standard deviation times the stake (savings plus failure cost)."""
    exposure = sd * (savings_value + failure_cost)
    premium = odds * exposure if exposure > 0.0 else 0.0
    return motivation * mean * savings_value - (1.0 - mean) * failure_cost - net_cost - premium


@rule
def alternative_value(alternative_savings_rate, payback_years, cost, motivation):
    """Value, GBP m, of another alternative delivery model (council-owned company, outsourcing,
    shared service) for a service of yearly cost ``cost``: its savings over the years counted,
    valued with the same motivation as a mutual's, with no risk premium, failure cost or
    transition cost (a better-understood option; Dearden-Phillips 2014). 0 when there is none."""
    return motivation * alternative_savings_rate * payback_years * cost


@rule
def adoption_probability(utility, alternative, temperature, feasible, p, q, share):
    """Chance that a proposal is approved as a mutual this year (options appraisal with bounded
    rationality).

    The review weighs the mutual (value ``utility``) against staying in house (0) and another
    delivery model (``alternative`` >= 0). The mutual must beat both: it is taken with chance
    ``1 - exp(-(utility - alternative) / temperature)`` if its margin over the best of the others
    is positive, never otherwise. Diffusion's outside influence ``p`` and imitation ``q`` of the
    share of authorities already running a mutual add to it (Bass 1969); both are 0 by default.
    The sum is scaled by feasibility and clipped to [0, 1]. With no alternative (0) this is the
    two-way choice of earlier versions, to the bit."""
    margin = utility - alternative
    value = -math.expm1(-margin * (1.0 / temperature)) if margin > 0.0 else 0.0
    return min(max(feasible * (value + p + q * share), 0.0), 1.0)


@rule
def alternative_probability(utility, alternative, temperature, p_adopt):
    """Chance the review ends in the other delivery model instead: ``1 - exp(-margin /
    temperature)`` for its margin over the better of the mutual and staying in house, at most
    ``1 - p_adopt``; 0 if it is not the best option."""
    margin = alternative - max(utility, 0.0)
    value = -math.expm1(-margin * (1.0 / temperature)) if margin > 0.0 else 0.0
    return min(value, 1.0 - p_adopt)


@rule
def abandoned(u, abandon):
    """A project in preparation is abandoned this year (chance ``abandon``)."""
    return u < abandon


@rule
def launched(u, abandon, launch):
    """A project in preparation launches this year: from the same uniform as abandonment, with
    chance ``launch`` if not abandoned."""
    return abandon <= u < abandon + (1.0 - abandon) * launch


@rule
def viability_from_uniform(u, mean, half_width):
    """A new mutual's latent viability: uniform on mean +/- half_width, clipped to [0, 1]."""
    return min(max(mean + half_width * (2.0 * u - 1.0), 0.0), 1.0)


@rule
def good_year(u, viability):
    """A live mutual has a good year with chance ``viability``."""
    return u < viability


@rule
def failed(u_year, u_fail, viability, failure_given_struggle):
    """A live mutual fails (returns in house): a bad year, then failure with chance
    ``failure_given_struggle``."""
    return u_year >= viability and u_fail < failure_given_struggle


@rule
def contract_lost(u_year, u_fail, viability, failure_given_struggle, loss):
    """A live mutual that has not failed loses its contract this year, with chance ``loss`` (the
    chance its contract ends this year times the chance it is not kept at re-procurement).

    It uses the part of ``u_fail`` that :func:`failed` leaves unused: ``u_fail`` itself after a
    good year, ``(u_fail - f) / (1 - f)`` after a bad year that did not end in failure (``f``
    is ``failure_given_struggle``); both are uniform on [0, 1) given what happened."""
    if loss <= 0.0:
        return False
    if u_year < viability:
        u = u_fail
    else:
        u = (u_fail - failure_given_struggle) / (1.0 - failure_given_struggle)
    return u < loss


@rule
def released(u, release):
    """A service delivered another way comes back in house (its contract ends): chance
    ``release`` a year."""
    return u < release
