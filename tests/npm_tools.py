"""Real npm clients for the tests, installed once per machine into a cache folder by the npm client itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.locks import CACHE, machine_lock

LDES_CLIENT = ("ldes-client", "0.3.0")  # the TREE community's client (rdf-connect/ldes-client), pinned


def npm_package(name: str, version: str) -> Path:
    """The installed package folder; the test is skipped, loudly, when npm or the registry is unreachable. One
    process installs it while the others (xdist workers, other checkouts) wait for it."""
    cache = CACHE / f"{name}-{version}"
    folder = cache / "node_modules" / name
    if (folder / "package.json").exists():
        return folder
    with machine_lock(f"{name}-{version}"):  # another process may have installed it while this one waited
        return folder if (folder / "package.json").exists() else _install(cache, folder, name, version)


def _install(cache: Path, folder: Path, name: str, version: str) -> Path:
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip(f"NPM NOT AVAILABLE: cannot install {name}@{version}; install node and npm to run this test")
    cache.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(cache), f"{name}@{version}"],
            capture_output=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"NPM REGISTRY NOT REACHABLE: installing {name}@{version} took over 600 s")
    if done.returncode != 0 or not (folder / "package.json").exists():
        pytest.skip(f"NPM INSTALL FAILED for {name}@{version}: {done.stderr.decode(errors='replace')[-500:]}")
    return folder
