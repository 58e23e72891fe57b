"""Scenario discovery over the prior: where each part of the claim holds, found by PRIM (the
EMA Workbench), and which parameters decide the outcomes, by Sobol indices (SALib).

Every point of a design is run under both policies on the same replicate seeds (common random
numbers) and reduced, in memory, to the outcomes of :data:`OUTCOMES`; the parts of the claim
(:data:`PARTS`) are conditions on them. The cuts stay at their actual trajectory: their severity
is varied only in the phase diagram (``mutuals phase``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import claim
from .api import salib_problem
from .dynamics import MEASURES
from .evaluator import Evaluator
from .overrides import with_overrides
from .scenario import Scenario, Uncertainty, uncertainties
from .simulation import measures_batch, replicate_seeds

UNCERTAIN_SECTIONS = ("population.", "behaviour.", "mutuals.", "support.")
"""Where the uncertain parameters of the verdict live: every schema field with a plausible range
in these sections (behaviour, mutuals, support effects, viability, the Right to Challenge rate);
not the cuts, which are known."""

OUTCOMES = {
    "p_without": "P(critical mass by the critical-mass year) with no additional support",
    "p_with": "P(critical mass by the critical-mass year) with more and better support",
    "years_gained": "years by which more support brings critical mass forward (median, paired replicates)",
    "rise_without": "rise in the share running a mutual, 2012 to the critical-mass year, no additional "
                    "support (median)",
    "p_little": "P(little happens: the rise without additional support is below sim.claim.LITTLE of the "
                "threshold)",
}

PARTS = {**{part: claim.PARTS[part] for part in claim.CLAIM},
         "holds": "the claim holds (each of its parts answered yes)"}
"""The parts of the claim PRIM looks for, as :mod:`sim.claim` defines them, and the claim."""

BLOCK = 50
"""Design points per task."""


def uncertain_parameters() -> dict[str, Uncertainty]:
    """The verdict's uncertain parameters, from the schema's metadata."""
    return uncertainties(UNCERTAIN_SECTIONS)


def reached_year(share: np.ndarray, threshold: float, start_year: int) -> np.ndarray:
    """First year each replicate's share (R, years) reaches ``threshold``; a year after the
    horizon where it never does."""
    hit = share >= threshold
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), share.shape[1])
    return start_year + first


def outcomes(without: np.ndarray, with_: np.ndarray, run, start_year: int) -> dict[str, float]:
    """:data:`OUTCOMES` of one point from its shares running a mutual, (R, years) each, on paired
    replicates."""
    theta, cm = run.critical_mass_threshold, run.critical_mass_year
    year_without = reached_year(without, theta, start_year)
    year_with = reached_year(with_, theta, start_year)
    t2012, tcm = 2012 - start_year, cm - start_year
    rise = without[:, tcm] - without[:, t2012]
    return dict(p_without=float((year_without <= cm).mean()), p_with=float((year_with <= cm).mean()),
                years_gained=float(np.median(year_without - year_with)), rise_without=float(np.median(rise)),
                p_little=float(claim.little(rise, theta).mean()))


def parts(table: pd.DataFrame) -> pd.DataFrame:
    """:data:`PARTS` answered at each point from its outcomes, by :func:`sim.claim.answer`."""
    probability = {"little_without": table["p_little"], "slow_without": table["p_without"],
                   "built_with": table["p_with"]}
    out = pd.DataFrame({part: claim.answer(part, p) for part, p in probability.items()}, index=table.index)
    out["holds"] = claim.holds(out)
    return out


@dataclass(frozen=True)
class PointOutcomes:
    """:data:`OUTCOMES` of each point of a block of design rows (the function an evaluator's
    workers run): both policies on the same replicate seeds."""

    without: Scenario
    with_: Scenario
    replicates: int
    seed: int

    def __call__(self, rows: list[dict]) -> list[dict]:
        share = MEASURES.index("share_with_mutual")
        seeds = replicate_seeds(self.seed, self.replicates)
        scenarios = [with_overrides(policy, row, "design") for row in rows for policy in (self.without, self.with_)]
        values = measures_batch(scenarios, [seeds] * len(scenarios))  # every point and policy in one batch
        return [outcomes(a[:, :, share], b[:, :, share], self.without.run, self.without.run.start_year)
                for a, b in zip(values[::2], values[1::2], strict=True)]


def evaluate_design(without: Scenario, with_: Scenario, design: pd.DataFrame, replicates: int,
                    seed: int, evaluator: Evaluator | None = None, progress: bool = False) -> pd.DataFrame:
    """The design with :data:`OUTCOMES` and :data:`PARTS` added, one row per point; every point
    on the same replicate seeds under both policies, in blocks of :data:`BLOCK` points run by
    ``evaluator`` (this process by default). The numbers do not depend on the evaluator."""
    evaluator = evaluator or Evaluator()
    rows = [{k: float(v) for k, v in r.items()} for r in design.to_dict("records")]
    blocks = [rows[i:i + BLOCK] for i in range(0, len(rows), BLOCK)]
    results = evaluator.map(PointOutcomes(without, with_, replicates, seed), blocks,
                            "design points" if progress else None, weight=len)
    table = pd.concat([design.reset_index(drop=True), pd.DataFrame([r for got in results for r in got])],
                      axis=1)
    return pd.concat([table, parts(table)], axis=1)


# --- PRIM -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A PRIM box: conditions, as limits on a few parameters, under which a part of the claim
    holds (``holds`` True) or fails (False)."""

    part: str
    holds: bool  # the box is where the part holds (True) or where it fails (False)
    share: float  # share of all points where the part holds
    coverage: float  # share of the points of interest (holds == ``holds``) inside the box
    density: float  # share of the points inside the box that are of interest
    mass: float  # share of all points inside the box
    limits: pd.DataFrame  # parameter, low, high, qp (quasi-p value of the restriction)
    dims_for_density: int | None  # parameters restricted by the first box of density >= 0.8


MAX_DIMS = 4
"""At most this many parameters restricted by a reported box: a condition a reader can hold in mind."""
MIN_DENSITY = 0.8
"""A box is *dense* where at least this share of its points have the answer looked for (the usual
target in scenario discovery)."""


def prim_box(x: pd.DataFrame, y: np.ndarray, part: str, target: bool | None = None) -> Box | None:
    """The EMA Workbench's PRIM box where ``y`` (bool per point of ``x``) equals ``target`` (by
    default its rarer value): on the peeling trajectory, the densest box that restricts at most
    :data:`MAX_DIMS` parameters (a condition a reader can hold in mind; of equally dense ones,
    the largest coverage). None where no point or every point has it. ``dims_for_density``
    says how many parameters a box must restrict to reach a density of :data:`MIN_DENSITY`, if
    any box does."""
    y = np.asarray(y, dtype=bool)
    target = bool(y.mean() < 0.5) if target is None else target  # the rarer of the two
    interest = y if target else ~y
    if interest.all() or not interest.any():
        return None
    with warnings.catch_warnings():
        # the workbench 3.0 warns on import without ipyparallel, and uses pandas' deprecated inplace
        warnings.filterwarnings("ignore", message="ipyparallel not installed")
        warnings.filterwarnings("ignore", message="The inplace keyword")
        from ema_workbench.analysis import prim

        finder = prim.Prim(x.reset_index(drop=True), interest.astype(int), peel_alpha=0.05, mass_min=0.05)
        box = finder.find_box()
    trajectory = box.peeling_trajectory
    simple = trajectory[trajectory["res_dim"] <= MAX_DIMS].sort_values(["density", "coverage"])
    box.select(int(simple.index[-1]))
    stats, lims = box.inspect(style="data")[0]
    dense = trajectory.loc[trajectory["density"] >= MIN_DENSITY, "res_dim"]
    limits = pd.DataFrame({"parameter": lims.index, "low": lims.iloc[:, 0].to_numpy(dtype=float),
                           "high": lims.iloc[:, 1].to_numpy(dtype=float),
                           "qp": np.nanmin(lims.iloc[:, 2:].to_numpy(dtype=float), axis=1)})
    return Box(part, target, float(y.mean()), float(stats["coverage"]), float(stats["density"]),
               float(stats["mass"]), limits.reset_index(drop=True),
               int(dense.min()) if len(dense) else None)


# --- Sobol -------------------------------------------------------------------------------------


def sobol_design(params: dict[str, Uncertainty], n: int, seed: int) -> pd.DataFrame:
    """SALib's Saltelli-Sobol sample (first and total order), ``n`` (a power of two) base points:
    ``n * (d + 2)`` rows."""
    from SALib.sample import sobol

    x = sobol.sample(salib_problem(list(params)), n, calc_second_order=False, seed=seed)
    return pd.DataFrame(x, columns=list(params))


def sobol_indices(params: dict[str, Uncertainty], table: pd.DataFrame, seed: int,
                  outcomes_: tuple[str, ...] = ("p_without", "p_with", "years_gained")) -> pd.DataFrame:
    """First- and total-order Sobol indices, with 95% confidence half-widths, of each outcome:
    one row per parameter, columns ``S1_<outcome>``, ``S1_conf_<outcome>``, ``ST_<outcome>``,
    ``ST_conf_<outcome>``. A constant outcome gets NaN (nothing to apportion)."""
    from SALib.analyze import sobol

    problem = salib_problem(list(params))
    out = pd.DataFrame({"parameter": list(params)})
    for name in outcomes_:
        y = table[name].to_numpy(dtype=float)
        if np.ptp(y) == 0:
            for k in ("S1", "S1_conf", "ST", "ST_conf"):
                out[f"{k}_{name}"] = np.nan
            continue
        with warnings.catch_warnings():  # SALib warns where a block of its sample is constant
            warnings.filterwarnings("ignore", message="Constant values encountered")
            res = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
        for k in ("S1", "S1_conf", "ST", "ST_conf"):
            out[f"{k}_{name}"] = np.asarray(res[k])
    return out
