"""Commands under a calibrated posterior: particles drawn by weight, common random numbers across
policies, honest intervals, bad posteriors refused before any work."""

import json

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis import wilson_interval
from sim.cli import main
from sim.compare import run_policies
from sim.overrides import switched_off, with_overrides
from sim.posterior import draws, probability, replaced, run_draws

from .conftest import SCENARIOS

BASE = sim.load_scenario(SCENARIOS / "baseline.toml")
DEC = sim.load_scenario(SCENARIOS / "december_2012.toml")


def _posterior() -> pd.DataFrame:
    """Four particles, one of them weightless, in two structures."""
    return pd.DataFrame({"model": ["extended", "extended", "structure of 2014", "extended"],
                         "behaviour.savings_rate": [0.05, 0.14, 0.10, 0.08],
                         "population.risk_aversion": [0.4, 0.6, 0.5, 0.3],
                         "weight": [0.5, 0.2, 0.3, 0.0]})


def test_draws_are_by_weight_and_carry_each_structure_switched_off():
    d = draws(_posterior(), DEC, 400, 2, seed=1)
    assert d.n == 400 and 3 not in d.particle  # the weightless particle is never drawn
    assert np.bincount(d.particle, minlength=4)[:3] / 400 == pytest.approx([0.5, 0.2, 0.3], abs=0.07)
    off = switched_off("structure of 2014")
    late = d.design[d.particle == 2].iloc[0]
    assert all(late[k] == v for k, v in off.items())
    kept = d.design[d.particle == 0].iloc[0]  # the extended structure keeps the scenario's own values
    assert all(kept[k] == float(sim.fields.descend(DEC, k.split("."), getattr)) for k in off)
    assert d.ess == pytest.approx(1 / (0.25 + 0.04 + 0.09))
    again = draws(_posterior(), DEC, 400, 2, seed=1)
    assert (again.particle == d.particle).all() and again.design.equals(d.design)


def test_every_policy_runs_the_same_draws_on_the_same_seeds():
    d = draws(_posterior(), DEC, 6, 3, seed=2)
    twin = with_overrides(DEC, {"name": "twin"})
    frame = run_policies([DEC, twin], 0, 5, draws=d)
    a, b = (frame[frame["scenario"] == n].drop(columns="scenario").reset_index(drop=True)
            for n in ("december_2012", "twin"))
    pd.testing.assert_frame_equal(a, b)  # the policy is the only difference
    assert sorted(a["replicate"].unique()) == list(range(18)) and set(a["draw"]) == set(range(6))
    # draw i is its particle on the seeds of root seed + i
    i = 4
    alone = sim.simulate(with_overrides(DEC, d.design.iloc[i].to_dict()), replicates=3, seed=5 + i)
    mine = a[a["draw"] == i].reset_index(drop=True)
    np.testing.assert_array_equal(mine["share_with_mutual"].to_numpy(), alone["share_with_mutual"].to_numpy())


def test_a_probability_under_draws_is_no_narrower_than_the_posterior_allows():
    d = draws(_posterior(), DEC, 40, 4, seed=3)
    frame = run_draws(DEC, d, 1)
    hit = (frame[frame["year"] == 2030].set_index(["draw", "replicate"])["share_with_mutual"] >= 0.05)
    p, low, high = probability(hit, d.ess)
    wide_low, wide_high = wilson_interval(p * d.ess, d.ess)
    assert low <= min(p, wide_low) + 1e-12 and high >= max(p, wide_high) - 1e-12
    plain = probability(hit.droplevel("draw").reset_index(drop=True))  # as if 160 independent replicates
    assert high - low > plain[2] - plain[1]


def test_replaced_names_what_the_posterior_overrides():
    cautious = sim.load_scenario(SCENARIOS / "cautious.toml")
    d = draws(_posterior(), cautious, 4, 1, seed=1)
    assert replaced(cautious, d) == ["population.risk_aversion = 0.75"]
    assert replaced(BASE, d) == []


@pytest.fixture
def posterior_file(tmp_path):
    path = tmp_path / "posterior.parquet"
    _posterior().to_parquet(path)
    return path


@pytest.mark.slow
def test_compare_tipping_phase_and_run_under_a_posterior_name_it_and_do_not_depend_on_workers(posterior_file,
                                                                                              tmp_path):
    common = ["--posterior", str(posterior_file), "--draws", "5", "--replicates", "2", "--seed", "3"]
    policies = [str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "december_2012.toml")]
    assert main(["compare", *policies, *common, "--out", str(tmp_path / "c1")]) == 0
    assert main(["compare", *policies, *common, "--workers", "2", "--out", str(tmp_path / "c2")]) == 0
    one, two = (pd.read_csv(tmp_path / c / "comparison.csv") for c in ("c1", "c2"))
    pd.testing.assert_frame_equal(one, two)
    manifest = json.loads((tmp_path / "c1" / "manifest.json").read_text())
    assert manifest["posterior_file"] == str(posterior_file) and manifest["draws"] == 5
    assert manifest["posterior"] == sim.results.file_digest(posterior_file)
    assert "5 posterior draws x 2 replicates" in (tmp_path / "c1" / "comparison.md").read_text()
    assert (one["replicates"] == 10).all()

    assert main(["tipping", policies[0], *common, "--out", str(tmp_path / "t")]) == 0
    (t,) = json.loads((tmp_path / "t" / "tipping.json").read_text())
    assert t["posterior"]["draws"] == 5 and sum(t["posterior"]["regimes"].values()) == pytest.approx(1)
    assert len(pd.read_csv(tmp_path / "t" / "barriers_baseline.csv")) == 5

    assert main(["phase", str(SCENARIOS / "joined_up.toml"), "--steps", "2", *common,
                 "--out", str(tmp_path / "p")]) == 0
    grid = pd.read_csv(tmp_path / "p" / "phase.csv")
    assert len(grid) == 4 and (grid["replicates"] == 10).all() and (grid["low"] <= grid["p_critical_mass"]).all()

    assert main(["run", policies[1], *common, "--out", str(tmp_path / "r")]) == 0
    summary = pd.read_csv(tmp_path / "r" / "december_2012" / "summary.csv")
    assert summary["replicates"].iloc[0] == 10


@pytest.mark.parametrize("table, words", [
    (pd.DataFrame({"behaviour.savings_rate": [0.1]}), "no particles with a 'weight' column"),
    (pd.DataFrame({"behaviour.savings_rat": [0.1], "weight": [1.0]}), "unknown parameter(s) behaviour.savings_rat"),
    (pd.DataFrame({"behaviour.savings_rate": [7.0], "weight": [1.0]}), "behaviour.savings_rate"),
])
def test_a_bad_posterior_is_refused_before_any_work(table, words, tmp_path, capsys):
    path = tmp_path / "bad.parquet"
    table.to_parquet(path)
    out = tmp_path / "out"
    assert main(["compare", str(SCENARIOS / "baseline.toml"), "--posterior", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and str(path) in err and "Traceback" not in err
    assert not out.exists()


def test_the_mesa_engine_is_refused_under_a_posterior(posterior_file, tmp_path, capsys):
    assert main(["run", str(SCENARIOS / "baseline.toml"), "--engine", "mesa", "--posterior", str(posterior_file),
                 "--out", str(tmp_path)]) == 2
    assert "--posterior" in capsys.readouterr().err
