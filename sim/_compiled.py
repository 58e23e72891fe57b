"""Where Numba keeps the compiled rules, keyed by the source they were compiled from.

Numba's own cache checks only the timestamp of the file that defines a compiled function, not the
files of the functions it calls: after an edit to :mod:`sim.rules`, the cached ensemble loop would
still run the old rules, and the two engines would disagree. So the cache lives in a folder named
after a hash of every module whose code is compiled; an edit to any of them starts a new folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

COMPILED_MODULES = ("rules.py", "dynamics.py", "ensemble.py", "population.py", "_compiled.py")


def cache_dir(here: Path | None = None) -> Path:
    """The cache folder for the compiled modules of the package at ``here`` (this one by default)."""
    here = Path(__file__).resolve().parent if here is None else here
    digest = hashlib.sha256()
    for name in COMPILED_MODULES:
        digest.update((here / name).read_bytes())
    if os.environ.get("NUMBA_CACHE_DIR"):
        base = Path(os.environ["NUMBA_CACHE_DIR"])
    elif os.access(here, os.W_OK):
        base = here / "__pycache__"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mutuals-sim"
    return base / f"numba-{digest.hexdigest()[:16]}"


def use_keyed_cache() -> None:
    """Point Numba's cache at :func:`cache_dir` (before any compiled function is defined)."""
    numba.config.CACHE_DIR = str(cache_dir())


use_keyed_cache()  # on first import: every compiled module imports this one before it compiles
