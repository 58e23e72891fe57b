"""Compiling this package's functions, and where Numba keeps them, keyed by their source.

Numba's own cache checks only the timestamp of the file that defines a compiled function, not the
files of the functions it calls: after an edit to :mod:`sim.rules`, the cached ensemble loop would
still run the old rules, and the two engines would disagree. So the cache lives in a folder named
after a hash of every module whose code is compiled; an edit to any of them starts a new folder.

Numba reads its cache folder (``numba.config.CACHE_DIR``, the ``NUMBA_CACHE_DIR`` setting) when a
function is declared for caching. :func:`njit` sets it for the moment it
declares one of ours and restores it at once, so other libraries' compiled functions in the same
process keep their own cache.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from functools import cache
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


@cache
def _ours() -> str:
    return str(cache_dir())


@contextmanager
def keyed_cache():
    """Numba's cache folder set to :func:`cache_dir` inside the block, restored after it."""
    before = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = _ours()
    try:
        yield
    finally:
        numba.config.CACHE_DIR = before


def njit(**options):
    """``numba.njit(cache=True, **options)``, cached in this package's keyed folder."""
    def declare(function):
        with keyed_cache():
            return numba.njit(cache=True, **options)(function)
    return declare
