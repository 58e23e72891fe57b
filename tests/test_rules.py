"""Every rule against values worked out by hand."""

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal

from sim import rules


def test_active_fraction():
    # Mutuals Support Programme from December 2011 (2011.92): 8% of the year ending 2012
    assert_allclose(rules.active_fraction(2011.0, 2012.0, 2011.92, 2014.0), 0.08, atol=1e-12)
    assert_allclose(rules.active_fraction(2012.0, 2013.0, 2011.92, 2014.0), 1.0)
    assert_allclose(rules.active_fraction(2014.0, 2015.0, 2011.92, 2014.0), 0.0)
    assert_allclose(rules.active_fraction(2019.0, 2020.0, 2018.0, 2020.25), 1.0)
    assert_allclose(rules.active_fraction(2020.0, 2021.0, 2018.0, 2020.25), 0.25)


def test_authority_change():
    # -5% nationally; deprivation 0.75, gradient 1.2: 1 + 1.2 * 0.25 = 1.3 -> -6.5%
    assert_allclose(rules.authority_change(-0.05, 0.75, 0.0, 1.2, 0.25), -0.065)
    # noise: z = 1, sd 0.2, average deprivation -> 1.2 x
    assert_allclose(rules.authority_change(-0.05, 0.5, 1.0, 1.2, 0.2), -0.06)
    # the multiplier never goes below zero: no authority gains from a cut
    assert_allclose(rules.authority_change(-0.05, 0.0, -10.0, 1.2, 0.2), 0.0)


def test_spending_power_pressure_and_erosion():
    assert_allclose(rules.spending_power_after(0.8, -0.1), 0.72)
    assert_allclose(rules.spending_power_after(0.8, -1.5), 0.0)
    assert_allclose([rules.cumulative_pressure(x) for x in (0.72, 1.1)], [0.28, 0.0])
    # capacity 0.6, erosion 1.5, pressure 0.2 -> 0.6 * 0.7 = 0.42
    assert_allclose(rules.eroded(0.6, 0.2, 1.5), 0.42)
    assert_allclose(rules.eroded(0.6, 0.9, 1.5), 0.0)


def test_observed_evidence():
    # own 1, group 5 (includes own), national 25 (includes group)
    # 1 + 0.3 * 4 + 0.02 * 20 = 2.6
    assert_allclose(rules.observed_evidence(1.0, 5.0, 25.0, 0.3, 0.02), 2.6)


def test_updated_belief_and_moments():
    # prior Beta(2, 2); last year Beta(5, 3); memory 0.5; 2 good, 1 bad
    a = rules.updated_belief(5.0, 2.0, 0.5, 2.0)
    b = rules.updated_belief(3.0, 2.0, 0.5, 1.0)
    assert_allclose([a, b], [2 + 1.5 + 2, 2 + 0.5 + 1])
    assert_allclose(rules.belief_mean(2.0, 2.0), 0.5)
    assert_allclose(rules.belief_sd(2.0, 2.0), np.sqrt(4 / (16 * 5)))


def test_review_probability():
    assert_allclose(rules.review_probability(0.08, 0.25, 3.0), 0.08 * 1.75)
    assert_allclose(rules.review_probability(0.5, 1.0, 3.0), 1.0)


def test_costs():
    assert_allclose(rules.kept_share(0.3, 0.2, 0.0), 0.7 * 0.8)
    assert rules.kept_share() == 1.0
    assert_allclose(rules.net_transition_cost(0.5, 0.44, 0.1), 0.5 * 0.56 - 0.1)
    assert_allclose(rules.net_transition_cost(0.5, 0.0, 0.9), 0.0)
    assert_allclose(rules.affordability(1.0, 0.25), 0.8)
    assert_allclose(rules.affordability(0.0, 0.0), 1.0)
    assert_allclose(rules.feasibility(0.4, 0.5, False, 0.8), 0.2)
    assert_allclose(rules.feasibility(0.4, 0.5, True, 0.8), 0.4)


def test_decision_utility():
    # motivation 1.3, mean 0.6, savings 2, failure cost 1, net cost 0.3, ra 0.5 (odds 1), sd 0.1
    # 1.3*0.6*2 - 0.4*1 - 0.3 - 1*0.1*3 = 1.56 - 0.4 - 0.3 - 0.3 = 0.56
    assert_allclose(rules.decision_utility(0.6, 0.1, 2.0, 1.0, 0.3, rules.risk_odds(0.5), 1.3), 0.56)
    # risk aversion 0.75: odds 3 -> premium 0.9
    assert_allclose(rules.decision_utility(0.6, 0.1, 2.0, 1.0, 0.3, rules.risk_odds(0.75), 1.3), -0.04)
    # maximal risk aversion: no uncertainty accepted at all
    assert rules.decision_utility(0.99, 0.01, 100.0, 0.0, 0.0, rules.risk_odds(1.0), 1.0) < -1e290
    # no uncertainty, no premium, even at maximal risk aversion
    assert_allclose(rules.decision_utility(1.0, 0.0, 2.0, 1.0, 0.3, rules.risk_odds(1.0), 1.0), 1.7)


def test_risk_odds():
    assert_allclose([rules.risk_odds(x) for x in (0.0, 0.5, 0.75)], [0.0, 1.0, 3.0])
    assert rules.risk_odds(1.0) == 1.0 / 1e-300  # about 1e300


def test_adoption_probability():
    assert_allclose(rules.adoption_probability(0.7, 0.0, 0.7, 1.0, 0.0, 0.0, 0.0), 1 - np.exp(-1))
    assert_allclose(rules.adoption_probability(0.7, 0.0, 0.7, 0.5, 0.0, 0.0, 0.0), 0.5 * (1 - np.exp(-1)))
    assert_allclose(rules.adoption_probability(-3.0, 0.0, 0.7, 1.0, 0.0, 0.0, 0.5), 0.0)
    assert_allclose(rules.adoption_probability(-np.inf, 0.0, 0.7, 1.0, 0.03, 0.38, 0.5), 0.03 + 0.19)
    assert_allclose(rules.adoption_probability(50.0, 0.0, 0.7, 1.0, 0.5, 0.5, 1.0), 1.0)


def test_options_appraisal():
    # the mutual must beat the other model: only its margin counts
    assert_allclose(rules.adoption_probability(1.4, 0.7, 0.7, 1.0, 0.0, 0.0, 0.0), 1 - np.exp(-1))
    assert rules.adoption_probability(0.7, 1.0, 0.7, 1.0, 0.0, 0.0, 0.0) == 0.0
    # the other model is taken for its margin over the better of the mutual and staying in house
    assert_allclose(rules.alternative_probability(0.3, 1.0, 0.7, 0.0), 1 - np.exp(-1))
    assert_allclose(rules.alternative_probability(-5.0, 0.7, 0.7, 0.0), 1 - np.exp(-1))
    assert rules.alternative_probability(1.4, 0.7, 0.7, 0.5) == 0.0
    # never more than what the mutual leaves
    assert_allclose(rules.alternative_probability(-5.0, 50.0, 0.7, 0.2), 0.8)
    assert_allclose(rules.alternative_value(0.04, 5.0, 4.0, 1.5), 1.2)


def test_contracts_and_capacity():
    # after a good year (u_year < viability) the failure uniform itself decides the loss
    assert rules.contract_lost(0.1, 0.05, 0.9, 0.3, 0.1)
    assert not rules.contract_lost(0.1, 0.15, 0.9, 0.3, 0.1)
    # after a bad year without failure, the unused part of the uniform: (0.34 - 0.3) / 0.7 < 0.1
    assert rules.contract_lost(0.95, 0.34, 0.9, 0.3, 0.1)
    assert not rules.contract_lost(0.95, 0.5, 0.9, 0.3, 0.1)
    assert not rules.contract_lost(0.1, 0.0, 0.9, 0.3, 0.0)
    assert_array_equal(rules.released(np.array([0.1, 0.2]), 0.15), [True, False])
    assert_allclose(rules.committed_capacity(0.6, 2.0, 0.2), 0.2)
    assert_allclose(rules.committed_capacity(0.6, 4.0, 0.2), 0.0)
    assert_allclose(rules.reserves_left(1.0, 0.4), 0.6)
    assert_allclose(rules.reserves_left(1.0, 1.5), 0.0)


def test_pipeline():
    assert_allclose(rules.preparation_years(2.0, 0.475), 1.05)
    assert_allclose(rules.launch_probability(np.array([0.0, 1.0, 2.0, 4.0])), [1, 1, 0.5, 0.25])
    u = (0.05, 0.2, 0.6, 0.9)
    # abandon below 0.1; launch between 0.1 and 0.1 + 0.9 * 0.5 = 0.55
    assert [rules.abandoned(x, 0.1) for x in u] == [True, False, False, False]
    assert [rules.launched(x, 0.1, 0.5) for x in u] == [False, True, False, False]


def test_viability_and_operation():
    assert_allclose([rules.viability_from_uniform(u, 0.92, 0.06) for u in (0.0, 0.5, 1.0)],
                    [0.86, 0.92, 0.98])
    assert_allclose(rules.viability_from_uniform(1.0, 0.98, 0.06), 1.0)
    u_year, u_fail = (0.5, 0.95, 0.95), (0.0, 0.1, 0.5)
    assert [rules.good_year(u, 0.9) for u in u_year] == [True, False, False]
    assert [rules.failed(u, v, 0.9, 0.3) for u, v in zip(u_year, u_fail, strict=True)] == [False, True, False]


def test_ration():
    paid, share = rules.ration(np.array([0.0, 1.0, 4.0]), 2.0)
    assert_allclose(paid, [0.0, 1.0, 2.0])
    assert_allclose(share, [1.0, 1.0, 0.5])


def test_a_rule_gives_the_same_bits_from_python_and_inside_compiled_code():
    """The Mesa agents call the rules from Python, the ensemble inside its compiled loop."""
    from sim.ensemble import risk_odds

    ra = np.random.default_rng(3).random((4, 50))
    assert_array_equal(risk_odds(ra), [[rules.risk_odds(x) for x in row] for row in ra])


def test_compiled_cache_is_keyed_by_every_compiled_module(tmp_path):
    """An edit to any compiled module (not only the one defining a compiled function) moves the
    Numba cache to a new folder, so no stale compiled rule can run."""
    import shutil
    from pathlib import Path

    from sim import _compiled

    package = Path(_compiled.__file__).parent
    for name in _compiled.COMPILED_MODULES:
        shutil.copy(package / name, tmp_path / name)
    before = _compiled.cache_dir(tmp_path)
    assert before == _compiled.cache_dir(tmp_path)
    with open(tmp_path / "rules.py", "a") as f:
        f.write("\n# an edit\n")
    assert _compiled.cache_dir(tmp_path) != before
