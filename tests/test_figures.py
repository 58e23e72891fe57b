"""Every figure the package makes, rendered on a small run: no text outside the canvas, over
another text or over a legend (tests/layout.py)."""

import matplotlib
import matplotlib.figure
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from sim.cli import main

from .conftest import SCENARIOS
from .layout import text_faults


def test_the_layout_check_finds_each_planted_fault():
    clean = plt.figure(figsize=(6, 4), layout="constrained")
    ax = clean.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend(loc="upper left")
    ax.set_title("a title")
    assert text_faults(clean) == []

    clipped = plt.figure(figsize=(2, 2))
    clipped.suptitle("a title far too long for a figure two inches wide")
    assert any(f.startswith("outside the canvas") for f in text_faults(clipped))

    crowded = plt.figure(figsize=(4, 3))
    crowded.text(0.3, 0.5, "one text")
    crowded.text(0.32, 0.5, "another text")
    assert any(f.startswith("overlap") for f in text_faults(crowded))

    covered = plt.figure(figsize=(6, 4))
    ax = covered.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.legend(loc="upper left")
    ax.text(0.02, 0.97, "a label on the legend", transform=ax.transAxes, va="top")
    assert any(f.startswith("over a legend") for f in text_faults(covered))
    plt.close("all")


@pytest.fixture
def saved(monkeypatch):
    """The layout faults of every figure saved while the test runs, by file name."""
    found: dict[str, list[str]] = {}
    save = matplotlib.figure.Figure.savefig

    def checked(fig, fname, *args, **kwargs):
        found[str(fname)] = text_faults(fig)
        return save(fig, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", checked)
    return found


def _names(found: dict) -> set[str]:
    return {name.rsplit("/", 1)[-1] for name in found}


def test_every_figure_the_commands_write_has_readable_text(tmp_path, saved):
    s = {p.stem: str(p) for p in SCENARIOS.glob("*.toml")}
    # baseline stays below the threshold: the threshold's label once met the legend
    assert main(["run", s["historical"], s["baseline"], "--replicates", "3", "--out", str(tmp_path / "run")]) == 0
    for n in (1, 2, 3, len(s)):  # 1-3 panels once clipped the title and the y-label
        policies = sorted(s.values())[:n]
        assert main(["compare", *policies, "--replicates", "3", "--out", str(tmp_path / f"compare{n}")]) == 0
    assert main(["tipping", s["historical"], "--replicates", "3", "--out", str(tmp_path / "tipping")]) == 0
    assert main(["phase", s["historical"], "--replicates", "1", "--out", str(tmp_path / "phase")]) == 0
    # under a posterior the titles say over what: longer (the phase diagram's once ran off the canvas)
    toy = tmp_path / "posterior.parquet"
    pd.DataFrame({"behaviour.savings_rate": [0.05, 0.12], "weight": [0.5, 0.5]}).to_parquet(toy)
    under = ["--posterior", str(toy), "--draws", "2", "--replicates", "1"]
    assert main(["phase", s["historical"], "--steps", "2", *under, "--out", str(tmp_path / "phase_post")]) == 0
    assert main(["tipping", s["historical"], *under, "--out", str(tmp_path / "tipping_post")]) == 0
    assert main(["run", s["historical"], *under, "--out", str(tmp_path / "run_post")]) == 0
    assert main(["compare", s["baseline"], s["historical"], *under, "--out", str(tmp_path / "compare_post")]) == 0
    assert main(["design", "--posterior", str(toy), "--nfe", "10", "--population", "5", "--draws", "2",
                 "--replicates", "1", "--seeds", "1", "--rescore-draws", "2", "--rescore-replicates", "1",
                 "--out", str(tmp_path / "design")]) == 0
    assert main(["verdict", "--replicates", "2", "--lhs", "4", "--lhs-replicates", "1", "--sobol", "1",
                 "--out", str(tmp_path / "verdict")]) == 0
    assert {"uptake.png", "critical_mass_by_year.png", "critical_mass_bars.png", "outcomes.png",
            "tipping.png", "phase.png", "defaults.png", "structure.png", "sobol.png", "pareto.png", "levers.png",
            "convergence.png"} <= _names(saved)
    assert {name: faults for name, faults in saved.items() if faults} == {}
    plt.close("all")


def test_the_calibration_verdict_and_dashboard_figures_have_readable_text(tmp_path, saved):
    from sim.app import DashboardModel, network_figure, uptake_figure
    from sim.calibrate import calibrated_parameters, draw_particles, predictive
    from sim.loading import load_scenario
    from sim.overrides import with_overrides
    from sim.plots import plot_fit, plot_posterior
    from sim.record import load_record
    from sim.verdict import scenario_files, verdict, write_verdict

    scenario = load_scenario(SCENARIOS / "historical.toml")
    record = load_record(SCENARIOS / "calibration" / "record.toml")
    params = calibrated_parameters(scenario, record.last_date)
    # a toy posterior: three particles, each parameter at a quarter, a half and three quarters
    posterior = pd.DataFrame({p: [u.low + f * (u.high - u.low) for f in (0.25, 0.5, 0.75)]
                              for p, u in params.items()}).assign(weight=[0.2, 0.5, 0.3])
    short = with_overrides(scenario, {"run.end_year": 2018, "run.critical_mass_year": 2018})
    table = predictive(short, draw_particles(posterior, 3, 1), 2, 1)
    figures = {"fit": plot_fit(table, record, scenario.run.start_year),
               "posterior": plot_posterior(posterior, params)}
    model = DashboardModel(seed="3")
    for _ in range(4):
        model.step()
    figures |= {"dashboard uptake": uptake_figure(model), "dashboard map": network_figure(model)}
    assert {name: text_faults(fig) for name, fig in figures.items() if text_faults(fig)} == {}

    toy = posterior[["behaviour.review_rate", "behaviour.temperature", "weight"]]
    scenarios = {name: load_scenario(path) for name, path in scenario_files(SCENARIOS).items()}
    v = verdict(scenarios, seed=2, replicates=4, lhs_points=6, lhs_replicates=1, sobol_points=1,
                posterior=toy, posterior_particles=3, posterior_replicates=2, structure_particles=2,
                structure_replicates=2, sensitivity_points=200, sensitivity_replicates=1)
    write_verdict(v, tmp_path)
    assert {"posterior_threshold_by_year.png", "sensitivity.png"} <= _names(saved)
    assert {name: faults for name, faults in saved.items() if faults} == {}
    plt.close("all")
