"""The model's mechanisms, the Bass docking, reproducibility, the shipped scenarios and invariants."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.instruments import INSTRUMENTS
from sim.loading import load_scenario
from sim.overrides import MECHANISMS, PLATEAU, with_overrides, with_particle, without
from sim.population import ServiceState

from .conftest import SCENARIOS, SHIPPED

BASELINE = load_scenario(SCENARIOS / "baseline.toml")
CORE = without(BASELINE, *MECHANISMS)
"""The structure before the mechanisms added to fit the record: the mechanism tests of the core
(cuts, costs, risk) run on it, where uptake is large enough to show them."""


def mean_by_year(frame: pd.DataFrame, measure: str = "authorities_with_mutual") -> np.ndarray:
    return frame.groupby("year")[measure].mean().to_numpy()


# --- mechanism tests (docs/ODD.md section 8) ----------------------------------------------


def test_no_support_and_maximal_risk_aversion_means_nobody_adopts():
    s = with_overrides(CORE, {"population.risk_aversion": 1.0,
                                  "population.risk_aversion_spread": 0.0,
                                  "population.initial_adopters": 0.0})
    frame = sim.simulate(s, replicates=200, seed=1, engine="ensemble")
    assert frame["cumulative_spinouts"].max() == 0
    assert frame["in_preparation"].max() == 0
    # and the same population with ordinary risk aversion does adopt
    s2 = with_overrides(s, {"population.risk_aversion": 0.5, "population.risk_aversion_spread": 0.3})
    assert sim.simulate(s2, replicates=20, seed=1, engine="ensemble")["cumulative_spinouts"].max() > 0


@pytest.mark.parametrize("lever", [
    {"mutuals.transition_cost": 0.25},
    {"support.grants.budget": 50.0, "support.grants.start": 2011.0},
    {"support.barriers.budget": 5.0, "support.barriers.start": 2011.0},
])
def test_lowering_transition_cost_never_lowers_expected_uptake(lever):
    base = sim.simulate(CORE, replicates=400, seed=7, engine="ensemble")
    cheaper = sim.simulate(with_overrides(CORE, lever), replicates=400, seed=7, engine="ensemble")
    diff = mean_by_year(cheaper) - mean_by_year(base)
    # allow for Monte Carlo error only: about a tenth of an authority on 400 common draws
    assert diff.min() > -0.1, diff
    assert diff[-1] > 1.0  # and the effect is real, not nil


def _uptake_at_severity(overrides: dict, severity: float) -> float:
    s = with_overrides(CORE, {**overrides, "fiscal.severity": severity})
    return mean_by_year(sim.simulate(s, replicates=300, seed=3, engine="ensemble"))[-1]


def test_cuts_are_a_double_edged_sword():
    # with capacity erosion off, deeper cuts raise uptake (motivation, more reviews)
    no_erosion = {"behaviour.capacity_erosion": 0.0}
    assert _uptake_at_severity(no_erosion, 1.5) > _uptake_at_severity(no_erosion, 0.5) + 5
    # with the motivation effect off, deeper cuts lower it (capacity and reserves eroded)
    no_motivation = {"behaviour.pressure_motivation": 0.0, "behaviour.pressure_review": 0.0}
    assert _uptake_at_severity(no_motivation, 1.5) < _uptake_at_severity(no_motivation, 0.5) - 5


# --- the mechanisms added to fit the record ------------------------------------------------

BEFORE = pd.read_csv(SCENARIOS.parent / "tests" / "data" / "before_mechanisms.csv")
"""Tables of the model before these mechanisms (commit 85d2972; 12 replicates, seed 5)."""


ON = {"behaviour.pressure_adaptation": 0.3, "population.ready_share": 0.4, "population.readiness_growth": 0.02,
      "behaviour.attention_floor": 0.3, "mutuals.services_per_organisation": 1.3}
"""The plateau mechanisms switched on (they are off by default)."""


def _table(name: str, *off: str) -> pd.DataFrame:
    s = without(with_overrides(load_scenario(SCENARIOS / f"{name}.toml"), ON), *off)
    return sim.simulate(s, replicates=12, seed=5, engine="ensemble")[BEFORE.columns[1:]]


@pytest.mark.parametrize("name", ["baseline", "right_to_challenge", "cautious"])
def test_every_new_mechanism_switched_off_gives_the_earlier_model_to_the_bit(name):
    before = BEFORE[BEFORE["scenario"] == name].drop(columns="scenario").reset_index(drop=True)
    pd.testing.assert_frame_equal(_table(name, *MECHANISMS), before, check_exact=True, check_dtype=False)


SIMULATED = [m for m in MECHANISMS if m != "organisations"]  # organisations changes only what is counted


@pytest.mark.parametrize("mechanism", SIMULATED)
def test_each_new_mechanism_alone_changes_the_model_and_switched_off_restores_it(mechanism):
    before = BEFORE[BEFORE["scenario"] == "baseline"].drop(columns="scenario").reset_index(drop=True)
    others = [m for m in MECHANISMS if m != mechanism]
    alone = _table("baseline", *others)
    assert not alone.equals(before)
    pd.testing.assert_frame_equal(_table("baseline", *others, mechanism), before, check_exact=True,
                                  check_dtype=False)


BEFORE_PLATEAU = pd.read_csv(SCENARIOS.parent / "tests" / "data" / "before_plateau.csv")
"""The regression table (tests/regression.py) of the code before the plateau mechanisms
(commit 178fcd7), on today's scenario files."""


def test_the_plateau_mechanisms_switched_off_give_the_structure_of_2014_on_every_shipped_scenario():
    from . import regression

    # (off by default: switched on here, then off again)
    on = ON
    shipped = [load_scenario(p) for p in regression.SHIPPED]
    first = BEFORE_PLATEAU[BEFORE_PLATEAU["scenario"] == shipped[0].name]
    assert regression.differences(first, regression.key_measures(with_overrides(shipped[0], on))) != []
    got = pd.concat([regression.key_measures(without(with_overrides(s, on), *PLATEAU)) for s in shipped],
                    ignore_index=True)
    assert regression.differences(BEFORE_PLATEAU, got) == []


def _live(s, years=(2014, 2017, 2020)):
    frame = sim.simulate(s, replicates=40, seed=9, engine="ensemble")
    return frame.groupby("year")["live_mutuals"].mean().loc[list(years)].to_numpy()


def test_adaptation_makes_reviews_answer_recent_cuts_not_their_level():
    hist = without(load_scenario(SCENARIOS / "historical.toml"), *PLATEAU)
    level = _live(hist)
    adapted = _live(with_overrides(hist, {"behaviour.pressure_adaptation": 0.5}))
    assert (adapted < level).all()  # the same cuts, felt less once adapted to
    # with no cuts there is nothing to adapt to: the same model to the bit
    flat = with_overrides(hist, {"fiscal.severity": 0.0})
    np.testing.assert_array_equal(_live(flat), _live(with_overrides(flat, {"behaviour.pressure_adaptation": 0.5})))


def test_a_finite_pool_of_ready_services_is_used_up():
    hist = without(load_scenario(SCENARIOS / "historical.toml"), *PLATEAU)
    pool = with_overrides(hist, {"population.ready_share": 0.1, "population.readiness_growth": 0.0})
    frame = sim.simulate(pool, replicates=20, seed=9, engine="ensemble")
    assert (_live(pool) < _live(hist)).all()
    # no more services spin out than were ready at the start, plus the initial adopters' own
    ready = 0.1 * 1434
    assert frame["cumulative_spinouts"].max() < ready * 1.3 + 7
    grows = with_overrides(pool, {"population.readiness_growth": 0.05})
    assert _live(grows)[-1] > _live(pool)[-1]  # teams forming refill the pool


def test_national_attention_rises_with_the_push_and_fades_after_it():
    from sim.dynamics import attention_path

    hist = with_overrides(load_scenario(SCENARIOS / "historical.toml"),
                          {"behaviour.attention_floor": 0.2, "behaviour.attention_memory": 0.5,
                           "behaviour.attention_budget": 1.0})
    a = attention_path(hist)
    assert a[2013] == 1.0  # the Mutuals Support Programme: GBP 4.8m a year
    assert a[2016] < a[2015] < a[2014] <= a[2013]  # fades once the programme ends
    # 2015 has only the evidence programme (GBP 2m over 4.4 years, push 0.45), so attention
    # keeps half of 2014's full push; 2016 has no support: half again
    assert a[2015] == pytest.approx(0.2 + 0.8 * 0.5) and a[2016] == pytest.approx(0.2 + 0.8 * 0.25)
    assert a[2019] > a[2017]  # Mutuals Support Programme 2
    off = with_overrides(hist, {"behaviour.attention_floor": 1.0})
    assert set(attention_path(off).values()) == {1.0}


def test_organisations_count_services_over_services_per_organisation():
    from sim.record import load_record, model_values

    record = load_record(SCENARIOS / "calibration" / "record.toml")
    measures = {m: np.array([[0.0, 6.0, 12.0, 24.0, 36.0, 48.0, 54.0, 60.0, 66.0]])
                for m in ("cumulative_spinouts", "live_mutuals", "in_preparation")}
    one = model_values(record, measures, 2010)
    two = model_values(record, measures, 2010, per_organisation=2.0)
    for name in one:
        np.testing.assert_allclose(two[name], one[name] / 2.0)
    share = next(o for o in record.observation if o.share is not None)
    plain = model_values(record.model_copy(update={"observation": [share.model_copy(update={"share": None,
                         "error": "upper_bound"})]}), measures, 2010)
    np.testing.assert_allclose(one[share.name], plain[share.name] / share.share)


def test_a_particle_of_a_structure_keeps_its_mechanisms_off_whatever_its_values():
    s = with_particle(BASELINE, {"model": "without ready_pool", "population.ready_share": 0.2,
                                 "behaviour.pressure_adaptation": 0.4})
    assert s.population.ready_share == 1.0 and s.behaviour.pressure_adaptation == 0.4
    with pytest.raises(sim.ScenarioError, match="unknown structure"):
        with_particle(BASELINE, {"model": "no such"})


def test_contracts_end_and_other_models_take_services_out_of_reach():
    frame = sim.simulate(BASELINE, replicates=50, seed=3, engine="ensemble")
    assert frame["lost_contracts"].max() > 0
    assert frame["alternative_delivery"].max() > 0
    off = sim.simulate(without(BASELINE, "contracts", "options_appraisal"), replicates=50, seed=3)
    assert off["lost_contracts"].max() == 0 and off["alternative_delivery"].max() == 0


# --- docking with the Bass model -----------------------------------------------------------


def test_bass_docking_ensemble_mean_follows_the_discrete_bass_recursion():
    s = load_scenario(SCENARIOS / "validation" / "bass.toml")
    p, q = s.behaviour.p, s.behaviour.q
    frame = sim.simulate(s, replicates=2000, seed=11, engine="ensemble")
    simulated = mean_by_year(frame, "share_with_mutual")
    expected = [0.0]
    for _ in range(len(simulated) - 1):
        f = expected[-1]
        expected.append(f + (p + q * f) * (1 - f))
    # The ensemble mean lags the deterministic recursion by q Var(F(t)) (Jensen), a few
    # thousandths with 353 authorities; the tolerance allows that and no more.
    np.testing.assert_allclose(simulated, expected, atol=0.008)
    assert simulated[6] > 0.3  # it did diffuse
    # Exactly: conditional on each replicate's F(t), E[F(t+1)] = F + (p + q F)(1 - F).
    shares = frame.pivot(index="replicate", columns="year", values="share_with_mutual").to_numpy()
    f, g = shares[:, :-1], shares[:, 1:]
    residual = g - (f + (p + q * f) * (1 - f))
    for t in range(residual.shape[1]):
        se = residual[:, t].std(ddof=1) / np.sqrt(len(residual)) + 1e-12
        assert abs(residual[:, t].mean()) < 4.5 * se + 1e-12, (t, residual[:, t].mean(), se)


# --- reproducibility -----------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["ensemble", "mesa"])
def test_same_seed_same_table_different_seed_different_table(engine):
    s = load_scenario(SCENARIOS / "historical.toml")
    n = 2 if engine == "mesa" else 20
    a = sim.simulate(s, replicates=n, seed=5, engine=engine)
    b = sim.simulate(s, replicates=n, seed=5, engine=engine)
    c = sim.simulate(s, replicates=n, seed=6, engine=engine)
    pd.testing.assert_frame_equal(a, b)
    assert not a.drop(columns="scenario").equals(c.drop(columns="scenario"))


def test_replicate_r_uses_the_same_seed_in_every_scenario_and_any_grouping():
    from sim.simulation import replicate_seeds

    assert replicate_seeds(9, 5)[3] == replicate_seeds(9, 2, first=3)[0]
    # common random numbers: the population draws are shared, so t=0 is identical
    a = sim.simulate(BASELINE, replicates=10, seed=2, engine="ensemble")
    b = sim.simulate(load_scenario(SCENARIOS / "joined_up.toml"), replicates=10, seed=2,
                     engine="ensemble")
    first = a["year"] == a["year"].min()
    np.testing.assert_array_equal(a.loc[first, "authorities_with_mutual"],
                                  b.loc[first, "authorities_with_mutual"])
    # and the fiscal draws too: spending power is the same every year
    np.testing.assert_array_equal(a["mean_spending_power"], b["mean_spending_power"])


def test_the_mesa_model_is_made_of_agents():
    from sim.agents import LocalAuthority, Mutual, MutualStatus
    from sim.model import MutualsModel

    model = MutualsModel(load_scenario(SCENARIOS / "historical.toml"), rng=4)
    for _ in range(10):
        model.step()
    authorities = model.agents_by_type[LocalAuthority]
    assert len(authorities) == 353
    kinds = pd.Series([a.kind for a in authorities]).value_counts().to_dict()
    assert kinds == {"district": 201, "unitary": 55, "metropolitan": 36, "london": 33,
                     "county": 27, "scilly": 1}
    mutuals = model.agents_by_type[Mutual]
    live = [m for m in mutuals if m.status is MutualStatus.LIVE]
    assert len(live) == model.measures["live_mutuals"]
    assert sum(a.has_live_mutual for a in authorities) == model.measures["authorities_with_mutual"]
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame["year"]) == list(range(2010, 2021))


def test_the_mutual_agents_record_what_the_compiled_step_says_happened():
    """The Mesa agents act on each service's year (sim.dynamics.slot_year): their records
    agree with the model's counts."""
    from sim.agents import Mutual, MutualStatus
    from sim.model import MutualsModel

    s = with_overrides(load_scenario(SCENARIOS / "historical.toml"),
                       {"mutuals.contract_years": 3.0, "mutuals.retention": 0.5})
    model = MutualsModel(s, rng=4)
    for _ in range(12):
        model.step()
    mutuals = list(model.agents_by_type[Mutual])
    status = pd.Series([m.status for m in mutuals]).value_counts()
    assert status.get(MutualStatus.FAILED, 0) == model.counters["failures"] > 0
    assert status.get(MutualStatus.LOST, 0) == model.counters["lost_contracts"] > 0
    assert len(mutuals) == model.counters["cumulative_spinouts"]
    for m in mutuals:
        years = m.good_years + m.bad_years
        if m.status is MutualStatus.LIVE:
            assert years == model.year - m.start_year
            assert model.slot_state[m.slot] == ServiceState.SPUN_OUT
        else:
            assert 1 <= years <= model.year - m.start_year


def test_today_population_has_317_authorities():
    s = with_overrides(BASELINE, {"population.structure": "today"})
    frame = sim.simulate(s, replicates=3, seed=1, engine="ensemble")
    share = frame["authorities_with_mutual"] / frame["share_with_mutual"]
    assert np.allclose(share[frame["share_with_mutual"] > 0], 317)


# --- every shipped scenario ----------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped_runs():
    return {p.stem: sim.simulate(load_scenario(p), replicates=100, seed=8, engine="ensemble")
            for p in SHIPPED}


def _at(frame, year, measure="share_with_mutual"):
    return frame.loc[frame["year"] == year, measure].median()


def test_shipped_scenarios_tables(shipped_runs):
    for name, frame in shipped_runs.items():
        assert len(frame) == 100 * 21, name
        assert set(frame["year"]) == set(range(2010, 2031))
        assert not frame.isna().any().any(), name
    base = shipped_runs["baseline"]
    assert base["support_spent"].max() == 0
    # every instrument alone and the joined-up policy raise median uptake on common draws
    for name in ("grants", "advice", "evidence", "tested_models", "barriers",
                 "right_to_challenge", "joined_up", "historical"):
        assert _at(shipped_runs[name], 2030) > _at(base, 2030), name
    assert _at(shipped_runs["joined_up"], 2025) > max(
        _at(shipped_runs[n], 2025) for n in ("grants", "advice", "evidence", "tested_models", "barriers"))
    # support money is spent only in the instruments' windows
    hist = shipped_runs["historical"]
    assert hist.loc[hist["year"] == 2011, "spent_evidence"].min() > 0  # the Mutuals Taskforce
    assert hist.loc[hist["year"] == 2013, "spent_advice"].max() > 0
    assert hist.loc[hist["year"].isin([2016, 2017]), "support_spent"].max() == 0
    assert hist["challenges"].max() > 0
    # the Bass case reaches (almost) everyone; nobody fails
    bass = shipped_runs["bass"]
    assert _at(bass, 2030) > 0.95 and bass["failures"].max() == 0


# --- invariants (property-based) -----------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    severity=st.floats(0.0, 3.0),
    risk=st.floats(0.0, 1.0),
    budget=st.floats(0.0, 50.0),
    per_spinout=st.floats(0.0, 2.0),
    per_project=st.floats(0.0, 1.0),
    preparation=st.floats(0.0, 5.0),
    initial=st.floats(0.0, 0.5),
)
def test_invariants(seed, severity, risk, budget, per_spinout, per_project, preparation, initial):
    overrides = {"fiscal.severity": severity, "population.risk_aversion": risk,
                 "population.initial_adopters": initial, "mutuals.preparation_years": preparation,
                 "support.grants.per_spinout": per_spinout, "support.advice.per_project": per_project,
                 "support.right_to_challenge.rate": 0.02}
    for name in INSTRUMENTS:
        if name != "right_to_challenge":
            overrides[f"support.{name}.budget"] = budget
    s = with_overrides(BASELINE, overrides)
    frame = sim.simulate(s, replicates=3, seed=seed, engine="ensemble")
    assert not frame.isna().any().any()
    assert frame["authorities_with_mutual"].between(0, 353).all()
    assert frame["share_with_mutual"].between(0, 1).all()
    slots = 1434
    assert (frame["live_mutuals"] + frame["in_preparation"] + frame["returned_in_house"] <= slots).all()
    assert (frame["live_mutuals"] <= frame["cumulative_spinouts"]).all()
    assert (frame["authorities_with_mutual"] <= frame["live_mutuals"]).all()
    for _, rep in frame.groupby("replicate"):
        for m in ("cumulative_spinouts", "abandoned", "failures", "challenges",
                  "cumulative_support_spent"):
            assert (np.diff(rep[m].to_numpy()) >= -1e-9).all(), m
        for name in INSTRUMENTS:
            assert rep[f"spent_{name}"].sum() <= getattr(s.support, name).budget + 1e-9, name
    assert (frame[[f"spent_{n}" for n in INSTRUMENTS]] >= 0).all().all()
