"""What the scenario schema is built from, and the two ways it is walked.

Every section of the schema (:mod:`sim.scenario`, :mod:`sim.instruments`) is a ``_Section``
(unknown keys refused, assignment validated) and declares its numbers with ``_f`` (allowed
range, unit, basis, plausible range). :func:`walk_fields` visits every field of a schema by its
dotted path; :func:`descend` follows a dotted path down a scenario, its dictionary or its models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo


def _f(default: float, ge: float, le: float, unit: str, basis: str,
       plausible: tuple[float, float] | None = None) -> Any:
    """A float field with its allowed range, unit and basis (source or assumption).

    ``plausible`` marks an uncertain parameter: its plausible range, kept as structured metadata
    (``json_schema_extra``) for priors, sweeps and the verdict, with its scale: ``log`` where the
    range spans an order of magnitude or more, else ``linear`` (see
    :func:`sim.scenario.uncertainties`)."""
    extra = None
    if plausible is not None:
        low, high = (float(v) for v in plausible)
        scale = "log" if low > 0 and high / low >= 10 else "linear"
        extra = {"plausible": [low, high], "scale": scale}
    return Field(default, ge=ge, le=le, description=f"{unit}; {basis}", json_schema_extra=extra)


class _Section(BaseModel):
    """A part of the schema: unknown keys are refused, every assignment is validated, and types
    are strict (a TOML boolean or string where a number is expected is refused, not converted;
    an integer is a number)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, strict=True)


class SchemaField(NamedTuple):
    """A field of the schema that is not itself a section: its dotted ``path``, its pydantic
    ``info`` (annotation, bounds, description, extra metadata) and its ``default`` value."""

    path: str
    info: FieldInfo
    default: Any


def walk_fields(model: type[BaseModel], prefix: str = "") -> Iterator[SchemaField]:
    """Every field of ``model``, depth first in declaration order; a field that is a section
    (a model of its own) is walked into rather than given."""
    defaults = model()
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from walk_fields(ann, f"{prefix}{name}.")
        else:
            yield SchemaField(f"{prefix}{name}", info, getattr(defaults, name))


def descend(root: Any, parts: Iterable[Any], step: Callable[[Any, Any], Any]) -> Any:
    """Where a dotted path's ``parts`` lead from ``root`` (a scenario, a section's model, a
    scenario as a dictionary), taking ``step(node, part)`` at each; None as soon as a step leads
    nowhere."""
    node = root
    for part in parts:
        node = step(node, part)
        if node is None:
            return None
    return node
