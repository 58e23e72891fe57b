"""`mutuals run` writes a whole results folder with its provenance."""

import json

import pandas as pd

from sim.cli import main

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
