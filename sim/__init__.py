"""Agent-based model of English local authorities' uptake of mutuals and co-operatives.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/baseline.toml")
>>> table = sim.simulate(scenario, replicates=100, seed=1)
"""

from .scenario import Scenario, ScenarioError, load_scenario
from .simulate import simulate

__all__ = ["Scenario", "ScenarioError", "load_scenario", "simulate"]
__version__ = "0.1.0"
