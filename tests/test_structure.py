"""The code's shape: every command writes through one output folder and computes on one
evaluator, and no module but theirs starts workers or swaps folders."""

import re
from pathlib import Path

import pytest

import sim
from sim.cli import build_parser, main

from .conftest import SCENARIOS

PACKAGE = Path(sim.__file__).parent
RECORD = SCENARIOS / "calibration" / "record.toml"

COMMANDS = {  # each command that computes and writes, at a tiny size
    "run": ["run", str(SCENARIOS / "baseline.toml"), "--replicates", "4"],
    "sweep": ["sweep", str(SCENARIOS / "baseline.toml"), "--vary", "fiscal.severity=0.5:1.5:2", "--replicates", "2"],
    "compare": ["compare", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "grants.toml"), "--replicates", "4"],
    "tipping": ["tipping", str(SCENARIOS / "baseline.toml"), "--replicates", "4"],
    "phase": ["phase", str(SCENARIOS / "joined_up.toml"), "--steps", "2", "--replicates", "4"],
    "verdict": ["verdict", "--replicates", "4", "--lhs", "8", "--lhs-replicates", "1", "--sobol", "1",
                "--structure-replicates", "2"],
    "design": ["design", "--posterior", str(Path(__file__).parent / "data" / "toy_posterior.parquet"), "--nfe", "5",
               "--population", "5", "--draws", "2", "--replicates", "1", "--seeds", "1", "--rescore-draws", "2",
               "--rescore-replicates", "1"],
    "calibrate": ["calibrate", str(SCENARIOS / "historical.toml"), "--record", str(RECORD), "--particles", "10",
                  "--generations", "1", "--predictive-particles", "2", "--predictive-replicates", "1",
                  "--no-validate", "--no-models"],
}
ELSEWHERE = {"dashboard", "params", "validate"}  # they neither compute nor write results


def _subcommands() -> dict:
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices


def test_every_command_is_listed_here_and_shares_the_executor_and_output_options():
    commands = _subcommands()
    assert set(commands) == set(COMMANDS) | ELSEWHERE
    for name in COMMANDS:
        flags = {f for a in commands[name]._actions for f in a.option_strings}
        assert {"--workers", "--dask-local", "--scheduler", "--out", "--overwrite"} <= flags, name


def test_only_the_evaluator_starts_workers_and_only_the_output_folder_swaps_folders():
    machinery = {
        "evaluator.py": [r"ProcessPoolExecutor", r"\bLocalCluster\b", r"\bClient\("],
        "results.py": [r"\btempfile\b", r"manifest\.json\"", r"def provenance"],
    }
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for owner, patterns in machinery.items():
            if path.name == owner:
                continue
            for pattern in patterns:
                assert not re.search(pattern, text), f"{path.name} repeats {owner}'s {pattern}"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_goes_through_one_output_folder_and_one_evaluator(name, tmp_path, monkeypatch):
    from sim.evaluator import Evaluator
    from sim.results import OutputFolder

    entered = {"folders": [], "evaluators": []}
    folder_enter, evaluator_enter = OutputFolder.__enter__, Evaluator.__enter__

    def folder(self):
        entered["folders"].append(self.target)
        return folder_enter(self)

    def evaluator(self):
        entered["evaluators"].append(self)
        return evaluator_enter(self)

    monkeypatch.setattr(OutputFolder, "__enter__", folder)
    monkeypatch.setattr(Evaluator, "__enter__", evaluator)
    out = tmp_path / "out"
    assert main([*COMMANDS[name], "--out", str(out)]) == 0
    assert len(entered["evaluators"]) == 1, entered
    want = [out / "baseline"] if name == "run" else [out]
    assert entered["folders"] == want
    manifest = (want[0] / "manifest.json").read_text(encoding="utf-8")
    assert '"fingerprint"' in manifest and '"git_commit"' in manifest and '"executor": "this process"' in manifest


def test_the_package_names_are_plain_attributes():
    """``sim.simulate`` is the function, with no module-class swap: no submodule shares a name
    with what the package exports."""
    import importlib
    import types

    import sim.simulation

    assert type(sim) is types.ModuleType
    assert callable(sim.simulate) and sim.simulate is sim.simulation.simulate
    submodules = {p.stem for p in PACKAGE.glob("*.py")}
    assert not submodules & set(sim.__all__)
    for name in sim.__all__:
        assert getattr(importlib.import_module("sim"), name) is not None


def test_every_module_states_its_job_and_the_readme_lists_it():
    import ast

    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    for path in sorted(PACKAGE.glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 5, f"{path.name}: no docstring stating its job"
        assert f"`{path.name}`" in layout, f"README's layout leaves out {path.name}"
