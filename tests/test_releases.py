"""Releases as versions (issue 5): changelog, rollback, and the /releases router."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import JSONResponse

from scripts import releases
from scripts.build import build
from scripts.ingest import ingest
from server import release as server_release
from server.app import create_app
from server.config import Settings
from server.errors import PublisherError
from server.routes.releases import notes
from server.runtime import Runtime
from server.urls import Urls
from tests.ingest_helpers import GRAPH, PROVINCIA, PUBLISHER, Ingested, copy_ingested, cuneo_files, uploads


def app_for(routes, settings: Settings) -> TestClient:  # type: ignore[no-untyped-def]
    """`routes` alone in an app, with the runtime they read their settings from (not started: no release)."""
    app = FastAPI()
    app.state.runtime = Runtime(settings, Urls(settings.base_uri))
    app.include_router(routes)

    @app.exception_handler(PublisherError)
    async def handle(request: Request, exc: PublisherError) -> JSONResponse:
        return JSONResponse(
            {"ok": False, "error": exc.message, "status": exc.status}, status_code=exc.status, headers=exc.headers
        )

    return TestClient(app)


@pytest.fixture(scope="module")
def ingested(cuneo_ingested: Ingested) -> Ingested:
    """The session's build with Cuneo's contribution (tests/conftest.py), read only."""
    return cuneo_ingested


def test_a_forced_rebuild_without_changes_has_an_empty_changelog(tmp_path: Path, built_data: Settings) -> None:
    from tests.release_helpers import copy_build

    settings = copy_build(built_data, tmp_path)  # a first build into an empty folder
    first = json.loads((settings.current_release / "changelog.json").read_text())
    second = json.loads((build(settings, force=True) / "changelog.json").read_text())
    assert first["previous"] is None and first["triples"]["removed"] == 0 and first["entity_counts"]["added"] > 50
    assert second["triples"] == {"added": 0, "removed": 0} and second["graphs"] == {}


def test_releases_page_in_html_and_rdf(ingested) -> None:  # type: ignore[no-untyped-def]
    settings, release, _ = ingested
    with TestClient(create_app(settings)) as client:  # the whole app: the page uses the site's layout
        check_releases_routes(client, settings, release)


def check_releases_routes(client: TestClient, settings, release) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/releases", headers={"Accept": "text/html"})
    assert page.status_code == 200 and release.name in page.text and "cuneo (+" in page.text
    assert page.text.lstrip().startswith("<!DOCTYPE html>") and 'action="/-/search"' in page.text  # the site layout
    ttl = client.get("/releases", headers={"Accept": "text/turtle"})
    assert "Accept" in ttl.headers["vary"]
    # the same validators and links as every other document (issue 13): ETag, 304, Cache-Control, alternates
    assert ttl.headers["etag"] and ttl.headers["last-modified"] and "max-age" in ttl.headers["cache-control"]
    assert '</releases.ttl>; rel="alternate"; type="text/turtle"' in ttl.headers["link"]
    again = client.get("/releases", headers={"Accept": "text/turtle", "If-None-Match": ttl.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == ttl.headers["etag"]
    assert client.get("/releases.ttl").text == ttl.text
    refused = client.post("/releases")  # HEAD is answered wherever GET is, so a 405 says so
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"
    assert client.get("/releases", headers={"Accept": "text/html"}).headers["etag"] != ttl.headers["etag"]
    one = client.get(f"/releases/{release.name}.ttl")
    assert one.status_code == 200 and one.headers["etag"] and release.name in one.text
    graph = rdflib.Graph().parse(data=ttl.text, format="turtle")
    node = rdflib.URIRef(f"{settings.base_uri}releases/{release.name}")
    assert (node, rdflib.URIRef("http://www.w3.org/ns/dcat#version"), rdflib.Literal(release.name)) in graph
    assert (node, rdflib.URIRef("http://www.w3.org/ns/adms#versionNotes"), None) in graph
    assert (node, rdflib.namespace.PROV.wasRevisionOf, None) in graph
    detail = client.get(f"/releases/{release.name}", headers={"Accept": "text/html"})
    assert "Provincia di Cuneo" in detail.text
    dump = client.get(f"/releases/{release.name}/dumps/parita.nq.gz")
    assert dump.status_code == 200 and dump.content == (release / "dumps" / "parita.nq.gz").read_bytes()
    assert client.get("/releases/20000101T000000Z").status_code == 404
    assert client.get(f"/releases/{release.name}/dumps/..%2Frelease.json").status_code in (
        400,
        404,
    )  # 400: refused before routing


def test_rollback_is_a_recorded_release_and_restores_contributions(tmp_path: Path, cuneo_ingested: Ingested) -> None:
    settings, release, report = copy_ingested(cuneo_ingested, tmp_path)
    previous = settings.build_dir / "releases" / report.changelog["previous"]
    assert releases.main([], settings=settings) == 0
    rolled = settings.current_release.resolve()
    assert rolled.name not in (previous.name, release.name)  # a new release records the event
    assert server_release.read_dump(rolled) == server_release.read_dump(previous)  # with the data it restored
    assert json.loads((rolled / "release.json").read_text())["rollback"] == {
        "from": release.name,
        "onto": previous.name,
    }
    assert not (settings.build_dir / "contributions" / "cuneo.nq").exists()
    store = ox.Store.read_only(str(rolled / "store"))
    assert not list(store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH)))
    assert releases.main([release.name], settings=settings) == 0
    assert (settings.build_dir / "contributions" / "cuneo.nq").exists()
    assert releases.main(["19990101T000000Z"], settings=settings) == 2
    rebuilt = build(settings)
    assert json.loads((rebuilt / "release.json").read_text())["graphs"][GRAPH]["triples"] > 0


def test_a_rollback_changelog_lists_what_it_removed_and_restored(tmp_path: Path, cuneo_ingested: Ingested) -> None:
    settings, release, report = copy_ingested(cuneo_ingested, tmp_path)
    added = report.changelog["entity_counts"]["added"]
    assert added > 0 and report.changelog["triples"]["added"] > 0
    assert releases.main([], settings=settings) == 0
    log = json.loads((settings.current_release / "changelog.json").read_text())
    assert log["event"] == "rollback" and log["previous"] == release.name
    assert log["triples"] == {"added": 0, "removed": report.changelog["triples"]["added"]}  # Cuneo only added
    assert log["entity_counts"]["removed"] == added and log["graphs"][GRAPH]["removed"] > 0
    assert notes(log, "en").startswith(f"Rollback to the data of release {log['rollback']['onto']}, undoing release")
    assert f"entities added 0, removed {added}" in notes(log, "en")
    removed = {e["iri"]: e["label"] for e in log["entities"]["removed"]}
    assert removed[PROVINCIA] == "Provincia di Cuneo"  # named with their labels, as a build's changelog does
    undo = releases.main([release.name], settings=settings)  # rolling forward again restores them
    assert undo == 0
    forward = json.loads((settings.current_release / "changelog.json").read_text())
    assert forward["entity_counts"]["added"] == added and forward["triples"]["removed"] == 0


def test_pruning_keeps_the_releases_a_rollback_left_and_restored(tmp_path: Path, cuneo_ingested: Ingested) -> None:
    settings, release, report = copy_ingested(cuneo_ingested, tmp_path, keep_releases=2)
    first = report.changelog["previous"]
    assert releases.main([], settings=settings) == 0  # from `release` onto `first`: three releases, two kept
    rolled = settings.current_release.resolve().name
    assert {p.name for p in (settings.build_dir / "releases").iterdir()} == {first, release.name, rolled}
    said: list[str] = []
    newest = build(settings, progress=said.append, force=True)  # no rollback to protect any more
    assert {p.name for p in (settings.build_dir / "releases").iterdir()} == {rolled, newest.name}
    assert any(first in line and release.name in line for line in said if line.startswith("removed 2 old release"))


def test_an_identical_resubmission_publishes_nothing(tmp_path: Path, cuneo_ingested: Ingested) -> None:
    settings, release, _ = copy_ingested(cuneo_ingested, tmp_path)
    before = sorted((settings.build_dir / "releases").iterdir())
    again = ingest(settings, PUBLISHER, uploads(cuneo_files()))
    assert (
        again.ok
        and again.release == release.name
        and again.changelog
        == {
            "unchanged": True,
            "previous": release.name,
            "triples": {"added": 0, "removed": 0},
        }
    )
    assert "nothing published" in again.text()
    assert sorted((settings.build_dir / "releases").iterdir()) == before
    assert settings.current_release.resolve() == release
    assert not list(settings.build_dir.glob(".tmp-ingest-*"))


def test_a_rebuild_without_changes_publishes_nothing(tmp_path: Path, built_data: Settings) -> None:
    from tests.release_helpers import copy_build, copy_data

    settings = copy_build(built_data, tmp_path, data_dir=copy_data(tmp_path))  # a build of data/ ...
    first = build(settings)  # ... then the same build again
    releases = sorted((settings.build_dir / "releases").iterdir())
    assert build(settings) == first
    assert sorted((settings.build_dir / "releases").iterdir()) == releases
    touched = settings.data_dir / "asti-pari-opportunita.ttl"
    touched.write_text(touched.read_text() + "\n# a comment changes the bytes, so the inputs\n")
    assert build(settings) != first
