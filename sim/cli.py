"""The command-line tool ``mutuals`` (also ``python -m sim``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from .scenario import ScenarioError, load_scenario


def _load_all(paths: list[str]):
    """Validate every scenario before any work starts."""
    scenarios, errors = [], []
    for p in paths:
        try:
            scenarios.append(load_scenario(p))
        except ScenarioError as err:
            errors.append(str(err))
    if errors:
        raise ScenarioError("\n".join(errors))
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"scenario names must be unique within a run; repeated: {', '.join(dupes)}")
    return scenarios


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; given {text}")
    return value


def cmd_validate(args) -> int:
    for s in _load_all(args.scenarios):
        print(f"ok: {s.name} ({s.description or 'no description'})")
    return 0


def cmd_run(args) -> int:
    from .analysis import summary
    from .results import write_run
    from .simulate import choose_engine, simulate

    scenarios = _load_all(args.scenarios)
    rows = []
    for s in scenarios:
        replicates = args.replicates or s.run.replicates
        seed = s.run.seed if args.seed is None else args.seed
        engine = choose_engine(args.engine, replicates)
        start = time.perf_counter()
        frame = simulate(s, replicates=replicates, seed=seed, engine=engine)
        seconds = time.perf_counter() - start
        target = write_run(frame, s, Path(args.out), seed=seed, replicates=replicates,
                           engine=engine, seconds=seconds)
        rows.append(summary(frame, s).assign(seconds=round(seconds, 2), folder=str(target)))
    table = pd.concat(rows, ignore_index=True)
    show = table[["scenario", "replicates", "share_with_mutual_median", "share_with_mutual_p10",
                  "share_with_mutual_p90", "live_mutuals_median", "p_critical_mass",
                  "cumulative_support_spent_median", "seconds"]]
    show.columns = ["scenario", "reps", "share", "p10", "p90", "live", "P(crit)", "spent GBPm", "s"]
    first = table.iloc[0]
    print(f"At {int(first['horizon'])} (median and 10-90% of replicates); P(crit): probability "
          f"that {first['critical_mass_threshold']:.0%} of authorities ran a mutual by "
          f"{int(first['critical_mass_year'])}:")
    print(show.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return 0


def _spec(text: str, parts: int) -> tuple[str, list[float]]:
    try:
        path, values = text.split("=", 1)
        numbers = [float(v) for v in values.split(":")]
    except ValueError:
        numbers, path = [], text
    if len(numbers) != parts:
        shape = "PATH=LOW:HIGH:STEPS" if parts == 3 else "PATH=LOW:HIGH"
        raise ScenarioError(f"command line: expected {shape}; given {text!r}")
    return path, numbers


def cmd_sweep(args) -> int:
    import numpy as np

    from .experiments import check_design, full_factorial, latin_hypercube, run_design

    (scenario,) = _load_all([args.scenario])
    frames = []
    if args.vary:
        levels = {}
        for text in args.vary:
            path, (low, high, steps) = _spec(text, 3)
            if steps < 1 or steps != int(steps):
                raise ScenarioError(f"command line: --vary {path}: STEPS must be a whole number "
                                    f">= 1; given {steps:g}")
            levels[path] = np.linspace(low, high, int(steps))
        frames.append(full_factorial(levels))
    if args.lhs:
        ranges = dict(_spec(text, 2) for text in args.range or [])
        if not ranges:
            raise ScenarioError("command line: --lhs needs at least one --range PATH=LOW:HIGH")
        frames.append(latin_hypercube({k: tuple(v) for k, v in ranges.items()}, args.lhs,
                                      args.seed if args.seed is not None else scenario.run.seed))
    if not frames:
        raise ScenarioError("command line: give --vary PATH=LOW:HIGH:STEPS or --lhs N --range ...")
    design = frames[0] if len(frames) == 1 else frames[0].merge(frames[1], how="cross")
    check_design(scenario, design, "command line")
    seed = scenario.run.seed if args.seed is None else args.seed
    table = run_design(scenario, design, args.replicates, seed, Path(args.out),
                       workers=args.workers, chunk=args.chunk, scheduler=args.scheduler,
                       dask_local=args.dask_local, resume=args.resume)
    print(f"{len(design)} design rows x {args.replicates} replicates: {len(table)} rows "
          f"written to {Path(args.out) / 'sweep.parquet'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mutuals",
        description="Agent-based model of English local authorities' uptake of mutuals.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run scenario files and write results folders")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    p.add_argument("--replicates", type=_positive, help="replicates (default: the scenario's)")
    p.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--engine", choices=["auto", "mesa", "ensemble"], default="auto")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sweep", help="run a design over scenario parameters")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--vary", action="append", metavar="PATH=LOW:HIGH:STEPS",
                   help="full factorial levels of a parameter (repeatable)")
    p.add_argument("--lhs", type=_positive, metavar="N", help="N Latin hypercube rows")
    p.add_argument("--range", action="append", metavar="PATH=LOW:HIGH",
                   help="a parameter's range for --lhs (repeatable)")
    p.add_argument("--replicates", type=_positive, default=100)
    p.add_argument("--seed", type=int)
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=_positive, default=1, help="local process pool size")
    p.add_argument("--chunk", type=_positive, default=250, help="replicates per task")
    p.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler")
    p.add_argument("--dask-local", type=_positive, metavar="N",
                   help="start a local Dask cluster of N workers")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("validate", help="check scenario files and report every error")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    p.set_defaults(func=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as err:
        print(f"mutuals: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mutuals: interrupted", file=sys.stderr)
        return 130
