"""The project's own black-box checker (tests/conformance/) against a real uvicorn server: the W3C SPARQL 1.1
Protocol manifest read as a read-only public endpoint, further protocol checks, the Service Description,
dereferencing of one resource of every class plus the ontology, shapes and a named graph, VoID and DCAT.
Zero failures allowed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from conformance import (
    check_publisher,
    check_service_description,
    check_sparql_endpoint,
    failures,
    report,
    run_protocol_manifest,
)
from conformance.manifest import DATA as W3C_DATA
from conformance.manifest import graph_names, load_manifest
from conftest import BASE, LiveServer, start_server, stop_server, write_release

from server.config import Settings

pytestmark = pytest.mark.server


def one_resource_per_class(server: LiveServer) -> list[str]:
    """Ask the server itself for one thing (under `B id/`) of every class in the data."""
    query = f"""SELECT ?class (MIN(STR(?s)) AS ?example) WHERE {{
      ?s a ?class FILTER(STRSTARTS(STR(?s), "{BASE}id/")) }} GROUP BY ?class"""
    r = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    r.raise_for_status()
    rows = r.json()["results"]["bindings"]
    return sorted({"/" + row["example"]["value"][len(BASE) :] for row in rows})


def test_protocol_check_passes(live_server: LiveServer) -> None:
    resources = one_resource_per_class(live_server)
    assert len(resources) >= 5, resources
    paths = [*resources, "/ontology", "/shapes", "/graph/source/asti-rete-antiviolenza"]
    results = check_publisher(live_server.url, public_base=BASE, resources=paths)
    assert not failures(results), report(results)
    names = {r.name for r in results}
    assert {f"w3c:{t.id}" for t in load_manifest() if not t.graph_data} <= names  # every test ran
    assert all(f"ld:{p}:conneg_turtle" in names for p in paths)


def test_w3c_dataset_tests_pass(tmp_path: Path) -> None:
    """With the W3C protocol data loaded as named graphs, the dataset tests (default-graph-uri,
    named-graph-uri, FROM) pass too."""
    tests = load_manifest()
    names = graph_names(tests)
    assert sorted(names) == ["data1.nt", "data2.nt", "data3.nt"], names
    trig = "".join(f"<{g}> {{\n{(W3C_DATA / f).read_text()}\n}}\n" for f, g in sorted(names.items()))
    build = tmp_path / "build"
    write_release(build, trig)
    settings = Settings(build_dir=build, sparql_workers=1)
    server = start_server(settings, tmp_path / "uvicorn.log")
    try:
        results = run_protocol_manifest(server.url, "/sparql", dataset_tests=True)
        results += check_sparql_endpoint(server.url, "/sparql")
        results += check_service_description(server.url, "/sparql")
    finally:
        stop_server(server)
    assert not failures(results), report(results)
    passed = {r.name for r in results if r.passed}
    assert "w3c:query_dataset_full" in passed
    assert {f"w3c:{t.id}" for t in tests if t.graph_data} <= passed
