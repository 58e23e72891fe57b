"""The command-line tool ``mutuals`` (also ``python -m sim``): it parses, calls the library and
writes; every command that writes goes through one :class:`sim.results.OutputFolder` and every
command that computes through one :class:`sim.evaluator.Evaluator`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .errors import ParameterError, ScenarioError
from .loading import load_scenario


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


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (what is allowed, what was given) and exit
    code 2, like every other refused input."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, where it has one worth showing."""

    def _get_help_string(self, action):
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


SIZE_HELP = ("replicates (default: the scenario's [run] replicates, 100 unless it sets them)",
             "root seed (default: the scenario's [run] seed, 20121206 unless it sets one)")


def _sizes(p) -> None:
    """--replicates and --seed, the same on every command: by default, the scenario's."""
    p.add_argument("--replicates", type=_positive, help=SIZE_HELP[0])
    p.add_argument("--seed", type=_seed, help=SIZE_HELP[1])


def _output(p, default: str | None = None, help: str = "output folder") -> None:
    """--out and --overwrite, the same on every command that writes."""
    p.add_argument("--out", required=default is None, default=default, help=help)
    p.add_argument("--overwrite", action="store_true",
                   help="replace results another command or configuration wrote there")


def _executors(p) -> None:
    """--workers, --dask-local and --scheduler, the same on every command that computes
    (results do not depend on them): the :class:`sim.evaluator.Evaluator` it runs on."""
    p.add_argument("--workers", type=_positive, default=1, help="local process pool size")
    p.add_argument("--dask-local", type=_positive, metavar="N", help="start a local Dask cluster of N workers")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing Dask scheduler, e.g. tcp://host:8786 (refused if it does not answer)")


def _posterior_options(p) -> None:
    """--posterior and --draws, the same on every command that can run under a posterior."""
    from .posterior import DRAWS, REPLICATES

    p.add_argument("--posterior", metavar="FILE",
                   help="run under this calibrated posterior (the posterior.parquet of `mutuals calibrate`): "
                        f"particles drawn by weight, --replicates each (default {REPLICATES}), the same draws "
                        "and seeds for every policy")
    p.add_argument("--draws", type=_positive, default=DRAWS, help="posterior draws, with --posterior")


def _draws(args, scenarios: list, replicates: int | None = None, seed: int | None = None):
    """The posterior draws the command runs ``scenarios`` under (None without --posterior), on
    ``replicates`` and ``seed`` (by default the command's); a note for each scenario whose own
    values the posterior replaces."""
    from .posterior import draws, read_posterior, replaced

    if not args.posterior:
        return None
    d = draws(read_posterior(args.posterior), scenarios[0], args.draws, replicates or args.replicates,
              args.seed if seed is None else seed, f"command line: --posterior {args.posterior}")
    for s in scenarios:
        if lost := replaced(s, d):
            print(f"mutuals: note: under the posterior, {s.name}'s own {', '.join(lost)} give way to the "
                  "posterior's values", file=sys.stderr)
    return d


def _posterior_config(args) -> dict:
    """What a folder run under a posterior depends on: the file's digest and the draws."""
    from .results import file_digest

    return dict(posterior=file_digest(args.posterior), draws=args.draws) if args.posterior else {}


def _evaluator(args):
    from .evaluator import Evaluator

    return Evaluator(args.workers, args.dask_local, args.scheduler)


def _folder(args, target, command: str, config: dict, **kw):
    from .results import OutputFolder

    return OutputFolder(Path(target), command, config, overwrite=args.overwrite, **kw)


def _dumps(scenarios) -> list[dict]:
    return [s.model_dump(mode="json") for s in scenarios]


def _settle(args, scenario) -> None:
    """Fill --replicates and --seed from ``scenario``'s [run] table where they were not given."""
    if getattr(args, "replicates", 0) is None:
        from .posterior import REPLICATES

        args.replicates = REPLICATES if getattr(args, "posterior", None) else scenario.run.replicates
    if args.seed is None:
        args.seed = scenario.run.seed


def _checked(convert, ok, allowed: str):
    """An argparse type: ``convert`` the text and refuse it unless ``ok``, saying what is
    ``allowed`` and what was given."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"allowed {allowed}; given {text!r}") from None
        if not ok(value):  # nan fails every comparison, so it is refused too
            raise argparse.ArgumentTypeError(f"allowed {allowed}; given {text}")
        return value

    return parse


_positive = _checked(int, lambda v: v >= 1, "a whole number of at least 1")
_sobol = _checked(int, lambda v: v == 0 or v & (v - 1) == 0, "0 or a power of two (Sobol sequences need one)")
_seed = _checked(int, lambda v: 0 <= v < 2**63, "a whole number from 0 to 2**63 - 1")
_sensitivity = _checked(int, lambda v: v == 0 or v >= 200, "0 (none) or a whole number of at least 200")
_above_zero = _checked(float, lambda v: 0 < v < float("inf"), "a number above 0")


def cmd_params(args) -> int:
    from .api import parameters
    from .scenario import parameter_paths

    table = parameters("uncertain" if args.uncertain else "all")
    typed = parameter_paths()  # the schema's own values: an integer stays one
    for r in table.itertuples():
        low, high, default = typed[r.path]
        allowed = f"{_value(low)} to {_value(high)}" if low is not None and high is not None else "any"
        prior = f"; plausible {_value(r.plausible_low)} to {_value(r.plausible_high)} ({r.scale})" if r.scale else ""
        print(f"{r.path} = {_value(default)}  [{r.unit}; allowed {allowed}{prior}]")
    return 0


def cmd_validate(args) -> int:
    for s in _load_all(args.scenarios):
        print(f"ok: {s.name} ({s.description or 'no description'})")
    return 0


def _value(x) -> str:
    """A parameter's value as written in a scenario file: an integer in full, a float short."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return str(x) if isinstance(x, int) else f"{x:g}"


def _pct(x: float) -> str:
    """A share as a percentage at one fixed precision."""
    return f"{100 * x:.1f}%"


def cmd_run(args) -> int:
    import pandas as pd

    from .analysis import summary
    from .experiments import run_replicates
    from .posterior import REPLICATES, run_draws
    from .results import run_config, write_run
    from .simulation import simulate

    scenarios = _load_all(args.scenarios)
    evaluator = _evaluator(args)
    if (evaluator.spread or args.posterior) and args.engine == "mesa":
        raise ScenarioError("command line: --engine mesa runs one scenario in this process; --workers, "
                            "--dask-local, --scheduler and --posterior run the ensemble engine (the same numbers)")
    default = REPLICATES if args.posterior else None
    settings = [(args.replicates or default or s.run.replicates, s.run.seed if args.seed is None else args.seed)
                for s in scenarios]
    posterior = [_draws(args, [s], r, seed) for s, (r, seed) in zip(scenarios, settings, strict=True)]
    folders = [_folder(args, Path(args.out) / s.name, "run", {**run_config(s, seed, replicates),
                                                                  **_posterior_config(args)})
               for s, (replicates, seed) in zip(scenarios, settings, strict=True)]
    rows = []
    with evaluator:
        for s, (replicates, seed), folder, d in zip(scenarios, settings, folders, posterior, strict=True):
            engine = args.engine
            start = time.perf_counter()
            if d is not None:
                frame = run_draws(s, d, seed, evaluator, progress=True)
            elif evaluator.spread:
                frame = run_replicates(s, replicates, seed, evaluator=evaluator, progress=True)
            else:
                frame = simulate(s, replicates=replicates, seed=seed, engine=engine, progress=True)
            seconds = time.perf_counter() - start
            with folder as out:
                write_run(out.path, frame, s, replicates, d)
                out.note(replicate_seeds="numpy.random.SeedSequence(seed, spawn_key=(replicate,)), "
                                         "128 bits of generate_state(4, uint32), little-endian"
                                         + ("; posterior draw i on root seed + i" if d else ""),
                         engine=engine, executor=str(evaluator), wall_seconds=round(seconds, 3),
                         posterior_file=args.posterior)
            rows.append(summary(frame, s, d and d.ess).assign(seconds=round(seconds, 2), folder=str(folder.target)))
    table = pd.concat(rows, ignore_index=True)
    first = table.iloc[0]
    cm = int(first["critical_mass_year"])
    show = pd.DataFrame({
        "scenario": table["scenario"], "replicates": table["replicates"].map("{:d}".format),
        "share with a mutual": table["share_with_mutual_median"].map(_pct),
        "10%": table["share_with_mutual_p10"].map(_pct), "90%": table["share_with_mutual_p90"].map(_pct),
        "live mutuals": table["live_mutuals_median"].map("{:.0f}".format),
        f"P(critical mass by {cm})": table["p_critical_mass"].map("{:.2f}".format),
        "support spent, GBP m": table["cumulative_support_spent_median"].map("{:.1f}".format),
        "budget, GBP m": table["support_budget"].map("{:.1f}".format),
        "seconds": table["seconds"].map("{:.1f}".format)})
    over = posterior[0].words() if posterior[0] else "replicates"
    print(f"At {int(first['horizon'])}: medians, and the 10% and 90% quantiles of the share, over {over}; "
          f"P(critical mass): probability that {first['critical_mass_threshold']:.0%} of authorities ran a "
          f"mutual by {cm}:")
    print(show.to_string(index=False))
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

    from .api import check_outcomes
    from .experiments import (
        check_design,
        check_range,
        design_fingerprint,
        full_factorial,
        latin_hypercube,
        run_design,
        write_sweep,
    )

    (scenario,) = _load_all([args.scenario])
    _settle(args, scenario)
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
        for path, (low, high) in ranges.items():
            check_range(scenario, path, low, high, "command line: --range")
        frames.append(latin_hypercube({k: tuple(v) for k, v in ranges.items()}, args.lhs, args.seed))
    if args.design:
        frames.append(_read_design(args.design))
    if not frames:
        raise ScenarioError("command line: give --vary PATH=LOW:HIGH:STEPS, --lhs N --range ... or "
                            "--design FILE.csv")
    design = frames[0]
    for more in frames[1:]:
        design = design.merge(more, how="cross")
    check_design(scenario, design, f"--design {args.design}" if args.design else "command line")
    outcomes = [o.strip() for o in args.outcomes.split(",") if o.strip()]
    check_outcomes(outcomes)
    evaluator = _evaluator(args)
    if args.resume and args.overwrite:
        raise ScenarioError("command line: give --resume (continue the run in --out) or --overwrite "
                            "(start it again), not both")
    config = {**design_fingerprint(scenario, design, args.replicates, args.seed, args.chunk),
              "scenario": scenario.model_dump(mode="json"), "outcomes": outcomes}
    folder = _folder(args, args.out, "sweep", config, resume=args.resume, work=True)
    with evaluator, folder as out:
        table = run_design(scenario, design, args.replicates, args.seed, evaluator=evaluator, chunk=args.chunk,
                           chunks=out.work / "chunks", resume=True, say=lambda text: print(f"mutuals sweep: {text}"))
        write_sweep(out.path, scenario, design, table, outcomes)
        out.note(executor=str(evaluator))
    print(f"{len(design)} design rows x {args.replicates} replicates: {len(table)} rows written to "
          f"{Path(args.out) / 'sweep.parquet'}; per row, {', '.join(outcomes)} in outcomes.csv")
    return 0


def _read_design(path: str):
    """A design from a CSV file: one column per parameter path, one row per point (a
    ``design_row`` index column, as ``design.csv`` has, is allowed)."""
    import pandas as pd

    try:
        design = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise ScenarioError(f"command line: --design {path}: not a readable CSV file ({err})") from None
    design = design.drop(columns=[c for c in ("design_row", "Unnamed: 0") if c in design.columns])
    if design.empty or not len(design.columns):
        raise ScenarioError(f"command line: --design {path}: no rows or no parameter columns")
    bad = [c for c in design.columns if not pd.api.types.is_numeric_dtype(design[c]) or design[c].isna().any()]
    if bad:
        raise ScenarioError(f"command line: --design {path}: column(s) {', '.join(bad)}: allowed numbers "
                            "in every row")
    return design.astype(float)


def cmd_compare(args) -> int:
    import pandas as pd

    from .compare import run_policies, write_comparison

    scenarios = _load_all(args.scenarios)
    _settle(args, scenarios[0])
    draws = _draws(args, scenarios)
    evaluator = _evaluator(args)
    folder = _folder(args, args.out, "compare", dict(scenarios=_dumps(scenarios), seed=args.seed,
                                                     replicates=args.replicates, **_posterior_config(args)))
    with evaluator, folder as out:
        frame = run_policies(scenarios, args.replicates, args.seed, evaluator, progress=True, draws=draws)
        table = write_comparison(frame, scenarios[0].run, out.path, scenarios, draws)
        frame.to_parquet(out.path / "timeseries.parquet", index=False)
        out.note(engine="ensemble", executor=str(evaluator), posterior_file=args.posterior,
                 over=draws.words() if draws else f"{args.replicates} replicates")
    run = scenarios[0].run
    cm = run.critical_mass_year
    show = pd.DataFrame({
        "policy": table["scenario"],
        f"P(critical mass by {cm})": table[f"p_critical_mass_{cm}"].map("{:.2f}".format),
        "95% interval": [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(table[f"p_critical_mass_{cm}_low"],
                                                              table[f"p_critical_mass_{cm}_high"], strict=True)],
        "support spent, GBP m (median)": table["support_spent_median"].map("{:.1f}".format),
        "budget, GBP m": table["support_budget"].map("{:.1f}".format)})
    over = draws.words() if draws else f"{args.replicates} replicates"
    print(f"{run.critical_mass_threshold:.0%} of authorities running a mutual by {cm}, {over} for each policy "
          f"on the same seeds; written to {args.out}")
    print(show.to_string(index=False))
    return 0


def cmd_tipping(args) -> int:
    from .critical import tipping, tipping_words, write_tipping

    scenarios = _load_all(args.scenarios)
    _settle(args, scenarios[0])
    draws = _draws(args, scenarios)
    evaluator = _evaluator(args)
    folder = _folder(args, args.out, "tipping", dict(scenarios=_dumps(scenarios), seed=args.seed,
                                                     replicates=args.replicates, **_posterior_config(args)))
    with evaluator, folder as out:
        found = tipping(scenarios, args.replicates, args.seed, evaluator, progress=True, draws=draws)
        write_tipping(found, out.path, args.replicates)
        out.note(executor=str(evaluator), posterior_file=args.posterior)
    for t in found:
        print(tipping_words(t))
    return 0


def cmd_phase(args) -> int:
    import numpy as np

    from .critical import phase_grid, scaled_support, write_phase
    from .overrides import with_overrides

    (scenario,) = _load_all([args.scenario])
    _settle(args, scenario)
    # the most extreme cell of the grid, validated before any work
    scaled_support(scenario, args.max_intensity, f"command line: --max-intensity {args.max_intensity:g}")
    with_overrides(scenario, {"fiscal.severity": args.max_severity},
                   f"command line: --max-severity {args.max_severity:g}")
    draws = _draws(args, [scenario])
    if draws is not None and "fiscal.severity" in draws.design:
        raise ScenarioError(f"command line: --posterior {args.posterior}: it sets fiscal.severity, the axis the "
                            "phase diagram varies; give a posterior without it")
    evaluator = _evaluator(args)
    folder = _folder(args, args.out, "phase", dict(
        scenario=scenario.model_dump(mode="json"), seed=args.seed, replicates=args.replicates, steps=args.steps,
        max_intensity=args.max_intensity, max_severity=args.max_severity, **_posterior_config(args)))
    with evaluator, folder as out:
        grid = phase_grid(scenario, np.linspace(0, args.max_intensity, args.steps),
                          np.linspace(0, args.max_severity, args.steps), args.replicates, args.seed, evaluator,
                          progress=True, draws=draws)
        write_phase(grid, scenario, out.path, draws.words() if draws else f"{args.replicates} replicates")
        out.note(executor=str(evaluator), posterior_file=args.posterior)
    print(f"phase diagram of {len(grid)} cells written to {args.out}")
    return 0


def _read_posterior(path: Path):
    """A calibrated posterior (:func:`sim.posterior.read_posterior`) and, if beside it, the
    calibration's record check and rolling-origin validation."""
    import pandas as pd

    from .posterior import read_posterior

    beside = [path.with_name(name) for name in ("record_check.csv", "validation.csv")]  # by `mutuals calibrate`
    return read_posterior(path), *(pd.read_csv(p) if p.exists() else None for p in beside)


VERDICT_SIZES = ("replicates", "lhs", "lhs_replicates", "sobol", "posterior_particles", "posterior_replicates",
                 "structure_particles", "structure_replicates", "sensitivity", "sensitivity_replicates")


def cmd_verdict(args) -> int:
    from .results import file_digest
    from .verdict import README_END, README_START, scenario_files, update_readme, verdict, write_verdict

    files = scenario_files(Path(args.scenarios))
    scenarios = dict(zip(files, _load_all([str(f) for f in files.values()]), strict=True))
    _settle(args, scenarios["december_2012"])
    posterior = record_check = validation = None
    if args.posterior:
        posterior, record_check, validation = _read_posterior(Path(args.posterior))
    if args.readme and not Path(args.readme).is_file():
        raise ScenarioError(f"command line: --readme {args.readme}: not a file; give a README with the "
                            f"markers {README_START} and {README_END}")
    evaluator = _evaluator(args)
    folder = _folder(args, args.out, "verdict", dict(
        scenarios=_dumps(scenarios.values()), seed=args.seed,
        posterior=file_digest(args.posterior) if args.posterior else None,
        **{k: getattr(args, k) for k in VERDICT_SIZES}))
    with evaluator, folder as out:
        v = verdict(scenarios, replicates=args.replicates, seed=args.seed, lhs_points=args.lhs,
                    lhs_replicates=args.lhs_replicates, sobol_points=args.sobol, evaluator=evaluator,
                    progress=True, posterior=posterior, posterior_particles=args.posterior_particles,
                    posterior_replicates=args.posterior_replicates, structure_particles=args.structure_particles,
                    structure_replicates=args.structure_replicates, record_check=record_check, validation=validation,
                    sensitivity_points=args.sensitivity, sensitivity_replicates=args.sensitivity_replicates,
                    say=lambda text: print(f"mutuals verdict: {text}", file=sys.stderr, flush=True))
        write_verdict(v, out.path)
        out.note(scenario_folder=str(args.scenarios), posterior_file=str(args.posterior) if args.posterior else None,
                 executor=str(evaluator))
    if args.readme:
        update_readme(Path(args.readme), v)
    for a in v.answers.values():
        print(f"{a.question} {'yes' if a.answer else 'no'} ({a.probability:.2f}, {a.view})")
    print(f"see {Path(args.out) / 'verdict.md'}")
    return 0


def cmd_design(args) -> int:
    from .design import find_packages, write_design
    from .posterior import read_posterior
    from .results import code_version, file_digest
    from .verdict import scenario_files

    files = scenario_files(Path(args.scenarios))
    missing = [n for n in ("december_2012", "historical", "joined_up") if not files[n].is_file()]
    if missing:
        raise ScenarioError(f"command line: --scenarios {args.scenarios}: no {', '.join(m + '.toml' for m in missing)}")
    scenarios = dict(zip(files, _load_all([str(f) for f in files.values()]), strict=True))
    _settle(args, scenarios["december_2012"])
    posterior = read_posterior(args.posterior)
    evaluator = _evaluator(args)
    if args.resume and args.overwrite:
        raise ScenarioError("command line: give --resume (continue the design in --out) or --overwrite "
                            "(start again), not both")
    folder = _folder(args, args.out, "design", dict(
        scenarios=_dumps(scenarios.values()), posterior=file_digest(args.posterior), draws=args.draws,
        replicates=args.replicates, seed=args.seed, nfe=args.nfe, seeds=args.seeds, population=args.population,
        rescore_draws=args.rescore_draws, rescore_replicates=args.rescore_replicates, code=code_version()),
        resume=args.resume, work=True)
    start = time.perf_counter()
    with evaluator, folder as out:
        (out.path / "archives").mkdir()
        found = find_packages(
            scenarios, posterior, draws_n=args.draws, replicates=args.replicates, seed=args.seed, nfe=args.nfe,
            seeds=args.seeds, work=out.path / "archives", population=args.population,
            rescore_draws=args.rescore_draws, rescore_replicates=args.rescore_replicates, evaluator=evaluator,
            store=out.work, progress=True,
            say=lambda text: print(f"mutuals design: {text}", file=sys.stderr, flush=True))
        write_design(out.path, found, scenarios["december_2012"].run)
        out.note(posterior_file=args.posterior, executor=str(evaluator),
                 wall_seconds=round(time.perf_counter() - start, 1))
    print(f"{len(found.table)} packages on the front; see {Path(args.out) / 'design.md'}")
    return 0


def cmd_calibrate(args) -> int:
    from dataclasses import asdict

    from .calibrate import Settings, calibrate, write_calibration
    from .calibrate import summary as calibration_summary
    from .record import load_record
    from .results import update_block

    (scenario,) = _load_all([args.scenario])
    record = load_record(args.record)
    if args.readme and not Path(args.readme).is_file():
        raise ScenarioError(f"command line: --readme {args.readme}: not a file; give a README with the "
                            "markers <!-- calibration:start --> and <!-- calibration:end -->")
    origins = () if args.no_validate else tuple(args.origins)
    for origin in origins:
        if not any(o.date <= origin for o in record.observation):
            raise ScenarioError(f"command line: --origins {origin:g}: no observation of {args.record} "
                                "is dated on or before it")
    evaluator = _evaluator(args)
    settings = Settings(
        particles=args.particles, generations=args.generations, min_epsilon=args.min_epsilon,
        seed=scenario.run.seed if args.seed is None else args.seed,
        predictive_particles=args.predictive_particles, predictive_replicates=args.predictive_replicates,
        origins=origins, compare_models=not args.no_models, recovery_sets=args.recovery,
        recovery_particles=args.recovery_particles, recovery_generations=args.recovery_generations)
    folder = _folder(args, args.out, "calibrate", dict(
        scenario=scenario.model_dump(mode="json"), record=record.model_dump(mode="json"), settings=asdict(settings)),
        resume=args.resume, work=True)
    start = time.perf_counter()
    with evaluator, folder as out:
        result = calibrate(scenario, record, settings, out.work, evaluator=evaluator, resume=args.resume,
                           say=lambda text: print(f"mutuals calibrate: {text}", file=sys.stderr))
        write_calibration(result, out.path)
        out.note(executor=str(evaluator), wall_seconds=round(time.perf_counter() - start, 1), **result.summary)
    if args.readme:
        update_block(Path(args.readme), "calibration", calibration_summary(result))
    print((Path(args.out) / "calibration.md").read_text(encoding="utf-8"))
    return 0


def _die_with_parent() -> None:
    """In the child, before it runs: on Linux, ask the kernel to terminate it when its parent
    dies, however the parent dies (even by SIGKILL)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def cmd_dashboard(args) -> int:
    import os
    import signal
    import subprocess

    if args.scenario:
        _load_all([args.scenario])  # refuse a bad file before starting the server
    env = dict(os.environ)
    if args.scenario:
        env["MUTUALS_SCENARIO"] = str(Path(args.scenario).resolve())
    print(f"dashboard on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    command = [sys.executable, "-m", "solara", "run", "sim.app", "--host", args.host,
               "--port", str(args.port), "--production"]
    linux = sys.platform.startswith("linux")
    server = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent if linux else None)

    def stop(signum, frame):  # a terminated dashboard takes its server with it
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def build_parser() -> argparse.ArgumentParser:
    from .calibrate import Settings

    parser = Parser(
        prog="mutuals",
        description="Agent-based model of English local authorities' uptake of mutuals.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"mutuals {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser

    def _parser(name: str, **kw):
        return add(name, formatter_class=_Help, **kw)

    sub.add_parser = _parser

    p = sub.add_parser("run", help="run scenario files and write results folders")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files (TOML)")
    _sizes(p)
    _output(p, "results", "output folder; each scenario in a folder of its name")
    p.add_argument("--engine", choices=["ensemble", "mesa"], default="ensemble",
                   help="the compiled ensemble, or one Mesa model per replicate (the same numbers)")
    _posterior_options(p)
    _executors(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sweep", help="run a design over scenario parameters")
    p.add_argument("scenario", metavar="SCENARIO", help="the scenario file whose parameters vary")
    p.add_argument("--vary", action="append", metavar="PATH=LOW:HIGH:STEPS",
                   help="full factorial levels of a parameter (repeatable)")
    p.add_argument("--lhs", type=_positive, metavar="N", help="N Latin hypercube rows")
    p.add_argument("--range", action="append", metavar="PATH=LOW:HIGH",
                   help="a parameter's range for --lhs (repeatable)")
    p.add_argument("--design", metavar="FILE.csv",
                   help="rows of parameter values (columns: dotted paths), e.g. a SALib or EMA sample")
    p.add_argument("--outcomes", default="p_critical_mass,share_2020,years_to_threshold,support_spent",
                   help="named outcomes per design row, comma-separated, for outcomes.csv (see sim.api)")
    _sizes(p)
    _output(p)
    _executors(p)
    p.add_argument("--chunk", type=_positive, default=250, help="replicates per task")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("compare", help="compare policies on common random numbers")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files (TOML)")
    _sizes(p)
    _posterior_options(p)
    _output(p)
    _executors(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("tipping", help="the barrier search: the share from which uptake grows unaided "
                                       "(the verdict's)")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files (TOML)")
    _sizes(p)
    _posterior_options(p)
    _output(p)
    _executors(p)
    p.set_defaults(func=cmd_tipping)

    p = sub.add_parser("phase", help="phase diagram: support intensity x cut severity")
    p.add_argument("scenario", metavar="SCENARIO", help="the policy to scale (e.g. joined_up)")
    _sizes(p)
    p.add_argument("--steps", type=_positive, default=9, help="grid points along each axis")
    p.add_argument("--max-intensity", type=_above_zero, default=2.0,
                   help="highest multiple of the policy's budgets")
    p.add_argument("--max-severity", type=_above_zero, default=2.0,
                   help="highest multiple of the actual cuts")
    _posterior_options(p)
    _output(p)
    _executors(p)
    p.set_defaults(func=cmd_phase)

    p = sub.add_parser("verdict", help="the verdict on the Committee's claim")
    p.add_argument("--scenarios", default="scenarios", help="folder of the shipped scenarios")
    p.add_argument("--replicates", type=_positive,
                   help="replicates at the default parameters (default: the scenarios' [run] replicates)")
    p.add_argument("--lhs", type=_positive, default=1000,
                   help="prior Latin hypercube points for PRIM")
    p.add_argument("--lhs-replicates", type=_positive, default=12,
                   help="replicates per hypercube or Sobol point and policy")
    p.add_argument("--sobol", type=_sobol, default=64,
                   help="Sobol base points over the prior, a power of two (0: none); the sample has this "
                        "times (parameters + 2) points")
    _executors(p)
    p.add_argument("--structure-particles", type=_positive, default=40,
                   help="posterior particles for the self-sustaining test and the barrier search")
    p.add_argument("--structure-replicates", type=_positive, default=10,
                   help="replicates per particle for them")
    p.add_argument("--sensitivity", type=_sensitivity, default=1024, metavar="N",
                   help="points of the smoothed posterior for the indices of what decides the answers (0: none)")
    p.add_argument("--sensitivity-replicates", type=_positive, default=2, help="replicates per point for them")
    p.add_argument("--readme", help="a README whose verdict markers receive the summary")
    p.add_argument("--posterior", metavar="FILE",
                   help="a calibrated posterior (posterior.parquet of `mutuals calibrate`)")
    p.add_argument("--posterior-particles", type=_positive, default=100,
                   help="particles drawn from the posterior")
    p.add_argument("--posterior-replicates", type=_positive, default=4,
                   help="replicates per particle")
    p.add_argument("--seed", type=_seed, help=SIZE_HELP[1])
    _output(p)
    p.set_defaults(func=cmd_verdict)

    p = sub.add_parser("design", help="the cheapest robust support packages: many-objective search over the posterior")
    p.add_argument("--posterior", required=True, metavar="FILE",
                   help="the calibrated posterior (posterior.parquet of `mutuals calibrate`)")
    p.add_argument("--scenarios", default="scenarios", help="folder of the shipped scenarios")
    p.add_argument("--nfe", type=_positive, default=1000, help="function evaluations per seed")
    p.add_argument("--draws", type=_positive, default=200, help="posterior draws every package is scored on")
    p.add_argument("--replicates", type=_positive, default=2, help="replicates per draw")
    p.add_argument("--seeds", type=_positive, default=3, help="searches, each from its own seed")
    p.add_argument("--population", type=_positive, default=100, help="packages per generation of the search")
    p.add_argument("--rescore-draws", type=_positive, metavar="N",
                   help="other posterior draws the front is re-scored on (default: as many as its particles)")
    p.add_argument("--rescore-replicates", type=_positive, default=4, help="replicates per re-scoring draw")
    p.add_argument("--seed", type=_seed, help=SIZE_HELP[1])
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted design in --out (the packages it scored are replayed)")
    _output(p)
    _executors(p)
    p.set_defaults(func=cmd_design)

    p = sub.add_parser("calibrate", help="fit the uncertain parameters to the record (ABC-SMC)")
    p.add_argument("scenario", metavar="SCENARIO", help="the scenario to calibrate (historical)")
    p.add_argument("--record", required=True, metavar="FILE",
                   help="the record (scenarios/calibration/record.toml)")
    calibration = Settings()  # the defaults
    p.add_argument("--particles", type=_positive, default=calibration.particles, help="ABC-SMC population size")
    p.add_argument("--generations", type=_positive, default=calibration.generations,
                   help="at most this many generations")
    p.add_argument("--min-epsilon", type=float, default=calibration.min_epsilon,
                   help="stop at this distance (1 = one standard error of the record in all)")
    p.add_argument("--predictive-particles", type=_positive, default=calibration.predictive_particles,
                   help="posterior particles drawn for the predictive")
    p.add_argument("--predictive-replicates", type=_positive, default=calibration.predictive_replicates,
                   help="replicates per predictive particle")
    p.add_argument("--origins", type=float, nargs="+", default=list(calibration.origins), metavar="DATE",
                   help="rolling-origin validation: calibrate on the record up to each date and predict the rest")
    p.add_argument("--no-validate", action="store_true", help="skip the rolling-origin validation")
    p.add_argument("--no-models", action="store_true",
                   help="calibrate the extended structure alone (no model selection, no rerun)")
    p.add_argument("--recovery", type=int, default=calibration.recovery_sets, metavar="N",
                   help="recovery check: calibrate on N synthetic records from known prior draws (0: skip)")
    p.add_argument("--recovery-particles", type=_positive, default=calibration.recovery_particles,
                   help="ABC-SMC population size of each recovery calibration")
    p.add_argument("--recovery-generations", type=_positive, default=calibration.recovery_generations,
                   help="at most this many generations in each recovery calibration")
    p.add_argument("--readme", help="a README whose calibration markers receive the summary")
    _executors(p)
    p.add_argument("--seed", type=_seed, help=SIZE_HELP[1])
    p.add_argument("--resume", action="store_true",
                   help="continue the ABC histories of an interrupted run into the same --out")
    _output(p)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("dashboard", help="the interactive dashboard (Mesa SolaraViz)")
    p.add_argument("--scenario", help="start from this scenario file (default: baseline)")
    p.add_argument("--port", type=int, default=8765, help="port to serve on")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("params", help="list every parameter path with its unit, default and ranges")
    p.add_argument("--uncertain", action="store_true",
                   help="only the uncertain ones, with their plausible ranges (the priors)")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("validate", help="check scenario files and report every error")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files (TOML)")
    p.set_defaults(func=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ParameterError as err:  # the library names its parameters; here they are flags
        print(f"mutuals: error: command line: {err.render(lambda name: '--' + name.replace('_', '-'))}",
              file=sys.stderr)
        return 2
    except ScenarioError as err:
        print(f"mutuals: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mutuals: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`mutuals params | head`): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # a folder that cannot be written, a disk that is full
        print(f"mutuals: error: {err}", file=sys.stderr)
        return 1
