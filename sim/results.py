"""Results folders: written whole or not at all, each with the provenance to repeat it
(:class:`OutputFolder`, through which every command writes)."""

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
from importlib import metadata
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .analysis import summary
from .errors import ParameterError
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


def code_version() -> str:
    """The package's version and its compiled code's: what partial results kept for a resume
    were computed with (a resume with other code is refused)."""
    from ._compiled import cache_dir

    return f"{versions().get('mutuals-sim', '?')}/{cache_dir().name}"


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


class OutputFolder:
    """One results folder, as every command writes it: ``with OutputFolder(...) as out:`` then
    write into ``out.path``.

    - Checked when constructed, before any work: the *fingerprint* of ``command`` and ``config``
      (everything that decides the numbers); a folder that another command or configuration
      wrote is refused unless ``overwrite`` (the same command and configuration may replace its
      own: it writes the same numbers).
    - Written whole or not at all: into a temporary folder beside ``target``, which replaces it
      only when the block ends without an error.
    - With its provenance: ``manifest.json`` holds ``config``, what :meth:`note` added, the
      fingerprint, the command line, the git commit and the package versions.
    - Resumable where ``work`` is true: ``out.work`` (``.<name>.work`` beside the target), claimed
      on entering, keeps an interrupted run's partial results until the run succeeds. A new run
      refuses to start over one unless ``resume`` (continue it; refused if it was started with another
      configuration, naming the parts that differ) or ``overwrite`` (start again).
    """

    def __init__(self, target: Path, command: str, config: dict, *, overwrite: bool = False,
                 resume: bool = False, work: bool = False):
        self.target = Path(target)
        self.command = command
        self.config = config
        self.fingerprint = fingerprint(command, **config)
        self.notes: dict = {}
        self.path: Path | None = None
        _check_target(self.target, self.fingerprint, overwrite, command, config)
        self.work = self.target.parent / f".{self.target.name}.work" if work else None
        self._claim = dict(parts={k: fingerprint(command, **{k: v}) for k, v in config.items()},
                           resume=resume, overwrite=overwrite)

    def note(self, **items) -> None:
        """Add ``items`` to the manifest (what does not decide the numbers: engine, timings)."""
        self.notes.update(items)

    def __enter__(self) -> OutputFolder:
        if self.work is not None:
            claim_work(self.work, **self._claim)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        return self

    def __exit__(self, kind, value, traceback) -> None:
        tmp, self.path = self.path, None
        try:
            if kind is None:
                write_json(tmp / "manifest.json",
                           provenance(**self.config, **self.notes, fingerprint=self.fingerprint,
                                      subcommand=self.command))
        finally:
            if kind is not None or not (tmp / "manifest.json").exists():
                shutil.rmtree(tmp, ignore_errors=True)
        if kind is not None:
            return
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
            self.target.rename(old)
        tmp.rename(self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


def differences(old, new, prefix: str = "") -> list[str]:
    """The dotted keys at which two configurations differ (as JSON writes them), deepest first
    found; a key only one of them has counts as a difference."""
    old, new = json.loads(json.dumps(old, default=str)), json.loads(json.dumps(new, default=str))
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return [] if old == new else [prefix or "(the whole configuration)"]
    out = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in old or key not in new:
            out.append(path)
        else:
            out += differences(old[key], new[key], path)
    return out


SHOWN_DIFFERENCES = 5
"""How many differing keys a refusal names."""


def _check_target(target: Path, made_by: str, overwrite: bool, command: str = "", config: dict | None = None) -> None:
    if overwrite or not target.exists() or (target.is_dir() and not any(target.iterdir())):
        return
    if not target.is_dir():
        raise ParameterError(f"{{out}} {target}: is a file, not a folder")
    try:
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    found = manifest.get("fingerprint")
    if found == made_by:
        return
    if not found:
        what = "something other than this tool"
    elif manifest.get("subcommand", command) != command:
        what = f"another command (mutuals {manifest['subcommand']}, not {command})"
    else:
        differ = differences({k: manifest.get(k) for k in config or {}}, config or {})
        shown = ", ".join(differ[:SHOWN_DIFFERENCES]) + (f" and {len(differ) - SHOWN_DIFFERENCES} more"
                                                         if len(differ) > SHOWN_DIFFERENCES else "")
        what = f"another configuration (differing in {shown})" if differ else "another configuration"
    raise ParameterError(f"{{out}} {target}: holds results made by {what}; pass {{overwrite}} to "
                         "replace them, or choose another {out}")


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def claim_work(folder: Path, parts: dict[str, str], *, resume: bool, overwrite: bool) -> None:
    """Make ``folder`` the partial results of the run whose fingerprint, part by part, is
    ``parts``: a folder left by an interrupted run is continued if ``resume`` (and refused if it
    had other parts, naming them), emptied if ``overwrite``, and otherwise refused."""
    folder = Path(folder)
    record = folder / "fingerprint.json"
    if folder.exists() and overwrite and not resume:
        shutil.rmtree(folder)
    if folder.exists() and any(folder.iterdir()):
        if not resume:
            raise ParameterError(f"{folder}: holds the partial results of an earlier run; pass {{resume}} to "
                                 "continue it, {overwrite} to start again, or choose another {out}")
        try:
            theirs = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            theirs = {}
        differ = [k for k in parts if theirs.get(k) != parts[k]]
        if differ:
            raise ParameterError(f"{{resume}}: the interrupted run in {folder} was started with another "
                                 f"{_either(differ)}; resume it with the same, or pass {{overwrite}} to "
                                 "start again")
    folder.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(parts, indent=2) + "\n", encoding="utf-8")


def write_json(path: Path, data) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def run_config(scenario: Scenario, seed: int, replicates: int) -> dict:
    """What decides a `mutuals run` folder's numbers (the engine does not: both agree)."""
    return dict(scenario=scenario.model_dump(mode="json"), seed=seed, replicates=replicates)


def write_run(folder: Path, frame: pd.DataFrame, scenario: Scenario, replicates: int, draws=None) -> None:
    """A scenario's run into ``folder``: the table, its summary and the uptake figure; under
    posterior ``draws`` (:class:`sim.posterior.Draws`), its probabilities and bands are over them."""
    frame.to_parquet(folder / "timeseries.parquet", index=False)
    summary(frame, scenario, None if draws is None else draws.ess).to_csv(folder / "summary.csv", index=False)
    over = f"{replicates} replicates" if draws is None else draws.words()
    fig = plot_uptake(frame, scenario.run.critical_mass_threshold, support=support_spans(scenario),
                      title=f"{scenario.name}: authorities running a mutual (median, 10-90% of {over})")
    fig.savefig(folder / "uptake.png", dpi=120)
    plt.close(fig)


def markers(name: str) -> tuple[str, str]:
    """The README markers between which ``make run`` writes the block ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def update_block(readme: Path, name: str, text: str) -> None:
    """Put ``text`` between the README's markers of ``name`` (if it has them)."""
    start, end = markers(name)
    content = readme.read_text(encoding="utf-8")
    if start not in content or end not in content:
        return
    head, rest = content.split(start, 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")
