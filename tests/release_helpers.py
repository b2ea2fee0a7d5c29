"""Helpers shared by the tests that need a built release.

The project's data/ is built once per test session (tests/conftest.py `built_data`): a release is immutable,
so tests that only read it share that build, and a test that writes (a new build, an ingest, a rollback)
works on `copy_build`, a copy of the whole build folder of its own.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pyoxigraph as ox

from server.config import PROJECT_ROOT, Settings


def settings_for(tmp: Path, data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings that build into `tmp`, optionally from a copy of data/ the test may spoil."""
    return Settings(build_dir=tmp / "build", data_dir=data_dir or PROJECT_ROOT / "data", **overrides)  # type: ignore[arg-type]


def copy_build(built: Settings, tmp: Path, data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings for `tmp/build`, a full copy of the build folder of `built` (releases, `current`, the validation
    cache, contributions), as if that build had run there. A real copy, not hard links: a later build or ingest
    rewrites some files in place (the lock, the validation cache's state). The folder holds no absolute path
    (`current` is a relative link), so the copy is the same build."""
    settings = settings_for(tmp, data_dir=data_dir, **overrides)
    shutil.copytree(built.build_dir, settings.build_dir, symlinks=True)
    return settings


def copy_data(tmp: Path) -> Path:
    target = tmp / "data"
    shutil.copytree(PROJECT_ROOT / "data", target)
    return target


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file and symlink under `folder` with a digest of its bytes or target."""
    digest = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            digest[rel] = "-> " + str(path.readlink())
        elif path.is_file():
            digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def select(store: ox.Store, query: str) -> list[tuple]:
    prefixes = """
    PREFIX org: <http://www.w3.org/ns/org#>
    PREFIX parita: <https://w3id.org/parita/ontology#>
    PREFIX dct: <http://purl.org/dc/terms/>
    PREFIX prov: <http://www.w3.org/ns/prov#>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
    PREFIX id: <https://w3id.org/parita/id/>
    """
    rows = store.query(prefixes + query, use_default_graph_as_union=True)
    return [tuple(None if v is None else v.value for v in row) for row in rows]
