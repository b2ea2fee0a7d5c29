"""Dereferencing: the 303 policy, negotiation and suffix URLs, validators, HEAD, 404s, description content."""

from __future__ import annotations

import httpx
import pytest
import rdflib
from conftest import BASE
from rdflib.compare import isomorphic

from server.formats import DOCUMENT_RDF_FORMATS

pytestmark = pytest.mark.server
NET = "network/rete-antiviolenza-asti"
RDFLIB = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml", "nt": "nt"}
RDFS_LABEL = rdflib.RDFS.label


def parse(r: httpx.Response, ext: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=r.content, format=RDFLIB[ext])


def test_thing_303_to_document(http: httpx.Client) -> None:
    for accept in ("text/turtle", "text/html", "*/*", "application/x-unknown"):
        r = http.get(f"/id/{NET}", headers={"Accept": accept})
        assert r.status_code == 303 and r.headers["location"] == f"/doc/{NET}"
        assert "Accept" in r.headers["vary"]


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("*/*", "text/turtle"),
        (None, "text/turtle"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("application/ld+json", "application/ld+json"),
        ("text/turtle;q=0.5, application/rdf+xml", "application/rdf+xml"),
    ],
)
def test_negotiation(http: httpx.Client, accept: str | None, expected: str) -> None:
    r = http.get(f"/doc/{NET}", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == expected
    assert r.headers["content-location"].startswith(f"/doc/{NET}.")


def test_406_lists_alternatives(http: httpx.Client) -> None:
    r = http.get(f"/doc/{NET}", headers={"Accept": "image/png"})
    assert r.status_code == 406 and "text/turtle" in r.text and "application/ld+json" in r.text


def test_every_suffix_is_the_same_graph(http: httpx.Client) -> None:
    graphs = {}
    for fmt in DOCUMENT_RDF_FORMATS:
        r = http.get(f"/doc/{NET}.{fmt.extension}")
        assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == fmt.media_type
        graphs[fmt.extension] = parse(r, fmt.extension)
    first = graphs.pop("ttl")
    for ext, g in graphs.items():
        assert isomorphic(first, g), ext
    links = http.get(f"/doc/{NET}.html").headers["link"]
    assert all(f'type="{f.media_type}"' in links for f in DOCUMENT_RDF_FORMATS)


def test_description_content(http: httpx.Client) -> None:
    """Outgoing triples, blank nodes closed, labels of linked resources, incoming links."""
    g = parse(http.get(f"/doc/{NET}.ttl"), "ttl")
    net = rdflib.URIRef(BASE + "id/" + NET)
    address = g.value(net, rdflib.URIRef("http://www.w3.org/2006/vcard/ns#hasAddress"))
    assert isinstance(address, rdflib.BNode)
    assert (address, rdflib.URIRef("http://www.w3.org/2006/vcard/ns#locality"), rdflib.Literal("Asti")) in g
    concept = rdflib.URIRef(BASE + "id/concept/thematic-area/violenza")
    assert (concept, rdflib.SKOS.prefLabel, rdflib.Literal("Violenza di genere", lang="it")) in g
    membership = rdflib.URIRef(BASE + "id/membership/asti-comune-rete")
    assert (membership, rdflib.URIRef("http://www.w3.org/ns/org#organization"), net) in g


def test_conditional_requests_and_head(http: httpx.Client) -> None:
    r = http.get(f"/doc/{NET}.ttl")
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert r.headers["cache-control"].startswith("public")
    assert http.get(f"/doc/{NET}.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert http.get(f"/doc/{NET}.ttl", headers={"If-Modified-Since": modified}).status_code == 304
    assert http.get(f"/doc/{NET}.jsonld").headers["etag"] != etag
    head = http.head(f"/doc/{NET}.ttl")
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag


def test_unknown_uri_404_html_for_browsers(http: httpx.Client) -> None:
    r = http.get("/id/network/no-such-network", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "<!DOCTYPE html>" in r.text
    r = http.get("/doc/network/no-such-network.ttl", headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")


def test_hash_terms_land_on_their_entry(http: httpx.Client) -> None:
    page = http.get("/ontology", headers={"Accept": "text/html"}).text
    for term in ("Network", "Protocol", "HelpDesk", "signatory"):
        assert f'id="{term}"' in page
    assert "org:Organization" in page or "Organization" in page  # the alignment is shown
    g = parse(http.get("/ontology.ttl"), "ttl")
    assert (rdflib.URIRef(BASE + "ontology#Network"), RDFS_LABEL, rdflib.Literal("Network", lang="en")) in g
    shapes = http.get("/shapes", headers={"Accept": "text/html"}).text
    assert 'id="NetworkShape"' in shapes


def test_named_graph_and_source_resolve(http: httpx.Client) -> None:
    r = http.get("/graph/source/asti-rete-antiviolenza.nt")
    assert r.status_code == 200 and len(parse(r, "nt")) > 20
    assert http.get("/id/source/asti-rete-antiviolenza").status_code == 303


def test_every_uri_in_the_data_resolves(http: httpx.Client) -> None:
    """Every IRI under the canonical base that the data mentions answers 200 (after at most one 303)."""
    r = http.get(
        "/sparql",
        params={
            "query": f"""SELECT DISTINCT ?u {{ {{ ?u ?p ?o }} UNION {{ ?s ?p ?u }}
        UNION {{ GRAPH ?u {{ ?a ?b ?c }} }} FILTER(isIRI(?u) && STRSTARTS(STR(?u), "{BASE}")) }}"""
        },
        headers={"Accept": "application/sparql-results+json"},
    )
    iris = [b["u"]["value"] for b in r.json()["results"]["bindings"]]
    assert len(iris) > 10
    for iri in iris:
        path = "/" + iri[len(BASE) :].split("#")[0]
        resp = http.get(path, headers={"Accept": "text/turtle"})
        if resp.status_code == 303:
            resp = http.get(resp.headers["location"], headers={"Accept": "text/turtle"})
        assert resp.status_code == 200, (iri, resp.status_code)


def test_hub_documents_are_the_same_when_described_off_the_event_loop(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A hub (>= HUB_LINKS incoming links) is described in a thread instead of inline; the answer must not change.
    from fastapi.testclient import TestClient

    from server import store as store_module
    from server.app import create_app

    paths = ["/doc/organization/provincia-di-asti", "/doc/concept/thematic-area/violenza"]
    answers = {}
    for hub_links in (10**9, 1):
        monkeypatch.setattr(store_module, "HUB_LINKS", hub_links)
        with TestClient(create_app(settings)) as client:
            served = client.portal.call(client.app.state.runtime.served)
            assert all(served.heavy(BASE + "id/" + p[len("/doc/") :]) == (hub_links == 1) for p in paths)
            for path in paths:
                for accept in ("text/turtle", "text/html"):
                    r = client.get(path, headers={"Accept": accept, "Accept-Language": "it"})
                    assert r.status_code == 200, (path, accept)
                    answers.setdefault((path, accept), set()).add(r.text)
    assert all(len(bodies) == 1 for bodies in answers.values()), [k for k, v in answers.items() if len(v) > 1]


@pytest.mark.parametrize("sorted_up_to", [10**9, 2])
def test_incoming_pages_cover_every_link_once(settings, monkeypatch, sorted_up_to: int) -> None:  # type: ignore[no-untyped-def]
    # Up to SORTED_INCOMING links are sorted before paging; past it (a hub) pages follow the store's index
    # order and the total is counted by the store: either way the pages hold every link exactly once.
    from server import store as store_module
    from server.release import Release

    monkeypatch.setattr(store_module, "SORTED_INCOMING", sorted_up_to)
    data = store_module.DataStore(Release.open(settings.current_release).open_store("memory"))
    rows = data.select(
        "SELECT ?o (COUNT(*) AS ?n) { ?s ?p ?o FILTER(isIRI(?o) && !isBlank(?s)) } "
        "GROUP BY ?o ORDER BY DESC(?n) LIMIT 1"
    )
    iri, expected = rows[0]["o"].value, int(rows[0]["n"].value)
    assert expected > 5
    everything = data.incoming(iri)
    pages = []
    for offset in range(0, expected + 2, 2):
        page, total = data.incoming_page(iri, offset, 2)
        assert total == expected == len(everything)
        pages.extend(page)
    assert len(pages) == expected and set(pages) == set(everything)
    if sorted_up_to > expected:
        assert pages == sorted(pages, key=lambda q: (q.predicate.value, str(q.subject)))


def test_hub_pages_name_the_store_order_in_their_etag(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A hub's pages follow the store's index order, which differs between memory and disk stores: the
    # ETag says which, so replicas on stores of different kinds never give one ETag to two different pages.
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from server import store as store_module
    from server.app import create_app

    with TestClient(create_app(settings)) as client:
        data = client.portal.call(client.app.state.runtime.served).data
        rows = data.select(
            f'SELECT ?o (COUNT(*) AS ?n) {{ ?s ?p ?o FILTER(!isBlank(?s) && STRSTARTS(STR(?o), "{BASE}id/")) }} '
            "GROUP BY ?o ORDER BY DESC(?n) LIMIT 1"
        )
        assert int(rows[0]["n"].value) > 2
        hub = "/doc/" + rows[0]["o"].value[len(BASE + "id/") :]
        ordinary = "/doc/network/rete-antiviolenza-asti"
        assert len(data.incoming(BASE + "id/network/rete-antiviolenza-asti")) < 2
    etags: dict[tuple[str, int, str], str] = {}
    for sorted_up_to in (10**9, 2):
        monkeypatch.setattr(store_module, "SORTED_INCOMING", sorted_up_to)
        for mode in ("memory", "disk"):
            with TestClient(create_app(replace(settings, store=mode))) as client:
                for path in (hub, ordinary):
                    r = client.get(path, headers={"Accept": "text/html", "Accept-Language": "it"})
                    assert r.status_code == 200
                    etags[(path, sorted_up_to, mode)] = r.headers["etag"]
    assert etags[(hub, 10**9, "memory")] == etags[(hub, 10**9, "disk")]  # sorted pages: the same everywhere
    assert etags[(hub, 2, "memory")] != etags[(hub, 2, "disk")]
    assert etags[(ordinary, 2, "memory")] == etags[(ordinary, 2, "disk")] == etags[(ordinary, 10**9, "memory")]
