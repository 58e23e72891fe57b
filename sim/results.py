"""Results folders: written whole or not at all, each with the provenance to repeat it."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .analysis import summary
from .loading import ScenarioError
from .plots import plot_uptake, support_spans
from .scenario import Scenario

PACKAGES = ("mutuals-sim", "mesa", "numpy", "pandas", "scipy", "pydantic", "matplotlib",
            "pyarrow", "dask", "distributed", "SALib", "pyabc", "numba", "llvmlite")


def git_commit() -> str:
    """The commit of the project's checkout (with ``+dirty`` if it has changes), or 'unknown'."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def provenance(**extra) -> dict:
    return {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": sys.argv,
            "git_commit": git_commit(), "versions": versions(), **extra}


def fingerprint(command: str, **config) -> str:
    """A short hash of a command and everything that decides its numbers (not where it writes,
    nor how many processes it uses), recorded in the manifest of the folder it writes."""
    text = json.dumps({"command": command, **config}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def check_target(target: Path, made_by: str, overwrite: bool = False) -> None:
    """Refuse, before any work starts, to replace a results folder that another command or
    configuration made (its manifest's fingerprint differs, or it has none), unless
    ``overwrite``. The same command and configuration may replace its own folder: it writes the
    same numbers."""
    target = Path(target)
    if overwrite or not target.exists() or not any(target.iterdir()):
        return
    if not target.is_dir():
        raise ScenarioError(f"command line: --out {target}: is a file, not a folder")
    try:
        found = json.loads((target / "manifest.json").read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError):
        found = None
    if found != made_by:
        what = "another command or configuration" if found else "something other than this tool"
        raise ScenarioError(f"command line: --out {target}: holds results made by {what}; pass "
                            "--overwrite to replace them, or choose another --out")


@contextmanager
def atomic_folder(target: Path):
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` whole."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, data) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def run_fingerprint(scenario: Scenario, seed: int, replicates: int) -> str:
    """What decides a `mutuals run` folder's numbers (the engine does not: both agree)."""
    return fingerprint("run", scenario=scenario.model_dump(mode="json"), seed=seed, replicates=replicates)


def write_run(frame: pd.DataFrame, scenario: Scenario, out_dir: Path, *, seed: int,
              replicates: int, engine: str, seconds: float, executor: str = "this process") -> Path:
    """Write ``out_dir/<scenario name>/`` with the table, summary, figure and manifest."""
    target = Path(out_dir) / scenario.name
    with atomic_folder(target) as tmp:
        frame.to_parquet(tmp / "timeseries.parquet", index=False)
        summary(frame, scenario).to_csv(tmp / "summary.csv", index=False)
        fig = plot_uptake(frame, scenario.run.critical_mass_threshold, support=support_spans(scenario),
                          title=f"{scenario.name}: authorities running a mutual "
                                f"(median, 10-90% of {replicates} replicates)")
        fig.savefig(tmp / "uptake.png", dpi=120)
        plt.close(fig)
        write_json(tmp / "manifest.json", provenance(
            scenario=scenario.model_dump(mode="json"), seed=seed, replicates=replicates,
            replicate_seeds="numpy.random.SeedSequence(seed, spawn_key=(replicate,)), "
                            "128 bits of generate_state(4, uint32), little-endian",
            engine=engine, executor=executor, wall_seconds=round(seconds, 3),
            fingerprint=run_fingerprint(scenario, seed, replicates)))
    return target
