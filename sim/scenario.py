"""The scenario schema: one pydantic model holding every default, unit and allowed range.

Every field's description says its unit and whether its default rests on a source (see
``docs/ODD.md``) or is an assumption with a plausible range. The schema lists its own
parameters by dotted path: their ranges (:func:`parameter_paths`), the uncertain ones with their
plausible ranges (:func:`uncertainties`) and the Markdown table of ``docs/ODD.md``
(:func:`parameter_table`). Scenario files are read by :mod:`sim.loading`; the support
instruments are declared in :mod:`sim.instruments`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple

from pydantic import Field, Strict, model_validator

from .fields import _f, _Section, walk_fields
from .instruments import Support

__all__ = ["Scenario", "Uncertainty", "descriptions_by_path", "parameter_paths", "parameter_table",
           "uncertainties"]


class Run(_Section):
    start_year: int = Field(2010, ge=1990, le=2100, description="year; setting: state at t=0 (2010-11)")
    end_year: int = Field(2030, ge=1991, le=2150, description="year; setting: the horizon")
    critical_mass_threshold: float = _f(
        0.16, 0.01, 1.0, "share of authorities", "innovators + early adopters = 16% [@Rogers2003]"
    )
    critical_mass_year: int = Field(
        2020, ge=1990, le=2150,
        description="year by which the threshold must be reached; setting (the decade after [@HC112])",
    )
    replicates: int = Field(100, ge=1, le=10_000_000, description="default number of replicates; setting")
    seed: int = Field(20121206, ge=0, le=2**63 - 1, description="default root seed; setting (the date of [@HC112])")

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
        "2012", description="353 principal councils of 2009-12 [@DCLG2009] or the 317 of today [@GovUKStructure]"
    )
    services: Literal["by_kind", "single"] = Field(
        "by_kind",
        description="services each authority could spin out: by its kind, or one generic "
        "service each (the docking case of [@Bass1969])",
    )
    initial_adopters: float = _f(
        0.02, 0.0, 1.0, "share of authorities running a mutual at t=0",
        "assumption 0-0.04 (9 public service mutuals of all kinds in 2010 [@LGLawyer2012])", plausible=(0, 0.04)
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
        "assumption 0.25-4 (Oldham, Staffordshire: set-up finance is a barrier [@HC112, paras 50-51])",
        plausible=(0.25, 4)
    )
    reserves_spread: float = _f(
        0.5, 0.0, 1.0, "half-width, as a share of the mean", "assumption 0.25-0.75",
        plausible=(0.25, 0.75),
    )
    ready_share: float = _f(
        1.0, 0.0, 1.0, "share of services with a staff team willing and able to lead a spin-out at "
        "the start (the others can become mutuals only through a Right to Challenge bid until a "
        "team forms); 1 = every service is ready",
        "assumption 0.05-1 (about 50 of some 1,400 services spun out 2010 to early 2014 "
        "[@AnthonyCollins]; the pathfinders were staff-led [@ThirdSector2011])",
        plausible=(0.05, 1),
    )
    readiness_growth: float = _f(
        0.01, 0.0, 1.0, "yearly chance that an in-house service without a ready team gets one",
        "assumption 0-0.05 (a team forms slowly)", plausible=(0, 0.05),
    )


def _actual_trajectory() -> dict[int, float]:
    # Real-terms change in spending power, by year; compounds to -28.6% from 2010-11 to
    # 2017-18 [@NAO2018]. The split between years is an assumption shaped by the 2010 spending
    # review's front-loading; after 2019 spending power is held flat (assumption).
    return {2011: -0.075, 2012: -0.065, 2013: -0.053, 2014: -0.053, 2015: -0.053,
            2016: -0.04, 2017: -0.03, 2018: -0.005, 2019: -0.005}


class Fiscal(_Section):
    # TOML keys are strings: the year is read from one (its value stays a strict number)
    trajectory: dict[Annotated[int, Strict(False)], float] = Field(
        default_factory=_actual_trajectory,
        description="year -> national real-terms change in spending power over the year "
        "ending then (fraction; -0.05 is a 5% cut); -28.6% 2010-11 to 2017-18 [@NAO2018]",
    )
    later_change: float = _f(
        0.0, -0.5, 0.5, "change per year for years not in the trajectory", "assumption -0.02 to 0.02",
        plausible=(-0.02, 0.02)
    )
    severity: float = _f(
        1.0, 0.0, 3.0, "multiplier on every cut in the trajectory",
        "1 = the actual cuts [@NAO2018]; uncertainty, range 0.5-1.5 in the phase diagram",
        plausible=(0.5, 1.5),
    )
    deprivation_gradient: float = _f(
        1.2, 0.0, 3.0, "extra cut per unit of deprivation above the mean (relative)",
        "most deprived about -31%, least about -16% per person [@IFS2019], so about 1.2",
    )
    noise_sd: float = _f(
        0.25, 0.0, 1.0, "sd of each authority's yearly cut, relative",
        "37% cut ranged 5%-40% across authorities [@PAC2014]; assumption 0.1-0.4", plausible=(0.1, 0.4)
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
        "assumption 0.5-2.5 ([@HC112, para 93]: the double edge)", plausible=(0.5, 2.5)
    )
    pressure_motivation: float = _f(
        3.0, 0.0, 10.0, "relative rise in valued savings per unit of cumulative cut",
        "assumption 1-5 [@HC112, para 93]", plausible=(1, 5)
    )
    review_rate: float = _f(
        0.08, 0.0, 1.0, "chance a service comes up for review in a year", "assumption 0.04-0.15",
        plausible=(0.04, 0.15)
    )
    pressure_review: float = _f(
        3.0, 0.0, 10.0, "relative rise in review rate per unit of cumulative cut", "assumption 1-5", plausible=(1, 5)
    )
    pressure_adaptation: float = _f(
        0.0, 0.0, 1.0, "share of the gap between the spending power an authority is used to and its "
        "spending power closed each year, so that motivation and reviews answer recent cuts; "
        "0 = pressure is the whole cut since 2010-11, for ever",
        "assumption 0-0.5 (adaptation to a new level; capacity erosion still follows the whole cut)",
        plausible=(0, 0.5),
    )
    attention_floor: float = _f(
        1.0, 0.0, 1.0, "share of reviews in which a mutual is on the table without national "
        "attention; 1 = every review considers one",
        "assumption 0.1-1 (national programmes put mutuals on councils' agendas [@HC112]; "
        "near-nil support 2015-2017 [@MSP2Announcement])",
        plausible=(0.1, 1),
    )
    attention_memory: float = _f(
        0.6, 0.0, 1.0, "share of last year's national attention kept once the push weakens",
        "assumption 0.2-0.9", plausible=(0.2, 0.9),
    )
    attention_budget: float = _f(
        1.0, 0.01, 100.0, "GBP m a year of national support (all instruments) that gives full "
        "attention", "assumption 0.5-5", plausible=(0.5, 5),
    )
    prior_mean: float = _f(
        0.5, 0.01, 0.99, "prior belief that a mutual succeeds in a year",
        "assumption 0.3-0.7 (evidence 'not sufficient', 'chicken and egg' [@HC112, summary])", plausible=(0.3, 0.7)
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
        "assumption 0.01-0.15, the same range as the other delivery model's: no evidence ranks "
        "the two", plausible=(0.01, 0.15)
    )
    payback_years: float = _f(
        5.0, 0.0, 30.0, "years of savings an authority counts",
        "assumption 3-10 (contracts of up to 3 years [@AnthonyCollins])", plausible=(3, 10)
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
        "assumption 0-0.4 ([@HC112, para 51]: 'significant time, effort and resource')",
        plausible=(0, 0.4),
    )
    reserves_drawdown: float = _f(
        1.0, 0.0, 1.0, "share of a spin-out's net up-front cost drawn from the authority's reserves "
        "for good; 0 = reserves are never drawn down", "assumption 0.5-1 [@HC112, paras 50-51]",
        plausible=(0.5, 1),
    )
    alternative_savings_rate: float = _f(
        0.02, 0.0, 0.5, "share of a service's cost saved each year by another alternative delivery "
        "model (council-owned company, outsourcing, shared service), known with certainty; "
        "0 = no alternative in the options appraisal",
        "assumption 0.01-0.15, the mutual's range: better understood [@SteppingOut2014], but "
        "no evidence says it saves more or less", plausible=(0.01, 0.15),
    )
    alternative_years: float = _f(
        7.0, 1.0, 30.0, "mean years a service that went another way stays out of reach",
        "assumption 3-15 (the length of its contract)", plausible=(3, 15),
    )
    challenge_capacity: float = _f(
        0.8, 0.0, 1.0, "capacity a staff or community bid brings", "assumption 0.5-1", plausible=(0.5, 1)
    )
    p: float = _f(0.0, 0.0, 1.0, "innovation [@Bass1969]: yearly adoption hazard from outside",
           "setting: 0 unless docking")
    q: float = _f(0.0, 0.0, 1.0, "imitation [@Bass1969]: hazard per share of authorities adopted",
           "setting: 0 unless docking")


class Mutuals(_Section):
    transition_cost: float = _f(
        0.5, 0.0, 20.0, "GBP m per spin-out, before support",
        "assumption 0.2-1.0 ([@HC112, paras 50-51]: 'significant time, effort and resource')", plausible=(0.2, 1.0)
    )
    preparation_years: float = _f(
        2.0, 0.0, 10.0, "mean years from approval to launch; 0 launches at once",
        "assumption 1-3 (Dec 2011: 8 of 21 pathfinders due to launch [@Guardian2011])", plausible=(1, 3)
    )
    abandon_rate: float = _f(
        0.15, 0.0, 1.0, "yearly chance a project in preparation is dropped",
        "Dec 2011: 4 of 21 pathfinders dropped [@Guardian2011]; assumption 0.05-0.3", plausible=(0.05, 0.3)
    )
    viability: float = _f(
        0.92, 0.0, 1.0, "mean chance a live mutual has a good year",
        "92% made a profit [@StateOfSector2018], of survivors only, so uncertain: assumption 0.7-0.97",
        plausible=(0.7, 0.97),
    )
    viability_spread: float = _f(
        0.06, 0.0, 0.5, "half-width of the uniform spread", "assumption 0.02-0.1",
        plausible=(0.02, 0.1),
    )
    contract_years: float = _f(
        3.0, 0.0, 30.0, "mean length of a mutual's contract, years; at its end the service is "
        "re-procured; 0 = contracts never end",
        "mostly uncontested contracts of up to 3 years [@AnthonyCollins]; assumption 2-6",
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
    services_per_organisation: float = _f(
        1.0, 1.0, 10.0, "services run by one mutual organisation, on average: the record counts "
        "organisations, the model services; 1 = one each",
        "assumption 1-1.5 (some mutuals run several of a council's services)", plausible=(1, 1.5),
    )


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


def parameter_paths() -> dict[str, tuple[float | None, float | None, Any]]:
    """Every numeric parameter: dotted path -> (lowest allowed, highest allowed, default)."""
    out: dict[str, tuple[float | None, float | None, Any]] = {}
    for path, info, default in walk_fields(Scenario):
        if info.annotation in (int, float):
            ge = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
            le = next((m.le for m in info.metadata if hasattr(m, "le")), None)
            out[path] = (ge, le, default)
    return out


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
