"""A property of the whole command line: whatever options and values a user types, every
sub-command ends in exit code 0 or 2 (a one-line message), never a traceback, and a refused run
leaves no output folder behind."""

import argparse
import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import build_parser, main

from .conftest import SCENARIOS

SCENARIO = str(SCENARIOS / "baseline.toml")
RECORD = str(SCENARIOS / "calibration" / "record.toml")

# each sub-command with small sizes first: options typed after them override them
BASE = {
    "run": [SCENARIO, "--replicates", "2"],
    "validate": [SCENARIO],
    "params": [],
    "sweep": [SCENARIO, "--vary", "behaviour.peer_weight=0.1:0.3:2", "--replicates", "2"],
    "compare": [SCENARIO, str(SCENARIOS / "grants.toml"), "--replicates", "2"],
    "tipping": [SCENARIO, "--replicates", "2"],
    "phase": [str(SCENARIOS / "joined_up.toml"), "--replicates", "2", "--steps", "2"],
    "verdict": ["--replicates", "2", "--lhs", "4", "--lhs-replicates", "1", "--sobol", "1",
                "--structure-particles", "1", "--structure-replicates", "1"],
    "calibrate": [SCENARIO, "--record", RECORD, "--particles", "4", "--generations", "1", "--no-validate",
                  "--no-models", "--predictive-particles", "2", "--predictive-replicates", "1"],
}
SLOW = {"--dask-local", "--scheduler", "--workers", "--resume", "--help", "-h"}  # tested on their own


def options(command: str) -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    names = [o for a in sub._actions for o in a.option_strings if o not in SLOW and o != "--out"]
    return [*names, "--no-such-option"]


VALUES = st.one_of(
    st.integers(-2, 3).map(str), st.sampled_from(["0.5", "-0.1", "1e9", "nan", "abc", "", "3:1", "x=1:2",
                                                  "behaviour.peer_weight=0:2", "behaviour.nope=0:1:2",
                                                  str(SCENARIOS), "/no/such/file.toml", SCENARIO]))


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(BASE)))
    extra = draw(st.lists(st.tuples(st.sampled_from(options(command)), VALUES), max_size=3))
    typed = list(itertools.chain.from_iterable((o, v) for o, v in extra))
    return command, [command, *BASE[command], *typed]


counter = itertools.count()


@pytest.mark.slow
# the same 60 examples on every run (no flaky CI); CLI_EXAMPLES=N explores N fresh ones
@settings(max_examples=int(os.environ.get("CLI_EXAMPLES", 60)), deadline=None,
          derandomize=not os.environ.get("CLI_EXAMPLES"), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=command_lines())
def test_every_command_line_ends_in_0_or_2_and_a_refusal_writes_nothing(line, tmp_path):
    command, argv = line
    out = tmp_path / f"out{next(counter)}"
    if command not in ("validate", "params"):
        argv = [*argv, "--out", str(out)]
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse: a refused option or value
        code = stop.code
    assert code in (0, 2), argv
    if code == 2:
        assert not out.exists(), argv
