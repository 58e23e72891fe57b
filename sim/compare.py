"""Policies side by side on common random numbers: tables and figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .analysis import critical_mass_by_year, year_quantile, year_reached
from .dynamics import support_budget
from .evaluator import Evaluator
from .plots import plot_critical_mass_bars, plot_critical_mass_by_year, plot_outcomes, plot_policies, plot_uptake
from .posterior import Draws, probability, run_draws, run_keys
from .scenario import Scenario
from .simulation import simulate


@dataclass(frozen=True)
class _Policy:
    """One policy's tidy table (an evaluator's task function)."""

    replicates: int
    seed: int

    def __call__(self, scenario: Scenario) -> pd.DataFrame:
        return simulate(scenario, replicates=self.replicates, seed=self.seed, engine="ensemble")


def run_policies(scenarios: list[Scenario], replicates: int, seed: int, evaluator: Evaluator | None = None,
                 progress: bool = False, draws: Draws | None = None) -> pd.DataFrame:
    """One tidy table for every scenario, all on the same replicate seeds, each run by
    ``evaluator`` (this process by default); under posterior ``draws`` (:mod:`sim.posterior`),
    every scenario on the same draws and seeds (``replicates`` is then ignored: the draws carry
    theirs)."""
    evaluator = evaluator or Evaluator()
    if draws is None:
        frames = evaluator.map(_Policy(replicates, seed), scenarios, "policies" if progress else None)
    else:
        frames = [run_draws(s, draws, seed, evaluator, progress) for s in scenarios]
    frame = pd.concat(frames, ignore_index=True)
    frame["scenario"] = pd.Categorical(frame["scenario"], [s.name for s in scenarios])
    return frame


def comparison_table(frame: pd.DataFrame, run, reference: str = "baseline",
                     budgets: dict[str, float] | None = None, ess: float | None = None) -> pd.DataFrame:
    """Per scenario: uptake at the critical-mass year and the horizon, probability of critical
    mass (95% interval: :func:`sim.posterior.probability`, with ``ess`` the effective sample size
    of a posterior the frame was run under), failures, savings, support spent (beside its
    budget, from ``budgets`` by scenario, where given), and the cost per additional adopting
    authority against ``reference`` (paired by replicate: common random numbers)."""
    theta, cm_year = run.critical_mass_threshold, run.critical_mass_year
    horizon = int(frame["year"].max())
    at = frame[frame["year"] == horizon].set_index(["scenario", "replicate"])
    totals = frame.groupby(["scenario", "replicate"], observed=True)[["savings"]].sum()
    reached = year_reached(frame, theta, by=run_keys(frame, "scenario"))
    ref = at.loc[reference] if reference in at.index.get_level_values(0) else None
    rows = []
    for name in frame["scenario"].cat.categories:
        last = at.loc[name]
        share_cm = frame.loc[(frame["scenario"] == name) & (frame["year"] == cm_year), "share_with_mutual"]
        r = reached.loc[name]
        p, low, high = probability(r <= cm_year, ess)
        ph, lowh, highh = probability(r.notna(), ess)
        spent = last["cumulative_support_spent"]
        row = {
            "scenario": name,
            f"share_{cm_year}_median": share_cm.median(),
            f"share_{cm_year}_p10": share_cm.quantile(0.1),
            f"share_{cm_year}_p90": share_cm.quantile(0.9),
            f"share_{horizon}_median": last["share_with_mutual"].median(),
            f"share_{horizon}_p10": last["share_with_mutual"].quantile(0.1),
            f"share_{horizon}_p90": last["share_with_mutual"].quantile(0.9),
            f"p_critical_mass_{cm_year}": p, f"p_critical_mass_{cm_year}_low": low,
            f"p_critical_mass_{cm_year}_high": high,
            f"p_critical_mass_{horizon}": ph, f"p_critical_mass_{horizon}_low": lowh,
            f"p_critical_mass_{horizon}_high": highh,
            "median_year_reached": year_quantile(r, 0.5, horizon),
            "failures_median": last["failures"].median(),
            "savings_total_median": totals.loc[name, "savings"].median(),
            "support_spent_median": spent.median(),
            "support_budget": (budgets or {}).get(name, np.nan),
            "replicates": len(r),
        }
        if ref is not None:
            extra = (last["authorities_with_mutual"] - ref["authorities_with_mutual"]).mean()
            row["additional_authorities_mean"] = extra
            row["cost_per_additional_authority"] = (spent.mean() / extra
                                                    if extra > 0 and spent.mean() > 0 else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def markdown_table(table: pd.DataFrame, run, horizon: int, over: str = "") -> str:
    """The comparison as a Markdown table (medians and 10-90%, probabilities with their 95%
    intervals, over ``over`` if given)."""
    cm = run.critical_mass_year
    lines = [f"Medians and 10-90% ranges, probabilities with 95% intervals, over {over} on common random "
             "numbers.\n"] if over else []
    lines += [f"| policy | share {cm} | share {horizon} | P(critical mass by {cm}) | failures "
             f"{horizon} | savings GBP m | support spent GBP m | support budget GBP m | extra authorities | "
             "GBP m per extra |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        cost = r.get("cost_per_additional_authority", np.nan)
        lines.append(
            f"| {r['scenario']} | {r[f'share_{cm}_median']:.1%} ({r[f'share_{cm}_p10']:.1%}-"
            f"{r[f'share_{cm}_p90']:.1%}) | {r[f'share_{horizon}_median']:.1%} "
            f"({r[f'share_{horizon}_p10']:.1%}-{r[f'share_{horizon}_p90']:.1%}) | "
            f"{r[f'p_critical_mass_{cm}']:.2f} ({r[f'p_critical_mass_{cm}_low']:.2f}-"
            f"{r[f'p_critical_mass_{cm}_high']:.2f}) | {r['failures_median']:.0f} | "
            f"{r['savings_total_median']:.0f} | {r['support_spent_median']:.1f} | {r['support_budget']:.1f} | "
            f"{r.get('additional_authorities_mean', np.nan):.1f} | "
            f"{'-' if not np.isfinite(cost) else f'{cost:.2f}'} |")
    return "\n".join(lines) + "\n"


def write_comparison(frame: pd.DataFrame, run, folder: Path, scenarios=None,
                     draws: Draws | None = None) -> pd.DataFrame:
    """Figures and tables of a comparison into ``folder`` (which must exist); with the
    ``scenarios`` compared, uptake is drawn as small multiples with their support marked; under
    posterior ``draws``, every band and probability is over them."""
    horizon = int(frame["year"].max())
    ess = None if draws is None else draws.ess
    over = f"{frame['replicate'].nunique()} replicates" if draws is None else draws.words()
    table = comparison_table(frame, run, budgets={s.name: support_budget(s) for s in scenarios or []}, ess=ess)
    table.to_csv(folder / "comparison.csv", index=False)
    (folder / "comparison.md").write_text(markdown_table(table, run, horizon, over), encoding="utf-8")
    by_year = critical_mass_by_year(frame, run.critical_mass_threshold, ess)
    by_year.to_csv(folder / "critical_mass_by_year.csv", index=False)
    figures = {
        "uptake.png": (plot_policies(frame, scenarios, run.critical_mass_threshold, over=over) if scenarios else
                       plot_uptake(frame, run.critical_mass_threshold,
                                   title=f"Uptake by policy: median and 10-90% of {over} "
                                         "(common random numbers)")),
        "critical_mass_by_year.png": plot_critical_mass_by_year(by_year, run.critical_mass_threshold),
        "critical_mass_bars.png": plot_critical_mass_bars(table, run.critical_mass_year, horizon,
                                                          run.critical_mass_threshold),
        "outcomes.png": plot_outcomes(table, horizon),
    }
    for name, fig in figures.items():
        fig.savefig(folder / name, dpi=120)
        plt.close(fig)
    return table
