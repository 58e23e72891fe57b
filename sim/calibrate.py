"""Calibration to the record by approximate Bayesian computation (ABC-SMC, pyabc).

The uncertain parameters (:func:`calibrated_parameters`) get priors from their plausible ranges
in the schema (uniform, or log-uniform where a range spans an order of magnitude). A particle is
simulated once (one replicate, its own seed) on the calibrated scenario up to the record's last
date; its distance to the record is the root sum of squared standardised errors of
:func:`sim.record.distance`, so a particle at distance 1 is one standard error from the record
in all. pyabc lowers the acceptance threshold generation by generation (the median of the last
generation's distances, times 0.95) down to ``min_epsilon``.

:func:`calibrate` computes a whole calibration (the fit, jointly over the model structures of
:data:`sim.overrides.STRUCTURES`, and its rerun with another seed; the posterior predictive
against the record; the rolling-origin validation; the recovery from synthetic records) and
returns a :class:`CalibrationResult`; :func:`write_calibration` writes it.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .analysis import weighted_quantile
from .averaging import effective_size
from .evaluator import Evaluator
from .overrides import PLATEAU, STRUCTURES, switched_off, with_overrides, with_particle
from .posterior import drawn
from .record import Record, distance, model_values
from .scenario import Scenario, Uncertainty, uncertainties

BEHAVIOURAL = ("population.", "behaviour.", "mutuals.")


def calibrated_parameters(scenario: Scenario, until: float) -> dict[str, Uncertainty]:
    """The uncertain parameters the record can speak to: every behavioural one (population,
    behaviour, mutuals) and the effects of every instrument that runs in ``scenario`` before
    ``until``. The others (cut severity, instruments not yet in force) keep their defaults."""
    in_force = tuple(f"support.{name}." for name, inst in scenario.support.instruments().items()
                     if inst.funded(before=until))
    return uncertainties(BEHAVIOURAL + in_force)


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
    off: dict[str, float] = field(default_factory=dict)  # a structure's mechanisms switched off

    def __post_init__(self) -> None:
        end = int(np.ceil(self.record.last_date)) + 1
        self.base = with_overrides(self.scenario, {"run.end_year": end, "run.critical_mass_year": end})

    def values(self, params: dict, seed: int) -> dict[str, float]:
        s = with_overrides(self.base, {**{k: float(v) for k, v in params.items()}, **self.off}, "calibration")
        from .dynamics import MEASURES
        from .simulation import measures_array

        out = measures_array(s, [seed])[0]  # (years, measures)
        measures = {m: out[:, MEASURES.index(m)] for m in
                    ("cumulative_spinouts", "live_mutuals", "in_preparation")}
        values = model_values(self.record, measures, s.run.start_year, s.mutuals.services_per_organisation)
        return {k: float(v) for k, v in values.items()}

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


def to_unbounded(params: dict[str, Uncertainty], values: pd.DataFrame) -> pd.DataFrame:
    """pyabc's unbounded coordinates of parameter values (columns: dotted paths), the inverse
    of :func:`from_unbounded`."""
    out = {}
    for path, u in params.items():
        x = values[path].to_numpy(float)
        share = np.log(x / u.low) / np.log(u.high / u.low) if u.scale == "log" else (x - u.low) / (u.high - u.low)
        out[_key(path)] = ndtri(np.clip(share, 1e-9, 1 - 1e-9))
    return pd.DataFrame(out, index=values.index)


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
SCREEN_MOST = 5
"""At most this many parameters are steered: a few dimensions, which an SMC of some hundreds of
particles can move; the rest are integrated out. Measured over the six structures, 200
particles to epsilon 1 (seed 20121206): steering 8, the final effective sample size was 32 of
200 (30,700 simulations); steering 5, it was 77 of 200 (39,644 simulations)."""
KERNEL_SCALING = 2.0
"""Multiplier on the perturbation kernel's bandwidth (Silverman's rule, pyabc's default): twice
as wide. Measured on 200 particles and 8 generations of the extended model (seed 20121206): the
final effective sample size was 16 of 200 at pyabc's default of 1 (7 to 58 over the
generations), 57 of 200 at 2 (35 to 61), for 43% more simulations; a k-nearest-neighbour kernel
(pyabc's LocalTransition) gave 6."""
MODEL_STAY = 0.95
"""Chance that a particle proposed under model selection stays in its structure (pyabc's
default is 0.7). Measured over the six structures, 200 particles to epsilon 1 (seed
20121206): at 0.7 the final effective sample size was 7 of 200 after 49,839 simulations, at
0.95 it was 32 of 200 after 30,700."""
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


def transition(scaling: float = KERNEL_SCALING):
    """pyabc's Gaussian perturbation kernel, ``scaling`` times as wide as its default,
    its covariance floored at :data:`COVARIANCE_FLOOR`
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

    return Floored(scaling=scaling)




def sampler(evaluator: Evaluator | None = None):
    """pyabc's sampler for where ``evaluator`` runs work: pyabc's own process pool for local
    processes, its Dask sampler on a Dask cluster, else one process. The local ones stop a
    generation at its cap of simulations (``particles / min_acceptance``; pyabc's default runs
    on until the generation is full, however long that takes); pyabc 0.13's Dask sampler has no
    such cap."""
    import pyabc

    evaluator = evaluator or Evaluator()
    if evaluator.client is not None:
        out = pyabc.sampler.DaskDistributedSampler(dask_client=evaluator.client, batch_size=DASK_BATCH)
    elif evaluator.workers > 1:
        out = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=evaluator.workers, check_max_eval=True)
    else:
        out = pyabc.sampler.SingleCoreSampler(check_max_eval=True)
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

    @property
    def ess(self) -> float:
        """The final population's effective sample size, ``1 / sum(w^2)`` of its normalised
        weights (over every structure's particles, by their joint weights)."""
        return effective_size(self.posterior["weight"].to_numpy())


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


def steered_parameters(scenario: Scenario, record: Record, params: dict[str, Uncertainty], seed: int) -> list[str]:
    """The parameters the SMC moves: those :func:`screen` finds, and at least one (pyabc needs a
    parameter, and each particle's generator its coordinates)."""
    table = screen(RecordModel(scenario, record, params), SCREEN_DRAWS, seed)
    return list(table.loc[table["steered"], "parameter"]) or [table.loc[0, "parameter"]]


def run_abc(models: dict[str, Scenario], record: Record, db: Path, *, particles: int,
            generations: int, min_epsilon: float = 1.0, seed: int = 1, resume: bool = False,
            evaluator: Evaluator | None = None, params: dict[str, Uncertainty] | None = None,
            steered: list[str] | None = None, off: dict[str, dict[str, float]] | None = None,
            min_acceptance: float = 0.005) -> Calibration:
    """ABC-SMC of ``record`` over one model (or several, for model selection), its history in
    the SQLite file ``db`` (continued if ``resume`` and it holds a run). ``steered``: the
    parameters the SMC moves (default: those :func:`screen` finds); the others are drawn from
    their priors in every simulation. ``off``: per model, overrides applied after the
    parameters (a structure's mechanisms switched off, :func:`sim.overrides.switched_off`);
    given, the posterior holds every model's particles with a ``model`` column and their joint
    weights (the model's probability times the particle's weight within it). The run stops when
    a generation would need more than ``particles / min_acceptance`` simulations (that
    generation is then discarded: :func:`sampler`)."""
    import pyabc

    first = next(iter(models.values()))
    params = params or calibrated_parameters(first, record.last_date)
    if steered is None:
        steered = steered_parameters(first, record, params, seed)
    steered_params = {p: params[p] for p in steered}
    simulators = [RecordModel(s, record, params, steered, seed, (off or {}).get(name, {}))
                  for name, s in models.items()]
    simulators[0].values({k: u.default for k, u in params.items()}, 1)  # compile before forking
    # pyabc 0.13 draws its proposals from numpy's global generator and offers no other way to
    # seed it; the simulations themselves draw from each particle's own generator (RecordModel)
    with seeded_global_numpy(seed):
        abc = pyabc.ABCSMC(
            simulators, [prior(steered_params) for _ in simulators],
            lambda x, _: distance(record, x), population_size=particles,
            transitions=[transition() for _ in simulators],
            model_perturbation_kernel=pyabc.transition.ModelPerturbationKernel(
                len(simulators), probability_to_stay=MODEL_STAY) if len(simulators) > 1 else None,
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
                          min_acceptance_rate=min_acceptance)
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    probabilities = None
    if len(models) > 1:
        probs = history.get_model_probabilities()
        probabilities = pd.DataFrame({"model": list(models),
                                      "probability": [float(probs.iloc[-1].get(m, 0.0))
                                                      for m in range(len(models))]})
    names = list(models)
    if off is None:
        best = 0 if len(models) == 1 else int(history.get_model_probabilities().iloc[-1].idxmax())
        weight, stats = history.get_weighted_sum_stats_for_model(m=best)
        posterior = pd.DataFrame([{p: float(st[f"param:{p}"]) for p in params} for st in stats])
        posterior["weight"] = np.asarray(weight) / np.sum(weight)
    else:
        frames = []
        for m, row in probabilities.iterrows() if probabilities is not None else [(0, {"probability": 1.0})]:
            if row["probability"] <= 0:
                continue
            weight, stats = history.get_weighted_sum_stats_for_model(m=int(m))
            frame = pd.DataFrame([{p: float(st[f"param:{p}"]) for p in params} for st in stats])
            frame.insert(0, "model", names[int(m)])
            frame["weight"] = row["probability"] * np.asarray(weight) / np.sum(weight)
            frames.append(frame)
        posterior = pd.concat(frames, ignore_index=True)
        posterior["weight"] /= posterior["weight"].sum()
    return Calibration(posterior, params, steered, [float(e) for e in pops["epsilon"]],
                       int(pops["samples"].sum()), int(history.max_t + 1), probabilities)


# --- what the posterior says -------------------------------------------------------------


def acting(posterior: pd.DataFrame, path: str) -> pd.DataFrame:
    """The particles in whose structure parameter ``path`` acts (not switched off)."""
    if "model" not in posterior:
        return posterior
    return posterior[[path not in switched_off(m) for m in posterior["model"]]]


EDGE = 0.2
"""The outer fifth of a prior range, at either end."""
EDGE_WARNING = 0.35
"""More posterior mass than this in an outer fifth is flagged: the structure may be wrong."""


def edge_mass(posterior: pd.DataFrame, params: dict[str, Uncertainty]) -> pd.DataFrame:
    """Per parameter, the posterior mass in the bottom and top fifth of its prior range (on the
    prior's scale), over the particles in whose structure it acts, and ``warning`` where either
    exceeds :data:`EDGE_WARNING` (the prior gives each fifth 0.2)."""
    rows = []
    for path, u in params.items():
        part = acting(posterior, path)
        x, w = part[path].to_numpy(), part["weight"].to_numpy()
        if u.scale == "log":
            place = np.log(x / u.low) / np.log(u.high / u.low)
        else:
            place = (x - u.low) / (u.high - u.low)
        low = float(w[place < EDGE].sum() / w.sum()) if len(w) else np.nan
        high = float(w[place > 1 - EDGE].sum() / w.sum()) if len(w) else np.nan
        rows.append(dict(parameter=path, bottom_fifth=low, top_fifth=high,
                         warning=bool(max(low, high) > EDGE_WARNING)))
    return pd.DataFrame(rows)


def identifiability(cal: Calibration) -> pd.DataFrame:
    """Per parameter: prior and posterior sd, their ratio, the posterior median and 90%
    interval, over the particles in whose structure it acts. A ratio well below 1 means the
    record identifies the parameter."""
    rows = []
    for path, u in cal.params.items():
        part = acting(cal.posterior, path)
        x, w = part[path].to_numpy(), part["weight"].to_numpy()
        w = w / w.sum()
        if u.scale == "log":
            prior_sd = np.sqrt(_loguniform_var(u.low, u.high))
        else:
            prior_sd = (u.high - u.low) / np.sqrt(12.0)
        mean = np.sum(w * x)
        post_sd = float(np.sqrt(np.sum(w * (x - mean) ** 2)))
        q05, q50, q95 = weighted_quantile(x, w, [0.05, 0.5, 0.95])
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
    """``n`` particles drawn by weight (with replacement), numbered in the order drawn; a
    ``model`` column (the structure) is kept, and drawing by joint weight averages over the
    structures by their posterior probabilities."""
    return posterior.iloc[drawn(posterior, n, seed)].drop(columns="weight").reset_index(drop=True)


PREDICTIVE = ("live_mutuals", "cumulative_spinouts", "authorities_with_mutual",
              "share_with_mutual", "in_preparation", "alternative_delivery", "lost_contracts",
              "failures", "abandoned")


def predictive(scenario: Scenario, draws: pd.DataFrame, replicates: int, seed: int) -> pd.DataFrame:
    """The posterior predictive of ``scenario``: each drawn particle run, under its structure,
    for ``replicates`` replicates (particle ``i`` on seeds of root ``seed + i``). Columns:
    particle, model (if the draws have one), replicate, year, :data:`PREDICTIVE` and
    ``services_per_organisation`` (for comparing with the record)."""
    from .simulation import simulate

    frames = []
    for i, row in enumerate(draws.to_dict("records")):
        s = with_particle(scenario, row)
        frame = simulate(s, replicates=replicates, seed=seed + i, engine="ensemble")
        frame = frame[["replicate", "year", *PREDICTIVE]]
        frame.insert(0, "particle", i)
        if "model" in row:
            frame.insert(1, "model", row["model"])
        frame["services_per_organisation"] = s.mutuals.services_per_organisation
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def predicted_observations(record: Record, table: pd.DataFrame, start_year: int) -> pd.DataFrame:
    """What each predictive draw says of each observation: one row per (particle, replicate)."""
    keys = table[["particle", "replicate"]].drop_duplicates().sort_values(["particle", "replicate"])
    keys = keys.reset_index(drop=True)
    measures = {m: table.pivot_table(index=["particle", "replicate"], columns="year", values=m)
                .to_numpy() for m in ("cumulative_spinouts", "live_mutuals", "in_preparation")}
    per = table.groupby(["particle", "replicate"])["services_per_organisation"].first().to_numpy()
    values = model_values(record, measures, start_year, per)
    return keys.assign(**{k: np.asarray(v) for k, v in values.items()})


def crps(samples: np.ndarray, value: float) -> float:
    """The continuous ranked probability score of a predictive sample against a figure (lower
    is better; in the figure's unit): ``E|X - y| - E|X - X'| / 2``, the second term from the
    sorted sample in O(n log n)."""
    x = np.sort(np.asarray(samples, dtype=float))
    n = len(x)
    spread = np.sum(x * (2.0 * np.arange(1, n + 1) - n - 1)) / (n * n)  # E|X - X'| / 2
    return float(np.mean(np.abs(x - value)) - spread)


def check_record(record: Record, predicted: pd.DataFrame) -> pd.DataFrame:
    """Per observation: the predictive median, 5% and 95%, and whether it fits: a lognormal
    figure inside the 90% band (and the median within the figure's stated error), a bound held
    in at least 90% of draws; ``covered`` (the band covers the figure, or the bound holds in at
    least 90% of draws) and ``crps`` (:func:`crps`; for a two-sided figure only, NaN for a
    bound, which is not a value to score against)."""
    rows = []
    for o in record.observation:
        x = predicted[o.name].to_numpy()
        q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
        row = dict(observation=o.name, date=o.date, measure=o.measure, counts=o.counts,
                   value=o.value, error=o.error, sigma=o.sigma, predictive_median=q50,
                   predictive_q05=q05, predictive_q95=q95,
                   crps=crps(x, o.value) if o.error == "lognormal" else np.nan)
        if o.error == "lognormal":
            low, high = o.value * np.exp(-o.sigma), o.value * np.exp(o.sigma)
            row.update(median_within_error=bool(low <= q50 <= high), band_covers=bool(q05 <= o.value <= q95),
                       share_within_bound=np.nan)
            row["fits"] = row["median_within_error"] and row["band_covers"]
            row["covered"] = row["band_covers"]
        else:
            share = float(np.mean(x <= o.value))
            row.update(median_within_error=np.nan, band_covers=np.nan, share_within_bound=share,
                       fits=share >= 0.9, covered=share >= 0.9)
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
    origins: tuple[float, ...] = (2012.5, 2014.7)  # rolling origins: fit up to each, predict the rest
    compare_models: bool = True  # calibrate over the structures (joint model selection), run twice
    recovery_sets: int = 0  # known parameter sets drawn from the prior for the recovery check
    recovery_particles: int = 50  # ABC-SMC population size of each recovery calibration
    recovery_generations: int = 6  # at most this many generations in each
    recovery_min_acceptance: float = 0.05  # and stops when a generation needs over 20 sims a particle


@dataclass(frozen=True)
class CalibrationResult:
    """A whole calibration, as :func:`calibrate` computes it and :func:`write_calibration`
    writes it."""

    scenario: Scenario
    record: Record
    settings: Settings
    fit: Calibration  # the ABC-SMC run on the whole record (over the structures)
    identifiability: pd.DataFrame  # per parameter (:func:`identifiability`), with ``steered``
    edges: pd.DataFrame  # posterior mass in the outer fifths of each prior (:func:`edge_mass`)
    predictive: pd.DataFrame  # the posterior predictive (:func:`predictive`)
    record_check: pd.DataFrame  # the record against it (:func:`check_record`)
    validation: pd.DataFrame | None  # rolling origins (:func:`validate`)
    models: pd.DataFrame | None  # posterior model probabilities of the structures, two runs
    recovery: pd.DataFrame | None  # the recovery from synthetic records (:func:`recover`)
    timings: dict[str, float]
    history: Path  # pyabc's SQLite history of the fit
    ess_rerun: float | None = None  # the effective sample size of the model selection's rerun

    @property
    def summary(self) -> dict:
        """The figures the manifest records."""
        return dict(particles=self.settings.particles, generations=self.fit.generations,
                    epsilons=self.fit.epsilons, simulations=self.fit.simulations, steered=self.fit.steered,
                    ess=round(self.fit.ess, 1),
                    ess_rerun=None if self.ess_rerun is None else round(self.ess_rerun, 1),
                    distinct_particles=len(self.fit.posterior),
                    timings=self.timings, record_fits=bool(self.record_check["fits"].all()),
                    edge_warnings=list(self.edges.loc[self.edges["warning"], "parameter"]))


STRUCTURE_DESCRIPTIONS = {
    "extended": "every mechanism, with the four that can end a burst (docs/ODD.md section 7)",
    "without recent_pressure": "pressure is the whole cut since 2010-11, for ever",
    "without ready_pool": "every service has a staff team ready to lead a spin-out",
    "without attention": "national attention neither rises with the push nor fades after it",
    "without organisations": "each mutual organisation runs one service",
    "structure of 2014": "the structure calibrated to 2014 (none of the four)",
}


def _fit(scenario: Scenario, record: Record, db: Path, st: Settings, *, seed: int, structures: bool,
         **kw) -> Calibration:
    """One ABC-SMC run of ``record``: over :data:`sim.overrides.STRUCTURES` (joint model
    selection) if ``structures``, else of the extended model alone."""
    names = list(STRUCTURES) if structures else ["extended"]
    return run_abc({name: scenario for name in names}, record, db, particles=kw.pop("particles", st.particles),
                   generations=kw.pop("generations", st.generations), min_epsilon=st.min_epsilon, seed=seed,
                   off={name: switched_off(name) for name in names}, **kw)


def _predict(scenario: Scenario, record: Record, posterior: pd.DataFrame, st: Settings, seed: int):
    """(predictive table to the record's last date, what it says of each observation)."""
    end = int(np.ceil(record.last_date)) + 1
    short = with_overrides(scenario, {"run.end_year": end, "run.critical_mass_year": end})
    table = predictive(short, draw_particles(posterior, st.predictive_particles, seed),
                       st.predictive_replicates, seed)
    return table, predicted_observations(record, table, scenario.run.start_year)


VALIDATION_COLUMNS = ("fit_until", "observation", "date", "measure", "value", "predictive_median",
                      "q05", "q95", "covered", "crps")


def origin_jobs(record: Record, st: Settings, work: Path, params) -> dict[float, dict]:
    """The rolling-origin fits (:class:`_Fits` jobs): for each origin of ``st.origins`` with a
    later figure, the same calibration on the figures dated up to it."""
    return {origin: dict(record=record.until(origin), db=work / f"origin_{origin:g}.db", seed=st.seed,
                         structures=st.compare_models, params=params)
            for origin in st.origins if any(o.date > origin for o in record.observation)}


def validation(scenario: Scenario, record: Record, st: Settings, fits: dict[float, Calibration]) -> pd.DataFrame:
    """Rolling-origin validation: each origin's fit (:func:`origin_jobs`) predicting every later
    figure. One row per origin and later observation, :data:`VALIDATION_COLUMNS`."""
    rows = []
    for origin, fit in fits.items():
        later = Record(description=record.description,
                       observation=[o for o in record.observation if o.date > origin])
        _, predicted = _predict(scenario, later, fit.posterior, st, st.seed)
        check = check_record(later, predicted).rename(columns={"predictive_q05": "q05", "predictive_q95": "q95"})
        rows.append(check.assign(fit_until=origin))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=VALIDATION_COLUMNS)
    return out[list(VALIDATION_COLUMNS)]


def synthetic_record(record: Record, values: dict[str, float], rng: np.random.Generator) -> Record:
    """A record of the same shape and error as ``record`` from a simulation's ``values`` of its
    figures: a two-sided figure is the value with lognormal error of its sigma (on the log(1 + x)
    scale of :func:`sim.record.distance`), a bound lies above the value by the absolute size of
    such an error (the truth meets its bounds)."""
    obs = []
    for o in record.observation:
        z = rng.normal() * o.sigma
        shift = z if o.error == "lognormal" else abs(z)
        value = float(np.expm1(np.log1p(values[o.name]) + shift)) * (o.share or 1.0)
        obs.append(o.model_copy(update={"value": value}))
    return Record(description=f"synthetic: {record.description}", observation=obs)


RECOVERY_LEVELS = (0.5, 0.9)


def recovery_jobs(scenario: Scenario, record: Record, st: Settings, work: Path, *, params,
                  steered) -> tuple[list[dict[str, float]], list[dict]]:
    """Simulation-based recovery, its truths and its fits (:class:`_Fits` jobs):
    ``st.recovery_sets`` parameter sets drawn from the prior (the extended model), each
    simulated once into a synthetic record (:func:`synthetic_record`) and calibrated on it (the
    extended model, ``st.recovery_particles`` particles and at most ``st.recovery_generations``
    generations, stopping above ``1 / st.recovery_min_acceptance`` simulations a particle, the
    same steered parameters)."""
    rng = np.random.default_rng([st.seed, 1])
    truth_model = RecordModel(scenario, record, params)
    truths, jobs = [], []
    for k in range(st.recovery_sets):
        truth = from_unbounded(params, {_key(p): rng.normal() for p in params})
        synthetic = synthetic_record(record, truth_model.values(truth, int(rng.integers(2**63))), rng)
        truths.append(truth)
        jobs.append(dict(record=synthetic, db=work / f"recovery_{k}.db", seed=st.seed + 1 + k, structures=False,
                         params=params, steered=steered, particles=st.recovery_particles,
                         generations=st.recovery_generations, min_acceptance=st.recovery_min_acceptance))
    return truths, jobs


def recovery(truths: list[dict[str, float]], fits: list[Calibration], steered: list[str]) -> pd.DataFrame:
    """One row per recovery set (:func:`recovery_jobs`) and steered parameter: the truth, the
    posterior median and whether the central 50% and 90% credible intervals cover the truth."""
    rows = []
    for k, (truth, fit) in enumerate(zip(truths, fits, strict=True)):
        w = fit.posterior["weight"].to_numpy()
        for p in steered:
            qs = weighted_quantile(fit.posterior[p].to_numpy(), w, [0.05, 0.25, 0.5, 0.75, 0.95])
            rows.append(dict(set=k, parameter=p, truth=truth[p], posterior_median=qs[2],
                             q05=qs[0], q25=qs[1], q75=qs[3], q95=qs[4],
                             in_50=bool(qs[1] <= truth[p] <= qs[3]), in_90=bool(qs[0] <= truth[p] <= qs[4])))
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class _Fits:
    """The ABC-SMC runs of a calibration, one job each (an evaluator's task function): the fit,
    the model selection's rerun, the rolling origins and the recoveries are independent, and
    each runs in one process (pyabc's single-core sampler, seeded), so they run side by side
    and give the same numbers whatever the number of workers."""

    scenario: Scenario
    settings: Settings
    resume: bool = False
    sampling: Evaluator | None = None  # where each run's simulations go, if not in its own process

    def __call__(self, job: dict) -> tuple[Calibration, float]:
        import time

        t0 = time.perf_counter()
        job = dict(job)
        fit = _fit(self.scenario, job.pop("record"), job.pop("db"), self.settings, resume=self.resume,
                   evaluator=self.sampling, **job)
        return fit, time.perf_counter() - t0


def calibrate(scenario: Scenario, record: Record, settings: Settings, work: Path, *,
              evaluator: Evaluator | None = None, resume: bool = False, say=print) -> CalibrationResult:
    """Calibrate (over the structures), check, validate and recover. The ABC-SMC runs (the fit,
    the rerun, the origins, the recoveries) go side by side to ``evaluator``'s workers, each in
    one process (:class:`_Fits`), so the numbers do not depend on the number of workers. pyabc's
    histories live in the folder ``work`` (kept between attempts: with ``resume``, an
    interrupted history is continued)."""
    import time

    st, work = settings, Path(work)
    work.mkdir(parents=True, exist_ok=True)
    evaluator = evaluator or Evaluator()
    params = calibrated_parameters(scenario, record.last_date)
    steered = steered_parameters(scenario, record, params, st.seed)
    jobs = {"calibration": dict(record=record, db=work / "history.db", seed=st.seed, structures=st.compare_models,
                                params=params, steered=steered)}
    if st.compare_models:
        jobs["rerun"] = dict(record=record, db=work / "models_rerun.db", seed=st.seed + 1, structures=True,
                             params=params, steered=steered)
    origins = origin_jobs(record, st, work, params)
    jobs |= {f"origin {o:g}": job for o, job in origins.items()}
    truths, recoveries = recovery_jobs(scenario, record, st, work, params=params, steered=steered)
    jobs |= {f"recovery {k}": job for k, job in enumerate(recoveries)}
    over = f" over {len(STRUCTURES)} structures" if st.compare_models else ""
    say(f"ABC-SMC on {len(record.observation)} observations{over}, {st.particles} particles; with the "
        f"model selection's rerun, {len(origins)} rolling origins and {len(recoveries)} recoveries, "
        f"{len(jobs)} calibrations on {evaluator}")

    t0 = time.perf_counter()
    # the runs go to the workers; a remote cluster's cannot write pyabc's histories here, so there
    # the runs stay in this process, one after another, and their simulations go to the cluster
    local = evaluator.shares_files
    runs = _Fits(scenario, st, resume, None if local else evaluator)
    done = dict(zip(jobs, (evaluator if local else Evaluator()).map(runs, list(jobs.values()), "calibrations"),
                    strict=True))
    timings = {"calibrations_wall_seconds": time.perf_counter() - t0}
    for phase, prefix in (("calibration", "calibration"), ("rerun", "rerun"), ("validation", "origin "),
                          ("recovery", "recovery ")):
        spent = [seconds for name, (_, seconds) in done.items() if name.startswith(prefix)]
        if spent:
            timings[f"{phase}_seconds"] = sum(spent)
    fit = done["calibration"][0]
    ident = identifiability(fit)
    ident["steered"] = ident["parameter"].isin(fit.steered)
    edges = edge_mass(fit.posterior, fit.params)
    models = again = None
    if st.compare_models:
        again = done["rerun"][0]
        models = fit.model_probabilities.assign(probability_rerun=again.model_probabilities["probability"])
        models["description"] = [STRUCTURE_DESCRIPTIONS[m] for m in models["model"]]

    t0 = time.perf_counter()
    say(f"posterior predictive: {st.predictive_particles} particles x {st.predictive_replicates} replicates")
    draws = draw_particles(fit.posterior, st.predictive_particles, st.seed)
    table = predictive(scenario, draws, st.predictive_replicates, st.seed)
    checks = check_record(record, predicted_observations(record, table, scenario.run.start_year))
    val = validation(scenario, record, st, {o: done[f"origin {o:g}"][0] for o in origins}) if st.origins else None
    rec = recovery(truths, [done[f"recovery {k}"][0] for k in range(len(recoveries))], steered) if truths else None
    timings["predictive_seconds"] = time.perf_counter() - t0
    return CalibrationResult(scenario, record, st, fit, ident, edges, table, checks, val, models,
                             rec, timings, work / "history.db",
                             None if again is None else again.ess)


def write_calibration(result: CalibrationResult, folder: Path) -> None:
    """Every table, figure and the report of ``result`` into ``folder``, with pyabc's history."""
    import shutil

    import matplotlib.pyplot as plt

    from .plots import plot_fit, plot_posterior

    folder, r = Path(folder), result
    r.fit.posterior.to_parquet(folder / "posterior.parquet", index=False)
    r.identifiability.to_csv(folder / "identifiability.csv", index=False)
    r.edges.to_csv(folder / "edges.csv", index=False)
    r.predictive.to_parquet(folder / "predictive.parquet", index=False)
    r.record_check.to_csv(folder / "record_check.csv", index=False)
    for name, fig, dpi in (("fit.png", plot_fit(r.predictive, r.record, r.scenario.run.start_year), 110),
                           ("posterior.png", plot_posterior(r.fit.posterior, r.fit.params), 100)):
        fig.savefig(folder / name, dpi=dpi)
        plt.close(fig)
    for name, frame in (("validation.csv", r.validation), ("models.csv", r.models), ("recovery.csv", r.recovery)):
        if frame is not None:
            frame.to_csv(folder / name, index=False)
    shutil.copy(r.history, folder / "history.db")
    (folder / "calibration.md").write_text(report(r), encoding="utf-8")


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _band(r) -> str:
    """A record check's predictive median and 90% band."""
    return f"{_fmt(r.predictive_median)} ({_fmt(r.predictive_q05)}-{_fmt(r.predictive_q95)})"


def _yes(flag) -> str:
    return "yes" if flag else "no"


def _pct(x: float) -> str:
    return f"{x:.0%}"


def mechanism_probabilities(models: pd.DataFrame) -> pd.DataFrame:
    """Per mechanism of :data:`sim.overrides.PLATEAU`: the posterior probability that the
    structure has it (the sum over the structures that do not switch it off), in each run."""
    rows = []
    for mechanism in PLATEAU:
        has = [mechanism not in STRUCTURES[m] for m in models["model"]]
        rows.append(dict(mechanism=mechanism, probability=float(models.loc[has, "probability"].sum()),
                         probability_rerun=float(models.loc[has, "probability_rerun"].sum())))
    return pd.DataFrame(rows)


def summary(result: CalibrationResult) -> str:
    """The calibration in a few paragraphs, for the README (``mutuals calibrate --readme``)."""
    r, cal, st = result, result.fit, result.settings
    checks = r.record_check
    missed = [c.observation + (f" (bound held in {c.share_within_bound:.0%} of draws)" if c.error == "upper_bound"
                               else "") for c in checks.itertuples() if not c.fits]
    la = checks[checks["counts"] == "local_authority"].iloc[0]
    lines = [f"Written by `mutuals calibrate --readme` (`make run`: {st.particles} particles, {cal.generations} "
             f"generations to epsilon {cal.epsilons[-1]:.2f}, {cal.simulations:,} simulations; the effective "
             f"sample size of the posterior is {cal.ess:.0f} of {len(cal.posterior)} particles).", "",
             f"- *The fit.* {int(checks['fits'].sum())} of the {len(checks)} figures fit"
             + (f"; not {', '.join(missed)}" if missed else "") + ". "
             f"Local-authority spin-outs 2010 to early 2014: median {la.predictive_median:.0f} "
             f"(90%: {la.predictive_q05:.0f}-{la.predictive_q95:.0f}) against about {la.value:g}."]
    for c in checks[(checks["counts"] == "all_sectors") & (checks["error"] == "lognormal")].itertuples():
        share = next(o.share for o in r.record.observation if o.name == c.observation)
        lines[-1] += (f" {c.observation} (local-authority mutuals over {share:g}): median {c.predictive_median:.0f} "
                      f"(90%: {c.predictive_q05:.0f}-{c.predictive_q95:.0f}) against about {c.value:g}.")
    if r.models is not None:
        mech = mechanism_probabilities(r.models)
        best = r.models.sort_values("probability", ascending=False).iloc[0]
        lines.append("- *Which structure.* Posterior probabilities of the structures (first run, rerun): "
                     + "; ".join(f"{m.model} {m.probability:.2f}, {m.probability_rerun:.2f}"
                                 for m in r.models.itertuples())
                     + f". The most probable in the first run: {best.model}. The probability that the "
                     "structure has each mechanism: "
                     + "; ".join(f"{m.mechanism} {m.probability:.2f}, {m.probability_rerun:.2f}"
                                 for m in mech.itertuples()) + ".")
    warned = r.edges[r.edges["warning"]]
    if len(warned):
        lines.append(f"- *Edges.* More than {EDGE_WARNING:.0%} of the posterior mass in an outer fifth of the prior: "
                     + ", ".join(f"`{e.parameter}` ({_pct(max(e.bottom_fifth, e.top_fifth))})"
                                 for e in warned.itertuples()) + ".")
    if r.validation is not None and len(r.validation):
        v = r.validation
        parts = []
        for origin, g in v.groupby("fit_until"):
            two = g[g["crps"].notna()]
            parts.append(f"fitted up to {origin:g}: {int(g['covered'].sum())} of {len(g)} later figures covered"
                         + (", CRPS " + ", ".join(f"{x.crps:.1f} ({x.observation})" for x in two.itertuples())
                            if len(two) else ""))
        lines.append("- *Rolling origin.* " + "; ".join(parts) + ".")
    if r.recovery is not None and len(r.recovery):
        lines.append(f"- *Recovery.* Over {st.recovery_sets} synthetic records the 50% and 90% intervals covered "
                     f"the truth in {_pct(r.recovery['in_50'].mean())} and {_pct(r.recovery['in_90'].mean())} "
                     "of cases.")
    return "\n".join(lines)


def recovery_coverage(recovery: pd.DataFrame) -> pd.DataFrame:
    """Per parameter of a recovery (:func:`recover`): how often its 50% and 90% intervals
    covered the truth, over the sets."""
    return recovery.groupby("parameter", sort=False)[["in_50", "in_90"]].mean().reset_index()


def report(result: CalibrationResult) -> str:
    """calibration.md: what was fitted, how well, what the record identifies, how it validates."""
    r, cal, st = result, result.fit, result.settings
    over = (f"jointly over {len(STRUCTURES)} model structures (pyabc's model selection, uniform "
            "prior over structures)" if st.compare_models else "of the extended structure alone")
    lines = [
        f"# Calibration of `{r.scenario.name}` to the record",
        "",
        f"ABC-SMC (pyabc) {over}, with {st.particles} particles, {cal.generations} generations "
        f"down to epsilon {_fmt(cal.epsilons[-1])} (target {st.min_epsilon}), {cal.simulations:,} "
        f"simulations; seed {st.seed}. Distance: the root sum of squared standardised log "
        "errors of the record's figures (an upper bound counts only when exceeded). "
        f"Steered by the SMC: {', '.join(f'`{p}`' for p in cal.steered)}; the other "
        f"{len(cal.params) - len(cal.steered)} uncertain parameters are drawn from their priors "
        "in each simulation (integrated out) and their accepted values kept.",
        "",
        f"**The posterior rests on {len(cal.posterior)} particles with an effective sample size "
        f"of {cal.ess:.0f}** ({cal.ess / len(cal.posterior):.0%} of them; largest weight "
        f"{cal.posterior['weight'].max():.3f})"
        + (f"; the rerun's, with another seed, is {r.ess_rerun:.0f}" if r.ess_rerun is not None else "")
        + ". Intervals drawn from it should be no narrower than that many independent draws allow.",
        "",
        "## The record against the posterior predictive",
        "",
        f"{st.predictive_particles} particles drawn by weight (so averaged over the structures by "
        f"their probabilities), {st.predictive_replicates} replicates each, counted in "
        "organisations. A two-sided figure fits if the 90% band covers it and the median is within "
        "its stated error (one sigma), a bound if it holds in at least 90% of draws.",
        "",
        "| observation | figure | model median (90%) | fits |",
        "|---|---|---|---|",
    ]
    for c in r.record_check.itertuples():
        kind = "at most" if c.error == "upper_bound" else "about"
        extra = f"; bound held in {c.share_within_bound:.0%}" if c.error == "upper_bound" else ""
        lines.append(f"| {c.observation} ({c.date:g}) | {kind} {c.value:g} | {_band(c)}{extra} | {_yes(c.fits)} |")
    lines += ["", "Two-sided all-sector figures are compared as the local-authority count over local "
              "government's share (`share` in the record)."]
    for c in r.record_check.itertuples():
        if c.error == "upper_bound" and not c.fits:
            lines += ["", f"*Why `{c.observation}` is not held in 90% of draws:* it counts every sector, so the "
                      f"local-authority count alone should stay below it; the model exceeds {c.value:g} in "
                      f"{1 - c.share_within_bound:.0%} of draws (its 95th percentile is {_fmt(c.predictive_q95)}). "
                      f"A bound enters the distance only by its excess, in units of its sigma ({c.sigma:g}), so a "
                      "small excess costs little and the posterior accepts it."]
    lines += ["", "![fit](fit.png)", ""]
    if r.models is not None:
        lines += ["## Which structure the record supports", "",
                  "Posterior model probabilities (uniform prior over structures), from the fit and "
                  f"from a second run with seed {st.seed + 1}:", "",
                  "| structure | what it leaves out | probability | rerun |", "|---|---|---|---|"]
        for m in r.models.itertuples():
            lines.append(f"| {m.model} | {m.description} | {m.probability:.3f} | {m.probability_rerun:.3f} |")
        lines += ["", "The probability that the structure has each mechanism (the sum over the structures "
                  "that keep it):", "", "| mechanism | probability | rerun |", "|---|---|---|"]
        lines += [f"| {m.mechanism} | {m.probability:.3f} | {m.probability_rerun:.3f} |"
                  for m in mechanism_probabilities(r.models).itertuples()]
        spread = float((r.models["probability"] - r.models["probability_rerun"]).abs().max())
        lines += ["", f"The two runs differ by up to {spread:.2f} in a structure's probability"
                  + ("; read them as unstable at this size." if spread > 0.1 else "."), ""]
    warned = r.edges[r.edges["warning"]]
    lines += ["## Warnings: posterior mass at the edges of the priors", ""]
    if len(warned):
        lines += [f"More than {EDGE_WARNING:.0%} of the posterior mass in the outer fifth of its prior "
                  "range (the prior puts 20% there): the record pushes these against their ranges, "
                  "a sign that the structure may be wrong or the range too narrow.", "",
                  "| parameter | bottom fifth | top fifth |", "|---|---|---|"]
        lines += [f"| `{e.parameter}` | {_pct(e.bottom_fifth)} | {_pct(e.top_fifth)} |" for e in warned.itertuples()]
    else:
        lines.append(f"None: no parameter has more than {EDGE_WARNING:.0%} of its mass in an outer fifth.")
    lines += ["", "## What the record identifies", "",
              "Posterior sd over prior sd, over the particles in whose structure the parameter acts: "
              "below 0.7 the record narrows the parameter (identified), near 1 it says little.", "",
              "| parameter | prior | posterior median (90%) | sd ratio |", "|---|---|---|---|"]
    for i in r.identifiability.itertuples():
        lines.append(f"| `{i.parameter}` | {_fmt(i.prior_low)}-{_fmt(i.prior_high)} ({i.scale}) | "
                     f"{_fmt(i.posterior_median)} ({_fmt(i.posterior_q05)}-{_fmt(i.posterior_q95)}) | "
                     f"{i.ratio:.2f} |")
    if r.validation is not None:
        v = r.validation
        lines += ["", "## Rolling-origin validation", "",
                  "Calibrated the same way on the figures up to each origin, then predicting every later "
                  "figure (`validation.csv`). Covered: the 90% band covers a two-sided figure, or a "
                  "bound holds in at least 90% of draws. CRPS (in organisations; lower is better) "
                  "scores the whole predictive distribution against a two-sided figure.", "",
                  "| fitted up to | observation | figure | predicted median (90%) | covered | CRPS |",
                  "|---|---|---|---|---|---|"]
        for x in v.itertuples():
            crps_text = "" if np.isnan(x.crps) else f"{x.crps:.1f}"
            lines.append(f"| {x.fit_until:g} | {x.observation} ({x.date:g}) | {x.value:g} | "
                         f"{_fmt(x.predictive_median)} ({_fmt(x.q05)}-{_fmt(x.q95)}) | {_yes(x.covered)} | "
                         f"{crps_text} |")
        lines += ["", f"Covered: {int(v['covered'].sum())} of {len(v)}."]
    if r.recovery is not None and len(r.recovery):
        cov = recovery_coverage(r.recovery)
        lines += ["", "## Recovery from synthetic records", "",
                  f"{st.recovery_sets} parameter sets drawn from the prior, each simulated into a record "
                  f"of the same shape and error and calibrated on ({st.recovery_particles} particles, at most "
                  f"{st.recovery_generations} generations). "
                  "How often the central credible intervals of each steered parameter covered the truth "
                  "(nominal 50% and 90%; `recovery.csv`):", "",
                  "| parameter | 50% interval | 90% interval |", "|---|---|---|"]
        lines += [f"| `{c.parameter}` | {_pct(c.in_50)} | {_pct(c.in_90)} |" for c in cov.itertuples()]
        lines += ["", f"All parameters: {_pct(r.recovery['in_50'].mean())} and {_pct(r.recovery['in_90'].mean())}."]
    t = dict(r.timings)
    wall = t.pop("calibrations_wall_seconds", None)
    checks = t.pop("predictive_seconds", None)
    each = ", ".join(f"{k.replace('_seconds', '')} {v:.0f} s" for k, v in t.items())
    runs = f"The ABC-SMC runs, side by side on the workers: {wall:.0f} s " if wall is not None else ""
    rest = f"; the predictive, its checks and the rolling origins' predictions {checks:.0f} s." if checks else "."
    lines += ["", "## Time", "", f"{runs}(each run's own time: {each}){rest}", ""]
    return "\n".join(lines)
