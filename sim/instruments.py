"""The support instruments: each declared once, as a section of the scenario schema.

An instrument runs in windows (:class:`Window`: budget, start, end); its kind (:class:`Rationed`
money, a :class:`Programme`, a :class:`Statutory` right) says how strong it is in a window and
what it spends, and the instrument says what it changes in a year (a subset of
:data:`EFFECTS`). :class:`Support` lists them, in the order the engines visit them; adding an
instrument is a class here and a field of :class:`Support` (docs/ODD.md, "Adding an
instrument").
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from .fields import _f, _Section

__all__ = ["EFFECTS", "INSTRUMENTS", "Support", "Window", "Rationed", "Programme", "Statutory",
           "Grants", "Advice", "Evidence", "TestedModels", "Barriers", "RightToChallenge"]


class Window(_Section):
    """A period in which an instrument runs, with its budget spread evenly over the period."""

    start: float = Field(2013.0, ge=1990, le=2150, description="decimal year it starts; lever")
    end: float = Field(2020.0, ge=1990, le=2150, description="decimal year it ends; lever")
    budget: float = Field(
        0.0, ge=0, le=200, description="GBP m over the whole period, 0 = off; lever"
    )
    label: str = Field("", max_length=80, description="what the window stands for (for instance "
                       "'national push'); setting")

    @model_validator(mode="after")
    def _order(self) -> Window:
        if self.end <= self.start:
            raise ValueError(f"end must be after start; given start={self.start}, end={self.end}")
        return self


EFFECTS = ("cost_reduction", "time_reduction", "abandon_reduction", "risk_reduction",
           "visibility", "challenge_rate", "grant")
"""What an instrument can change in a year (:meth:`_Instrument.effects`), and how
:func:`sim.dynamics.year_context` joins the instruments': the shares of the transition cost, of
the preparation time, of abandonment and of the cost of failure removed (``*_reduction``,
independent: ``1 - prod(1 - r)``); the weight added to every non-peer's outcome
(``visibility``), the yearly Right to Challenge bids per service (``challenge_rate``) and the
GBP m a spin-out expects from grants (``grant``), added up."""


class _Instrument(Window):
    """A support instrument: its windows (budget, start, end), its effects and its kind.

    The kind (a subclass below) says how strong the instrument is in a window and what it
    spends; the instrument itself says what it changes (:meth:`effects`). Declaring a subclass
    and a field of :class:`Support` is all it takes to add one (docs/ODD.md, "Adding an
    instrument")."""

    title: ClassVar[str]
    """Its name for people (slider labels, figures)."""
    lever: ClassVar[str] = "budget"
    """The field a policy sets (``budget`` for money, ``rate`` for a statutory right)."""

    also: list[Window] = Field(
        default_factory=list, description="further periods (e.g. a second programme)"
    )

    def windows(self) -> list[Window]:
        return [self, *self.also]

    def funded(self, before: float = math.inf) -> bool:
        """Does it run in some window starting before ``before``?"""
        return any(w.start < before and w.budget > 0 for w in self.windows())

    def strength(self, window: Window) -> float:
        """How strong it is while ``window`` runs, from 0 (off) to 1 (full effect)."""
        raise NotImplementedError

    def effects(self, on, met) -> dict[str, Any]:
        """What it changes this year (keys from :data:`EFFECTS`), given its strength ``on`` (the
        share of the year it runs, times :meth:`strength`) and ``met``, the share of last year's
        requests its money met (1 for instruments that do not ration). Scalars, or arrays of
        replicates."""
        return {}

    def spend(self, on, allowance, preparing, accepted):
        """(GBP m spent, share of requests met) this year, given its strength ``on``, this
        year's ``allowance``, the ``preparing`` projects in preparation at the year's start and
        the ``accepted`` approved in it (scalars, or arrays of replicates)."""
        raise NotImplementedError

    def switched_off(self, after: float | None = None) -> _Instrument:
        """A copy that ends at ``after`` (windows starting later are dropped), or is off
        entirely if ``after`` is None."""
        windows = []
        for w in self.windows():
            if after is None or w.start >= after:
                w = w.model_copy(update={"budget": 0.0})
            elif w.end > after:
                w = w.model_copy(update={"end": after})
            windows.append(w)
        first, *rest = windows
        return self.model_copy(update={**first.model_dump(exclude={"also"}),
                                       "also": [w for w in rest if w.budget > 0]})


class Rationed(_Instrument):
    """Money paid per request (a grant per spin-out, advice per project), rationed pro rata
    when the year's allowance runs short: at full strength in any window with a budget; its
    effects scale with the share of last year's requests met."""

    def strength(self, window: Window) -> float:
        return 1.0 if window.budget > 0 else 0.0

    def demand(self, on, preparing, accepted):
        """GBP m asked for this year by ``preparing`` projects in preparation at its start and
        ``accepted`` approved in it."""
        raise NotImplementedError

    def spend(self, on, allowance, preparing, accepted):
        """The demand, pro rata within the allowance (:func:`sim.rules.ration`)."""
        from .rules import ration

        return ration(self.demand(on, preparing, accepted), allowance)


class Programme(_Instrument):
    """A national programme: its effect grows with its money up to ``full_effect_budget`` a
    year, and it spends its whole allowance while it runs."""

    full_effect_budget: float = _f(
        0.4, 0.01, 1000.0, "GBP m a year at which the programme has its full effect (less money, "
        "proportionally less effect)", "assumption 0.2-1", plausible=(0.2, 1)
    )

    def strength(self, window: Window) -> float:
        return min(1.0, window.budget / (window.end - window.start) / self.full_effect_budget)

    def spend(self, on, allowance, preparing, accepted):
        return np.where(on > 0, allowance, 0.0), 1.0


class Statutory(_Instrument):
    """A statutory right: in force at its ``rate`` from its start, at no cost to the centre."""

    lever: ClassVar[str] = "rate"
    rate: float = _f(0.0, 0.0, 1.0, "events per eligible service per year; 0 = off", "setting")

    def funded(self, before: float = math.inf) -> bool:
        return self.rate > 0 and self.start < before

    def strength(self, window: Window) -> float:
        return 1.0 if self.rate > 0 else 0.0

    def spend(self, on, allowance, preparing, accepted):
        return 0.0, 1.0

    def switched_off(self, after: float | None = None) -> _Instrument:
        ended = super().switched_off(after)
        if after is None or self.start >= after:
            ended = ended.model_copy(update={"rate": 0.0})
        return ended


class Grants(Rationed):
    title: ClassVar[str] = "Grants"
    per_spinout: float = _f(
        0.1, 0.0, 10.0, "GBP m towards one spin-out's transition cost", "assumption 0.02-0.5", plausible=(0.02, 0.5)
    )

    def offer(self, on):
        return np.where(on > 0, self.per_spinout, 0.0)

    def demand(self, on, preparing, accepted):
        return accepted * self.offer(on)

    def effects(self, on, met):
        return {"grant": self.offer(on) * met}


class Advice(Rationed):
    title: ClassVar[str] = "Advice"
    per_project: float = _f(
        0.05, 0.0, 5.0, "GBP m of advice per project per year",
        "Feb 2013: GBP 1m bought advice for 21 prospective mutuals [@WiredGov2013]",
    )
    cost_reduction: float = _f(
        0.3, 0.0, 1.0, "share of transition cost saved", "assumption 0.1-0.5",
        plausible=(0.1, 0.5),
    )
    time_reduction: float = _f(
        0.3, 0.0, 1.0, "share of preparation time saved", "assumption 0.1-0.5",
        plausible=(0.1, 0.5),
    )
    abandon_reduction: float = _f(
        0.5, 0.0, 1.0, "share of abandonment avoided", "assumption 0.2-0.7", plausible=(0.2, 0.7)
    )

    def demand(self, on, preparing, accepted):
        """Every project in preparation at the start of the year and every project approved in
        it asks for ``per_project`` a year, for the share of the year the programme runs."""
        return (preparing + accepted) * self.per_project * on

    def effects(self, on, met):
        """Advice reaches the share of projects that last year's money could pay for, times the
        share of this year it runs: its effect scales with the money actually spent."""
        coverage = met * on
        return {"cost_reduction": self.cost_reduction * coverage,
                "time_reduction": self.time_reduction * coverage,
                "abandon_reduction": self.abandon_reduction * coverage}


class Evidence(Programme):
    title: ClassVar[str] = "Evidence"
    visibility: float = _f(
        0.3, 0.0, 1.0, "weight added to every non-peer's outcome", "assumption 0.1-0.5", plausible=(0.1, 0.5)
    )

    def effects(self, on, met):
        return {"visibility": self.visibility * on}


class TestedModels(Programme):
    title: ClassVar[str] = "Tested models"
    cost_reduction: float = _f(
        0.2, 0.0, 1.0, "share of transition cost saved", "assumption 0.1-0.4",
        plausible=(0.1, 0.4),
    )
    time_reduction: float = _f(
        0.25, 0.0, 1.0, "share of preparation time saved", "assumption 0.1-0.4",
        plausible=(0.1, 0.4),
    )

    def effects(self, on, met):
        return {"cost_reduction": self.cost_reduction * on, "time_reduction": self.time_reduction * on}


class Barriers(Programme):
    title: ClassVar[str] = "Barriers"
    cost_reduction: float = _f(
        0.2, 0.0, 1.0, "share of transition cost saved", "assumption 0.1-0.4",
        plausible=(0.1, 0.4),
    )
    risk_reduction: float = _f(
        0.3, 0.0, 1.0, "share of the cost of failure removed (pensions, TUPE, working capital)",
        "assumption 0.1-0.5", plausible=(0.1, 0.5)
    )

    def effects(self, on, met):
        return {"cost_reduction": self.cost_reduction * on, "risk_reduction": self.risk_reduction * on}


class RightToChallenge(Statutory):
    title: ClassVar[str] = "Right to Challenge"
    start: float = Field(2012.49, ge=1990, le=2150,
                         description="decimal year; 27 June 2012 [@LocalismAct2011; @HC112, paras 39-40]")
    end: float = Field(2150.0, ge=1990, le=2150, description="decimal year; lever (still in force)")
    rate: float = _f(
        0.0, 0.0, 1.0, "bids per eligible service per year; 0 = off", "assumption 0.005-0.03", plausible=(0.005, 0.03)
    )

    def effects(self, on, met):
        return {"challenge_rate": self.rate * on}


class Support(_Section):
    """The instruments, in the order the engines visit them and the tables list them."""

    grants: Grants = Field(default_factory=Grants)
    advice: Advice = Field(default_factory=Advice)
    evidence: Evidence = Field(default_factory=Evidence)
    tested_models: TestedModels = Field(default_factory=TestedModels)
    barriers: Barriers = Field(default_factory=Barriers)
    right_to_challenge: RightToChallenge = Field(default_factory=RightToChallenge)

    def instruments(self) -> dict[str, _Instrument]:
        """Every instrument, by name."""
        return {name: getattr(self, name) for name in type(self).model_fields}


INSTRUMENTS = tuple(Support.model_fields)
