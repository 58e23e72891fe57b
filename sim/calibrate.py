"""Calibration to the record by approximate Bayesian computation (ABC-SMC, pyabc).

The uncertain parameters (:func:`calibrated_parameters`) get priors from their plausible ranges
in the schema (uniform, or log-uniform where a range spans an order of magnitude). A particle is
simulated once (one replicate, its own seed) on the calibrated scenario up to the record's last
date; its distance to the record is the root sum of squared standardised errors of
:func:`sim.record.distance`, so a particle at distance 1 is one standard error from the record
in all. pyabc lowers the acceptance threshold generation by generation (the median of the last
generation's distances, times 0.95) down to ``min_epsilon``.

:func:`calibrate` computes a whole calibration (the fit, the posterior predictive against the
record, the holdout and the model selection) and returns a :class:`CalibrationResult`;
:func:`write_calibration` writes it.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

from .evaluator import Evaluator
from .instruments import INSTRUMENTS
from .loading import scenario_from_dict
from .overrides import MECHANISMS, with_overrides, without
from .record import Record, distance, model_values
from .scenario import Scenario, Uncertainty, uncertainties

BEHAVIOURAL = ("population.", "behaviour.", "mutuals.")
NATIONAL_PUSH = "national push"
"""The label of the windows that make up the early national push in ``historical``."""


def calibrated_parameters(scenario: Scenario, until: float) -> dict[str, Uncertainty]:
    """The uncertain parameters the record can speak to: every behavioural one (population,
    behaviour, mutuals) and the effects of every instrument that runs in ``scenario`` before
    ``until``. The others (cut severity, instruments not yet in force) keep their defaults."""
    in_force = tuple(f"support.{name}." for name, inst in scenario.support.instruments().items()
                     if inst.funded(before=until))
    return uncertainties(BEHAVIOURAL + in_force)


def without_national_push(scenario: Scenario) -> Scenario:
    """``scenario`` without the windows labelled as the early national push (pathfinders,
    Mutuals Taskforce): a window in ``also`` is dropped, a first window gets no budget."""
    data = scenario.model_dump()
    for name in INSTRUMENTS:
        inst = data["support"][name]
        inst["also"] = [w for w in inst["also"] if w["label"] != NATIONAL_PUSH]
        if inst["label"] == NATIONAL_PUSH:
            inst["budget"] = 0.0
            inst["label"] = ""
    return scenario_from_dict(data, f"{scenario.name} without the national push")


def structures(scenario: Scenario) -> dict[str, Scenario]:
    """The model structures compared by model selection: the extended model, the extended model
    with each new mechanism switched off, and the earlier structure (all of them off)."""
    out = {"extended": scenario}
    for name in MECHANISMS:
        out[f"without {name}"] = without(scenario, name)
    out["without national_push"] = without_national_push(scenario)
    out["earlier structure"] = without_national_push(without(scenario, *MECHANISMS))
    return out


# --- the simulator pyabc calls -------------------------------------------------------------


@dataclass
class RecordModel:
    """A pyabc model: parameters -> what the model says of each observation, and the parameter
    values themselves (as ``param:<path>``), so that the history holds every parameter.

    pyabc's sequential Monte Carlo moves only the ``steered`` parameters (those the record is
    seen to move, :func:`screen`); every other parameter of ``params`` is drawn afresh from its
    prior in each simulation, which integrates it out exactly. Its accepted values are still
    draws from its posterior: with the prior as its proposal, its importance weight is 1.
    Picklable, so that pyabc's process pools and Dask workers can run it."""

    scenario: Scenario
    record: Record
    params: dict[str, Uncertainty] = field(default_factory=dict)
    steered: list[str] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        end = int(np.ceil(self.record.last_date)) + 1
        self.base = with_overrides(self.scenario, {"run.end_year": end, "run.critical_mass_year": end})

    def values(self, params: dict, seed: int) -> dict[str, float]:
        s = with_overrides(self.base, {k: float(v) for k, v in params.items()}, "calibration")
        from .dynamics import MEASURES
        from .simulation import measures_array

        out = measures_array(s, [seed])[0]  # (years, measures)
        measures = {m: out[:, MEASURES.index(m)] for m in
                    ("cumulative_spinouts", "live_mutuals", "in_preparation")}
        return {k: float(v) for k, v in model_values(self.record, measures, s.run.start_year).items()}

    def __call__(self, z) -> dict[str, float]:
        # The particle's own generator, from the root seed and the coordinates pyabc proposed:
        # it draws the integrated-out parameters and the replicate's seed, so the same proposal
        # gives the same simulation whatever process runs it and in whatever order
        bits = np.array([z[_key(p)] for p in self.steered], dtype=float).view(np.uint64)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, *bits.tolist()]))
        z = {_key(p): (z[_key(p)] if p in self.steered else rng.normal()) for p in self.params}
        seed = int(rng.integers(2**63))
        values = from_unbounded(self.params, z)
        return {**self.values(values, seed), **{f"param:{k}": v for k, v in values.items()}}


# Each parameter is sampled as z, the normal quantile of its place in its plausible range (on
# its scale): a standard normal prior on z is exactly the uniform (or log-uniform) prior on the
# parameter, and pyabc's Gaussian perturbations of z can never leave the range. Perturbing the
# parameters themselves, most proposals fell outside at least one of some 35 ranges and were
# wasted; with a logistic z (heavier tails than the Gaussian kernels), the importance weights
# of proposals in the tails exploded.


def _key(path: str) -> str:
    return "z_" + path.replace(".", "__")


def from_unbounded(params: dict[str, Uncertainty], z) -> dict[str, float]:
    """Parameter values (dotted paths) from pyabc's unbounded coordinates."""
    out = {}
    for path, u in params.items():
        share = float(ndtr(z[_key(path)]))
        if u.scale == "log":
            out[path] = float(np.exp(np.log(u.low) + share * np.log(u.high / u.low)))
        else:
            out[path] = float(u.low + share * (u.high - u.low))
    return out


def prior(params: dict[str, Uncertainty]):
    """pyabc's prior on the unbounded coordinates: standard normal, i.e. uniform on each
    plausible range, log-uniform on a ``log`` scale."""
    import pyabc

    return pyabc.Distribution(**{_key(path): pyabc.RV("norm", 0.0, 1.0) for path in params})


SCREEN_DRAWS = 400
"""Prior draws of the screening: enough for a Spearman correlation of 0.1 to stand out (its
standard error is about 0.05)."""
SCREEN_THRESHOLD = 0.1
"""A parameter steers the record if its largest absolute Spearman correlation with any of the
record's model values is at least this."""
SCREEN_MOST = 8
"""At most this many parameters are steered: a few dimensions, which an SMC of some hundreds of
particles can move; the rest are integrated out."""
COVARIANCE_FLOOR = 0.01
"""Added to the diagonal of the perturbation kernel's covariance (standard normal coordinates)."""
DASK_BATCH = 20
"""Simulations per Dask task in pyabc's Dask sampler."""


def screen(model: RecordModel, draws: int, seed: int, threshold: float = SCREEN_THRESHOLD,
           most: int = SCREEN_MOST) -> pd.DataFrame:
    """Which parameters move what the model says of the record: ``draws`` prior draws, and per
    parameter the largest absolute Spearman correlation with any observation's model value
    (log scale). Returns the table, sorted, with ``steered`` marking the (at most ``most``)
    parameters at or above ``threshold``."""
    from scipy.stats import spearmanr

    from .simulation import replicate_seed

    rng = np.random.default_rng(seed)
    rows, outs = [], []
    for i in range(draws):
        values = from_unbounded(model.params, {_key(p): rng.normal() for p in model.params})
        rows.append(values)
        outs.append(model.values(values, replicate_seed(seed, i) % 2**63))
    x, y = pd.DataFrame(rows), np.log1p(pd.DataFrame(outs))
    table = []
    for p in model.params:
        rho = [abs(spearmanr(x[p], y[o])[0]) if y[o].nunique() > 1 else 0.0 for o in y]
        table.append(dict(parameter=p, max_abs_spearman=float(np.nanmax(rho))))
    out = pd.DataFrame(table).sort_values("max_abs_spearman", ascending=False).reset_index(drop=True)
    out["steered"] = (out["max_abs_spearman"] >= threshold) & (out.index < most)
    return out


def transition():
    """pyabc's Gaussian perturbation kernel, its covariance floored at :data:`COVARIANCE_FLOOR`
    (in the standard normal coordinates of :func:`prior`): under model selection a structure can be left with a
    particle or two, whose sample covariance is zero, so that every proposal got density 0 and
    pyabc's weights became NaN."""
    import pyabc
    from scipy import stats

    class Floored(pyabc.MultivariateNormalTransition):
        def fit(self, X, w):
            super().fit(X, w)
            self.cov = self.cov + COVARIANCE_FLOOR * np.eye(self.cov.shape[0])
            self.normal = stats.multivariate_normal(cov=self.cov, allow_singular=True)

    return Floored()




def sampler(evaluator: Evaluator | None = None):
    """pyabc's sampler for where ``evaluator`` runs work: pyabc's own process pool for local
    processes, its Dask sampler on a Dask cluster, else one process."""
    import pyabc

    evaluator = evaluator or Evaluator()
    if evaluator.client is not None:
        out = pyabc.sampler.DaskDistributedSampler(dask_client=evaluator.client, batch_size=DASK_BATCH)
    elif evaluator.workers > 1:
        out = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=evaluator.workers)
    else:
        out = pyabc.sampler.SingleCoreSampler()
    out.show_progress = sys.stdout.isatty()  # a bar per generation in a terminal, not in logs
    return out


@dataclass(frozen=True)
class Calibration:
    """The result of one ABC-SMC run."""

    posterior: pd.DataFrame  # one row per particle: parameters and weight
    params: dict[str, Uncertainty]
    steered: list[str]
    epsilons: list[float]
    simulations: int
    generations: int
    model_probabilities: pd.DataFrame | None = None


@contextmanager
def seeded_global_numpy(seed: int):
    """Seed numpy's global generator (all pyabc 0.13 can be seeded by) for the block, and give
    the caller its own global state back afterwards."""
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def run_abc(models: dict[str, Scenario], record: Record, db: Path, *, particles: int,
            generations: int, min_epsilon: float = 1.0, seed: int = 1, resume: bool = False,
            evaluator: Evaluator | None = None, params: dict[str, Uncertainty] | None = None,
            steered: list[str] | None = None) -> Calibration:
    """ABC-SMC of ``record`` over one model (or several, for model selection), its history in
    the SQLite file ``db`` (continued if ``resume`` and it holds a run). ``steered``: the
    parameters the SMC moves (default: those :func:`screen` finds); the others are drawn from
    their priors in every simulation."""
    import pyabc

    first = next(iter(models.values()))
    params = params or calibrated_parameters(first, record.last_date)
    if steered is None:
        table = screen(RecordModel(first, record, params), SCREEN_DRAWS, seed)
        # at least one: pyabc needs a parameter, and each particle's generator its coordinates
        steered = list(table.loc[table["steered"], "parameter"]) or [table.loc[0, "parameter"]]
    steered_params = {p: params[p] for p in steered}
    simulators = [RecordModel(s, record, params, steered, seed) for s in models.values()]
    simulators[0].values({k: u.default for k, u in params.items()}, 1)  # compile before forking
    # pyabc 0.13 draws its proposals from numpy's global generator and offers no other way to
    # seed it; the simulations themselves draw from each particle's own generator (RecordModel)
    with seeded_global_numpy(seed):
        abc = pyabc.ABCSMC(
            simulators, [prior(steered_params) for _ in simulators],
            lambda x, _: distance(record, x), population_size=particles,
            transitions=[transition() for _ in simulators],
            sampler=sampler(evaluator),
            # 0.95 x the median: when more than half the particles tie (no spin-outs at all gives one
            # and the same distance), the plain median stayed put for ten generations
            eps=pyabc.MedianEpsilon(median_multiplier=0.95))
        url = f"sqlite:///{Path(db).resolve()}"
        if resume and Path(db).exists():
            abc.load(url, 1)
        else:
            Path(db).unlink(missing_ok=True)
            abc.new(url, {o.name: o.value for o in record.observation})
        done = abc.history.max_t + 1 if abc.history.max_t is not None else 0  # when resumed
        history = abc.run(minimum_epsilon=min_epsilon, max_nr_populations=max(generations - done, 0),
                          min_acceptance_rate=0.005)
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    probabilities = None
    if len(models) > 1:
        probs = history.get_model_probabilities()
        probabilities = pd.DataFrame({"model": list(models),
                                      "probability": [float(probs.iloc[-1].get(m, 0.0))
                                                      for m in range(len(models))]})
    best = 0 if len(models) == 1 else int(history.get_model_probabilities().iloc[-1].idxmax())
    weight, stats = history.get_weighted_sum_stats_for_model(m=best)
    posterior = pd.DataFrame([{p: float(st[f"param:{p}"]) for p in params} for st in stats])
    posterior["weight"] = np.asarray(weight) / np.sum(weight)
    return Calibration(posterior, params, steered, [float(e) for e in pops["epsilon"]],
                       int(pops["samples"].sum()), int(history.max_t + 1), probabilities)


# --- what the posterior says -------------------------------------------------------------


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs) -> np.ndarray:
    order = np.argsort(values)
    cdf = np.cumsum(weights[order]) - 0.5 * weights[order]
    return np.interp(qs, cdf / np.sum(weights), values[order])


def identifiability(cal: Calibration) -> pd.DataFrame:
    """Per parameter: prior and posterior sd, their ratio, the posterior median and 90%
    interval. A ratio well below 1 means the record identifies the parameter."""
    rows = []
    w = cal.posterior["weight"].to_numpy()
    for path, u in cal.params.items():
        x = cal.posterior[path].to_numpy()
        if u.scale == "log":
            prior_sd = np.sqrt(_loguniform_var(u.low, u.high))
        else:
            prior_sd = (u.high - u.low) / np.sqrt(12.0)
        mean = np.sum(w * x)
        post_sd = float(np.sqrt(np.sum(w * (x - mean) ** 2)))
        q05, q50, q95 = weighted_quantiles(x, w, [0.05, 0.5, 0.95])
        rows.append(dict(parameter=path, default=u.default, prior_low=u.low, prior_high=u.high,
                         scale=u.scale, prior_sd=prior_sd, posterior_sd=post_sd,
                         ratio=post_sd / prior_sd, posterior_median=q50, posterior_q05=q05,
                         posterior_q95=q95))
    return pd.DataFrame(rows).sort_values("ratio").reset_index(drop=True)


def _loguniform_var(a: float, b: float) -> float:
    span = np.log(b / a)
    mean = (b - a) / span
    return (b * b - a * a) / (2.0 * span) - mean * mean


def draw_particles(posterior: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` particles drawn by weight (with replacement), numbered in the order drawn."""
    rng = np.random.default_rng(seed)
    w = posterior["weight"].to_numpy()
    index = rng.choice(len(posterior), size=n, p=w / w.sum())
    return posterior.iloc[index].drop(columns="weight").reset_index(drop=True)


PREDICTIVE = ("live_mutuals", "cumulative_spinouts", "authorities_with_mutual",
              "share_with_mutual", "in_preparation", "alternative_delivery", "lost_contracts",
              "failures", "abandoned")


def predictive(scenario: Scenario, draws: pd.DataFrame, replicates: int, seed: int) -> pd.DataFrame:
    """The posterior predictive of ``scenario``: each drawn particle run for ``replicates``
    replicates (particle ``i`` on seeds of root ``seed + i``). Columns: particle, replicate,
    year and :data:`PREDICTIVE`."""
    from .simulation import simulate

    frames = []
    for i, row in enumerate(draws.to_dict("records")):
        s = with_overrides(scenario, row, "posterior particle")
        frame = simulate(s, replicates=replicates, seed=seed + i, engine="ensemble")
        frame = frame[["replicate", "year", *PREDICTIVE]]
        frame.insert(0, "particle", i)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def predicted_observations(record: Record, table: pd.DataFrame, start_year: int) -> pd.DataFrame:
    """What each predictive draw says of each observation: one row per (particle, replicate)."""
    keys = table[["particle", "replicate"]].drop_duplicates().reset_index(drop=True)
    measures = {m: table.pivot_table(index=["particle", "replicate"], columns="year", values=m)
                .to_numpy() for m in ("cumulative_spinouts", "live_mutuals", "in_preparation")}
    values = model_values(record, measures, start_year)
    return keys.assign(**{k: np.asarray(v) for k, v in values.items()})


def check_record(record: Record, predicted: pd.DataFrame) -> pd.DataFrame:
    """Per observation: the predictive median, 5% and 95%, and whether it fits: a lognormal
    figure inside the 90% band (and the median within the figure's stated error), a bound held
    in at least 90% of draws."""
    rows = []
    for o in record.observation:
        x = predicted[o.name].to_numpy()
        q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
        row = dict(observation=o.name, date=o.date, measure=o.measure, counts=o.counts,
                   value=o.value, error=o.error, sigma=o.sigma, predictive_median=q50,
                   predictive_q05=q05, predictive_q95=q95)
        if o.error == "lognormal":
            low, high = o.value * np.exp(-o.sigma), o.value * np.exp(o.sigma)
            row.update(median_within_error=bool(low <= q50 <= high), band_covers=bool(q05 <= o.value <= q95),
                       share_within_bound=np.nan)
            row["fits"] = row["median_within_error"] and row["band_covers"]
        else:
            share = float(np.mean(x <= o.value))
            row.update(median_within_error=np.nan, band_covers=np.nan, share_within_bound=share,
                       fits=share >= 0.9)
        rows.append(row)
    return pd.DataFrame(rows)


# --- the whole calibration, as `mutuals calibrate` runs it ---------------------------------


@dataclass(frozen=True)
class Settings:
    """What decides a calibration's numbers, with their defaults (the command line's too)."""

    particles: int = 500  # ABC-SMC population size
    generations: int = 20  # at most this many
    min_epsilon: float = 0.5  # stop at this distance (1: one standard error of the record in all)
    seed: int = 20121206
    predictive_particles: int = 200  # posterior particles drawn for the predictive
    predictive_replicates: int = 5  # replicates per predictive particle
    holdout_until: float | None = 2012.5  # also fit the record up to this date and predict the rest
    compare_models: bool = True  # model selection among the structures


@dataclass(frozen=True)
class CalibrationResult:
    """A whole calibration, as :func:`calibrate` computes it and :func:`write_calibration`
    writes it."""

    scenario: Scenario
    record: Record
    settings: Settings
    fit: Calibration  # the ABC-SMC run on the whole record
    identifiability: pd.DataFrame  # per parameter (:func:`identifiability`), with ``steered``
    predictive: pd.DataFrame  # the posterior predictive (:func:`predictive`)
    record_check: pd.DataFrame  # the record against it (:func:`check_record`)
    holdout: pd.DataFrame | None  # fitted up to the holdout date, the record predicted
    models: pd.DataFrame | None  # posterior model probabilities of the structures
    timings: dict[str, float]
    history: Path  # pyabc's SQLite history of the fit

    @property
    def summary(self) -> dict:
        """The figures the manifest records."""
        return dict(particles=self.settings.particles, generations=self.fit.generations,
                    epsilons=self.fit.epsilons, simulations=self.fit.simulations, steered=self.fit.steered,
                    timings=self.timings, record_fits=bool(self.record_check["fits"].all()))


def calibrate(scenario: Scenario, record: Record, settings: Settings, work: Path, *,
              evaluator: Evaluator | None = None, resume: bool = False, say=print) -> CalibrationResult:
    """Calibrate, check and compare. pyabc's histories live in the folder ``work`` (kept between
    attempts: with ``resume``, an interrupted history is continued)."""
    import time

    st, work = settings, Path(work)
    work.mkdir(parents=True, exist_ok=True)
    pool = dict(evaluator=evaluator, resume=resume, min_epsilon=st.min_epsilon, seed=st.seed)
    timings = {}

    t0 = time.perf_counter()
    say(f"ABC-SMC on {len(record.observation)} observations, {st.particles} particles")
    fit = run_abc({scenario.name: scenario}, record, work / "history.db", particles=st.particles,
                  generations=st.generations, **pool)
    timings["calibration_seconds"] = time.perf_counter() - t0
    ident = identifiability(fit)
    ident["steered"] = ident["parameter"].isin(fit.steered)

    t0 = time.perf_counter()
    say(f"posterior predictive: {st.predictive_particles} particles x {st.predictive_replicates} replicates")
    draws = draw_particles(fit.posterior, st.predictive_particles, st.seed)
    table = predictive(scenario, draws, st.predictive_replicates, st.seed)
    checks = check_record(record, predicted_observations(record, table, scenario.run.start_year))
    timings["predictive_seconds"] = time.perf_counter() - t0

    holdout = None
    if st.holdout_until is not None:
        t0 = time.perf_counter()
        early = record.until(st.holdout_until)
        held = [o for o in record.observation if o.date > st.holdout_until]
        say(f"holdout: calibrating on the {len(early.observation)} observations up to "
            f"{st.holdout_until}, predicting the {len(held)} after")
        fit_early = run_abc({scenario.name: scenario}, early, work / "holdout.db", particles=st.particles,
                            generations=st.generations, params=fit.params, **pool)
        draws_early = draw_particles(fit_early.posterior, st.predictive_particles, st.seed)
        end = int(np.ceil(record.last_date)) + 1
        short = with_overrides(scenario, {"run.end_year": end, "run.critical_mass_year": end})
        table_early = predictive(short, draws_early, st.predictive_replicates, st.seed)
        holdout = check_record(record, predicted_observations(record, table_early, scenario.run.start_year))
        holdout.insert(1, "used_in_fit", holdout["date"] <= st.holdout_until)
        timings["holdout_seconds"] = time.perf_counter() - t0

    models = None
    if st.compare_models:
        t0 = time.perf_counter()
        candidates = structures(scenario)
        say(f"model selection among {len(candidates)} structures")
        sel = run_abc(candidates, record, work / "models.db", particles=st.particles,
                      generations=st.generations, params=fit.params, steered=fit.steered, **pool)
        models = sel.model_probabilities
        models["description"] = [STRUCTURES[m] for m in models["model"]]
        timings["models_seconds"] = time.perf_counter() - t0
    return CalibrationResult(scenario, record, st, fit, ident, table, checks, holdout, models, timings,
                             work / "history.db")


def write_calibration(result: CalibrationResult, folder: Path) -> None:
    """Every table, figure and the report of ``result`` into ``folder``, with pyabc's history."""
    import shutil

    import matplotlib.pyplot as plt

    from .plots import plot_fit, plot_posterior

    folder, r = Path(folder), result
    r.fit.posterior.to_parquet(folder / "posterior.parquet", index=False)
    r.identifiability.to_csv(folder / "identifiability.csv", index=False)
    r.predictive.to_parquet(folder / "predictive.parquet", index=False)
    r.record_check.to_csv(folder / "record_check.csv", index=False)
    for name, fig, dpi in (("fit.png", plot_fit(r.predictive, r.record, r.scenario.run.start_year), 110),
                           ("posterior.png", plot_posterior(r.fit.posterior, r.fit.params), 100)):
        fig.savefig(folder / name, dpi=dpi)
        plt.close(fig)
    if r.holdout is not None:
        r.holdout.to_csv(folder / "holdout.csv", index=False)
    if r.models is not None:
        r.models.to_csv(folder / "models.csv", index=False)
    shutil.copy(r.history, folder / "history.db")
    (folder / "calibration.md").write_text(report(r), encoding="utf-8")


STRUCTURES = {
    "extended": "every mechanism of docs/ODD.md section 7",
    "without options_appraisal": "no other delivery model competes with the mutual",
    "without contracts": "contracts never end",
    "without bad_news": "only good and bad years teach; abandonments, failures and lost contracts do not",
    "without finite_capacity": "projects take no capacity and draw no reserves",
    "without national_push": "no pathfinders or Mutuals Taskforce before December 2011",
    "earlier structure": "the model before these mechanisms (all of them off)",
}


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _band(r) -> str:
    """A record check's predictive median and 90% band."""
    return f"{_fmt(r.predictive_median)} ({_fmt(r.predictive_q05)}-{_fmt(r.predictive_q95)})"


def _yes(flag) -> str:
    return "yes" if flag else "no"


def report(result: CalibrationResult) -> str:
    """calibration.md: what was fitted, how well, what the record identifies."""
    scenario, cal, ident, checks, holdout, models, st = (
        result.scenario, result.fit, result.identifiability, result.record_check, result.holdout, result.models,
        result.settings)
    lines = [
        f"# Calibration of `{scenario.name}` to the record",
        "",
        f"ABC-SMC (pyabc) with {st.particles} particles, {cal.generations} generations down to "
        f"epsilon {_fmt(cal.epsilons[-1])} (target {st.min_epsilon}), {cal.simulations:,} "
        f"simulations; seed {st.seed}. Distance: the root sum of squared standardised log "
        "errors of the record's figures (an upper bound counts only when exceeded). "
        f"Steered by the SMC: {', '.join(f'`{p}`' for p in cal.steered)}; the other "
        f"{len(cal.params) - len(cal.steered)} uncertain parameters are drawn from their priors "
        "in each simulation (integrated out) and their accepted values kept.",
        "",
        "## The record against the posterior predictive",
        "",
        f"{st.predictive_particles} particles drawn by weight, {st.predictive_replicates} "
        "replicates each. A figure fits if the 90% band covers it and the median is within its "
        "stated error (one sigma), a bound if it holds in at least 90% of draws.",
        "",
        "| observation | figure | model median (90%) | fits |",
        "|---|---|---|---|",
    ]
    for r in checks.itertuples():
        kind = "at most" if r.error == "upper_bound" else "about"
        extra = f"; bound held in {r.share_within_bound:.0%}" if r.error == "upper_bound" else ""
        lines.append(f"| {r.observation} ({r.date:g}) | {kind} {r.value:g} | {_band(r)}{extra} | {_yes(r.fits)} |")
    lines += ["", "![fit](fit.png)", "", "## What the record identifies", "",
              "Posterior sd over prior sd: below 0.7 the record narrows the parameter "
              "(identified), near 1 it says little.", "",
              "| parameter | prior | posterior median (90%) | sd ratio |", "|---|---|---|---|"]
    for r in ident.itertuples():
        lines.append(f"| `{r.parameter}` | {_fmt(r.prior_low)}-{_fmt(r.prior_high)} ({r.scale}) | "
                     f"{_fmt(r.posterior_median)} ({_fmt(r.posterior_q05)}-{_fmt(r.posterior_q95)}) | "
                     f"{r.ratio:.2f} |")
    if holdout is not None:
        lines += ["", f"## Holdout: fitted up to {st.holdout_until}, predicting the rest", "",
                  "| observation | used in fit | figure | predicted median (90%) | fits |", "|---|---|---|---|---|"]
        for r in holdout.itertuples():
            lines.append(f"| {r.observation} | {_yes(r.used_in_fit)} | {r.value:g} | {_band(r)} | {_yes(r.fits)} |")
    if models is not None:
        lines += ["", "## Model selection (posterior model probabilities, uniform model prior)", "",
                  "| structure | what it leaves out | probability |", "|---|---|---|"]
        for r in models.itertuples():
            lines.append(f"| {r.model} | {r.description} | {r.probability:.3f} |")
    lines += ["", "## Time", "", ", ".join(f"{k.replace('_seconds', '')} {v:.0f} s" for k, v in result.timings.items()),
              ""]
    return "\n".join(lines)
