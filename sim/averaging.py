"""Probabilities under a weighted posterior: per structure and averaged over the structures by
their posterior probabilities (Bayesian model averaging), each with its Monte Carlo error.

A posterior is a table of particles with joint weights (:mod:`sim.calibrate`). A probability
under it is ``P = sum_i w_i p_i``, where ``p_i`` is the share of particle ``i``'s replicates in
which the event happens. Its Monte Carlo error has two parts: the importance-sampling error of a
weighted mean, ``sum_i w_i^2 (p_i - P)^2`` (few particles, or uneven weights, make it large),
and replicate noise, ``sum_i w_i^2 p_i (1 - p_i) / r_i``. Its interval is the wider of
``P +- 1.96`` errors and the Wilson interval of ``P`` observed in as many independent draws as
the effective sample size allows, so that no interval is narrower than the posterior can support.
Averaged over structures, ``P = sum_s pi_s P_s`` with ``pi_s`` the structure's probability (the
sum of its particles' joint weights), which is the same weighted mean over all particles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import weighted_quantile, wilson_interval

AVERAGED = "averaged over the structures"
"""The label of the model-averaged row of a per-structure table."""


def effective_size(weights) -> float:
    """Kish's effective sample size, ``(sum w)^2 / sum w^2``."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2)) if w.sum() > 0 else 0.0


def weighted_draws(posterior: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """The particles to run, with the weights that make them the posterior: all of them, with
    their own weights, if ``n`` is at least the posterior's size; else ``n`` draws by weight
    (with replacement) collapsed to the distinct particles drawn, each weighted by how often it
    was drawn. Columns: the posterior's (``model`` kept) and ``weight``, summing to 1; the index
    numbers the particles."""
    w = posterior["weight"].to_numpy(float)
    if n >= len(posterior):
        out = posterior.copy()
    else:
        counts = np.bincount(np.random.default_rng(seed).choice(len(posterior), size=n, p=w / w.sum()),
                             minlength=len(posterior))
        out = posterior[counts > 0].copy()
        out["weight"] = counts[counts > 0]
    out["weight"] = out["weight"] / out["weight"].sum()
    return out.reset_index(drop=True)


def estimate(hit: pd.Series, weights: pd.Series, ess_cap: float | None = None) -> dict:
    """The probability of an event under weighted particles, with its Monte Carlo error and
    interval (the module's docstring). ``hit``: whether the event happens, indexed by particle
    (its first level) and replicate; ``weights``: by particle (normalised here over the
    particles ``hit`` has); ``ess_cap``: the effective sample size of the posterior the weights
    stand for, if smaller than theirs (draws from a posterior cannot know more than it)."""
    by = hit.astype(float).groupby(level=0)
    p, r = by.mean(), by.size()
    w = weights.reindex(p.index).to_numpy(float)
    w = w / w.sum()
    probability = float(w @ p.to_numpy())
    variance = float(np.sum(w**2 * (p.to_numpy() - probability) ** 2)
                     + np.sum(w**2 * p.to_numpy() * (1 - p.to_numpy()) / r.to_numpy()))
    error = float(np.sqrt(variance))
    ess = effective_size(w) if ess_cap is None else min(effective_size(w), ess_cap)
    low, high = wilson_interval(probability * ess, ess)
    return dict(probability=probability, mc_error=error,
                low=float(max(0.0, min(probability - 1.96 * error, float(low)))),
                high=float(min(1.0, max(probability + 1.96 * error, float(high)))),
                particle_p10=float(weighted_quantile(p, w, 0.1)), particle_p90=float(weighted_quantile(p, w, 0.9)),
                particles=len(p), ess=ess)


def structure_ess(posterior: pd.DataFrame) -> dict[str, float]:
    """The effective sample size of each structure's particles in ``posterior`` (their weights
    within it), and of the whole posterior (:data:`AVERAGED`)."""
    out = {}
    if "model" in posterior:
        out = {name: effective_size(g["weight"]) for name, g in posterior.groupby("model", sort=False)}
    return out | {AVERAGED: effective_size(posterior["weight"])}


def by_structure(hit: pd.Series, draws: pd.DataFrame, caps: dict[str, float] | None = None) -> pd.DataFrame:
    """:func:`estimate` of ``hit`` within each structure of ``draws`` (its ``model`` and
    ``weight`` columns, by particle), with the structure's probability among the draws
    (``structure_probability``), then the model-averaged row (:data:`AVERAGED`), the weighted
    mean over every particle. ``caps``: the posterior's effective sample sizes
    (:func:`structure_ess`). Structures without a particle among the draws are left out."""
    caps = caps or {}
    rows = []
    models = draws["model"] if "model" in draws else pd.Series("the model", index=draws.index)
    for name, members in draws.groupby(models, sort=False):
        mine = hit[hit.index.get_level_values(0).isin(members.index)]
        rows.append(dict(structure=name, structure_probability=float(members["weight"].sum()),
                         **estimate(mine, members["weight"], caps.get(name))))
    rows.append(dict(structure=AVERAGED, structure_probability=1.0,
                     **estimate(hit, draws["weight"], caps.get(AVERAGED))))
    return pd.DataFrame(rows)
