"""The Mesa engine and the ensemble engine give identical tables."""

import pandas as pd
import pytest

import sim
from sim.loading import load_scenario

from .conftest import SHIPPED


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_engines_identical_for_every_shipped_scenario(path):
    s = load_scenario(path)
    mesa = sim.simulate(s, replicates=2, seed=31, engine="mesa")
    ensemble = sim.simulate(s, replicates=2, seed=31, engine="ensemble")
    pd.testing.assert_frame_equal(mesa, ensemble, check_exact=True)
    assert mesa["cumulative_spinouts"].max() > 0


def test_a_replicate_is_the_same_alone_or_among_many():
    """Replicate r's numbers do not depend on which other replicates share its chunk."""
    s = load_scenario(SHIPPED[0])
    together = sim.simulate(s, replicates=6, seed=5, engine="ensemble", chunk_size=4)
    alone = sim.simulate(s, replicates=6, seed=5, engine="ensemble", chunk_size=1)
    pd.testing.assert_frame_equal(together, alone, check_exact=True)
    assert together["replicate"].nunique() == 6


def test_the_keyed_cache_is_ours_alone(tmp_path):
    """This package's compiled functions are cached in a folder keyed by their source
    (sim._compiled); Numba's setting is left as it was for every other library."""
    import os

    import numba

    from sim import ensemble  # importing a compiled module declares its compiled functions
    from sim._compiled import cache_dir

    assert numba.config.CACHE_DIR == os.environ.get("NUMBA_CACHE_DIR", "")
    assert ensemble.elements_year._cache._cache_path.startswith(str(cache_dir()))

    @numba.njit(cache=True)
    def theirs(x):
        return x + 1

    assert not theirs._cache._cache_path.startswith(str(cache_dir()))
