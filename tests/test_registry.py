"""Instruments are declared once: adding one is a class and a field (docs/ODD.md, "Adding an
instrument"), and every engine, measure, slider and list of parameters follows.

The test adds a toy instrument to a copy of the package by those two edits alone, then runs it
on both engines in a fresh process (the copy has its own compiled-code cache)."""

import difflib
import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT

TOY = '''class Mentoring(Programme):
    title: ClassVar[str] = "Mentoring"
    cost_reduction: float = _f(0.5, 0.0, 1.0, "share of transition cost saved", "toy",
                               plausible=(0.3, 0.7))
    abandon_reduction: float = _f(0.6, 0.0, 1.0, "share of abandonment avoided", "toy")

    def effects(self, on, met):
        return {"cost_reduction": self.cost_reduction * on,
                "abandon_reduction": self.abandon_reduction * on}


'''

FIELD = "    mentoring: Mentoring = Field(default_factory=Mentoring)\n"

RUN = '''
import json, sys
import numpy as np, pandas as pd
import sim
from sim.app import SLIDERS
from sim.instruments import INSTRUMENTS
from sim.loading import load_scenario
from sim.overrides import with_overrides
from sim.scenario import uncertainties

base = load_scenario(sys.argv[1])
funded = with_overrides(base, {"support.mentoring.budget": 14.0, "support.mentoring.start": 2013.0,
                               "support.mentoring.end": 2020.0})
mesa = sim.simulate(funded, replicates=2, seed=11, engine="mesa")
ensemble = sim.simulate(funded, replicates=2, seed=11, engine="ensemble")
pd.testing.assert_frame_equal(mesa, ensemble, check_exact=True)
spun = {name: sim.simulate(s, replicates=100, seed=3).query("year == 2020")["cumulative_spinouts"].mean()
        for name, s in (("with", funded), ("without", base))}
print(json.dumps({
    "instruments": list(INSTRUMENTS),
    "spent": ensemble.groupby("replicate")["spent_mentoring"].sum().tolist(),
    "total": float((ensemble["support_spent"] - ensemble[[f"spent_{n}" for n in INSTRUMENTS]].sum(axis=1)).abs().max()),
    "spun": spun,
    "slider": SLIDERS.get("mentoring_budget"),
    "uncertain": sorted(k for k in uncertainties() if k.startswith("support.mentoring.")),
}))
'''


def places_changed(before: str, after: str) -> int:
    """How many separate places (diff hunks, no context) differ between two texts."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    return sum(line.startswith("@@") for line in diff)


@pytest.mark.slow
def test_a_toy_instrument_added_in_two_places_runs_on_both_engines(tmp_path):
    package = tmp_path / "sim"
    shutil.copytree(ROOT / "sim", package, ignore=shutil.ignore_patterns("__pycache__"))
    schema = package / "instruments.py"
    before = schema.read_text()
    after = before.replace("class Support(_Section):", TOY + "class Support(_Section):", 1)
    anchor = "    right_to_challenge: RightToChallenge = Field(default_factory=RightToChallenge)\n"
    after = after.replace(anchor, anchor + FIELD, 1)
    schema.write_text(after)
    assert places_changed(before, after) == 2  # one class, one field: nothing else is edited

    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    done = subprocess.run([sys.executable, "-c", RUN, str(ROOT / "scenarios" / "december_2012.toml")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["instruments"][-1] == "mentoring"
    assert out["spent"] == pytest.approx([14.0, 14.0])  # a programme spends its whole budget
    assert out["total"] < 1e-9  # and its spending is in the total
    assert out["spun"]["with"] > out["spun"]["without"] + 5, out["spun"]
    assert out["slider"] == ["support.mentoring.budget", "Mentoring, GBP m in all"]
    assert out["uncertain"] == ["support.mentoring.cost_reduction", "support.mentoring.full_effect_budget"]


def test_an_unknown_effect_is_refused_naming_the_allowed_ones(monkeypatch):
    from sim import dynamics
    from sim.instruments import Evidence
    from sim.scenario import Scenario

    monkeypatch.setattr(Evidence, "effects", lambda self, on, met: {"morale": on})
    with pytest.raises(ValueError, match="instrument evidence: unknown effect 'morale'; allowed: cost_reduction"):
        dynamics.year_context(Scenario(), dynamics.schedule([Scenario()]).row(0), 2, 0.0, {})
