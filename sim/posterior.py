"""Scenarios under a calibrated posterior, for ``run``, ``compare``, ``phase`` and ``tipping``.

A calibrated posterior (``posterior.parquet``, :mod:`sim.calibrate`) is a table of weighted
particles, each a parameter set and a model structure. Under it a scenario is run as ``n``
*draws*: particles drawn by weight, with replacement, each run on ``r`` replicates of its own
seeds (root ``seed + draw``). Every draw then counts the same, so the ``n x r`` runs are a sample
of the posterior predictive: their spread holds parameter uncertainty and replicate noise
together. The same draws on the same seeds serve every policy (common random numbers), so that
policies differ only by the policy.

A tidy table under the posterior has a ``draw`` column (and ``particle``, the row of the
posterior drawn), and its ``replicate`` numbers every run, ``draw * r + replicate``, so that
pairing by replicate pairs the same draw and seed across policies. Probabilities from it carry
the Monte Carlo error of :func:`sim.averaging.estimate`, capped at the posterior's effective
sample size (:func:`probability`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .analysis import wilson_interval
from .averaging import effective_size, estimate
from .errors import ScenarioError
from .fields import descend
from .overrides import switched_off, with_overrides
from .scenario import Scenario, parameter_paths

DRAWS = 100
"""Posterior draws by default."""
REPLICATES = 5
"""Replicates per draw by default."""


def read_posterior(path: Path | str, source: str = "command line: --posterior") -> pd.DataFrame:
    """The posterior table ``mutuals calibrate`` writes; anything else is a :class:`ScenarioError`."""
    try:
        posterior = pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise ScenarioError(f"{source} {path}: not a readable posterior table ({err})") from None
    if "weight" not in posterior.columns or not len(posterior):
        raise ScenarioError(f"{source} {path}: no particles with a 'weight' column; give the "
                            "posterior.parquet that `mutuals calibrate` writes")
    return posterior


@dataclass(frozen=True)
class Draws:
    """``n`` particles of a posterior drawn by weight, as scenario overrides.

    ``design``: one row per draw, one column per parameter path (the particle's values, and the
    overrides that switch off the mechanisms its structure lacks); ``particle``: the posterior
    row each draw took; ``ess``: the posterior's effective sample size, which bounds what any
    number of draws can know; ``source``: where the posterior came from."""

    design: pd.DataFrame
    particle: np.ndarray
    ess: float
    replicates: int
    source: str = "posterior"

    @property
    def n(self) -> int:
        return len(self.design)

    def words(self) -> str:
        """What a band or probability under these draws is taken over."""
        return (f"{self.n} posterior draws x {self.replicates} replicates (parameter uncertainty and "
                "replicate noise)")


def drawn(posterior: pd.DataFrame, n: int, seed: int) -> np.ndarray:
    """The rows of ``n`` particles drawn from ``posterior`` by weight, with replacement, in the
    order drawn (seeded by ``seed``): drawing by joint weight averages over the structures by
    their posterior probabilities."""
    w = posterior["weight"].to_numpy(float)
    return np.random.default_rng(seed).choice(len(posterior), size=n, p=w / w.sum())


def overrides(particles: pd.DataFrame, scenario: Scenario, source: str = "posterior") -> pd.DataFrame:
    """Particles (parameter columns by dotted path, and ``model``, the structure, if given) as
    overrides of ``scenario``, one row each: their values, and the mechanisms their structure
    lacks switched off; a parameter that one structure switches off takes, in the others, the
    particle's value or else the scenario's own. Every row is checked against the scenario's
    ranges here, before any work."""
    rows = []
    for particle in particles.to_dict("records"):
        values = {k: float(v) for k, v in particle.items() if k not in ("model", "weight")}
        off = switched_off(particle["model"]) if "model" in particle else {}
        rows.append({**values, **off})
    design = pd.DataFrame(rows)
    unknown = sorted(set(design.columns) - set(parameter_paths()))
    if unknown:
        raise ScenarioError(f"{source}: unknown parameter(s) {', '.join(unknown)}; give the posterior.parquet "
                            "that `mutuals calibrate` of this version writes")
    for path in design.columns:  # switched off in some structures only
        design[path] = design[path].fillna(float(descend(scenario, path.split("."), getattr)))
    for row in design.drop_duplicates().to_dict("records"):  # refused before any work, not midway
        with_overrides(scenario, row, source)
    return design


def draws(posterior: pd.DataFrame, scenario: Scenario, n: int, replicates: int, seed: int,
          source: str = "posterior") -> Draws:
    """``n`` draws by weight (:func:`drawn`) from ``posterior``, as overrides of ``scenario``
    (:func:`overrides`)."""
    chosen = drawn(posterior, n, seed)
    return Draws(overrides(posterior.iloc[chosen], scenario, source), chosen,
                 effective_size(posterior["weight"]), replicates, source)


def replaced(scenario: Scenario, d: Draws) -> list[str]:
    """The parameters ``scenario`` sets away from the defaults that the draws replace with the
    posterior's values (a scenario that differs from another only there is, under the
    posterior, the same scenario)."""
    def value(root, path: str) -> float:
        return descend(root, path.split("."), getattr)

    defaults = Scenario()
    return [f"{path} = {value(scenario, path):g}" for path in d.design.columns
            if value(scenario, path) != value(defaults, path)]


def run_draws(scenario: Scenario, d: Draws, seed: int, evaluator=None, progress: bool = False) -> pd.DataFrame:
    """``scenario``'s tidy table under the draws ``d`` (the module's docstring), run by
    ``evaluator`` (this process by default)."""
    from .experiments import run_design

    table = run_design(scenario, d.design, d.replicates, seed, evaluator=evaluator, row_seeds=True,
                       progress=progress)
    table = table.drop(columns=list(d.design.columns)).rename(columns={"design_row": "draw"})
    table["particle"] = d.particle[table["draw"].to_numpy()]
    table["replicate"] = table["draw"] * d.replicates + table["replicate"]
    return table


def run_keys(frame: pd.DataFrame, *keys: str) -> tuple[str, ...]:
    """The keys of one run in ``frame``: ``keys`` then replicate, with the draw before it if
    the frame was run under a posterior."""
    return (*keys, "draw", "replicate") if "draw" in frame else (*keys, "replicate")


def probability(hit: pd.Series, ess: float | None = None) -> tuple[float, float, float]:
    """The probability of an event and its 95% interval: over replicates alone (``hit`` indexed
    by replicate) the Wilson interval; over posterior draws (indexed by draw, then replicate:
    :func:`run_keys`) :func:`sim.averaging.estimate` with every draw weighted the same, its
    interval no narrower than the posterior's effective sample size ``ess`` allows."""
    if hit.index.nlevels == 1:
        k, n = int(hit.sum()), len(hit)
        low, high = wilson_interval(k, n)
        return k / n, float(low), float(high)
    e = estimate(hit, pd.Series(1.0, index=hit.index.get_level_values(0).unique()), ess)
    return e["probability"], e["low"], e["high"]
