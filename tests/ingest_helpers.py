"""Helpers for tests that need a release with a publisher's contribution (issue 5).

`ingested_release(tmp)` builds the repo data into `tmp/build`, then ingests the fictitious
Cuneo example set (tests/data/ingest/cuneo/) as publisher `cuneo`; server tests can use it to
check that the contributed bodies dereference.
"""

from __future__ import annotations

from pathlib import Path

from scripts.build import build
from scripts.ingest import Upload, ingest
from scripts.submission_report import SubmissionReport
from server.config import PROJECT_ROOT, Settings
from tests.release_helpers import settings_for

CUNEO = PROJECT_ROOT / "tests" / "data" / "ingest" / "cuneo"
PUBLISHER = "cuneo"
GRAPH = "https://w3id.org/parita/graph/publisher/cuneo"
PROVINCIA = "https://w3id.org/parita/id/organization/cuneo-provincia-di-cuneo"


def cuneo_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(CUNEO.glob("*.csv"))}


def uploads(files: dict[str, bytes]) -> list[Upload]:
    return [Upload(name, data) for name, data in files.items()]


def ingested_release(tmp: Path, **overrides: object) -> tuple[Settings, Path, SubmissionReport]:
    """A built release plus the Cuneo contribution; returns settings, the release folder and the report."""
    settings = settings_for(tmp, **overrides)
    build(settings)
    report = ingest(settings, PUBLISHER, uploads(cuneo_files()))
    assert report.ok, report.text()
    return settings, settings.current_release.resolve(), report
