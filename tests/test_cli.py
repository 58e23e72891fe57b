"""`mutuals run` writes a whole results folder with its provenance."""

import json

import pandas as pd
import pytest

from sim.cli import main
from sim.loading import load_scenario

from .conftest import SCENARIOS


def test_run_writes_the_results_folder(tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["run", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "historical.toml"),
                 "--replicates", "12", "--seed", "4", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "baseline" in printed and "historical" in printed
    for name in ("baseline", "historical"):
        folder = out / name
        assert sorted(p.name for p in folder.iterdir()) == [
            "manifest.json", "summary.csv", "timeseries.parquet", "uptake.png"]
        table = pd.read_parquet(folder / "timeseries.parquet")
        for column in ("scenario", "replicate", "year", "authorities_with_mutual",
                       "share_with_mutual", "live_mutuals", "cumulative_spinouts",
                       "failures", "support_spent"):
            assert column in table
        assert table["replicate"].nunique() == 12
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["seed"] == 4 and manifest["replicates"] == 12
        assert manifest["scenario"]["name"] == name
        assert "mesa" in manifest["versions"] and manifest["git_commit"]
        summary = pd.read_csv(folder / "summary.csv")
        assert 0 <= summary["p_critical_mass"].iloc[0] <= 1
        assert (folder / "uptake.png").stat().st_size > 10_000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_python_dash_m_sim_is_the_same_tool(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "sim", "validate",
                           str(SCENARIOS / "joined_up.toml")], capture_output=True, text=True)
    assert proc.returncode == 0 and "ok: joined_up" in proc.stdout


S = str(SCENARIOS)
REFUSED = {
    "scaled support over its cap": (["phase", f"{S}/joined_up.toml", "--max-intensity", "12"],
                                    ["--max-intensity 12", "support.grants.budget", "200", "240"]),
    "negative intensity": (["phase", f"{S}/joined_up.toml", "--max-intensity", "-1"],
                           ["--max-intensity", "above 0", "-1"]),
    "severity over its cap": (["phase", f"{S}/joined_up.toml", "--max-severity", "5"],
                              ["--max-severity 5", "fiscal.severity", "3"]),
    "replicates not a number": (["run", f"{S}/baseline.toml", "--replicates", "abc"],
                                ["--replicates", "whole number", "'abc'"]),
    "a folder for a scenario": (["run", S], ["is a folder", "*.toml"]),
    "a range as typed": (["sweep", f"{S}/baseline.toml", "--lhs", "4", "--range", "behaviour.peer_weight=0.1:1.5"],
                         ["behaviour.peer_weight", "allowed 0.0 to 1.0", "given 0.1 to 1.5"]),
    "no scheduler there": (["sweep", f"{S}/baseline.toml", "--vary", "behaviour.memory=0.7:0.9:2",
                            "--scheduler", "tcp://127.0.0.1:9"], ["--scheduler", "within 5 s"]),
    "sobol not a power of two": (["verdict", "--sobol", "6"], ["--sobol", "power of two", "6"]),
    "a run spread with no scheduler there": (["run", f"{S}/baseline.toml", "--scheduler", "tcp://127.0.0.1:9"],
                                             ["--scheduler", "within 5 s"]),
    "the Mesa engine spread": (["run", f"{S}/baseline.toml", "--engine", "mesa", "--workers", "2"],
                               ["--engine mesa", "ensemble"]),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_each_bad_input_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    argv, words = REFUSED[case]
    out = tmp_path / "out"
    try:
        code = main([*argv, "--out", str(out)])
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert all(w in err for w in words), err
    assert "Traceback" not in err and "_positive" not in err and "overrides:" not in err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_a_folder_from_another_command_or_configuration_is_never_silently_replaced(tmp_path, capsys):
    base = str(SCENARIOS / "baseline.toml")
    assert main(["run", base, "--replicates", "4", "--seed", "1", "--out", str(tmp_path)]) == 0
    # the same command and configuration: the same numbers, so it may replace its own folder
    assert main(["run", base, "--replicates", "4", "--seed", "1", "--out", str(tmp_path)]) == 0
    made = (tmp_path / "baseline" / "manifest.json").read_text()
    capsys.readouterr()
    # another seed: refused, before any work, and the folder is untouched
    assert main(["run", base, "--replicates", "4", "--seed", "2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "another configuration (differing in seed)" in err, err
    assert json.loads((tmp_path / "baseline" / "manifest.json").read_text())["seed"] == 1
    # another command into a folder `run` made
    assert main(["compare", base, "--replicates", "4", "--out", str(tmp_path / "baseline")]) == 2
    assert "another command (mutuals run, not compare)" in capsys.readouterr().err
    assert (tmp_path / "baseline" / "manifest.json").read_text() == made
    # told to
    assert main(["run", base, "--replicates", "4", "--seed", "2", "--out", str(tmp_path), "--overwrite"]) == 0
    assert json.loads((tmp_path / "baseline" / "manifest.json").read_text())["seed"] == 2


def test_run_prints_percent_labelled_columns_budget_beside_spend_and_uses_the_ensemble(tmp_path, capsys):
    import re

    args = ["run", str(SCENARIOS / "grants.toml"), "--replicates", "3", "--seed", "4", "--out", str(tmp_path)]
    assert main(args) == 0
    header, row = capsys.readouterr().out.splitlines()[1:3]
    for label in ("share with a mutual", "10%", "90%", "live mutuals", "support spent, GBP m", "budget, GBP m",
                  "seconds"):
        assert label in header
    cells = row.split()
    assert cells[1] == "3" and all(re.fullmatch(r"\d+\.\d%", c) for c in cells[2:5]), row
    spent, budget = float(cells[-3]), float(cells[-2])
    assert 0 <= spent <= budget == 20.0  # grants: GBP 20m, 2013-2020, all within the run
    manifest = json.loads((tmp_path / "grants" / "manifest.json").read_text())
    assert manifest["engine"] == "ensemble"  # any number of replicates; Mesa on request


def test_params_lists_every_path_and_version_answers(capsys):
    import sim

    assert main(["params", "--uncertain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(sim.parameters("uncertain"))
    assert any(line.startswith("population.reserves = 1  [") and "plausible 0.25 to 4 (log)" in line for line in lines)
    assert main(["params"]) == 0
    every = capsys.readouterr().out
    assert "run.seed = 20121206  [" in every and "allowed 0 to 9223372036854775807" in every  # integers in full
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"mutuals {sim.__version__}"


def test_every_option_has_help_and_sizes_default_to_the_scenarios_run_table(tmp_path):
    import argparse

    from sim.cli import SIZE_HELP, build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help, f"mutuals {name} {'/'.join(action.option_strings) or action.dest}: no help"
            if "--seed" in action.option_strings:
                assert action.help == SIZE_HELP[1] and action.default is None, name
    # one set of defaults: the scenario's [run] replicates and seed
    base = SCENARIOS / "baseline.toml"
    assert main(["compare", str(base), str(SCENARIOS / "grants.toml"), "--out", str(tmp_path / "c")]) == 0
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    run = load_scenario(base).run
    assert (manifest["replicates"], manifest["seed"]) == (run.replicates, run.seed)


def test_compare_shows_each_policys_budget_beside_its_spend(tmp_path, capsys):
    assert main(["compare", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "grants.toml"), "--replicates", "3",
                 "--out", str(tmp_path)]) == 0
    assert "budget, GBP m" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "comparison.csv").set_index("scenario")
    assert table.loc["baseline", "support_budget"] == 0 and table.loc["grants", "support_budget"] == 20
    assert table.loc["grants", "support_spent_median"] <= 20
    assert "support budget GBP m" in (tmp_path / "comparison.md").read_text()
