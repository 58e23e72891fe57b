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
