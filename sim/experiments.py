"""Experiments: designs over scenario parameters, evaluated by an executor, saved chunk by chunk.

A *design* is a table of parameter rows (dotted paths of the scenario schema), crossed with
replicate seeds shared by every row (common random numbers). An *executor* evaluates tasks (one
design row x one block of replicates) without knowing what a row means: in process, in a local
process pool, or on a Dask cluster. Each finished task is written atomically to
``DIR/chunks/``; ``resume`` skips tasks already written, so an interrupted run continues where it
stopped and gives the same table. Replicate r always has the same seed, so the result does not
depend on the executor, the number of workers or the chunk size.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .scenario import Scenario, ScenarioError, parameter_paths, with_overrides
from .simulate import measures_array, replicate_seeds, tidy


def full_factorial(levels: dict[str, Iterable[float]]) -> pd.DataFrame:
    """Every combination of the given levels, one row each."""
    names = list(levels)
    rows = list(itertools.product(*(list(v) for v in levels.values())))
    return pd.DataFrame(rows, columns=names)


def latin_hypercube(ranges: dict[str, tuple[float, float]], n: int, seed: int) -> pd.DataFrame:
    """``n`` rows of a Latin hypercube over the given ranges (scipy.stats.qmc), seeded."""
    from scipy.stats import qmc

    sample = qmc.LatinHypercube(d=len(ranges), rng=np.random.default_rng(seed)).random(n)
    low = np.array([r[0] for r in ranges.values()])
    high = np.array([r[1] for r in ranges.values()])
    return pd.DataFrame(qmc.scale(sample, low, high), columns=list(ranges))


def check_design(scenario: Scenario, design: pd.DataFrame, source: str = "design") -> None:
    """Refuse unknown parameters and values out of range before any work starts."""
    known = parameter_paths()
    for path in design.columns:
        if path not in known:
            with_overrides(scenario, {path: 0}, source)  # raises with a suggestion
        low, high, _ = known[path]
        values = design[path]
        if (low is not None and values.min() < low) or (high is not None and values.max() > high):
            raise ScenarioError(f"{source}: parameter '{path}': allowed {low} to {high}; "
                                f"given {values.min():g} to {values.max():g}")
    for _, row in design.iterrows():
        with_overrides(scenario, row.to_dict(), source)


@dataclass(frozen=True)
class Task:
    row: int
    first: int  # first replicate
    count: int

    @property
    def name(self) -> str:
        return f"row{self.row:06d}_rep{self.first:09d}.parquet"


def tasks(n_rows: int, replicates: int, chunk: int) -> list[Task]:
    return [Task(row, first, min(chunk, replicates - first))
            for row in range(n_rows) for first in range(0, replicates, chunk)]


def evaluate(scenario: Scenario, overrides: dict, seed: int, task: Task) -> pd.DataFrame:
    """One task's tidy table (also the function the executors run)."""
    s = with_overrides(scenario, overrides) if overrides else scenario
    seeds = replicate_seeds(seed, task.count, first=task.first)
    frame = tidy(s, measures_array(s, seeds, "ensemble"), first_replicate=task.first)
    frame.insert(1, "design_row", task.row)
    for path, value in overrides.items():
        frame[path] = value
    return frame


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def evaluate_to(folder: Path, scenario: Scenario, overrides: dict, seed: int, task: Task) -> Task:
    """Evaluate a task and write its table atomically to ``folder`` (run by workers that share
    the results folder: a local process pool or a local Dask cluster)."""
    _write_atomic(evaluate(scenario, overrides, seed, task), folder / task.name)
    return task


def run_design(scenario: Scenario, design: pd.DataFrame, replicates: int, seed: int,
               out: Path, *, workers: int = 1, chunk: int = 250, scheduler: str | None = None,
               dask_local: int | None = None, resume: bool = False,
               progress: bool = True) -> pd.DataFrame:
    """Evaluate every design row on ``replicates`` common replicates; write ``out/sweep.parquet``
    (one row per design row, replicate and year) and ``out/design.csv``."""
    from tqdm.auto import tqdm

    out = Path(out)
    chunks = out / "chunks"
    if out.exists() and not resume and any(chunks.glob("*.parquet")):
        raise ScenarioError(f"{out}: holds an earlier run; pass --resume to continue it or "
                            "choose another --out")
    chunks.mkdir(parents=True, exist_ok=True)
    design = design.reset_index(drop=True)
    design.rename_axis("design_row").to_csv(out / "design.csv")
    todo = [t for t in tasks(len(design), replicates, chunk)
            if not (resume and (chunks / t.name).exists())]
    rows = [{k: float(v) for k, v in r.items()} for r in design.to_dict("records")]
    bar = tqdm(total=len(todo), desc=f"{scenario.name}: tasks", disable=not progress)

    def done(task: Task, frame: pd.DataFrame | None = None) -> None:
        if frame is not None:  # else the worker wrote it
            _write_atomic(frame, chunks / task.name)
        bar.update()

    if scheduler or dask_local:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed

        cluster = LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=":0") if dask_local else None
        with Client(cluster if cluster is not None else scheduler) as client:
            # local workers write their own chunks; a remote cluster's may not see this folder,
            # so they send their tables back
            if cluster is not None:
                futures = {client.submit(evaluate_to, chunks, scenario, rows[t.row], seed, t,
                                         pure=False): t for t in todo}
            else:
                futures = {client.submit(evaluate, scenario, rows[t.row], seed, t, pure=False): t
                           for t in todo}
            for future in dask_completed(futures):
                result = future.result()
                done(futures[future], None if isinstance(result, Task) else result)
        if cluster is not None:
            cluster.close()
    elif workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(evaluate_to, chunks, scenario, rows[t.row], seed, t): t
                       for t in todo}
            for future in as_completed(futures):
                future.result()
                done(futures[future])
    else:
        for t in todo:
            done(t, evaluate(scenario, rows[t.row], seed, t))
    bar.close()
    frames = [pd.read_parquet(chunks / t.name) for t in tasks(len(design), replicates, chunk)]
    table = pd.concat(frames, ignore_index=True).sort_values(
        ["design_row", "replicate", "year"], kind="stable").reset_index(drop=True)
    _write_atomic(table, out / "sweep.parquet")
    return table
