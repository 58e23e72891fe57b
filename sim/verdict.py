"""The verdict on the Committee's claim, computed and written by one run.

The claim (HC 112, para 94): "The necessary critical mass will be slow to build up without more
and better support ... Without additional assistance it seems likely little will happen."

Made testable (the report states this too), part by part:

- *no additional support* is the ``december_2012`` scenario: the support in force when the report
  was published; ``historical`` (with what was actually added later) is reported beside it,
  never in its place; *more and better support* is that plus the Committee's joined-up strategy
  (the instruments of ``joined_up``), built by :func:`combine`;
- *little happens without*: the share of authorities running a mutual in 2015, 2020 and 2025
  against 2012, and the probability that it rises by less than half the critical-mass threshold
  by the critical-mass year (:data:`sim.discovery.LITTLE`);
- *slow to build without, built with*: P(threshold by year) over thresholds of 10-30% and years
  2015-2030 for each policy, the year the threshold is reached and the years gained;
- *self-sustaining*: whether the extra mutuals more support leaves behind hold or grow once it
  ends and its pipeline has drained (:func:`sim.critical.self_sustaining`);
- *a critical-mass barrier*: an unstable equilibrium of unsupported uptake, searched along the
  initial share (:func:`sim.critical.find_barrier`).

Each is scored under the calibrated posterior (every particle drawn by weight, several replicates
each) and, as a second view, at the defaults and over a prior Latin hypercube, where PRIM (EMA
Workbench) finds the conditions under which each part's answer changes and Sobol indices
(SALib) say which parameters decide the outcomes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import discovery
from .analysis import wilson_interval, year_reached
from .critical import Sustained, find_barrier, self_sustaining, unsupported_growth
from .experiments import latin_hypercube
from .loading import scenario_from_dict
from .overrides import with_overrides
from .plots import support_spans
from .scenario import Scenario

BARRIER_SHARES = (0.0, 0.003, 0.006, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3)
"""Initial shares of authorities running a mutual searched for a barrier."""
BARRIER_YEARS = 20


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



def posterior_draws(policies: dict[str, Scenario], posterior: pd.DataFrame, particles: int,
                    replicates: int, seed: int) -> pd.DataFrame:
    """Every policy under the calibrated posterior: ``particles`` particles drawn by weight, each
    run for ``replicates`` replicates, particle ``i`` on the same seeds under every policy
    (common random numbers). Columns: policy, particle, replicate, year, share_with_mutual."""
    from .calibrate import draw_particles
    from .simulate import simulate

    draws = draw_particles(posterior, particles, seed)
    frames = []
    for label, s in policies.items():
        for i, row in enumerate(draws.to_dict("records")):
            frame = simulate(with_overrides(s, row, "posterior particle"), replicates=replicates,
                             seed=seed + i, engine="ensemble")[["replicate", "year", "share_with_mutual"]]
            frames.append(frame.assign(policy=label, particle=i))
    out = pd.concat(frames, ignore_index=True)
    out["policy"] = pd.Categorical(out["policy"], categories=list(policies))
    return out[["policy", "particle", "replicate", "year", "share_with_mutual"]]


def reached_by(table: pd.DataFrame, threshold: float) -> pd.Series:
    """First year each (policy, particle, replicate) draw reaches ``threshold`` (NaN: never)."""
    return year_reached(table, threshold, by=("policy", "particle", "replicate"))


def under_posterior(table: pd.DataFrame, run) -> pd.DataFrame:
    """P(critical mass by the critical-mass year) of each policy in :func:`posterior_draws`:
    the pooled probability with its Wilson 95% interval (replicate noise and parameter
    uncertainty together), and the 10-90% range of the particles' own probabilities (parameter
    uncertainty alone)."""
    hit = (reached_by(table, run.critical_mass_threshold) <= run.critical_mass_year).astype(float)
    rows = []
    for label, g in hit.groupby(level="policy", observed=True):
        per_particle = g.groupby(level="particle").mean()
        k, n = int(g.sum()), len(g)
        low, high = wilson_interval(k, n)
        rows.append(dict(policy=label, probability=k / n, low=float(low), high=float(high),
                         particle_p10=float(np.quantile(per_particle, 0.1)),
                         particle_p90=float(np.quantile(per_particle, 0.9)),
                         particles=len(per_particle), replicates=n // len(per_particle)))
    return pd.DataFrame(rows)


CLAIM_THRESHOLDS = tuple(np.round(np.arange(0.10, 0.301, 0.02), 2))
CLAIM_YEARS = (2012, 2015, 2020, 2025)


def claim_parts(table: pd.DataFrame, run) -> dict[str, pd.DataFrame]:
    """The claim's parts under the posterior, from :func:`posterior_draws`:

    - ``levels``: share running a mutual in 2012, 2015, 2020 and 2025 per policy: median and
      10-90% of all draws (replicate noise and parameter uncertainty), and 10-90% of the
      particles' medians (parameter uncertainty alone);
    - ``p_threshold``: P(threshold reached by year) per policy, threshold (10%-30%) and year;
    - ``time``: per policy, the year the critical-mass threshold is reached (median and 10-90%
      of draws, censored at the horizon) and the share of draws that reach it at all; with
      ``years_gained`` against the first policy, paired draw by draw."""
    levels = []
    for (label, year), g in table[table["year"].isin(CLAIM_YEARS)].groupby(["policy", "year"], observed=True):
        x = g["share_with_mutual"]
        medians = g.groupby("particle")["share_with_mutual"].median()
        levels.append(dict(policy=label, year=year, median=x.median(), p10=x.quantile(0.1),
                           p90=x.quantile(0.9), particles_p10=medians.quantile(0.1),
                           particles_p90=medians.quantile(0.9)))
    years = sorted(y for y in table["year"].unique() if y >= 2015)
    grid = []
    for theta in CLAIM_THRESHOLDS:
        reached = reached_by(table, theta)
        for label, g in reached.groupby(level="policy", observed=True):
            for year in years:
                grid.append(dict(policy=label, threshold=theta, year=year,
                                 probability=float((g <= year).mean())))
    reached = reached_by(table, run.critical_mass_threshold)
    horizon = table["year"].max()
    censored = reached.fillna(horizon + 1)  # "not by the horizon" counts as after it
    first = censored.xs(censored.index.get_level_values("policy")[0], level="policy")
    time = []
    for label, g in censored.groupby(level="policy", observed=True):
        g = g.droplevel("policy")
        gained = (first - g).reindex(g.index)
        time.append(dict(policy=label, reached_share=float((g <= horizon).mean()),
                         year_median=g.median(), year_p10=g.quantile(0.1), year_p90=g.quantile(0.9),
                         years_gained_median=gained.median(), years_gained_p10=gained.quantile(0.1),
                         years_gained_p90=gained.quantile(0.9)))
    return {"levels": pd.DataFrame(levels), "p_threshold": pd.DataFrame(grid),
            "time": pd.DataFrame(time)}


def plot_threshold_by_year(grid: pd.DataFrame, highlight: float | None = None):
    """P(threshold reached by year), one heat map per policy (small multiples, one colour
    scale); the critical-mass threshold marked."""
    policies = list(dict.fromkeys(grid["policy"]))
    fig, axes = plt.subplots(1, len(policies), figsize=(4.2 * len(policies), 3.8),
                             layout="constrained", sharey=True, squeeze=False)
    for ax, label in zip(axes[0], policies, strict=True):
        m = grid[grid["policy"] == label].pivot(index="threshold", columns="year", values="probability")
        im = ax.imshow(m.to_numpy(), origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis",
                       extent=(m.columns.min() - 0.5, m.columns.max() + 0.5,
                               100 * m.index.min() - 1, 100 * m.index.max() + 1))
        if highlight is not None:
            ax.axhline(100 * highlight, color="white", ls="--", lw=1)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("by the end of year")
    axes[0][0].set_ylabel("share of authorities running a mutual (%)")
    fig.colorbar(im, ax=axes[0].tolist(), label="probability, under the posterior")
    fig.suptitle("How likely is each level of uptake by each year? (dashed: the 16% threshold)",
                 fontsize=10)
    return fig



def support_ends(scenario: Scenario) -> int:
    """The first whole year after every funded window of ``scenario`` has ended (the Right to
    Challenge, a statutory right with no end, aside)."""
    spans = support_spans(scenario)
    return int(np.ceil(spans[-1][1])) if spans else scenario.run.start_year


def structure(none: Scenario, more: Scenario, replicates: int, seed: int) -> tuple[Sustained, object]:
    """Self-sustaining (``more`` withdrawn when it ends) and the barrier (``none`` with no support)
    at one parameter set."""
    sustained = self_sustaining(more, withdraw=support_ends(more), replicates=replicates, seed=seed)
    growth = unsupported_growth(none, years=BARRIER_YEARS, replicates=replicates, seed=seed)
    return sustained, find_barrier(growth, BARRIER_SHARES, tol=0.002)


def structure_under_posterior(none: Scenario, more: Scenario, draws: pd.DataFrame, replicates: int,
                              seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Self-sustaining and the barrier for each drawn particle (particle ``i`` on seeds of root
    ``seed + i``): one row per particle, and every particle's growth curve."""
    rows, curves = [], []
    for i, row in enumerate(draws.to_dict("records")):
        s, b = structure(with_overrides(none, row, "posterior particle"),
                         with_overrides(more, row, "posterior particle"), replicates, seed + i)
        rows.append(dict(particle=i, gap_at_drain=s.gap_at_drain, gap_at_end=s.gap_at_end, ratio=s.ratio,
                         sustaining=s.sustaining, adoptions=s.adoptions, exits=s.exits,
                         barrier=b.share if b.found else np.nan, regime=b.regime, crossings=b.crossings))
        curves.append(b.curve.assign(particle=i))
    return pd.DataFrame(rows), pd.concat(curves, ignore_index=True)


def little_under_posterior(table: pd.DataFrame, run) -> pd.DataFrame:
    """Per policy of :func:`posterior_draws`: the rise in the share running a mutual from 2012 to
    the critical-mass year (median and 10-90% of draws), and P(little happens: a rise below
    :data:`sim.discovery.LITTLE` of the threshold), pooled and over particles."""
    wide = table[table["year"].isin((2012, run.critical_mass_year))].pivot_table(
        index=["policy", "particle", "replicate"], columns="year", values="share_with_mutual", observed=True)
    rise = wide[run.critical_mass_year] - wide[2012]
    little = rise < discovery.LITTLE * run.critical_mass_threshold
    rows = []
    for label, g in rise.groupby(level="policy", observed=True):
        lt = little.loc[label]
        per_particle = lt.groupby(level="particle").mean()
        low, high = wilson_interval(int(lt.sum()), len(lt))
        rows.append(dict(policy=label, rise_median=g.median(), rise_p10=g.quantile(0.1), rise_p90=g.quantile(0.9),
                         p_little=float(lt.mean()), low=float(low), high=float(high),
                         particle_p10=float(per_particle.quantile(0.1)),
                         particle_p90=float(per_particle.quantile(0.9))))
    return pd.DataFrame(rows)


def run_verdict(scenarios: dict[str, Scenario], folder: Path, *, replicates: int, seed: int,
                lhs_points: int, lhs_replicates: int, sobol_points: int, workers: int = 1,
                progress: bool = False, posterior: pd.DataFrame | None = None,
                posterior_particles: int = 100, posterior_replicates: int = 4,
                structure_particles: int = 40, structure_replicates: int = 10,
                record_check: pd.DataFrame | None = None, say=lambda text: None) -> dict:
    """Compute every number of the verdict and write ``verdict.md``, its tables and figures.

    With a calibrated ``posterior`` (see :mod:`sim.calibrate`) each part of the claim is scored
    under it; without one, at the defaults and over the prior only. ``record_check`` (the
    calibration's ``record_check.csv``) lets the report say how well the model fits the record."""
    from .calibrate import draw_particles
    from .simulate import simulate

    none = scenarios["december_2012"]
    more = combine(none, scenarios["joined_up"], "december_2012_joined_up")
    run = none.run
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    policies = {"no additional support (in force in December 2012)": none,
                "more and better support (December 2012 + joined-up)": more,
                "what was actually added later (historical)": scenarios["historical"]}

    # 1. at the defaults: every policy on the same replicates
    at_defaults = {"no support at all (baseline)": scenarios["baseline"], **policies}
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
                         rise_median=float(np.median(rise)),
                         p_little=float(np.mean(rise < discovery.LITTLE * theta))))
    defaults = pd.DataFrame(rows)
    defaults.to_csv(folder / "defaults.csv", index=False)
    sustained, barrier = structure(none, more, replicates, seed)
    barrier.curve.to_csv(folder / "barrier_defaults.csv", index=False)

    # 2. under the calibrated posterior
    calibrated = parts = little = struct = curves = None
    if posterior is not None:
        say(f"under the posterior: {posterior_particles} particles x {posterior_replicates} replicates of 3 "
            f"policies; self-sustaining and the barrier for {structure_particles} particles")
        table = posterior_draws(policies, posterior, posterior_particles, posterior_replicates, seed)
        calibrated = under_posterior(table, run)
        calibrated.to_csv(folder / "posterior.csv", index=False)
        parts = claim_parts(table, run)
        for name, frame in parts.items():
            frame.to_csv(folder / f"posterior_{name}.csv", index=False)
        little = little_under_posterior(table, run)
        little.to_csv(folder / "posterior_little.csv", index=False)
        struct, curves = structure_under_posterior(none, more, draw_particles(posterior, structure_particles, seed + 1),
                                                   structure_replicates, seed)
        struct.to_csv(folder / "posterior_structure.csv", index=False)
        fig = plot_threshold_by_year(parts["p_threshold"], theta)
        fig.savefig(folder / "posterior_threshold_by_year.png", dpi=110)
        plt.close(fig)

    # 3. over the prior: where each part holds (PRIM) and what decides the outcomes (Sobol)
    say(f"over the prior: {lhs_points} hypercube points for PRIM, then a Sobol sample")
    params = discovery.uncertain_parameters()
    design = latin_hypercube({k: (u.low, u.high) for k, u in params.items()}, lhs_points, seed)
    lhs = discovery.evaluate_design(none, more, design, lhs_replicates, seed, workers=workers, progress=progress)
    lhs.to_csv(folder / "lhs.csv", index_label="design_row")
    boxes = {(part, target): discovery.prim_box(design, lhs[part].to_numpy(), part, target)
             for part in discovery.PARTS for target in (True, False)}
    box_rows = [dict(part=b.part, box_is_where_it=("holds" if b.holds else "fails"), share_holds=b.share,
                     coverage=b.coverage, density=b.density, mass=b.mass, **r)
                for b in boxes.values() if b is not None for r in b.limits.to_dict("records")]
    pd.DataFrame(box_rows).to_csv(folder / "prim_boxes.csv", index=False)
    sobol_design = discovery.sobol_design(params, sobol_points, seed)
    sobol_table = discovery.evaluate_design(none, more, sobol_design, lhs_replicates, seed, workers=workers,
                                            progress=progress)
    sobol = discovery.sobol_indices(params, sobol_table, seed)
    sobol.to_csv(folder / "sobol.csv", index=False)

    # 4. figures
    plot_defaults(defaults, theta, cm, replicates).savefig(folder / "defaults.png", dpi=120)
    plot_structure(barrier, curves, sustained, struct).savefig(folder / "structure.png", dpi=110)
    plot_sobol(sobol).savefig(folder / "sobol.png", dpi=110)
    plt.close("all")

    numbers = dict(run=run, defaults=defaults, early=early, replicates=replicates, sustained=sustained,
                   barrier=barrier, calibrated=calibrated, parts=parts, little=little, struct=struct,
                   lhs=lhs, lhs_replicates=lhs_replicates, boxes=boxes, sobol=sobol, params=params,
                   sobol_points=len(sobol_design), record_check=record_check,
                   structure_replicates=structure_replicates)
    numbers["answers"] = answers(numbers)
    (folder / "verdict.md").write_text(report(numbers), encoding="utf-8")
    return numbers


# --- figures --------------------------------------------------------------------------------


def plot_defaults(defaults: pd.DataFrame, theta: float, cm: int, replicates: int):
    fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    y = np.arange(len(defaults))
    err = np.vstack([defaults["probability"] - defaults["low"], defaults["high"] - defaults["probability"]])
    colours = ["0.6", "C0", "C2", "C1"] + ["0.75"] * (len(defaults) - 4)
    ax.barh(y, defaults["probability"], xerr=err, capsize=3, color=colours)
    ax.set_yticks(y, defaults["policy"])
    ax.invert_yaxis()
    ax.axvline(0.5, color="black", ls=":", lw=1)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel(f"probability that {theta:.0%} of authorities run a mutual by {cm}")
    ax.set_title(f"At the default parameters only (bars: Wilson 95% intervals; {replicates} replicates,\n"
                 "common random numbers); the calibrated answer is in the verdict's text", fontsize=10, loc="right")
    return fig


def plot_structure(barrier, curves: pd.DataFrame | None, sustained: Sustained, struct: pd.DataFrame | None):
    """Left: long-run growth with no support against the initial share (defaults in black,
    posterior particles in grey). Right: how much of the extra mutuals more support left behind
    remain at the horizon, per posterior particle."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    if curves is not None:
        for _, g in curves.groupby("particle"):
            a.plot(100 * g["initial_share"], 100 * g["growth"], color="0.6", lw=0.6, alpha=0.6)
    a.plot(100 * barrier.curve["initial_share"], 100 * barrier.curve["growth"], color="black", lw=2,
           marker="o", ms=3, label="default parameters")
    a.axhline(0, color="C3", lw=1)
    a.set_xlabel("authorities running a mutual at the start (%)")
    a.set_ylabel(f"change over {BARRIER_YEARS} years, no support (points)")
    a.set_title("Is there a critical-mass barrier?\n(a barrier: growth turns from negative to positive)",
                fontsize=10)
    a.legend(frameon=False, fontsize=8)
    if struct is not None and struct["ratio"].notna().any():
        b.hist(struct["ratio"].dropna(), bins=20, color="C0")
        b.axvline(1, color="C3", lw=1)
        b.set_xlabel("extra live mutuals at the horizon / just after the drain")
        b.set_ylabel("posterior particles")
    else:
        b.text(0.5, 0.5, f"defaults: ratio {sustained.ratio:.2f}", ha="center", transform=b.transAxes)
    b.set_title(f"Does what more support built last once it ends ({sustained.withdraw})?\n"
                "(right of the red line: self-sustaining)", fontsize=10)
    return fig


def plot_sobol(sobol: pd.DataFrame, top: int = 10):
    """Total-order (bars, 95% intervals) and first-order (dots) Sobol indices of each outcome, the
    ``top`` parameters by total order."""
    names = {"p_without": "P(critical mass), no additional support", "p_with": "P(critical mass), more support",
             "years_gained": "years gained"}
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6), layout="constrained")
    for ax, (key, title) in zip(axes, names.items(), strict=True):
        s = sobol.dropna(subset=[f"ST_{key}"]).nlargest(top, f"ST_{key}")[::-1]
        y = np.arange(len(s))
        ax.barh(y, s[f"ST_{key}"], xerr=s[f"ST_conf_{key}"], color="C0", alpha=0.7, label="total order")
        ax.plot(s[f"S1_{key}"], y, "o", color="black", ms=4, label="first order")
        ax.set_yticks(y, s["parameter"], fontsize=8)
        ax.set_xlim(left=min(0.0, float(s[f"S1_{key}"].min()) if len(s) else 0.0))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("Sobol index (share of variance)")
    axes[0].legend(frameon=False, fontsize=8, loc="lower right")
    return fig


# --- the answers and the report -------------------------------------------------------------


def _box_words(box, answer: bool) -> str:
    """What would change an answer: the PRIM box where the other answer is found, in words."""
    if box is None:
        return f"nowhere in the prior's ranges is the answer {'no' if answer else 'yes'}"
    where = "; ".join(f"`{r.parameter}` {r.low:.3g}-{r.high:.3g}" for r in box.limits.itertuples()) or "anywhere"
    share = box.share if box.holds else 1 - box.share
    if box.dims_for_density is None:
        extra = "no box PRIM found reaches a density of 80%"
    elif box.dims_for_density == 0:
        extra = "over 80% of all the prior's points answer so"
    else:
        extra = f"a box of density 80% needs {box.dims_for_density} parameters"
    return (f"the answer is {'yes' if box.holds else 'no'} at {share:.0%} of the prior's points, most often "
            f"where {where}: {box.coverage:.0%} of those points lie there, and {box.density:.0%} of the points "
            f"there answer {'yes' if box.holds else 'no'} ({extra})")


def answers(n: dict) -> list[dict]:
    """Each part of the claim: its question, the answer, its probability with intervals, and what
    would change it. Under the posterior where there is one, else at the defaults."""
    run, boxes = n["run"], n["boxes"]
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    out = []
    if n["calibrated"] is not None:
        c, lt, t = n["calibrated"], n["little"], n["parts"]["time"]
        pn, pm, ln, tm = c.iloc[0], c.iloc[1], lt.iloc[0], t.iloc[1]
        spread = lambda r: (f"95% CI {r['low']:.2f}-{r['high']:.2f}; "  # noqa: E731
                            f"10-90% of particles {r['particle_p10']:.2f}-{r['particle_p90']:.2f}")
        view = "under the calibrated posterior"
        little = (ln["p_little"], spread(ln), f"the share running a mutual rises by {100 * ln['rise_median']:.1f} "
                  f"percentage points (median; 10-90% {100 * ln['rise_p10']:.1f}-{100 * ln['rise_p90']:.1f}) "
                  f"from 2012 to {cm}")
        slow, built = (pn["probability"], spread(pn)), (pm["probability"], spread(pm))
        gained = (f"more support brings it forward by {tm['years_gained_median']:.0f} year(s) (median; 10-90% "
                  f"{tm['years_gained_p10']:.0f}-{tm['years_gained_p90']:.0f})")
        st = n["struct"]
        k, m = int(st["sustaining"].sum()), len(st)
        lo, hi = wilson_interval(k, m)
        sustain = (k / m, f"95% CI {float(lo):.2f}-{float(hi):.2f} over {m} particles",
                   f"the median particle keeps {st['ratio'].median():.0%} of the extra mutuals to {run.end_year}")
        kb = int((st["regime"] == "barrier").sum())
        lo, hi = wilson_interval(kb, m)
        where = (f"found in {kb} particles, at {st['barrier'].median():.1%} of authorities (median; 10-90% "
                 f"{st['barrier'].quantile(0.1):.1%}-{st['barrier'].quantile(0.9):.1%}); " if kb else "")
        regimes = st["regime"].value_counts()
        barrier = (kb / m, f"95% CI {float(lo):.2f}-{float(hi):.2f} over {m} particles",
                   f"{where}uptake grows from any start in {regimes.get('grows', 0)} particles and declines "
                   f"from every start in {regimes.get('declines', 0)}")
    else:
        d = n["defaults"].set_index("policy")
        pn, pm = d.iloc[1], d.iloc[2]
        view = "at the default parameters"
        spread = lambda r: f"95% CI {r['low']:.2f}-{r['high']:.2f}"  # noqa: E731
        little = (pn["p_little"], f"{int(pn['replicates'])} replicates", f"the share running a mutual "
                  f"rises by {100 * pn['rise_median']:.1f} percentage points (median) from 2012 to {cm}")
        slow, built = (pn["probability"], spread(pn)), (pm["probability"], spread(pm))
        gained = "years gained are reported under the posterior"
        s = n["sustained"]
        sustain = (float(s.sustaining), f"{s.replicates} replicates", str(s))
        b = n["barrier"]
        barrier = (float(b.found), "one parameter set", f"regime: {b.regime}")
    out.append(dict(part="little_without", question="Without additional support, does little happen?",
                    answer=little[0] >= 0.5, probability=little[0], interval=little[1],
                    sentence=f"{little[2]}; the chance that it rises by less than "
                             f"{100 * discovery.LITTLE * theta:.0f} percentage points is {little[0]:.2f} ({little[1]})",
                    changes=_box_words(boxes["little_without", little[0] < 0.5], little[0] >= 0.5)))
    out.append(dict(part="slow_without", question=f"Without it, is critical mass ({theta:.0%}) unlikely by {cm}?",
                    answer=slow[0] < 0.5, probability=slow[0], interval=slow[1],
                    sentence=f"P({theta:.0%} by {cm}) is {slow[0]:.2f} ({slow[1]})",
                    changes=_box_words(boxes["slow_without", slow[0] >= 0.5], slow[0] < 0.5)))
    out.append(dict(part="built_with", question=f"With more and better support, is it likely by {cm}?",
                    answer=built[0] >= 0.5, probability=built[0], interval=built[1],
                    sentence=f"P({theta:.0%} by {cm}) is {built[0]:.2f} ({built[1]}); {gained}",
                    changes=_box_words(boxes["built_with", built[0] < 0.5], built[0] >= 0.5)))
    out.append(dict(part="self_sustaining", question="Once more support ends, does what it built last?",
                    answer=sustain[0] >= 0.5, probability=sustain[0], interval=sustain[1],
                    sentence=f"P(self-sustaining) is {sustain[0]:.2f} ({sustain[1]}): {sustain[2]}",
                    changes="not searched over the prior"))
    out.append(dict(part="barrier", question="Is there a critical-mass barrier (a 'chicken and egg')?",
                    answer=barrier[0] >= 0.5, probability=barrier[0], interval=barrier[1],
                    sentence=f"P(barrier) is {barrier[0]:.2f} ({barrier[1]}): {barrier[2]}",
                    changes="not searched over the prior"))
    for a in out:
        a["view"] = view
    return out


def _fit_section(n: dict) -> list[str]:
    check = n.get("record_check")
    if check is None:
        return ["The verdict was run without a calibrated posterior, so it rests on the default parameters, "
                "which do not reproduce the record (see Limitations).", ""]
    fits = int(check["fits"].sum())
    lines = [f"The model was fitted to the record of 2010-2014 (`mutuals calibrate`; ABC-SMC). Of its "
             f"{len(check)} figures, the posterior predictive fits {fits}:", "",
             "| figure | date | record | model, median (90%) | fits |", "|---|---|---|---|---|"]
    for r in check.itertuples():
        record = f"about {r.value:g}" if r.error == "lognormal" else f"at most {r.value:g}"
        extra = "" if r.error == "lognormal" else f"; held in {r.share_within_bound:.0%} of draws"
        lines.append(f"| {r.observation} | {r.date:g} | {record} | {r.predictive_median:.0f} "
                     f"({r.predictive_q05:.0f}-{r.predictive_q95:.0f}){extra} | {'yes' if r.fits else 'no'} |")
    lines += ["", "A figure fits if the 90% band covers it and the median is within its stated error; a bound "
              "if at least 90% of draws respect it. Where the model misses, the answers below inherit the miss.", ""]
    return lines


def _parts_tables(n: dict) -> list[str]:
    parts = n.get("parts")
    if parts is None:
        return []
    run = n["run"]
    theta = run.critical_mass_threshold
    levels, time, grid = parts["levels"], parts["time"], parts["p_threshold"]
    lines = ["## The evidence under the calibrated posterior", "",
             "Every particle drawn is run under every policy on the same seeds. Intervals: 10-90% of all draws "
             "(replicate noise and parameter uncertainty together) and, in brackets, of the particles' medians "
             "(parameter uncertainty alone). Tables: `posterior_levels.csv`, `posterior_little.csv`, "
             "`posterior_p_threshold.csv`, `posterior_time.csv`, `posterior_structure.csv`.", "",
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
        lines.append(f"| {r.policy} | {r.reached_share:.2f} | {r.year_median:.0f} ({r.year_p10:.0f}-"
                     f"{r.year_p90:.0f}) | {r.years_gained_median:.0f} ({r.years_gained_p10:.0f}-"
                     f"{r.years_gained_p90:.0f}) |")
    lines += ["", "A year after the horizon means the threshold was not reached by it. The same probabilities "
              "over every threshold from 10% to 30% and every year from 2015:", "",
              "![P(threshold by year)](posterior_threshold_by_year.png)", ""]
    return lines


def report(n: dict) -> str:
    run = n["run"]
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    ans = n["answers"]
    core = {a["part"]: a for a in ans}
    holds = core["little_without"]["answer"] and core["slow_without"]["answer"] and core["built_with"]["answer"]
    s, b = n["sustained"], n["barrier"]
    lines = [
        "# Is the Committee right? Mutuals, critical mass and support",
        "",
        "*Generated by `mutuals verdict`; every number below was computed by the run that wrote this file "
        "(tables beside it; `manifest.json` records what produced it).*",
        "",
        "## The question",
        "",
        "The Public Administration Select Committee (HC 112, December 2012, para 94): \"The necessary "
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
        f"- *Little happens*: the share running a mutual rises by less than {100 * discovery.LITTLE * theta:.0f} "
        f"percentage points from 2012 to {cm}.",
        "",
        "## Summary",
        "",
        f"Answered {ans[0]['view']}:",
        "",
    ]
    for a in ans:
        lines.append(f"- **{a['question']}** {'Yes' if a['answer'] else 'No'}: {a['sentence']}.")
    d = n["defaults"]
    lines += ["", f"Taken together, the claim **{'holds' if holds else 'does not hold'}** {ans[0]['view']}: "
              + ("little happens without additional support, critical mass is unlikely without it and likely "
                 "with it." if holds else "at least one of its parts (little happens without; unlikely without; "
                 "likely with) is answered no above."), "",
              f"At the default parameters, which do not reproduce the record, P({theta:.0%} by {cm}) is "
              f"{d['probability'].iloc[1]:.2f} without additional support and {d['probability'].iloc[2]:.2f} with "
              "more and better support (`verdict.md`, *At the default parameters*).", ""]
    lines += ["## What would change each answer", "",
              f"PRIM (EMA Workbench) over {len(n['lhs'])} Latin hypercube points of the prior ({len(n['params'])} "
              f"uncertain parameters, {n['lhs_replicates']} replicates per point and policy; cuts at their actual "
              "trajectory): for each part, the box of at most four parameters where the other answer is densest. "
              "Table: `prim_boxes.csv` (both answers' boxes); every point: `lhs.csv`.", ""]
    for a in ans[:3]:
        lines.append(f"- *{a['question']}* {a['changes']}.")
    lines.append("")
    lines += ["## How well the model fits the record", "", *_fit_section(n)]
    lines += _parts_tables(n)
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
    lines += ["## What decides the outcomes", "",
              f"Sobol indices (SALib; {n['sobol_points']} points of a Saltelli sample, "
              f"{n['lhs_replicates']} replicates each): the share of each outcome's variance due to a parameter "
              "alone (first order) and with all its interactions (total order), with 95% intervals. Replicate "
              "noise inflates the total order. Table: `sobol.csv`.", "",
              "| parameter | ST, P without (95%) | ST, P with | ST, years gained |", "|---|---|---|---|"]
    sob = n["sobol"].copy()
    sob["rank"] = sob[[c for c in sob.columns if c.startswith("ST_") and "conf" not in c]].max(axis=1)
    for r in sob.nlargest(8, "rank").to_dict("records"):
        cells = [f"{r[f'ST_{k}']:.2f} ± {r[f'ST_conf_{k}']:.2f}" if np.isfinite(r[f"ST_{k}"]) else "-"
                 for k in ("p_without", "p_with", "years_gained")]
        lines.append(f"| `{r['parameter']}` | " + " | ".join(cells) + " |")
    lines += ["", "![sobol](sobol.png)", "",
              "## At the default parameters", "",
              f"| policy | P(critical mass by {cm}) | 95% CI | share running a mutual in {cm}, median (10-90%) |",
              "|---|---|---|---|"]
    for _, r in n["defaults"].iterrows():
        lines.append(f"| {r['policy']} | {r['probability']:.2f} | {r['low']:.2f}-{r['high']:.2f} | "
                     f"{r['share_median']:.1%} ({r['share_p10']:.1%}-{r['share_p90']:.1%}) |")
    lines += ["", "![defaults](defaults.png)", "",
              "## Limitations", "",
              "- The model is a stylised reconstruction: authorities' attributes are drawn, not measured, and most "
              "behavioural parameters are assumptions with ranges (docs/ODD.md).",
              f"- At the defaults it under-predicts early uptake ({n['early'].median():.0f} local-authority spin-outs "
              f"by 2014 under `historical`, median; against about 50 reported); "
              + ("the answers above are the calibrated ones." if n["calibrated"] is not None else
                 "no calibrated posterior was given, so the answers above rest on them."),
              "- The calibration fits a short record (seven figures, six of them bounds); it narrows only a few "
              "parameters, and the rest keep their prior ranges (`calibration.md`).",
              "- The definitions (the threshold, the year, 'little', the 0.5 cut-offs) are ours; the tables beside "
              "this file allow others, and the heat map shows every threshold and year.",
              f"- Self-sustaining and the barrier rest on {n['structure_replicates']} replicates per particle; the "
              "barrier's location is interpolated on a grid where growth wavers near zero.",
              "- Support instruments' effects are assumptions with ranges; nothing was fitted to the verdict.",
              ""]
    return "\n".join(lines)
