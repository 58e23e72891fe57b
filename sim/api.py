"""The public interface for outside tools (SALib, the EMA Workbench, notebooks): every parameter
with its metadata, one call from parameter values to named outcomes, and a SALib problem.

>>> import sim
>>> sim.parameters("uncertain").head()                      # doctest: +SKIP
>>> sim.run(scenario, {"behaviour.peer_weight": 0.4}, replicates=50, seed=1)  # doctest: +SKIP
{'p_critical_mass': 0.12, 'share_2020': 0.081, 'years_to_threshold': 14.0, 'support_spent': 10.0}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ScenarioError
from .overrides import with_overrides
from .scenario import Scenario, descriptions_by_path, parameter_paths, uncertainties

DEFAULT_OUTCOMES = ("p_critical_mass", "share_2020", "years_to_threshold", "support_spent")
"""The outcomes :func:`run` returns unless told otherwise."""

OUTCOME_PATTERNS = {
    r"p_critical_mass": "P(critical-mass threshold reached by the critical-mass year)",
    r"p_threshold_(\d{4})": "P(critical-mass threshold reached by the end of YEAR)",
    r"share_(\d{4})": "median share of authorities running a mutual in YEAR",
    r"live_mutuals_(\d{4})": "median number of live mutuals in YEAR",
    r"years_to_threshold": "median years from the start to the threshold (NaN if at least half the "
                           "replicates never reach it by the horizon)",
    r"support_spent": "median support spent by the horizon, GBP m",
}


def parameters(kind: str = "all") -> pd.DataFrame:
    """Every numeric parameter of the scenario schema, one row each: ``path`` (dotted),
    ``unit``, ``default``, allowed ``low`` and ``high``, and for uncertain ones their
    ``plausible_low``, ``plausible_high`` and ``scale`` (``linear`` or ``log``); ``basis`` is the
    source or assumption. ``kind``: ``all`` or ``uncertain``."""
    if kind not in ("all", "uncertain"):
        raise ValueError(f"kind: allowed 'all' or 'uncertain'; given {kind!r}")
    described = descriptions_by_path()
    uncertain = uncertainties()
    rows = []
    for path, (low, high, default) in parameter_paths().items():
        u = uncertain.get(path)
        if kind == "uncertain" and u is None:
            continue
        unit, _, basis = described.get(path, "").partition("; ")
        rows.append(dict(path=path, unit=unit, default=default, low=low, high=high,
                         plausible_low=u.low if u else np.nan, plausible_high=u.high if u else np.nan,
                         scale=u.scale if u else "", basis=basis))
    return pd.DataFrame(rows)


def check_outcomes(names: Sequence[str]) -> None:
    """Refuse an outcome name that :func:`run` does not know, listing those it does."""
    for name in names:
        if not any(re.fullmatch(p, name) for p in OUTCOME_PATTERNS):
            raise ScenarioError(f"outcome {name!r}: allowed {', '.join(OUTCOME_PATTERNS)} "
                                "(YEAR a four-digit year)")


def outcomes_of(table: pd.DataFrame, scenario: Scenario, names: Sequence[str]) -> dict[str, float]:
    """Named scalar outcomes of one tidy table (:func:`sim.simulate`'s) of ``scenario``."""
    from .analysis import year_quantile, year_reached

    run = scenario.run
    reached = year_reached(table, run.critical_mass_threshold)
    horizon = int(table["year"].max())

    def at(measure: str, year: int) -> pd.Series:
        if not run.start_year <= year <= horizon:
            raise ScenarioError(f"outcome year {year}: allowed {run.start_year} to {horizon}")
        return table.loc[table["year"] == year, measure]

    out = {}
    for name in names:
        if name == "p_critical_mass":
            out[name] = float((reached <= run.critical_mass_year).mean())
        elif m := re.fullmatch(r"p_threshold_(\d{4})", name):
            out[name] = float((reached <= int(m.group(1))).mean())
        elif m := re.fullmatch(r"share_(\d{4})", name):
            out[name] = float(at("share_with_mutual", int(m.group(1))).median())
        elif m := re.fullmatch(r"live_mutuals_(\d{4})", name):
            out[name] = float(at("live_mutuals", int(m.group(1))).median())
        elif name == "years_to_threshold":
            out[name] = year_quantile(reached, 0.5, horizon) - run.start_year
        elif name == "support_spent":
            out[name] = float(at("cumulative_support_spent", horizon).median())
        else:
            check_outcomes([name])
    return out


def run(scenario: Scenario, params: Mapping[str, float] | None = None, *, replicates: int | None = None,
        seed: int | None = None, outcomes: Sequence[str] = DEFAULT_OUTCOMES) -> dict[str, float]:
    """Run ``scenario`` with ``params`` (dotted paths) on ``replicates`` seeded replicates and
    return the named ``outcomes`` (see :data:`OUTCOME_PATTERNS`), each a float. The same
    arguments give the same numbers."""
    from .simulation import simulate

    check_outcomes(outcomes)
    s = with_overrides(scenario, dict(params or {}), "run") if params else scenario
    table = simulate(s, replicates=replicates, seed=seed, engine="ensemble")
    return outcomes_of(table, s, outcomes)


def salib_problem(paths: Sequence[str] | None = None,
                  ranges: Mapping[str, tuple[float, float]] | None = None) -> dict:
    """A SALib problem over the plausible ranges of ``paths`` (every uncertain parameter if
    None); a path without a plausible range takes its range from ``ranges``, and is refused if
    that has none. SALib samples uniformly: for a ``log``-scale parameter, sample its logarithm
    and exponentiate, or accept the uniform."""
    every = {p: (u.low, u.high) for p, u in uncertainties().items()}
    every = {**(ranges or {}), **every}
    paths = list(uncertainties()) if paths is None else list(paths)
    missing = [p for p in paths if p not in every]
    if missing:
        raise ScenarioError(f"salib_problem: no plausible range for {', '.join(missing)}; allowed the "
                            "uncertain parameters (sim.parameters('uncertain'))")
    return {"num_vars": len(paths), "names": paths, "bounds": [list(every[p]) for p in paths]}
