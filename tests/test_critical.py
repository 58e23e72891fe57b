"""Wilson intervals, critical mass both ways, the tipping point, the comparison and the verdict."""

import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import sim
from sim.analysis import wilson_interval
from sim.critical import bisect, self_sustaining, tipping_point, without_support
from sim.scenario import load_scenario, with_overrides

from .conftest import SCENARIOS

BASS = load_scenario(SCENARIOS / "validation" / "bass.toml")


def test_wilson_interval_known_values():
    # Newcombe (1998), table I, and the closed form: 95% intervals
    low, high = wilson_interval(np.array([0, 5, 10, 81]), np.array([10, 10, 10, 263]))
    assert_allclose(low, [0.0, 0.2366, 0.7225, 0.2553], atol=5e-4)
    assert_allclose(high, [0.2775, 0.7634, 1.0, 0.3662], atol=5e-4)


def test_bisection_finds_a_known_root():
    assert_allclose(bisect(lambda x: x - 0.3, 0.0, 1.0, 1e-6), 0.3, atol=1e-6)
    assert bisect(lambda x: x + 1, 0.0, 1.0, 1e-3) == 0.0  # always
    assert bisect(lambda x: x - 5, 0.0, 1.0, 1e-3) == 1.0  # never


def test_tipping_point_of_pure_imitation_is_one_authority():
    # p = 0, q > 0, no failures: with no adopter nothing can happen; from one adopter, imitation
    # always grows. The smallest share that gives one authority is 0.5 / 353 (rounding).
    s = with_overrides(BASS, {"behaviour.p": 0.0})
    tip = tipping_point(s, window=3, replicates=50, tol=1e-4)
    assert tip.found
    assert 0.5 / 353 - 1e-4 <= tip.median <= 1.5 / 353 + 1e-4
    assert tip.curve.loc[tip.curve["initial_share"] == 0.0, "p_growth"].item() == 0.0


def test_no_tipping_point_where_nobody_can_adopt():
    s = with_overrides(BASS, {"behaviour.p": 0.0, "behaviour.q": 0.0,
                              "mutuals.failure_given_struggle": 1.0, "mutuals.viability": 0.5})
    tip = tipping_point(s, window=3, replicates=30)
    assert not tip.found and tip.median == 0.3


def test_self_sustaining_on_constructed_cases():
    grows = with_overrides(BASS, {"behaviour.p": 0.0, "population.initial_adopters": 0.05})
    assert self_sustaining(grows, withdraw=2012, window=3, replicates=50).value == 1.0
    dies = with_overrides(BASS, {"behaviour.p": 0.0, "behaviour.q": 0.0,
                                 "population.initial_adopters": 0.3,
                                 "mutuals.failure_given_struggle": 1.0, "mutuals.viability": 0.5})
    assert self_sustaining(dies, withdraw=2012, window=3, replicates=50).value == 0.0


def test_withdrawing_support_ends_every_instrument():
    joined = load_scenario(SCENARIOS / "joined_up.toml")
    cut = without_support(joined, 2016.0)
    frame = sim.simulate(cut, replicates=3, seed=1, engine="ensemble")
    assert frame.loc[frame["year"] > 2016, "support_spent"].max() == 0
    assert frame.loc[frame["year"] == 2015, "support_spent"].min() > 0
    none = sim.simulate(without_support(joined), replicates=3, seed=1, engine="ensemble")
    assert none["support_spent"].max() == 0


def test_comparison_uses_the_same_seeds_for_every_policy(tmp_path, capsys):
    from sim.cli import main

    paths = [str(SCENARIOS / f"{n}.toml") for n in ("baseline", "grants", "joined_up")]
    assert main(["compare", *paths, "--replicates", "30", "--seed", "3",
                 "--out", str(tmp_path / "c")]) == 0
    folder = tmp_path / "c"
    for name in ("uptake.png", "critical_mass_by_year.png", "critical_mass_bars.png",
                 "outcomes.png", "comparison.csv", "comparison.md", "manifest.json"):
        assert (folder / name).exists(), name
    frame = pd.read_parquet(folder / "timeseries.parquet")
    for name in ("baseline", "grants", "joined_up"):
        alone = sim.simulate(load_scenario(SCENARIOS / f"{name}.toml"), replicates=30, seed=3,
                             engine="ensemble")
        mine = frame[frame["scenario"] == name].reset_index(drop=True)
        np.testing.assert_array_equal(mine["share_with_mutual"], alone["share_with_mutual"])
    table = pd.read_csv(folder / "comparison.csv")
    assert table.loc[table["scenario"] == "baseline", "support_spent_median"].item() == 0
    assert table.loc[table["scenario"] == "joined_up", "cost_per_additional_authority"].item() > 0


@pytest.mark.slow
def test_the_verdict_numbers_match_its_tables(tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "v"
    assert main(["verdict", "--out", str(out), "--replicates", "40", "--lhs", "24",
                 "--lhs-replicates", "8", "--seed", "2"]) == 0
    text = (out / "verdict.md").read_text()
    defaults = pd.read_csv(out / "defaults.csv")
    lhs = pd.read_csv(out / "lhs.csv")
    none = defaults.iloc[1]
    more = defaults.iloc[2]
    summary = re.search(r"is ([\d.]+) \(95% CI ([\d.]+)-([\d.]+)\) without additional support "
                        r"and ([\d.]+) \(95% CI ([\d.]+)-([\d.]+)\) with", text)
    assert summary, text
    got = [float(g) for g in summary.groups()]
    assert_allclose(got, [none["probability"], none["low"], none["high"], more["probability"],
                          more["low"], more["high"]], atol=0.005)
    holds = re.search(r"the claim holds at (\d+) points", text)
    assert int(holds.group(1)) == int(lhs["holds"].sum())
    assert (lhs["holds"] == ((lhs["p_none"] < 0.5) & (lhs["p_more"] >= 0.5))).all()
    verdict = "holds" if none["probability"] < 0.5 <= more["probability"] else "does not hold"
    assert f"the claim **{verdict}**" in text
    assert len(lhs) == 24 and (out / "defaults.png").exists() and (out / "lhs.png").exists()


@pytest.mark.slow
def test_the_verdict_under_a_posterior_reports_its_table(tmp_path):
    from sim.cli import main
    from sim.scenario import uncertainties

    # a toy posterior of two particles: the verdict draws from it by weight
    paths = [p for p in uncertainties(("behaviour.",)) if p in ("behaviour.review_rate", "behaviour.temperature")]
    posterior = pd.DataFrame({paths[0]: [0.05, 0.14], paths[1]: [0.5, 1.5], "weight": [0.5, 0.5]})
    posterior.to_parquet(tmp_path / "posterior.parquet")
    out = tmp_path / "v"
    assert main(["verdict", "--out", str(out), "--replicates", "20", "--lhs", "8", "--lhs-replicates",
                 "4", "--seed", "2", "--posterior", str(tmp_path / "posterior.parquet"),
                 "--posterior-particles", "6", "--posterior-replicates", "3"]) == 0
    table = pd.read_csv(out / "posterior.csv")
    assert list(table["particles"]) == [6, 6, 6] and list(table["replicates"]) == [3, 3, 3]
    assert "December 2012" in table.loc[0, "policy"] and "historical" in table.loc[2, "policy"]
    text = (out / "verdict.md").read_text()
    found = re.search(r"Under the posterior .* is ([\d.]+) \(95% CI ([\d.]+)-([\d.]+);", text)
    assert found, text
    assert_allclose([float(g) for g in found.groups()],
                    table.loc[0, ["probability", "low", "high"]].to_numpy(dtype=float), atol=0.005)
    # the claim's parts come from the same draws: P(16% by 2020) is the same number
    grid = pd.read_csv(out / "posterior_p_threshold.csv")
    at = grid[np.isclose(grid["threshold"], 0.16) & (grid["year"] == 2020)].set_index("policy")
    assert_allclose(at.loc[table["policy"], "probability"].to_numpy(), table["probability"].to_numpy())
    # probabilities never fall with the year, nor rise with the threshold
    for _, g in grid.groupby("policy"):
        m = g.pivot(index="threshold", columns="year", values="probability").to_numpy()
        assert (np.diff(m, axis=1) >= 0).all() and (np.diff(m, axis=0) <= 0).all()
    time = pd.read_csv(out / "posterior_time.csv")
    assert time.loc[0, "years_gained_median"] == 0  # the first policy against itself
    levels = pd.read_csv(out / "posterior_levels.csv")
    assert set(levels["year"]) == {2012, 2015, 2020, 2025} and "The claim's parts" in text
    assert (out / "posterior_threshold_by_year.png").exists()
    # a file that is not a posterior is refused before any work
    (tmp_path / "bad.parquet").write_text("not parquet")
    assert main(["verdict", "--out", str(tmp_path / "w"), "--posterior", str(tmp_path / "bad.parquet")]) == 2
    assert not (tmp_path / "w").exists()
