"""Helpers for tests that need a release with a publisher's contribution (issue 5).

`ingest_cuneo(settings)` ingests the fictitious Cuneo example set (tests/data/ingest/cuneo/) as publisher
`cuneo` into a build of the repo data. tests/conftest.py does that once per session (`cuneo_ingested`, read
only: server tests use it to check that the contributed bodies dereference); a test that writes (a rollback,
a re-ingest) takes `copy_ingested`, a copy of the whole build folder of its own.
"""

from __future__ import annotations

import copy
from pathlib import Path

from scripts.ingest import Upload, ingest
from scripts.submission_report import SubmissionReport
from server.config import PROJECT_ROOT, Settings
from tests.release_helpers import copy_build

CUNEO = PROJECT_ROOT / "tests" / "data" / "ingest" / "cuneo"
PUBLISHER = "cuneo"
GRAPH = "https://w3id.org/parita/graph/publisher/cuneo"
PROVINCIA = "https://w3id.org/parita/id/organization/cuneo-provincia-di-cuneo"


def cuneo_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(CUNEO.glob("*.csv"))}


def uploads(files: dict[str, bytes]) -> list[Upload]:
    return [Upload(name, data) for name, data in files.items()]


Ingested = tuple[Settings, Path, SubmissionReport]


def ingest_cuneo(settings: Settings) -> Ingested:
    """The Cuneo contribution ingested into the build of `settings`; returns settings, the new release folder
    and the report."""
    report = ingest(settings, PUBLISHER, uploads(cuneo_files()))
    assert report.ok, report.text()
    return settings, settings.current_release.resolve(), report


def copy_ingested(ingested: Ingested, tmp: Path, **overrides: object) -> Ingested:
    """A copy of the build folder of `ingested` in `tmp/build` (built release, then the Cuneo release), for a
    test that writes; the same settings, release and report as if the build and the ingest had run there."""
    built, release, report = ingested
    settings = copy_build(built, tmp, **overrides)
    return settings, settings.build_dir / "releases" / release.name, copy.deepcopy(report)
