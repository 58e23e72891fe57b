"""Agent-based model of English local authorities' uptake of mutuals and co-operatives.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/baseline.toml")
>>> table = sim.simulate(scenario, replicates=100, seed=1)
>>> sim.run(scenario, {"behaviour.peer_weight": 0.4}, replicates=100, seed=1)   # named outcomes
>>> sim.parameters("uncertain")                                                # paths, ranges

Names are imported on first use, so that ``import sim`` (and ``mutuals --help``) stays quick.
"""

from importlib import import_module

__all__ = ["Scenario", "ScenarioError", "load_scenario", "parameters", "run", "salib_problem", "simulate",
           "with_overrides"]
__version__ = "0.1.0"

_WHERE = {"Scenario": "scenario", "ScenarioError": "errors", "load_scenario": "loading",
          "with_overrides": "overrides", "parameters": "api", "run": "api",
          "salib_problem": "api", "simulate": "simulation"}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
