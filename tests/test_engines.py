"""The Mesa engine and the ensemble engine give identical tables."""

import pandas as pd
import pytest

import sim
from sim.scenario import load_scenario

from .conftest import SHIPPED


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_engines_identical_for_every_shipped_scenario(path):
    s = load_scenario(path)
    mesa = sim.simulate(s, replicates=2, seed=31, engine="mesa")
    ensemble = sim.simulate(s, replicates=2, seed=31, engine="ensemble")
    pd.testing.assert_frame_equal(mesa, ensemble, check_exact=True)
    assert mesa["cumulative_spinouts"].max() > 0
