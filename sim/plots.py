"""Plots are functions of tidy results: they take ``ax=`` and return the figure."""

from __future__ import annotations

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .analysis import bands  # noqa: E402


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
