"""Benchmark of the two engines on the `baseline` scenario.

Run with the project's environment:  .venv/bin/python benchmarks/engines.py  (or make benchmark)

Prints authority-years per second for each engine and their ratio; the random-number floor (the
time just to draw the uniforms the ensemble engine consumes) and the ratio to it; scaling at
1,000, 10,000 and 100,000 replicates; batched evaluation on `historical` (1,000 parameter sets x
10 replicates through `run_design`, each set its own parameters in one compiled call, against
10,000 replicates of one scenario: the ratio of their times, for sets that vary behaviour only
and for sets that vary a support effect too); peak
memory; the support design's evaluations (packages over 200 posterior draws, against as many
replicates of the scenario alone); and the speed-up of a Dask local cluster of 2 workers over 1
on a sweep. Pass --quick for a smaller run.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sim.dynamics import tape_width
from sim.evaluator import Evaluator
from sim.experiments import full_factorial, latin_hypercube, run_design
from sim.loading import load_scenario
from sim.population import POPULATION_DRAWS, build_structure
from sim.simulation import measures_array, replicate_seeds

ROOT = Path(__file__).resolve().parent.parent


def authority_years(scenario, replicates: int) -> int:
    return replicates * (scenario.run.end_year - scenario.run.start_year) * \
        build_structure(scenario).n_authorities


def sweep_on_dask(s, design, reps: int, chunks: Path, workers: int) -> None:
    """A sweep written chunk by chunk on a local Dask cluster of ``workers``, its start-up included."""
    with Evaluator(dask_local=workers) as evaluator:
        run_design(s, design, reps, 1, evaluator=evaluator, chunks=chunks, chunk=1000, progress=False)


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def random_floor(scenario, seeds, chunk: int = 1024) -> float:
    """Seconds to create the generators and draw exactly the uniforms the ensemble consumes,
    with ``Generator.random`` (one call per replicate and year)."""
    st = build_structure(scenario)
    width, years = tape_width(st), scenario.run.end_year - scenario.run.start_year
    start = time.perf_counter()
    for i in range(0, len(seeds), chunk):
        generators = [np.random.default_rng(s) for s in seeds[i:i + chunk]]
        for g in generators:
            g.random((POPULATION_DRAWS, st.n_authorities))
        u = np.empty(width)
        for _ in range(years):
            for g in generators:
                g.random(out=u)
    return time.perf_counter() - start


def design_search(quick: bool) -> None:
    """The support design's evaluations (`mutuals design`): packages scored over 200 posterior
    draws x 1 replicate of `december_2012` (make run's posterior if there is one, else the
    tests' toy one), in one process, beside as many replicates of the scenario alone."""
    import pandas as pd

    from sim.design import Objectives, levers
    from sim.posterior import draws
    from sim.simulation import simulate

    dec = load_scenario(ROOT / "scenarios" / "december_2012.toml")
    path = ROOT / "results" / "calibration" / "posterior.parquet"  # make run's, else the tests' toy one
    path = path if path.exists() else ROOT / "tests" / "data" / "toy_posterior.parquet"
    posterior = pd.read_parquet(path)
    d = draws(posterior, dec, 200, 1, 1)
    rng = np.random.default_rng(1)
    chosen = levers(dec)
    n = 10 if quick else 50
    packages = [{lv.name: int(rng.integers(lv.low, lv.high + 1)) if lv.integer else float(rng.uniform(lv.low, lv.high))
                 for lv in chosen} for _ in range(n)]
    objectives = Objectives(dec, d, 1)
    t_setup = timed(objectives.many, packages[:1])
    t = timed(objectives.many, packages[1:])
    t_one = timed(simulate, dec, (n - 1) * d.n)
    print(f"design search ({path.relative_to(ROOT)}): {n - 1} packages x {d.n} draws in {t:.2f} s ({t / (n - 1) * 1000:.0f} ms a package, "
          f"one process; the draws' set-up once, {t_setup:.2f} s); {(n - 1) * d.n:,} replicates of december_2012 "
          f"alone {t_one:.2f} s; ratio {t / t_one:.2f}")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    s = load_scenario(ROOT / "scenarios" / "baseline.toml")
    print(f"baseline: {build_structure(s).n_authorities} authorities, "
          f"{s.run.end_year - s.run.start_year} years; one core unless stated")

    mesa_reps = 2 if args.quick else 5
    seeds = replicate_seeds(1, mesa_reps)
    t_mesa = timed(measures_array, s, seeds, "mesa")
    mesa_rate = authority_years(s, mesa_reps) / t_mesa
    n = 1000 if args.quick else 10_000
    seeds = replicate_seeds(1, n)
    t_ens = timed(measures_array, s, seeds, "ensemble")
    ens_rate = authority_years(s, n) / t_ens
    print(f"mesa engine:     {mesa_rate:12,.0f} authority-years/s ({mesa_reps} replicates, {t_mesa:.2f} s)")
    print(f"ensemble engine: {ens_rate:12,.0f} authority-years/s ({n} replicates, {t_ens:.2f} s)")
    print(f"ratio ensemble/mesa: {ens_rate / mesa_rate:.0f}x")
    floor = random_floor(s, seeds)
    print(f"random-number floor for {n} replicates (the same uniforms from Generator.random): "
          f"{floor:.2f} s; ensemble / floor = {t_ens / floor:.2f}")

    print("scaling (ensemble):")
    for reps in ([1000, 10_000] if args.quick else [1000, 10_000, 100_000]):
        seeds = replicate_seeds(1, reps)
        t = timed(measures_array, s, seeds, "ensemble")
        print(f"  {reps:>7,} replicates: {t:7.2f} s  {authority_years(s, reps) / t:12,.0f} authority-years/s"
              f"  peak RSS so far {peak_rss_mib():,.0f} MiB")

    h = load_scenario(ROOT / "scenarios" / "historical.toml")
    sets = 100 if args.quick else 1000
    t_one = timed(measures_array, h, replicate_seeds(1, sets * 10), "ensemble")
    behaviour = {"behaviour.peer_weight": (0.1, 0.9), "behaviour.savings_rate": (0.03, 0.15),
                 "population.risk_aversion": (0.2, 0.8)}
    for what, ranges in (("behaviour only", behaviour),
                         ("a support effect too", {**behaviour, "support.advice.cost_reduction": (0.1, 0.5)})):
        design = latin_hypercube(ranges, sets, seed=1)
        t_batch = timed(run_design, h, design, 10, 1, progress=False)
        print(f"batched evaluation (historical, {what}): {sets:,} parameter sets x 10 replicates through "
              f"run_design {t_batch:.2f} s; {sets * 10:,} replicates of one scenario {t_one:.2f} s; batched ratio "
              f"{t_batch / t_one:.2f}")

    design_search(quick=args.quick)

    out = Path(tempfile.mkdtemp(prefix="mutuals-bench-"))
    design = full_factorial({"fiscal.severity": np.linspace(0.5, 1.5, 4 if args.quick else 16)})
    reps = 500 if args.quick else 5000  # large enough that cluster start-up does not dominate
    times = {}
    for workers in (1, 2):
        shutil.rmtree(out / str(workers), ignore_errors=True)
        times[workers] = timed(sweep_on_dask, s, design, reps, out / str(workers), workers)
        print(f"dask local cluster, {workers} worker(s): sweep of {len(design)} rows x {reps} "
              f"replicates in {times[workers]:.1f} s")
    print(f"dask speed-up 2 workers over 1: {times[1] / times[2]:.2f}x")
    shutil.rmtree(out, ignore_errors=True)
    print(f"peak RSS of this process: {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
