"""Issue 5 end to end over HTTP: an ingested province dereferences and shows in SPARQL, VoID, DCAT, /releases."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import rdflib

from tests.conftest import LiveServer, start_server, stop_server
from tests.ingest_helpers import GRAPH, PROVINCIA, Ingested

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, cuneo_ingested: Ingested) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("ingest-served")
    settings, _, _ = cuneo_ingested  # read only
    live = start_server(settings, tmp / "uvicorn.log")
    yield live
    stop_server(live)


@pytest.fixture()
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        yield client


def local(iri: str) -> str:
    return iri.removeprefix("https://w3id.org/parita")


def test_contributed_body_dereferences(http: httpx.Client) -> None:
    redirect = http.get(local(PROVINCIA), headers={"Accept": "text/turtle"})
    assert redirect.status_code == 303
    page = http.get(redirect.headers["location"], headers={"Accept": "text/turtle"})
    assert page.status_code == 200
    graph = rdflib.Graph().parse(data=page.text, format="turtle")
    assert (rdflib.URIRef(PROVINCIA), rdflib.RDFS.label, rdflib.Literal("Provincia di Cuneo", lang="it")) in graph
    html = http.get(redirect.headers["location"], headers={"Accept": "text/html"})
    assert html.status_code == 200 and "Provincia di Cuneo" in html.text


def test_contributed_graph_is_queryable(http: httpx.Client) -> None:
    query = f"ASK {{ GRAPH <{GRAPH}> {{ <{PROVINCIA}> ?p ?o }} }}"
    answer = http.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert answer.json()["boolean"] is True


def graph_count(http: httpx.Client) -> str:
    answer = http.get(
        "/sparql",
        params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": "application/sparql-results+json"},
    )
    return answer.json()["results"]["bindings"][0]["n"]["value"]


def test_void_has_a_subset_for_the_publisher_with_its_count(http: httpx.Client) -> None:
    void = rdflib.Graph().parse(
        data=http.get("/.well-known/void", headers={"Accept": "text/turtle"}).text, format="turtle"
    )
    subset = rdflib.URIRef(GRAPH)
    assert (None, VOID.subset, subset) in void
    assert int(void.value(subset, VOID.triples)) == int(graph_count(http)) > 0


def test_catalog_mentions_the_contribution(http: httpx.Client) -> None:
    catalog = http.get("/catalog", headers={"Accept": "text/turtle"}).text
    assert "cuneo" in catalog.lower()


def test_releases_changelog_lists_the_contribution(http: httpx.Client) -> None:
    rdf = http.get("/releases", headers={"Accept": "text/turtle"})
    assert rdf.status_code == 200
    assert f"publisher/cuneo (+{graph_count(http)} -0)" in rdf.text
    assert http.get("/releases", headers={"Accept": "text/html"}).status_code == 200
