"""Support packages as levers, and the many-objective search for the cheapest robust one."""

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.design import DURATION, START, YEARLY_CAP, Lever, check, committed, fundable, levers, package, search
from sim.dynamics import support_budget
from sim.errors import ScenarioError

from .conftest import SCENARIOS

DEC = sim.load_scenario(SCENARIOS / "december_2012.toml")


def test_levers_come_from_the_registry_and_a_package_adds_one_window_each():
    names = fundable(DEC)
    assert set(names) == {"grants", "advice", "evidence", "tested_models", "barriers"}  # not the Right to Challenge
    assert [lv.name for lv in levers(DEC)][:3] == ["grants__budget", "grants__start", "grants__duration"]
    values = {"grants__budget": 2.0, "grants__start": 2015, "grants__duration": 3,
              "advice__budget": 1.5, "advice__start": 2013, "advice__duration": 2}
    s = package(DEC, values)
    extra = support_budget(s) - support_budget(DEC)
    assert extra == pytest.approx(committed(values, names)) == pytest.approx(2.0 * 3 + 1.5 * 2)
    grants = [w for w in s.support.grants.windows() if w.label == "package"]
    assert [(w.start, w.end, w.budget) for w in grants] == [(2015, 2018, 6.0)]
    assert s.support.right_to_challenge == DEC.support.right_to_challenge
    assert package(DEC, {}).support == DEC.support  # nothing beyond December 2012


@pytest.mark.parametrize("values, words", [
    ({"grants__budget": YEARLY_CAP + 1}, f"allowed a number from 0 to {YEARLY_CAP:g}"),
    ({"grants__start": START[0] - 1}, f"allowed a whole number from {START[0]} to {START[1]}"),
    ({"grants__duration": 2.5}, f"allowed a whole number from {DURATION[0]} to {DURATION[1]}"),
    ({"right_to_challenge__budget": 1.0}, "unknown lever 'right_to_challenge__budget'"),
])
def test_a_bad_lever_is_refused_naming_it(values, words):
    with pytest.raises(ScenarioError, match="package") as err:
        check(DEC, values)
    assert words in str(err.value)


class _Toy:
    """A toy problem with a known front: cost x, P = min(1, 2x); packages past x = 0.5 cost more
    for no more P, so the front is x in [0, 0.5]."""

    calls = 0

    def __call__(self, **values):
        x = float(values["x__budget"])
        p = min(1.0, 2 * x)
        return dict(cost=x, p_critical_mass=p, p_critical_mass_p10=p, kept_2030=0.0)


def test_the_search_finds_a_known_front(tmp_path):
    toy = [Lever("x", "budget", 0.0, 1.0, False)]
    fine = {"cost": 0.02, "p_critical_mass": 0.02, "p_critical_mass_p10": 0.02, "kept_2030": 0.05}
    found = search(_Toy(), toy, nfe=400, seeds=(1, 2), work=tmp_path, convergence_every=100, population=20,
                   epsilons=fine)
    x = found.front["x__budget"].to_numpy()
    assert (x <= 0.5 + 0.02).all()  # nothing dominated on the front
    assert x.min() < 0.05 and x.max() > 0.45  # and it spans the front
    assert set(found.convergence["seed"]) == {1, 2}
    assert found.convergence["hypervolume"].iloc[-1] > 0


@pytest.mark.slow
def test_design_writes_its_front_the_same_whatever_the_workers(tmp_path, capsys):
    posterior = tmp_path / "posterior.parquet"
    pd.DataFrame({"behaviour.savings_rate": [0.08, 0.12], "weight": [0.5, 0.5]}).to_parquet(posterior)
    args = ["design", "--posterior", str(posterior), "--nfe", "20", "--population", "10", "--draws", "3",
            "--replicates", "1", "--seeds", "2"]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--workers", "2", "--out", str(tmp_path / "two")]) == 0
    one, two = (pd.read_csv(tmp_path / d / "pareto.csv") for d in ("one", "two"))
    pd.testing.assert_frame_equal(one, two)
    assert {"grants.budget", "cost", "p_critical_mass", "p_critical_mass_p10", "kept_2030"} <= set(one.columns)
    assert one["cost"].is_monotonic_increasing and np.isfinite(one["p_critical_mass"]).all()
    refs = pd.read_csv(tmp_path / "one" / "references.csv").set_index("policy")
    assert refs.loc["december_2012", "cost"] == 0 and refs.loc["december_2012", "kept_2030"] == 0
    text = (tmp_path / "one" / "design.md").read_text()
    assert "## The cheapest package at each level" in text and "december_2012 + joined_up" in text
    for name in ("pareto.png", "levers.png", "convergence.png", "manifest.json", "convergence.csv"):
        assert (tmp_path / "one" / name).exists()


def test_design_refuses_a_bad_posterior_before_any_work(tmp_path, capsys):
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"x": [1.0]}).to_parquet(bad)
    assert main(["design", "--posterior", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "weight" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_packages_scored_together_on_set_up_draws_score_as_each_run_alone(tmp_path):
    """The search's fast path (draws set up once and run to 2012, packages batched and spread
    over workers) gives exactly the score of each package run on its own through run_draws."""
    from sim.design import Objectives, score
    from sim.evaluator import Evaluator
    from sim.posterior import draws, run_draws

    posterior = pd.read_parquet(SCENARIOS.parent / "tests" / "data" / "toy_posterior.parquet")
    d = draws(posterior, DEC, 4, 2, 7)
    packages = [{}, {"grants__budget": 3.0, "grants__start": 2013, "grants__duration": 4},
                {"advice__budget": 20.0, "advice__start": 2016, "advice__duration": 2, "barriers__budget": 5.0}]
    with Evaluator(2) as ev:
        got = Objectives(DEC, d, 11, ev, store=tmp_path / "scored.jsonl", per_task=1).many(packages)
    reference = run_draws(DEC, d, 11)
    for values, scores in zip(packages, got, strict=True):
        assert scores == score(run_draws(package(DEC, values), d, 11), reference, DEC.run)
    assert got[0]["cost"] == 0 and got[2]["cost"] > got[1]["cost"] > 0
    # made again on the same store, the objectives replay the scores and run nothing
    again = Objectives(DEC, d, 11, store=tmp_path / "scored.jsonl")
    again.evaluator = None  # any run would fail
    assert again.many(packages) == got


@pytest.mark.slow
def test_an_interrupted_design_resumes_where_it_stopped_and_writes_the_same_front(tmp_path, monkeypatch, capsys):
    import sim.design as design

    posterior = tmp_path / "posterior.parquet"
    pd.DataFrame({"behaviour.savings_rate": [0.08, 0.12], "weight": [0.5, 0.5]}).to_parquet(posterior)
    args = ["design", "--posterior", str(posterior), "--nfe", "30", "--population", "10", "--draws", "3",
            "--replicates", "1", "--seeds", "2", "--rescore-draws", "4", "--rescore-replicates", "1"]
    real = design._Score.__call__
    calls: list[int] = []  # packages scored, task by task

    def counted(self, packages, stop=None):
        if len(calls) == stop:
            raise KeyboardInterrupt
        calls.append(len(packages))
        return real(self, packages)

    monkeypatch.setattr(design._Score, "__call__", counted)
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    whole, calls[:] = sum(calls), []
    monkeypatch.setattr(design._Score, "__call__", lambda self, packages: counted(self, packages, stop=3))
    out = tmp_path / "cut"
    assert main([*args, "--out", str(out)]) == 130
    assert not out.exists() and (tmp_path / ".cut.work" / "scored.jsonl").exists()
    before, calls[:] = sum(calls), []
    assert main([*args, "--out", str(out)]) == 2  # neither --resume nor --overwrite: refused
    assert "--resume" in capsys.readouterr().err
    monkeypatch.setattr(design._Score, "__call__", counted)
    assert main([*args, "--resume", "--out", str(out)]) == 0
    assert f"{before} packages already scored" in capsys.readouterr().err
    assert 0 < before and sum(calls) == whole - before  # what was scored is not scored again
    pd.testing.assert_frame_equal(pd.read_csv(out / "pareto.csv"), pd.read_csv(tmp_path / "whole" / "pareto.csv"))
    assert not (tmp_path / ".cut.work").exists()  # the work folder goes once the design is written
