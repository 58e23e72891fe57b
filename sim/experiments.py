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

import hashlib
import itertools
import json
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .loading import ScenarioError
from .overrides import with_overrides
from .scenario import Scenario, parameter_paths
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


def check_range(scenario: Scenario, path: str, low: float, high: float, source: str) -> None:
    """Refuse a design range as typed: an unknown path, ``low`` above ``high``, or either end
    outside the parameter's allowed range."""
    known = parameter_paths()
    if path not in known:
        with_overrides(scenario, {path: 0}, source)  # raises, with a suggestion
    allowed_low, allowed_high, _ = known[path]
    if low > high:
        raise ScenarioError(f"{source} {path}: LOW must not exceed HIGH; given {low:g}:{high:g}")
    if (allowed_low is not None and low < allowed_low) or (allowed_high is not None and high > allowed_high):
        raise ScenarioError(f"{source} {path}: allowed {allowed_low} to {allowed_high}; given {low:g} to {high:g}")


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


SCHEDULER_TIMEOUT = 5.0
"""Seconds to wait for a Dask scheduler given by its address."""


@contextmanager
def dask_client(dask_local: int | None = None, scheduler: str | None = None):
    """A Dask client: of a local cluster of ``dask_local``
    worker processes, or of the scheduler at ``scheduler``; None for neither. Closed (and the
    local cluster shut down) on every path. A scheduler that does not answer within
    :data:`SCHEDULER_TIMEOUT` seconds is a :class:`ScenarioError`."""
    if not (dask_local or scheduler):
        yield None
        return
    from dask.distributed import Client, LocalCluster

    with ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler, timeout=SCHEDULER_TIMEOUT))
            except (OSError, TimeoutError, ValueError) as err:
                raise ScenarioError(f"command line: --scheduler {scheduler}: no Dask scheduler "
                                    f"answered within {SCHEDULER_TIMEOUT:g} s ({err})") from None
        else:
            cluster = stack.enter_context(LocalCluster(
                n_workers=dask_local, threads_per_worker=1, processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        yield client


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


def design_fingerprint(scenario: Scenario, design: pd.DataFrame, replicates: int, seed: int,
                       chunk: int) -> dict[str, str]:
    """What a sweep's tables depend on, each part hashed: a resumed sweep must match every one."""
    from ._compiled import cache_dir
    from .results import versions

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    return {"scenario": digest(scenario.model_dump_json()), "design": digest(design.to_csv(index=False)),
            "seed": str(seed), "replicates": str(replicates), "chunk": str(chunk),
            "code": f"{versions().get('mutuals-sim', '?')}/{cache_dir().name}"}


def _in_memory(scenario: Scenario, design: pd.DataFrame, replicates: int, seed: int, workers: int,
               chunk: int, progress: bool, client=None) -> pd.DataFrame:
    from tqdm.auto import tqdm

    rows = [{k: float(v) for k, v in r.items()} for r in design.to_dict("records")]
    todo = tasks(len(design), replicates, chunk)
    args = [(scenario, rows[t.row], seed, t) for t in todo]
    bar = tqdm(total=len(todo), desc=f"{scenario.name}: tasks", disable=not progress)
    frames = []
    if client is not None:
        from dask.distributed import as_completed as dask_completed

        for future in dask_completed([client.submit(evaluate, *a, pure=False) for a in args]):
            frames.append(future.result())
            bar.update()
    elif workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for frame in pool.map(evaluate, *zip(*args, strict=True)):
                frames.append(frame)
                bar.update()
    else:
        for a in args:
            frames.append(evaluate(*a))
            bar.update()
    bar.close()
    return pd.concat(frames, ignore_index=True).sort_values(
        ["design_row", "replicate", "year"], kind="stable").reset_index(drop=True)


def run_replicates(scenario: Scenario, replicates: int, seed: int, *, workers: int = 1, client=None,
                   chunk: int | None = None, progress: bool = False) -> pd.DataFrame:
    """:func:`sim.simulate` (ensemble engine) with the replicates split into blocks of ``chunk``
    over a pool of ``workers`` processes or a Dask ``client`` (see :func:`dask_client`): the
    same table, whatever the workers or chunks. By default each worker gets about two blocks."""
    n = max(workers, len(client.scheduler_info()["workers"]) if client is not None else 1)
    chunk = chunk or max(1, min(1024, -(-replicates // (2 * n))))
    table = _in_memory(scenario, pd.DataFrame(index=[0]), replicates, seed, workers, chunk, progress, client)
    return table.drop(columns="design_row")


def design_outcomes(scenario: Scenario, design: pd.DataFrame, table: pd.DataFrame,
                    names=None) -> pd.DataFrame:
    """One row per design row: its parameters and the named outcomes of its replicates
    (:func:`sim.api.outcomes_of`), aligned with ``design``."""
    from .api import DEFAULT_OUTCOMES, outcomes_of

    names = DEFAULT_OUTCOMES if names is None else names
    rows = []
    for i, r in enumerate(design.reset_index(drop=True).to_dict("records")):
        s = with_overrides(scenario, {k: float(v) for k, v in r.items()}, "design")
        rows.append(outcomes_of(table[table["design_row"] == i], s, names))
    out = pd.concat([design.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    return out.rename_axis("design_row")


def run_design(scenario: Scenario, design: pd.DataFrame, replicates: int, seed: int,
               out: Path | None, *, workers: int = 1, chunk: int = 250, scheduler: str | None = None,
               dask_local: int | None = None, resume: bool = False, overwrite: bool = False,
               progress: bool = True) -> pd.DataFrame:
    """Evaluate every design row on ``replicates`` common replicates; write ``out/sweep.parquet``
    (one row per design row, replicate and year), ``out/design.csv`` and ``out/fingerprint.json``.
    With ``out`` None, in memory: the table only.

    A folder that holds an earlier run is refused unless ``resume`` (which continues it, and
    refuses it if the scenario, design, seed, replicates, chunk or code differ, naming which) or
    ``overwrite`` (which starts again). A Dask cluster is connected to before anything is
    written, and closed on every path."""
    from tqdm.auto import tqdm

    design = design.reset_index(drop=True)
    if out is None:
        with dask_client(dask_local, scheduler) as client:
            return _in_memory(scenario, design, replicates, seed, workers, chunk, progress, client)
    out = Path(out)
    chunks = out / "chunks"
    mine = design_fingerprint(scenario, design, replicates, seed, chunk)
    earlier = out.exists() and (any(chunks.glob("*.parquet")) or (out / "sweep.parquet").exists())
    if earlier and not (resume or overwrite):
        raise ScenarioError(f"{out}: holds an earlier run; pass --resume to continue it, --overwrite to "
                            "start again, or choose another --out")
    if resume and earlier:
        try:
            theirs = json.loads((out / "fingerprint.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            theirs = {}
        differ = [k for k in mine if theirs.get(k) != mine[k]]
        if differ:
            raise ScenarioError(f"{out}: --resume: the earlier run had another {', '.join(differ)}; "
                                "resume it with the same ones, or pass --overwrite to start again")
    rows = [{k: float(v) for k, v in r.items()} for r in design.to_dict("records")]
    with dask_client(dask_local, scheduler) as client:
        if overwrite and out.exists():
            shutil.rmtree(chunks, ignore_errors=True)
            (out / "sweep.parquet").unlink(missing_ok=True)
        chunks.mkdir(parents=True, exist_ok=True)
        design.rename_axis("design_row").to_csv(out / "design.csv")
        (out / "fingerprint.json").write_text(json.dumps(mine, indent=2) + "\n", encoding="utf-8")
        todo = [t for t in tasks(len(design), replicates, chunk) if not (chunks / t.name).exists()]
        bar = tqdm(total=len(todo), desc=f"{scenario.name}: tasks", disable=not progress)

        def done(task: Task, frame: pd.DataFrame | None = None) -> None:
            if frame is not None:  # else the worker wrote it
                _write_atomic(frame, chunks / task.name)
            bar.update()

        if client is not None:
            from dask.distributed import as_completed as dask_completed

            # local workers write their own chunks; a remote cluster's may not see this folder,
            # so they send their tables back
            if dask_local:
                futures = {client.submit(evaluate_to, chunks, scenario, rows[t.row], seed, t,
                                         pure=False): t for t in todo}
            else:
                futures = {client.submit(evaluate, scenario, rows[t.row], seed, t, pure=False): t
                           for t in todo}
            for future in dask_completed(futures):
                result = future.result()
                done(futures[future], None if isinstance(result, Task) else result)
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
