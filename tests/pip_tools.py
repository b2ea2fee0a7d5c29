"""Real Python clients whose dependencies must not enter parita's own environment, each installed once per
machine into a cached venv of its own by pip itself (as tests/npm_tools.py does for npm clients)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.locks import CACHE, machine_lock


def client_python(name: str, requirements: Path) -> Path:
    """The Python of a venv holding `requirements` (pinned); the test is skipped, loudly, when PyPI is
    unreachable or the install fails. The venv is reused while the requirements file is unchanged; one
    process installs it while the others (xdist workers, other checkouts) wait for it."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    cache = CACHE / f"{name}-{digest}"
    python, done = cache / "bin" / "python", cache / "installed"
    if done.exists():
        return python
    with machine_lock(f"{name}-{digest}"):  # another process may have installed it while this one waited
        return python if done.exists() else _install(cache, requirements, name)


def _install(cache: Path, requirements: Path, name: str) -> Path:
    python, done = cache / "bin" / "python", cache / "installed"
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(cache)], check=True, capture_output=True)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], capture_output=True, timeout=900
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"PYPI NOT REACHABLE: installing {name} took over 900 s")
    except subprocess.CalledProcessError as error:
        pytest.skip(f"CANNOT MAKE A VENV for {name}: {error.stderr.decode(errors='replace')[-500:]}")
    if install.returncode != 0:
        pytest.skip(f"PIP INSTALL FAILED for {name}: {install.stderr.decode(errors='replace')[-500:]}")
    done.write_text(requirements.read_text())
    return python
