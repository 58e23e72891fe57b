"""Measures computed from tidy results: summaries, critical mass and confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from .dynamics import support_budget
from .scenario import Scenario

KEY_MEASURES = ("share_with_mutual", "authorities_with_mutual", "live_mutuals",
                "cumulative_spinouts", "failures", "abandoned", "savings",
                "cumulative_support_spent")


def wilson_interval(successes, trials, confidence: float = 0.95):
    """Wilson score interval for a binomial proportion: (low, high).

    Wilson (1927); for 0 successes out of n the lower bound is 0, and the interval never leaves
    [0, 1]."""
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    z = norm.ppf(0.5 + confidence / 2.0)
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2.0 * trials)) / denom
    half = z * np.sqrt(p * (1.0 - p) / trials + z * z / (4.0 * trials * trials)) / denom
    low = np.where(successes <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(successes >= trials, 1.0, np.clip(centre + half, 0.0, 1.0))
    return np.minimum(low, p), np.maximum(high, p)


def year_reached(frame: pd.DataFrame, threshold: float,
                 by: tuple[str, ...] = ("scenario", "replicate")) -> pd.Series:
    """Per scenario and replicate (or the keys ``by``): the first year the share with a mutual
    reaches ``threshold`` (NaN if never)."""
    keys = list(by)
    hit = frame[frame["share_with_mutual"] >= threshold - 1e-12]
    first = hit.groupby(keys, observed=True)["year"].min()
    index = frame.groupby(keys, observed=True).size().index
    return first.reindex(index).astype(float)


def weighted_quantile(values, weights, q):
    """Quantile(s) ``q`` of ``values`` under ``weights`` (the midpoints of the weighted CDF);
    missing values are left out."""
    values, weights = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    keep = np.isfinite(values)
    if not keep.any():
        return np.full(np.shape(q), np.nan) if np.ndim(q) else np.nan
    values, weights = values[keep], weights[keep]
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(weights[order]) - 0.5 * weights[order]
    return np.interp(q, cdf / weights.sum(), values[order])


def year_quantile(reached: pd.Series, q: float, horizon: int, weights=None) -> float:
    """The ``q``-quantile of the first year reached (:func:`year_reached`; under ``weights``, one
    per value, if given), a replicate that never reaches it counted as after ``horizon``; NaN
    ("never", not a year) where that quantile lies beyond the horizon."""
    years = reached.fillna(horizon + 1)
    value = float(years.quantile(q) if weights is None else weighted_quantile(years, weights, q))
    return value if value <= horizon else float("nan")


def critical_mass_by_year(frame: pd.DataFrame, threshold: float, ess: float | None = None) -> pd.DataFrame:
    """Probability that the threshold has been reached by each year, with its 95% interval
    (:func:`sim.posterior.probability`; ``ess``: the effective sample size of a posterior the
    frame was run under)."""
    from .posterior import probability, run_keys

    keys = run_keys(frame, "scenario")
    reached = year_reached(frame, threshold, by=keys)
    rows = []
    for scenario, group in reached.groupby(level="scenario", observed=True):
        group = group.droplevel("scenario")
        years = np.sort(frame.loc[frame["scenario"] == scenario, "year"].unique())
        for year in years:
            hit = group <= year
            p, low, high = probability(hit, ess)
            rows.append(dict(scenario=scenario, year=int(year), replicates=len(group), reached=int(hit.sum()),
                             probability=p, low=low, high=high))
    return pd.DataFrame(rows)


def summary(frame: pd.DataFrame, scenario: Scenario, ess: float | None = None) -> pd.DataFrame:
    """Median and 10-90% range of the key measures at the horizon, and the probability of
    critical mass by the scenario's critical-mass year, with its 95% interval
    (:func:`sim.posterior.probability`; ``ess`` as for :func:`critical_mass_by_year`)."""
    from .posterior import probability, run_keys

    run = scenario.run
    rows = []
    for name, group in frame.groupby("scenario", observed=True):
        last = group[group["year"] == group["year"].max()]
        row: dict = {"scenario": name, "horizon": int(last["year"].iloc[0]),
                     "replicates": int(last["replicate"].nunique())}
        for m in KEY_MEASURES:
            q = last[m].quantile([0.5, 0.1, 0.9])
            row[f"{m}_median"], row[f"{m}_p10"], row[f"{m}_p90"] = (float(v) for v in q)
        reached = year_reached(group, run.critical_mass_threshold, by=run_keys(group))
        p, low, high = probability(reached <= run.critical_mass_year, ess)
        row.update(critical_mass_threshold=run.critical_mass_threshold,
                   critical_mass_year=run.critical_mass_year,
                   p_critical_mass=p, p_critical_mass_low=low, p_critical_mass_high=high,
                   median_year_reached=year_quantile(reached, 0.5, row["horizon"]),
                   support_budget=support_budget(scenario))
        rows.append(row)
    return pd.DataFrame(rows)


def bands(frame: pd.DataFrame, measure: str, low: float = 0.1, high: float = 0.9) -> pd.DataFrame:
    """Median and quantile band of a measure by scenario and year."""
    g = frame.groupby(["scenario", "year"], observed=True)[measure]
    out = pd.DataFrame({"median": g.median(), "low": g.quantile(low), "high": g.quantile(high)})
    return out.reset_index()
