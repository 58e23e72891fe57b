"""Agent-based model of English local authorities' uptake of mutuals and co-operatives.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/baseline.toml")
>>> table = sim.simulate(scenario, replicates=100, seed=1)
"""

from ._compiled import use_keyed_cache

use_keyed_cache()  # before the compiled rules are defined

from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402
from .simulate import simulate  # noqa: E402

__all__ = ["Scenario", "ScenarioError", "load_scenario", "simulate"]
__version__ = "0.1.0"
