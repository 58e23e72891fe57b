"""The public interface for outside tools: the EMA Workbench and SALib drive the model through it."""

import numpy as np
import pytest

import sim
from sim import ema

from .conftest import SCENARIOS

DEC = sim.load_scenario(SCENARIOS / "december_2012.toml")
PATHS = ["behaviour.savings_rate", "behaviour.alternative_savings_rate", "population.risk_aversion"]


def test_parameters_carry_units_ranges_and_priors_from_the_schema():
    every, uncertain = sim.parameters(), sim.parameters("uncertain")
    assert set(uncertain["path"]) < set(every["path"])
    assert list(uncertain["path"]) == list(sim.scenario.uncertainties())
    row = uncertain.set_index("path").loc["population.reserves"]
    assert (row["plausible_low"], row["plausible_high"], row["scale"]) == (0.25, 4.0, "log")
    assert (every["low"] <= every["default"]).all() and every["unit"].str.len().gt(0).all()
    with pytest.raises(ValueError, match="uncertain"):
        sim.parameters("levers")


def test_run_returns_named_outcomes_from_one_tidy_table():
    names = ("p_critical_mass", "p_threshold_2030", "share_2020", "live_mutuals_2015", "years_to_threshold",
             "support_spent")
    a = sim.run(DEC, {"behaviour.peer_weight": 0.4}, replicates=12, seed=3, outcomes=names)
    assert list(a) == list(names)
    np.testing.assert_equal(a, sim.run(DEC, {"behaviour.peer_weight": 0.4}, replicates=12, seed=3,
                                       outcomes=names))  # NaN (never) equal to NaN
    table = sim.simulate(sim.with_overrides(DEC, {"behaviour.peer_weight": 0.4}), replicates=12, seed=3)
    assert a["share_2020"] == table.loc[table["year"] == 2020, "share_with_mutual"].median()
    assert 0 <= a["p_critical_mass"] <= a["p_threshold_2030"] <= 1
    with pytest.raises(sim.ScenarioError, match="allowed"):
        sim.run(DEC, outcomes=("share_of_nothing",))


def test_years_to_threshold_is_nan_when_the_median_replicate_never_reaches_it():
    low = sim.with_overrides(DEC, {"run.critical_mass_threshold": 0.99})
    assert np.isnan(sim.run(low, replicates=4, seed=1)["years_to_threshold"])  # 99%: never by 2030
    easy = sim.with_overrides(DEC, {"run.critical_mass_threshold": 0.01})
    years = sim.run(easy, replicates=4, seed=1)["years_to_threshold"]
    assert 0 <= years <= DEC.run.end_year - DEC.run.start_year


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # the workbench 3.0 on pandas 3.1
def test_an_ema_workbench_experiment_and_prim_through_the_api():
    from ema_workbench import SequentialEvaluator, perform_experiments
    from ema_workbench.analysis import prim

    model = ema.model(DEC, uncertain=PATHS, replicates=8, outcomes=("p_critical_mass", "years_to_threshold"))
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = perform_experiments(model, scenarios=60, evaluator=evaluator,
                                                    uncertainty_sampling_kwargs={"rng": 0})  # seeded: reproducible
    assert len(experiments) == 60 and outcomes["p_critical_mass"].shape == (60,)
    x = experiments[[ema.name(p) for p in PATHS]]
    # each experiment is sim.run at its point
    first = {p: float(x.iloc[0][ema.name(p)]) for p in PATHS}
    assert sim.run(DEC, first, replicates=8, seed=1)["p_critical_mass"] == outcomes["p_critical_mass"][0]
    interest = (outcomes["p_critical_mass"] >= 0.5).astype(int)
    assert 0 < interest.sum() < 60  # both answers occur over these ranges
    box = prim.Prim(x, interest, peel_alpha=0.1).find_box()
    assert box.peeling_trajectory["density"].iloc[-1] > interest.mean()


def test_a_salib_sobol_analysis_through_the_api():
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = sim.salib_problem(PATHS)
    x = sample.sample(problem, 8, calc_second_order=False, seed=1)
    y = np.array([sim.run(DEC, dict(zip(PATHS, row, strict=True)), replicates=6, seed=1)["share_2020"]
                  for row in x])
    indices = analyze.analyze(problem, y, calc_second_order=False, seed=1)
    assert len(indices["ST"]) == 3 and np.isfinite(indices["ST"]).all()
    with pytest.raises(sim.ScenarioError, match="plausible"):
        sim.salib_problem(["support.grants.budget"])
