"""VoID and the DCAT-AP_IT catalog are generated from the served data: counts agree with SPARQL, the
catalog conforms to the official DCAT-AP 3.0.1 shapes, dumps match their checksums."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyshacl
import pytest
import rdflib
from conftest import BASE

from server.catalog import catalog_description
from server.config import Settings
from server.formats import BY_NAME
from server.release import Release
from server.results import write_triples
from server.stats import Stats

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.DCTERMS
SHAPES = Path(__file__).parent / "data" / "dcat-ap-3.0.1"  # SEMIC's shapes, CC BY 4.0 (see its README)
JSON = "application/sparql-results+json"


def sparql_int(http: httpx.Client, query: str) -> int:
    r = http.post("/sparql", data={"query": query}, headers={"Accept": JSON})
    row = r.json()["results"]["bindings"][0]
    return int(next(iter(row.values()))["value"])


def void_graph(http: httpx.Client) -> rdflib.Graph:
    return rdflib.Graph().parse(
        data=http.get("/.well-known/void", headers={"Accept": "text/turtle"}).text, format="turtle"
    )


@pytest.mark.server
def test_void_counts_equal_sparql(http: httpx.Client) -> None:
    g = void_graph(http)
    ds = rdflib.URIRef(BASE + ".well-known/void#parita")
    assert int(g.value(ds, VOID.triples)) == sparql_int(
        http, "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"
    )
    assert int(g.value(ds, VOID.entities)) == sparql_int(
        http, f'SELECT (COUNT(DISTINCT ?s) AS ?n) {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{BASE}id/")) }}'
    )
    for part in g.objects(ds, VOID.classPartition):
        cls = g.value(part, VOID["class"])
        assert int(g.value(part, VOID.entities)) == sparql_int(
            http, f"SELECT (COUNT(DISTINCT ?s) AS ?n) {{ ?s a <{cls}> }}"
        )
    for part in g.objects(ds, VOID.propertyPartition):
        prop = g.value(part, VOID.property)
        assert int(g.value(part, VOID.triples)) == sparql_int(
            http, f"SELECT (COUNT(*) AS ?n) {{ SELECT DISTINCT ?s ?o {{ ?s <{prop}> ?o }} }}"
        )
    subsets = list(g.objects(ds, VOID.subset))
    assert len(subsets) == sparql_int(http, "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
    for sub in subsets:
        assert int(g.value(sub, VOID.triples)) == sparql_int(
            http, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{sub}> {{ ?s ?p ?o }} }}"
        )
    assert g.value(ds, VOID.sparqlEndpoint) == rdflib.URIRef(BASE + "sparql")
    assert len(list(g.objects(ds, VOID.dataDump))) == 3


@pytest.mark.server
def test_catalog_conforms_to_dcat_ap_301(http: httpx.Client) -> None:
    data = rdflib.Graph().parse(data=http.get("/catalog.ttl").text, format="turtle")
    for profile in (
        ["shapes.ttl", "range.ttl"],
        ["shapes.ttl", "range.ttl", "shapes_recommended.ttl", "deprecateduris.ttl"],
    ):
        shapes = rdflib.Graph()
        for name in profile:
            shapes.parse(SHAPES / name, format="turtle")
        conforms, _, text = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
        assert conforms, f"{profile}:\n{text[:4000]}"
    dcatapit = rdflib.Namespace("http://dati.gov.it/onto/dcatapit#")
    for cls in ("Catalog", "Dataset", "Distribution"):
        for node in data.subjects(rdflib.RDF.type, dcatapit[cls]):
            assert (node, rdflib.RDF.type, DCAT[cls]) in data
    assert len(set(data.subjects(rdflib.RDF.type, DCAT.Dataset))) == 2  # the whole + one source publisher


@pytest.mark.server
def test_catalog_formats(http: httpx.Client) -> None:
    for accept, fmt in (("application/rdf+xml", "xml"), ("application/ld+json", "json-ld"), ("text/turtle", "turtle")):
        r = http.get("/catalog", headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith(accept)
        assert (None, rdflib.RDF.type, DCAT.Catalog) in rdflib.Graph().parse(data=r.content, format=fmt)


def _catalog(settings: Settings, tmp_path: Path) -> rdflib.Graph:
    release = Release(tmp_path, "r1", datetime(2026, 11, 23, tzinfo=UTC), {"dumps": {}})
    triples = catalog_description(settings, release, Stats(1, 1, 1, 1), [])
    return rdflib.Graph().parse(data=write_triples(triples, BY_NAME["ntriples"]), format="nt")


def test_publisher_placeholder_never_invents_ipa(tmp_path: Path) -> None:
    g = _catalog(Settings(), tmp_path)
    publisher = rdflib.URIRef(BASE + "catalog#publisher")
    assert "segnaposto" in str(g.value(publisher, rdflib.FOAF.name)).lower()
    assert g.value(publisher, DCT.identifier) is None
    configured = _catalog(
        Settings(publisher_name="Comune di Esempio", publisher_ipa="c_x000", contact_email="po@example.org"), tmp_path
    )
    assert str(configured.value(publisher, DCT.identifier)) == "c_x000"
    assert str(configured.value(rdflib.URIRef(BASE + "catalog#dataset"), DCT.identifier)) == "c_x000:parita"
    assert (
        None,
        rdflib.URIRef("http://www.w3.org/2006/vcard/ns#hasEmail"),
        rdflib.URIRef("mailto:po@example.org"),
    ) in configured


@pytest.mark.server
def test_dumps_match_checksums(http: httpx.Client) -> None:
    sums = http.get("/dumps/SHA256SUMS").text.splitlines()
    assert len(sums) == 3
    for line in sums:
        digest, name = line.split()
        r = http.get(f"/dumps/{name}")
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == digest
        assert http.get(f"/dumps/{name}", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    assert http.get("/dumps/../release.json").status_code == 404


@pytest.mark.server
def test_sitemap_and_robots(http: httpx.Client, live_server: object) -> None:
    robots = http.get("/robots.txt").text
    assert "Sitemap: " in robots and "Disallow: /sparql" in robots
    sitemap = http.get("/sitemap.xml").text
    assert "/doc/network/rete-antiviolenza-asti</loc>" in sitemap
