"""Scenario files: loading, inheritance and every kind of bad input."""

import subprocess
import sys

import pytest

import sim
from sim.cli import main
from sim.errors import ScenarioError
from sim.instruments import INSTRUMENTS
from sim.loading import load_scenario
from sim.scenario import parameter_paths

from .conftest import SCENARIOS, SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates(path):
    s = load_scenario(path)
    assert s.name == path.stem


def test_joined_up_extends_each_instrument_file_unchanged():
    joined = load_scenario(SCENARIOS / "joined_up.toml")
    for name in ("grants", "advice", "evidence", "tested_models", "barriers"):
        alone = load_scenario(SCENARIOS / f"{name}.toml")
        assert getattr(joined.support, name) == getattr(alone.support, name)
        assert getattr(alone.support, name).budget > 0
    assert joined.support.right_to_challenge.rate == 0


def test_baseline_has_no_support_and_historical_the_programmes():
    base = load_scenario(SCENARIOS / "baseline.toml")
    assert all(getattr(base.support, n).budget == 0 for n in INSTRUMENTS)
    hist = load_scenario(SCENARIOS / "historical.toml")
    assert hist.support.advice.budget == 10.0 and hist.support.advice.start == 2011.92
    pathfinders, second = hist.support.advice.also
    assert (pathfinders.start, pathfinders.label) == (2010.6, "national push")  # August 2010
    assert second.budget == 1.7 and second.start == 2018.0
    assert hist.support.evidence.start == 2010.6 and hist.support.evidence.label == "national push"
    assert hist.support.right_to_challenge.rate > 0


def test_bass_names_p_and_q():
    text = (SCENARIOS / "validation" / "bass.toml").read_text()
    assert "\np = " in text and "\nq = " in text
    bass = load_scenario(SCENARIOS / "validation" / "bass.toml")
    assert (bass.behaviour.p, bass.behaviour.q) == (0.03, 0.38)


def test_every_numeric_parameter_has_a_range_and_a_stated_basis():
    from sim.fields import walk_fields
    from sim.scenario import Scenario

    paths = parameter_paths()
    assert len(paths) > 50
    for path, (low, high, _) in paths.items():
        assert low is not None and high is not None, path
    for path, info, _ in walk_fields(Scenario):
        if info.annotation in (int, float):
            assert info.description, f"{path} has no unit or basis"


def _write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _run(args, capsys):
    code = main(args)
    return code, capsys.readouterr().err


BAD = {
    "unknown key": ('[behaviour]\nrisk_aversoin = 0.5\n',
                    ["behaviour.risk_aversoin", "did you mean 'population.risk_aversion'"]),
    "unknown key in a population table": ('[population]\nrisk_aversoin = 0.5\n',
                                          ["population.risk_aversoin", "did you mean 'risk_aversion'"]),
    "wrong type": ('[support.grants]\nbudget = "lots"\n',
                   ["support.grants.budget", "expected a number", 'given "lots" (a string)']),
    "a boolean for a number": ('[behaviour]\nmemory = true\n',
                               ["behaviour.memory", "expected a number", "given true (a boolean)"]),
    "a string for a year": ('[support.grants]\nstart = "2014"\n',
                            ["support.grants.start", "expected a number", 'given "2014" (a string)']),
    "a string for a share": ('[population]\nrisk_aversion = "0.7"\n',
                             ["population.risk_aversion", "expected a number", 'given "0.7" (a string)']),
    "a fraction for a count": ('[run]\nreplicates = 2.5\n',
                               ["run.replicates", "expected a whole number", "given 2.5 (a float)"]),
    "out of range": ('[behaviour]\nmemory = 1.5\n', ["behaviour.memory", "allowed 0 to 1", "given 1.5"]),
    "malformed TOML": ('[behaviour\nmemory = 0.5\n', ["not valid TOML"]),
    "end before start": ('[support.advice]\nstart = 2015\nend = 2013\nbudget = 1\n',
                         ["support.advice", "end must be after start"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_with_exit_2_and_nothing_written(case, tmp_path, capsys):
    text, needles = BAD[case]
    path = _write(tmp_path, text)
    good = SCENARIOS / "baseline.toml"
    out = tmp_path / "out"
    code, err = _run(["run", str(good), str(path), "--out", str(out), "--replicates", "2"], capsys)
    assert code == 2
    assert str(path) in err
    for needle in needles:
        assert needle in err, (needle, err)
    assert "Traceback" not in err
    assert not out.exists()  # the good file was not run either: refused before any work


def test_missing_file(tmp_path, capsys):
    code, err = _run(["validate", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "nope.toml does not exist" in err


def test_extends_loop_and_missing_parent(tmp_path, capsys):
    _write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    _write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    code, err = _run(["validate", str(tmp_path / "a.toml")], capsys)
    assert code == 2 and "loop" in err and "a.toml" in err and "extends" in err
    _write(tmp_path, 'extends = "ghost.toml"\n', "c.toml")
    code, err = _run(["validate", str(tmp_path / "c.toml")], capsys)
    assert code == 2 and "ghost.toml does not exist" in err and "c.toml" in err


def test_cli_process_prints_no_traceback(tmp_path):
    path = _write(tmp_path, "[fiscal]\nseverity = -1\n")
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "fiscal.severity" in proc.stderr and "allowed 0 to " in proc.stderr and "given -1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_api_raises_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="population.structure"):
        sim.load_scenario(_write(tmp_path, '[population]\nstructure = "1974"\n'))


def test_the_odd_carries_the_current_parameter_table():
    from sim.scenario import parameter_table

    odd = (SCENARIOS.parent / "docs" / "ODD.md").read_text()
    assert parameter_table() in odd, ("regenerate the table: python -c "
                                      "'from sim.scenario import parameter_table; print(parameter_table())'")
    for line in parameter_table().splitlines()[2:]:
        basis = line.rsplit("|", 2)[-2]
        assert any(w in basis for w in ("assumption", "lever", "setting", "[@", "NAO", "IFS", "PAC",
                                        "survey", "Rogers", "Localism", "Feb 2013", "Dec 2011")), line


def test_december_2012_holds_only_the_support_in_force_when_the_report_was_published():
    report = 2012 + (31 + 29 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 5) / 366  # 6 December 2012
    dec = load_scenario(SCENARIOS / "december_2012.toml")
    hist = load_scenario(SCENARIOS / "historical.toml")
    windows = [(n, w) for n in INSTRUMENTS for w in getattr(dec.support, n).windows()
               if w.budget > 0 or (n == "right_to_challenge" and dec.support.right_to_challenge.rate > 0)]
    assert windows and all(w.start <= report for _, w in windows), windows
    # and it is historical without what was added later, nothing else
    later = [w for n in INSTRUMENTS for w in getattr(hist.support, n).windows()
             if w.start > report and w.budget > 0]
    assert sorted(w.start for w in later) == [2017.0, 2018.0]  # the 2017 awards, Mutuals Support Programme 2
    assert dec.behaviour == hist.behaviour and dec.fiscal == hist.fiscal
