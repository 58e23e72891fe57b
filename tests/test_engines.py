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


def test_the_inline_generator_draws_what_numpy_draws():
    """sim.pcg64 steps numpy's own PCG64 state: the same numbers as Generator.random, and
    numpy's generator carries on from where the fill stopped."""
    import numpy as np

    from sim import pcg64

    assert pcg64.layout_matches()
    ours, reference = np.random.default_rng(7), np.random.default_rng(7)
    drawn = np.empty(1001)
    pcg64.fill(np.uint64(pcg64.state_address(ours.bit_generator)), drawn)
    np.testing.assert_array_equal(drawn, reference.random(1001))
    np.testing.assert_array_equal(ours.random(5), reference.random(5))
    assert pcg64.state_address(ours.bit_generator) == ours.bit_generator.ctypes.state_address


def test_the_fallback_draws_give_the_same_table(monkeypatch):
    """Where numpy's PCG64 layout differs, the engine draws through the generator's C function
    instead: the same numbers, so the same table."""
    from sim import ensemble

    s = load_scenario(SHIPPED[0])
    inline = sim.simulate(s, replicates=5, seed=3, engine="ensemble")
    monkeypatch.setattr(ensemble, "inline_pcg64", lambda: False)
    fallback = sim.simulate(s, replicates=5, seed=3, engine="ensemble")
    pd.testing.assert_frame_equal(inline, fallback, check_exact=True)


def test_a_replicate_is_the_same_alone_or_among_many():
    """Replicate r's numbers do not depend on which other replicates share its chunk."""
    s = load_scenario(SHIPPED[0])
    together = sim.simulate(s, replicates=6, seed=5, engine="ensemble", chunk_size=4)
    alone = sim.simulate(s, replicates=6, seed=5, engine="ensemble", chunk_size=1)
    pd.testing.assert_frame_equal(together, alone, check_exact=True)
    assert together["replicate"].nunique() == 6
