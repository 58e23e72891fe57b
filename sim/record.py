"""The record the model is calibrated on: observed counts of mutuals, each with its error model.

A record file is TOML (``scenarios/calibration/record.toml``), validated by one pydantic schema;
a wrong file raises :class:`sim.errors.ScenarioError` naming the file and the key, as a wrong
scenario does. :func:`model_values` reads what the model says of each observation from a run's
measures; :func:`distance` compares the two under the record's error model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ScenarioError
from .loading import _describe, read_toml

MEASURES = ("new_spinouts", "live_mutuals", "in_preparation")


class Observation(BaseModel):
    """One figure of the record."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="a short identifier")
    date: float = Field(ge=1990, le=2150, description="decimal year the figure describes")
    since: float | None = Field(None, ge=1990, le=2150,
                                description="start of the period, for new_spinouts")
    measure: Literal["new_spinouts", "live_mutuals", "in_preparation"]
    counts: Literal["local_authority", "all_sectors"] = Field(
        description="local-authority spin-outs, or mutuals of every sector (an upper bound, or "
        "the local-authority count over its `share`)")
    value: float = Field(ge=0, description="the figure")
    share: float | None = Field(None, gt=0, le=1,
                                description="local government's share of an all-sector figure, "
                                            "for a two-sided (lognormal) all-sector observation")
    error: Literal["lognormal", "upper_bound"]
    sigma: float = Field(gt=0, le=5, description="sd of the error on the log scale")
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Observation:
        if self.measure == "new_spinouts" and self.since is None:
            raise ValueError("a new_spinouts observation needs 'since', the start of its period")
        if self.since is not None and self.since >= self.date:
            raise ValueError(f"since must be before date; given since={self.since}, date={self.date}")
        if self.counts == "all_sectors" and self.error == "lognormal" and self.share is None:
            raise ValueError("a two-sided count of all sectors needs 'share', local government's "
                             "share of it; without one it only bounds the local-authority count "
                             "(error = 'upper_bound')")
        if self.share is not None and not (self.counts == "all_sectors" and self.error == "lognormal"):
            raise ValueError("'share' belongs to a lognormal count of all sectors only")
        return self


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    observation: list[Observation] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Record:
        names = [o.name for o in self.observation]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"observation names must be unique; repeated: {', '.join(repeated)}")
        return self

    def until(self, date: float) -> Record:
        """The observations dated up to ``date`` (for a holdout)."""
        kept = [o for o in self.observation if o.date <= date]
        if not kept:
            raise ScenarioError(f"record: no observation is dated on or before {date}")
        return Record(description=f"{self.description} (up to {date})", observation=kept)

    @property
    def last_date(self) -> float:
        return max(o.date for o in self.observation)


def load_record(path: str | Path) -> Record:
    """Read and validate a record file."""
    path = Path(path)
    data = read_toml(path, "record file")
    try:
        return Record.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_describe(str(path), err, Record)) from None


def at(series: np.ndarray, start_year: int, date: float) -> np.ndarray:
    """A yearly measure (..., years; row ``t`` is the state at ``start_year + t``) at a decimal
    date, linearly interpolated between the years either side."""
    t = date - start_year
    low = int(np.floor(t))
    high = min(low + 1, series.shape[-1] - 1)
    w = t - low
    return (1.0 - w) * series[..., low] + w * series[..., high]


def model_values(record: Record, measures: dict[str, np.ndarray], start_year: int,
                 per_organisation=1.0) -> dict[str, np.ndarray]:
    """What the model says of each observation, from yearly measures (each (..., years)):
    ``cumulative_spinouts``, ``live_mutuals`` and ``in_preparation``, counts of services. The
    record counts organisations: each count is divided by ``per_organisation`` (services per
    mutual, ``mutuals.services_per_organisation``; a scalar or an array broadcast against the
    measures' leading axes), and a two-sided all-sector figure is compared with the
    local-authority count over its ``share``."""
    out = {}
    per = np.asarray(per_organisation, dtype=float)
    for o in record.observation:
        if o.measure == "new_spinouts":
            series = measures["cumulative_spinouts"]
            count = at(series, start_year, o.date) - at(series, start_year, o.since)
        else:
            count = at(measures[o.measure], start_year, o.date)
        out[o.name] = count / per / (o.share or 1.0)
    return out


def standardised_errors(record: Record, simulated: dict) -> np.ndarray:
    """Each observation's error on the log scale in units of its sigma: ``(log(1 + model) -
    log(1 + value)) / sigma`` for a lognormal figure; for an upper bound only the excess above
    it, 0 when the bound holds."""
    errors = []
    for o in record.observation:
        e = (np.log1p(np.asarray(simulated[o.name], dtype=float)) - np.log1p(o.value)) / o.sigma
        errors.append(np.maximum(e, 0.0) if o.error == "upper_bound" else e)
    return np.array(errors)


def distance(record: Record, simulated: dict) -> float:
    """Root sum of squared standardised errors: 1 is one standard error in all."""
    return float(np.sqrt(np.sum(standardised_errors(record, simulated) ** 2)))
