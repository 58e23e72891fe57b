"""Plots are functions of tidy results: they take ``ax=`` and return the figure."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from .analysis import bands
from .claim import LIKELY
from .instruments import Statutory

if TYPE_CHECKING:
    from .critical import Barrier, Sustained


def _axes(ax):
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    return ax.figure, ax


def plot_uptake(frame: pd.DataFrame, threshold: float | None = None, ax=None,
                measure: str = "share_with_mutual", title: str | None = None, support=()):
    """Share of authorities running a mutual over time: median and 10-90% band per scenario;
    ``support``: (start, end) periods of funded support to shade (:func:`support_spans`)."""
    fig, ax = _axes(ax)
    for i, (start, end) in enumerate(support):
        ax.axvspan(start, end, color="C2", alpha=0.10, lw=0, label="support funded" if i == 0 else None)
    b = bands(frame, measure)
    percent = measure == "share_with_mutual"
    k = 100.0 if percent else 1.0
    for i, (name, g) in enumerate(b.groupby("scenario", observed=True, sort=False)):
        colour = f"C{i % 10}"
        ax.fill_between(g["year"], k * g["low"], k * g["high"], color=colour, alpha=0.18, lw=0)
        ax.plot(g["year"], k * g["median"], color=colour, lw=2, label=str(name))
    if threshold is not None and percent:  # named in the legend: a label on the line met the legend
        ax.axhline(k * threshold, color="black", ls="--", lw=1, label=f"critical mass threshold ({threshold:.0%})")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("authorities running a mutual (%)" if percent else measure.replace("_", " "))
    ax.set_title(wrapped(title or "Uptake: median and 10-90% of replicates", 0.9 * fig.get_size_inches()[0], 12))
    ax.grid(alpha=0.3)
    top = max(k * b["high"].max(), k * (threshold or 0.0) if percent else 0.0)
    ax.set_ylim(0, 1.3 * top if top > 0 else None)  # headroom: the legend sits above the lines
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def support_spans(scenario) -> list[tuple[float, float]]:
    """The periods in which any funded instrument of ``scenario`` runs, merged (statutory rights,
    with no budget and no end, aside)."""
    spans = sorted((w.start, w.end) for inst in scenario.support.instruments().values()
                   for w in inst.windows() if w.budget > 0)
    merged: list[list[float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def label(scenario) -> str:
    """A scenario's name in words."""
    return scenario.name.replace("_", " ")


COLOURS = [f"C{k}" for k in (0, 1, 2, 3, 4, 5, 6, 8, 9)]  # not C7, the reference's grey


def wrapped(text: str, inches: float, fontsize: float) -> str:
    """``text`` broken into lines that fit ``inches`` at ``fontsize`` points (an average
    character is about half the font size wide)."""
    return textwrap.fill(text, max(20, int(inches * 72 / (0.55 * fontsize))))


def _panels(n: int):
    """A grid of ``n`` small multiples sharing their axes, five to a row, the figure at least
    6.5 inches wide (the width of a page's text); the spare ones hidden."""
    cols = min(n, 5)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(2.9 * cols, 6.5), 2.5 * rows + 0.6), sharex=True,
                             sharey=True, squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def _frame_labels(fig, ylabel: str, title: str) -> None:
    """A small-multiples figure's shared y-label and title, each wrapped to fit the figure."""
    width, height = fig.get_size_inches()
    fig.supylabel(wrapped(ylabel, 0.9 * height, 9), fontsize=9)
    fig.suptitle(wrapped(title, 0.95 * width, 10), fontsize=10)


def plot_policies(frame: pd.DataFrame, scenarios, threshold: float, reference: int = 0, over: str = "replicates"):
    """Uptake under each policy as small multiples: the policy's median and 10-90% band (of
    ``over``) in colour over the reference policy's (the first, by default) in grey, the periods
    of funded support shaded, the critical-mass threshold dashed."""
    b = bands(frame, "share_with_mutual")
    by = {str(k): g for k, g in b.groupby("scenario", observed=True, sort=False)}
    ref = scenarios[reference]
    n = len(scenarios)
    fig, axes = _panels(n)
    r = by[ref.name]
    for ax, (i, s) in zip(axes.flat, enumerate(scenarios), strict=False):
        g = by[s.name]
        colour = COLOURS[i % len(COLOURS)]
        for start, end in support_spans(s):
            ax.axvspan(start, end, color="C2", alpha=0.10, lw=0)
        for inst in s.support.instruments().values():  # a statutory right: from its start
            if isinstance(inst, Statutory) and inst.funded():
                ax.axvline(inst.start, color="C2", ls=":", lw=1)
        if s is not ref:
            ax.fill_between(r["year"], 100 * r["low"], 100 * r["high"], color="0.6", alpha=0.25, lw=0)
            ax.plot(r["year"], 100 * r["median"], color="0.45", lw=1.2, ls="-")
        ax.fill_between(g["year"], 100 * g["low"], 100 * g["high"], color=colour, alpha=0.25, lw=0)
        ax.plot(g["year"], 100 * g["median"], color=colour, lw=2)
        ax.axhline(100 * threshold, color="black", ls="--", lw=0.8)
        ax.set_title(label(s), fontsize=9)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, integer=True))
    axes[0][0].set_ylim(bottom=0)
    _frame_labels(fig, "authorities running a mutual (%)",
                  f"Uptake under each policy (median, 10-90% of {over}) against {label(ref)} (grey); "
                  f"green: support funded (dotted: Right to Challenge in force); dashed: {threshold:.0%}")
    return fig


def plot_critical_mass_by_year(by_year: pd.DataFrame, threshold: float, ax=None):
    """Probability that the threshold has been reached, by year: one panel per scenario (Wilson
    95% band), over the first scenario's curve in grey."""
    groups = [(str(k), g) for k, g in by_year.groupby("scenario", observed=True, sort=False)]
    fig, axes = _panels(len(groups))
    ref = groups[0][1]
    for ax, (i, (name, g)) in zip(axes.flat, enumerate(groups), strict=False):
        if i:
            ax.plot(ref["year"], ref["probability"], color="0.45", lw=1.2)
        colour = COLOURS[i % len(COLOURS)]
        ax.fill_between(g["year"], g["low"], g["high"], color=colour, alpha=0.2, lw=0)
        ax.plot(g["year"], g["probability"], color=colour, lw=2)
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, integer=True))
    axes[0][0].set_ylim(-0.02, 1.02)
    _frame_labels(fig, f"P({threshold:.0%} of authorities run a mutual by the year)",
                  f"How likely is critical mass by each year? (band: Wilson 95% interval; grey: {groups[0][0]})")
    return fig


def plot_critical_mass_bars(table: pd.DataFrame, year: int, horizon: int, threshold: float,
                            ax=None):
    """Probability of critical mass by ``year`` and by the horizon per policy, as points with
    Wilson 95% intervals (points, not bars: a probability of 1 is a point at the edge, not a
    wall of equal bars)."""
    fig, ax = _axes(ax)
    y = np.arange(len(table))
    for k, (when, colour, marker) in enumerate(((year, "C0", "o"), (horizon, "C1", "s"))):
        p = table[f"p_critical_mass_{when}"].to_numpy()
        err = np.vstack([p - table[f"p_critical_mass_{when}_low"], table[f"p_critical_mass_{when}_high"] - p])
        ax.errorbar(p, y + (k - 0.5) * 0.25, xerr=err, fmt=marker, color=colour, capsize=3, label=f"by {when}")
    ax.set_yticks(y, table["scenario"].astype(str).str.replace("_", " "))
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.axvline(LIKELY, color="black", ls=":", lw=1)
    ax.set_xlabel(f"probability that {threshold:.0%} of authorities run a mutual")
    ax.set_title("Probability of critical mass (Wilson 95% intervals)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(frameon=False, loc="best")
    return fig


def plot_outcomes(table: pd.DataFrame, horizon: int):
    """Failures, savings, support spent and cost per additional adopting authority by policy."""
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.2), layout="constrained")
    names = table["scenario"].astype(str).str.replace("_", " ")
    panels = [
        ("failures_median", f"mutuals failed by {horizon}\n(median)", "C3"),
        ("savings_total_median", "savings delivered to the horizon\n(GBP m, median)", "C2"),
        ("support_spent_median", "support spent\n(GBP m, median)", "C0"),
        ("cost_per_additional_authority",
         "support per additional authority\nrunning a mutual vs baseline (GBP m)", "C4"),
    ]
    for ax, (column, label, colour) in zip(axes, panels, strict=True):
        values = (table[column] if column in table else pd.Series(np.nan, index=table.index)).to_numpy(float)
        y = np.arange(len(names))
        ax.barh(y, np.where(np.isfinite(values), values, 0.0), color=colour)
        for k in np.flatnonzero(~np.isfinite(values)):  # a missing value is said, never drawn as zero
            ax.text(0, k, " n/a", va="center", fontsize=8, color="0.4")
        ax.set_yticks(y, names)
        ax.set_xlabel(label)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[1:]:
        ax.tick_params(labelleft=False)
    fig.suptitle(f"Outcomes by policy at {horizon} (same random draws for every policy)")
    return fig


def plot_phase(grid: pd.DataFrame, policy: str = "the policy", ax=None):
    """Probability of critical mass over support intensity (a multiple of ``policy``'s budgets)
    x cut severity, with the 0.5 contour (the tipping boundary) drawn."""
    fig, ax = _axes(ax)
    table = grid.pivot(index="severity", columns="intensity", values="p_critical_mass")
    x, y = table.columns.to_numpy(), table.index.to_numpy()
    mesh = ax.pcolormesh(x, y, table.to_numpy(), vmin=0, vmax=1, cmap="viridis", shading="nearest")
    fig.colorbar(mesh, ax=ax, label="probability of critical mass")
    if table.to_numpy().min() < LIKELY < table.to_numpy().max():
        ax.contour(x, y, table.to_numpy(), levels=[LIKELY], colors="white", linewidths=2)
        ax.plot([], [], color="white", lw=2, label=f"tipping boundary (P = {LIKELY:g})")
        legend = ax.legend(loc="upper right", frameon=True, facecolor="0.3", fontsize=8)
        for text in legend.get_texts():
            text.set_color("white")
    ax.set_xlabel(f"support intensity (multiple of the budgets of {policy})")
    ax.set_ylabel("cut severity (multiple of the actual cuts)")
    return fig


def plot_barrier_curve(barrier: Barrier, years: int, ax=None, label: str = "", colour: str = "C0"):
    """The barrier search's curve: the change of the share of authorities running a mutual over
    ``years`` with no support, against the share at the start, with the barrier (where growth
    turns from negative to positive) marked, or the regime said."""
    fig, ax = _axes(ax)
    curve = barrier.curve
    mark = f"barrier at {barrier.share:.1%}" if barrier.found else f"no barrier ({barrier.regime})"
    ax.plot(100 * curve["initial_share"], 100 * curve["growth"], "o-", color=colour, lw=2, ms=3,
            label=f"{label}: {mark}" if label else mark)
    if barrier.found:
        ax.axvline(100 * barrier.share, color=colour, ls="--", lw=1.5)
    ax.axhline(0, color="C3", lw=1)
    ax.set_xlabel("authorities running a mutual at the start, no support (%)")
    ax.set_ylabel(f"change over {years} years (points)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="best", fontsize=8)
    return fig


def plot_barrier_band(curves: list[pd.DataFrame], shares, ax=None, label: str = "", colour: str = "C0"):
    """The barrier search's curves of many posterior draws (each a :class:`sim.critical.Barrier`'s
    ``curve``) on the common grid ``shares``: their median (dashed) and 10-90% band."""
    fig, ax = _axes(ax)
    grid = np.array([[c.set_index("initial_share")["growth"].get(x, np.nan) for x in shares] for c in curves])
    low, mid, high = np.nanquantile(grid, [0.1, 0.5, 0.9], axis=0)
    x = 100 * np.asarray(shares)
    ax.fill_between(x, 100 * low, 100 * high, color=colour, alpha=0.15, lw=0)
    ax.plot(x, 100 * mid, ls="--", color=colour, lw=1.5, label=label)
    return fig


FIT_PANELS = (
    ("new_spinouts", "new local-authority spin-outs since 2010"),
    ("live_mutuals", "live local-authority mutuals"),
    ("in_preparation", "local-authority projects in preparation"),
)


def plot_fit(table: pd.DataFrame, record, start_year: int, axes=None):
    """The record over the posterior predictive: per panel, the median and the 50% and 90%
    bands of the draws (``table``: particle, replicate, year and measures), with each figure of
    the record: a lognormal one with its 90% error bar (a two-sided all-sector figure as local
    government's share of it), an upper bound as a bar ending in a downward triangle. The draws
    are counted in organisations, as the record counts (services over the table's
    ``services_per_organisation``, where it has one)."""
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), layout="constrained")
    fig = axes[0].figure
    initial = table.loc[table["year"] == start_year].set_index(["particle", "replicate"])["cumulative_spinouts"]
    per = table["services_per_organisation"].to_numpy() if "services_per_organisation" in table else 1.0
    series = {
        "new_spinouts": (table["cumulative_spinouts"].to_numpy() - initial.reindex(
            pd.MultiIndex.from_frame(table[["particle", "replicate"]])).to_numpy()) / per,
        "live_mutuals": table["live_mutuals"].to_numpy() / per,
        "in_preparation": table["in_preparation"].to_numpy() / per,
    }
    for ax, (measure, label) in zip(axes, FIT_PANELS, strict=True):
        q = (pd.DataFrame({"year": table["year"], "x": series[measure]}).groupby("year")["x"]
             .quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack())
        ax.fill_between(q.index, q[0.05], q[0.95], color="C0", alpha=0.18, lw=0, label="90% of draws")
        ax.fill_between(q.index, q[0.25], q[0.75], color="C0", alpha=0.3, lw=0, label="50% of draws")
        ax.plot(q.index, q[0.5], color="C0", lw=2, label="median")
        for o in record.observation:
            if o.measure != measure:
                continue
            if o.error == "lognormal":
                value = o.value * (o.share or 1.0)
                low, high = value * np.exp(-1.645 * o.sigma), value * np.exp(1.645 * o.sigma)
                ax.errorbar([o.date], [value], yerr=[[value - low], [high - value]], fmt="o",
                            color="black" if o.share is None else "C2", capsize=4,
                            label="record (90% error)" if o.share is None
                            else "local government's share of all sectors (90% error)")
            else:
                ax.plot([o.date], [o.value], marker="v", color="C3", ls="none",
                        label="upper bound (all sectors)")
                ax.vlines(o.date, 0, o.value, color="C3", lw=1, alpha=0.6)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("year")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, integer=True))
        ax.set_xlim(start_year, q.index.max())
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    unique = {}
    for ax in axes:  # one legend for the panels, below them: the record's bars reach the top
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            unique.setdefault(label, handle)
    fig.legend(unique.values(), unique.keys(), fontsize=8, frameon=False, loc="outside lower center", ncol=4)
    fig.suptitle("The record against the calibrated model's posterior predictive (historical)")
    return fig


def plot_posterior(posterior: pd.DataFrame, params: dict, correlated: int = 6):
    """Each parameter's weighted posterior histogram against its prior (flat on its scale),
    then the most correlated pairs (weighted correlation) as scatter plots."""
    names = list(params)
    w = posterior["weight"].to_numpy()
    pairs = _correlated_pairs(posterior, names, w)[:correlated]
    cols = 6
    rows = -(-len(names) // cols) + (1 if pairs else 0)
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 1.9 * rows), layout="constrained",
                             squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        u = params[name]
        log = u.scale == "log"
        edges = np.geomspace(u.low, u.high, 16) if log else np.linspace(u.low, u.high, 16)
        ax.hist(posterior[name], bins=edges, weights=w, density=True, color="C0", alpha=0.7)
        if log:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            x = np.geomspace(u.low, u.high, 50)
            ax.plot(x, 1.0 / (x * np.log(u.high / u.low)), color="black", lw=1, ls="--")
        else:
            ax.axhline(1.0 / (u.high - u.low), color="black", lw=1, ls="--")
        ax.set_title(name.split(".", 1)[1] if "." in name else name, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    for ax, (a, b, r) in zip(axes[-1], pairs, strict=False):
        ax.axis("on")
        ax.scatter(posterior[a], posterior[b], s=4 + 200 * w / w.max(), alpha=0.4, color="C1")
        ax.set_xlabel(a.split(".", 1)[1], fontsize=7)
        ax.set_ylabel(b.split(".", 1)[1], fontsize=7)
        ax.set_title(f"r = {r:+.2f}", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle("Posterior (bars) against prior (dashed) of each calibrated parameter"
                 + ("; bottom row: the most correlated pairs" if pairs else ""), fontsize=10)
    return fig


def _correlated_pairs(posterior: pd.DataFrame, names: list[str], w: np.ndarray,
                      threshold: float = 0.2) -> list[tuple[str, str, float]]:
    x = posterior[names].to_numpy()
    mean = w @ x / w.sum()
    cov = ((x - mean) * w[:, None]).T @ (x - mean) / w.sum()
    sd = np.sqrt(np.diag(cov))
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if sd[i] > 0 and sd[j] > 0:
                r = cov[i, j] / (sd[i] * sd[j])
                if abs(r) >= threshold:
                    out.append((names[i], names[j], float(r)))
    return sorted(out, key=lambda t: -abs(t[2]))


# --- the verdict's figures -----------------------------------------------------------------


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


def plot_defaults(defaults: pd.DataFrame, theta: float, cm: int, replicates: int):
    fig, ax = plt.subplots(figsize=(9, 4.8), layout="constrained")
    y = np.arange(len(defaults))
    err = np.vstack([defaults["probability"] - defaults["low"], defaults["high"] - defaults["probability"]])
    colours = ["0.6", "C0", "C2", "C1"] + ["0.75"] * (len(defaults) - 4)
    ax.barh(y, defaults["probability"], xerr=err, capsize=3, color=colours)
    ax.set_yticks(y, defaults["policy"])
    ax.invert_yaxis()
    ax.axvline(LIKELY, color="black", ls=":", lw=1)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel(f"probability that {theta:.0%} of authorities run a mutual by {cm}")
    ax.set_title(f"At the default parameters only (bars: Wilson 95% intervals; {replicates} replicates,\n"
                 "common random numbers); the calibrated answer is in the verdict's text", fontsize=10, loc="right")
    return fig


def plot_structure(barrier: Barrier, curves: pd.DataFrame | None, sustained: Sustained, struct: pd.DataFrame | None,
                   years: int):
    """Left: long-run growth with no support against the initial share (defaults in black,
    posterior particles in grey). Right: how much of the extra mutuals more support left behind
    remain at the horizon, per posterior particle."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    if curves is not None:
        for _, g in curves.groupby("particle"):
            a.plot(100 * g["initial_share"], 100 * g["growth"], color="0.6", lw=0.6, alpha=0.6)
    plot_barrier_curve(barrier, years, ax=a, label="default parameters", colour="black")
    a.set_title("Is there a critical-mass barrier?\n(a barrier: growth turns from negative to positive)",
                fontsize=10)
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


def plot_sensitivity(indices: pd.DataFrame, answers: dict[str, str], top: int = 10):
    """Given-data first-order indices under the posterior (:mod:`sim.sensitivity`): per answer,
    the ``top`` inputs with their 95% intervals, the dummy input's upper bound dashed (an index
    below it is indistinguishable from none)."""
    from .sensitivity import DUMMY

    fig, axes = plt.subplots(1, len(answers), figsize=(14, 4.8), layout="constrained")
    for ax, (key, title) in zip(np.atleast_1d(axes), answers.items(), strict=True):
        mine = indices[indices["answer"] == key]
        s = mine[mine["input"] != DUMMY].nlargest(top, "index")[::-1]
        y = np.arange(len(s))
        ax.barh(y, s["index"], xerr=[s["index"] - s["low"], s["high"] - s["index"]], color="C0", alpha=0.7)
        ax.axvline(float(mine.loc[mine["input"] == DUMMY, "high"].iloc[0]), color="C3", ls="--", lw=1)
        ax.set_yticks(y, s["input"], fontsize=8)
        ax.set_title(wrapped(title, 2.8, 9), fontsize=9)
        ax.set_xlabel("first-order index (share of variance)")
    fig.suptitle("What decides each answer under the posterior: bars, 95% intervals; dashed red, the dummy input's "
                 "upper bound (an index left of it is indistinguishable from none)", fontsize=10)
    return fig


DEFINITION_WORDS = {"threshold": "critical-mass threshold", "year": "by the end of year",
                    "base_year": "'little' measured from", "unit": "what is counted", "population": "authorities"}


def plot_definitions(table: pd.DataFrame):
    """Each part of the claim's probability as one definition at a time changes (``table``:
    :func:`sim.definitions.definitions`), the verdict's own definition ringed, even odds dashed."""
    from .definitions import PARTS, POPULATIONS, UNIT_WORDS

    words = {"little_without": "P(little happens), without additional support",
             "slow_without": "P(critical mass), without additional support (the part holds below even odds)",
             "built_with": "P(critical mass), with more and better support"}

    names = list(dict.fromkeys(table["definition"]))
    fig, axes = plt.subplots(1, len(names), figsize=(2.9 * len(names), 3.6), sharey=True, layout="constrained",
                             squeeze=False)
    short = {"share_with_mutual": "authorities", "mutuals_per_authority": "mutuals", "share_of_services": "services"}
    for ax, name in zip(axes[0], names, strict=True):
        g = table[table["definition"] == name].reset_index(drop=True)
        x = np.arange(len(g))
        for k, part in enumerate(PARTS):
            ax.plot(x, g[part], "o-", color=f"C{k}", ms=3, lw=1.2, label=words[part])
            base = g.index[g["base"]]
            ax.plot(x[base], g.loc[base, part], "o", ms=8, mfc="none", color="black")
        label = {"threshold": lambda v: f"{float(v):.0%}", "unit": short.get,
                 "population": lambda v: str(POPULATIONS[v])}.get(name, str)
        labels = [label(v) for v in g["value"]]
        step = max(1, len(x) // 5)
        ax.set_xticks(x[::step], labels[::step], fontsize=8)
        ax.axhline(LIKELY, color="black", ls="--", lw=0.8)
        ax.set_xlabel(DEFINITION_WORDS.get(name, name), fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("probability, under the posterior")
    axes[0][0].set_ylim(-0.02, 1.02)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(wrapped("The claim's parts as one definition at a time changes (ringed: the verdict's own; "
                          f"units: {'; '.join(UNIT_WORDS.values())})", 2.9 * len(names), 10), fontsize=10)
    return fig


def plot_pareto(front: pd.DataFrame, references: pd.DataFrame, year: int):
    """The packages of the front: cost against P(critical mass), coloured by the share of what
    they built still live at the horizon; the Committee's policies marked."""
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    points = ax.scatter(front["cost"], front["p_critical_mass"], c=front["kept_2030"], cmap="viridis",
                        vmin=0, vmax=1, s=30, edgecolors="black", linewidths=0.4, label="packages on the front")
    fig.colorbar(points, ax=ax, label="share of the extra mutuals still live at the horizon")
    for (_, r), marker in zip(references.iterrows(), "s^Dv", strict=False):
        ax.scatter(r["cost"], r["p_critical_mass"], marker=marker, s=70, color="C3", label=r["policy"])
    ax.set_xlabel("money spent beyond December 2012's support (GBP m)")
    ax.set_ylabel(f"P(critical mass by {year})")
    ax.set_ylim(-0.02, 1.25)  # headroom: the legend sits above the points
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=2)
    ax.set_title(wrapped("The cheapest support packages found: cost against the chance of critical mass", 7, 11),
                 fontsize=11)
    return fig


def plot_levers(front: pd.DataFrame, names: list[str], ranges: dict[str, tuple[float, float]]):
    """The front's packages in parallel coordinates: every lever scaled to its range, then cost
    and P, each package a line coloured by its P."""
    columns = [*names, "cost", "p_critical_mass"]
    spans = {**ranges, "cost": (front["cost"].min(), front["cost"].max() or 1.0), "p_critical_mass": (0.0, 1.0)}
    scaled = np.array([[(r[c] - spans[c][0]) / ((spans[c][1] - spans[c][0]) or 1.0) for c in columns]
                       for _, r in front.iterrows()]).reshape(len(front), len(columns))
    fig, ax = plt.subplots(figsize=(max(8.0, 0.55 * len(columns)), 5), layout="constrained")
    colours = plt.get_cmap("viridis")(front["p_critical_mass"].to_numpy())
    for row, colour in zip(scaled, colours, strict=True):
        ax.plot(range(len(columns)), row, color=colour, alpha=0.7, lw=1.2)
    ax.set_xticks(range(len(columns)), [c.replace("_", " ") for c in columns], fontsize=7, rotation=90,
                  ha="right", rotation_mode="anchor")
    ax.set_ylabel("share of the lever's range (cost: of the front's)")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3, axis="x")
    ax.set_title("The packages of the front, lever by lever (colour: P(critical mass))", fontsize=11)
    return fig


def plot_convergence(convergence: pd.DataFrame):
    """Epsilon progress and hypervolume (against the merged front) by evaluations, per seed."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for seed, g in convergence.groupby("seed"):
        axes[0].plot(g["nfe"], g["epsilon_progress"], "o-", ms=3, label=f"seed {seed}")
        axes[1].plot(g["nfe"], g["hypervolume"], "o-", ms=3, label=f"seed {seed}")
    axes[0].set_ylabel("epsilon progress (archive improvements)")
    axes[1].set_ylabel("hypervolume (against the merged front)")
    for ax in axes:
        ax.set_xlabel("function evaluations (NFE)")
        ax.grid(alpha=0.3)
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle("Convergence of the search", fontsize=11)
    return fig
