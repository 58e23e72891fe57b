"""Plots are functions of tidy results: they take ``ax=`` and return the figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from .analysis import bands


def _axes(ax):
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    return ax.figure, ax


def plot_uptake(frame: pd.DataFrame, threshold: float | None = None, ax=None,
                measure: str = "share_with_mutual", title: str | None = None):
    """Share of authorities running a mutual over time: median and 10-90% band per scenario."""
    fig, ax = _axes(ax)
    b = bands(frame, measure)
    percent = measure == "share_with_mutual"
    k = 100.0 if percent else 1.0
    for i, (name, g) in enumerate(b.groupby("scenario", observed=True, sort=False)):
        colour = f"C{i % 10}"
        ax.fill_between(g["year"], k * g["low"], k * g["high"], color=colour, alpha=0.18, lw=0)
        ax.plot(g["year"], k * g["median"], color=colour, lw=2, label=str(name))
    if threshold is not None and percent:
        ax.axhline(k * threshold, color="black", ls="--", lw=1)
        ax.annotate(f"critical mass threshold ({threshold:.0%})", (b["year"].min(), k * threshold),
                    xytext=(2, 3), textcoords="offset points", fontsize=8)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel("authorities running a mutual (%)" if percent else measure.replace("_", " "))
    ax.set_title(title or "Uptake: median and 10-90% of replicates")
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def plot_critical_mass_by_year(by_year: pd.DataFrame, threshold: float, ax=None):
    """Probability that the threshold has been reached, by year, per scenario (Wilson 95% band)."""
    fig, ax = _axes(ax)
    for i, (name, g) in enumerate(by_year.groupby("scenario", observed=True, sort=False)):
        colour = f"C{i % 10}"
        ax.fill_between(g["year"], g["low"], g["high"], color=colour, alpha=0.15, lw=0)
        ax.plot(g["year"], g["probability"], color=colour, lw=2, label=str(name))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("year")
    ax.set_ylabel(f"probability that {threshold:.0%} of authorities\nrun a mutual by this year")
    ax.set_title("Probability of critical mass by year (shaded: Wilson 95% interval)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def plot_critical_mass_bars(table: pd.DataFrame, year: int, horizon: int, threshold: float,
                            ax=None):
    """Probability of critical mass by ``year`` and by the horizon, as bars with Wilson 95%
    intervals."""
    fig, ax = _axes(ax)
    x = np.arange(len(table))
    for k, (y, colour) in enumerate(((year, "C0"), (horizon, "C1"))):
        p = table[f"p_critical_mass_{y}"].to_numpy()
        err = np.vstack([p - table[f"p_critical_mass_{y}_low"], table[f"p_critical_mass_{y}_high"] - p])
        ax.bar(x + (k - 0.5) * 0.38, p, 0.38, yerr=err, capsize=3, color=colour,
               label=f"by {y}")
    ax.set_xticks(x, table["scenario"], rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"probability that {threshold:.0%} of\nauthorities run a mutual")
    ax.set_title("Probability of critical mass (bars: Wilson 95% intervals)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(frameon=False)
    return fig


def plot_outcomes(table: pd.DataFrame, horizon: int):
    """Failures, savings, support spent and cost per additional adopting authority by policy."""
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.2), layout="constrained")
    names = table["scenario"].astype(str)
    panels = [
        ("failures_median", f"mutuals failed by {horizon}\n(median)", "C3"),
        ("savings_total_median", "savings delivered to the horizon\n(GBP m, median)", "C2"),
        ("support_spent_median", "support spent\n(GBP m, median)", "C0"),
        ("cost_per_additional_authority",
         "support per additional authority\nrunning a mutual vs baseline (GBP m)", "C4"),
    ]
    for ax, (column, label, colour) in zip(axes, panels, strict=True):
        values = table[column] if column in table else np.full(len(table), np.nan)
        ax.barh(names, np.nan_to_num(values), color=colour)
        ax.set_xlabel(label)
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[1:]:
        ax.tick_params(labelleft=False)
    fig.suptitle(f"Outcomes by policy at {horizon} (same random draws for every policy)")
    return fig


def plot_phase(grid: pd.DataFrame, ax=None):
    """Probability of critical mass over support intensity x cut severity, with the 0.5 contour
    (the tipping boundary) drawn."""
    fig, ax = _axes(ax)
    table = grid.pivot(index="severity", columns="intensity", values="p_critical_mass")
    x, y = table.columns.to_numpy(), table.index.to_numpy()
    mesh = ax.pcolormesh(x, y, table.to_numpy(), vmin=0, vmax=1, cmap="viridis", shading="nearest")
    fig.colorbar(mesh, ax=ax, label="probability of critical mass")
    if table.to_numpy().min() < 0.5 < table.to_numpy().max():
        ax.contour(x, y, table.to_numpy(), levels=[0.5], colors="white", linewidths=2)
        ax.plot([], [], color="white", lw=2, label="tipping boundary (P = 0.5)")
        legend = ax.legend(loc="upper right", frameon=True, facecolor="0.3", fontsize=8)
        for text in legend.get_texts():
            text.set_color("white")
    ax.set_xlabel("support intensity (multiple of the joined-up policy's budgets)")
    ax.set_ylabel("cut severity (multiple of the actual cuts)")
    return fig


def plot_growth_curve(curve: pd.DataFrame, tipping: float | None, ax=None, label: str = "",
                      colour: str = "C0"):
    """Probability that uptake grows with no support, by initial share of adopters, with the
    tipping point (where it reaches 0.5) marked."""
    fig, ax = _axes(ax)
    ax.fill_between(100 * curve["initial_share"], curve["low"], curve["high"], color=colour,
                    alpha=0.2, lw=0)
    mark = f"tipping point {tipping:.1%}" if tipping is not None else "no tipping point"
    ax.plot(100 * curve["initial_share"], curve["p_growth"], "o-", color=colour, lw=2,
            label=f"{label}: {mark}" if label else mark)
    if tipping is not None:
        ax.axvline(100 * tipping, color=colour, ls="--", lw=1.5)
    ax.axhline(0.5, color="black", ls=":", lw=1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("authorities already running a mutual at the start, no support (%)")
    ax.set_ylabel("probability that live mutuals\ngrow over the next 5 years")
    ax.set_title("Does uptake sustain itself? (shaded: Wilson 95% interval)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="lower right")
    return fig
