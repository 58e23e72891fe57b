"""The command-line tool ``mutuals`` (also ``python -m sim``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .instruments import INSTRUMENTS
from .loading import ScenarioError, load_scenario


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


def _sizes(p, replicates: bool = True) -> None:
    """--replicates and --seed, the same on every command: by default, the scenario's."""
    if replicates:
        p.add_argument("--replicates", type=_positive, help=SIZE_HELP[0])
    p.add_argument("--seed", type=_seed, help=SIZE_HELP[1])


def _output(p, default: str | None = None, help: str = "output folder") -> None:
    """--out and --overwrite, the same on every command that writes."""
    p.add_argument("--out", required=default is None, default=default, help=help)
    p.add_argument("--overwrite", action="store_true",
                   help="replace results another command or configuration wrote there")


def _executors(p) -> None:
    """--workers, --dask-local and --scheduler, the same on every command that can spread its
    work (results do not depend on them)."""
    p.add_argument("--workers", type=_positive, default=1, help="local process pool size")
    p.add_argument("--dask-local", type=_positive, metavar="N", help="start a local Dask cluster of N workers")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing Dask scheduler, e.g. tcp://host:8786 (refused if it does not answer)")


def _one_executor(args) -> bool:
    """Refuse more than one of --workers N>1, --dask-local and --scheduler; is any given?"""
    given = (args.workers > 1) + bool(args.dask_local) + bool(args.scheduler)
    if given > 1:
        raise ScenarioError("command line: give at most one of --workers, --dask-local and --scheduler")
    return given == 1


def _settle(args, scenario) -> None:
    """Fill --replicates and --seed from ``scenario``'s [run] table where they were not given."""
    if getattr(args, "replicates", 0) is None:
        args.replicates = scenario.run.replicates
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
_seed = _checked(int, lambda v: 0 <= v < 2**63, "a whole number from 0 to 2**63 - 1")
_above_zero = _checked(float, lambda v: 0 < v < float("inf"), "a number above 0")


def cmd_params(args) -> int:
    from .api import parameters

    table = parameters("uncertain" if args.uncertain else "all")
    for r in table.itertuples():
        allowed = f"{r.low:g} to {r.high:g}" if r.low is not None and r.high is not None else "any"
        prior = f"; plausible {r.plausible_low:g} to {r.plausible_high:g} ({r.scale})" if r.scale else ""
        print(f"{r.path} = {r.default:g}  [{r.unit}; allowed {allowed}{prior}]")
    return 0


def cmd_validate(args) -> int:
    for s in _load_all(args.scenarios):
        print(f"ok: {s.name} ({s.description or 'no description'})")
    return 0


def cmd_run(args) -> int:
    import pandas as pd

    from .analysis import summary
    from .experiments import dask_client, run_replicates
    from .results import check_target, run_fingerprint, write_run
    from .simulate import choose_engine, simulate

    scenarios = _load_all(args.scenarios)
    spread = _one_executor(args)
    if spread and args.engine == "mesa":
        raise ScenarioError("command line: --engine mesa runs in this process; --workers, --dask-local "
                            "and --scheduler spread the ensemble engine (the same numbers)")
    settings = [(args.replicates or s.run.replicates, s.run.seed if args.seed is None else args.seed)
                for s in scenarios]
    for s, (replicates, seed) in zip(scenarios, settings, strict=True):
        check_target(Path(args.out) / s.name, run_fingerprint(s, seed, replicates), args.overwrite)
    rows = []
    executor = (f"{args.workers} local processes" if args.workers > 1 else
                f"local Dask cluster of {args.dask_local}" if args.dask_local else
                f"Dask scheduler {args.scheduler}" if args.scheduler else "this process")
    with dask_client(args.dask_local, args.scheduler) as client:
        for s, (replicates, seed) in zip(scenarios, settings, strict=True):
            engine = "ensemble" if spread else choose_engine(args.engine, replicates)
            start = time.perf_counter()
            if spread:
                frame = run_replicates(s, replicates, seed, workers=args.workers, client=client,
                                       progress=True)
            else:
                frame = simulate(s, replicates=replicates, seed=seed, engine=engine, progress=True)
            seconds = time.perf_counter() - start
            target = write_run(frame, s, Path(args.out), seed=seed, replicates=replicates,
                               engine=engine, executor=executor, seconds=seconds)
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

    from .experiments import check_design, check_range, full_factorial, latin_hypercube, run_design

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
    from .api import check_outcomes

    outcomes = [o.strip() for o in args.outcomes.split(",") if o.strip()]
    check_outcomes(outcomes)
    _one_executor(args)
    if args.resume and args.overwrite:
        raise ScenarioError("command line: give --resume (continue the run in --out) or --overwrite "
                            "(start it again), not both")
    table = run_design(scenario, design, args.replicates, args.seed, Path(args.out),
                       workers=args.workers, chunk=args.chunk, scheduler=args.scheduler,
                       dask_local=args.dask_local, resume=args.resume, overwrite=args.overwrite)
    import json

    from .experiments import design_outcomes
    from .scenario import uncertainties

    summary = design_outcomes(scenario, design, table, outcomes)
    summary.to_csv(Path(args.out) / "outcomes.csv")
    every = uncertainties()
    bounds = [[every[c].low, every[c].high] if c in every else [float(design[c].min()), float(design[c].max())]
              for c in design.columns]
    (Path(args.out) / "problem.json").write_text(json.dumps(
        {"num_vars": len(design.columns), "names": list(design.columns), "bounds": bounds}, indent=2) + "\n")
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
    from .compare import run_policies, write_comparison
    from .results import atomic_folder, check_target, fingerprint, provenance, write_json

    scenarios = _load_all(args.scenarios)
    _settle(args, scenarios[0])
    seed = args.seed
    made_by = fingerprint("compare", scenarios=[s.model_dump(mode="json") for s in scenarios], seed=seed,
                          replicates=args.replicates)
    check_target(Path(args.out), made_by, args.overwrite)
    frame = run_policies(scenarios, args.replicates, seed, progress=True)
    with atomic_folder(Path(args.out)) as tmp:
        table = write_comparison(frame, scenarios[0].run, tmp, scenarios)
        frame.to_parquet(tmp / "timeseries.parquet", index=False)
        write_json(tmp / "manifest.json", provenance(
            scenarios=[s.model_dump(mode="json") for s in scenarios], seed=seed,
            replicates=args.replicates, engine="ensemble", fingerprint=made_by))
    run = scenarios[0].run
    cm = run.critical_mass_year
    import pandas as pd

    show = pd.DataFrame({
        "policy": table["scenario"],
        f"P(critical mass by {cm})": table[f"p_critical_mass_{cm}"].map("{:.2f}".format),
        "95% interval": [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(table[f"p_critical_mass_{cm}_low"],
                                                              table[f"p_critical_mass_{cm}_high"], strict=True)],
        "support spent, GBP m (median)": table["support_spent_median"].map("{:.1f}".format)})
    print(f"{run.critical_mass_threshold:.0%} of authorities running a mutual by {cm}, {args.replicates} "
          f"replicates each on the same seeds; written to {args.out}")
    print(show.to_string(index=False))
    return 0


def cmd_tipping(args) -> int:
    import matplotlib.pyplot as plt
    import numpy as np

    from .critical import growth_curve, tipping_point
    from .plots import label, plot_growth_curve
    from .results import atomic_folder, check_target, fingerprint, provenance, write_json

    scenarios = _load_all(args.scenarios)
    _settle(args, scenarios[0])
    made_by = fingerprint("tipping", scenarios=[s.model_dump(mode="json") for s in scenarios], seed=args.seed,
                          replicates=args.replicates, window=args.window)
    check_target(Path(args.out), made_by, args.overwrite)
    found = []
    fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    with atomic_folder(Path(args.out)) as tmp:
        for i, scenario in enumerate(scenarios):
            print(f"mutuals tipping: {scenario.name} ({i + 1} of {len(scenarios)})", file=sys.stderr, flush=True)
            tip = tipping_point(scenario, window=args.window, replicates=args.replicates,
                                seed=args.seed)
            curve = growth_curve(scenario, np.linspace(0.0, 0.3, 13), window=args.window,
                                 replicates=args.replicates, seed=args.seed)
            curve.to_csv(tmp / f"growth_curve_{scenario.name}.csv", index=False)
            plot_growth_curve(curve, tip.median if tip.found else None, ax=ax,
                              label=label(scenario), colour=f"C{i}")
            found.append(dict(scenario=scenario.name, found=tip.found, tipping_point=tip.median,
                              p10_share=tip.low, p90_share=tip.high, window_years=tip.window,
                              replicates=tip.replicates,
                              measure="live mutuals grow over the window, all support withdrawn",
                              bisection_points=tip.curve.to_dict("records")))
        ax.set_title(f"With no support, does uptake grow? ({args.replicates} replicates per point)")
        fig.savefig(tmp / "tipping.png", dpi=120)
        plt.close(fig)
        write_json(tmp / "tipping.json", found)
        write_json(tmp / "manifest.json", provenance(
            scenarios=[s.model_dump(mode="json") for s in scenarios], seed=args.seed,
            replicates=args.replicates, window=args.window, fingerprint=made_by))
    for f in found:
        if f["found"]:
            print(f"{f['scenario']}: with no support, uptake grows in half of the replicates from "
                  f"{f['tipping_point']:.1%} of authorities already running a mutual "
                  f"(10%: {f['p10_share']:.1%}; 90%: "
                  f"{'not below 30%' if f['p90_share'] >= 0.3 else format(f['p90_share'], '.1%')})")
        else:
            print(f"{f['scenario']}: no tipping point below 30% of authorities")
    return 0


def cmd_phase(args) -> int:
    import matplotlib.pyplot as plt
    import numpy as np

    from .critical import phase_grid, scaled_support
    from .overrides import with_overrides
    from .plots import label, plot_phase
    from .results import atomic_folder, check_target, fingerprint, provenance, write_json

    (scenario,) = _load_all([args.scenario])
    _settle(args, scenario)
    # the most extreme cell of the grid, validated before any work
    scaled_support(scenario, args.max_intensity, f"command line: --max-intensity {args.max_intensity:g}")
    with_overrides(scenario, {"fiscal.severity": args.max_severity},
                   f"command line: --max-severity {args.max_severity:g}")
    made_by = fingerprint("phase", scenario=scenario.model_dump(mode="json"), seed=args.seed,
                          replicates=args.replicates, steps=args.steps, max_intensity=args.max_intensity,
                          max_severity=args.max_severity)
    check_target(Path(args.out), made_by, args.overwrite)
    grid = phase_grid(scenario, np.linspace(0, args.max_intensity, args.steps),
                      np.linspace(0, args.max_severity, args.steps), args.replicates, args.seed,
                      progress=True)
    with atomic_folder(Path(args.out)) as tmp:
        grid.to_csv(tmp / "phase.csv", index=False)
        fig = plot_phase(grid, policy=label(scenario))
        run = scenario.run
        fig.axes[0].set_title(f"P({run.critical_mass_threshold:.0%} of authorities run a mutual "
                              f"by {run.critical_mass_year})\nbudgets of {label(scenario)} and the cuts "
                              f"scaled; {args.replicates} replicates per cell")
        fig.savefig(tmp / "phase.png", dpi=120)
        plt.close(fig)
        write_json(tmp / "manifest.json", provenance(scenario=scenario.model_dump(mode="json"),
                                                       seed=args.seed, replicates=args.replicates,
                                                       steps=args.steps, max_intensity=args.max_intensity,
                                                       max_severity=args.max_severity, fingerprint=made_by))
    print(f"phase diagram of {len(grid)} cells written to {args.out}")
    return 0


VERDICT_SCENARIOS = ("baseline", "december_2012", "historical", "joined_up")
"""The policies the verdict compares; beside them, each instrument's own scenario file
(``<instrument>.toml``) where there is one."""


README_START, README_END = "<!-- verdict:start -->", "<!-- verdict:end -->"


def update_readme(readme: Path, verdict: Path) -> None:
    """Put the verdict's summary between the README's verdict markers (if it has them)."""
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        return
    report = verdict.read_text(encoding="utf-8")
    summary = report.split("## Summary", 1)[1].split("\n## ", 1)[0].strip()
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    readme.write_text(f"{head}{README_START}\n{summary}\n{README_END}{tail}", encoding="utf-8")


def cmd_verdict(args) -> int:
    from .results import atomic_folder, check_target, file_digest, fingerprint, provenance, write_json
    from .verdict import run_verdict

    folder = Path(args.scenarios)
    names = [*VERDICT_SCENARIOS, *(n for n in INSTRUMENTS if (folder / f"{n}.toml").is_file())]
    scenarios = dict(zip(names, _load_all([str(folder / f"{n}.toml") for n in names]), strict=True))
    _settle(args, scenarios["december_2012"])
    seed = args.seed
    posterior = record_check = None
    if args.posterior:
        import pandas as pd

        path = Path(args.posterior)
        try:
            posterior = pd.read_parquet(path)
        except (OSError, ValueError) as err:
            raise ScenarioError(f"command line: --posterior {path}: not a readable posterior "
                                f"table ({err})") from None
        if "weight" not in posterior.columns:
            raise ScenarioError(f"command line: --posterior {path}: no 'weight' column; give the "
                                "posterior.parquet that `mutuals calibrate` writes")
        check = path.with_name("record_check.csv")  # written beside it by `mutuals calibrate`
        record_check = pd.read_csv(check) if check.exists() else None
    if args.sobol & (args.sobol - 1):
        raise ScenarioError(f"command line: --sobol: allowed a power of two (Sobol sequences need one); "
                            f"given {args.sobol}")
    made_by = fingerprint("verdict", scenarios=[s.model_dump(mode="json") for s in scenarios.values()], seed=seed,
                          posterior=file_digest(args.posterior) if args.posterior else None,
                          **{k: getattr(args, k) for k in ("replicates", "lhs", "lhs_replicates", "sobol",
                                                            "posterior_particles", "posterior_replicates",
                                                            "structure_particles", "structure_replicates")})
    check_target(Path(args.out), made_by, args.overwrite)
    if args.readme and not Path(args.readme).is_file():
        raise ScenarioError(f"command line: --readme {args.readme}: not a file; give a README with the "
                            f"markers {README_START} and {README_END}")
    with atomic_folder(Path(args.out)) as tmp:
        n = run_verdict(scenarios, tmp, replicates=args.replicates, seed=seed,
                        lhs_points=args.lhs, lhs_replicates=args.lhs_replicates, sobol_points=args.sobol,
                        workers=args.workers, progress=True, posterior=posterior,
                        posterior_particles=args.posterior_particles,
                        posterior_replicates=args.posterior_replicates,
                        structure_particles=args.structure_particles,
                        structure_replicates=args.structure_replicates, record_check=record_check,
                        say=lambda text: print(f"mutuals verdict: {text}", file=sys.stderr, flush=True))
        write_json(tmp / "manifest.json", provenance(
            seed=seed, replicates=args.replicates, lhs_points=args.lhs,
            lhs_replicates=args.lhs_replicates, sobol_base_points=args.sobol, scenario_folder=str(folder),
            posterior=str(args.posterior) if args.posterior else None,
            posterior_particles=args.posterior_particles,
            posterior_replicates=args.posterior_replicates,
            structure_particles=args.structure_particles,
            structure_replicates=args.structure_replicates, fingerprint=made_by))
    if args.readme:
        update_readme(Path(args.readme), Path(args.out) / "verdict.md")
    for a in n["answers"]:
        print(f"{a['question']} {'yes' if a['answer'] else 'no'} ({a['probability']:.2f}, {a['view']})")
    print(f"see {Path(args.out) / 'verdict.md'}")
    return 0


def cmd_calibrate(args) -> int:
    import shutil

    from .calibrate import Settings, calibrate
    from .record import load_record
    from .results import atomic_folder, check_target, fingerprint, provenance, write_json

    (scenario,) = _load_all([args.scenario])
    record = load_record(args.record)
    if args.holdout_until is not None and not any(o.date <= args.holdout_until for o in record.observation):
        raise ScenarioError(f"command line: --holdout-until {args.holdout_until:g}: no observation of "
                            f"{args.record} is dated on or before it")
    _one_executor(args)
    settings = Settings(
        particles=args.particles, generations=args.generations, min_epsilon=args.min_epsilon,
        seed=scenario.run.seed if args.seed is None else args.seed,
        predictive_particles=args.predictive_particles,
        predictive_replicates=args.predictive_replicates,
        holdout_until=None if args.no_holdout else args.holdout_until,
        compare_models=not args.no_models, workers=args.workers, dask_local=args.dask_local,
        scheduler=args.scheduler, resume=args.resume)
    out = Path(args.out)
    made_by = fingerprint("calibrate", scenario=scenario.model_dump(mode="json"),
                          record=record.model_dump(mode="json"),
                          **{k: v for k, v in vars(settings).items()
                             if k not in ("workers", "dask_local", "scheduler", "resume")})
    check_target(out, made_by, args.overwrite)
    work = out.parent / f".{out.name}.work"  # pyabc's histories, kept until the run succeeds
    if work.exists() and not args.resume:
        shutil.rmtree(work)
    if args.resume and work.exists():
        started = (work / "fingerprint").read_text() if (work / "fingerprint").exists() else None
        if started != made_by:
            raise ScenarioError(f"command line: --resume: the interrupted calibration in {work} was started "
                                "with another scenario, record or settings; run without --resume to start again")
    start = time.perf_counter()
    with atomic_folder(out) as tmp:
        summary = calibrate(scenario, record, tmp, work, settings, fingerprint=made_by,
                            say=lambda text: print(f"mutuals calibrate: {text}", file=sys.stderr))
        shutil.copy(work / "history.db", tmp / "history.db")
        write_json(tmp / "manifest.json", provenance(
            scenario=scenario.model_dump(mode="json"), record=record.model_dump(mode="json"),
            settings=vars(settings), wall_seconds=round(time.perf_counter() - start, 1), fingerprint=made_by,
            **summary))
    shutil.rmtree(work, ignore_errors=True)
    print((out / "calibration.md").read_text(encoding="utf-8"))
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
    p.add_argument("--engine", choices=["auto", "mesa", "ensemble"], default="auto",
                   help="auto: Mesa for up to 3 replicates, else the compiled ensemble (the same numbers)")
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
    _output(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("tipping", help="tipping point: the share from which uptake grows unaided")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files (TOML)")
    _sizes(p)
    p.add_argument("--window", type=_positive, default=5, help="years over which growth is judged")
    _output(p)
    p.set_defaults(func=cmd_tipping)

    p = sub.add_parser("phase", help="phase diagram: support intensity x cut severity")
    p.add_argument("scenario", metavar="SCENARIO", help="the policy to scale (e.g. joined_up)")
    _sizes(p)
    p.add_argument("--steps", type=_positive, default=9, help="grid points along each axis")
    p.add_argument("--max-intensity", type=_above_zero, default=2.0,
                   help="highest multiple of the policy's budgets")
    p.add_argument("--max-severity", type=_above_zero, default=2.0,
                   help="highest multiple of the actual cuts")
    _output(p)
    p.set_defaults(func=cmd_phase)

    p = sub.add_parser("verdict", help="the verdict on the Committee's claim")
    p.add_argument("--scenarios", default="scenarios", help="folder of the shipped scenarios")
    p.add_argument("--replicates", type=_positive,
                   help="replicates at the default parameters (default: the scenarios' [run] replicates)")
    p.add_argument("--lhs", type=_positive, default=1000,
                   help="prior Latin hypercube points for PRIM")
    p.add_argument("--lhs-replicates", type=_positive, default=12,
                   help="replicates per hypercube or Sobol point and policy")
    p.add_argument("--sobol", type=_positive, default=64,
                   help="Sobol base points, a power of two; the sample has this times (parameters + 2) "
                        "points")
    p.add_argument("--workers", type=_positive, default=1, help="local processes")
    p.add_argument("--structure-particles", type=_positive, default=40,
                   help="posterior particles for the self-sustaining test and the barrier search")
    p.add_argument("--structure-replicates", type=_positive, default=10,
                   help="replicates per particle for them")
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

    p = sub.add_parser("calibrate", help="fit the uncertain parameters to the record (ABC-SMC)")
    p.add_argument("scenario", metavar="SCENARIO", help="the scenario to calibrate (historical)")
    p.add_argument("--record", required=True, metavar="FILE",
                   help="the record (scenarios/calibration/record.toml)")
    p.add_argument("--particles", type=_positive, default=500, help="ABC-SMC population size")
    p.add_argument("--generations", type=_positive, default=20, help="at most this many generations")
    p.add_argument("--min-epsilon", type=float, default=0.5,
                   help="stop at this distance (1 = one standard error of the record in all)")
    p.add_argument("--predictive-particles", type=_positive, default=200,
                   help="posterior particles drawn for the predictive")
    p.add_argument("--predictive-replicates", type=_positive, default=5,
                   help="replicates per predictive particle")
    p.add_argument("--holdout-until", type=float, default=2012.5,
                   help="also calibrate on the record up to this date and predict the rest")
    p.add_argument("--no-holdout", action="store_true", help="skip the holdout")
    p.add_argument("--no-models", action="store_true", help="skip the model selection")
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
