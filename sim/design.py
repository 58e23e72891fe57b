"""What support does it take: support packages as levers, scored over the posterior, searched by
many-objective optimisation (``mutuals design``).

A *package* is what the Committee could have recommended in December 2012, on top of the
support then in force (``december_2012``): for each fundable instrument of the registry (every
:class:`sim.instruments.Rationed` or :class:`sim.instruments.Programme`; statutory rights such
as the Right to Challenge stay as they are) a yearly budget, a start year and a duration
(:func:`levers`), which add one window to the instrument (:func:`package`). A new instrument in
the registry is a lever with no edit here.

A package is scored over a fixed set of posterior draws (:mod:`sim.posterior`), every package on
the same draws and seeds (common random numbers), and against ``december_2012`` on them
(:func:`score`): the money it actually spends beyond what ``december_2012`` spends; P(critical
mass by the critical-mass year), over all runs and its 10th percentile over the draws (each
draw's own probability over its replicates); and the share of the extra live mutuals it built (at
their peak, over ``december_2012``'s) still live at the horizon, after it has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .analysis import year_reached
from .dynamics import MEASURES
from .errors import ScenarioError
from .instruments import Programme, Rationed, Window
from .loading import scenario_from_dict
from .posterior import Draws, run_draws
from .scenario import Scenario

START = (2013, 2020)
"""Start years a package's windows may take (the Committee reported in December 2012)."""
DURATION = (1, 8)
"""Years a window may run."""
YEARLY_CAP = next(m.le for m in Window.model_fields["budget"].metadata if hasattr(m, "le")) / DURATION[1]
"""GBP m a year an instrument may get: a window's largest allowed budget over the longest
duration, so that every package is a valid scenario."""


@dataclass(frozen=True)
class Lever:
    """One lever of a package: ``instrument``'s yearly ``budget``, ``start`` year or
    ``duration``, between ``low`` and ``high`` (whole numbers if ``integer``)."""

    instrument: str
    kind: str
    low: float
    high: float
    integer: bool

    @property
    def name(self) -> str:
        return f"{self.instrument}__{self.kind}"  # a Python identifier, as the EMA Workbench needs


def fundable(scenario: Scenario) -> list[str]:
    """The instruments a package can fund: every rationed one and every programme."""
    return [n for n, inst in scenario.support.instruments().items() if isinstance(inst, Rationed | Programme)]


def levers(scenario: Scenario) -> list[Lever]:
    """Three levers for each :func:`fundable` instrument of ``scenario``'s registry."""
    return [lever for n in fundable(scenario) for lever in (
        Lever(n, "budget", 0.0, YEARLY_CAP, False), Lever(n, "start", *START, True),
        Lever(n, "duration", *DURATION, True))]


def check(scenario: Scenario, values: dict[str, float], source: str = "package") -> None:
    """Refuse a package with an unknown lever or a value out of its range (a
    :class:`ScenarioError` naming the lever, what is allowed and what was given)."""
    known = {lv.name: lv for lv in levers(scenario)}
    for key, value in values.items():
        if key not in known:
            raise ScenarioError(f"{source}: unknown lever {key!r}; allowed: {', '.join(known)}")
        lv = known[key]
        if not lv.low <= value <= lv.high or (lv.integer and value != int(value)):
            kind = "a whole number" if lv.integer else "a number"
            raise ScenarioError(f"{source}: {key}: allowed {kind} from {lv.low:g} to {lv.high:g}; given {value:g}")


def package(base: Scenario, values: dict[str, float], name: str = "package") -> Scenario:
    """``base`` plus, for each instrument whose yearly budget lever is above 0, a window from its
    start for its duration with that budget a year (levers not given: budget 0)."""
    check(base, values)
    data = base.model_dump()
    for n in fundable(base):
        budget = float(values.get(f"{n}__budget", 0.0))
        if budget <= 0:
            continue
        start = float(values.get(f"{n}__start", START[0]))
        years = float(values.get(f"{n}__duration", DURATION[0]))
        window = {"start": start, "end": start + years, "budget": budget * years, "label": "package"}
        inst = data["support"][n]
        if inst["budget"] > 0:
            inst["also"] = [*inst["also"], window]
        else:
            inst.update(window)
    data["name"] = name
    data["description"] = f"{base.name} plus a support package"
    return scenario_from_dict(data, name)


def committed(values: dict[str, float], instruments: list[str]) -> float:
    """GBP m a package commits: its yearly budgets times their durations."""
    return float(sum(values.get(f"{n}__budget", 0.0) * values.get(f"{n}__duration", DURATION[0])
                     for n in instruments))


OBJECTIVES = ("cost", "p_critical_mass", "p_critical_mass_p10", "kept_2030")
"""What :func:`score` gives: ``cost`` is minimised, the others maximised."""


def score_values(candidate: np.ndarray, reference: np.ndarray, draw: np.ndarray, years: np.ndarray,
                 run) -> dict[str, float]:
    """A package's :data:`OBJECTIVES` from its measures (R, T, len(MEASURES)) under the draws
    (``candidate``; ``draw``: each run's draw, ``years``: the T years) and ``december_2012``'s on
    the same draws and seeds (``reference``), and beside them the extra authorities running a
    mutual at the critical-mass year (``extra_authorities``, mean). A run reaches critical mass
    as :func:`sim.analysis.year_reached` says: its share with a mutual at or above the
    threshold in some year up to the critical-mass year."""
    m = {name: i for i, name in enumerate(MEASURES)}
    within = years <= run.critical_mass_year
    hit = (candidate[:, within, m["share_with_mutual"]] >= run.critical_mass_threshold - 1e-12).any(axis=1)
    per_draw = np.bincount(draw, hit) / np.bincount(draw)
    spent = candidate[:, -1, m["cumulative_support_spent"]].mean() - reference[:, -1, m["cumulative_support_spent"]].mean()
    extra = candidate[..., m["live_mutuals"]].mean(axis=0) - reference[..., m["live_mutuals"]].mean(axis=0)
    peak = float(extra.max())
    at = years == run.critical_mass_year
    authorities = (candidate[:, at, m["authorities_with_mutual"]].mean()
                   - reference[:, at, m["authorities_with_mutual"]].mean())
    return dict(cost=float(spent), p_critical_mass=float(hit.mean()),
                p_critical_mass_p10=float(np.quantile(per_draw, 0.1)),
                kept_2030=float(extra[-1] / peak) if peak > 0 else 0.0,
                extra_authorities=float(authorities))


def values_of(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A tidy table under draws (:func:`sim.posterior.run_draws`) as (measures (R, T, M), each
    run's draw (R,), the years (T,)), runs in the order of their replicate number."""
    frame = frame.sort_values(["replicate", "year"], kind="stable")
    years = np.sort(frame["year"].unique())
    values = frame[list(MEASURES)].to_numpy(float).reshape(-1, years.size, len(MEASURES))
    return values, frame["draw"].to_numpy()[::years.size].astype(int), years


def score(candidate: pd.DataFrame, reference: pd.DataFrame, run) -> dict[str, float]:
    """:func:`score_values` of two tidy tables run under the same draws and seeds."""
    a, draw, years = values_of(candidate)
    b, _, _ = values_of(reference)
    return score_values(a, b, draw, years, run)


WINDOWS = ("start", "end", "budget", "label", "also")
"""The fields of an instrument that say when it runs and with what money (a package sets them)."""


def funded_by(package: Scenario, base: Scenario) -> list[str]:
    """The instruments whose windows ``package`` changes from ``base``'s."""
    return [n for n in package.support.instruments()
            if any(getattr(getattr(package.support, n), f) != getattr(getattr(base.support, n), f) for f in WINDOWS)]


def supported(s: Scenario, package: Scenario, names: list[str]) -> Scenario:
    """``s`` (a posterior draw of ``base``) with the windows of ``package``'s instruments
    ``names`` (:func:`funded_by` of ``package`` and ``base``; the instruments' parameters stay
    ``s``'s): the draw under the package. Both are valid scenarios, so the result is (no
    validation)."""
    support = {n: getattr(s.support, n).model_copy(update={f: getattr(getattr(package.support, n), f) for f in WINDOWS})
               for n in names}
    return s.model_copy(update={"support": s.support.model_copy(update=support)})


@dataclass(frozen=True)
class Problem:
    """What every package is scored on, as a worker needs it: ``base`` (``december_2012``), the
    draws' override rows and replicates, the root seed (draw ``i`` on root seed + ``i``, as
    :func:`sim.posterior.run_draws`) and ``token``, a digest of them (a worker sets the draws up
    once per token)."""

    base: Scenario
    rows: tuple[dict, ...]
    replicates: int
    seed: int
    token: str


_SET_UP: dict = {}  # a worker's set-up draws, by Problem.token (the last problem only)


def _set_up(problem: Problem):
    """The draws as scenarios, their set-ups run to the year before a package can start
    (:func:`sim.ensemble.advance`: those years are the same under every package), their
    structure, and ``base``'s measures on them: made once per process and problem."""
    from .ensemble import SetUp, advance, run_set_up
    from .overrides import with_overrides
    from .population import build_structure
    from .simulation import replicate_seeds

    if problem.token not in _SET_UP:
        st = build_structure(problem.base)
        scenarios = [with_overrides(problem.base, row) for row in problem.rows]
        setups = advance([SetUp(s, replicate_seeds(problem.seed + i, problem.replicates), st)
                          for i, s in enumerate(scenarios)], st, unseen(problem.base))
        reference = np.concatenate(run_set_up([u.with_support(u.s) for u in setups], st))
        _SET_UP.clear()
        _SET_UP[problem.token] = scenarios, setups, st, reference
    return _SET_UP[problem.token]


def unseen(base: Scenario) -> int:
    """The years of a run before any package's window can open (:data:`START`)."""
    return max(0, START[0] - base.run.start_year)


def _same_until(a: Scenario, b: Scenario, years: int) -> bool:
    """Do ``a`` and ``b`` hold the same support, attention and cuts in their first ``years``
    years (:func:`sim.dynamics.schedule`)?"""
    from .dynamics import schedule

    x, y = schedule([a]), schedule([b])
    return all(np.array_equal(u[..., :years], v[..., :years]) for u, v in
               ((x.attention, y.attention), (x.national_change, y.national_change),
                *((x.on[n], y.on[n]) for n in x.on), *((x.allowance[n], y.allowance[n]) for n in x.on)))


BATCH = 1024
"""Replicates a compiled call steps together in the search (as :func:`sim.simulation.measures_batch`)."""


@dataclass(frozen=True)
class _Score:
    """Scores packages (a task: their scenarios) on a :class:`Problem` (the function an
    evaluator's workers run): every package on every draw, the draws set up once."""

    problem: Problem

    def __call__(self, packages: list[Scenario]) -> list[dict[str, float]]:
        from .ensemble import run_set_up

        scenarios, setups, st, reference = _set_up(self.problem)
        per = max(1, BATCH // max(1, sum(u.R for u in setups)))  # packages a call
        n = len(setups)
        values = []
        for i in range(0, len(packages), per):
            batch = [(p, funded_by(p, self.problem.base)) for p in packages[i:i + per]]
            if not all(_same_until(p, self.problem.base, setups[0].years) for p, _ in batch):
                raise ValueError(f"a package changes the years before {START[0]}; its levers start no earlier")
            values.extend(run_set_up([u.with_support(supported(s, p, names), slot=k)
                                      for k, (p, names) in enumerate(batch)
                                      for s, u in zip(scenarios, setups, strict=True)], st))
        draw = np.repeat(np.arange(n), self.problem.replicates)
        years = np.arange(self.problem.base.run.start_year, self.problem.base.run.end_year + 1)
        return [score_values(np.concatenate(values[k * n:(k + 1) * n]), reference, draw, years, self.problem.base.run)
                for k in range(len(packages))]


class Objectives:
    """The function the optimiser calls (lever values by EMA name -> :data:`OBJECTIVES`): each
    package run under the same draws and seeds, scored against ``base`` on them. :meth:`many`
    scores many packages at once, spread over ``evaluator``'s workers; every package scored is
    kept (``scored``) and, with ``store`` (a file), written there as it is scored and read back
    when the objectives are made again, so that a search run again replays what was done (its
    seeds make it choose the same packages) and goes on from there."""

    def __init__(self, base: Scenario, draws: Draws, seed: int, evaluator=None, store=None,
                 per_task: int | None = None):
        from .evaluator import Evaluator
        from .results import fingerprint

        self.base, self.draws, self.seed = base, draws, seed
        self.evaluator = evaluator or Evaluator()
        rows = tuple({k: float(v) for k, v in r.items()} for r in draws.design.to_dict("records"))
        self.problem = Problem(base, rows, draws.replicates, seed,
                               fingerprint("design-problem", base=base.model_dump(mode="json"), rows=rows,
                                           replicates=draws.replicates, seed=seed))
        self.per_task = per_task or max(1, BATCH // max(1, draws.n * draws.replicates))
        self.scored: dict[tuple, dict] = {}  # every package scored, by its lever values
        self.store = store
        if store is not None:
            self.scored.update(_read_store(store))

    def policy(self, scenario: Scenario) -> dict[str, float]:
        """A whole scenario (say ``joined_up`` on top of ``december_2012``) scored the same way."""
        if not hasattr(self, "_reference"):
            self._reference = self.runs(self.base)
        return score(self.runs(scenario), self._reference, self.base.run)

    def runs(self, scenario: Scenario) -> pd.DataFrame:
        """``scenario`` under the draws, on their seeds."""
        return run_draws(scenario, self.draws, self.seed, self.evaluator)

    def __call__(self, **values) -> dict[str, float]:
        values.pop(UNUSED, None)
        got = self.full({k: float(v) for k, v in values.items()})
        return {o: got[o] for o in OBJECTIVES}

    def full(self, values: dict[str, float]) -> dict[str, float]:
        """A package's whole :func:`score_values`, kept in ``scored``."""
        return self.many([values])[0]

    def many(self, packages: list[dict[str, float]]) -> list[dict[str, float]]:
        """:meth:`full` of each package (lever values by name), those not scored before run
        together: ``per_task`` packages a task."""
        keys = [key(v) for v in packages]
        todo = {k: v for k, v in zip(keys, packages, strict=True) if k not in self.scored}
        made = [package(self.base, v) for v in todo.values()]  # each checked here, before any work
        tasks = [made[i:i + self.per_task] for i in range(0, len(made), self.per_task)]
        got = [s for scores in (self.evaluator.map(_Score(self.problem), tasks) if tasks else []) for s in scores]
        new = dict(zip(todo, got, strict=True))
        self.scored.update(new)
        if self.store is not None and new:
            _append_store(self.store, new)
        return [self.scored[k] for k in keys]


def _append_store(path, scored: dict[tuple, dict]) -> None:
    import json

    with open(path, "a", encoding="utf-8") as f:
        for k, v in scored.items():
            f.write(json.dumps({"package": k, "scores": v}) + "\n")
        f.flush()


def _read_store(path) -> dict[tuple, dict]:
    """The packages a store holds; a last line cut short by an interruption is left out."""
    import json

    out = {}
    if not Path(path).exists():
        return out
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        out[tuple((k, v) for k, v in item["package"])] = item["scores"]
    return out


def key(values: dict[str, float]) -> tuple:
    """A package's lever values as a dictionary key."""
    return tuple(sorted((k, round(float(v), 9)) for k, v in values.items()))


EPSILONS = {"cost": 1.0, "p_critical_mass": 0.02, "p_critical_mass_p10": 0.05, "kept_2030": 0.05}
"""The resolution of each objective for the epsilon-dominance archive: GBP 1m, two points of
probability, five points of the 10th percentile and of the share kept."""


@dataclass(frozen=True)
class Search:
    """The merged front (``front``: one row per package, its levers by name and its
    :data:`OBJECTIVES`), and per seed the convergence (``convergence``: seed, nfe,
    epsilon_progress, hypervolume against the merged front)."""

    front: pd.DataFrame
    convergence: pd.DataFrame
    nfe: int
    seeds: tuple[int, ...]


def _seeded(chosen: list[Lever], population: int, seed: int) -> list:
    """The first generation of the search (see :func:`search`); the rest uniform at random."""
    from ema_workbench import Sample

    rng = np.random.default_rng(seed)
    nothing = {lv.name: lv.low for lv in chosen}
    ends = [nothing] + [{**nothing, **{lv.name: lv.high for lv in chosen if lv.instrument == n
                                       and lv.kind in ("budget", "duration")}}
                        for n in dict.fromkeys(lv.instrument for lv in chosen)]
    rest = [{lv.name: (int(rng.integers(lv.low, lv.high + 1)) if lv.integer else float(rng.uniform(lv.low, lv.high)))
             for lv in chosen} for _ in range(max(0, population - len(ends)))]
    return [Sample(f"start {i}", **values) for i, values in enumerate([*ends, *rest][:population])]


UNUSED = "unused"
"""The uncertainty the workbench's model carries and the function ignores (see :func:`_ema_model`)."""


def _ema_model(objectives, chosen: list[Lever]):
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed")
        import ema_workbench as ew

    m = ew.Model("design", function=objectives)
    # the workbench 3.0 cannot optimise levers of a model without uncertainties (its reference
    # scenario is then sampled from the levers, and every experiment is refused for naming them
    # twice): one it never varies (REFERENCE) stands in; robustness is over the draws, inside
    m.uncertainties = [ew.RealParameter(UNUSED, 0.0, 1.0)]
    m.levers = [ew.IntegerParameter(lv.name, int(lv.low), int(lv.high)) if lv.integer else
                ew.RealParameter(lv.name, lv.low, lv.high) for lv in chosen]
    kinds = {"cost": ew.ScalarOutcome.MINIMIZE}
    m.outcomes = [ew.ScalarOutcome(o, kind=kinds.get(o, ew.ScalarOutcome.MAXIMIZE)) for o in OBJECTIVES]
    return m


def _generations(model, many, bar):
    """An EMA Workbench evaluator (its documented ``BaseEvaluator``) that scores a whole
    generation of the search in one call, ``many`` (a list of lever values by name -> their
    :data:`OBJECTIVES`; :meth:`Objectives.many`), so that its packages run batched and spread
    over the workers; ``bar`` counts the evaluations."""
    from ema_workbench.em_framework.evaluators import BaseEvaluator

    names = [lv.name for lv in model.levers]

    class Generations(BaseEvaluator):
        def initialize(self):
            pass

        def finalize(self):
            pass

        def evaluate_experiments(self, experiments, callback, **kwargs):
            experiments = list(experiments)
            got = many([{n: float(e.policy[n]) for n in names} for e in experiments])
            for e, scores in zip(experiments, got, strict=True):
                callback(e, {o.name: o.process([scores[o.name]]) for o in model.outcomes})
            bar.update(len(experiments))

    return Generations(model)


def search(objectives, chosen: list[Lever], nfe: int, seeds: tuple[int, ...], work,
           convergence_every: int, population: int = 100, epsilons: dict[str, float] | None = None,
           progress: bool = False) -> Search:
    """epsilon-NSGA-II (the EMA Workbench's ``optimize(searchover="levers")``) of ``objectives``
    (lever values by name -> :data:`OBJECTIVES`: an :class:`Objectives`, whose ``many`` scores a
    generation at once, or any such function) over the levers
    ``chosen``, once per seed of ``seeds``, ``nfe`` evaluations each, the archives merged with
    ``epsilon_nondominated``; the archives every ``convergence_every`` evaluations are kept in
    ``work`` (a new folder) for the hypervolume; ``epsilons``: each objective's resolution
    (:data:`EPSILONS` by default); ``progress``: a bar over the evaluations (on stderr). The
    first generation (``population`` packages) holds the package of nothing (December 2012
    alone) and, for each instrument, its whole cap for the longest duration from 2013, so that
    the search starts from both ends."""
    import warnings

    from tqdm.auto import tqdm

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed")
        from ema_workbench import Sample
        from ema_workbench.em_framework import HypervolumeMetric, Problem, epsilon_nondominated, load_archives

    model = _ema_model(objectives, chosen)
    many = getattr(objectives, "many", None) or (lambda packages: [objectives(**v) for v in packages])
    epsilons = [(epsilons or EPSILONS)[o] for o in OBJECTIVES]
    with (tqdm(total=nfe * len(seeds), desc="design: evaluations", disable=not progress) as bar,
          _generations(model, many, bar) as evaluator):
        runs = evaluator.optimize(nfe=nfe, searchover="levers", epsilons=epsilons, rng=list(seeds),
                                  reference=Sample("posterior draws", **{UNUSED: 0.0}),
                                  population_size=population, initial_population=_seeded(chosen, population, seeds[0]),
                                  convergence_freq=convergence_every, filename="archives.tar.gz",
                                  directory=str(work))
    problem = Problem("levers", model.levers, [o for o in model.outcomes])
    front = epsilon_nondominated([r for r, _ in runs], epsilons, problem)
    # normalised by the merged front's range of each objective (an objective the front does not
    # vary, say a share kept of 0 everywhere, is given a range of 1 about its value, rather than none)
    low = front[list(OBJECTIVES)].min().to_numpy(float)
    high = front[list(OBJECTIVES)].max().to_numpy(float)
    flat = high <= low
    low, high = np.where(flat, low - 0.5, low), np.where(flat, high + 0.5, high)
    metric = HypervolumeMetric(front, problem, minimum=list(low), maximum=list(high))
    rows = []
    for s, (_, progress) in zip(seeds, runs, strict=True):
        archives = dict(load_archives(str(work / f"{s}_archives.tar.gz")))
        for nfe_at, row in progress.set_index("nfe").iterrows():
            archive = archives.get(int(nfe_at))
            hv = metric.calculate(archive) if archive is not None and len(archive) else np.nan
            rows.append(dict(seed=s, nfe=int(nfe_at), epsilon_progress=row.get("epsilon_progress", np.nan),
                             hypervolume=hv))
    convergence = pd.DataFrame(rows).drop_duplicates(["seed", "nfe"], keep="last")
    return Search(front.drop(columns=[UNUSED], errors="ignore").reset_index(drop=True), convergence, nfe, tuple(seeds))


LEVELS = (0.5, 0.8, 0.9)
"""The probabilities of critical mass at which ``design.md`` names the cheapest package."""


def front_table(found: Search, objectives: Objectives, chosen: list[Lever]) -> pd.DataFrame:
    """``pareto.csv``: one row per package of the merged front, its levers (dotted names, the
    budget in GBP m a year), :data:`OBJECTIVES`, the extra authorities and the cost per one."""
    rows = []
    for r in found.front.to_dict("records"):
        values = {lv.name: float(r[lv.name]) for lv in chosen}
        got = objectives.scored.get(key(values)) or objectives.full(values)
        row = {lv.name.replace("__", "."): values[lv.name] for lv in chosen}
        row.update({o: got[o] for o in OBJECTIVES}, extra_authorities=got["extra_authorities"],
                   committed=committed(values, [lv.instrument for lv in chosen]))
        row["cost_per_additional_authority"] = (row["cost"] / got["extra_authorities"]
                                                if got["extra_authorities"] > 0 else np.nan)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("cost", kind="stable").reset_index(drop=True)


def _money(x: float) -> str:
    return f"{x:.2f}" if np.isfinite(x) else "-"


def _millions(x: float) -> str:
    """GBP m to two significant figures below 1 (0.042), else to one decimal."""
    return f"{x:.2g}" if x < 1 else f"{x:.1f}"


def _package_words(row: pd.Series, chosen: list[Lever]) -> str:
    parts = []
    for n in dict.fromkeys(lv.instrument for lv in chosen):
        budget = row.get(f"{n}.budget", 0.0)
        if budget > 0:
            start, years = int(row[f"{n}.start"]), int(row[f"{n}.duration"])
            parts.append(f"{n.replace('_', ' ')} GBP {_millions(budget)}m a year {start}-{start + years}")
    return "; ".join(parts) or "nothing beyond December 2012"


def report(d: Design, run) -> str:
    """``design.md``: the cheapest package at each of :data:`LEVELS` (re-scored) beside the
    Committee's policies, and where the chosen package fails."""
    cm, end = run.critical_mass_year, int(run.end_year)
    table = d.table.sort_values(["cost_rescored"], kind="stable")
    lines = ["# What support does it take? The cheapest packages by many-objective search", "",
             f"*Generated by `mutuals design`: epsilon-NSGA-II (EMA Workbench), {d.found.nfe} evaluations for each "
             f"of {len(d.found.seeds)} seeds, the archives merged by epsilon-dominance ({len(d.table)} packages). "
             f"The search scores every package over {d.draws.words()}, the same for every package (common random "
             f"numbers); the front is then re-scored over {d.rescore.words()}, other draws and seeds, and every "
             "number below is the re-scored one. Packages come on top of the support in force in December 2012. "
             "Cost: the money a package actually spends beyond what December 2012 spends (GBP m, mean over the "
             f"runs); P: P(critical mass by {cm}) over all runs, and its 10th percentile over the draws; kept: the "
             f"share of the extra live mutuals at their peak still live in {end}. Tables: `pareto.csv` (the search's "
             "and the re-scored numbers), `references.csv`, `convergence.csv`.*", "",
             "## The cheapest package at each level", "",
             f"| P(critical mass by {cm}) at least | package | cost GBP m | P | P, 10th percentile of draws | kept "
             f"{end} | GBP m per extra authority |", "|---|---|---|---|---|---|---|"]
    alone = d.references.set_index("policy").loc["december_2012"]
    for level in LEVELS:
        ok = table[table["p_critical_mass_rescored"] >= level]
        if alone["p_critical_mass"] >= level:  # the package of nothing may be the cheapest
            lines.append(f"| {level:g} | nothing beyond December 2012 | 0.0 | {alone['p_critical_mass']:.2f} | "
                         f"{alone['p_critical_mass_p10']:.2f} | - | - |")
            continue
        if ok.empty:
            lines.append(f"| {level:g} | none on the front | - | - | - | - | - |")
            continue
        r = ok.iloc[0]
        per = r["cost_rescored"] / r["extra_authorities_rescored"] if r["extra_authorities_rescored"] > 0 else np.nan
        lines.append(f"| {level:g} | {_package_words(r, d.chosen)} | {r['cost_rescored']:.1f} | "
                     f"{r['p_critical_mass_rescored']:.2f} | {r['p_critical_mass_p10_rescored']:.2f} | "
                     f"{r['kept_2030_rescored']:.2f} | {_money(per)} |")
    lines += ["", "## The Committee's policies, scored the same way", "",
              "| policy | cost GBP m | P | P, 10th percentile | kept | GBP m per extra authority |",
              "|---|---|---|---|---|---|"]
    for r in d.references.to_dict("records"):
        per = r["cost"] / r["extra_authorities"] if r["extra_authorities"] > 0 else np.nan
        lines.append(f"| {r['policy']} | {r['cost']:.1f} | {r['p_critical_mass']:.2f} | "
                     f"{r['p_critical_mass_p10']:.2f} | {r['kept_2030']:.2f} | {_money(per)} |")
    joined = d.references.set_index("policy").loc[JOINED_UP]
    better = table[(table["cost_rescored"] < joined["cost"])
                   & (table["p_critical_mass_rescored"] >= joined["p_critical_mass"])]
    lines += ["", (f"{len(better)} package(s) on the front cost less than {JOINED_UP} at an equal or higher P; the "
                   f"cheapest: {_package_words(better.iloc[0], d.chosen)} (GBP {better.iloc[0]['cost_rescored']:.1f}m "
                   f"against {joined['cost']:.1f}m, P {better.iloc[0]['p_critical_mass_rescored']:.2f} against "
                   f"{joined['p_critical_mass']:.2f})." if len(better) else
                   f"No package on the front costs less than {JOINED_UP} at an equal or higher P: under these draws "
                   "its P is reached only at its cost or more (or the search, at this size, did not find one)."
                   + _closest(table, joined, d.chosen))]
    lines += ["", "## Where the chosen package fails", "",
              f"The chosen package: {_package_words(d.pick, d.chosen)} (re-scored P "
              f"{d.pick['p_critical_mass_rescored']:.2f}, cost GBP {d.pick['cost_rescored']:.1f}m: the cheapest "
              "reaching 0.8, else the most likely). "]
    if d.box is None:
        lines[-1] += ("Its own probability is below even odds on no re-scoring draw, or on all: nothing for PRIM "
                      "to find.")
    else:
        b = d.box
        limits = "; ".join(f"`{r['parameter']}` {r['low']:.3g}-{r['high']:.3g}" for r in b.limits.to_dict("records"))
        lines[-1] += (f"It fails (its own P below even odds) on {b.share:.0%} of the re-scoring draws; PRIM (EMA "
                      f"Workbench) finds them most often where {limits or 'nothing narrower than the posterior'}: "
                      f"{b.coverage:.0%} of the failures lie there, and {b.density:.0%} of the draws there fail.")
    lines += ["", "![pareto](pareto.png)", "", "![levers](levers.png)", "", "![convergence](convergence.png)", ""]
    return "\n".join(lines)


JOINED_UP = "december_2012 + joined_up"


def _closest(table: pd.DataFrame, joined: pd.Series, chosen: list[Lever]) -> str:
    """The most likely package of the front that costs less than ``joined``, in words."""
    cheaper = table[table["cost_rescored"] < joined["cost"]]
    if cheaper.empty:
        return ""
    r = cheaper.loc[cheaper["p_critical_mass_rescored"].idxmax()]
    return (f" The most likely cheaper one: {_package_words(r, chosen)} (GBP {r['cost_rescored']:.1f}m, P "
            f"{r['p_critical_mass_rescored']:.2f} against {joined['p_critical_mass']:.2f}).")


def write_design(folder, d: Design, run) -> None:
    """``pareto.csv``, ``references.csv``, ``convergence.csv``, the three figures and ``design.md``."""
    import matplotlib.pyplot as plt

    from .plots import plot_convergence, plot_levers, plot_pareto

    d.table.to_csv(folder / "pareto.csv", index=False)
    d.references.to_csv(folder / "references.csv", index=False)
    d.found.convergence.to_csv(folder / "convergence.csv", index=False)
    if d.box is not None:
        d.box.limits.to_csv(folder / "prim_chosen.csv", index=False)
    names = [lv.name.replace("__", ".") for lv in d.chosen]
    shown = d.table.assign(cost=d.table["cost_rescored"], p_critical_mass=d.table["p_critical_mass_rescored"],
                           kept_2030=d.table["kept_2030_rescored"])
    for name, fig in {"pareto.png": plot_pareto(shown, d.references, run.critical_mass_year),
                      "levers.png": plot_levers(shown, names, {n: (lv.low, lv.high) for n, lv in zip(names, d.chosen,
                                                                                                  strict=True)}),
                      "convergence.png": plot_convergence(d.found.convergence)}.items():
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
    (folder / "design.md").write_text(report(d, run), encoding="utf-8")


RESCORE_SEED = 1000
"""The re-scoring draws' seed, this far from the search's: other draws, other replicates."""


@dataclass(frozen=True)
class Design:
    """Everything ``mutuals design`` writes: the front (``table``, re-scored), the Committee's
    policies scored the same way on the re-scoring draws (``references``), the search, the
    draws, the levers, the package chosen for discovery (its row of ``table``) and the PRIM box
    of the draws where it fails (None if it fails on none or all)."""

    table: pd.DataFrame
    references: pd.DataFrame
    found: Search
    draws: Draws
    rescore: Draws
    chosen: list[Lever]
    pick: pd.Series
    box: object


def find_packages(scenarios: dict[str, Scenario], posterior: pd.DataFrame, *, draws_n: int, replicates: int,
                  seed: int, nfe: int, seeds: int, work, population: int = 100, rescore_draws: int = 0,
                  rescore_replicates: int = 4, evaluator=None, store=None, progress: bool = False,
                  say=lambda text: None) -> Design:
    """The whole design (the MORDM steps): ``draws_n`` posterior draws (``replicates`` each) of
    ``december_2012``; :func:`search` over every lever with ``seeds`` seeds from ``seed``; the
    front re-scored on ``rescore_draws`` other draws (by default as many as the posterior has
    particles) with ``rescore_replicates`` each, the Committee's policies beside it; then the
    cheapest package whose re-scored P reaches 0.8 (else the most likely one) and PRIM over the
    re-scoring draws where its own probability is below even odds. With ``store`` (a folder),
    every package scored is written there as it is scored, and a design run again on the same
    folder replays those scores rather than computing them (:class:`Objectives`): an interrupted
    design goes on where it stopped. ``progress``: a bar over the search's evaluations."""
    from . import claim
    from .discovery import prim_box
    from .posterior import draws as posterior_draws
    from .verdict import combine

    base = scenarios["december_2012"]
    d = posterior_draws(posterior, base, draws_n, replicates, seed, "command line: --posterior")
    chosen = levers(base)
    say(f"epsilon-NSGA-II over {len(chosen)} levers: {nfe} evaluations x {seeds} seeds, each over {d.words()}")
    kept = None if store is None else Path(store)
    objectives = Objectives(base, d, seed, evaluator, None if kept is None else kept / "scored.jsonl")
    if objectives.scored:
        say(f"{len(objectives.scored)} packages already scored in {kept}: replayed, not run again")
    found = search(objectives, chosen, nfe, tuple(range(seed, seed + seeds)), work, max(population, nfe // 10),
                   population, progress=progress)
    table = front_table(found, objectives, chosen)

    wide = posterior_draws(posterior, base, rescore_draws or len(posterior), rescore_replicates, seed + RESCORE_SEED,
                           "command line: --posterior")
    say(f"re-scoring the {len(table)} packages of the front and the Committee's policies over {wide.words()}")
    again = Objectives(base, wide, seed + RESCORE_SEED, evaluator, None if kept is None else kept / "rescored.jsonl")
    rescored = pd.DataFrame(again.many([{lv.name: float(r[lv.name.replace("__", ".")]) for lv in chosen}
                                        for _, r in table.iterrows()]))
    for o in (*OBJECTIVES, "extra_authorities"):
        table[f"{o}_rescored"] = rescored[o].to_numpy()
    policies = {"december_2012": base, "historical": scenarios["historical"],
                JOINED_UP: combine(base, scenarios["joined_up"], "december_2012_joined_up")}
    references = pd.DataFrame([dict(policy=name, **again.policy(s)) for name, s in policies.items()])

    likely = table[table["p_critical_mass_rescored"] >= 0.8]
    pick = likely.iloc[0] if len(likely) else table.loc[table["p_critical_mass_rescored"].idxmax()]
    values = {lv.name: float(pick[lv.name.replace("__", ".")]) for lv in chosen}
    frame = again.runs(package(base, values))
    run = base.run
    hit = year_reached(frame, run.critical_mass_threshold, by=("draw", "replicate")) <= run.critical_mass_year
    fails = hit.astype(float).groupby(level="draw").mean().to_numpy() < claim.LIKELY
    x = wide.design.loc[:, wide.design.nunique() > 1]
    box = prim_box(x, fails, "the chosen package fails", True)
    return Design(table, references, found, d, wide, chosen, pick, box)
