"""Wilson intervals, critical mass both ways, the tipping point, the comparison and the verdict."""


import json
import re

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import sim
from sim.analysis import wilson_interval
from sim.critical import (
    barrier_search,
    bisect,
    find_barrier,
    self_sustaining,
    tipping,
    tipping_words,
    unsupported_growth,
    without_support,
    write_tipping,
)
from sim.loading import load_scenario
from sim.overrides import with_overrides

from .conftest import ROOT, SCENARIOS

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


def test_mutuals_tipping_is_the_verdicts_barrier_search_and_says_never_as_null(tmp_path):
    # the verdict's structure() and mutuals tipping run the one search; where no barrier is
    # found, tipping.json has null, not the top of the range, and names the regime
    grows = with_overrides(BASS, {"behaviour.p": 0.03})
    dies = with_overrides(BASS, {"behaviour.p": 0.0, "behaviour.q": 0.0,
                                 "mutuals.failure_given_struggle": 1.0, "mutuals.viability": 0.5})
    found = tipping([grows, dies], replicates=4, seed=2)
    for t, scenario in zip(found, (grows, dies), strict=True):
        again = barrier_search(scenario, replicates=4, seed=2)
        assert t.barrier.curve.equals(again.curve) and t.barrier.share == again.share
    write_tipping(found, tmp_path, 4)
    listed = json.loads((tmp_path / "tipping.json").read_text())
    assert [r["regime"] for r in listed] == ["grows", "declines"]
    assert [r["barrier"] for r in listed] == [None, None]
    assert "no barrier" in tipping_words(found[0]) and "declines" in tipping_words(found[1])


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


def _verdict(**kw):
    from sim import verdict as vd
    from sim.loading import load_scenario

    scenarios = {name: load_scenario(path) for name, path in vd.scenario_files(SCENARIOS).items()}
    return vd.verdict(scenarios, seed=2, **kw)


def _answer_from(part: str, probability: float) -> bool:
    """The claim's own words, written out here: a test of sim.claim.answer."""
    return probability < 0.5 if part == "slow_without" else probability >= 0.5


@pytest.mark.slow
def test_the_verdict_numbers_match_its_tables(tmp_path):
    from sim import claim
    from sim.discovery import PARTS, parts, uncertain_parameters
    from sim.verdict import MORE, NONE, POLICIES, write_verdict

    v = _verdict(replicates=40, lhs_points=60, lhs_replicates=4, sobol_points=2)
    none, more = v.defaults.loc[POLICIES[NONE]], v.defaults.loc[POLICIES[MORE]]
    assert v.view == "at the default parameters" and v.posterior is None
    a = v.answers
    assert list(a) == list(claim.PARTS)
    assert (a["slow_without"].probability, a["built_with"].probability, a["little_without"].probability) == (
        none["probability"], more["probability"], none["p_little"])
    for part, answer in a.items():
        assert answer.answer == _answer_from(part, answer.probability), part
    assert a["slow_without"].interval == f"95% CI {none['low']:.2f}-{none['high']:.2f}"
    holds = (none["p_little"] >= 0.5) and (none["probability"] < 0.5) and (more["probability"] >= 0.5)
    assert v.holds == holds
    # the prior's points: every uncertain parameter varied, the parts computed from the outcomes
    assert len(v.lhs) == 60 and set(uncertain_parameters()) <= set(v.lhs.columns)
    pd.testing.assert_frame_equal(v.lhs[list(PARTS)], parts(v.lhs))
    assert list(v.sobol["parameter"]) == list(uncertain_parameters())
    # written: the tables are the object's, the report says what the object says
    out = tmp_path / "v"
    out.mkdir()
    write_verdict(v, out)
    pd.testing.assert_frame_equal(pd.read_csv(out / "defaults.csv").set_index("policy"), v.defaults,
                                  check_exact=False, rtol=1e-12)
    boxes = pd.read_csv(out / "prim_boxes.csv")
    assert set(boxes["part"]) <= set(PARTS) and boxes["density"].between(0, 1).all()
    text = (out / "verdict.md").read_text()
    assert f"the claim **{'holds' if holds else 'does not hold'}**" in text
    assert all(answer.sentence in text for answer in a.values())
    for name in ("defaults.png", "structure.png", "sobol.png", "lhs.csv", "sobol.csv", "barrier_defaults.csv"):
        assert (out / name).exists(), name
    assert claim.COMMITTEE in text and committee_names(text)


def committee_names(text: str) -> list[str]:
    """Every committee a text names (the capitalised words before "Committee"), each checked to
    be :data:`sim.claim.COMMITTEE`."""
    from sim import claim

    names = [n.strip() for n in re.findall(r"((?:(?:[A-Z][a-z]+|and|of) )+)Committee\b", text)]
    names = [n for n in names if n not in ("The", "the")]
    wrong = [n for n in names if not f"{n} Committee".endswith(claim.COMMITTEE)]
    assert not wrong, f"committee names other than {claim.COMMITTEE!r}: {wrong}"
    return names


def test_every_committee_named_is_the_one_that_made_the_claim():
    # what a reader is shown (the ODD's reference list also cites the Committee of Public Accounts)
    documents = [ROOT / "README.md", *(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "sim").glob("*.py")]
    found = [n for path in documents for n in committee_names(path.read_text(encoding="utf-8"))]
    assert found  # the README names it
    with pytest.raises(AssertionError, match="Public Administration"):
        committee_names("The Public Administration Select Committee (HC 112)")


def test_discovery_and_the_verdict_answer_each_part_alike():
    """One definition of each answer: a point whose outcomes are the verdict's probabilities gets
    the verdict's answers from scenario discovery, on both sides of every cut-off."""
    from sim import claim, discovery

    for p_little, p_without, p_with in ((0.2, 0.7, 0.3), (0.5, 0.49, 0.5), (0.9, 0.1, 0.95), (0.49, 0.5, 0.51)):
        point = pd.DataFrame({"p_little": [p_little], "p_without": [p_without], "p_with": [p_with]})
        got = discovery.parts(point).iloc[0]
        verdict = {"little_without": p_little, "slow_without": p_without, "built_with": p_with}
        for part, probability in verdict.items():
            assert got[part] == _answer_from(part, probability) == claim.answer(part, probability), part
        assert got["holds"] == all(_answer_from(k, p) for k, p in verdict.items())


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
    assert len(params) == 55 and set(params) == {p for p in uncertainties() if not p.startswith("fiscal.")}


@pytest.mark.slow
def test_the_verdict_under_a_posterior_reports_its_table(tmp_path):
    from sim.averaging import AVERAGED
    from sim.cli import main
    from sim.scenario import uncertainties
    from sim.verdict import HISTORICAL, MORE, NONE, POLICIES, agreement, write_verdict

    # a toy posterior of three weighted particles in two structures, all of them run
    paths = [p for p in uncertainties(("behaviour.",)) if p in ("behaviour.review_rate", "behaviour.temperature")]
    posterior = pd.DataFrame({"model": ["extended", "extended", "structure of 2014"], paths[0]: [0.05, 0.14, 0.1],
                              paths[1]: [0.5, 1.5, 1.0], "weight": [0.5, 0.2, 0.3]})
    v = _verdict(replicates=20, lhs_points=30, lhs_replicates=3, sobol_points=0, posterior=posterior,
                 posterior_particles=6, posterior_replicates=3, structure_particles=4, structure_replicates=4)
    assert v.sobol is None and v.sizes["sobol_points"] == 0  # --sobol 0: the prior's Sobol sample skipped
    table = v.posterior.calibrated.set_index("policy")
    assert list(table.index) == [POLICIES[k] for k in (NONE, MORE, HISTORICAL)]
    assert list(table["particles"]) == [3, 3, 3] and list(table["replicates"]) == [3, 3, 3]
    assert v.posterior.distinct == 3 and v.posterior.ess == pytest.approx(1 / (0.25 + 0.04 + 0.09))
    # every interval holds its probability and is no narrower than the posterior's ESS allows
    for r in table.to_dict("records"):
        low, high = wilson_interval(r["probability"] * v.posterior.ess, v.posterior.ess)
        assert r["low"] <= min(low, r["probability"]) and r["high"] >= max(high, r["probability"])
        assert r["mc_error"] >= 0 and r["ess"] == pytest.approx(v.posterior.ess)
    # per structure and averaged: the average is the structures' weighted by their probabilities
    st = v.posterior.structures.set_index("structure")
    assert list(st.index) == ["extended", "structure of 2014", AVERAGED]
    assert_allclose(st["probability"].to_numpy(), [0.7, 0.3, 1.0])
    for part in ("little_without", "slow_without", "built_with"):
        each = st.loc[["extended", "structure of 2014"], part].to_numpy()
        assert_allclose(st.loc[AVERAGED, part], 0.7 * each[0] + 0.3 * each[1])
        assert_allclose(v.answers[part].probability, st.loc[AVERAGED, part])
        assert agreement(st.reset_index(), part) in (0.0, 0.3, 0.7, 1.0)
    for part in ("self_sustaining", "barrier"):
        assert_allclose(v.answers[part].probability, st.loc[AVERAGED, part])
    # the definitions: the verdict's own row gives the verdict's answers; each varied one at a time
    from sim.definitions import VARIED, changed

    d = v.posterior.definitions
    assert set(d["definition"]) == set(VARIED) and d.groupby("definition").size().to_dict() == {
        k: len(vals) for k, vals in VARIED.items()}
    own = d[d["base"]]
    assert len(own) == len(VARIED)  # one per definition, all the same numbers
    for part in ("little_without", "slow_without", "built_with"):
        assert_allclose(own[part].to_numpy(), v.answers[part].probability)
        # a higher threshold never makes critical mass likelier, nor a later year less likely
        th = d[d["definition"] == "threshold"][part].to_numpy()
        yr = d[d["definition"] == "year"][part].to_numpy()
        if part != "little_without":
            assert (np.diff(th) <= 1e-12).all() and (np.diff(yr) >= -1e-12).all()
    assert (own["changes"] == "").all()
    assert all(isinstance(x, list) for x in changed(d).values())
    a = v.answers
    assert v.view == "under the calibrated posterior"
    for part, key in (("slow_without", NONE), ("built_with", MORE)):
        r = table.loc[POLICIES[key]]
        assert a[part].probability == r["probability"]
        assert a[part].interval.startswith(f"Monte Carlo error {r['mc_error']:.2f}, 95% interval "
                                           f"{r['low']:.2f}-{r['high']:.2f}, 3 distinct particles;")
    little = v.posterior.little.set_index("policy").loc[POLICIES[NONE]]
    assert a["little_without"].probability == little["p_little"]
    structure = v.posterior.structure
    assert len(structure) == v.posterior.distinct_structure <= 3
    assert set(structure["regime"]) <= {"barrier", "grows", "declines"}
    w = structure["weight"] / structure["weight"].sum()
    assert_allclose(a["self_sustaining"].probability, (w * structure["sustaining"]).sum())
    assert_allclose(a["barrier"].probability, (w * (structure["regime"] == "barrier")).sum())
    for part, answer in a.items():
        assert answer.answer == _answer_from(part, answer.probability), part
    # the claim's parts come from the same draws: P(16% by 2020) is the same number
    grid = v.posterior.parts["p_threshold"]
    at = grid[np.isclose(grid["threshold"], 0.16) & (grid["year"] == 2020)].set_index("policy")
    assert_allclose(at.loc[table.index, "probability"].to_numpy(), table["probability"].to_numpy())
    # probabilities never fall with the year, nor rise with the threshold
    for _, g in grid.groupby("policy"):
        m = g.pivot(index="threshold", columns="year", values="probability").to_numpy()
        assert (np.diff(m, axis=1) >= 0).all() and (np.diff(m, axis=0) <= 0).all()
    time = v.posterior.parts["time"]
    assert time.loc[0, "years_gained_median"] == 0  # the first policy against itself
    assert set(v.posterior.parts["levels"]["year"]) == {2012, 2014, 2015, 2017, 2020, 2025}
    out = tmp_path / "v"
    out.mkdir()
    write_verdict(v, out)
    for name in ("posterior.csv", "posterior_little.csv", "posterior_structure.csv", "posterior_p_threshold.csv",
                 "posterior_time.csv", "posterior_levels.csv", "posterior_threshold_by_year.png", "structures.csv",
                 "definitions.csv", "definitions.png"):
        assert (out / name).exists(), name
    written = pd.read_csv(out / "structures.csv")
    assert list(written.columns[:2]) == ["structure", "probability"] and set(sim.claim.PARTS) <= set(written.columns)
    text = (out / "verdict.md").read_text()
    assert "Which structure carries the answer" in text and "## What the record after 2014 says" in text
    levels = v.posterior.parts["levels"].set_index(["policy", "year"])
    assert f"{levels.loc[(POLICIES[HISTORICAL], 2017), 'median']:.1%} in 2017" in text
    assert "year(s)" not in text and "Not computed in this run (`--sobol 0`)" in text
    assert not (out / "sobol.csv").exists()
    # a file that is not a posterior is refused before any work
    (tmp_path / "bad.parquet").write_text("not parquet")
    assert main(["verdict", "--out", str(tmp_path / "w"), "--posterior", str(tmp_path / "bad.parquet")]) == 2
    assert not (tmp_path / "w").exists()


@pytest.mark.slow
def test_the_verdict_command_writes_its_folder_and_the_readme(tmp_path, capsys):
    from sim.cli import main
    from sim.verdict import README_END, README_START

    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{README_START}\nstale summary\n{README_END}\nkept\n")
    out = tmp_path / "v"
    args = ["verdict", "--out", str(out), "--replicates", "20", "--lhs", "20", "--lhs-replicates", "2",
            "--sobol", "2", "--seed", "2", "--readme", str(readme)]
    assert main([*args, "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    text = readme.read_text()
    assert "stale summary" not in text and text.endswith(f"{README_END}\nkept\n") and "Answered at the default" in text
    assert "Without it, is critical mass (16%) unlikely by 2020?" in printed
    first = pd.read_csv(out / "lhs.csv")
    # the same numbers on a local Dask cluster; the same configuration may replace its own folder
    assert main([*args, "--dask-local", "2"]) == 0
    pd.testing.assert_frame_equal(first, pd.read_csv(out / "lhs.csv"))


def test_an_answer_is_settled_only_when_its_interval_lies_on_one_side_of_even_odds():
    from sim.verdict import Answer

    def answer(low, high):
        return Answer("slow_without", "", True, 0.4, "", "", "", "", low, high)

    assert answer(0.10, 0.45).settled and answer(0.50, 0.90).settled
    assert not answer(0.37, 0.66).settled and not answer(np.nan, np.nan).settled
