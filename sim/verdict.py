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


def under_posterior(policies: dict[str, Scenario], posterior: pd.DataFrame, particles: int,
                    replicates: int, seed: int) -> pd.DataFrame:
    """P(critical mass by the critical-mass year) of each policy under the calibrated posterior:
    ``particles`` particles drawn by weight, each run for ``replicates`` replicates (particle
    ``i`` on the same seeds under every policy). One row per policy: the pooled probability
    with its Wilson 95% interval (replicate noise and parameter uncertainty together), and the
    10-90% range of the particles' own probabilities (parameter uncertainty)."""
    from .calibrate import draw_particles
    from .simulate import simulate

    draws = draw_particles(posterior, particles, seed)
    rows = []
    for label, s in policies.items():
        run = s.run
        per_particle = []
        for i, row in enumerate(draws.to_dict("records")):
            frame = simulate(with_overrides(s, row, "posterior particle"), replicates=replicates,
                             seed=seed + i, engine="ensemble")
            per_particle.append((year_reached(frame, run.critical_mass_threshold)
                                 <= run.critical_mass_year).mean())
        per_particle = np.array(per_particle)
        k, n = int(round(per_particle.sum() * replicates)), particles * replicates
        low, high = wilson_interval(k, n)
        rows.append(dict(policy=label, probability=k / n, low=float(low), high=float(high),
                         particle_p10=float(np.quantile(per_particle, 0.1)),
                         particle_p90=float(np.quantile(per_particle, 0.9)),
                         particles=particles, replicates=replicates))
    return pd.DataFrame(rows)


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

    calibrated = None
    if posterior is not None:
        calibrated = under_posterior({"no additional support (in force in December 2012)": none,
                                      "more and better support (December 2012 + joined-up)": more,
                                      "what was actually added later (historical)":
                                      scenarios["historical"]},
                                     posterior, posterior_particles, posterior_replicates, seed)
        calibrated.to_csv(folder / "posterior.csv", index=False)

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
                   replicates=replicates, run=run, early=early, calibrated=calibrated)
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
    lines += ["", "![defaults](defaults.png)", "",
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
