"""The seeded regression baseline: key measures of every shipped scenario, committed in
``tests/data/regression.csv`` and compared exactly by ``tests/test_regression.py``.

Changing it is a deliberate, reviewed act: ``make regression-baseline`` (``python -m
tests.regression``) rewrites the file from the current code, and the diff shows what moved.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import sim

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tests" / "data" / "regression.csv"
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml")) + sorted((ROOT / "scenarios" / "validation").glob("*.toml"))
SEED, REPLICATES, YEARS = 20260101, 8, (2012, 2015, 2020, 2030)
MEASURES = ("share_with_mutual", "live_mutuals", "cumulative_spinouts", "in_preparation", "failures",
            "lost_contracts", "alternative_delivery", "cumulative_support_spent")


def key_measures(scenario: sim.Scenario) -> pd.DataFrame:
    """Means over :data:`REPLICATES` seeded replicates of :data:`MEASURES` in :data:`YEARS`."""
    frame = sim.simulate(scenario, replicates=REPLICATES, seed=SEED, engine="ensemble")
    years = frame[frame["year"].isin(YEARS)].groupby("year")[list(MEASURES)].mean()
    return years.reset_index().assign(scenario=scenario.name)[["scenario", "year", *MEASURES]]


def table(paths=SHIPPED) -> pd.DataFrame:
    return pd.concat([key_measures(sim.load_scenario(p)) for p in paths], ignore_index=True)


def differences(expected: pd.DataFrame, got: pd.DataFrame) -> list[str]:
    """Every (scenario, year, measure) whose value is not exactly the baseline's."""
    keys = ["scenario", "year"]
    merged = expected.merge(got, on=keys, how="outer", suffixes=("_expected", "_got"), indicator="where")
    out = [f"{r.scenario} {r.year}: only in the {'baseline' if r.where == 'left_only' else 'run'}"
           for r in merged.itertuples() if r.where != "both"]
    for m in MEASURES:
        a, b = merged[f"{m}_expected"], merged[f"{m}_got"]
        for i in merged.index[(a != b) & (merged["where"] == "both")]:
            out.append(f"{merged.at[i, 'scenario']} {merged.at[i, 'year']} {m}: {a[i]!r} -> {b[i]!r}")
    return out


def read() -> pd.DataFrame:
    return pd.read_csv(BASELINE)  # pandas reads %.17g floats back exactly


def write() -> None:
    table().to_csv(BASELINE, index=False, float_format="%.17g")


if __name__ == "__main__":
    write()
    print(f"wrote {BASELINE.relative_to(ROOT)}; review its diff before committing it")
