"""Scenario files in, with the project's one error format.

A scenario file is TOML. It may name one or more parents with ``extends`` (paths relative to the
file) and list only what it changes; parents are merged first, in order, then the file itself.

Errors are raised as :class:`ScenarioError`, whose message names the file, the key, what is
allowed and what was given; pydantic's validation errors are translated into it. The command
line prints it and exits with code 2.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ScenarioError
from .fields import descend
from .scenario import Scenario, parameter_paths

__all__ = ["load_scenario", "read_toml", "scenario_from_dict"]


def _deep_merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "trajectory":
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def read_toml(path: Path, what: str) -> dict:
    """A TOML file's contents; :class:`ScenarioError` naming ``what`` and the file if it is
    missing, not UTF-8 text or not valid TOML."""
    if path.is_dir():
        raise ScenarioError(f"{what} {path} is a folder; give the files in it (for example {path}/*.toml)")
    if not path.is_file():
        raise ScenarioError(f"{what} {path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a UTF-8 text file") from None


def _read_toml(path: Path, chain: tuple[Path, ...]) -> dict:
    if path in chain:
        loop = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(f"{chain[-1]}: key 'extends': the files extend each other in a loop: {loop}")
    data = read_toml(path, f"{chain[-1]}: key 'extends': parent" if chain else "scenario file")
    parents = data.pop("extends", [])
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ScenarioError(
            f"{path}: key 'extends': allowed a file name or a list of file names; given {parents!r}"
        )
    merged: dict = {}
    for parent in parents:
        parent_data = _read_toml((path.parent / parent).resolve(), (*chain, path))
        parent_data.pop("name", None)
        parent_data.pop("description", None)
        merged = _deep_merge(merged, parent_data)
    return _deep_merge(merged, data)


def _section_of(model: type[BaseModel], part: Any) -> type[BaseModel] | None:
    """The section that ``part`` of ``model`` is (for a list of sections, their model), or None."""
    if isinstance(part, int):  # an item of a list of models
        return model
    field = model.model_fields.get(part)
    if field is None:
        return None
    model = field.annotation
    args = getattr(model, "__args__", ())
    if getattr(model, "__origin__", None) is list and args:
        model = args[0]
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    return model


def _model_at(loc: tuple, root: type[BaseModel] | None = None) -> type[BaseModel] | None:
    return descend(root or Scenario, loc[:-1], _section_of)


_EXPECTED = {"float_type": "a number", "int_type": "a whole number", "int_from_float": "a whole number",
             "bool_type": "true or false", "string_type": "a string"}
_RANGE = ("greater_than_equal", "less_than_equal", "greater_than", "less_than")


def _bounds(field) -> tuple[float | None, float | None]:
    """A field's allowed range (``ge``/``le``), None where open."""
    low = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), None)
    return low, high


def _num(x: float | None) -> str:
    return "any" if x is None else f"{x:g}"


def _toml(value: Any) -> str:
    """A value as a scenario file writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _toml_type(value: Any) -> str:
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a float", list: "an array",
             dict: "a table"}
    return next((n for t, n in names.items() if isinstance(value, t)), type(value).__name__)


def _describe(source: str, err: ValidationError, root: type[BaseModel] | None = None) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        given = e.get("input")
        if e["type"] == "extra_forbidden":
            model = _model_at(loc, root)
            valid = sorted(model.model_fields) if model else []
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            if not close and root is None:  # perhaps it belongs to another table
                names = {p.rsplit(".", 1)[-1]: p for p in parameter_paths()}
                near = difflib.get_close_matches(str(loc[-1]), list(names), n=1)
                close = [names[near[0]]] if near else []
            hint = f"; did you mean '{close[0]}'?" if close else ""
            lines.append(
                f"{source}: unknown key '{key}'{hint} allowed here: {', '.join(valid)}"
            )
            continue
        model = _model_at(loc, root)
        field = model.model_fields.get(loc[-1]) if model and isinstance(loc[-1], str) else None
        unit = f" ({field.description})" if field is not None and field.description else ""
        if e["type"] == "missing":
            lines.append(f"{source}: key '{key}' is required{unit} but missing")
            continue
        if e["type"] in _EXPECTED:
            lines.append(f"{source}: key '{key}': expected {_EXPECTED[e['type']]}{unit}; "
                         f"given {_toml(given)} ({_toml_type(given)})")
        elif e["type"] in _RANGE and field is not None:
            low, high = _bounds(field)
            lines.append(f"{source}: key '{key}': allowed {_num(low)} to {_num(high)}{unit}; given {_toml(given)}")
        else:
            lines.append(f"{source}: key '{key}': {e['msg']}{unit}; given {given!r}")
    return "\n".join(lines)


def scenario_from_dict(data: dict, source: str = "<scenario>") -> Scenario:
    """Validate a dictionary (as read from TOML) into a :class:`Scenario`."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_describe(source, err)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    A file without ``name`` takes its file name (without ``.toml``)."""
    path = Path(path).resolve()
    data = _read_toml(path, ())
    data.setdefault("name", path.stem)
    return scenario_from_dict(data, str(path))
