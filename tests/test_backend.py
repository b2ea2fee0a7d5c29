"""One backend suite, three stores: embedded pyoxigraph, a real Oxigraph server and a real Virtuoso 7.

Every test asks the app (built on `PARITA_STORE`) and compares with the embedded store's answer or with a
known answer, so "works the same" is checked feature by feature: SPARQL, dereferencing, HTML, VoID, DCAT.
The remote stores are loaded with `parita publish` (scripts/publish.py). An engine that cannot be installed
skips its tests with the install error as the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import graph_diff, isomorphic

from scripts.publish import Target, publish
from server.app import create_app
from server.config import Settings
from server.release import Release

BASE = "https://w3id.org/parita/"
NETWORK = BASE + "id/network/rete-antiviolenza-asti"
FIXTURE_GRAPHS = {
    BASE + "graph/" + g for g in ("ontology", "shapes", "vocabularies", "territories", "source/asti-rete-antiviolenza")
}
MEMBERS = f"""PREFIX org: <http://www.w3.org/ns/org#>
SELECT ?member WHERE {{ ?m org:organization <{NETWORK}> ; org:member ?member }}"""
BACKENDS = ["embedded", "oxigraph", "virtuoso"]


def engine_client(settings: Settings, engine: Any) -> Iterator[TestClient]:
    """Publish the fixture release into `engine` and serve it from there."""
    publish(
        Release.open(settings.current_release),
        Target(engine.query_url, engine.update_url, engine.user, engine.password),
    )
    with TestClient(create_app(replace(settings, store=engine.query_url))) as client:
        yield client


@pytest.fixture(scope="module")
def reference(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, settings: Settings, reference: TestClient) -> Iterator[TestClient]:
    if request.param == "embedded":
        yield reference
        return
    engine = request.getfixturevalue(f"{request.param}_engine")
    yield from engine_client(settings, engine)


def graph_of(response: Any, fmt: str = "turtle") -> rdflib.Graph:
    assert response.status_code == 200, response.text[:500]
    return rdflib.Graph().parse(data=response.content, format=fmt)


def assert_same_graph(got: rdflib.Graph, want: rdflib.Graph) -> None:
    if not isomorphic(got, want):
        _, only_got, only_want = graph_diff(got, want)
        raise AssertionError(
            "graphs differ\nonly in backend:\n"
            + "\n".join(map(str, sorted(only_got)))
            + "\nonly in embedded:\n"
            + "\n".join(map(str, sorted(only_want)))
        )


def select(client: TestClient, query: str, **params: str) -> list[dict[str, str]]:
    r = client.get("/sparql", params={"query": query, **params}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text[:500]
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def test_health_counts_the_same_quads(client: TestClient, reference: TestClient) -> None:
    assert client.get("/health").json()["quads"] == reference.get("/health").json()["quads"] == 83


def test_select_known_answer(client: TestClient) -> None:
    assert {r["member"] for r in select(client, MEMBERS)} == {BASE + "id/organization/comune-di-asti"}


def test_default_graph_is_the_union_and_only_release_graphs_are_named(client: TestClient) -> None:
    assert {r["g"] for r in select(client, "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }")} == FIXTURE_GRAPHS
    count = select(client, "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }")
    assert int(count[0]["n"]) == 83


def test_default_graph_uri_names_one_graph(client: TestClient) -> None:
    rows = select(
        client,
        "SELECT ?s { ?s a <http://www.w3.org/ns/org#Organization> }",
        **{"default-graph-uri": BASE + "graph/territories"},
    )
    assert {r["s"] for r in rows} == {
        BASE + "id/organization/provincia-di-asti",
        BASE + "id/organization/comune-di-asti",
    }


def test_ask(client: TestClient) -> None:
    for query, want in ((f"ASK {{ <{NETWORK}> ?p ?o }}", True), ("ASK { <urn:nothing> ?p ?o }", False)):
        r = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
        assert r.json()["boolean"] is want


def test_optional_language_filter_and_group_by(client: TestClient) -> None:
    rows = select(
        client,
        f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?x (COUNT(?l) AS ?n) {{ VALUES ?x {{ <{NETWORK}> }} OPTIONAL {{ ?x rdfs:label ?l FILTER(lang(?l) = "en") }} }}
        GROUP BY ?x""",
    )
    assert rows == [{"x": NETWORK, "n": "1"}]


def test_construct_is_the_same_graph(client: TestClient, reference: TestClient) -> None:
    query = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <" + BASE + "graph/source/asti-rete-antiviolenza> { ?s ?p ?o } }"
    got = client.get("/sparql", params={"query": query}, headers={"Accept": "text/turtle"})
    want = reference.get("/sparql", params={"query": query}, headers={"Accept": "text/turtle"})
    assert_same_graph(graph_of(got), graph_of(want))


def test_row_limit_cuts_and_says_so(client: TestClient) -> None:
    values = " ".join(str(i) for i in range(60))
    r = client.get(
        "/sparql",
        params={"query": f"SELECT ?x {{ VALUES ?x {{ {values} }} }}"},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert r.headers["X-Parita-Truncated"] == "true" and len(r.json()["results"]["bindings"]) == 50


def test_malformed_query_is_400(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?p }"}, headers={"Accept": "application/json"})
    assert r.status_code == 400


def test_thing_redirects_and_document_is_the_same(client: TestClient, reference: TestClient) -> None:
    r = client.get("/id/network/rete-antiviolenza-asti", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/doc/network/rete-antiviolenza-asti"
    for path in ("/doc/network/rete-antiviolenza-asti", "/doc/organization/comune-di-asti", "/graph/territories"):
        got = client.get(path, headers={"Accept": "text/turtle"})
        assert_same_graph(graph_of(got), graph_of(reference.get(path, headers={"Accept": "text/turtle"})))
        assert got.headers["ETag"] == reference.get(path, headers={"Accept": "text/turtle"}).headers["ETag"]


def test_blank_node_closure_comes_along(client: TestClient) -> None:
    g = graph_of(client.get("/doc/network/rete-antiviolenza-asti.ttl"))
    streets = {str(o) for o in g.objects(None, rdflib.URIRef("http://www.w3.org/2006/vcard/ns#street-address"))}
    assert streets == {"Piazza Alfieri 33"}


def test_html_page_shows_labels_and_is_the_same(client: TestClient, reference: TestClient) -> None:
    path = "/doc/network/rete-antiviolenza-asti"
    r = client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200 and "Rete antiviolenza di Asti (pagina web)" in r.text  # the linked source's label
    assert r.text == reference.get(path, headers={"Accept": "text/html"}).text


def test_home_ontology_and_graph_pages(client: TestClient) -> None:
    for path in ("/", "/ontology", "/graph/territories"):
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 200, path


def test_void_and_catalog_are_the_same(client: TestClient, reference: TestClient) -> None:
    for path in ("/.well-known/void", "/catalog"):
        got = graph_of(client.get(path, headers={"Accept": "text/turtle"}))
        assert_same_graph(got, graph_of(reference.get(path, headers={"Accept": "text/turtle"})))


def test_unknown_is_404(client: TestClient) -> None:
    assert client.get("/id/network/does-not-exist", follow_redirects=False).status_code == 404


def test_store_that_goes_away_is_503_then_recovers(settings: Settings, oxigraph_engine: Any) -> None:
    """A remote store that stops answering: 503 with Retry-After; when it is back, answers again by itself."""
    clients = engine_client(settings, oxigraph_engine)
    client = next(clients)
    try:
        assert (
            client.get(
                "/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/json"}
            ).status_code
            == 200
        )
        oxigraph_engine.stop()
        r = client.get("/sparql", params={"query": "ASK { ?s ?p ?s }"}, headers={"Accept": "application/json"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "5", r.text
        d = client.get("/doc/organization/provincia-di-asti.ttl")
        assert d.status_code == 503 and "Retry-After" in d.headers
        oxigraph_engine.start_again()
        r = client.get("/sparql", params={"query": "ASK { ?s ?p ?s }"}, headers={"Accept": "application/json"})
        assert r.status_code == 200 and json.loads(r.text)["boolean"] is False
        assert client.get("/doc/organization/provincia-di-asti.ttl").status_code == 200
    finally:
        clients.close()


def test_store_setting_is_checked(settings: Settings, tmp_path: Path) -> None:
    from server.backends import check_spec
    from server.errors import StoreError

    assert check_spec("disk") == "disk"
    with pytest.raises(StoreError):
        check_spec("ftp://example.org/")


def test_disk_mode_answers_like_memory(settings: Settings, reference: TestClient) -> None:
    with TestClient(create_app(replace(settings, store="disk"))) as client:
        assert select(client, MEMBERS) == select(reference, MEMBERS)
        assert client.get("/health").json()["quads"] == 83
