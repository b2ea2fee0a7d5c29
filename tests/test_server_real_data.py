"""The server over a release built by `scripts.build` from the project's real data/: the shared checker
passes for one resource of every class, and every internal link of every HTML page resolves."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import BASE, LiveServer, start_server, stop_server
from server.config import Settings
from test_html import crawl
from test_server_conformance import CHECKER, one_resource_per_class

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if importlib.util.find_spec("scripts.build") is None:
        pytest.skip("scripts.build is not available: cannot build the real data")
    from scripts.build import build

    tmp = tmp_path_factory.mktemp("real")
    settings = Settings(build_dir=tmp / "build", sparql_timeout=10.0)
    build(settings)
    server = start_server(settings, tmp / "uvicorn.log")
    yield server
    stop_server(server)


def test_checker_on_every_class(real_server: LiveServer, tmp_path: Path) -> None:
    resources = one_resource_per_class(real_server)
    graphs = httpx.post(real_server.url + "/sparql", data={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"},
                        headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    paths = resources + ["/ontology", "/shapes"] + ["/" + g["g"]["value"][len(BASE):] for g in graphs][:2]
    args = [sys.executable, str(CHECKER), "--base", real_server.url, "--public-base", BASE.rstrip("/"),
            "--sparql-path", "/sparql", "--void", "/.well-known/void", "--dcat", "/catalog", "--safe-updates"]
    for path in paths:
        args += ["--resource", path]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    failures = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert proc.returncode == 0 and proc.stdout.strip().endswith(" 0 failed"), "\n".join(failures) or proc.stdout[-3000:]


def test_crawl_real_data(real_server: LiveServer) -> None:
    pages, broken = crawl(real_server.url)
    assert not broken, broken[:20]
    assert pages > 100


def test_every_example_query_answers(real_server: LiveServer) -> None:
    """The query page's examples answer real questions: each returns something on the real data."""
    from server.examples import examples

    for example in examples(BASE):
        r = httpx.post(real_server.url + "/sparql", data={"query": example["query"]},
                       headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"})
        assert r.status_code == 200, (example["title"], r.text)
        if r.headers["content-type"].startswith("application/sparql-results+json"):
            assert r.json()["results"]["bindings"], example["title"]
        else:
            assert r.text.strip(), example["title"]
