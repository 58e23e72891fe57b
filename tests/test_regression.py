"""The seeded regression baseline (tests/regression.py): every shipped scenario's key measures
equal the committed ones exactly, and a changed rule is caught."""

import sim.rules

from . import regression


def test_every_shipped_scenario_matches_the_regression_baseline():
    expected = regression.read()
    assert set(expected["scenario"]) == {sim.load_scenario(p).name for p in regression.SHIPPED}
    assert regression.differences(expected, regression.table()) == []


def test_the_baseline_catches_a_changed_constant_in_a_rule(monkeypatch):
    # rationing meets 90% of each request where it met all of it: a rule's constant changed
    ration = sim.rules.ration

    def changed(demand, allowance):
        paid, share = ration(demand, allowance)
        return 0.9 * paid, 0.9 * share

    monkeypatch.setattr(sim.rules, "ration", changed)
    paths = [p for p in regression.SHIPPED if p.stem in ("baseline", "advice")]
    expected = regression.read()
    found = regression.differences(expected[expected["scenario"].isin(["baseline", "advice"])],
                                   regression.table(paths))
    assert found and all(line.startswith("advice") for line in found), found  # advice is rationed; baseline has none
