"""The record, its error model, ABC-SMC calibration and `mutuals calibrate`."""

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import sim
from sim import calibrate as cal
from sim.cli import main
from sim.errors import ScenarioError
from sim.evaluator import Evaluator
from sim.loading import load_scenario
from sim.overrides import MECHANISMS, PLATEAU, STRUCTURES, switched_off, with_overrides
from sim.record import Observation, Record, distance, load_record, model_values
from sim.scenario import Uncertainty, uncertainties

from .conftest import SCENARIOS

RECORD = SCENARIOS / "calibration" / "record.toml"


def _obs(**kw) -> Observation:
    base = dict(name="x", date=2014.25, measure="live_mutuals", counts="local_authority", value=50,
                error="lognormal", sigma=0.3, source="test")
    return Observation(**{**base, **kw})


def test_the_shipped_record_holds_every_uptake_figure_up_to_early_2017():
    record = load_record(RECORD)
    assert len(record.observation) == 8
    assert 2017 < record.last_date <= 2017.5  # later counts are held back
    la = [o for o in record.observation if o.counts == "local_authority"]
    assert [(o.value, o.since, o.date, o.error) for o in la] == [(50, 2010.0, 2014.25, "lognormal")]
    # two-sided statements ("about half", "over 110") are two-sided, with local government's share
    two_sided = {o.name: (o.value, o.share) for o in record.observation
                 if o.counts == "all_sectors" and o.error == "lognormal"}
    assert two_sided == {"local_government_share_september_2014": (100, 0.4), "all_sectors_early_2017": (115, 0.4)}
    assert {o.value for o in record.observation} >= {9, 58, 40, 70, 100, 115}


def test_model_values_interpolate_between_years():
    record = Record(observation=[_obs(name="a", date=2012.5),
                                 _obs(name="b", date=2014.25, since=2010.0, measure="new_spinouts")])
    measures = {"live_mutuals": np.array([[0.0, 2.0, 4.0, 8.0, 10.0, 12.0]]),
                "cumulative_spinouts": np.array([[7.0, 9.0, 13.0, 20.0, 40.0, 41.0]]),
                "in_preparation": np.zeros((1, 6))}
    values = model_values(record, measures, 2010)
    assert_allclose(values["a"], [6.0])  # halfway between 4 and 8
    assert_allclose(values["b"], [40.25 - 7.0])


def test_distance_follows_the_error_model():
    record = Record(observation=[_obs(name="la"), _obs(name="bound", counts="all_sectors", value=9,
                                                       error="upper_bound", sigma=0.2)])
    at_truth = distance(record, {"la": 50.0, "bound": 9.0})
    assert at_truth == 0.0
    # a lognormal figure: one sigma off on the log(1 + x) scale is distance 1
    one_sigma = np.expm1(np.log1p(50.0) + 0.3)
    assert_allclose(distance(record, {"la": one_sigma, "bound": 0.0}), 1.0)
    # a bound counts only when exceeded
    assert distance(record, {"la": 50.0, "bound": 3.0}) == 0.0
    assert_allclose(distance(record, {"la": 50.0, "bound": np.expm1(np.log(10.0) + 0.4)}), 2.0)


@pytest.mark.parametrize("edit, key", [
    (('error = "lognormal"', 'error = "gaussian"'), "observation.4.error"),
    (("sigma = 0.3", "sigma = -1"), "observation.4.sigma"),
    (("since = 2010.0\n", ""), "observation.4"),
    (('counts = "local_authority"', 'counts = "everyone"'), "observation.4.counts"),
    (('name = "all_sectors_2010"', 'name = "all_sectors_2010"\nvalu = 3'), "observation.0.valu"),
    (("value = 115\nshare = 0.4\n", "value = 115\n"), "observation.7"),  # two-sided needs a share
    (("value = 9\n", "value = 9\nshare = 0.5\n"), "observation.0"),  # a bound has none
])
def test_a_wrong_record_is_refused_naming_the_key(tmp_path, capsys, edit, key):
    text = RECORD.read_text().replace(*edit)
    assert text != RECORD.read_text()
    bad = tmp_path / "record.toml"
    bad.write_text(text)
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        load_record(bad)
    out = tmp_path / "cal"
    code = main(["calibrate", str(SCENARIOS / "historical.toml"), "--record", str(bad),
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and key in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / ".cal.work").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["record.toml"]


def test_priors_come_from_schema_metadata():
    params = cal.calibrated_parameters(load_scenario(SCENARIOS / "historical.toml"), 2014.7)
    every = uncertainties()
    assert set(params) <= set(every)
    # the behavioural ones all, the advice and evidence effects (running before 2014.7), not the
    # cuts or instruments not yet in force
    assert {p for p in every if p.startswith(("population.", "behaviour.", "mutuals."))} <= set(params)
    assert "support.advice.cost_reduction" in params and "support.evidence.visibility" in params
    assert "fiscal.severity" not in params and "support.grants.per_spinout" not in params
    assert every["population.reserves"].scale == "log"  # 0.25-4 spans more than ten times
    # the unbounded coordinates map the standard normal's quantiles onto each range
    z = {cal._key(p): 0.0 for p in params}
    mid = cal.from_unbounded(params, z)
    assert_allclose(mid["behaviour.review_rate"], (0.04 + 0.15) / 2)
    assert_allclose(mid["population.reserves"], 1.0)  # the geometric middle of 0.25-4


@pytest.mark.slow
def test_abc_recovers_the_bass_parameters_from_synthetic_data(tmp_path):
    """At the smallest size that still catches a planted error: the same run on a record made
    with q = 0.6 gives q's 90% interval 0.51-0.70, which misses 0.38 (measured; 200 particles and
    10 generations took four times as long for no more power)."""
    bass = load_scenario(SCENARIOS / "validation" / "bass.toml")
    truth = {"behaviour.p": 0.03, "behaviour.q": 0.38}
    years = [2012, 2014, 2016, 2018]
    frame = sim.simulate(bass, replicates=200, seed=3, engine="ensemble")
    adopters = frame.groupby("year")["live_mutuals"].mean()
    record = Record(observation=[
        _obs(name=f"adopters_{y}", date=float(y), value=float(adopters[y]), sigma=0.1) for y in years])
    params = {"behaviour.p": Uncertainty(0.03, 0.005, 0.1, "linear"),
              "behaviour.q": Uncertainty(0.38, 0.05, 0.8, "linear")}
    result = cal.run_abc({"bass": bass}, record, tmp_path / "h.db", particles=80, generations=7,
                         min_epsilon=1.0, seed=5, params=params, steered=list(params))
    table = cal.identifiability(result).set_index("parameter")
    for path, value in truth.items():
        low, high = table.loc[path, ["posterior_q05", "posterior_q95"]]
        assert low <= value <= high, (path, low, high)
        assert table.loc[path, "ratio"] < 0.5  # and the data do narrow it


@pytest.mark.slow
def test_mutuals_calibrate_writes_the_whole_folder(tmp_path):
    out = tmp_path / "cal"
    args = ["calibrate", str(SCENARIOS / "historical.toml"), "--record", str(RECORD), "--particles",
            "40", "--generations", "3", "--predictive-particles", "10", "--predictive-replicates", "2",
            "--recovery", "2", "--recovery-particles", "20", "--recovery-generations", "2", "--seed", "3",
            "--out", str(out)]
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- calibration:start -->\nold\n<!-- calibration:end -->\nafter\n")
    assert main([*args, "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old" not in text and text.startswith("before\n") and text.endswith("after\n")
    assert "of the 8 figures fit" in text and "Rolling origin" in text and "Recovery" in text
    names = {p.name for p in out.iterdir()}
    assert {"posterior.parquet", "predictive.parquet", "fit.png", "posterior.png", "identifiability.csv",
            "manifest.json", "models.csv", "validation.csv", "recovery.csv", "edges.csv", "calibration.md",
            "history.db"} <= names
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert len(posterior) == 40 and abs(posterior["weight"].sum() - 1) < 1e-9
    assert "behaviour.review_rate" in posterior.columns and set(posterior["model"]) <= set(STRUCTURES)
    predictive = pd.read_parquet(out / "predictive.parquet")
    assert {"particle", "replicate", "year", "live_mutuals", "cumulative_spinouts",
            "authorities_with_mutual", "share_with_mutual", "in_preparation"} <= set(predictive.columns)
    assert predictive["particle"].nunique() == 10 and predictive["year"].max() == 2030
    models = pd.read_csv(out / "models.csv")
    assert list(models.columns) == ["model", "probability", "probability_rerun", "description"]
    assert list(models["model"]) == list(STRUCTURES)
    assert abs(models["probability"].sum() - 1) < 1e-6 and abs(models["probability_rerun"].sum() - 1) < 1e-6
    validation = pd.read_csv(out / "validation.csv")
    assert list(validation.columns) == list(cal.VALIDATION_COLUMNS)
    assert set(validation["fit_until"]) == {2012.5, 2014.7}
    assert (validation["date"] > validation["fit_until"]).all()
    assert validation.loc[validation["observation"] == "all_sectors_early_2017", "crps"].notna().all()
    recovery = pd.read_csv(out / "recovery.csv")
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(recovery) == 2 * len(manifest["steered"])
    assert (recovery["q05"] <= recovery["q25"]).all() and (recovery["q75"] <= recovery["q95"]).all()
    ess = manifest["ess"]
    assert 1 <= ess <= 40 and ess == pytest.approx(1 / (posterior["weight"] ** 2).sum(), abs=0.06)
    assert manifest["settings"]["particles"] == 40 and manifest["record"]["observation"]
    assert not (tmp_path / ".cal.work").exists()
    # the same seed gives the same posterior, on one process or with the runs side by side on two
    assert main([*args[:-1], str(tmp_path / "again"), "--no-validate", "--recovery", "0", "--workers", "2"]) == 0
    assert readme.read_text() == text  # without --readme it is left alone
    again = pd.read_parquet(tmp_path / "again" / "posterior.parquet")
    pd.testing.assert_frame_equal(again, posterior)


def test_model_selection_compares_the_structures_each_plateau_mechanism_off():
    assert list(STRUCTURES) == ["extended", *(f"without {m}" for m in PLATEAU), "structure of 2014"]
    assert switched_off("extended") == {}
    assert switched_off("without attention") == {"behaviour.attention_floor": 1.0}
    assert set(switched_off("structure of 2014")) == {k for m in PLATEAU for k in MECHANISMS[m]}
    assert set(cal.STRUCTURE_DESCRIPTIONS) == set(STRUCTURES)
    # a structure's simulator keeps its mechanisms off whatever the parameters drawn
    hist = load_scenario(SCENARIOS / "historical.toml")
    record = load_record(RECORD)
    params = cal.calibrated_parameters(hist, record.last_date)
    values = {k: u.default for k, u in params.items()} | {"population.ready_share": 0.05,
                                                           "population.readiness_growth": 0.0}
    on = cal.RecordModel(hist, record, params).values(values, 3)
    off = cal.RecordModel(hist, record, params, off=switched_off("without ready_pool")).values(values, 3)
    plain = cal.RecordModel(with_overrides(hist, switched_off("without ready_pool")), record, params)
    assert off == plain.values({k: v for k, v in values.items() if not k.startswith("population.read")}, 3)
    assert off != on


def test_crps_and_the_edge_warnings():
    rng = np.random.default_rng(1)
    x = rng.normal(size=20000)
    # for a standard normal predictive, CRPS(0) = (sqrt(2) - 1) / sqrt(pi)
    assert cal.crps(x, 0.0) == pytest.approx((np.sqrt(2) - 1) / np.sqrt(np.pi), abs=0.01)
    assert cal.crps(x, 3.0) > cal.crps(x, 1.0) > cal.crps(x, 0.0)
    params = {"a": Uncertainty(0.5, 0.0, 1.0, "linear"), "b": Uncertainty(1.0, 0.1, 10.0, "log")}
    post = pd.DataFrame({"a": [0.05, 0.5, 0.9, 0.95], "b": [0.12, 0.9, 1.1, 9.0], "weight": [0.1, 0.5, 0.2, 0.2]})
    edges = cal.edge_mass(post, params).set_index("parameter")
    assert edges.loc["a", "top_fifth"] == pytest.approx(0.4) and edges.loc["a", "warning"]
    assert edges.loc["b", "bottom_fifth"] == pytest.approx(0.1) and not edges.loc["b", "warning"]


@pytest.mark.slow
def test_an_interrupted_calibration_resumes_from_its_history(tmp_path):
    hist = load_scenario(SCENARIOS / "historical.toml")
    record = load_record(RECORD)
    params = cal.calibrated_parameters(hist, record.last_date)
    steered = ["behaviour.savings_rate", "behaviour.alternative_savings_rate"]
    db = tmp_path / "history.db"
    first = cal.run_abc({"h": hist}, record, db, particles=30, generations=2, min_epsilon=0.0,
                        seed=4, params=params, steered=steered)
    assert first.generations == 2
    resumed = cal.run_abc({"h": hist}, record, db, particles=30, generations=4, min_epsilon=0.0,
                          seed=4, params=params, steered=steered, resume=True)
    assert resumed.generations == 4 and resumed.epsilons[:2] == first.epsilons
    assert resumed.epsilons[3] < resumed.epsilons[1]  # it went on from where it stopped
    # pyabc is seeded through numpy's global generator; the caller gets its state back
    np.random.seed(7)  # noqa: NPY002
    before = np.random.random(3)  # noqa: NPY002
    np.random.seed(7)  # noqa: NPY002
    cal.run_abc({"h": hist}, record, tmp_path / "again.db", particles=10, generations=1, min_epsilon=0.0,
                seed=4, params=params, steered=steered)
    assert (np.random.random(3) == before).all()  # noqa: NPY002


def test_a_resume_of_another_calibration_is_refused(tmp_path, capsys):
    work = tmp_path / ".cal.work"
    work.mkdir()
    (work / "fingerprint").write_text("of another run")
    code = main(["calibrate", str(SCENARIOS / "historical.toml"), "--record", str(RECORD), "--resume",
                 "--out", str(tmp_path / "cal")])
    assert code == 2 and "another scenario, record or settings" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cal.work"]  # kept, nothing added


def test_an_unreachable_scheduler_is_refused_quickly_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "cal"
    code = main(["calibrate", str(SCENARIOS / "historical.toml"), "--record", str(RECORD),
                 "--scheduler", "tcp://127.0.0.1:9", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "--scheduler tcp://127.0.0.1:9" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_calibration_runs_on_a_local_dask_cluster(tmp_path):
    hist = load_scenario(SCENARIOS / "historical.toml")
    record = load_record(RECORD)
    params = cal.calibrated_parameters(hist, record.last_date)
    with Evaluator(dask_local=2) as evaluator:
        result = cal.run_abc({"h": hist}, record, tmp_path / "h.db", particles=30, generations=2,
                             seed=4, params=params, steered=["behaviour.savings_rate"], evaluator=evaluator)
        assert evaluator.client.status == "running"
    assert evaluator.client.status == "closed"
    assert result.generations == 2 and len(result.posterior) == 30
    assert set(params) < set(result.posterior.columns)
