"""Run a scenario on either engine and return one tidy table.

Replicate ``r`` of every scenario uses the same seed, derived from the root seed and ``r`` alone
(``numpy.random.SeedSequence(seed, spawn_key=(r,))``), so that policies are compared on common
random numbers and a replicate's numbers do not depend on how replicates are grouped.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from . import dynamics as dyn
from .ensemble import batch_key, run_batch, run_ensemble
from .scenario import Scenario

Engine = Literal["ensemble", "mesa"]

COUNT_MEASURES = ("authorities_with_mutual", "live_mutuals", "cumulative_spinouts",
                  "in_preparation", "abandoned", "failures", "returned_in_house", "challenges")


def replicate_seed(seed: int, replicate: int) -> int:
    """The 128-bit seed of one replicate, from the root seed and the replicate's number."""
    words = np.random.SeedSequence(seed, spawn_key=(replicate,)).generate_state(4, np.uint32)
    return int.from_bytes(words.astype("<u4").tobytes(), "little")


def replicate_seeds(seed: int, replicates: int, first: int = 0) -> list[int]:
    return [replicate_seed(seed, r) for r in range(first, first + replicates)]


def _bar(scenario: Scenario, total: int, progress: bool):
    """A progress bar over a scenario's replicates (on stderr; off unless ``progress``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{scenario.name}: replicates", disable=not progress, leave=False)


def run_mesa(scenario: Scenario, seeds: list[int], progress: bool = False) -> np.ndarray:
    """Measures (R, years, M) from one Mesa model per replicate."""
    from .model import MutualsModel

    out = []
    with _bar(scenario, len(seeds), progress) as bar:
        for seed in seeds:
            model = MutualsModel(scenario, rng=seed)
            while model.running:
                model.step()
            table = model.datacollector.get_model_vars_dataframe()
            out.append(table[list(dyn.MEASURES)].to_numpy(dtype=float))
            bar.update()
    return np.stack(out)


def measures_array(scenario: Scenario, seeds: list[int], engine: str = "ensemble",
                   chunk_size: int = 1024, progress: bool = False) -> np.ndarray:
    """(R, years, M) measures for the given replicate seeds, chunk by chunk."""
    if engine == "mesa":
        return run_mesa(scenario, seeds, progress)
    if engine != "ensemble":
        raise ValueError(f"engine must be 'ensemble' or 'mesa'; given {engine!r}")
    years = scenario.run.end_year - scenario.run.start_year + 1
    out = np.empty((len(seeds), years, len(dyn.MEASURES)))
    with _bar(scenario, len(seeds), progress) as bar:
        for i in range(0, len(seeds), chunk_size):  # memory: the output plus one chunk's arrays
            out[i:i + chunk_size] = run_ensemble(scenario, seeds[i:i + chunk_size])
            bar.update(len(seeds[i:i + chunk_size]))
    return out


def measures_batch(scenarios: list[Scenario], seeds: list[list[int]], chunk_size: int = 1024) -> list[np.ndarray]:
    """:func:`measures_array` (ensemble engine) of each scenario for its seeds, scenarios that
    share their structure and years stepped together (:func:`sim.ensemble.run_batch`), at most
    about ``chunk_size`` replicates a call: the same arrays as one scenario at a time."""
    out: list[np.ndarray | None] = [None] * len(scenarios)
    todo: dict[tuple, list[int]] = {}
    for i, s in enumerate(scenarios):
        todo.setdefault(batch_key(s), []).append(i)
    for members in todo.values():
        start = 0
        while start < len(members):
            stop, size = start, 0
            while stop < len(members) and (stop == start or size + len(seeds[members[stop]]) <= chunk_size):
                size += len(seeds[members[stop]])
                stop += 1
            batch = members[start:stop]
            for i, values in zip(batch, run_batch([scenarios[i] for i in batch], [seeds[i] for i in batch]),
                                 strict=True):
                out[i] = values
            start = stop
    return out


def tidy(scenario: Scenario, values: np.ndarray, first_replicate: int = 0) -> pd.DataFrame:
    """One row per scenario, replicate and year."""
    R, T, _ = values.shape
    years = np.arange(scenario.run.start_year, scenario.run.start_year + T)
    frame = pd.DataFrame(values.reshape(R * T, -1), columns=list(dyn.MEASURES))
    for name in COUNT_MEASURES:
        frame[name] = np.rint(frame[name]).astype("int64")
    frame.insert(0, "year", np.tile(years, R))
    frame.insert(0, "replicate", np.repeat(np.arange(first_replicate, first_replicate + R), T))
    frame.insert(0, "scenario", pd.Categorical([scenario.name] * (R * T)))
    return frame


def simulate(scenario: Scenario, replicates: int | None = None, seed: int | None = None,
             engine: Engine = "ensemble", chunk_size: int = 1024, progress: bool = False) -> pd.DataFrame:
    """Run ``scenario`` and return the tidy table (columns: scenario, replicate, year, then
    :data:`sim.dynamics.MEASURES`). Defaults come from the scenario's ``[run]`` table;
    ``progress`` shows a bar over the replicates."""
    replicates = scenario.run.replicates if replicates is None else replicates
    seed = scenario.run.seed if seed is None else seed
    seeds = replicate_seeds(seed, replicates)
    values = measures_array(scenario, seeds, engine, chunk_size, progress)
    return tidy(scenario, values)
