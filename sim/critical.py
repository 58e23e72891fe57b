"""Critical mass, both ways: the threshold measure and the self-sustaining test; the tipping point.

- *Threshold*: the share of authorities running a mutual reaches θ by a given year
  (:func:`sim.analysis.year_reached`).
- *Self-sustaining*: withdraw all support at a year and see whether uptake keeps growing on its
  own over the following ``window`` years (:func:`self_sustaining`).
- *Tipping point*: the smallest initial share of authorities running a mutual from which uptake
  grows with no support at all, for given cuts and behaviour, found by bisection on
  ``population.initial_adopters`` (:func:`tipping_point`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .analysis import wilson_interval
from .scenario import INSTRUMENTS, Scenario, with_overrides
from .simulate import simulate


def without_support(scenario: Scenario, after: float | None = None) -> Scenario:
    """The scenario with every instrument ended at ``after`` (all support withdrawn then), or
    switched off entirely if ``after`` is None."""
    data = scenario.model_dump()
    for name in INSTRUMENTS:
        inst = data["support"][name]
        windows = [inst, *inst["also"]]
        for w in windows:
            if after is None or w["start"] >= after:
                w["budget"] = 0.0
            elif w["end"] > after:
                w["end"] = after
        inst["also"] = [w for w in inst["also"] if w["budget"] > 0]
        if name == "right_to_challenge" and (after is None or inst["start"] >= after):
            inst["rate"] = 0.0
    return type(scenario).model_validate(data)


GROWTH_MEASURE = "live_mutuals"


def grows(frame: pd.DataFrame, start: int, window: int) -> pd.Series:
    """Per replicate: did the number of live mutuals rise from ``start`` to ``start + window``?
    (Live mutuals rather than authorities, so that the test asks whether adoption outruns
    failures, MODEL.md section 5, also where most authorities already run one.)"""
    by = frame.pivot_table(index="replicate", columns="year", values=GROWTH_MEASURE,
                           observed=True)
    return by[start + window] > by[start]


@dataclass(frozen=True)
class Probability:
    successes: int
    trials: int

    @property
    def value(self) -> float:
        return self.successes / self.trials

    @property
    def interval(self) -> tuple[float, float]:
        low, high = wilson_interval(self.successes, self.trials)
        return float(low), float(high)

    def __str__(self) -> str:
        low, high = self.interval
        return f"{self.value:.2f} (95% CI {low:.2f}-{high:.2f}, n={self.trials})"


def self_sustaining(scenario: Scenario, withdraw: int, window: int = 5, replicates: int = 200,
                    seed: int = 1) -> Probability:
    """Probability that uptake keeps growing for ``window`` years after all support is
    withdrawn at the start of year ``withdraw``."""
    if not scenario.run.start_year <= withdraw <= scenario.run.end_year - window:
        raise ValueError(f"withdraw must leave {window} years before the horizon; given {withdraw}")
    frame = simulate(without_support(scenario, float(withdraw)), replicates=replicates, seed=seed,
                     engine="ensemble")
    g = grows(frame, withdraw, window)
    return Probability(int(g.sum()), len(g))


def bisect(f: Callable[[float], float], low: float, high: float, tol: float) -> float:
    """Smallest x in [low, high] with f(x) >= 0 for an increasing f, to within ``tol``.
    Returns ``high`` if f(high) < 0 (never) and ``low`` if f(low) >= 0 (always)."""
    if f(low) >= 0:
        return low
    if f(high) < 0:
        return high
    while high - low > tol:
        mid = 0.5 * (low + high)
        if f(mid) >= 0:
            high = mid
        else:
            low = mid
    return high


@dataclass(frozen=True)
class TippingPoint:
    """Initial shares at which uptake grows with no support in 10%, 50% and 90% of replicates."""

    low: float  # growth probability reaches 0.1
    median: float  # ... 0.5: the tipping point
    high: float  # ... 0.9
    window: int
    replicates: int
    found: bool  # False if uptake does not grow even from the highest share searched
    curve: pd.DataFrame  # every evaluated initial share and its growth probability


def tipping_point(scenario: Scenario, window: int = 5, replicates: int = 200, seed: int = 1,
                  tol: float = 0.005, highest: float = 0.3) -> TippingPoint:
    """Smallest initial share of authorities running a mutual from which uptake grows with no
    support over ``window`` years, by bisection on ``population.initial_adopters``.

    Growth is judged per replicate (common random numbers across shares); the tipping point is
    where the probability of growth reaches 0.5, and the shares where it reaches 0.1 and 0.9 show
    its uncertainty. The search runs over [0, ``highest``]: beyond about a third, most
    authorities already run a mutual and growth stalls for want of room, not of learning. Growth
    probability is assumed to rise with the initial share over that range; the evaluated points
    are returned so that this can be checked."""
    base = without_support(scenario)
    start = base.run.start_year
    cache: dict[float, float] = {}

    def probability(share: float) -> float:
        share = round(share, 6)
        if share not in cache:
            s = with_overrides(base, {"population.initial_adopters": share,
                                      "run.end_year": start + window,
                                      "run.critical_mass_year": start + window})
            frame = simulate(s, replicates=replicates, seed=seed, engine="ensemble")
            cache[share] = float(grows(frame, start, window).mean())
        return cache[share]

    levels = {}
    for level in (0.1, 0.5, 0.9):
        levels[level] = bisect(lambda x, lv=level: probability(x) - lv, 0.0, highest, tol)
    found = levels[0.5] < highest
    curve = pd.DataFrame(sorted(cache.items()), columns=["initial_share", "p_growth"])
    return TippingPoint(levels[0.1], levels[0.5], levels[0.9], window, replicates, found, curve)


def growth_curve(scenario: Scenario, shares: np.ndarray, window: int = 5, replicates: int = 200,
                 seed: int = 1) -> pd.DataFrame:
    """Probability of unsupported growth at each initial share (for plotting)."""
    base = without_support(scenario)
    start = base.run.start_year
    rows = []
    for share in shares:
        s = with_overrides(base, {"population.initial_adopters": float(share),
                                  "run.end_year": start + window,
                                  "run.critical_mass_year": start + window})
        g = grows(simulate(s, replicates=replicates, seed=seed, engine="ensemble"), start, window)
        low, high = wilson_interval(int(g.sum()), len(g))
        rows.append(dict(initial_share=float(share), p_growth=float(g.mean()), low=float(low),
                         high=float(high)))
    return pd.DataFrame(rows)


def scaled_support(scenario: Scenario, intensity: float) -> Scenario:
    """The scenario with every instrument's budget (every window) multiplied by ``intensity``."""
    data = scenario.model_dump()
    for name in INSTRUMENTS:
        inst = data["support"][name]
        for w in [inst, *inst["also"]]:
            w["budget"] *= intensity
    return type(scenario).model_validate(data)


def phase_grid(scenario: Scenario, intensities, severities, replicates: int = 100,
               seed: int = 1) -> pd.DataFrame:
    """Probability of critical mass (threshold by the critical-mass year) over support
    intensity x cut severity, each cell on the same replicate seeds."""
    from .analysis import year_reached

    run = scenario.run
    rows = []
    for severity in severities:
        for intensity in intensities:
            s = with_overrides(scaled_support(scenario, float(intensity)),
                               {"fiscal.severity": float(severity)})
            r = year_reached(simulate(s, replicates=replicates, seed=seed, engine="ensemble"),
                             run.critical_mass_threshold)
            k = int((r <= run.critical_mass_year).sum())
            low, high = wilson_interval(k, len(r))
            rows.append(dict(intensity=float(intensity), severity=float(severity),
                             p_critical_mass=k / len(r), low=float(low), high=float(high),
                             replicates=len(r)))
    return pd.DataFrame(rows)
