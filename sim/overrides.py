"""Scenarios changed by dotted path: any parameter (:func:`with_overrides`), or the
mechanisms added to fit the record switched off (:data:`MECHANISMS`, :func:`without`).
"""

from __future__ import annotations

import difflib
from typing import Any

from .errors import ScenarioError
from .fields import descend
from .loading import scenario_from_dict
from .scenario import Scenario, parameter_paths

__all__ = ["MECHANISMS", "PLATEAU", "STRUCTURES", "switched_off", "with_particle", "with_overrides", "without"]


def with_overrides(scenario: Scenario, overrides: dict[str, Any], source: str = "overrides") -> Scenario:
    """A copy of ``scenario`` with dotted-path values replaced, validated again."""
    data = scenario.model_dump()
    for path, value in overrides.items():
        parts = path.split(".")
        node = descend(data, parts[:-1], lambda node, part: node.get(part) if isinstance(node, dict) else None)
        if not isinstance(node, dict) or parts[-1] not in node:
            close = difflib.get_close_matches(path, sorted(parameter_paths()), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ScenarioError(f"{source}: unknown parameter '{path}'{hint}")
        node[parts[-1]] = value
    return scenario_from_dict(data, source)


MECHANISMS: dict[str, dict[str, float]] = {
    "options_appraisal": {"behaviour.alternative_savings_rate": 0.0},
    "contracts": {"mutuals.contract_years": 0.0},
    "bad_news": {"behaviour.bad_news_weight": 0.0},
    "finite_capacity": {"behaviour.capacity_per_project": 0.0, "behaviour.reserves_drawdown": 0.0},
    "recent_pressure": {"behaviour.pressure_adaptation": 0.0},
    "ready_pool": {"population.ready_share": 1.0, "population.readiness_growth": 0.0},
    "attention": {"behaviour.attention_floor": 1.0},
    "organisations": {"mutuals.services_per_organisation": 1.0},
}
"""The mechanisms added to fit the record (docs/ODD.md section 7), each with the overrides
that switch it off. With all of them off the model is the one of earlier versions, to the bit."""

PLATEAU = ("recent_pressure", "ready_pool", "attention", "organisations")
"""The mechanisms that can end a burst in a plateau (docs/ODD.md section 7), which the model
selection compares: the others of :data:`MECHANISMS` were added to fit 2010-2014."""


def without(scenario: Scenario, *mechanisms: str) -> Scenario:
    """``scenario`` with the named :data:`MECHANISMS` switched off."""
    unknown = sorted(set(mechanisms) - set(MECHANISMS))
    if unknown:
        raise ScenarioError(f"unknown mechanism {', '.join(unknown)}; allowed: {', '.join(MECHANISMS)}")
    overrides = {k: v for name in mechanisms for k, v in MECHANISMS[name].items()}
    return with_overrides(scenario, overrides, f"{scenario.name} without {', '.join(mechanisms)}")




STRUCTURES: dict[str, tuple[str, ...]] = {
    "extended": (),
    **{f"without {name}": (name,) for name in PLATEAU},
    "structure of 2014": PLATEAU,
}
"""The model structures the calibration compares, each with the mechanisms it switches off:
the extended model, the extended model without each mechanism of :data:`PLATEAU`, and the
structure calibrated to 2014 (all of them off)."""


def switched_off(structure: str) -> dict[str, float]:
    """The overrides that make ``structure`` (a key of :data:`STRUCTURES`) of the extended model."""
    if structure not in STRUCTURES:
        raise ScenarioError(f"unknown structure {structure!r}; allowed: {', '.join(STRUCTURES)}")
    return {k: v for name in STRUCTURES[structure] for k, v in MECHANISMS[name].items()}


def with_particle(scenario: Scenario, particle: dict[str, Any], source: str = "posterior particle") -> Scenario:
    """``scenario`` under a posterior particle: its parameter values (dotted paths) and, if it
    has a ``model`` entry, that structure's mechanisms switched off (after the values, so a
    mechanism a structure lacks stays off whatever value its parameters were drawn at)."""
    values = {k: v for k, v in particle.items() if k not in ("model", "weight")}
    off = switched_off(particle["model"]) if "model" in particle else {}
    return with_overrides(scenario, {**values, **off}, source)
