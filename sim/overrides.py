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

__all__ = ["MECHANISMS", "with_overrides", "without"]


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
}
"""The mechanisms added to fit the record (docs/ODD.md), each with the overrides that switch it
off. With all of them off the model is the one of earlier versions, to the bit."""


def without(scenario: Scenario, *mechanisms: str) -> Scenario:
    """``scenario`` with the named :data:`MECHANISMS` switched off."""
    unknown = sorted(set(mechanisms) - set(MECHANISMS))
    if unknown:
        raise ScenarioError(f"unknown mechanism {', '.join(unknown)}; allowed: {', '.join(MECHANISMS)}")
    overrides = {k: v for name in mechanisms for k, v in MECHANISMS[name].items()}
    return with_overrides(scenario, overrides, f"{scenario.name} without {', '.join(mechanisms)}")


