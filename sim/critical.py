"""Critical mass, both ways (the threshold measure and the self-sustaining test), the barrier
search and the phase diagram.

- *Threshold*: the share of authorities running a mutual reaches θ by a given year
  (:func:`sim.analysis.year_reached`).
- *Self-sustaining*: withdraw all support; once the pipeline has drained, do the extra live
  mutuals the support left over a world that never had any hold or grow (:func:`self_sustaining`)?
- *Barrier*: an unstable equilibrium of unsupported uptake along the initial share, the
  Committee's "chicken and egg" (:func:`find_barrier`, :func:`unsupported_growth`).
- *Tipping point*: that barrier, or its absence, as ``mutuals tipping`` reports it
  (:func:`barrier_search`, the one search the verdict uses too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .dynamics import MEASURES
from .evaluator import Evaluator
from .instruments import INSTRUMENTS
from .loading import scenario_from_dict
from .overrides import with_overrides
from .posterior import Draws, probability, run_draws, run_keys
from .scenario import Scenario
from .simulation import measures_array, replicate_seeds, simulate


def without_support(scenario: Scenario, after: float | None = None) -> Scenario:
    """The scenario with every instrument ended at ``after`` (all support withdrawn then), or
    switched off entirely if ``after`` is None."""
    support = {name: inst.switched_off(after).model_dump()
               for name, inst in scenario.support.instruments().items()}
    return type(scenario).model_validate({**scenario.model_dump(), "support": support})


def gap_summary(live_with: np.ndarray, live_without: np.ndarray, drained: int, end: int,
                resamples: int = 1000, seed: int = 0) -> tuple[float, float, tuple[float, float]]:
    """The gap in live mutuals between a supported and an unsupported world (each (R, years),
    paired replicates) when the supported world's pipeline has drained (column ``drained``) and
    at ``end``: the mean gaps and a 95% bootstrap interval (over replicates) of their ratio."""
    gap = live_with.astype(float) - live_without.astype(float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(gap), size=(resamples, len(gap)))
    drained_means, end_means = gap[idx, drained].mean(axis=1), gap[idx, end].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(drained_means > 0, end_means / drained_means, np.nan)
    ratios = ratios[np.isfinite(ratios)]
    interval = ((float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))) if len(ratios)
                else (np.nan, np.nan))
    return float(gap[:, drained].mean()), float(gap[:, end].mean()), interval


@dataclass(frozen=True)
class Sustained:
    """Whether what a policy built outlasts it: the gap in live mutuals between the policy
    (withdrawn at ``withdraw``) and no support at all, once the pipeline has drained
    (``withdraw + drain``) and at the horizon (``end``), on paired replicates."""

    withdraw: int
    drained_year: int
    end: int
    gap_at_drain: float  # mean extra live mutuals over no support at all
    gap_at_end: float
    interval: tuple[float, float]  # 95% bootstrap interval of the ratio end / drain
    adoptions: float  # new spin-outs per year after the drain, supported world (mean)
    exits: float  # failures and lost contracts per year after the drain, supported world (mean)
    replicates: int

    @property
    def ratio(self) -> float:
        return self.gap_at_end / self.gap_at_drain if self.gap_at_drain > 0 else float("nan")

    @property
    def sustaining(self) -> bool:
        """The policy left extra mutuals, and their number held or grew without it."""
        return self.gap_at_drain > 0 and self.ratio >= 1.0

    def __str__(self) -> str:
        if self.gap_at_drain <= 0:
            return (f"not self-sustaining: no extra mutuals over no support at all by "
                    f"{self.drained_year} (n={self.replicates})")
        low, high = self.interval
        word = "self-sustaining" if self.sustaining else "not self-sustaining"
        return (f"{word}: {self.gap_at_drain:.1f} extra live mutuals in {self.drained_year}, "
                f"{self.gap_at_end:.1f} in {self.end} (ratio {self.ratio:.2f}, 95% CI {low:.2f}-"
                f"{high:.2f}, n={self.replicates}); after the drain, {self.adoptions:.1f} spin-outs "
                f"and {self.exits:.1f} failures or lost contracts a year")


def self_sustaining(scenario: Scenario, withdraw: int, drain: int | None = None,
                    replicates: int = 200, seed: int = 1) -> Sustained:
    """Does the critical mass a policy built sustain itself once the policy ends?

    All support is withdrawn at the start of ``withdraw``; ``drain`` years later (by default
    the longest preparation, rounded up, so that no project the support helped is still to
    launch) the supported world's extra live mutuals over a world with no support at all
    (same seeds) are compared with its extra at the horizon. Self-sustaining: the gap held or
    grew, because the mutuals the support left behind drew new adoptions at least as fast as
    they failed or lost their contracts. A policy that built nothing is not self-sustaining,
    and neither is uptake that the cuts alone drive (it is the same in both worlds)."""
    drain = int(np.ceil(scenario.mutuals.preparation_years)) + 1 if drain is None else drain
    start, end = scenario.run.start_year, scenario.run.end_year
    if not start <= withdraw <= end - drain - 1:
        raise ValueError(f"withdraw must leave the drain ({drain} years) and a year after it "
                         f"before the horizon {end}; given {withdraw}")
    seeds = replicate_seeds(seed, replicates)
    with_ = measures_array(without_support(scenario, float(withdraw)), seeds)
    none = measures_array(without_support(scenario), seeds)
    live, spun = MEASURES.index("live_mutuals"), MEASURES.index("cumulative_spinouts")
    drained, last = withdraw + drain - start, end - start
    gap_drain, gap_end, interval = gap_summary(with_[:, :, live], none[:, :, live], drained, last, seed=seed)
    years = last - drained
    adoptions = (with_[:, last, spun] - with_[:, drained, spun]).mean() / years
    exits = adoptions - (with_[:, last, live] - with_[:, drained, live]).mean() / years
    return Sustained(withdraw, withdraw + drain, end, gap_drain, gap_end, interval,
                     float(adoptions), float(exits), replicates)


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
class Barrier:
    """A critical-mass barrier: an unstable equilibrium of unsupported uptake, the initial share
    below which uptake declines and above which it grows."""

    share: float | None  # the lowest barrier found (None: no barrier in the range searched)
    crossings: int  # upward sign changes of growth along the grid
    refined: bool  # located by bisection (a single crossing) rather than interpolated
    curve: pd.DataFrame  # initial_share, growth: every evaluated point

    @property
    def found(self) -> bool:
        return self.share is not None

    @property
    def regime(self) -> str:
        """``barrier``; ``grows`` (from every positive share up to where growth turns, so no
        barrier); or ``declines`` (from every share searched: uptake never takes off)."""
        if self.found:
            return "barrier"
        return "grows" if (self.curve["growth"] > 0).any() else "declines"


def upward_crossings(shares, growth) -> list[tuple[int, int]]:
    """Pairs of grid indices (i, j), j the next point with non-zero growth, where growth turns
    from negative to positive. Exact zeros (nothing happens) are skipped: they are neither
    decline nor growth."""
    points = [i for i, g in enumerate(growth) if g != 0]
    return [(i, j) for i, j in zip(points, points[1:], strict=False) if growth[i] < 0 < growth[j]]


def find_barrier(growth: Callable[[float], float], shares, tol: float = 1e-3) -> Barrier:
    """Search ``shares`` (increasing) for an unstable equilibrium of ``growth`` (long-run change
    of the share running a mutual, from an initial share). Where the grid shows exactly one
    upward crossing, growth is monotone across it as far as the grid can tell, and bisection
    refines it to ``tol``; with several (a noisy estimate wavering near zero growth), the highest
    is interpolated on the grid and reported: the share above which growth stays positive up to
    its peak (``crossings`` says how many there were)."""
    shares = [float(x) for x in shares]
    cache = {x: float(growth(x)) for x in shares}

    def f(x: float) -> float:
        if x not in cache:
            cache[x] = float(growth(x))
        return cache[x]

    values = [cache[x] for x in shares]
    up = upward_crossings(shares, values)
    share, refined = None, False
    if len(up) == 1:
        i, j = up[0]
        share, refined = bisect(f, shares[i], shares[j], tol), True
    elif up:
        i, j = up[-1]
        share = shares[i] + (shares[j] - shares[i]) * -values[i] / (values[j] - values[i])
    curve = pd.DataFrame(sorted(cache.items()), columns=["initial_share", "growth"])
    return Barrier(share, len(up), refined, curve)


def unsupported_growth(scenario: Scenario, years: int = 20, replicates: int = 20,
                       seed: int = 1) -> Callable[[float], float]:
    """Long-run growth with no support: the mean change, over ``years`` from the start, of the
    share of authorities running a mutual, as a function of the initial share (common seeds)."""
    base = without_support(scenario)
    start = base.run.start_year
    share = MEASURES.index("share_with_mutual")
    seeds = replicate_seeds(seed, replicates)

    def growth(initial: float) -> float:
        s = with_overrides(base, {"population.initial_adopters": initial,
                                  "run.end_year": start + years, "run.critical_mass_year": start + years})
        m = measures_array(s, seeds)[:, :, share]
        return float((m[:, years] - m[:, 0]).mean())

    return growth


BARRIER_SHARES = (0.0, 0.003, 0.006, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3)
"""Initial shares of authorities running a mutual searched for a barrier (beyond about a third,
growth stalls for want of room, not of learning)."""
BARRIER_YEARS = 20
"""Years of unsupported growth over which the barrier search judges each initial share: long
enough for a start to settle towards its equilibrium."""
BARRIER_TOLERANCE = 0.002
"""How closely the barrier's share is located (share of authorities)."""


def barrier_search(scenario: Scenario, replicates: int = 20, seed: int = 1) -> Barrier:
    """The barrier search (``mutuals tipping`` and the verdict alike): all support withdrawn,
    :func:`find_barrier` over :data:`BARRIER_SHARES` of the growth over :data:`BARRIER_YEARS`."""
    growth = unsupported_growth(scenario, years=BARRIER_YEARS, replicates=replicates, seed=seed)
    return find_barrier(growth, BARRIER_SHARES, tol=BARRIER_TOLERANCE)


def scaled_support(scenario: Scenario, intensity: float, source: str = "scaled support") -> Scenario:
    """The scenario with every instrument's budget (every window) multiplied by ``intensity``;
    a budget beyond its allowed range is a :class:`ScenarioError` naming ``source``."""
    data = scenario.model_dump()
    for name in INSTRUMENTS:
        inst = data["support"][name]
        for w in [inst, *inst["also"]]:
            w["budget"] *= intensity
    return scenario_from_dict(data, source)


@dataclass(frozen=True)
class _Cell:
    """P(critical mass) in one cell (severity, intensity) of the phase diagram (an evaluator's
    task function)."""

    scenario: Scenario
    replicates: int
    seed: int
    draws: Draws | None = None

    def __call__(self, cell: tuple[float, float]) -> dict:
        from .analysis import year_reached

        severity, intensity = cell
        run = self.scenario.run
        s = with_overrides(scaled_support(self.scenario, intensity), {"fiscal.severity": severity})
        if self.draws is None:
            frame = simulate(s, replicates=self.replicates, seed=self.seed, engine="ensemble")
        else:
            frame = run_draws(s, self.draws, self.seed)
        r = year_reached(frame, run.critical_mass_threshold, by=run_keys(frame))
        p, low, high = probability(r <= run.critical_mass_year, None if self.draws is None else self.draws.ess)
        return dict(intensity=intensity, severity=severity, p_critical_mass=p, low=low, high=high, replicates=len(r))


def phase_grid(scenario: Scenario, intensities, severities, replicates: int = 100, seed: int = 1,
               evaluator: Evaluator | None = None, progress: bool = False, draws: Draws | None = None) -> pd.DataFrame:
    """Probability of critical mass (threshold by the critical-mass year) over support
    intensity x cut severity, each cell on the same replicate seeds (or, under posterior
    ``draws``, the same draws and seeds: ``replicates`` is then theirs), run by ``evaluator``."""
    from itertools import product

    cells = [(float(s), float(i)) for s, i in product(severities, intensities)]
    rows = (evaluator or Evaluator()).map(_Cell(scenario, replicates, seed, draws), cells,
                                          "phase cells" if progress else None)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Tipping:
    """A scenario's barrier search (:func:`barrier_search`), as ``mutuals tipping`` reports it:
    at the scenario's own parameters and, under a posterior, once per draw (``draws``)."""

    scenario: Scenario
    barrier: Barrier
    replicates: int
    draws: tuple[Barrier, ...] = ()

    def regimes(self) -> dict[str, float]:
        """The share of posterior draws in each regime (empty without draws)."""
        found = [b.regime for b in self.draws]
        return {r: found.count(r) / len(found) for r in ("barrier", "grows", "declines")} if found else {}

    def record(self) -> dict:
        """The search as ``tipping.json`` lists it: ``barrier`` is null where there is none;
        under a posterior, ``posterior`` gives the regimes' shares of the draws and the
        quantiles of the barrier among the draws that have one (null if none has)."""
        b = self.barrier
        out = dict(scenario=self.scenario.name, regime=b.regime, barrier=b.share, crossings=b.crossings,
                   refined=b.refined, years=BARRIER_YEARS, replicates=self.replicates,
                   measure=f"mean change of the share of authorities running a mutual over {BARRIER_YEARS} "
                           "years, all support withdrawn, by initial share",
                   curve=b.curve.to_dict("records"))
        if self.draws:
            shares = [d.share for d in self.draws if d.found]
            q = np.quantile(shares, [0.1, 0.5, 0.9]).tolist() if shares else [None] * 3
            out["posterior"] = dict(draws=len(self.draws), replicates_per_draw=self.replicates,
                                    regimes=self.regimes(), barrier_p10=q[0], barrier_median=q[1],
                                    barrier_p90=q[2])
        return out


@dataclass(frozen=True)
class _Tipping:
    """:func:`barrier_search` of one scenario, or of one posterior draw of it (an evaluator's
    task: a scenario, or a (draw, scenario) pair on root seed ``seed + draw``)."""

    replicates: int
    seed: int

    def __call__(self, task: Scenario | tuple[int, Scenario]) -> Barrier:
        i, scenario = task if isinstance(task, tuple) else (0, task)
        return barrier_search(scenario, self.replicates, self.seed + i)


def tipping(scenarios: list[Scenario], replicates: int, seed: int, evaluator: Evaluator | None = None,
            progress: bool = False, draws: Draws | None = None) -> list[Tipping]:
    """Each scenario's barrier search, run by ``evaluator``; under posterior ``draws`` (their
    replicates replace ``replicates``), once per draw as well."""
    evaluator = evaluator or Evaluator()
    reps = replicates if draws is None else draws.replicates
    own = evaluator.map(_Tipping(reps, seed), scenarios, "tipping: scenarios" if progress else None)
    found = []
    for s, b in zip(scenarios, own, strict=True):
        per = ()
        if draws is not None:
            tasks = [(i, with_overrides(s, row, draws.source)) for i, row in enumerate(draws.design.to_dict("records"))]
            per = tuple(evaluator.map(_Tipping(reps, seed), tasks, f"tipping {s.name}: draws" if progress else None))
        found.append(Tipping(s, b, reps, per))
    return found


def write_tipping(found: list[Tipping], folder: Path, replicates: int) -> None:
    """``barrier_curve_<scenario>.csv``, ``tipping.png`` and ``tipping.json`` into ``folder``
    (under a posterior, ``barriers_<scenario>.csv`` too: one row per draw)."""
    import matplotlib.pyplot as plt

    from .plots import label, plot_barrier_band, plot_barrier_curve, wrapped
    from .results import write_json

    fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    for i, t in enumerate(found):
        t.barrier.curve.to_csv(folder / f"barrier_curve_{t.scenario.name}.csv", index=False)
        if t.draws:
            pd.DataFrame([dict(draw=k, regime=b.regime, barrier=b.share, crossings=b.crossings)
                          for k, b in enumerate(t.draws)]).to_csv(folder / f"barriers_{t.scenario.name}.csv",
                                                                  index=False)
            plot_barrier_band([b.curve for b in t.draws], BARRIER_SHARES, ax=ax, colour=f"C{i}",
                              label=f"{label(t.scenario)}, {len(t.draws)} posterior draws: median, 10-90%")
        plot_barrier_curve(t.barrier, BARRIER_YEARS, ax=ax, colour=f"C{i}",
                           label=label(t.scenario) + (" at the defaults" if t.draws else ""))
    over = (f"{found[0].replicates} replicates per point" if not found or not found[0].draws else
            f"{len(found[0].draws)} posterior draws x {found[0].replicates} replicates")
    ax.set_title(wrapped(f"With no support, from which start does uptake grow? ({over})", 7.5, 12))
    fig.savefig(folder / "tipping.png", dpi=120)
    plt.close(fig)
    write_json(folder / "tipping.json", [t.record() for t in found])


REGIME_WORDS = {
    "barrier": "a barrier: with no support, uptake declines from below {share:.1%} of authorities and grows from above",
    "grows": "no barrier: with no support, uptake grows from any start",
    "declines": "no barrier: with no support, uptake declines from every start searched (it never takes off)",
}


def tipping_words(t: Tipping) -> str:
    """A barrier search in one sentence (and, under a posterior, what share of the draws find
    each regime)."""
    b = t.barrier
    words = REGIME_WORDS[b.regime].format(share=b.share or 0.0)
    more = f" ({b.crossings} crossings; the highest is given)" if b.crossings > 1 else ""
    text = f"{t.scenario.name}: {words}{more}, over {BARRIER_YEARS} years"
    if not t.draws:
        return text
    r = t.record()["posterior"]
    shares = ", ".join(f"{name} in {100 * p:.0f}%" for name, p in r["regimes"].items())
    where = (f"; barrier median {100 * r['barrier_median']:.1f}% (10-90%: {100 * r['barrier_p10']:.1f}-"
             f"{100 * r['barrier_p90']:.1f}%)" if r["barrier_median"] is not None else "")
    return f"{text} at the defaults; under the posterior ({len(t.draws)} draws): {shares}{where}"


def write_phase(grid: pd.DataFrame, scenario: Scenario, folder: Path, over: str) -> None:
    """``phase.csv`` and ``phase.png`` into ``folder``."""
    import matplotlib.pyplot as plt

    from .plots import label, plot_phase, wrapped

    grid.to_csv(folder / "phase.csv", index=False)
    fig = plot_phase(grid, policy=label(scenario))
    run = scenario.run
    title = (f"P({run.critical_mass_threshold:.0%} of authorities run a mutual by {run.critical_mass_year}): "
             f"budgets of {label(scenario)} and the cuts scaled; {over} per cell")
    fig.axes[0].set_title(wrapped(title, 0.75 * fig.get_size_inches()[0], 12))
    fig.savefig(folder / "phase.png", dpi=120)
    plt.close(fig)
