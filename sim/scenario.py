"""Scenario files: one pydantic schema holding every default, unit and allowed range.

A scenario file is TOML. It may name one or more parents with ``extends`` (paths relative to the
file) and list only what it changes; parents are merged first, in order, then the file itself.
Every field's description says its unit and whether its default rests on a source (see
``docs/ODD.md``) or is an assumption with a plausible range.

Errors are raised as :class:`ScenarioError`, whose message names the file, the key, what is
allowed and what was given. The command line prints it and exits with code 2.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

__all__ = [
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "scenario_from_dict",
    "parameter_paths",
    "with_overrides",
    "uncertainties",
    "Uncertainty",
    "MECHANISMS",
    "without",
]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message is meant for the user as it stands."""


def _f(default: float, ge: float, le: float, unit: str, basis: str,
       plausible: tuple[float, float] | None = None) -> Any:
    """A float field with its allowed range, unit and basis (source or assumption).

    ``plausible`` marks an uncertain parameter: its plausible range, kept as structured metadata
    (``json_schema_extra``) for priors, sweeps and the verdict, with its scale: ``log`` where the
    range spans an order of magnitude or more, else ``linear`` (see :func:`uncertainties`)."""
    extra = None
    if plausible is not None:
        low, high = (float(v) for v in plausible)
        scale = "log" if low > 0 and high / low >= 10 else "linear"
        extra = {"plausible": [low, high], "scale": scale}
    return Field(default, ge=ge, le=le, description=f"{unit}; {basis}", json_schema_extra=extra)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class Run(_Section):
    start_year: int = Field(2010, ge=1990, le=2100, description="year; setting: state at t=0 (2010-11)")
    end_year: int = Field(2030, ge=1991, le=2150, description="year; setting: the horizon")
    critical_mass_threshold: float = _f(
        0.16, 0.01, 1.0, "share of authorities", "Rogers: innovators + early adopters = 16%"
    )
    critical_mass_year: int = Field(
        2020, ge=1990, le=2150,
        description="year by which the threshold must be reached; setting (the decade after HC 112)",
    )
    replicates: int = Field(100, ge=1, le=10_000_000, description="default number of replicates; setting")
    seed: int = Field(20121206, ge=0, le=2**63 - 1, description="default root seed; setting (HC 112's date)")

    @model_validator(mode="after")
    def _years(self) -> Run:
        if self.end_year <= self.start_year:
            raise ValueError(
                f"end_year must be after start_year; given start_year={self.start_year}, "
                f"end_year={self.end_year}"
            )
        if not self.start_year <= self.critical_mass_year <= self.end_year:
            raise ValueError(
                f"critical_mass_year must lie in [{self.start_year}, {self.end_year}]; "
                f"given {self.critical_mass_year}"
            )
        return self


class Population(_Section):
    structure: Literal["2012", "today"] = Field(
        "2012", description="353 principal councils of 2009-12 (DCLG) or the 317 of today"
    )
    services: Literal["by_kind", "single"] = Field(
        "by_kind",
        description="services each authority could spin out: by its kind, or one generic "
        "service each (the Bass docking case)",
    )
    initial_adopters: float = _f(
        0.02, 0.0, 1.0, "share of authorities running a mutual at t=0",
        "assumption 0-0.04 (9 public service mutuals of all kinds in 2010)", plausible=(0, 0.04)
    )
    deprivation_spread: float = _f(
        0.15, 0.0, 0.5, "sd of deprivation score around its regional mean", "assumption 0.05-0.25",
        plausible=(0.05, 0.25)
    )
    risk_aversion: float = _f(0.5, 0.0, 1.0, "mean risk aversion, 0-1", "assumption 0.2-0.8", plausible=(0.2, 0.8))
    risk_aversion_spread: float = _f(
        0.3, 0.0, 1.0, "half-width of the uniform spread", "assumption 0-0.5", plausible=(0, 0.5)
    )
    capacity: float = _f(
        0.6, 0.0, 1.0, "mean organisational capacity, 0-1", "assumption 0.3-0.9", plausible=(0.3, 0.9)
    )
    capacity_spread: float = _f(
        0.3, 0.0, 1.0, "half-width of the uniform spread", "assumption 0.1-0.4",
        plausible=(0.1, 0.4),
    )
    reserves: float = _f(
        1.0, 0.0, 100.0, "mean reserves free for up-front investment, GBP m",
        "assumption 0.25-4 (Oldham, Staffordshire: set-up finance is a barrier; HC 112 paras 50-51)",
        plausible=(0.25, 4)
    )
    reserves_spread: float = _f(
        0.5, 0.0, 1.0, "half-width, as a share of the mean", "assumption 0.25-0.75",
        plausible=(0.25, 0.75),
    )


def _actual_trajectory() -> dict[int, float]:
    # Real-terms change in spending power, by year; compounds to -28.6% from 2010-11 to
    # 2017-18 (NAO 2018). The split between years is an assumption shaped by the 2010 spending
    # review's front-loading; after 2019 spending power is held flat (assumption).
    return {2011: -0.075, 2012: -0.065, 2013: -0.053, 2014: -0.053, 2015: -0.053,
            2016: -0.04, 2017: -0.03, 2018: -0.005, 2019: -0.005}


class Fiscal(_Section):
    trajectory: dict[int, float] = Field(
        default_factory=_actual_trajectory,
        description="year -> national real-terms change in spending power over the year "
        "ending then (fraction; -0.05 is a 5% cut); NAO 2018: -28.6% 2010-11 to 2017-18",
    )
    later_change: float = _f(
        0.0, -0.5, 0.5, "change per year for years not in the trajectory", "assumption -0.02 to 0.02",
        plausible=(-0.02, 0.02)
    )
    severity: float = _f(
        1.0, 0.0, 3.0, "multiplier on every cut in the trajectory",
        "1 = the actual cuts (NAO 2018); uncertainty, range 0.5-1.5 in the phase diagram",
        plausible=(0.5, 1.5),
    )
    deprivation_gradient: float = _f(
        1.2, 0.0, 3.0, "extra cut per unit of deprivation above the mean (relative)",
        "IFS 2019: most deprived about -31%, least about -16% per person, so about 1.2",
    )
    noise_sd: float = _f(
        0.25, 0.0, 1.0, "sd of each authority's yearly cut, relative",
        "PAC 2014: 37% cut ranged 5%-40% across authorities; assumption 0.1-0.4", plausible=(0.1, 0.4)
    )

    @model_validator(mode="after")
    def _changes(self) -> Fiscal:
        for year, change in self.trajectory.items():
            if not -0.5 <= change <= 0.5:
                raise ValueError(
                    f"trajectory.{year} must be a fraction in [-0.5, 0.5]; given {change}"
                )
        return self


class Behaviour(_Section):
    capacity_erosion: float = _f(
        1.5, 0.0, 5.0, "capacity and reserves lost per unit of cumulative cut",
        "assumption 0.5-2.5 (HC 112 para 93: the double edge)", plausible=(0.5, 2.5)
    )
    pressure_motivation: float = _f(
        3.0, 0.0, 10.0, "relative rise in valued savings per unit of cumulative cut",
        "assumption 1-5 (HC 112 para 93)", plausible=(1, 5)
    )
    review_rate: float = _f(
        0.08, 0.0, 1.0, "chance a service comes up for review in a year", "assumption 0.04-0.15",
        plausible=(0.04, 0.15)
    )
    pressure_review: float = _f(
        3.0, 0.0, 10.0, "relative rise in review rate per unit of cumulative cut", "assumption 1-5", plausible=(1, 5)
    )
    prior_mean: float = _f(
        0.5, 0.01, 0.99, "prior belief that a mutual succeeds in a year",
        "assumption 0.3-0.7 (HC 112: evidence 'not sufficient', 'chicken and egg')", plausible=(0.3, 0.7)
    )
    prior_strength: float = _f(
        4.0, 0.1, 100.0, "pseudo-observations behind the prior", "assumption 2-10", plausible=(2, 10)
    )
    memory: float = _f(
        0.85, 0.0, 1.0, "share of last year's accumulated evidence kept", "assumption 0.7-0.95", plausible=(0.7, 0.95)
    )
    peer_weight: float = _f(
        0.3, 0.0, 1.0, "weight of a peer's outcome against one's own", "assumption 0.1-0.5", plausible=(0.1, 0.5)
    )
    national_weight: float = _f(
        0.02, 0.0, 1.0, "weight of a non-peer's outcome without the evidence programme",
        "assumption 0-0.05", plausible=(0, 0.05)
    )
    temperature: float = _f(
        0.7, 0.01, 100.0, "GBP m; scale of the bounded-rational choice",
        "assumption 0.3-2, fitted to the record by the calibration (see ODD)", plausible=(0.3, 2)
    )
    savings_rate: float = _f(
        0.08, 0.0, 0.5, "share of a service's cost saved each year by a live mutual",
        "assumption 0.03-0.15", plausible=(0.03, 0.15)
    )
    payback_years: float = _f(
        5.0, 0.0, 30.0, "years of savings an authority counts",
        "assumption 3-10 (contracts of up to 3 years, Anthony Collins)", plausible=(3, 10)
    )
    failure_cost_share: float = _f(
        0.3, 0.0, 3.0, "cost of a failure, as a share of the service's annual cost",
        "assumption 0.1-0.6 (LGPS admitted-body deficit and bond risk, re-integration)", plausible=(0.1, 0.6)
    )
    bad_news_weight: float = _f(
        1.0, 0.0, 5.0, "weight, as observations of a bad year, of each abandoned project, failure "
        "and lost contract an authority sees; 0 = only good and bad years teach",
        "assumption 0-2 (learning from every visible outcome)", plausible=(0, 2),
    )
    capacity_per_project: float = _f(
        0.15, 0.0, 1.0, "capacity each project in preparation takes up; 0 = capacity is not used up",
        "assumption 0-0.4 (HC 112 para 51: 'significant time, effort and resource')",
        plausible=(0, 0.4),
    )
    reserves_drawdown: float = _f(
        1.0, 0.0, 1.0, "share of a spin-out's net up-front cost drawn from the authority's reserves "
        "for good; 0 = reserves are never drawn down", "assumption 0.5-1 (HC 112 paras 50-51)",
        plausible=(0.5, 1),
    )
    alternative_savings_rate: float = _f(
        0.02, 0.0, 0.5, "share of a service's cost saved each year by another alternative delivery "
        "model (council-owned company, outsourcing, shared service), known with certainty; "
        "0 = no alternative in the options appraisal",
        "assumption 0-0.08 (Dearden-Phillips 2014: 'better-understood alternatives')",
        plausible=(0, 0.08),
    )
    alternative_years: float = _f(
        7.0, 1.0, 30.0, "mean years a service that went another way stays out of reach",
        "assumption 3-15 (the length of its contract)", plausible=(3, 15),
    )
    challenge_capacity: float = _f(
        0.8, 0.0, 1.0, "capacity a staff or community bid brings", "assumption 0.5-1", plausible=(0.5, 1)
    )
    p: float = _f(0.0, 0.0, 1.0, "Bass innovation: yearly adoption hazard from outside",
           "setting: 0 unless docking")
    q: float = _f(0.0, 0.0, 1.0, "Bass imitation: hazard per share of authorities adopted",
           "setting: 0 unless docking")


class Mutuals(_Section):
    transition_cost: float = _f(
        0.5, 0.0, 20.0, "GBP m per spin-out, before support",
        "assumption 0.2-1.0 (HC 112 paras 50-51: 'significant time, effort and resource')", plausible=(0.2, 1.0)
    )
    preparation_years: float = _f(
        2.0, 0.0, 10.0, "mean years from approval to launch; 0 launches at once",
        "assumption 1-3 (Dec 2011: 8 of 21 pathfinders due to launch)", plausible=(1, 3)
    )
    abandon_rate: float = _f(
        0.15, 0.0, 1.0, "yearly chance a project in preparation is dropped",
        "Dec 2011: 4 of 21 pathfinders dropped; assumption 0.05-0.3", plausible=(0.05, 0.3)
    )
    viability: float = _f(
        0.92, 0.0, 1.0, "mean chance a live mutual has a good year",
        "2018 survey: 92% made a profit, a survey of survivors, so uncertain: assumption 0.7-0.97",
        plausible=(0.7, 0.97),
    )
    viability_spread: float = _f(
        0.06, 0.0, 0.5, "half-width of the uniform spread", "assumption 0.02-0.1",
        plausible=(0.02, 0.1),
    )
    contract_years: float = _f(
        3.0, 0.0, 30.0, "mean length of a mutual's contract, years; at its end the service is "
        "re-procured; 0 = contracts never end",
        "Anthony Collins: mostly uncontested contracts of up to 3 years; assumption 2-6",
        plausible=(2, 6),
    )
    retention: float = _f(
        0.8, 0.0, 1.0, "chance a mutual keeps its service when its contract is re-procured",
        "assumption 0.5-0.95", plausible=(0.5, 0.95),
    )
    failure_given_struggle: float = _f(
        0.3, 0.0, 1.0, "chance a struggling mutual fails and returns in house",
        "assumption 0.1-0.5", plausible=(0.1, 0.5)
    )


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
        return (allowance if on > 0 else 0.0), 1.0


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
        return self.per_spinout if on > 0 else 0.0

    def demand(self, on, preparing, accepted):
        return accepted * self.offer(on)

    def effects(self, on, met):
        return {"grant": self.offer(on) * met}


class Advice(Rationed):
    title: ClassVar[str] = "Advice"
    per_project: float = _f(
        0.05, 0.0, 5.0, "GBP m of advice per project per year",
        "Feb 2013: GBP 1m bought advice for 21 prospective mutuals",
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
    start: float = Field(2012.49, ge=1990, le=2150, description="decimal year; 27 June 2012 (Localism Act 2011)")
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


def descriptions_by_path() -> dict[str, str]:
    """Every field's description (unit; source or assumption), by dotted path."""
    return {path: info.description or "" for path, info, _ in walk_fields(Scenario)}


class Uncertainty(NamedTuple):
    """An uncertain parameter: its default and plausible range, sampled on ``scale``
    (``log``: uniform in the logarithm)."""

    default: float
    low: float
    high: float
    scale: str


def uncertainties(prefixes: tuple[str, ...] = ()) -> dict[str, Uncertainty]:
    """Every parameter the schema marks as uncertain (``plausible=`` on its field), by dotted
    path, optionally only those whose path starts with one of ``prefixes``."""
    out: dict[str, Uncertainty] = {}
    for path, info, default in walk_fields(Scenario):
        extra = info.json_schema_extra
        if isinstance(extra, dict) and "plausible" in extra and (not prefixes or path.startswith(prefixes)):
            low, high = extra["plausible"]
            out[path] = Uncertainty(float(default), low, high, extra["scale"])
    return out


class Scenario(_Section):
    """A whole scenario: uncertainties (fiscal, behaviour, mutuals) and levers (support)."""

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+$")] = "unnamed"
    description: str = ""
    run: Run = Field(default_factory=Run)
    population: Population = Field(default_factory=Population)
    fiscal: Fiscal = Field(default_factory=Fiscal)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    mutuals: Mutuals = Field(default_factory=Mutuals)
    support: Support = Field(default_factory=Support)


# --------------------------------------------------------------------------------------------
# Loading, merging and error messages


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
        if e["type"] == "missing":
            what = f" ({field.description})" if field is not None and field.description else ""
            lines.append(f"{source}: key '{key}' is required{what} but missing")
            continue
        allowed = e["msg"]
        if field is not None:
            bounds = [m for m in field.metadata if hasattr(m, "ge") or hasattr(m, "le")]
            rng = [f"{type(b).__name__.lower()} {getattr(b, 'ge', getattr(b, 'le', ''))}" for b in bounds]
            unit = f" ({field.description})" if field.description else ""
            allowed = f"{e['msg']}" + (f"; range {', '.join(rng)}" if rng else "") + unit
        lines.append(f"{source}: key '{key}': {allowed}; given {given!r}")
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


# --------------------------------------------------------------------------------------------
# Dotted parameter paths (for sweeps, sliders and the verdict's uncertainties)


def parameter_paths() -> dict[str, tuple[float | None, float | None, Any]]:
    """Every numeric parameter: dotted path -> (lowest allowed, highest allowed, default)."""
    out: dict[str, tuple[float | None, float | None, Any]] = {}
    for path, info, default in walk_fields(Scenario):
        if info.annotation in (int, float):
            ge = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
            le = next((m.le for m in info.metadata if hasattr(m, "le")), None)
            out[path] = (ge, le, default)
    return out


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


def parameter_table() -> str:
    """The schema's parameters as a Markdown table (path, default, allowed range, unit and
    basis); ``docs/ODD.md`` carries it and a test keeps the two equal."""
    descriptions = descriptions_by_path()
    plausible = uncertainties()
    lines = ["| parameter | default | allowed | plausible (prior) | unit; source or assumption |",
             "|---|---|---|---|---|"]
    for path, (low, high, default) in parameter_paths().items():
        fmt = (lambda v: str(v)) if isinstance(default, int) else (lambda v: f"{v:g}")
        u = plausible.get(path)
        prior = f"{u.low:g} to {u.high:g}{' (log)' if u.scale == 'log' else ''}" if u else ""
        lines.append(f"| `{path}` | {fmt(default)} | {fmt(low)} to {fmt(high)} | {prior} | "
                     f"{descriptions[path]} |")
    return "\n".join(lines)
