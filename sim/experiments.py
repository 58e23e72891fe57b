"""Experiments: designs over scenario parameters, run task by task, saved chunk by chunk.

A *design* is a table of parameter rows (dotted paths of the scenario schema), crossed with
replicate seeds shared by every row (common random numbers). An evaluator
(:class:`sim.evaluator.Evaluator`) runs its tasks (one design row x one block of replicates)
without knowing what a row means. Each finished task can be written atomically to a folder of
chunks; ``resume`` skips tasks already written, so an interrupted run continues where it
stopped and gives the same table. Replicate r always has the same seed, so the result does not
depend on the evaluator, the number of workers or the chunk size.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ScenarioError
from .evaluator import Evaluator
from .overrides import with_overrides
from .scenario import Scenario, parameter_paths
from .simulation import measures_batch, replicate_seeds, tidy


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


@dataclass(frozen=True)
class Task:
    """A block of ``count`` replicates from replicate ``first`` of ``rows`` design rows from
    ``row`` (several rows when a row's replicates are fewer than a chunk: they run as one
    batch)."""

    row: int
    first: int  # first replicate
    count: int
    rows: int = 1

    @property
    def name(self) -> str:
        more = f"-{self.row + self.rows - 1:06d}" if self.rows > 1 else ""
        return f"row{self.row:06d}{more}_rep{self.first:09d}.parquet"


def tasks(n_rows: int, replicates: int, chunk: int) -> list[Task]:
    """Blocks of at most ``chunk`` replicates (or one row's, if more): one row's replicates in
    blocks, or whole rows together."""
    if replicates >= chunk:
        return [Task(row, first, min(chunk, replicates - first))
                for row in range(n_rows) for first in range(0, replicates, chunk)]
    per = max(1, chunk // replicates)
    return [Task(row, 0, replicates, min(per, n_rows - row)) for row in range(0, n_rows, per)]


def evaluate(scenario: Scenario, rows: tuple[dict, ...], seeds: list[int], task: Task) -> pd.DataFrame:
    """One task's tidy table: its design rows (``rows``, all of the design's) with their
    overrides, row ``i`` on the replicates of root seed ``seeds[i]``, run as one batch."""
    mine = range(task.row, task.row + task.rows)
    scenarios = [with_overrides(scenario, rows[i]) if rows[i] else scenario for i in mine]
    values = measures_batch(scenarios, [replicate_seeds(seeds[i], task.count, first=task.first) for i in mine])
    frame = tidy(scenario, np.concatenate(values))
    T = values[0].shape[1]
    frame["replicate"] = np.tile(np.repeat(np.arange(task.first, task.first + task.count), T), task.rows)
    frame.insert(1, "design_row", np.repeat(np.arange(task.row, task.row + task.rows), task.count * T))
    for path in rows[task.row]:
        frame[path] = np.repeat([rows[i][path] for i in mine], task.count * T)
    return frame


@dataclass(frozen=True)
class Evaluate:
    """:func:`evaluate` of a task of a design (the function an evaluator's workers run); with
    ``folder``, the table is written there atomically and the task returned (for workers that
    share this machine's folders)."""

    scenario: Scenario
    rows: tuple[dict, ...]
    seed: int
    folder: Path | None = None
    row_seeds: bool = False  # row i on the seeds of root seed + i

    def __call__(self, task: Task) -> pd.DataFrame | Task:
        seeds = [self.seed + i * self.row_seeds for i in range(len(self.rows))]
        frame = evaluate(self.scenario, self.rows, seeds, task)
        if self.folder is None:
            return frame
        _write_atomic(frame, self.folder / task.name)
        return task


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def design_fingerprint(scenario: Scenario, design: pd.DataFrame, replicates: int, seed: int,
                       chunk: int, row_seeds: bool = False) -> dict[str, str]:
    """What a sweep's chunks depend on, each part hashed: a resumed sweep must match every one."""
    from .results import code_version

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    return {"scenario": digest(scenario.model_dump_json()), "design": digest(design.to_csv(index=False)),
            "seed": f"{seed} + row" if row_seeds else str(seed), "replicates": str(replicates), "chunk": str(chunk),
            "code": code_version()}


def _sorted(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True).sort_values(
        ["design_row", "replicate", "year"], kind="stable").reset_index(drop=True)


def run_design(scenario: Scenario, design: pd.DataFrame, replicates: int, seed: int, *,
               evaluator: Evaluator | None = None, chunk: int = 250, chunks: Path | None = None,
               resume: bool = False, overwrite: bool = False, progress: bool = True, row_seeds: bool = False,
               say=lambda text: None) -> pd.DataFrame:
    """Every design row on ``replicates`` common replicates (or, with ``row_seeds``, row ``i`` on
    the replicates of root seed ``seed + i``), in blocks of ``chunk`` replicates
    (tasks) run by ``evaluator`` (this process by default): one row per design row, replicate
    and year. The table does not depend on the evaluator or the chunk.

    With ``chunks``, a folder, each finished task is written there, so that an interrupted run
    can be continued: a folder holding an earlier run's tasks is refused unless ``resume``
    (which skips the tasks already written, and refuses a run whose scenario, design, seed,
    replicates, chunk or code differ, naming which) or ``overwrite`` (which starts again). A
    written task that cannot be read back (a truncated file) is computed again, and ``say``
    reports which."""
    from .results import claim_work

    evaluator = evaluator or Evaluator()
    design = design.reset_index(drop=True)
    rows = tuple({k: float(v) for k, v in r.items()} for r in design.to_dict("records"))
    every = tasks(len(design), replicates, chunk)
    desc = f"{scenario.name}: tasks" if progress else None
    if chunks is None:
        return _sorted(evaluator.map(Evaluate(scenario, rows, seed, row_seeds=row_seeds), every, desc))
    chunks = Path(chunks)
    claim_work(chunks, design_fingerprint(scenario, design, replicates, seed, chunk, row_seeds), resume=resume,
               overwrite=overwrite)
    done = {t.name: frame for t in every if (frame := _read_chunk(chunks / t.name, t)) is not None}
    damaged = [t.name for t in every if t.name not in done and (chunks / t.name).exists()]
    if damaged:  # a disk fault or a foreign file: computed again, not trusted
        say(f"{len(damaged)} unreadable chunk(s) of {len(every)} computed again: {', '.join(damaged)}")
        for name in damaged:
            (chunks / name).unlink()
    todo = [t for t in every if t.name not in done]
    # workers on this machine write their own chunks; a remote cluster's send their tables back
    fn = Evaluate(scenario, rows, seed, chunks if evaluator.shares_files else None, row_seeds)
    for i, result in evaluator.completed(fn, todo, desc):
        if not isinstance(result, Task):
            _write_atomic(result, chunks / todo[i].name)
    return _sorted([done[t.name] if t.name in done else pd.read_parquet(chunks / t.name) for t in every])


def _read_chunk(path: Path, task: Task) -> pd.DataFrame | None:
    """A finished task's table, or None if it is missing, unreadable (truncated, not Parquet) or
    not this task's (another design row or other replicates)."""
    if not path.exists():
        return None
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError):  # pyarrow's errors: ArrowIOError, ArrowInvalid
        return None
    replicates = range(task.first, task.first + task.count)
    ours = ("design_row" in frame and "replicate" in frame
            and set(frame["design_row"]) == set(range(task.row, task.row + task.rows))
            and set(frame["replicate"]) == set(replicates))
    return frame if ours else None


def run_replicates(scenario: Scenario, replicates: int, seed: int, *, evaluator: Evaluator | None = None,
                   chunk: int | None = None, progress: bool = False) -> pd.DataFrame:
    """:func:`sim.simulate` (ensemble engine) with the replicates split into blocks of ``chunk``
    run by ``evaluator``: the same table, whatever the evaluator or the chunks. By default each
    of its workers gets about two blocks."""
    evaluator = evaluator or Evaluator()
    chunk = chunk or max(1, min(1024, -(-replicates // (2 * evaluator.size))))
    table = run_design(scenario, pd.DataFrame(index=[0]), replicates, seed, evaluator=evaluator, chunk=chunk,
                       progress=progress)
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


def write_sweep(folder: Path, scenario: Scenario, design: pd.DataFrame, table: pd.DataFrame,
                outcomes: list[str]) -> None:
    """A sweep into ``folder``: ``sweep.parquet`` (the whole table), ``design.csv``,
    ``outcomes.csv`` (per design row, the named ``outcomes``, aligned with the design) and
    ``problem.json`` (a SALib problem over the design's columns: their plausible ranges where
    they have one, else the range the design spans)."""
    import json

    from .api import salib_problem

    folder = Path(folder)
    _write_atomic(table, folder / "sweep.parquet")
    design.reset_index(drop=True).rename_axis("design_row").to_csv(folder / "design.csv")
    design_outcomes(scenario, design, table, outcomes).to_csv(folder / "outcomes.csv")
    spans = {c: (float(design[c].min()), float(design[c].max())) for c in design.columns}
    problem = salib_problem(list(design.columns), spans)
    (folder / "problem.json").write_text(json.dumps(problem, indent=2) + "\n", encoding="utf-8")
