"""The verdict on the Committee's claim, computed and written by one run.

The claim (HC 112, para 94): "The necessary critical mass will be slow to build up without more
and better support ... Without additional assistance it seems likely little will happen."

Made testable (the report states this too):

- *no additional support* is the ``december_2012`` scenario: the support in force when the report
  was published (the pathfinders and the Mutuals Taskforce, the first Mutuals Support Programme,
  Right to Challenge); ``historical`` (with what was actually added later) is reported beside it,
  never in its place;
- *more and better support* is that plus the Committee's joined-up strategy (the instruments of
  ``joined_up``), built by :func:`combine`;
- *critical mass* is the threshold measure: θ of authorities running a mutual by the scenario's
  critical-mass year;
- the claim **holds** at a point of the plausible parameter space when critical mass by that year
  is unlikely without additional support (probability < 0.5) and likely with it (>= 0.5).

It is evaluated at the defaults and over a Latin hypercube of the uncertain behavioural
parameters, whose plausible ranges are read from the scenario schema (the ODD's ranges).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .analysis import wilson_interval, year_reached
from .critical import self_sustaining, tipping_point
from .experiments import latin_hypercube, run_design
from .scenario import INSTRUMENTS, Scenario, scenario_from_dict, uncertainties, with_overrides

UNCERTAIN_SECTIONS = ("population.", "behaviour.", "mutuals.", "fiscal.severity")


def plausible_ranges() -> dict[str, tuple[float, float]]:
    """Every uncertain parameter of the population, behaviour and mutuals (its plausible range
    from the schema's metadata, :func:`sim.scenario.uncertainties`), and the severity of cuts."""
    return {path: (u.low, u.high) for path, u in uncertainties(UNCERTAIN_SECTIONS).items()}


def combine(base: Scenario, extra: Scenario, name: str) -> Scenario:
    """``base`` plus every funded instrument of ``extra`` (its settings; its windows added)."""
    data = base.model_dump()
    more = extra.model_dump()
    for inst in INSTRUMENTS:
        mine, theirs = data["support"][inst], more["support"][inst]
        funded = theirs["rate"] > 0 if inst == "right_to_challenge" else theirs["budget"] > 0
        if not funded:
            continue
        if mine["budget"] > 0:
            windows = [{k: theirs[k] for k in ("start", "end", "budget")}, *theirs["also"]]
            theirs = {**theirs, **{k: mine[k] for k in ("start", "end", "budget")},
                      "also": [*mine["also"], *windows]}
        data["support"][inst] = theirs
    data["name"] = name
    data["description"] = f"{base.name} plus the funded instruments of {extra.name}"
    return scenario_from_dict(data, name)


def probability_of_critical_mass(frame: pd.DataFrame, run) -> pd.Series:
    """Per design row: P(threshold reached by the critical-mass year)."""
    reached = year_reached(frame, run.critical_mass_threshold, by=("design_row", "replicate"))
    return (reached <= run.critical_mass_year).groupby(level="design_row").mean()


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


def run_verdict(scenarios: dict[str, Scenario], folder: Path, *, replicates: int, seed: int,
                lhs_points: int, lhs_replicates: int, progress: bool = False,
                posterior: pd.DataFrame | None = None, posterior_particles: int = 100,
                posterior_replicates: int = 4) -> dict:
    """Compute every number of the verdict and write ``verdict.md`` and its figures.

    With a calibrated ``posterior`` (see :mod:`sim.calibrate`), the probabilities without and
    with more support are also computed under it."""
    from .simulate import simulate

    none = scenarios["december_2012"]
    more = combine(none, scenarios["joined_up"], "december_2012_joined_up")
    run = none.run
    cm, theta = run.critical_mass_year, run.critical_mass_threshold

    # 1. at the defaults: every policy on the same replicates
    policies = {"no support at all (baseline)": scenarios["baseline"],
                "no additional support (in force in December 2012)": none,
                "more and better support (December 2012 + joined-up)": more,
                "what was actually added later (historical)": scenarios["historical"]}
    for inst in ("grants", "advice", "evidence", "tested_models", "barriers"):
        policies[f"December 2012 + {inst} alone"] = combine(none, scenarios[inst], f"december_2012_{inst}")
    rows = []
    for label, s in policies.items():
        frame = simulate(s, replicates=replicates, seed=seed, engine="ensemble")
        r = year_reached(frame, theta)
        k = int((r <= cm).sum())
        low, high = wilson_interval(k, len(r))
        share = frame.loc[frame["year"] == cm, "share_with_mutual"]
        if s is scenarios["historical"]:
            early = frame.loc[frame["year"] == 2014, "cumulative_spinouts"]
        rows.append(dict(policy=label, reached=k, replicates=len(r), probability=k / len(r),
                         low=float(low), high=float(high), share_median=share.median(),
                         share_p10=share.quantile(0.1), share_p90=share.quantile(0.9)))
    defaults = pd.DataFrame(rows)
    defaults.to_csv(folder / "defaults.csv", index=False)
    p_none = defaults.iloc[1]
    p_more = defaults.iloc[2]
    holds_at_defaults = p_none["probability"] < 0.5 <= p_more["probability"]

    # 2. across the plausible space: a Latin hypercube, both policies on common replicates
    ranges = plausible_ranges()
    design = latin_hypercube(ranges, lhs_points, seed)
    results = {}
    for key, s in (("none", none), ("more", more)):
        table = run_design(s, design, lhs_replicates, seed, folder / f"lhs_{key}", chunk=lhs_replicates,
                           progress=progress)
        results[key] = probability_of_critical_mass(table, run)
    lhs = design.copy()
    lhs["p_none"] = results["none"].to_numpy()
    lhs["p_more"] = results["more"].to_numpy()
    lhs["holds"] = (lhs["p_none"] < 0.5) & (lhs["p_more"] >= 0.5)
    lhs["slow_without"] = lhs["p_none"] < 0.5
    lhs["built_with"] = lhs["p_more"] >= 0.5
    lhs.to_csv(folder / "lhs.csv", index_label="design_row")
    n_holds, n_points = int(lhs["holds"].sum()), len(lhs)

    # 3. which parameters decide it: SALib's RBD-FAST first-order indices on the LHS sample
    from SALib.analyze import rbd_fast

    problem = {"num_vars": len(ranges), "names": list(ranges),
               "bounds": [list(v) for v in ranges.values()]}
    x = lhs[list(ranges)].to_numpy()
    scores = pd.DataFrame({"parameter": list(ranges)})
    for outcome in ("holds", "p_none", "p_more"):
        y = lhs[outcome].astype(float).to_numpy()
        if np.ptp(y) == 0:  # a constant outcome: no parameter explains any of its variance
            scores[f"S1_{outcome}"] = np.nan
            continue
        with np.errstate(invalid="ignore", divide="ignore"):  # constant bootstrap resamples
            res = rbd_fast.analyze(problem, x, y, seed=seed)
        scores[f"S1_{outcome}"] = np.asarray(res["S1"])
    scores = scores.sort_values("S1_holds", ascending=False, na_position="last").reset_index(drop=True)
    scores.to_csv(folder / "feature_scores.csv", index=False)
    top = scores["parameter"].head(3).tolist()
    conditions = []
    for p in top:
        lo, hi = ranges[p]
        mid = 0.5 * (lo + hi)
        below = lhs.loc[lhs[p] < mid, "holds"].mean()
        above = lhs.loc[lhs[p] >= mid, "holds"].mean()
        conditions.append((p, lo, hi, mid, below, above))

    # 4. self-sustaining and tipping point at the defaults
    sustain_more = self_sustaining(more, withdraw=2020, window=5, replicates=replicates // 2,
                                   seed=seed)
    sustain_none = self_sustaining(none, withdraw=2020, window=5, replicates=replicates // 2,
                                   seed=seed)
    tip = tipping_point(scenarios["baseline"], replicates=200, seed=seed)

    calibrated = parts = None
    if posterior is not None:
        table = posterior_draws({"no additional support (in force in December 2012)": none,
                                 "more and better support (December 2012 + joined-up)": more,
                                 "what was actually added later (historical)": scenarios["historical"]},
                                posterior, posterior_particles, posterior_replicates, seed)
        calibrated = under_posterior(table, run)
        calibrated.to_csv(folder / "posterior.csv", index=False)
        parts = claim_parts(table, run)
        for name, frame in parts.items():
            frame.to_csv(folder / f"posterior_{name}.csv", index=False)
        fig = plot_threshold_by_year(parts["p_threshold"], theta)
        fig.savefig(folder / "posterior_threshold_by_year.png", dpi=110)
        plt.close(fig)

    # 5. figures
    fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    y = np.arange(len(defaults))
    err = np.vstack([defaults["probability"] - defaults["low"], defaults["high"] - defaults["probability"]])
    colours = ["0.6", "C0", "C2"] + ["C1"] * (len(defaults) - 3)
    ax.barh(y, defaults["probability"], xerr=err, capsize=3, color=colours)
    ax.set_yticks(y, defaults["policy"])
    ax.invert_yaxis()
    ax.axvline(0.5, color="black", ls=":", lw=1)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel(f"probability that {theta:.0%} of authorities run a mutual by {cm}")
    ax.set_title(f"Critical mass at the default parameters\n(bars: Wilson 95% intervals; "
                 f"{replicates} replicates, common random numbers)", fontsize=10, loc="right")
    fig.savefig(folder / "defaults.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    a, b = top[0], top[1] if len(top) > 1 else top[0]
    for value, colour, label in ((True, "C2", "claim holds"), (False, "C3", "claim does not hold")):
        sel = lhs[lhs["holds"] == value]
        ax.scatter(sel[a], sel[b], c=colour, s=18, label=f"{label} ({len(sel)})", alpha=0.8)
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    ax.set_title(f"Where the claim holds: {n_points} Latin hypercube points,\n"
                 "the two parameters that decide it most (RBD-FAST)")
    ax.legend(frameon=False)
    fig.savefig(folder / "lhs.png", dpi=120)
    plt.close(fig)

    numbers = dict(p_none=p_none, p_more=p_more, holds_at_defaults=holds_at_defaults,
                   n_holds=n_holds, n_points=n_points, slow=int(lhs["slow_without"].sum()),
                   built=int(lhs["built_with"].sum()), scores=scores, conditions=conditions,
                   sustain_more=sustain_more, sustain_none=sustain_none, tip=tip,
                   defaults=defaults, ranges=ranges, lhs_replicates=lhs_replicates,
                   replicates=replicates, run=run, early=early, calibrated=calibrated,
                   parts=parts)
    (folder / "verdict.md").write_text(report(numbers), encoding="utf-8")
    return numbers


def _posterior_summary(n: dict) -> list[str]:
    c = n.get("calibrated")
    if c is None:
        return []
    cm = n["run"].critical_mass_year
    pn, pm, ph = c.iloc[0], c.iloc[1], c.iloc[2]
    holds = pn["probability"] < 0.5 <= pm["probability"]
    return [
        f"Under the posterior calibrated to the record of 2010-2014 (`mutuals calibrate`; "
        f"{int(pn['particles'])} particles drawn by weight, {int(pn['replicates'])} replicates "
        f"each), the probability of critical mass by {cm} is {pn['probability']:.2f} (95% CI "
        f"{pn['low']:.2f}-{pn['high']:.2f}; 10-90% of particles {pn['particle_p10']:.2f}-"
        f"{pn['particle_p90']:.2f}) without additional support and {pm['probability']:.2f} (95% CI "
        f"{pm['low']:.2f}-{pm['high']:.2f}; particles {pm['particle_p10']:.2f}-"
        f"{pm['particle_p90']:.2f}) with the joined-up strategy: by the same cut-off the claim "
        f"**{'holds' if holds else 'does not hold'}** under the posterior. With what was actually "
        f"added later (`historical`) it is {ph['probability']:.2f} (95% CI {ph['low']:.2f}-"
        f"{ph['high']:.2f}).",
        "",
    ]


def _parts_section(n: dict) -> list[str]:
    parts = n.get("parts")
    if parts is None:
        return []
    run = n["run"]
    theta = run.critical_mass_threshold
    levels, time, grid = parts["levels"], parts["time"], parts["p_threshold"]
    without = levels[levels["policy"] == levels["policy"].iloc[0]].set_index("year")
    base = without.loc[2012, "median"]
    lines = ["## The claim's parts under the calibrated posterior", "",
             "Every particle drawn is run under every policy on the same seeds. Intervals: 10-90% of "
             "all draws (replicate noise and parameter uncertainty together) and, in brackets, of the "
             "particles' medians (parameter uncertainty alone). Tables: `posterior_levels.csv`, "
             "`posterior_p_threshold.csv`, `posterior_time.csv`.", "",
             "*Little happens without additional support?* Share of authorities running a mutual "
             "with the support in force in December 2012:", "",
             "| year | median | 10-90% of draws | (of particles) |", "|---|---|---|---|"]
    for year, r in without.iterrows():
        lines.append(f"| {year} | {r['median']:.1%} | {r['p10']:.1%}-{r['p90']:.1%} | "
                     f"({r['particles_p10']:.1%}-{r['particles_p90']:.1%}) |")
    later = without.loc[max(without.index), "median"]
    lines += ["", f"The median share goes from {base:.1%} in 2012 to {without.loc[2020, 'median']:.1%} "
              f"in 2020 and {later:.1%} in {max(without.index)}.", "",
              f"*Slow to build without, built with?* P({theta:.0%} of authorities by the end of the year):",
              "", "| policy | " + " | ".join(str(y) for y in (2015, 2020, 2025, 2030)) + " |",
              "|---|" + "---|" * 4]
    at = grid[np.isclose(grid["threshold"], theta)]
    for label, g in at.groupby("policy", sort=False):
        g = g.set_index("year")["probability"]
        lines.append(f"| {label} | " + " | ".join(f"{g.get(y, np.nan):.2f}" for y in (2015, 2020, 2025, 2030)) + " |")
    lines += ["", "| policy | reaches it by " + f"{int(grid['year'].max())}" + " | year reached, median (10-90%) "
              "| years gained over no additional support, median (10-90%) |", "|---|---|---|---|"]
    for r in time.itertuples():
        lines.append(f"| {r.policy} | {r.reached_share:.2f} | {r.year_median:.0f} ({r.year_p10:.0f}-"
                     f"{r.year_p90:.0f}) | {r.years_gained_median:.0f} ({r.years_gained_p10:.0f}-"
                     f"{r.years_gained_p90:.0f}) |")
    lines += ["", "A year after the horizon means the threshold was not reached by it. The same "
              "probabilities over every threshold from 10% to 30% and every year from 2015:", "",
              "![P(threshold by year)](posterior_threshold_by_year.png)", ""]
    return lines


def report(n: dict) -> str:
    run = n["run"]
    cm, theta = run.critical_mass_year, run.critical_mass_threshold
    pn, pm = n["p_none"], n["p_more"]
    share_low, share_high = wilson_interval(n["n_holds"], n["n_points"])
    answer = "holds" if n["holds_at_defaults"] else "does not hold"
    lines = [
        "# Verdict: is the Committee's claim borne out?",
        "",
        "*Generated by `mutuals verdict`; every number below was computed by the run that wrote "
        "this file (tables beside it: `defaults.csv`, `lhs.csv`, `feature_scores.csv`).*",
        "",
        "## The claim and how it was made testable",
        "",
        "HC 112 (December 2012), para 94: \"The necessary critical mass will be slow to build up "
        "without more and better support ... Without additional assistance it seems likely "
        "little will happen.\"",
        "",
        f"- *Critical mass*: {theta:.0%} of English principal authorities running a live mutual "
        f"(Rogers' innovators and early adopters) by {cm}, the decade after the report.",
        "- *No additional support*: the support in force when the report was published "
        "(`december_2012`: actual cuts; the pathfinders and the Mutuals Taskforce from 2010; the "
        "Mutuals Support Programme of 2011-13; Right to Challenge from June 2012). What was "
        "actually added later (`historical`: Mutuals Support Programme 2, 2018-20) is reported "
        "beside it, never in its place.",
        "- *More and better support*: the same plus the Committee's joined-up strategy "
        "(evidence and dissemination, tested models, barrier removal, grants and advice, "
        "2013-2020, as in `joined_up.toml`).",
        f"- The claim **holds** where P(critical mass by {cm}) is below 0.5 without additional "
        "support and at least 0.5 with it.",
        "",
        "## Summary",
        "",
        f"At the default parameters the claim **{answer}**: the probability of critical mass by "
        f"{cm} is {pn['probability']:.2f} (95% CI {pn['low']:.2f}-{pn['high']:.2f}) without "
        f"additional support and {pm['probability']:.2f} (95% CI {pm['low']:.2f}-{pm['high']:.2f}) "
        f"with the joined-up strategy ({int(pn['replicates'])} replicates each, common random "
        "numbers).",
        "",
        f"Across {n['n_points']} Latin hypercube points over the plausible ranges of "
        f"{len(n['ranges'])} uncertain parameters ({n['lhs_replicates']} replicates per point and "
        f"policy), the claim holds at {n['n_holds']} points: a share of "
        f"{n['n_holds'] / n['n_points']:.2f} (95% CI {float(share_low):.2f}-{float(share_high):.2f}). "
        f"Critical mass was unlikely without additional support at {n['slow']} points and likely "
        f"with it at {n['built']}.",
        "",
        *_posterior_summary(n),
        "## Probabilities at the defaults",
        "",
        f"| policy | P(critical mass by {cm}) | 95% CI | share running a mutual in {cm}, median (10-90%) |",
        "|---|---|---|---|",
    ]
    for _, r in n["defaults"].iterrows():
        lines.append(f"| {r['policy']} | {r['probability']:.2f} | {r['low']:.2f}-{r['high']:.2f} | "
                     f"{r['share_median']:.1%} ({r['share_p10']:.1%}-{r['share_p90']:.1%}) |")
    lines += ["", "![defaults](defaults.png)", "", *_parts_section(n),
              "## What decides it",
              "",
              "First-order sensitivity indices (RBD-FAST, SALib) of whether the claim holds, and of "
              "the two probabilities, over the Latin hypercube:",
              "",
              "| parameter | plausible range | S1 (claim holds) | S1 (P without) | S1 (P with) |",
              "|---|---|---|---|---|"]
    for _, r in n["scores"].head(8).iterrows():
        lo, hi = n["ranges"][r["parameter"]]
        lines.append(f"| `{r['parameter']}` | {lo:g}-{hi:g} | {r['S1_holds']:.3f} | "
                     f"{r['S1_p_none']:.3f} | {r['S1_p_more']:.3f} |")
    largest = n["scores"]["S1_holds"].max()
    total = n["scores"]["S1_holds"].clip(lower=0).sum()
    if largest < 0.2:
        lines += ["", f"No single parameter decides it: the largest first-order index is "
                      f"{largest:.2f}, and together the first-order effects explain about "
                      f"{min(total, 1.0):.0%} of the variance; the rest is interactions between "
                      "parameters and replicate noise."]
    lines += ["", "Share of points where the claim holds, below and above the middle of each "
              "deciding parameter's range:", ""]
    for p, _low, _high, mid, below, above in n["conditions"]:
        lines.append(f"- `{p}` < {mid:g}: {below:.2f}; >= {mid:g}: {above:.2f}")
    lines += ["", "![lhs](lhs.png)", "",
              "## Is the critical mass self-sustaining?",
              "",
              f"With every instrument withdrawn at the start of 2020, live mutuals kept growing over "
              f"2020-2025 with probability {n['sustain_more']} after the joined-up strategy, and "
              f"{n['sustain_none']} after the support in force in December 2012 alone (default "
              "parameters).",
              ""]
    tip = n["tip"]
    if tip.found:
        lines.append(f"Tipping point with no support at all (actual cuts, default behaviour): uptake "
                     f"grows in half of the replicates from an initial share of {tip.median:.1%} of "
                     f"authorities (10%: {tip.low:.1%}; 90%: {tip.high:.1%}).")
    else:
        lines.append("No tipping point was found below 30% of authorities at the defaults.")
    if tip.found and tip.median == 0.0:
        lines.append("At the defaults, uptake grows even from no adopters: the cuts' pressure "
                     "alone moves the least risk-averse authorities, so no threshold has to be "
                     "passed; the tipping point appears only in more cautious regimes (see "
                     "`results/tipping/`).")
    lines += ["",
              "## Limitations",
              "",
              "- The model is a stylised reconstruction: authorities' attributes are drawn, not "
              "measured, and most behavioural parameters are assumptions with ranges (docs/ODD.md).",
              f"- At the defaults it under-predicts early uptake ({n['early'].median():.0f} "
              f"local-authority spin-outs by 2014 under `historical`, median; 10-90%: "
              f"{n['early'].quantile(0.1):.0f}-{n['early'].quantile(0.9):.0f}; against about 50 "
              "reported)" + ("; the probabilities under the calibrated posterior (fitted to that "
                             "record; how well: the calibration's `calibration.md`) are the ones "
                             "to read where they differ." if n["calibrated"] is not None else
                             ", so the defaults may be too cautious."),
              "- Right to Challenge was in force in December 2012 already, so it has no line of "
              "its own.",
              "- The definition of the claim (threshold, year, the 0.5 cut-off) is ours; the tables "
              "beside this file allow others.",
              f"- Probabilities over the hypercube rest on {n['lhs_replicates']} replicates per "
              "point; RBD-FAST indices of a binary outcome are rough.",
              "- Support instruments' effects are assumptions; nothing was fitted to the verdict.",
              ""]
    return "\n".join(lines)
