"""What decides the answers under the posterior: the smoothed posterior and the given-data indices."""

import numpy as np
import pandas as pd
import pytest

import sim
from sim.scenario import uncertainties
from sim.sensitivity import DUMMY, STRUCTURE, posterior_sensitivity, smoothed_sample
from sim.verdict import combine

from .conftest import SCENARIOS

PATHS = ("behaviour.savings_rate", "population.risk_aversion")


def _posterior(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"model": rng.choice(["extended", "structure of 2014"], size=n, p=[0.7, 0.3]),
                         PATHS[0]: rng.uniform(0.03, 0.15, n), PATHS[1]: rng.uniform(0.45, 0.55, n),
                         "weight": rng.uniform(0.5, 1.5, n)})


def test_the_smoothed_posterior_stays_in_the_prior_and_keeps_each_structure_and_its_spread():
    posterior = _posterior()
    sample = smoothed_sample(posterior, 4000, seed=2)
    for path in PATHS:
        u = uncertainties()[path]
        assert sample[path].between(u.low, u.high).all()
    share = posterior.groupby("model")["weight"].sum() / posterior["weight"].sum()
    assert (sample["model"].value_counts(normalize=True) - share).abs().max() < 0.03
    for name, members in posterior.groupby("model"):
        mine = sample[sample["model"] == name]
        w = members["weight"] / members["weight"].sum()
        for path in PATHS:
            mean = float(w @ members[path])
            spread = np.sqrt(float(w @ (members[path] - mean) ** 2))
            assert abs(mine[path].mean() - mean) < 0.15 * spread
            assert 0.9 < mine[path].std() / spread < 1.4  # smoothed, not flattened to the prior
    again = smoothed_sample(posterior, 4000, seed=2)
    pd.testing.assert_frame_equal(sample, again)


@pytest.mark.slow
def test_an_input_that_acts_stands_above_the_dummy_and_the_dummy_does_not():
    none = sim.load_scenario(SCENARIOS / "december_2012.toml")
    more = combine(none, sim.load_scenario(SCENARIOS / "joined_up.toml"), "more")
    s = posterior_sensitivity(none, more, _posterior(), 400, 2, seed=3)
    t = s.indices.set_index(["answer", "input"])
    assert set(t.index.get_level_values("input")) == {*PATHS, STRUCTURE, DUMMY}
    # the mutual's savings rate spans its whole prior here, risk aversion a tenth of it
    assert t.loc[("rise_without", PATHS[0]), "above_dummy"]
    assert t.loc[("rise_without", PATHS[0]), "index"] > t.loc[("rise_without", PATHS[1]), "index"]
    assert not t.xs(DUMMY, level="input")["above_dummy"].any()
    assert ((t["low"] <= t["index"]) & (t["index"] <= t["high"])).all()
    assert (s.noise > 0).all() and (s.noise < 1).all()
