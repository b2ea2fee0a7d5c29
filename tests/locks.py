"""One process at a time on the machine for setup that installs into a shared place: the client venvs and npm
packages cached under CACHE (tests/pip_tools.py, tests/npm_tools.py) and Debian packages (apt-get, for the
engines and nginx). The suite runs in several pytest-xdist workers, and other checkouts may run it at once."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "parita-tests"


@contextlib.contextmanager
def machine_lock(name: str) -> Iterator[None]:
    """Hold the lock `name` (a file under CACHE, flock(2): released when the holder dies) for the block."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
