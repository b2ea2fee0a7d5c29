"""`POST /-/submissions/{publisher}` (issue 5): authenticated, size-limited, same pipeline and report."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from server.config import Settings
from server.routes.submissions import router
from tests.ingest_helpers import cuneo_files
from tests.release_helpers import copy_build, tree_digest
from tests.test_releases import app_for

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, built_data: Settings) -> Settings:
    """A copy of the session's build of data/, with submissions open: a test here publishes into it."""
    base = copy_build(built_data, tmp_path_factory.mktemp("http"))
    return dataclasses.replace(base, submission_token=TOKEN, submission_max_bytes=200_000)


def files(content: dict[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, data, "text/csv")) for name, data in content.items()]


def test_off_without_a_token(tmp_path: Path) -> None:
    client = app_for(router, Settings(build_dir=tmp_path))
    assert client.post("/-/submissions/cuneo", files=files(cuneo_files())).status_code == 404


def test_wrong_or_missing_token_is_refused(settings: Settings) -> None:
    client = app_for(router, settings)
    before = tree_digest(settings.build_dir)
    assert client.post("/-/submissions/cuneo", files=files(cuneo_files())).status_code == 401
    answer = client.post("/-/submissions/cuneo", files=files(cuneo_files()), headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert tree_digest(settings.build_dir) == before


def test_too_large_is_refused_before_parsing(settings: Settings) -> None:
    client = app_for(router, settings)
    big = {"enti.csv": b"x" * (settings.submission_max_bytes + 1)}
    assert (
        client.post("/-/submissions/cuneo", files=files(big), headers={"Authorization": f"Bearer {TOKEN}"}).status_code
        == 413
    )


def test_bad_submission_gets_the_report_and_changes_nothing(settings: Settings) -> None:
    client = app_for(router, settings)
    bad = cuneo_files()
    bad["atti.csv"] = bad["atti.csv"].replace(b"1,01/01/2000", b"1,31/02/2000", 1)
    before = tree_digest(settings.build_dir)
    answer = client.post("/-/submissions/cuneo", files=files(bad), headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["cell"] == {"file": "atti.csv", "row": 2, "column": "data"}
    html = client.post(
        "/-/submissions/cuneo", files=files(bad), headers={"Authorization": f"Bearer {TOKEN}", "Accept": "text/html"}
    )
    assert html.status_code == 422 and "atti.csv" in html.text
    assert tree_digest(settings.build_dir) == before


def test_a_dry_run_checks_and_publishes_nothing(settings: Settings) -> None:
    client = app_for(router, settings)
    before = tree_digest(settings.build_dir)
    answer = client.post(
        "/-/submissions/cuneo?dry_run=true", files=files(cuneo_files()), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is True and answer.json()["dry_run"] is True and answer.json()["release"] is None
    assert tree_digest(settings.build_dir) == before


def test_good_submission_publishes_a_release(settings: Settings) -> None:
    client = app_for(router, settings)
    answer = client.post(
        "/-/submissions/cuneo", files=files(cuneo_files()), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["release"] == settings.current_release.resolve().name
    assert client.get("/-/submissions/cuneo").status_code == 405
