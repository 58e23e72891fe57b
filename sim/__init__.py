"""Agent-based model of English local authorities' uptake of mutuals and co-operatives.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/baseline.toml")
>>> table = sim.simulate(scenario, replicates=100, seed=1)
>>> sim.run(scenario, {"behaviour.peer_weight": 0.4}, replicates=100, seed=1)   # named outcomes
>>> sim.parameters("uncertain")                                                # paths, ranges
"""

from ._compiled import use_keyed_cache

use_keyed_cache()  # before the compiled rules are defined

from .api import parameters, run, salib_problem  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario, with_overrides  # noqa: E402
from .simulate import simulate  # noqa: E402

__all__ = ["Scenario", "ScenarioError", "load_scenario", "parameters", "run", "salib_problem", "simulate",
           "with_overrides"]
__version__ = "0.1.0"
