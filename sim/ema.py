"""The model as an EMA Workbench model (the workbench is a dependency): uncertainties from the
schema's plausible ranges, levers from the allowed ranges, outcomes from :func:`sim.api.run`.

>>> from ema_workbench import perform_experiments
>>> from sim import ema, load_scenario
>>> model = ema.model(load_scenario("scenarios/december_2012.toml"), replicates=20)
>>> experiments, outcomes = perform_experiments(model, scenarios=100)   # doctest: +SKIP

EMA names must be Python identifiers, so a dotted path such as ``behaviour.peer_weight`` is
named ``behaviour__peer_weight`` (:func:`name`, :func:`path`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from .api import DEFAULT_OUTCOMES, check_outcomes, run
from .errors import ScenarioError
from .scenario import Scenario, parameter_paths
from .scenario import uncertainties as _uncertainties

with warnings.catch_warnings():  # the workbench 3.0 warns on import without ipyparallel
    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    import ema_workbench as ew


def name(path: str) -> str:
    return path.replace(".", "__")


def path(name_: str) -> str:
    return name_.replace("__", ".")


def uncertainties(paths: Sequence[str] | None = None) -> list:
    """``RealParameter`` s over the plausible ranges of ``paths`` (every uncertain one if None)."""
    every = _uncertainties()
    paths = list(every) if paths is None else list(paths)
    missing = [p for p in paths if p not in every]
    if missing:
        raise ScenarioError(f"ema.uncertainties: no plausible range for {', '.join(missing)}")
    return [ew.RealParameter(name(p), every[p].low, every[p].high) for p in paths]


def levers(ranges: dict[str, tuple[float, float]]) -> list:
    """``RealParameter`` s for policy levers (say support budgets), each within its allowed range."""
    known = parameter_paths()
    out = []
    for p, (low, high) in ranges.items():
        if p not in known:
            raise ScenarioError(f"ema.levers: unknown parameter '{p}'")
        allowed_low, allowed_high, _ = known[p]
        if (allowed_low is not None and low < allowed_low) or (allowed_high is not None and high > allowed_high):
            raise ScenarioError(f"ema.levers: {p}: allowed {allowed_low} to {allowed_high}; given {low} to {high}")
        out.append(ew.RealParameter(name(p), low, high))
    return out


class _Function:
    """The model function EMA calls: keyword arguments (EMA names) -> outcomes. Picklable, so
    that EMA's multiprocessing evaluator can send it to its workers."""

    def __init__(self, scenario: Scenario, outcomes: Sequence[str], replicates: int, seed: int):
        self.scenario, self.outcomes, self.replicates, self.seed = scenario, tuple(outcomes), replicates, seed

    def __call__(self, **kwargs) -> dict[str, float]:
        params = {path(k): float(v) for k, v in kwargs.items()}
        return run(self.scenario, params, replicates=self.replicates, seed=self.seed, outcomes=self.outcomes)


def model(scenario: Scenario, *, uncertain: Sequence[str] | None = None,
          lever_ranges: dict[str, tuple[float, float]] | None = None,
          outcomes: Sequence[str] = DEFAULT_OUTCOMES, replicates: int = 20, seed: int = 1):
    """A ready ``ema_workbench.Model``: the scenario's uncertain parameters (``uncertain``: which;
    every one if None), optional levers, and scalar outcomes of :func:`sim.api.run` on
    ``replicates`` common replicates (the same seeds at every point)."""
    check_outcomes(outcomes)
    m = ew.Model(name(scenario.name).replace("-", "_"), function=_Function(scenario, outcomes, replicates, seed))
    m.uncertainties = uncertainties(uncertain)
    if lever_ranges:
        m.levers = levers(lever_ranges)
    m.outcomes = [ew.ScalarOutcome(o) for o in outcomes]
    return m


def initialise_worker() -> None:
    """Warm the compiled code in a worker process (give it to a process pool's ``initializer``):
    the first simulation in a process loads the compiled rules, about a second."""
    from .scenario import Scenario as _S
    from .simulation import simulate

    simulate(_S(), replicates=1, seed=1, engine="ensemble")
