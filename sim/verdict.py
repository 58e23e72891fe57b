"""The verdict on the Committee's claim: :func:`verdict` computes it as a :class:`Verdict`,
:func:`write_verdict` writes its tables, figures and report.

The claim [@HC112, para 94]: "The necessary critical mass will be slow to build up without more
and better support ... Without additional assistance it seems likely little will happen."

Made testable (the report states this too), part by part:

- *no additional support* is the ``december_2012`` scenario: the support in force when the report
  was published; ``historical`` (with what was actually added later) is reported beside it,
  never in its place; *more and better support* is that plus the Committee's joined-up strategy
  (the instruments of ``joined_up``), built by :func:`combine`;
- *little happens without*: the share of authorities running a mutual in 2015, 2020 and 2025
  against 2012, and the probability that it rises by less than half the critical-mass threshold
  by the critical-mass year (:data:`sim.claim.LITTLE`);
- *slow to build without, built with*: P(threshold by year) over thresholds of 10-30% and years
  2015-2030 for each policy, the year the threshold is reached and the years gained;
- *self-sustaining*: whether the extra mutuals more support leaves behind hold or grow once it
  ends and its pipeline has drained (:func:`sim.critical.self_sustaining`);
- *a critical-mass barrier*: an unstable equilibrium of unsupported uptake, searched along the
  initial share (:func:`sim.critical.barrier_search`, which ``mutuals tipping`` runs too).

Each is scored under the calibrated posterior (every particle drawn by weight, several replicates
each), where given-data first-order indices say which parameters decide the answers
(:mod:`sim.sensitivity`), and, as a second view, at the defaults and over a prior Latin
hypercube, where PRIM (EMA Workbench) finds the conditions under which each part's answer
changes (and, with ``--sobol N``, Sobol indices over the prior).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import claim, discovery
from .analysis import weighted_quantile, wilson_interval, year_quantile, year_reached
from .averaging import AVERAGED, by_structure, effective_size, estimate, structure_ess, weighted_draws
from .critical import BARRIER_YEARS, Barrier, Sustained, barrier_search, self_sustaining
from .definitions import UNITS, VARIED, changed, definitions, units
from .evaluator import Evaluator
from .experiments import latin_hypercube, run_design
from .instruments import INSTRUMENTS
from .loading import scenario_from_dict
from .overrides import with_overrides, with_particle
from .plots import (
    plot_defaults,
    plot_definitions,
    plot_sensitivity,
    plot_sobol,
    plot_structure,
    plot_threshold_by_year,
    support_spans,
)
from .posterior import overrides
from .results import markers, update_block
from .scenario import Scenario
from .sensitivity import ANSWERS as SENSITIVITY_ANSWERS
from .sensitivity import SMOOTHING, Sensitivity, posterior_sensitivity
from .simulation import simulate


def combine(base: Scenario, extra: Scenario, name: str) -> Scenario:
    """``base`` plus every funded instrument of ``extra`` (its settings; its windows added)."""
    data = base.model_dump()
    more = extra.model_dump()
    for inst, instrument in extra.support.instruments().items():
        if not instrument.funded():
            continue
        mine, theirs = data["support"][inst], more["support"][inst]
        if mine["budget"] > 0:
            windows = [{k: theirs[k] for k in ("start", "end", "budget")}, *theirs["also"]]
            theirs = {**theirs, **{k: mine[k] for k in ("start", "end", "budget")},
                      "also": [*mine["also"], *windows]}
        data["support"][inst] = theirs
    data["name"] = name
    data["description"] = f"{base.name} plus the funded instruments of {extra.name}"
    return scenario_from_dict(data, name)



def reached_by(table: pd.DataFrame, threshold: float) -> pd.Series:
    """First year each (policy, particle, replicate) draw reaches ``threshold`` (NaN: never)."""
    return year_reached(table, threshold, by=("policy", "particle", "replicate"))


def draw_weights(table: pd.DataFrame, weights: pd.Series) -> np.ndarray:
    """Each row's weight in the posterior: its particle's weight shared among the particle's
    replicates (rows of ``table``: policy, particle, replicate, ...; ``weights`` by particle)."""
    per = table.groupby(["policy", "particle"], observed=True)["replicate"].transform("nunique")
    return weights.reindex(table["particle"]).to_numpy() / per.to_numpy()


def under_posterior(table: pd.DataFrame, run, weights: pd.Series, ess: float) -> pd.DataFrame:
    """P(critical mass by the critical-mass year) of each policy under the weighted particles
    (``table``: policy, particle, replicate, year, share_with_mutual; ``weights`` by particle;
    ``ess``: the posterior's effective sample size): the probability, its Monte Carlo error and
    interval (:func:`sim.averaging.estimate`: parameter uncertainty and replicate noise), and the
    weighted 10-90% range of the particles' own probabilities (parameter uncertainty alone)."""
    hit = reached_by(table, run.critical_mass_threshold) <= run.critical_mass_year
    rows = []
    for label, g in hit.groupby(level="policy", observed=True):
        g = g.droplevel("policy")
        rows.append(dict(policy=label, **estimate(g, weights, ess),
                         replicates=int(g.groupby(level="particle").size().min())))
    return pd.DataFrame(rows)


CLAIM_THRESHOLDS = tuple(np.round(np.arange(0.10, 0.301, 0.02), 2))
CLAIM_YEARS = (2012, 2014, 2015, 2017, 2020, 2025)


def claim_parts(table: pd.DataFrame, run, weights: pd.Series) -> dict[str, pd.DataFrame]:
    """The claim's parts under the weighted particles (see :func:`under_posterior`):

    - ``levels``: share running a mutual in each of :data:`CLAIM_YEARS` per policy: median and
      10-90% of all draws (replicate noise and parameter uncertainty), and 10-90% of the
      particles' medians (parameter uncertainty alone), all weighted;
    - ``p_threshold``: P(threshold reached by year) per policy, threshold (10%-30%) and year;
    - ``time``: per policy, the year the critical-mass threshold is reached (median and 10-90%
      of draws, censored at the horizon) and the share of draws that reach it at all; with
      ``years_gained`` against the first policy, paired draw by draw."""
    table = table.assign(w=draw_weights(table, weights))
    levels = []
    for (label, year), g in table[table["year"].isin(CLAIM_YEARS)].groupby(["policy", "year"], observed=True):
        x, w = g["share_with_mutual"], g["w"]
        medians = g.groupby("particle")["share_with_mutual"].median()
        p10, median, p90 = weighted_quantile(x, w, [0.1, 0.5, 0.9])
        m10, m90 = weighted_quantile(medians, weights.reindex(medians.index), [0.1, 0.9])
        levels.append(dict(policy=label, year=year, median=median, p10=p10, p90=p90,
                           particles_p10=m10, particles_p90=m90))
    years = sorted(y for y in table["year"].unique() if y >= 2015)
    w = table.drop_duplicates(["policy", "particle", "replicate"]).set_index(
        ["policy", "particle", "replicate"])["w"]
    grid = []
    for theta in CLAIM_THRESHOLDS:
        reached = reached_by(table, theta)
        for label, g in reached.groupby(level="policy", observed=True):
            wg = w.reindex(g.index).to_numpy()
            for year in years:
                grid.append(dict(policy=label, threshold=theta, year=year,
                                 probability=float(wg @ (g <= year).to_numpy() / wg.sum())))
    reached = reached_by(table, run.critical_mass_threshold)
    horizon = table["year"].max()
    censored = reached.fillna(horizon + 1)  # "not by the horizon" counts as after it
    first = censored.xs(censored.index.get_level_values("policy")[0], level="policy")
    time = []
    for label, g in censored.groupby(level="policy", observed=True):
        wg = w.reindex(g.index).to_numpy()
        g = g.droplevel("policy")
        gained = (first - g).reindex(g.index)
        g10, g50, g90 = weighted_quantile(gained, wg, [0.1, 0.5, 0.9])
        time.append(dict(policy=label, reached_share=float(wg @ (g <= horizon).to_numpy() / wg.sum()),
                         year_median=year_quantile(g, 0.5, horizon, wg), year_p10=year_quantile(g, 0.1, horizon, wg),
                         year_p90=year_quantile(g, 0.9, horizon, wg), years_gained_median=float(g50),
                         years_gained_p10=float(g10), years_gained_p90=float(g90)))
    return {"levels": pd.DataFrame(levels), "p_threshold": pd.DataFrame(grid),
            "time": pd.DataFrame(time)}


def structures(table: pd.DataFrame, run, posterior: pd.DataFrame, draws: pd.DataFrame, few: pd.DataFrame,
               struct: pd.DataFrame) -> pd.DataFrame:
    """Each part of the claim's probability within each structure and averaged over them
    (:func:`sim.averaging.by_structure`): one row per structure of the posterior, with its
    posterior ``probability``, then :data:`sim.averaging.AVERAGED`. Columns: ``structure``,
    ``probability``, per part its probability and ``<part>_mc_error``, ``claim_holds``, and the
    particles behind the policies' parts and behind self-sustaining and the barrier."""
    theta, cm = run.critical_mass_threshold, run.critical_mass_year
    reached = reached_by(table, theta) <= cm
    none = table[table["policy"] == POLICIES[NONE]]
    wide = none[none["year"].isin((2012, cm))].pivot_table(index=["particle", "replicate"], columns="year",
                                                           values="share_with_mutual")
    hits = {"little_without": (claim.little(wide[cm] - wide[2012], theta), draws),
            "slow_without": (reached.xs(POLICIES[NONE], level="policy"), draws),
            "built_with": (reached.xs(POLICIES[MORE], level="policy"), draws),
            "self_sustaining": (struct.set_index("particle")["sustaining"], few),
            "barrier": (struct.set_index("particle")["regime"] == "barrier", few)}
    models = (posterior.groupby("model", sort=False)["weight"].sum() if "model" in posterior
              else pd.Series({"the model": 1.0}))
    caps = structure_ess(posterior)
    out = pd.DataFrame({"structure": [*models.index, AVERAGED], "probability": [*models.to_numpy(), 1.0]})
    for part, (hit, d) in hits.items():
        got = by_structure(hit, d, caps).set_index("structure")
        out[part] = out["structure"].map(got["probability"])
        out[f"{part}_mc_error"] = out["structure"].map(got["mc_error"])
        if part in ("little_without", "self_sustaining"):
            out[f"particles_{'policies' if part == 'little_without' else 'structure'}"] = (
                out["structure"].map(got["particles"]).fillna(0).astype(int))
    answered = claim.holds({part: claim.answer(part, out[part].to_numpy()) for part in claim.CLAIM})
    out["claim_holds"] = [bool(h) if known else None
                          for h, known in zip(answered, out[list(claim.CLAIM)].notna().all(axis=1), strict=True)]
    return out


def support_ends(scenario: Scenario) -> int:
    """The first whole year after every funded window of ``scenario`` has ended (the Right to
    Challenge, a statutory right with no end, aside)."""
    spans = support_spans(scenario)
    return int(np.ceil(spans[-1][1])) if spans else scenario.run.start_year


def structure(none: Scenario, more: Scenario, replicates: int, seed: int) -> tuple[Sustained, object]:
    """Self-sustaining (``more`` withdrawn when it ends) and the barrier (``none`` with no support)
    at one parameter set."""
    sustained = self_sustaining(more, withdraw=support_ends(more), replicates=replicates, seed=seed)
    return sustained, barrier_search(none, replicates, seed)


def little_under_posterior(table: pd.DataFrame, run, weights: pd.Series, ess: float,
                           base_year: int = 2012) -> pd.DataFrame:
    """Per policy of the weighted particles: the rise in the share running a mutual from
    ``base_year`` to the critical-mass year (weighted median and 10-90% of draws), and P(little
    happens: a rise below :data:`sim.claim.LITTLE` of the threshold), with its Monte Carlo error
    and interval (:func:`sim.averaging.estimate`)."""
    wide = table[table["year"].isin((base_year, run.critical_mass_year))].pivot_table(
        index=["policy", "particle", "replicate"], columns="year", values="share_with_mutual", observed=True)
    rise = wide[run.critical_mass_year] - wide[base_year]
    little = claim.little(rise, run.critical_mass_threshold)
    rows = []
    for label, g in rise.groupby(level="policy", observed=True):
        g = g.droplevel("policy")
        w = weights.reindex(g.index.get_level_values("particle")).to_numpy()
        w = w / g.groupby(level="particle").transform("size").to_numpy()
        p10, median, p90 = weighted_quantile(g, w, [0.1, 0.5, 0.9])
        got = estimate(little.loc[label], weights, ess)
        rows.append(dict(policy=label, rise_median=median, rise_p10=p10, rise_p90=p90,
                         **{("p_little" if k == "probability" else k): v for k, v in got.items()}))
    return pd.DataFrame(rows)


NONE, MORE, HISTORICAL, BASELINE = "none", "more", "historical", "baseline"
POLICIES = {
    NONE: "no additional support (in force in December 2012)",
    MORE: "more and better support (December 2012 + joined-up)",
    HISTORICAL: "what was actually added later (historical)",
}
"""The policies the claim speaks of, by key, with the labels the tables and the report use."""
BASELINE_LABEL = "no support at all (baseline)"

SCENARIO_FILES = ("baseline", "december_2012", "historical", "joined_up")
"""The shipped scenario files the verdict compares; beside them, each instrument's own file
(``<instrument>.toml``) where there is one."""


def scenario_files(folder: Path) -> dict[str, Path]:
    """The scenario files of ``folder`` the verdict needs, by name: :data:`SCENARIO_FILES` and
    each instrument's own file where there is one."""
    folder = Path(folder)
    names = [*SCENARIO_FILES, *(n for n in INSTRUMENTS if (folder / f"{n}.toml").is_file())]
    return {n: folder / f"{n}.toml" for n in names}


@dataclass(frozen=True)
class Answer:
    """One part of the claim answered (:mod:`sim.claim`): yes or no, from ``probability``."""

    part: str
    question: str
    answer: bool
    probability: float
    interval: str  # its uncertainty, in words
    sentence: str  # the evidence, in words
    changes: str  # what would change it (PRIM over the prior), in words
    view: str  # under the calibrated posterior, or at the default parameters
    low: float = float("nan")  # the probability's 95% interval, where there is one
    high: float = float("nan")

    @property
    def settled(self) -> bool:
        """Does the interval lie wholly on one side of the answer's cut-off (:data:`sim.claim.LIKELY`)?
        Without an interval, False."""
        return bool(self.high < claim.LIKELY or self.low >= claim.LIKELY)


@dataclass(frozen=True)
class Posterior:
    """The verdict's numbers under the calibrated posterior; tables keyed by ``policy`` (the
    labels of :data:`POLICIES`)."""

    calibrated: pd.DataFrame  # P(critical mass by the year), per policy (:func:`under_posterior`)
    parts: dict[str, pd.DataFrame]  # levels, p_threshold, time (:func:`claim_parts`)
    little: pd.DataFrame  # :func:`little_under_posterior`
    structure: pd.DataFrame  # self-sustaining and the barrier per particle, with its weight
    curves: pd.DataFrame  # every particle's growth curve
    structures: pd.DataFrame  # each part's probability per structure and averaged (:func:`structures`)
    definitions: pd.DataFrame  # each part under other definitions (:func:`sim.definitions.definitions`)
    distinct: int = 0  # distinct particles run under each policy
    distinct_structure: int = 0  # distinct particles behind self-sustaining and the barrier
    ess: float = 0.0  # the calibrated posterior's effective sample size


@dataclass(frozen=True)
class Verdict:
    """Every number of the verdict on the Committee's claim, computed by :func:`verdict`;
    written by :func:`write_verdict`. Policies' rows are keyed by their labels
    (``defaults.loc[POLICIES[NONE]]``), answers by part (``answers["slow_without"]``)."""

    run: object  # the scenarios' [run] table: threshold, year, horizon
    sizes: dict[str, int]  # replicates, lhs_replicates, structure_replicates, sobol_points
    defaults: pd.DataFrame  # at the default parameters, one row per policy (index: policy)
    early: pd.Series  # local-authority spin-outs by 2014 under historical, per replicate
    sustained: Sustained  # at the defaults
    barrier: Barrier  # at the defaults
    lhs: pd.DataFrame  # the prior's hypercube with outcomes and parts (discovery)
    params: dict  # the uncertain parameters
    boxes: dict  # (part, target) -> PRIM Box or None
    sobol: pd.DataFrame | None  # None: not computed (--sobol 0)
    posterior: Posterior | None
    record_check: pd.DataFrame | None  # the calibration's record_check.csv
    validation: pd.DataFrame | None  # the calibration's validation.csv (rolling origins)
    answers: dict[str, Answer]
    sensitivity: Sensitivity | None = None  # under the posterior (None: not computed)
    quiet: str = "none"  # the years after 2014 in which `historical` funds no instrument

    @property
    def view(self) -> str:
        return next(iter(self.answers.values())).view

    @property
    def holds(self) -> bool:
        """Does the claim hold (:func:`sim.claim.holds`)?"""
        return bool(claim.holds({k: a.answer for k, a in self.answers.items()}))


def _posterior_table(policies: dict[str, Scenario], particles: pd.DataFrame, replicates: int, seed: int,
                     evaluator: Evaluator, progress: bool) -> pd.DataFrame:
    """Every particle (row ``i`` of ``particles``: parameter values and ``model``) under every
    policy, batched (:func:`sim.experiments.run_design`), particle ``i`` on the seeds of root
    ``seed + i`` whatever the policy (common random numbers): policy, particle, replicate, year,
    share_with_mutual and the other :data:`sim.definitions.UNITS`."""
    frames = []
    for label, s in policies.items():
        design = overrides(particles, s)
        got = run_design(s, design, replicates, seed, evaluator=evaluator, row_seeds=True, progress=progress)
        per = design.get("mutuals.services_per_organisation",
                         pd.Series(s.mutuals.services_per_organisation, index=design.index))
        frame = got[["design_row", "replicate", "year", "share_with_mutual"]].rename(columns={"design_row": "particle"})
        frames.append(frame.assign(policy=label, **units(s, got, per.to_numpy()[got["design_row"].to_numpy()])))
    table = pd.concat(frames, ignore_index=True)
    table["policy"] = pd.Categorical(table["policy"], categories=list(policies))
    return table[["policy", "particle", "replicate", "year", *UNITS]]


@dataclass(frozen=True)
class _Structure:
    """Self-sustaining and the barrier for one particle (an evaluator's task function)."""

    none: Scenario
    more: Scenario
    replicates: int

    def __call__(self, task: tuple[int, dict, int]):
        i, row, seed = task
        return structure(with_particle(self.none, row),
                         with_particle(self.more, row), self.replicates, seed)


def verdict(scenarios: dict[str, Scenario], *, replicates: int, seed: int, lhs_points: int,
            lhs_replicates: int, sobol_points: int, evaluator: Evaluator | None = None,
            progress: bool = False, posterior: pd.DataFrame | None = None, posterior_particles: int = 100,
            posterior_replicates: int = 4, structure_particles: int = 40, structure_replicates: int = 10,
            record_check: pd.DataFrame | None = None, validation: pd.DataFrame | None = None,
            sensitivity_points: int = 0, sensitivity_replicates: int = 2, say=lambda text: None) -> Verdict:
    """Compute every number of the verdict. ``scenarios``: by name, those of
    :func:`scenario_files`.

    With a calibrated ``posterior`` (see :mod:`sim.calibrate`) each part of the claim is scored
    under it; without one, at the defaults and over the prior only. ``record_check`` (the
    calibration's ``record_check.csv``) lets the report say how well the model fits the record,
    and ``validation`` (its ``validation.csv``) what it predicted for the years after 2014 when
    fitted to the record up to then.
    With ``sensitivity_points`` (and a posterior), :func:`sim.sensitivity.posterior_sensitivity`
    at that many points of the smoothed posterior, ``sensitivity_replicates`` each.
    ``evaluator`` (this process by default) runs the particles and the prior's designs; the
    numbers do not depend on it."""
    evaluator = evaluator or Evaluator()
    none = scenarios["december_2012"]
    more = combine(none, scenarios["joined_up"], "december_2012_joined_up")
    run = none.run
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    policies = {POLICIES[NONE]: none, POLICIES[MORE]: more, POLICIES[HISTORICAL]: scenarios["historical"]}

    # 1. at the defaults: every policy on the same replicates
    at_defaults = {BASELINE_LABEL: scenarios["baseline"], **policies}
    for inst, instrument in none.support.instruments().items():  # each one not yet in force
        if inst in scenarios and not instrument.funded():
            at_defaults[f"December 2012 + {instrument.title.lower()} alone"] = combine(
                none, scenarios[inst], f"december_2012_{inst}")
    say(f"at the default parameters: {replicates} replicates of {len(at_defaults)} policies, "
        "self-sustaining and the barrier")
    rows = []
    for label, s in at_defaults.items():
        frame = simulate(s, replicates=replicates, seed=seed, engine="ensemble")
        r = year_reached(frame, theta)
        k = int((r <= cm).sum())
        low, high = wilson_interval(k, len(r))
        share = frame.loc[frame["year"] == cm, "share_with_mutual"]
        rise = share.to_numpy() - frame.loc[frame["year"] == 2012, "share_with_mutual"].to_numpy()
        if s is scenarios["historical"]:
            early = frame.loc[frame["year"] == 2014, "cumulative_spinouts"]
        rows.append(dict(policy=label, reached=k, replicates=len(r), probability=k / len(r),
                         low=float(low), high=float(high), share_median=share.median(),
                         share_p10=share.quantile(0.1), share_p90=share.quantile(0.9),
                         rise_median=float(np.median(rise)), p_little=float(np.mean(claim.little(rise, theta)))))
    defaults = pd.DataFrame(rows).set_index("policy")
    sustained, barrier = structure(none, more, replicates, seed)

    # 2. under the calibrated posterior: weighted particles, common random numbers across policies
    calibrated = None
    if posterior is not None:
        draws = weighted_draws(posterior, posterior_particles, seed)
        say(f"under the posterior: {len(draws)} weighted particles x {posterior_replicates} replicates of 3 "
            f"policies; self-sustaining and the barrier for {structure_particles} draws")
        particles = draws.drop(columns="weight")
        run_all = lambda chosen: _posterior_table(chosen, particles, posterior_replicates, seed, evaluator, progress)  # noqa: E731
        table = run_all(policies)
        # the claim's policies again on today's 317 authorities, for the definitions table
        today = run_all({label: with_overrides(policies[label], {"population.structure": "today"})
                         for label in (POLICIES[NONE], POLICIES[MORE])})
        few = weighted_draws(posterior, structure_particles, seed + 1)
        few_rows = few.drop(columns="weight").to_dict("records")
        found = evaluator.map(_Structure(none, more, structure_replicates),
                              [(i, row, seed + i) for i, row in enumerate(few_rows)],
                              "self-sustaining and barrier: particles" if progress else None)
        struct, curves = _structure_table(found)
        struct["weight"] = few["weight"].to_numpy()
        ess = effective_size(posterior["weight"])
        little = little_under_posterior(table, run, draws["weight"], ess)
        calibrated = Posterior(under_posterior(table, run, draws["weight"], ess),
                               claim_parts(table, run, draws["weight"]), little, struct, curves,
                               structures(table, run, posterior, draws, few, struct),
                               definitions({"2012": table, "today": today}, draws["weight"], ess,
                                           POLICIES[NONE], POLICIES[MORE]),
                               len(draws), len(few), ess)

    sens = None
    if posterior is not None and sensitivity_points:
        say(f"what decides the answers under the posterior: {sensitivity_points} points of the smoothed "
            f"posterior x {sensitivity_replicates} replicates of 2 policies")
        sens = posterior_sensitivity(none, more, posterior, sensitivity_points, sensitivity_replicates, seed,
                                     evaluator, progress)

    # 3. over the prior: where each part holds (PRIM) and what decides the outcomes (Sobol)
    say(f"over the prior: {lhs_points} hypercube points for PRIM" + (", then a Sobol sample" if sobol_points else ""))
    params = discovery.uncertain_parameters()
    design = latin_hypercube({k: (u.low, u.high) for k, u in params.items()}, lhs_points, seed)
    lhs = discovery.evaluate_design(none, more, design, lhs_replicates, seed, evaluator, progress)
    boxes = {(part, target): discovery.prim_box(design, lhs[part].to_numpy(), part, target)
             for part in discovery.PARTS for target in (True, False)}
    sobol = None
    if sobol_points:  # 0: not computed (over the prior, at an affordable size, it cannot be read)
        sobol_design = discovery.sobol_design(params, sobol_points, seed)
        sobol_table = discovery.evaluate_design(none, more, sobol_design, lhs_replicates, seed, evaluator, progress)
        sobol = discovery.sobol_indices(params, sobol_table, seed)

    sizes = dict(replicates=replicates, lhs_replicates=lhs_replicates, structure_replicates=structure_replicates,
                 posterior_replicates=posterior_replicates,
                 sobol_points=0 if sobol is None else sobol_points * (len(params) + 2))
    parts = dict(run=run, sizes=sizes, defaults=defaults, early=early, sustained=sustained, barrier=barrier,
                 lhs=lhs, params=params, boxes=boxes, sobol=sobol, posterior=calibrated, record_check=record_check,
                 validation=validation)
    return Verdict(**parts, answers=answers(**parts), quiet=_quiet_years(scenarios["historical"]), sensitivity=sens)


def _structure_table(found: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per particle of :func:`structure`'s results, and every particle's growth curve."""
    rows, curves = [], []
    for i, (s, b) in enumerate(found):
        rows.append(dict(particle=i, gap_at_drain=s.gap_at_drain, gap_at_end=s.gap_at_end, ratio=s.ratio,
                         sustaining=s.sustaining, adoptions=s.adoptions, exits=s.exits,
                         barrier=b.share if b.found else np.nan, regime=b.regime, crossings=b.crossings))
        curves.append(b.curve.assign(particle=i))
    return pd.DataFrame(rows), pd.concat(curves, ignore_index=True)


def write_verdict(v: Verdict, folder: Path) -> None:
    """``verdict.md``, its tables and its figures, into ``folder``."""
    folder = Path(folder)
    v.defaults.reset_index().to_csv(folder / "defaults.csv", index=False)
    v.barrier.curve.to_csv(folder / "barrier_defaults.csv", index=False)
    if v.posterior is not None:
        v.posterior.calibrated.to_csv(folder / "posterior.csv", index=False)
        for name, frame in v.posterior.parts.items():
            frame.to_csv(folder / f"posterior_{name}.csv", index=False)
        v.posterior.little.to_csv(folder / "posterior_little.csv", index=False)
        v.posterior.structure.to_csv(folder / "posterior_structure.csv", index=False)
        v.posterior.structures.to_csv(folder / "structures.csv", index=False)
        v.posterior.definitions.to_csv(folder / "definitions.csv", index=False)
        save(plot_definitions(v.posterior.definitions), folder / "definitions.png", dpi=110)
        save(plot_threshold_by_year(v.posterior.parts["p_threshold"], v.run.critical_mass_threshold),
             folder / "posterior_threshold_by_year.png", dpi=110)
    v.lhs.to_csv(folder / "lhs.csv", index_label="design_row")
    box_rows = [dict(part=b.part, box_is_where_it=("holds" if b.holds else "fails"), share_holds=b.share,
                     coverage=b.coverage, density=b.density, mass=b.mass, **r)
                for b in v.boxes.values() if b is not None for r in b.limits.to_dict("records")]
    pd.DataFrame(box_rows).to_csv(folder / "prim_boxes.csv", index=False)
    if v.sensitivity is not None:
        v.sensitivity.indices.to_csv(folder / "sensitivity.csv", index=False)
        save(plot_sensitivity(v.sensitivity.indices, SENSITIVITY_ANSWERS), folder / "sensitivity.png", dpi=110)
    if v.sobol is not None:
        v.sobol.to_csv(folder / "sobol.csv", index=False)
        save(plot_sobol(v.sobol), folder / "sobol.png", dpi=110)
    save(plot_defaults(v.defaults.reset_index(), v.run.critical_mass_threshold, v.run.critical_mass_year,
                       v.sizes["replicates"]), folder / "defaults.png", dpi=120)
    struct = v.posterior.structure if v.posterior is not None else None
    curves = v.posterior.curves if v.posterior is not None else None
    save(plot_structure(v.barrier, curves, v.sustained, struct, BARRIER_YEARS), folder / "structure.png", dpi=110)
    (folder / "verdict.md").write_text(report(v), encoding="utf-8")


def save(fig, path: Path, dpi: int) -> None:
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


README_START, README_END = markers("verdict")


def update_readme(readme: Path, v: Verdict) -> None:
    """Put the verdict's summary between the README's verdict markers (if it has them)."""
    update_block(readme, "verdict", summary(v))


# --- the answers and the report -------------------------------------------------------------


def _box_words(box, answer: bool) -> str:
    """What would change an answer: the PRIM box where the other answer is found, in words."""
    if box is None:
        return f"nowhere in the prior's ranges is the answer {'no' if answer else 'yes'}"
    where = "; ".join(f"`{r.parameter}` {r.low:.3g}-{r.high:.3g}" for r in box.limits.itertuples()) or "anywhere"
    share = box.share if box.holds else 1 - box.share
    if box.dims_for_density is None:
        extra = f"no box PRIM found reaches a density of {discovery.MIN_DENSITY:.0%}"
    elif box.dims_for_density == 0:
        extra = f"over {discovery.MIN_DENSITY:.0%} of all the prior's points answer so"
    else:
        extra = f"a box of density {discovery.MIN_DENSITY:.0%} needs {box.dims_for_density} parameters"
    return (f"the answer is {'yes' if box.holds else 'no'} at {share:.0%} of the prior's points, most often "
            f"where {where}: {box.coverage:.0%} of those points lie there, and {box.density:.0%} of the points "
            f"there answer {'yes' if box.holds else 'no'} ({extra})")


QUESTIONS = {
    "little_without": "Without additional support, does little happen?",
    "slow_without": "Without it, is critical mass ({theta:.0%}) unlikely by {cm}?",
    "built_with": "With more and better support, is it likely by {cm}?",
    "self_sustaining": "Once more support ends, does what it built last?",
    "barrier": "Is there a critical-mass barrier (a 'chicken and egg')?",
}


def answers(*, run, boxes: dict, defaults: pd.DataFrame, posterior: Posterior | None, sustained: Sustained,
            barrier: Barrier, **_) -> dict[str, Answer]:
    """Each part of the claim (:data:`sim.claim.PARTS`): its question, the answer
    (:func:`sim.claim.answer`), its probability with intervals, and what would change it. Under
    the posterior where there is one, else at the defaults."""
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    if posterior is not None:
        c, lt = posterior.calibrated.set_index("policy"), posterior.little.set_index("policy")
        pn, pm, ln = c.loc[POLICIES[NONE]], c.loc[POLICIES[MORE]], lt.loc[POLICIES[NONE]]
        tm = posterior.parts["time"].set_index("policy").loc[POLICIES[MORE]]
        spread = lambda r: (f"Monte Carlo error {r['mc_error']:.2f}, 95% interval {r['low']:.2f}-{r['high']:.2f}, "  # noqa: E731
                            f"{int(r['particles'])} distinct particles; 10-90% of particles "
                            f"{r['particle_p10']:.2f}-{r['particle_p90']:.2f}")
        view = "under the calibrated posterior"
        little = (ln["p_little"], spread(ln), f"the share running a mutual rises by {100 * ln['rise_median']:.1f} "
                  f"percentage points (median; 10-90% {100 * ln['rise_p10']:.1f}-{100 * ln['rise_p90']:.1f}) "
                  f"from 2012 to {cm}")
        slow, built = (pn["probability"], spread(pn)), (pm["probability"], spread(pm))
        gained = (f"more support brings it forward by {_years(tm['years_gained_median'])} (median; 10-90% "
                  f"{tm['years_gained_p10']:.0f} to {tm['years_gained_p90']:.0f})")
        st = posterior.structure.set_index("particle")
        sus = estimate(st["sustaining"], st["weight"], posterior.ess)
        sustain = (sus["probability"], spread(sus),
                   f"the median particle keeps {weighted_quantile(st['ratio'], st['weight'], 0.5):.0%} of the "
                   f"extra mutuals to {run.end_year}")
        barrier_hit = st["regime"] == "barrier"
        bar = estimate(barrier_hit, st["weight"], posterior.ess)
        at = st[barrier_hit]
        b10, b50, b90 = weighted_quantile(at["barrier"], at["weight"], [0.1, 0.5, 0.9]) if len(at) else (np.nan,) * 3
        where = (f"found in {len(at)} of {len(st)} particles, at {b50:.1%} of authorities (median; 10-90% "
                 f"{b10:.1%}-{b90:.1%}); " if len(at) else "")
        regimes = st.groupby("regime")["weight"].sum()
        found = (bar["probability"], spread(bar),
                 f"{where}uptake grows from any start in particles of {regimes.get('grows', 0):.0%} of the weight "
                 f"and declines from every start in {regimes.get('declines', 0):.0%}")
        bounds = {part: (r["low"], r["high"]) for part, r in (("little_without", ln), ("slow_without", pn),
                                                              ("built_with", pm), ("self_sustaining", sus),
                                                              ("barrier", bar))}
    else:
        pn, pm = defaults.loc[POLICIES[NONE]], defaults.loc[POLICIES[MORE]]
        view = "at the default parameters"
        spread = lambda r: f"95% CI {r['low']:.2f}-{r['high']:.2f}"  # noqa: E731
        little = (pn["p_little"], f"{int(pn['replicates'])} replicates", f"the share running a mutual "
                  f"rises by {100 * pn['rise_median']:.1f} percentage points (median) from 2012 to {cm}")
        slow, built = (pn["probability"], spread(pn)), (pm["probability"], spread(pm))
        gained = "years gained are reported under the posterior"
        sustain = (float(sustained.sustaining), f"{sustained.replicates} replicates", str(sustained))
        found = (float(barrier.found), "one parameter set", f"regime: {barrier.regime}")
        bounds = {"slow_without": (pn["low"], pn["high"]), "built_with": (pm["low"], pm["high"])}
    sentences = {
        "little_without": (little, f"{little[2]}; the chance that it rises by less than "
                                   f"{100 * claim.LITTLE * theta:.0f} percentage points is {little[0]:.2f} "
                                   f"({little[1]})"),
        "slow_without": (slow, f"P({theta:.0%} by {cm}) is {slow[0]:.2f} ({slow[1]})"),
        "built_with": (built, f"P({theta:.0%} by {cm}) is {built[0]:.2f} ({built[1]}); {gained}"),
        "self_sustaining": (sustain, f"P(self-sustaining) is {sustain[0]:.2f} ({sustain[1]}): {sustain[2]}"),
        "barrier": (found, f"P(barrier) is {found[0]:.2f} ({found[1]}): {found[2]}"),
    }
    out = {}
    for part, ((probability, interval, *_), sentence) in sentences.items():
        yes = bool(claim.answer(part, probability))
        changes = (_box_words(boxes[part, not yes], yes) if part in claim.CLAIM
                   else "not searched over the prior")
        low, high = bounds.get(part, (np.nan, np.nan))
        out[part] = Answer(part, QUESTIONS[part].format(theta=theta, cm=cm), yes, float(probability), interval,
                           sentence, changes, view, float(low), float(high))
    return out


def _fit_section(v: Verdict) -> list[str]:
    check = v.record_check
    if check is None:
        return ["The verdict was run without a calibrated posterior, so it rests on the default parameters, "
                "which do not reproduce the record (see Limitations).", ""]
    fits = int(check["fits"].sum())
    lines = [f"The model was fitted to the record of 2010 to early 2017 (`mutuals calibrate`; ABC-SMC over the "
             f"model structures). Of its "
             f"{len(check)} figures, the posterior predictive fits {fits}:", "",
             "| figure | date | record | model, median (90%) | fits |", "|---|---|---|---|---|"]
    for r in check.itertuples():
        record = f"about {r.value:g}" if r.error == "lognormal" else f"at most {r.value:g}"
        if r.counts == "all_sectors" and r.error == "lognormal":
            record += " (all sectors; local government's share)"
        extra = "" if r.error == "lognormal" else f"; held in {r.share_within_bound:.0%} of draws"
        lines.append(f"| {r.observation} | {r.date:g} | {record} | {r.predictive_median:.0f} "
                     f"({r.predictive_q05:.0f}-{r.predictive_q95:.0f}){extra} | {'yes' if r.fits else 'no'} |")
    lines += ["", "A figure fits if the 90% band covers it and the median is within its stated error; a bound "
              "if at least 90% of draws respect it. Where the model misses, the answers below inherit the miss.", ""]
    return lines


def _years(x: float) -> str:
    """A number of years in words: "1 year", "3 years", "0 years"."""
    n = int(round(x))
    return f"{n} year" if abs(n) == 1 else f"{n} years"


AFTER_2014 = "all_sectors_early_2017"
"""The record's figure after 2014 (the count of early 2017), which the 2014 origin predicts."""


def _quiet_years(scenario: Scenario, first: float = 2014.5, last: float = 2017.5) -> str:
    """The years between ``first`` and ``last`` in which ``scenario`` funds no instrument, in words."""
    spans = support_spans(scenario)
    gaps = [(a[1], b[0]) for a, b in zip(spans, spans[1:], strict=False) if b[0] > first and a[1] < last]
    return ", ".join(f"{a:g} to {b:g}" for a, b in gaps) or "none"


def _after_2014_section(v: Verdict) -> list[str]:
    """2015 to early 2017, with next to no national support, as the natural experiment on
    "without additional support": what the model fitted to 2014 predicted, what happened, and
    what the model fitted to 2017 says."""
    lines = ["## What the record after 2014 says", "",
             "From 2015 to early 2017 national support was close to nil (GBP 57,000 awarded in 2017 before the "
             "second Mutuals Support Programme of January 2018; the Office for Civil Society, which ran the "
             "programme, moved to DCMS in July 2016)"
             + f"; `historical` funds no instrument from {v.quiet}"
             + ". Those years are the nearest the record comes to the Committee's \"without additional "
             "support\".", ""]
    val, check = v.validation, v.record_check
    early = val[(val["observation"] == AFTER_2014) & (val["fit_until"] < 2015)] if val is not None else None
    late = check[check["observation"] == AFTER_2014] if check is not None else None
    if early is not None and len(early):
        r = early.iloc[-1]
        lines.append(f"- *Predicted, fitted to the record up to {r['fit_until']:g}* (the rolling origin of "
                     f"`mutuals calibrate`, `validation.csv`): {r['predictive_median']:.0f} public service mutuals "
                     f"of all sectors in early 2017 (90%: {r['q05']:.0f}-{r['q95']:.0f}); the 90% band "
                     f"{'covers' if r['covered'] else 'misses'} the record.")
    if late is not None and len(late):
        r = late.iloc[0]
        lines.append(f"- *What happened*: \"over 110\" public service mutuals of all sectors in early 2017 (read "
                     f"as about {r['value']:g}; local government's share taken as in 2014).")
        lines.append(f"- *Fitted to the record to early 2017* (`record_check.csv`): {r['predictive_median']:.0f} "
                     f"(90%: {r['predictive_q05']:.0f}-{r['predictive_q95']:.0f}); "
                     f"{'it fits' if r['fits'] else 'it does not fit'}.")
    if v.posterior is not None:
        lv = v.posterior.parts["levels"].set_index(["policy", "year"])
        for key in (HISTORICAL, NONE):
            at = [lv.loc[(POLICIES[key], y), "median"] for y in (2014, 2015, 2017)]
            lines.append(f"- *Under the posterior*, {POLICIES[key]}: {at[0]:.1%} of authorities run a mutual "
                         f"in 2014, {at[1]:.1%} in 2015 and {at[2]:.1%} in 2017 (weighted medians; "
                         "`posterior_levels.csv`).")
    if len(lines) == 4:
        lines.append("- No calibration was given (`--posterior`), so there is nothing to compare.")
    return [*lines, ""]


def _year(x: float) -> str:
    return "never" if np.isnan(x) else f"{x:.0f}"


def _parts_tables(v: Verdict) -> list[str]:
    if v.posterior is None:
        return []
    parts, run = v.posterior.parts, v.run
    theta = run.critical_mass_threshold
    levels, time, grid = parts["levels"], parts["time"], parts["p_threshold"]
    lines = ["## The evidence under the calibrated posterior", "",
             f"{v.posterior.distinct} distinct particles, each with its posterior weight (the model structure's "
             "probability times the particle's weight within it, so that every number averages over the "
             f"structures), are run under every policy on the same seeds, {v.sizes['posterior_replicates']} "
             f"replicates each; self-sustaining and the barrier rest on {v.posterior.distinct_structure} of them, "
             f"drawn by weight. The posterior's effective sample size is {v.posterior.ess:.0f}: no interval of a "
             "probability is narrower than that many independent draws allow. Intervals of levels and years: "
             "weighted 10-90% of all draws (replicate noise and parameter uncertainty together) and, in brackets, "
             "of the particles' medians (parameter uncertainty alone). Tables: `posterior_levels.csv`, "
             "`posterior_little.csv`, `posterior_p_threshold.csv`, `posterior_time.csv`, `posterior_structure.csv`, "
             "`structures.csv`.", "",
             "Share of authorities running a mutual:", "",
             "| policy | year | median | 10-90% of draws | (of particles) |", "|---|---|---|---|---|"]
    for r in levels.itertuples():
        lines.append(f"| {r.policy} | {r.year} | {r.median:.1%} | {r.p10:.1%}-{r.p90:.1%} | "
                     f"({r.particles_p10:.1%}-{r.particles_p90:.1%}) |")
    lines += ["", f"P({theta:.0%} of authorities by the end of the year):", "",
              "| policy | " + " | ".join(str(y) for y in (2015, 2020, 2025, 2030)) + " |", "|---|" + "---|" * 4]
    at = grid[np.isclose(grid["threshold"], theta)]
    for label, g in at.groupby("policy", sort=False):
        g = g.set_index("year")["probability"]
        lines.append(f"| {label} | " + " | ".join(f"{g.get(y, np.nan):.2f}" for y in (2015, 2020, 2025, 2030)) + " |")
    lines += ["", f"| policy | reaches {theta:.0%} by {int(grid['year'].max())} | year reached, median (10-90%) "
              "| years gained over no additional support, median (10-90%) |", "|---|---|---|---|"]
    for r in time.itertuples():
        lines.append(f"| {r.policy} | {r.reached_share:.2f} | {_year(r.year_median)} ({_year(r.year_p10)}-"
                     f"{_year(r.year_p90)}) | {r.years_gained_median:.0f} ({r.years_gained_p10:.0f}-"
                     f"{r.years_gained_p90:.0f}) |")
    lines += ["", "*never*: that share of the draws had not reached the threshold by the horizon (years gained "
              "count a draw that never reaches it as reaching it just after the horizon). The same probabilities "
              "over every threshold from 10% to 30% and every year from 2015:", "",
              "![P(threshold by year)](posterior_threshold_by_year.png)", ""]
    return lines


def agreement(table: pd.DataFrame, part: str) -> float:
    """The posterior probability of the structures whose own answer to ``part`` is the averaged
    one (``table``: :func:`structures`)."""
    each = table[table["structure"] != AVERAGED].dropna(subset=[part])
    averaged = claim.answer(part, table.loc[table["structure"] == AVERAGED, part].iloc[0])
    return float(each.loc[claim.answer(part, each[part].to_numpy()) == averaged, "probability"].sum())


def _structures_section(v: Verdict) -> list[str]:
    if v.posterior is None:
        return []
    t = v.posterior.structures
    parts = list(claim.PARTS)
    lines = ["## Which structure carries the answer", "",
             "Each part's probability within each model structure (its particles, weighted within it) and "
             "averaged over the structures by their posterior probabilities (Bayesian model averaging), with its "
             "Monte Carlo error. A structure with no particle among the draws has none. Table: `structures.csv`.", "",
             "| structure | probability | " + " | ".join(claim.PARTS[p] for p in parts) + " | claim holds |",
             "|---|---|" + "---|" * (len(parts) + 1)]
    for r in t.to_dict("records"):
        cells = [f"{r[p]:.2f} ± {r[f'{p}_mc_error']:.2f}" if np.isfinite(r[p]) else "-" for p in parts]
        holds = "-" if r["claim_holds"] is None else ("yes" if r["claim_holds"] else "no")
        lines.append(f"| {r['structure']} | {r['probability']:.2f} | " + " | ".join(cells) + f" | {holds} |")
    lines += ["", "The posterior probability of the structures whose own answer is the averaged one: " + "; ".join(
        f"*{claim.PARTS[p]}* {agreement(t, p):.0%}" for p in parts) + ".", ""]
    return lines


def _definitions_words(v: Verdict) -> str:
    """Which answers change with the definitions, in one sentence."""
    if v.posterior is None:
        return ""
    got = changed(v.posterior.definitions)
    said = [f"*{claim.PARTS[p]}* changes with {_runs(w)}" for p, w in got.items() if w]
    steady = [claim.PARTS[p] for p, w in got.items() if not w]
    return ("Under other definitions (`definitions.csv`): " + ("; ".join(said) if said else "no answer changes")
            + (f"; *{'*, *'.join(steady)}* does not change under any of them" if steady and said else "") + ".")


def _runs(changes: list[str]) -> str:
    """Definitions (``name=value``, in :data:`sim.definitions.VARIED`'s order) in words, each run
    of neighbouring values of one definition given as its ends: "threshold 10%-12%, 28%-30%"."""
    out = []
    for name, values in VARIED.items():
        mine = {c.split("=", 1)[1] for c in changes if c.split("=", 1)[0] == name}
        order = [str(x) for x in values]
        runs, run = [], []
        for x in order:
            if x in mine:
                run.append(x)
            elif run:
                runs.append(run)
                run = []
        runs += [run] if run else []
        word = (lambda x: f"{float(x):.0%}") if name == "threshold" else (lambda x: x.replace("_", " "))
        if name not in ("threshold", "year"):  # not ordered: each value named
            runs = [[x] for r in runs for x in r]
        if runs:
            out.append(f"{name.replace('_', ' ')} " + ", ".join(
                word(r[0]) if len(r) == 1 else f"{word(r[0])}-{word(r[-1])}" for r in runs))
    return "; ".join(out)


def _definitions_section(v: Verdict) -> list[str]:
    if v.posterior is None:
        return []
    d = v.posterior.definitions
    lines = ["## How the answers depend on the definitions", "",
             "The Committee defined none of its terms. Ours: critical mass is Rogers' 16%, a share of a "
             "population's eventual adopters, used here as a share of all authorities (of eventual adopters it "
             "would be a smaller number); reached by 2020; counted in authorities running a mutual, not in mutuals; "
             "of the 353 authorities of 2012; and 'little happens' is a rise from 2012 of less than half of it. "
             "Each is changed below one at a time, over the same weighted particles; the rows where an answer "
             "changes (every row: `definitions.csv`; `definitions.png`):", "",
             "| definition | value | little happens | P(critical mass), without | P(critical mass), with | "
             "claim holds | changes |", "|---|---|---|---|---|---|---|"]
    own = d.index[d["base"]][0]
    for r in d[(d["changes"] != "") | (d.index == own)].to_dict("records"):
        what = "the verdict's own" if r["base"] else r["changes"].replace("_", " ")
        lines.append(f"| {r['definition'].replace('_', ' ')} | {r['value']} | {r['little_without']:.2f} | "
                     f"{r['slow_without']:.2f} | {r['built_with']:.2f} | {'yes' if r['claim_holds'] else 'no'} | "
                     f"{what} |")
    lines += ["", "![definitions](definitions.png)", "", _definitions_words(v), ""]
    return lines


def _record_words(check: pd.DataFrame | None) -> tuple[str, str]:
    """(the record's size, the local-authority figure for 2014) in words, from the calibration's
    record check."""
    if check is None:
        return "a short record", "the record"
    bounds = int((check["error"] == "upper_bound").sum())
    size = f"a short record ({len(check)} figures, {bounds} of them bounds)"
    local = check[(check["counts"] == "local_authority") & (check["error"] != "upper_bound")]
    return size, (f"about {local['value'].iloc[0]:g} reported" if len(local) else "the record")


def summary(v: Verdict) -> str:
    """The verdict's summary section (Markdown): each answer, and whether the claim holds."""
    run = v.run
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    d = v.defaults
    lines = [plain(v), "", f"Answered {v.view}:", ""]
    lines += [f"- **{a.question}** {'Yes' if a.answer else 'No'}: {a.sentence}." for a in v.answers.values()]
    parts = "; ".join(claim.PARTS[p] for p in claim.CLAIM)
    lines += ["", f"Taken together, the claim **{'holds' if v.holds else 'does not hold'}** {v.view}: "
              + (f"{parts}." if v.holds else f"at least one of its parts ({parts}) is answered no above."), "",
              f"At the default parameters, which do not reproduce the record, P({theta:.0%} by {cm}) is "
              f"{d.loc[POLICIES[NONE], 'probability']:.2f} without additional support and "
              f"{d.loc[POLICIES[MORE], 'probability']:.2f} with more and better support (`verdict.md`, *At the "
              "default parameters*)."]
    if v.posterior is not None:
        lines += ["", _definitions_words(v)]
    return "\n".join(lines)


def plain(v: Verdict) -> str:
    """The verdict in one paragraph of plain words."""
    a, run = v.answers, v.run
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    where = ("Fitted to the record of council mutuals to early 2017 and averaged over the model's structures"
             if v.posterior is not None else "At the model's default parameters (not fitted to the record)")
    if v.posterior is not None:  # most of the posterior's weight grows from any start with no support
        st = v.posterior.structure
        grows = st.loc[st["regime"] == "grows", "weight"].sum() > 0.5 * st["weight"].sum()
    else:
        grows = v.barrier.regime == "grows"
    lines = [f"**In short.** {where}, the model finds that without more support than was in force in December "
             f"2012, {'little' if a['little_without'].answer else 'more than a little'} happens by {cm} and a "
             f"critical mass ({theta:.0%} of authorities running a mutual) by {cm} is "
             f"{'unlikely' if a['slow_without'].answer else 'likely'} (probability "
             f"{a['slow_without'].probability:.2f}); with the Committee's joined-up support it is "
             f"{'likely' if a['built_with'].answer else 'unlikely'} ({a['built_with'].probability:.2f}). "
             f"The Committee's claim therefore {'holds' if v.holds else 'does not hold'}."]
    close = [f"*{claim.PARTS[p]}* ({a[p].probability:.2f}, 95% interval {a[p].low:.2f}-{a[p].high:.2f})"
             for p in claim.CLAIM if not a[p].settled and np.isfinite(a[p].low)]
    if close:
        lines.append("But the interval of the probability behind " + " and ".join(close) + " spans even odds: on "
                     "present evidence that part could go either way.")
    if not a["self_sustaining"].answer:
        lines.append("What the extra support builds does not last once it ends" + (
            ", although uptake grows without support from any starting level. The two are not at odds: the "
            "growth is driven by the spending cuts, which press every authority to look for savings, while the "
            "extra mutuals that support added are lost over time as contracts are re-let and mutuals fail, so "
            "support brings uptake forward rather than lifting it for good." if grows else "."))
    return " ".join(lines)


def _sensitivity_section(v: Verdict) -> list[str]:
    """What decides the answers under the posterior (:mod:`sim.sensitivity`)."""
    lines = ["## What decides the answers under the posterior", ""]
    sens = v.sensitivity
    if sens is None:
        return lines + ["Not computed in this run (no posterior, or `--sensitivity 0`).", ""]
    lines += [f"Given-data first-order indices (Plischke, Borgonovo and Smith 2013, European Journal of "
              "Operational Research 226: 536-550; SALib's `delta` module) over "
              f"the calibrated posterior, smoothed by pyabc's kernel at {SMOOTHING:g} times its default bandwidth "
              f"within each structure (each parameter's spread widened by about a tenth), the structures in their "
              f"posterior probabilities: {sens.points} points, {sens.replicates} replicates each, each answer "
              "averaged over them. An index is the share of the answer's variance that knowing that input alone "
              "removes; inputs are correlated under a posterior, so it includes what the input says about those "
              f"correlated with it. The widest 95% interval of any index is {sens.widest:.3f}"
              + (" (narrower than 0.1)." if sens.widest < 0.1 else
                 ": wider than 0.1, so give more points (`--sensitivity N`).")
              + " A dummy input, independent of everything, shows the estimator's floor. Table: `sensitivity.csv`.",
              "", "| answer | left to replicate noise | inputs above the dummy (index, 95%) |", "|---|---|---|"]
    for key, words in SENSITIVITY_ANSWERS.items():
        top = sens.top(key, 5)
        above = top[top["above_dummy"]]
        named = ", ".join(f"`{r['input']}` {r['index']:.2f} ({r['low']:.2f}-{r['high']:.2f})"
                          for r in above.to_dict("records")) or "none: no single input stands out"
        lines.append(f"| {words} | {sens.noise[key]:.0%} | {named} |")
    return lines + ["", "![sensitivity](sensitivity.png)", ""]


def report(v: Verdict) -> str:
    """verdict.md."""
    run = v.run
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    s, b = v.sustained, v.barrier
    size, local = _record_words(v.record_check)
    lines = [
        "# Is the Committee right? Mutuals, critical mass and support",
        "",
        "*Generated by `mutuals verdict`; every number below was computed by the run that wrote this file "
        "(tables beside it; `manifest.json` records what produced it).*",
        "",
        "## The question",
        "",
        f"The {claim.COMMITTEE} ({claim.REPORT}): \"The necessary "
        "critical mass will be slow to build up without more and better support ... Without additional "
        "assistance it seems likely little will happen.\"",
        "",
        f"- *Critical mass*: {theta:.0%} of English principal authorities running a live mutual (Rogers' "
        "innovators and early adopters).",
        "- *Without additional support*: the support in force when the report was published: actual cuts, "
        "the pathfinders and the Mutuals Taskforce from 2010, the first Mutuals Support Programme (2011-13), "
        "Right to Challenge from June 2012 (`december_2012`). What was actually added later (the second "
        "programme, 2018-20; `historical`) is shown beside it, never in its place.",
        "- *More and better support*: the same plus the Committee's joined-up strategy (evidence, tested "
        "models, barrier removal, grants and advice, 2013-2020; `joined_up.toml`).",
        f"- *Little happens*: the share running a mutual rises by less than {100 * claim.LITTLE * theta:.0f} "
        f"percentage points from 2012 to {cm}.",
        "",
        "## Summary",
        "",
        summary(v),
        "",
    ]
    lines += ["## What would change each answer", "",
              f"PRIM (EMA Workbench) over {len(v.lhs)} Latin hypercube points of the prior ({len(v.params)} "
              f"uncertain parameters, {v.sizes['lhs_replicates']} replicates per point and policy; cuts at their "
              f"actual trajectory): for each part, the box of at most {discovery.MAX_DIMS} parameters where the other "
              "answer is densest. "
              "Table: `prim_boxes.csv` (both answers' boxes); every point: `lhs.csv`.", ""]
    for part in claim.CLAIM:
        lines.append(f"- *{v.answers[part].question}* {v.answers[part].changes}.")
    lines.append("")
    lines += ["## How well the model fits the record", "", *_fit_section(v)]
    lines += _after_2014_section(v)
    lines += _parts_tables(v)
    lines += _structures_section(v)
    lines += _definitions_section(v)
    lines += ["## Does it last, and is there a barrier?", "",
              f"*Self-sustaining*: more support is withdrawn when it ends ({s.withdraw}); once its pipeline has "
              f"drained ({s.drained_year}), are the extra live mutuals it left over a world that never had support "
              f"still there, or more, in {s.end}? At the defaults: {s}.", "",
              f"*Barrier*: growth of the share running a mutual over {BARRIER_YEARS} years with no support, against "
              "the share at the start; a barrier is where it turns from decline to growth. At the defaults: "
              + (f"a barrier at {b.share:.1%} of authorities." if b.found else
                 "none (" + ("uptake grows from any start" if b.regime == "grows"
                            else "uptake declines from every start") + ")."),
              "", "![structure](structure.png)", ""]
    lines += _sensitivity_section(v)
    lines += ["## What decides the outcomes over the prior", ""]
    if v.sobol is None:
        lines += ["Not computed in this run (`--sobol 0`). Sobol indices over the prior at the size this machine "
                  "affords (64 base points for 48 parameters) could not be read: total-order intervals as wide as "
                  "the indices, first-order indices below zero. The section above gives them under the posterior; "
                  "`mutuals verdict --sobol N` gives the prior's.", ""]
    else:
        lines += [f"Sobol indices over the prior (SALib; {v.sizes['sobol_points']} points of a Saltelli sample, "
                  f"{v.sizes['lhs_replicates']} replicates each): the share of each outcome's variance due to a "
                  "parameter alone (first order) and with all its interactions (total order), with 95% intervals. "
                  "Replicate noise inflates the total order; where an interval is as wide as its index, the index "
                  "cannot be read. Table: `sobol.csv`.", "",
                  "| parameter | ST, P without (95%) | ST, P with | ST, years gained |", "|---|---|---|---|"]
        sob = v.sobol.copy()
        sob["rank"] = sob[[c for c in sob.columns if c.startswith("ST_") and "conf" not in c]].max(axis=1)
        for r in sob.nlargest(8, "rank").to_dict("records"):
            cells = [f"{r[f'ST_{k}']:.2f} ± {r[f'ST_conf_{k}']:.2f}" if np.isfinite(r[f"ST_{k}"]) else "-"
                     for k in ("p_without", "p_with", "years_gained")]
            lines.append(f"| `{r['parameter']}` | " + " | ".join(cells) + " |")
        lines += ["", "![sobol](sobol.png)", ""]
    lines += ["## At the default parameters", "",
              f"| policy | P(critical mass by {cm}) | 95% CI | share running a mutual in {cm}, median (10-90%) |",
              "|---|---|---|---|"]
    for policy, r in v.defaults.iterrows():
        lines.append(f"| {policy} | {r['probability']:.2f} | {r['low']:.2f}-{r['high']:.2f} | "
                     f"{r['share_median']:.1%} ({r['share_p10']:.1%}-{r['share_p90']:.1%}) |")
    lines += ["", "![defaults](defaults.png)", "",
              "## Limitations", "",
              "- The model is a stylised reconstruction: authorities' attributes are drawn, not measured, and most "
              "behavioural parameters are assumptions with ranges (docs/ODD.md).",
              f"- At the defaults it under-predicts early uptake ({v.early.median():.0f} local-authority spin-outs "
              f"by 2014 under `historical`, median; against {local}); "
              + ("the answers above are the calibrated ones." if v.posterior is not None else
                 "no calibrated posterior was given, so the answers above rest on them."),
              f"- The calibration fits {size}; it narrows only a few "
              "parameters, and the rest keep their prior ranges (`calibration.md`).",
              f"- The definitions (the threshold, the year, 'little', the {claim.LIKELY:g} cut-offs) are ours; the "
              "tables beside this file allow others, and the heat map shows every threshold and year.",
              f"- Self-sustaining and the barrier rest on {v.sizes['structure_replicates']} replicates per particle; "
              "the barrier's location is interpolated on a grid where growth wavers near zero.",
              "- Support instruments' effects are assumptions with ranges; nothing was fitted to the verdict.",
              ""]
    return "\n".join(lines)
