"""The Mesa engine and the ensemble engine give identical tables."""

import numpy as np
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


def test_a_batch_of_scenarios_gives_each_the_table_it_gives_alone():
    """Many parameter sets in one compiled call (``run_batch``): each set's replicates exactly
    as when it runs alone, whatever the others, their number or their seeds."""

    from sim.ensemble import batch_key, run_batch, run_ensemble
    from sim.overrides import with_overrides
    from sim.simulation import measures_batch, replicate_seeds

    scenarios = [load_scenario(p) for p in SHIPPED]
    seeds = [replicate_seeds(40 + i, 1 + i % 3) for i in range(len(scenarios))]
    key = batch_key(scenarios[0])
    same = [i for i, s in enumerate(scenarios) if batch_key(s) == key]
    assert len(same) >= 5
    batch = run_batch([scenarios[i] for i in same], [seeds[i] for i in same])
    for i, values in zip(same, batch, strict=True):
        np.testing.assert_array_equal(values, run_ensemble(scenarios[i], seeds[i]))
    # another structure among them: grouped into its own batch, in small calls, the same arrays
    today = with_overrides(scenarios[same[0]], {"population.structure": "today"})
    mixed = [scenarios[same[0]], today, scenarios[same[1]]]
    got = measures_batch(mixed, [seeds[same[0]], seeds[same[0]], seeds[same[1]]], chunk_size=2)
    for s, q, values in zip(mixed, [seeds[same[0]], seeds[same[0]], seeds[same[1]]], got, strict=True):
        np.testing.assert_array_equal(values, run_ensemble(s, q))
    with pytest.raises(ValueError, match="shares its structure"):
        run_batch([scenarios[same[0]], today], [seeds[0], seeds[0]])
    # parameter sets that differ in behaviour, in a support effect, in the cuts and in attention:
    # the model-level steps of all of them at once, each replicate's numbers its own
    base = scenarios[same[1]]
    sets = [with_overrides(base, {"behaviour.peer_weight": w, "population.risk_aversion": r})
            for w, r in ((0.2, 0.4), (0.6, 0.5), (0.9, 0.7))]
    sets.insert(1, with_overrides(base, {"support.advice.cost_reduction": 0.45, "fiscal.severity": 1.4,
                                         "behaviour.attention_floor": 0.3, "mutuals.preparation_years": 1.0}))
    q = [replicate_seeds(3 + i, 2 + i) for i in range(len(sets))]
    for x, qq, values in zip(sets, q, run_batch(sets, q), strict=True):
        np.testing.assert_array_equal(values, run_ensemble(x, qq))


def test_one_set_up_serves_any_support_package_as_if_set_up_afresh():
    from sim.ensemble import SetUp, advance, run_ensemble, run_set_up
    from sim.population import build_structure
    from sim.simulation import replicate_seeds

    folder = SHIPPED[0].parent
    dec = load_scenario(folder / "december_2012.toml")
    packages = [load_scenario(folder / f"{n}.toml") for n in ("joined_up", "advice", "grants")]
    seeds = replicate_seeds(5, 3)
    st = build_structure(dec)
    once = SetUp(dec, seeds, st)
    got = run_set_up([once.with_support(dec.model_copy(update={"support": p.support})) for p in packages]
                     + [once.with_support(dec)], st)
    for p, values in zip([*packages, dec], got, strict=True):
        alone = run_ensemble(dec.model_copy(update={"support": p.support}), seeds)
        np.testing.assert_array_equal(values, alone)
    assert not np.array_equal(got[0], got[-1])  # the packages do differ
    # run to the end of 2012 under December 2012, then on from there under packages that add
    # windows from 2013 (what the design search does): the arrays of a run from the start
    from sim.design import package

    later = advance([once.with_support(dec)], st, 3)
    extra = [package(dec, {"grants__budget": 3.0, "grants__start": 2013, "grants__duration": 4}),
             package(dec, {"advice__budget": 2.0, "advice__start": 2015, "evidence__budget": 1.0})]
    again = run_set_up([later[0].with_support(p, slot=k) for k, p in enumerate(extra)], st)
    for p, values in zip(extra, again, strict=True):
        np.testing.assert_array_equal(values, run_ensemble(p, seeds))
    assert not np.array_equal(again[0], again[1])
    with pytest.raises(ValueError, match="run the same years"):
        run_set_up([later[0], once], st)


def test_design_rows_batched_together_give_the_tables_of_one_row_at_a_time():
    import sim.experiments as ex
    from sim.overrides import with_overrides

    s = load_scenario(SHIPPED[0])
    design = ex.full_factorial({"behaviour.peer_weight": [0.2, 0.5, 0.8], "behaviour.memory": [0.7, 0.9]})
    batched = ex.run_design(s, design, 3, 9, chunk=12, progress=False)  # four rows a task
    assert len(ex.tasks(len(design), 3, 12)) == 2
    for row, values in enumerate(design.to_dict("records")):
        alone = sim.simulate(with_overrides(s, values), replicates=3, seed=9)
        mine = batched[batched["design_row"] == row].drop(columns=["design_row", *values]).reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone, check_exact=True)
    one_row = ex.run_design(s, design, 3, 9, chunk=2, progress=False)  # one row's replicates in two tasks
    pd.testing.assert_frame_equal(batched, one_row, check_exact=True)
