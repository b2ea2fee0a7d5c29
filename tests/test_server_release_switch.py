"""A new release (the `current` symlink switched atomically) is served without restarting the server."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from conftest import FIXTURE_TRIG, start_server, stop_server, write_release

from server.config import Settings

pytestmark = pytest.mark.server
EXTRA = """<https://w3id.org/parita/graph/extra> {
  <https://w3id.org/parita/id/organization/nuovo-ente> <http://www.w3.org/2000/01/rdf-schema#label> "Nuovo ente"@it .
}"""


def test_switching_current_serves_the_new_release(tmp_path: Path) -> None:
    build = tmp_path / "build"
    write_release(build, FIXTURE_TRIG, "20260101T000000Z")
    server = start_server(Settings(build_dir=build, sparql_workers=1), tmp_path / "uvicorn.log")
    try:
        ask = {"query": "ASK { <https://w3id.org/parita/id/organization/nuovo-ente> ?p ?o }"}
        accept = {"Accept": "application/sparql-results+json"}
        assert httpx.get(server.url + "/sparql", params=ask, headers=accept).json()["boolean"] is False
        write_release(build, FIXTURE_TRIG + EXTRA, "20260102T000000Z")
        for _ in range(100):  # the runtime looks at `current` every 2 s: wait at most ~10 s
            if httpx.get(server.url + "/health").json()["release"] == "20260102T000000Z":
                break
            time.sleep(0.1)
        assert httpx.get(server.url + "/health").json()["release"] == "20260102T000000Z"
        assert httpx.get(server.url + "/sparql", params=ask, headers=accept).json()["boolean"] is True
        assert httpx.get(server.url + "/doc/organization/nuovo-ente.ttl").status_code == 200
    finally:
        stop_server(server)
