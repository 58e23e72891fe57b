"""Designs, executors and resuming: the same table whatever runs it."""

import numpy as np
import pandas as pd
import pytest

import sim.experiments as ex
from sim.evaluator import Evaluator
from sim.loading import load_scenario

from .conftest import SCENARIOS

BASELINE = load_scenario(SCENARIOS / "baseline.toml")
DESIGN = ex.full_factorial({"fiscal.severity": [0.5, 1.5], "behaviour.memory": [0.7, 0.9]})


def test_designs_have_the_rows_asked_for():
    grid = ex.full_factorial({"a": np.linspace(0, 1, 3), "b": [1, 2], "c": [5, 6, 7, 8]})
    assert len(grid) == 24 and len(grid.drop_duplicates()) == 24
    lhs = ex.latin_hypercube({"fiscal.severity": (0.0, 2.0), "behaviour.memory": (0.7, 0.95)}, 50, 3)
    assert len(lhs) == 50
    # one point in each of the 50 strata of every parameter
    strata = np.floor((lhs["fiscal.severity"] - 0.0) / 2.0 * 50).astype(int)
    assert sorted(strata) == list(range(50))
    assert lhs.equals(ex.latin_hypercube({"fiscal.severity": (0.0, 2.0),
                                          "behaviour.memory": (0.7, 0.95)}, 50, 3))


def _run(tmp_path, name, evaluator=None, **kw):
    return ex.run_design(BASELINE, DESIGN, 12, 5, chunks=tmp_path / name, progress=False, evaluator=evaluator, **kw)


@pytest.mark.slow
def test_identical_whatever_the_executor_workers_or_chunks(tmp_path):
    reference = _run(tmp_path, "one", chunk=12)
    assert len(reference) == 4 * 12 * 21
    assert reference["replicate"].nunique() == 12 and reference["design_row"].nunique() == 4
    for name, (kw, chunk) in {"chunks": ({}, 5), "pool": (dict(workers=2), 4),
                              "dask": (dict(dask_local=2), 6)}.items():
        with Evaluator(**kw) as evaluator:
            pd.testing.assert_frame_equal(reference, _run(tmp_path, name, evaluator, chunk=chunk), check_exact=True)
    # an existing cluster named by its address: its workers send their tables back
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Evaluator(scheduler=cluster.scheduler_address) as remote:
        assert not remote.shares_files
        by_address = _run(tmp_path, "address", remote, chunk=5)
    pd.testing.assert_frame_equal(reference, by_address, check_exact=True)
    # a design row differs from another, and each row's parameters are in the table
    rows = reference.groupby("design_row")["share_with_mutual"].mean()
    assert rows.nunique() == 4
    assert set(reference["fiscal.severity"]) == {0.5, 1.5}


@pytest.mark.slow
def test_a_run_spread_over_workers_is_the_same_table(tmp_path):
    """run_replicates (mutuals run --workers / --dask-local / --scheduler) gives simulate's table."""
    import sim
    from sim.cli import main

    reference = sim.simulate(BASELINE, replicates=30, seed=4, engine="ensemble")
    with Evaluator(workers=2) as pool:
        pd.testing.assert_frame_equal(reference, ex.run_replicates(BASELINE, 30, 4, evaluator=pool), check_exact=True)
    with Evaluator(dask_local=2) as cluster:
        assert cluster.client.status == "running" and cluster.size == 2
        spread = ex.run_replicates(BASELINE, 30, 4, evaluator=cluster, chunk=7)
    assert cluster.client.status == "closed"
    pd.testing.assert_frame_equal(reference, spread, check_exact=True)
    assert main(["run", str(SCENARIOS / "baseline.toml"), "--replicates", "30", "--seed", "4",
                 "--workers", "2", "--out", str(tmp_path)]) == 0
    pd.testing.assert_frame_equal(reference, pd.read_parquet(tmp_path / "baseline" / "timeseries.parquet"),
                                  check_exact=True)


def test_resume_after_an_interruption_gives_the_same_table(tmp_path, monkeypatch):
    whole = _run(tmp_path, "whole", chunk=4)
    out = tmp_path / "broken"
    calls = []
    real = ex.evaluate

    def flaky(scenario, overrides, seed, task):
        if len(calls) == 5:
            raise KeyboardInterrupt  # the user pressed Ctrl-C after five tasks
        calls.append(task)
        return real(scenario, overrides, seed, task)

    monkeypatch.setattr(ex, "evaluate", flaky)
    with pytest.raises(KeyboardInterrupt):
        ex.run_design(BASELINE, DESIGN, 12, 5, chunks=out, chunk=4, progress=False)
    assert len(list(out.glob("*.parquet"))) == 5
    with pytest.raises(ex.ScenarioError, match="resume="):
        ex.run_design(BASELINE, DESIGN, 12, 5, chunks=out, chunk=4, progress=False)
    calls.clear()
    monkeypatch.setattr(ex, "evaluate", lambda *a: (calls.append(a[-1]), real(*a))[1])
    # a resume with another design, seed or scenario is refused, naming what differs
    other = ex.full_factorial({"fiscal.severity": [0.5, 1.4], "behaviour.memory": [0.7, 0.9]})
    for kw, what in ((dict(design=other), "design"), (dict(seed=6), "seed"),
                     (dict(scenario=load_scenario(SCENARIOS / "grants.toml")), "scenario"),
                     (dict(replicates=13), "replicates")):
        args = dict(scenario=BASELINE, design=DESIGN, replicates=12, seed=5) | kw
        with pytest.raises(ex.ScenarioError, match=f"another {what}"):
            ex.run_design(args["scenario"], args["design"], args["replicates"], args["seed"], chunks=out, chunk=4,
                          progress=False, resume=True)
    assert calls == [] and len(list(out.glob("*.parquet"))) == 5
    resumed = ex.run_design(BASELINE, DESIGN, 12, 5, chunks=out, chunk=4, progress=False, resume=True)
    assert len(calls) == 12 - 5  # finished chunks were not recomputed
    pd.testing.assert_frame_equal(whole, resumed, check_exact=True)
    # overwrite starts again from nothing
    calls.clear()
    again = ex.run_design(BASELINE, DESIGN, 12, 5, chunks=out, chunk=4, progress=False, overwrite=True)
    assert len(calls) == 12
    pd.testing.assert_frame_equal(whole, again, check_exact=True)


def test_an_interrupted_sweep_command_resumes_and_leaves_no_half_folder(tmp_path, monkeypatch, capsys):
    from sim.cli import main

    out = tmp_path / "s"
    args = ["sweep", str(SCENARIOS / "baseline.toml"), "--vary", "fiscal.severity=0.5:1.5:3", "--replicates", "6",
            "--chunk", "3", "--seed", "5", "--out", str(out)]
    real, calls = ex.evaluate, []

    def flaky(*a):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(a[-1])
        return real(*a)

    monkeypatch.setattr(ex, "evaluate", flaky)
    assert main(args) == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == [".s.work"]  # no half-written results
    monkeypatch.setattr(ex, "evaluate", real)
    assert main(args) == 2 and "--resume" in capsys.readouterr().err
    assert main([*args[:-4], "--seed", "6", "--out", str(out), "--resume"]) == 2
    assert "another seed" in capsys.readouterr().err
    # a disk fault truncated one finished chunk: the resume computes it again and says so
    written = sorted((tmp_path / ".s.work" / "chunks").glob("*.parquet"))
    assert len(written) == 2
    written[0].write_bytes(written[0].read_bytes()[:100])
    assert main([*args, "--resume"]) == 0
    printed = capsys.readouterr()
    assert f"1 unreadable chunk(s) of 6 computed again: {written[0].name}" in printed.out
    assert "Traceback" not in printed.err + printed.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # the work folder is gone
    whole = ex.run_design(BASELINE, ex.full_factorial({"fiscal.severity": [0.5, 1.0, 1.5]}), 6, 5, chunk=3,
                          progress=False)
    pd.testing.assert_frame_equal(whole, pd.read_parquet(out / "sweep.parquet"), check_exact=True)


def test_sweep_command_writes_one_table(tmp_path, capsys):
    from sim.cli import main

    code = main(["sweep", str(SCENARIOS / "baseline.toml"), "--vary", "fiscal.severity=0.5:1.5:3",
                 "--replicates", "6", "--out", str(tmp_path / "s"), "--chunk", "3"])
    assert code == 0
    table = pd.read_parquet(tmp_path / "s" / "sweep.parquet")
    assert table.groupby("design_row")["replicate"].nunique().tolist() == [6, 6, 6]
    assert sorted(table["fiscal.severity"].unique()) == [0.5, 1.0, 1.5]
    assert main(["sweep", str(SCENARIOS / "baseline.toml"), "--vary", "behaviour.memory=0.5:1.5:3",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "behaviour.memory" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_a_design_from_a_file_gives_outcomes_aligned_with_it(tmp_path, capsys):
    import json

    from SALib.sample import sobol

    import sim
    from sim.api import DEFAULT_OUTCOMES
    from sim.cli import build_parser, main

    assert build_parser().parse_args(["sweep", "x", "--out", "o"]).outcomes == ",".join(DEFAULT_OUTCOMES)
    problem = sim.salib_problem(["behaviour.savings_rate", "population.risk_aversion"])
    sample = pd.DataFrame(sobol.sample(problem, 2, calc_second_order=False, seed=1), columns=problem["names"])
    sample.to_csv(tmp_path / "sample.csv", index=False)
    out = tmp_path / "s"
    assert main(["sweep", str(SCENARIOS / "baseline.toml"), "--design", str(tmp_path / "sample.csv"),
                 "--replicates", "4", "--out", str(out)]) == 0
    outcomes = pd.read_csv(out / "outcomes.csv", index_col="design_row")
    design = pd.read_csv(out / "design.csv", index_col="design_row")
    assert len(outcomes) == len(sample) == len(design)
    pd.testing.assert_frame_equal(outcomes[list(sample.columns)], design, check_exact=False, rtol=1e-12)
    # each row's outcomes are sim.run's at that point
    first = sim.run(BASELINE, sample.iloc[0].to_dict(), replicates=4, seed=BASELINE.run.seed)
    # NaN where never reached: compared as series
    pd.testing.assert_series_equal(outcomes.iloc[0][list(first)], pd.Series(first), check_names=False)
    assert json.loads((out / "problem.json").read_text()) == {k: problem[k] for k in ("num_vars", "names", "bounds")}
    # in memory: the same table, nothing written
    table = pd.read_parquet(out / "sweep.parquet")
    in_memory = ex.run_design(BASELINE, sample, 4, BASELINE.run.seed, progress=False)
    pd.testing.assert_frame_equal(table, in_memory, check_exact=True)
    # a design file with a text column is refused before any work
    sample.assign(**{"population.risk_aversion": "high"}).to_csv(tmp_path / "bad.csv", index=False)
    assert main(["sweep", str(SCENARIOS / "baseline.toml"), "--design", str(tmp_path / "bad.csv"),
                 "--out", str(tmp_path / "b")]) == 2
    assert "population.risk_aversion" in capsys.readouterr().err and not (tmp_path / "b").exists()
