"""The dashboard: a Mesa SolaraViz app for tweaking parameters and watching a run unfold.

    mutuals dashboard [--scenario scenarios/joined_up.toml] [--port 8765]
    solara run sim.app                 # the same page (MUTUALS_SCENARIO chooses the start)

In a notebook: ``sim.app.page(sim.load_scenario(...))`` shows it inline.

Every slider's default is the starting scenario's value (the schema's default for the default
`baseline`), and its range is the schema's allowed range, so the dashboard cannot drift from the
model (a test holds them together).
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import numpy as np
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from mesa.visualization import SolaraViz

from .fields import descend
from .instruments import Support
from .loading import load_scenario
from .model import MutualsModel
from .overrides import with_overrides
from .plots import support_spans
from .population import REGIONS, ServiceState
from .scenario import Scenario, parameter_paths

LEVER_UNITS = {"budget": "GBP m in all", "rate": "per service a year"}

# slider keyword -> (dotted path in the scenario schema, label): one per instrument's lever
SLIDERS = {
    **{f"{name}_{inst.lever}": (f"support.{name}.{inst.lever}", f"{inst.title}, {LEVER_UNITS[inst.lever]}")
       for name, inst in Support().instruments().items()},
    "cut_severity": ("fiscal.severity", "Cut severity (1 = actual cuts)"),
    "risk_aversion": ("population.risk_aversion", "Risk aversion (mean)"),
    "capacity": ("population.capacity", "Organisational capacity (mean)"),
    "capacity_erosion": ("behaviour.capacity_erosion", "Capacity erosion by cuts"),
    "review_rate": ("behaviour.review_rate", "Reviews per service a year"),
    "prior_mean": ("behaviour.prior_mean", "Prior belief in mutuals"),
    "memory": ("behaviour.memory", "Memory of evidence"),
    "peer_weight": ("behaviour.peer_weight", "Weight of a peer's outcome"),
    "transition_cost": ("mutuals.transition_cost", "Transition cost, GBP m"),
}


def slider_step(low: float, high: float) -> float:
    """A round step, a hundredth of the range's order of magnitude, so that the defaults and
    shipped values lie on the slider's grid (a slider snaps to its grid)."""
    return 10.0 ** np.floor(np.log10(high - low)) / 100.0


def starting_scenario() -> Scenario:
    """The scenario the dashboard starts from: MUTUALS_SCENARIO, else the schema's defaults."""
    path = os.environ.get("MUTUALS_SCENARIO")
    return load_scenario(Path(path)) if path else Scenario(name="baseline")


def model_params(scenario: Scenario) -> dict:
    """SolaraViz parameters: a slider per entry of SLIDERS, plus the seed."""
    limits = parameter_paths()
    params: dict = {"seed": {"type": "InputText", "value": str(scenario.run.seed),
                             "label": "Random seed"}}
    for name, (path, label) in SLIDERS.items():
        low, high, _ = limits[path]
        params[name] = {"type": "SliderFloat", "value": _value(scenario, path), "min": float(low),
                        "max": float(high), "step": slider_step(low, high), "label": label}
    return params


class DashboardModel(MutualsModel):
    """The Mesa model with the dashboard's sliders as keyword arguments."""

    base: Scenario = Scenario(name="baseline")

    def __init__(self, seed: str | int | None = None, **values):
        unknown = set(values) - set(SLIDERS)
        if unknown:
            raise TypeError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        settings = with_overrides(self.base, {SLIDERS[k][0]: v for k, v in values.items()},
                                  "dashboard")
        seed = int(seed) if seed not in (None, "") else settings.run.seed
        super().__init__(settings, rng=seed)


# SolaraViz reads the signature to know the keywords: list them explicitly
DashboardModel.__init__.__signature__ = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
     inspect.Parameter("seed", inspect.Parameter.KEYWORD_ONLY, default=None)]
    + [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=None) for k in SLIDERS])


def uptake_figure(model: MutualsModel) -> Figure:
    """Share of authorities running a mutual so far, with the critical-mass line."""
    frame = model.datacollector.get_model_vars_dataframe()
    run = model.settings.run
    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(frame["year"], 100 * frame["share_with_mutual"], "o-", color="C0", lw=2,
            label="authorities running a mutual")
    ax.plot(frame["year"], 100 * frame["live_mutuals"] / model.structure.n_authorities, "--",
            color="C2", label="live mutuals per 100 authorities")
    ax.axhline(100 * run.critical_mass_threshold, color="black", ls=":", lw=1.2,
               label=f"critical mass ({run.critical_mass_threshold:.0%})")
    ax.set_xlim(run.start_year, run.end_year)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(25.0, 105 * frame["share_with_mutual"].max()))
    ax.set_xlabel("year")
    ax.set_ylabel("% of authorities")
    ax.set_title(f"Uptake, {model.year}: {model.measures['authorities_with_mutual']:.0f} of "
                 f"{model.structure.n_authorities} authorities run a mutual")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


STATE_COLOURS = {"no mutual": "0.8", "preparing a spin-out": "C1", "running a mutual": "C2",
                 "a mutual failed": "C3"}


def authority_states(model: MutualsModel) -> list[str]:
    """Each authority's state for the map: running beats preparing beats failed."""
    states = []
    for a in model.authorities:
        s = set(a.service_states().values())
        if ServiceState.SPUN_OUT in s:
            states.append("running a mutual")
        elif ServiceState.PREPARING in s:
            states.append("preparing a spin-out")
        elif ServiceState.RETURNED in s:
            states.append("a mutual failed")
        else:
            states.append("no mutual")
    return states


def network_figure(model: MutualsModel) -> Figure:
    """The authorities as dots grouped by region (peers: same region and tier), coloured by
    state."""
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.subplots()
    structure = model.structure
    states = authority_states(model)
    centres = {r: (2.6 * (r % 3), -2.4 * (r // 3)) for r in range(len(REGIONS))}
    xy = np.zeros((structure.n_authorities, 2))
    golden = np.pi * (3 - np.sqrt(5))
    for r in range(len(REGIONS)):
        members = np.flatnonzero(structure.region == r)  # ordered by tier: a peer group each
        i = np.arange(len(members))
        radius = 0.13 * np.sqrt(i + 0.5)
        xy[members] = np.c_[centres[r][0] + radius * np.cos(i * golden),
                            centres[r][1] + radius * np.sin(i * golden)]
        ax.text(centres[r][0], centres[r][1] + 1.15, REGIONS[r], ha="center", fontsize=7)
    district = np.array([k == "district" for k in (a.kind for a in model.authorities)])
    for label, colour in STATE_COLOURS.items():
        chosen = np.array([s == label for s in states])
        for tier, marker in ((district, "o"), (~district, "s")):
            sel = chosen & tier
            ax.scatter(xy[sel, 0], xy[sel, 1], s=16, color=colour, marker=marker,
                       edgecolors="none")
        ax.scatter([], [], s=16, color=colour, label=f"{label} ({int(chosen.sum())})")
    ax.scatter([], [], s=16, color="0.5", marker="o", label="district")
    ax.scatter([], [], s=16, color="0.5", marker="s", label="county, unitary, met., London")
    ax.set_ylim(top=max(y for _, y in centres.values()) + 1.45)  # room for the top row's names
    ax.set_axis_off()
    ax.set_title(f"The {structure.n_authorities} authorities by region (peers: same region and "
                 "tier)", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=7, frameon=False)
    return fig


def UptakePlot(model):
    return solara.FigureMatplotlib(uptake_figure(model), format="png")


def AuthorityMap(model):
    return solara.FigureMatplotlib(network_figure(model), format="png")


def Explainer(model):
    """What the page shows, the year, and the settings in force (plain HTML: Solara's Markdown
    would fetch KaTeX from a CDN, which offline machines cannot reach)."""
    s = model.settings
    return solara.HTML(tag="div", unsafe_innerHTML=(
        f"<p><b>Year {model.year}</b> of {s.run.start_year}-{s.run.end_year}, scenario "
        f"<code>{s.name}</code> ({s.description or 'schema defaults'}).</p>"
        "<p>Each step is a year. Local authorities decide whether to spin services out as "
        "mutuals, weighing savings (more wanted as cuts deepen) against the risk of failure, the "
        "up-front cost and their capacity, and learning from the mutuals they can see. Move a "
        "slider, press <i>Reset</i> to start again with it, then <i>Step</i> or <i>Play</i>.</p>"
        "<p>Every slider's value now (a budget is spread over its instrument's window; support "
        f"funded: {', '.join(f'{a:g}-{b:g}' for a, b in support_spans(s)) or 'none'}):</p>"
        "<p style='font-size:0.85em'>"
        + " &middot; ".join(f"<span>{label}: {_value(s, path):g}</span>" for path, label in SLIDERS.values())
        + "</p>"))


def _value(scenario: Scenario, path: str) -> float:
    """A scenario's value at a dotted path."""
    return float(descend(scenario, path.split("."), getattr))


def page(scenario: Scenario | None = None):
    """The dashboard for ``scenario`` (default: the starting scenario)."""
    scenario = scenario if scenario is not None else starting_scenario()
    model_class = type("DashboardModel", (DashboardModel,), {"base": scenario})
    model_class.__init__.__signature__ = DashboardModel.__init__.__signature__
    params = model_params(scenario)
    model = model_class(**{k: v["value"] for k, v in params.items()})
    return SolaraViz(model, components=[(Explainer, 0), (UptakePlot, 0), (AuthorityMap, 0)],
                     model_params=params, name="Mutuals: uptake by English local authorities",
                     play_interval=400)


Page = page()
