"""Wilson intervals, critical mass both ways, the tipping point, the comparison and the verdict."""

import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import sim
from sim.analysis import wilson_interval
from sim.critical import bisect, find_barrier, self_sustaining, tipping_point, unsupported_growth, without_support
from sim.loading import load_scenario
from sim.overrides import with_overrides

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


def more_support() -> sim.Scenario:
    from sim.verdict import combine

    return combine(load_scenario(SCENARIOS / "december_2012.toml"), load_scenario(SCENARIOS / "joined_up.toml"),
                   "more")


NO_PEER_LEARNING = {"behaviour.peer_weight": 0.0, "behaviour.national_weight": 0.0}


def test_self_sustaining_can_fail_on_constructed_cases():
    more = more_support()
    # nobody learns from anyone else's mutuals, and mutuals fail or lose their contracts: what
    # the support built erodes once it ends
    erodes = self_sustaining(with_overrides(more, NO_PEER_LEARNING), withdraw=2020, replicates=40)
    assert erodes.gap_at_drain > 0 and not erodes.sustaining and erodes.interval[1] < 1
    # strong learning from others, pessimistic priors to learn from, no failures, no contracts
    # that end: the extra mutuals draw further adoptions
    strong = {"behaviour.peer_weight": 0.5, "behaviour.national_weight": 0.05, "behaviour.prior_mean": 0.3,
              "mutuals.failure_given_struggle": 0.0, "mutuals.contract_years": 0.0}
    grows = self_sustaining(with_overrides(more, strong), withdraw=2020, replicates=40)
    assert grows.sustaining and grows.interval[0] > 1 and grows.exits == 0
    # no support ever: nothing to sustain, however uptake grows (it does, from the cuts alone)
    baseline = self_sustaining(load_scenario(SCENARIOS / "baseline.toml"), withdraw=2020, replicates=40)
    assert baseline.gap_at_drain == 0 and not baseline.sustaining and baseline.adoptions > 0
    assert "not self-sustaining" in str(baseline) and "not self-sustaining" in str(erodes)


def _ode_growth(rate, years: float = 20.0, dt: float = 0.01):
    """Long-run growth of a one-variable uptake model ds/dt = rate(s), Euler-integrated."""
    def growth(s0: float) -> float:
        s = s0
        for _ in range(int(years / dt)):
            s += dt * rate(s)
        return s - s0
    return growth


GRID = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4)


def test_the_barrier_search_finds_a_known_unstable_equilibrium():
    # a threshold model with a critical share of 12%: below it uptake dies out, above it grows
    found = find_barrier(_ode_growth(lambda s: 2 * s * (s - 0.12) * (1 - s)), GRID, tol=1e-4)
    assert found.regime == "barrier" and found.refined and found.crossings == 1
    assert_allclose(found.share, 0.12, atol=2e-3)
    # two critical shares: the highest upward crossing is reported, interpolated
    two = find_barrier(lambda s: float(np.interp(s, GRID, [0, -1, 1, -1, 1, 1, 1, 1, 1])), GRID)
    assert two.crossings == 2 and not two.refined
    assert_allclose(two.share, 0.075)  # halfway between 0.05 (-1) and 0.1 (+1)


def test_the_barrier_search_finds_none_for_bass_diffusion():
    bass = find_barrier(_ode_growth(lambda s: (0.03 + 0.38 * s) * (1 - s)), GRID)
    assert not bass.found and bass.regime == "grows"
    # and the agent model's Bass docking case, searched through the simulator
    model = find_barrier(unsupported_growth(BASS, replicates=10), GRID)
    assert not model.found and model.regime == "grows" and (model.curve["growth"] > 0).all()
    # where every mutual fails and nobody adopts, uptake declines from every start: no barrier
    dies = with_overrides(BASS, {"behaviour.p": 0.0, "behaviour.q": 0.0, "mutuals.failure_given_struggle": 1.0,
                                 "mutuals.viability": 0.5})
    assert find_barrier(unsupported_growth(dies, replicates=5), GRID).regime == "declines"


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


def _summary(text: str) -> str:
    return text.split("## Summary", 1)[1].split("\n## ", 1)[0]


@pytest.mark.slow
def test_the_verdict_numbers_match_its_tables(tmp_path, capsys):
    from sim.cli import main
    from sim.discovery import PARTS, parts, uncertain_parameters

    out = tmp_path / "v"
    assert main(["verdict", "--out", str(out), "--replicates", "40", "--lhs", "60", "--lhs-replicates", "4",
                 "--sobol", "2", "--seed", "2"]) == 0
    text = (out / "verdict.md").read_text()
    summary = _summary(text)
    defaults = pd.read_csv(out / "defaults.csv")
    none, more = defaults.iloc[1], defaults.iloc[2]
    assert "Answered at the default parameters" in summary
    got = [float(x) for x in re.findall(r"P\(16% by 2020\) is ([\d.]+) \(95% CI ([\d.]+)-([\d.]+)\)", summary)[0]
           + re.findall(r"P\(16% by 2020\) is ([\d.]+) \(95% CI ([\d.]+)-([\d.]+)\)", summary)[1]]
    assert_allclose(got, [none["probability"], none["low"], none["high"], more["probability"], more["low"],
                          more["high"]], atol=0.005)
    little = float(re.search(r"points is ([\d.]+)", summary).group(1))
    assert_allclose(little, none["p_little"], atol=0.005)
    holds = (none["p_little"] >= 0.5) and (none["probability"] < 0.5) and (more["probability"] >= 0.5)
    assert f"the claim **{'holds' if holds else 'does not hold'}**" in text
    # the prior's points: every uncertain parameter varied, the parts computed from the outcomes
    lhs = pd.read_csv(out / "lhs.csv", index_col="design_row")
    assert len(lhs) == 60 and set(uncertain_parameters()) <= set(lhs.columns)
    pd.testing.assert_frame_equal(lhs[list(PARTS)], parts(lhs, 0.16))
    boxes = pd.read_csv(out / "prim_boxes.csv")
    assert set(boxes["part"]) <= set(PARTS) and boxes["density"].between(0, 1).all()
    sobol = pd.read_csv(out / "sobol.csv")
    assert list(sobol["parameter"]) == list(uncertain_parameters())
    for name in ("defaults.png", "structure.png", "sobol.png", "manifest.json"):
        assert (out / name).exists(), name


def test_the_verdicts_uncertain_parameters_come_from_schema_metadata():
    from sim.discovery import uncertain_parameters
    from sim.scenario import uncertainties

    params = uncertain_parameters()
    # the list: support effects, viability and the Right to Challenge rate included, the
    # cuts (known) not; dropping a field's plausible range drops it here and fails this test
    assert {"mutuals.viability", "support.right_to_challenge.rate", "support.grants.per_spinout",
            "support.advice.cost_reduction", "support.evidence.visibility", "support.tested_models.cost_reduction",
            "support.barriers.risk_reduction", "behaviour.alternative_savings_rate"} <= set(params)
    assert "fiscal.severity" not in params
    assert len(params) == 48 and set(params) == {p for p in uncertainties() if not p.startswith("fiscal.")}


@pytest.mark.slow
def test_the_verdict_under_a_posterior_reports_its_table(tmp_path):
    from sim.cli import main
    from sim.scenario import uncertainties

    # a toy posterior of two particles: the verdict draws from it by weight
    paths = [p for p in uncertainties(("behaviour.",)) if p in ("behaviour.review_rate", "behaviour.temperature")]
    posterior = pd.DataFrame({paths[0]: [0.05, 0.14], paths[1]: [0.5, 1.5], "weight": [0.5, 0.5]})
    posterior.to_parquet(tmp_path / "posterior.parquet")
    out = tmp_path / "v"
    assert main(["verdict", "--out", str(out), "--replicates", "20", "--lhs", "30", "--lhs-replicates",
                 "3", "--sobol", "2", "--seed", "2", "--posterior", str(tmp_path / "posterior.parquet"),
                 "--posterior-particles", "6", "--posterior-replicates", "3", "--structure-particles", "3",
                 "--structure-replicates", "4"]) == 0
    table = pd.read_csv(out / "posterior.csv")
    assert list(table["particles"]) == [6, 6, 6] and list(table["replicates"]) == [3, 3, 3]
    assert "December 2012" in table.loc[0, "policy"] and "historical" in table.loc[2, "policy"]
    text = (out / "verdict.md").read_text()
    summary = _summary(text)
    assert "Answered under the calibrated posterior" in summary
    found = re.findall(r"P\(16% by 2020\) is ([\d.]+) \(95% CI ([\d.]+)-([\d.]+);", summary)
    assert_allclose([float(g) for g in found[0] + found[1]],
                    table.loc[[0, 1], ["probability", "low", "high"]].to_numpy(dtype=float).ravel(), atol=0.005)
    little = pd.read_csv(out / "posterior_little.csv")
    assert_allclose(float(re.search(r"points is ([\d.]+)", summary).group(1)), little.loc[0, "p_little"], atol=0.005)
    structure = pd.read_csv(out / "posterior_structure.csv")
    assert len(structure) == 3 and set(structure["regime"]) <= {"barrier", "grows", "declines"}
    assert_allclose(float(re.search(r"P\(self-sustaining\) is ([\d.]+)", summary).group(1)),
                    structure["sustaining"].mean(), atol=0.005)
    assert_allclose(float(re.search(r"P\(barrier\) is ([\d.]+)", summary).group(1)),
                    (structure["regime"] == "barrier").mean(), atol=0.005)
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
    assert set(levels["year"]) == {2012, 2015, 2020, 2025} and "under the calibrated posterior" in text
    assert (out / "posterior_threshold_by_year.png").exists()
    # a file that is not a posterior is refused before any work
    (tmp_path / "bad.parquet").write_text("not parquet")
    assert main(["verdict", "--out", str(tmp_path / "w"), "--posterior", str(tmp_path / "bad.parquet")]) == 2
    assert not (tmp_path / "w").exists()
