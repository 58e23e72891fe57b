"""How the verdict's answers depend on its definitions: the threshold, the year, the base year of
"little happens", the unit counted and the population of authorities.

The verdict's own definitions (:data:`BASE`) are ours, not the Committee's, which gave none:
critical mass is Rogers' 16% (a share of eventual adopters, used here as a share of all
authorities), reached by 2020; "little happens" is a rise from 2012 of less than half of it. Each
is varied here one at a time, over the posterior's weighted particles, and the three parts of
the claim answered again (:func:`definitions`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import claim
from .analysis import year_reached
from .averaging import estimate
from .population import build_structure
from .scenario import Scenario

UNITS = ("share_with_mutual", "mutuals_per_authority", "share_of_services")
"""What is counted against the threshold: the share of authorities running a live mutual; live
mutual organisations per authority (a mutual may run several services: the record counts
organisations); the share of the services authorities could spin out that live mutuals run."""

UNIT_WORDS = {
    "share_with_mutual": "authorities running a mutual (share of authorities)",
    "mutuals_per_authority": "live mutual organisations per authority",
    "share_of_services": "share of eligible services run by live mutuals",
}

POPULATIONS = {"2012": 353, "today": 317}
"""The populations a scenario may choose (``population.structure``), by their size."""

BASE = dict(threshold=0.16, year=2020, base_year=2012, unit="share_with_mutual", population="2012")
"""The verdict's own definitions."""

VARIED = {
    "threshold": tuple(np.round(np.arange(0.10, 0.301, 0.02), 2)),
    "year": tuple(range(2015, 2031)),
    "base_year": (2012, 2014),
    "unit": UNITS,
    "population": tuple(POPULATIONS),
}
"""Each definition and the values it takes, one at a time, the others at :data:`BASE`."""

PARTS = claim.CLAIM
"""The parts a definition changes (self-sustaining and the barrier do not count against a
threshold)."""


def units(scenario: Scenario, frame: pd.DataFrame, per_organisation=None) -> dict[str, np.ndarray]:
    """The columns of :data:`UNITS` beyond the share of authorities, from a simulated ``frame``
    of ``scenario`` (``per_organisation``: services per mutual organisation, one per row of
    ``frame``, where its rows hold several parameter sets; by default the scenario's)."""
    structure = build_structure(scenario)
    per = scenario.mutuals.services_per_organisation if per_organisation is None else per_organisation
    organisations = frame["live_mutuals"].to_numpy() / per
    return {"mutuals_per_authority": organisations / structure.n_authorities,
            "share_of_services": frame["live_mutuals"].to_numpy() / structure.n_slots}


def answers_at(table: pd.DataFrame, weights: pd.Series, ess: float, none: str, more: str, *, threshold: float,
               year: int, base_year: int, unit: str) -> dict[str, float]:
    """The claim's three parts under one set of definitions: each part's probability and Monte
    Carlo error (``table``: policy, particle, replicate, year and the :data:`UNITS` columns;
    ``none`` and ``more``: the policies' labels)."""
    frame = table.assign(share_with_mutual=table[unit])
    reached = year_reached(frame, threshold, by=("policy", "particle", "replicate")) <= year
    wide = frame[(frame["policy"] == none) & frame["year"].isin((base_year, year))].pivot_table(
        index=["particle", "replicate"], columns="year", values="share_with_mutual")
    hits = {"little_without": claim.little(wide[year] - wide[base_year], threshold),
            "slow_without": reached.xs(none, level="policy"),
            "built_with": reached.xs(more, level="policy")}
    out = {}
    for part, hit in hits.items():
        got = estimate(hit, weights, ess)
        out[part], out[f"{part}_mc_error"] = got["probability"], got["mc_error"]
    return out


def definitions(tables: dict[str, pd.DataFrame], weights: pd.Series, ess: float, none: str,
                more: str) -> pd.DataFrame:
    """Each part's probability and answer under each definition of :data:`VARIED` (one at a
    time, the others at :data:`BASE`). ``tables``: the posterior draws by population (the keys of
    :data:`POPULATIONS`; a population missing is left out). Columns: ``definition``, ``value``,
    ``base`` (the verdict's own), per part its probability, Monte Carlo error and answer
    (``<part>_answer``), ``claim_holds``, and ``changes``: the parts whose answer differs from
    the verdict's own."""
    rows = []
    for name, values in VARIED.items():
        for value in values:
            d = BASE | {name: value}
            if d["population"] not in tables:
                continue
            got = answers_at(tables[d["population"]], weights, ess, none, more, threshold=d["threshold"],
                             year=d["year"], base_year=d["base_year"], unit=d["unit"])
            rows.append(dict(definition=name, value=str(value), base=value == BASE[name], **got))
    out = pd.DataFrame(rows)
    for part in PARTS:
        out[f"{part}_answer"] = claim.answer(part, out[part].to_numpy())
    out["claim_holds"] = claim.holds({p: out[f"{p}_answer"].to_numpy() for p in PARTS})
    own = out[out["base"]].iloc[0]
    out["changes"] = [", ".join(p for p in PARTS if r[f"{p}_answer"] != own[f"{p}_answer"])
                      for r in out.to_dict("records")]
    return out


def changed(table: pd.DataFrame) -> dict[str, list[str]]:
    """For each part, the definitions (name=value) under which its answer differs from the
    verdict's own (``table``: :func:`definitions`)."""
    return {part: [f"{r['definition']}={r['value']}" for r in table.to_dict("records")
                   if part in r["changes"].split(", ")] for part in PARTS}
