"""What decides the answers under the calibrated posterior: given-data first-order indices.

The posterior is a weighted particle cloud, not a product of independent ranges, so Sobol's
sampling designs (which need independent inputs) do not apply, and a few hundred particles (an
effective sample size of 60-160) are too few to read 50 indices from. So the indices are computed
over the posterior *smoothed* (:func:`smoothed_sample`): per structure, pyabc's Gaussian kernel
(``MultivariateNormalTransition``, Silverman's bandwidth times :data:`SMOOTHING`) fitted to the
structure's weighted particles in the calibration's unbounded coordinates (so every point stays
inside the prior's ranges), the structures drawn in their posterior probabilities. On ``make
run``'s posterior it widens each parameter's spread within a structure by a median of 10%
(10-90% of parameters: 7-16%). That distribution, not the prior, is what the indices are over.

At each of ``n`` points of it, the verdict's two policies (no additional support, more and
better support) run a few replicates, and each answer is averaged over them. The index of an
input is the given-data first-order index [@Plischke2013], ``Var(E[Y | X_i]) / Var(Y)``,
estimated by partitioning the sample (SALib's ``delta`` module, its bootstrap interval): the
share of the answer's variance that knowing that input alone would remove. Inputs are correlated
under a posterior, so an index includes what an input says about the inputs correlated with it.
The structure is one input (coded by its posterior probability's rank). A *dummy* input, drawn
independently of everything, shows the estimator's floor: an index not above the dummy's is
indistinguishable from none. What is left of each answer's variance after averaging over
replicates (:attr:`Sensitivity.noise`) is replicate noise, which no input explains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .averaging import effective_size
from .posterior import Draws, overrides, run_draws
from .scenario import Scenario, uncertainties

SMOOTHING = 0.5
"""The smoothing kernel's bandwidth, as a multiple of pyabc's default (Silverman's rule)."""
DUMMY = "dummy (no effect)"
STRUCTURE = "structure"
ANSWERS = {
    "rise_without": "rise in the share running a mutual, 2014 to the critical-mass year, without more support",
    "p_without": "P(critical mass by the critical-mass year) without more support",
    "p_with": "P(critical mass by the critical-mass year) with more support",
}


def smoothed_sample(posterior: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` points of the smoothed posterior (the module's docstring): one column per
    parameter of ``posterior`` and ``model`` (if it has one)."""
    import pyabc

    from .calibrate import from_unbounded, to_unbounded, transition

    params = {p: u for p, u in uncertainties().items() if p in posterior.columns}
    rng = np.random.default_rng(seed)
    models = posterior["model"] if "model" in posterior else pd.Series("the model", index=posterior.index)
    mass = posterior.groupby(models, sort=False)["weight"].sum()
    counts = pd.Series(rng.multinomial(n, (mass / mass.sum()).to_numpy()), index=mass.index)
    frames = []
    for name, k in counts.items():
        if k == 0:
            continue
        members = posterior[models == name]
        w = members["weight"].to_numpy(float) / members["weight"].sum()
        z = to_unbounded(params, members)
        # one particle has no spread to smooth by: the calibration's floored kernel gives it one
        kernel = pyabc.MultivariateNormalTransition(scaling=SMOOTHING) if len(members) > 1 else transition(SMOOTHING)
        kernel.fit(z, w)  # its covariance only: the points are drawn here, from this function's generator
        drawn = z.to_numpy()[rng.choice(len(z), size=int(k), p=w)]
        drawn = drawn + rng.multivariate_normal(np.zeros(z.shape[1]), kernel.cov, size=int(k), method="eigh")
        values = pd.DataFrame([from_unbounded(params, dict(zip(z.columns, row, strict=True))) for row in drawn])
        if "model" in posterior:
            values["model"] = name
        frames.append(values)
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Sensitivity:
    """The indices (``indices``: answer, input, index, low, high, above_dummy), what is left to
    replicate noise per answer (``noise``), and the sizes."""

    indices: pd.DataFrame
    noise: pd.Series
    points: int
    replicates: int
    widest: float  # the widest 95% interval of any index

    def top(self, answer: str, k: int = 5) -> pd.DataFrame:
        """The ``k`` inputs with the largest index for ``answer``, the dummy's row after them."""
        mine = self.indices[self.indices["answer"] == answer].sort_values("index", ascending=False)
        return pd.concat([mine[mine["input"] != DUMMY].head(k), mine[mine["input"] == DUMMY]])


def posterior_sensitivity(none: Scenario, more: Scenario, posterior: pd.DataFrame, n: int, replicates: int,
                          seed: int, evaluator=None, progress: bool = False) -> Sensitivity:
    """The given-data first-order index of every input for each of :data:`ANSWERS`, over ``n``
    points of the smoothed posterior, ``replicates`` each (point ``i`` on root seed ``seed + i``,
    the same for both policies), run by ``evaluator``."""
    from SALib.analyze import delta

    from .analysis import year_reached
    from .calibrate import seeded_global_numpy

    sample = smoothed_sample(posterior, n, seed)
    design = overrides(sample, none, "smoothed posterior")
    d = Draws(design, np.arange(n), effective_size(posterior["weight"]), replicates, "smoothed posterior")
    run = none.run
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    y, noise = {}, {}
    for key, policy in (("without", none), ("with", more)):
        frame = run_draws(policy, d, seed, evaluator, progress)
        reached = year_reached(frame, theta, by=("draw", "replicate"))
        hit = (reached <= cm).astype(float).groupby(level="draw")
        y[f"p_{key}"], noise[f"p_{key}"] = hit.mean(), hit.var(ddof=1) / replicates
        if key == "without":
            wide = frame.pivot_table(index=["draw", "replicate"], columns="year", values="share_with_mutual")
            rise = (wide[cm] - wide[2014]).groupby(level="draw")
            y["rise_without"], noise["rise_without"] = rise.mean(), rise.var(ddof=1) / replicates
    rng = np.random.default_rng(seed + 1)
    x = sample.drop(columns="model", errors="ignore")
    if "model" in sample:
        rank = {m: i for i, m in enumerate(posterior.groupby("model")["weight"].sum().sort_values().index[::-1])}
        x[STRUCTURE] = sample["model"].map(rank).astype(float)
    x[DUMMY] = rng.random(n)
    problem = {"num_vars": x.shape[1], "names": list(x.columns), "bounds": [[0.0, 1.0]] * x.shape[1]}
    rows, left = [], {}
    for answer in ANSWERS:
        values = y[answer].to_numpy()
        with seeded_global_numpy(seed):  # SALib 1.6 seeds and draws numpy's global generator itself: restored after
            s = delta.analyze(problem, x.to_numpy(), values, num_resamples=200, seed=seed, method="sobol")
        left[answer] = float(noise[answer].mean() / values.var(ddof=1)) if values.var() > 0 else float("nan")
        dummy = float(s["S1"][-1] + s["S1_conf"][-1])
        for name, index, conf in zip(x.columns, s["S1"], s["S1_conf"], strict=True):
            rows.append(dict(answer=answer, input=name, index=float(index), low=float(index - conf),
                             high=float(index + conf), above_dummy=bool(index - conf > dummy)))
    table = pd.DataFrame(rows)
    return Sensitivity(table, pd.Series(left), n, replicates, float((table["high"] - table["low"]).max()))
