"""Where work runs: in this process, a local process pool or a Dask cluster, behind one interface.

An :class:`Evaluator` maps a picklable function over tasks without knowing what a task means (as
the EMA Workbench's evaluators do); every command that spreads work (replicates, sweeps,
discovery, calibration, the verdict) goes through one. It is a context manager that starts its
workers, warms them (each loads the compiled model once, before the first task) and closes them
on every path::

    with Evaluator(workers=2) as ev:
        tables = ev.map(evaluate, tasks, progress="design points")

A task is any picklable object, so one task may carry many parameter sets for one compiled call
(batched evaluation): the evaluator never looks inside. Results never depend on the evaluator:
each task's random numbers come from its own seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import Any

from .errors import ParameterError

SCHEDULER_TIMEOUT = 5.0
"""Seconds to wait for a Dask scheduler given by its address."""


def warm() -> None:
    """Load the compiled model in this process (from Numba's disk cache once compiled): one
    replicate of two years, so that a worker's first task costs no more than its others."""
    from .ensemble import run_ensemble
    from .overrides import with_overrides
    from .scenario import Scenario

    end = Scenario().run.start_year + 1
    s = with_overrides(Scenario(), {"run.end_year": end, "run.critical_mass_year": end})
    run_ensemble(s, [1])


class Evaluator:
    """Runs tasks in this process (``workers=1``), a pool of ``workers`` local processes, a
    local Dask cluster of ``dask_local`` workers, or the Dask cluster whose scheduler is at
    ``scheduler``; at most one of the three is given. A scheduler that does not answer within
    :data:`SCHEDULER_TIMEOUT` seconds is a :class:`sim.errors.ParameterError`."""

    def __init__(self, workers: int = 1, dask_local: int | None = None, scheduler: str | None = None):
        if (workers > 1) + bool(dask_local) + bool(scheduler) > 1:
            raise ParameterError("give at most one of {workers}, {dask_local} and {scheduler}")
        self.workers, self.dask_local, self.scheduler = workers, dask_local, scheduler
        self.client = None  # a dask.distributed.Client while open, if Dask
        self._pool = None
        self._stack = ExitStack()

    @property
    def spread(self) -> bool:
        """Does work leave this process?"""
        return self.workers > 1 or bool(self.dask_local or self.scheduler)

    @property
    def shares_files(self) -> bool:
        """Can its workers write into this machine's folders? (Not a remote cluster's.)"""
        return not self.scheduler

    @property
    def size(self) -> int:
        """How many tasks run at once."""
        if self.client is not None:
            return max(1, len(self.client.scheduler_info()["workers"]))
        return self.workers

    def __str__(self) -> str:
        if self.dask_local:
            return f"local Dask cluster of {self.dask_local}"
        if self.scheduler:
            return f"Dask scheduler {self.scheduler}"
        return f"{self.workers} local processes" if self.workers > 1 else "this process"

    def __enter__(self) -> Evaluator:
        try:
            if self.dask_local or self.scheduler:
                self._open_dask()
            elif self.workers > 1:
                from concurrent.futures import ProcessPoolExecutor

                self._pool = self._stack.enter_context(
                    ProcessPoolExecutor(max_workers=self.workers, initializer=warm))
        except BaseException:
            self._stack.close()
            raise
        return self

    def _open_dask(self) -> None:
        from dask.distributed import Client, LocalCluster

        if self.scheduler:
            try:
                self.client = self._stack.enter_context(Client(self.scheduler, timeout=SCHEDULER_TIMEOUT))
            except (OSError, TimeoutError, ValueError) as err:
                raise ParameterError(f"{{scheduler}} {self.scheduler}: no Dask scheduler answered within "
                                     f"{SCHEDULER_TIMEOUT:g} s ({err})") from None
        else:
            cluster = self._stack.enter_context(LocalCluster(
                n_workers=self.dask_local, threads_per_worker=1, processes=True, dashboard_address=":0"))
            self.client = self._stack.enter_context(Client(cluster))
        self.client.run(warm)

    def __exit__(self, *exc) -> None:
        self._stack.close()
        self._pool = None

    def completed(self, fn: Callable, tasks: Iterable, progress: str | None = None,
                  weight: Callable[[Any], int] = lambda task: 1) -> Iterator[tuple[int, Any]]:
        """``(i, fn(tasks[i]))`` for every task, in the order they finish; a bar named
        ``progress`` (on stderr) counts ``weight(task)`` per finished task."""
        from tqdm.auto import tqdm

        tasks = list(tasks)
        with tqdm(total=sum(weight(t) for t in tasks), desc=progress, disable=progress is None) as bar:
            for i, result in self._run(fn, tasks):
                bar.update(weight(tasks[i]))
                yield i, result

    def _run(self, fn: Callable, tasks: list) -> Iterator[tuple[int, Any]]:
        if self.client is not None:
            from dask.distributed import as_completed

            futures = {self.client.submit(fn, t, pure=False): i for i, t in enumerate(tasks)}
            for future in as_completed(futures):
                yield futures[future], future.result()
        elif self._pool is not None:
            from concurrent.futures import as_completed

            futures = {self._pool.submit(fn, t): i for i, t in enumerate(tasks)}
            for future in as_completed(futures):
                yield futures[future], future.result()
        else:
            for i, t in enumerate(tasks):
                yield i, fn(t)

    def map(self, fn: Callable, tasks: Iterable, progress: str | None = None,
            weight: Callable[[Any], int] = lambda task: 1) -> list:
        """``[fn(t) for t in tasks]``, in the order of ``tasks``, wherever they run."""
        tasks = list(tasks)
        out = [None] * len(tasks)
        for i, result in self.completed(fn, tasks, progress, weight):
            out[i] = result
        return out
