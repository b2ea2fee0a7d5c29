"""VoID and the DCAT-AP_IT catalog are generated from the served data: counts agree with SPARQL, the
catalog conforms to the official DCAT-AP 3.0.1 shapes, dumps match their checksums."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyshacl
import pytest
import rdflib
from conftest import BASE, FIXTURE_TRIG, LiveServer, start_server, stop_server, write_release

from server.catalog import catalog_description
from server.config import Settings
from server.formats import BY_NAME
from server.release import Release
from server.results import write_triples
from server.stats import Stats
from tests.pip_tools import client_python

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
    # an entity: a typed IRI under id/, except memberships and sources (server/stats.py)
    assert int(g.value(ds, VOID.entities)) == sparql_int(
        http,
        f'SELECT (COUNT(DISTINCT ?s) AS ?n) {{ ?s a ?type FILTER(STRSTARTS(STR(?s), "{BASE}id/") '
        f'&& !STRSTARTS(STR(?s), "{BASE}id/membership/") && !STRSTARTS(STR(?s), "{BASE}id/source/")) }}',
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
    names = {(str(n), n.language) for n in g.objects(publisher, rdflib.FOAF.name)}
    assert names == {("Editore non configurato (segnaposto)", "it"), ("Publisher not configured (placeholder)", "en")}
    assert g.value(publisher, DCT.identifier) is None
    assert not list(g.objects(None, rdflib.URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")))
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


# ---- Harvestable by dati.gov.it: a server started with publisher settings (issue 16) -----------------

DCATAPIT = rdflib.Namespace("http://dati.gov.it/onto/dcatapit#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
IT_SHAPES = Path(__file__).parent / "data" / "dcat-ap_it" / "shapes.ttl"  # written from AgID's spec (README)
PUBLISHER = {
    "PARITA_PUBLISHER_NAME": "Comune di Esempio",
    "PARITA_PUBLISHER_IPA": "c_x000",
    "PARITA_CONTACT_EMAIL": "pariopportunita@example.org",
}
RDF_SYNTAXES = [("text/turtle", "turtle"), ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld")]
# The fixture's Provincia di Asti gets an IPA code in the data (a fixture value, not a real code), so the
# catalog states it as the creator of its dataset.
IPA_TRIG = (
    FIXTURE_TRIG
    + """
<https://w3id.org/parita/graph/territories> {
  <https://w3id.org/parita/id/organization/provincia-di-asti> <https://w3id.org/italia/onto/COV/IPAcode> "p_fixture" .
}
"""
)


def _shapes(*paths: Path) -> rdflib.Graph:
    shapes = rdflib.Graph()
    for path in paths:
        shapes.parse(path, format="turtle")
    return shapes


DCAT_AP_301_FULL = [SHAPES / n for n in ("shapes.ttl", "range.ttl", "shapes_recommended.ttl", "deprecateduris.ttl")]


@pytest.fixture(scope="module")
def harvestable(tmp_path_factory: pytest.TempPathFactory, built_data: Settings) -> Iterator[LiveServer]:
    """The project's own data, built (the session's build, read only) and served with the publisher settings a
    deployer sets."""
    tmp = tmp_path_factory.mktemp("harvestable")
    settings = Settings(build_dir=built_data.build_dir, sparql_timeout=10.0)
    server = start_server(settings, tmp / "uvicorn.log", env_extra=PUBLISHER)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def with_creator_ipa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The fixture release with a source publisher's IPA code in the data, served with publisher settings."""
    tmp = tmp_path_factory.mktemp("creator-ipa")
    write_release(tmp / "build", IPA_TRIG)
    server = start_server(Settings(build_dir=tmp / "build"), tmp / "uvicorn.log", env_extra=PUBLISHER)
    yield server
    stop_server(server)


def _get_graph(url: str, accept: str, syntax: str) -> rdflib.Graph:
    r = httpx.get(url, headers={"Accept": accept}, timeout=30.0)
    assert r.status_code == 200 and r.headers["content-type"].startswith(accept), (url, r.status_code)
    return rdflib.Graph().parse(data=r.content, format=syntax)


@pytest.mark.server
@pytest.mark.parametrize("path", ["/catalog", "/releases"])
@pytest.mark.parametrize("accept, syntax", RDF_SYNTAXES, ids=[s for _, s in RDF_SYNTAXES])
def test_catalog_and_releases_conform_to_dcat_ap_it_and_dcat_ap_301(
    harvestable: LiveServer, path: str, accept: str, syntax: str
) -> None:
    data = _get_graph(harvestable.url + path, accept, syntax)
    for name, shapes in (("DCAT-AP_IT", _shapes(IT_SHAPES)), ("DCAT-AP 3.0.1", _shapes(*DCAT_AP_301_FULL))):
        conforms, _, text = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
        assert conforms, f"{path} as {syntax} violates {name}:\n{text[:4000]}"


@pytest.mark.server
def test_the_dcat_ap_it_shapes_catch_the_placeholders(http: httpx.Client) -> None:
    """The conftest server runs with placeholder publisher settings: exactly what the warning names fails."""
    data = rdflib.Graph().parse(data=http.get("/catalog.ttl").text, format="turtle")
    conforms, report, _ = pyshacl.validate(data, shacl_graph=_shapes(IT_SHAPES), allow_warnings=True)
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    violated = {
        (str(report.value(r, sh.focusNode)), str(report.value(r, sh.resultPath)))
        for r in report.subjects(sh.resultSeverity, sh.Violation)
    }
    assert not conforms
    assert violated == {
        (BASE + "catalog#publisher", str(DCT.identifier)),
        (BASE + "catalog#contact", "http://www.w3.org/2006/vcard/ns#hasEmail"),
    }


@pytest.mark.server
def test_agents_contact_and_licence_are_what_dati_gov_it_reads(harvestable: LiveServer) -> None:
    g = _get_graph(harvestable.url + "/catalog", "text/turtle", "turtle")
    publisher = rdflib.URIRef(BASE + "catalog#publisher")
    assert (publisher, rdflib.RDF.type, DCATAPIT.Agent) in g
    assert g.value(publisher, DCT.identifier) == rdflib.Literal("c_x000")
    assert set(g.objects(publisher, rdflib.FOAF.name)) == {rdflib.Literal("Comune di Esempio", lang="it")}
    for ds in g.subjects(rdflib.RDF.type, DCATAPIT.Dataset):
        assert g.value(ds, DCT.rightsHolder) == publisher and g.value(ds, DCT.publisher) == publisher
        assert str(g.value(ds, DCT.identifier)).startswith("c_x000:")
        for creator in g.objects(ds, DCT.creator):  # stated only with an IPA code from the data
            assert (creator, rdflib.RDF.type, DCATAPIT.Agent) in g and g.value(creator, DCT.identifier)
    contact = rdflib.URIRef(BASE + "catalog#contact")
    assert g.value(contact, rdflib.URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")) == rdflib.URIRef(
        "mailto:pariopportunita@example.org"
    )
    licence = rdflib.URIRef("https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40")
    assert (licence, rdflib.RDF.type, DCATAPIT.LicenseDocument) in g
    assert g.value(licence, DCT.type) == rdflib.URIRef("http://purl.org/adms/licencetype/Attribution")
    assert rdflib.Literal("Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)", lang="it") in set(
        g.objects(licence, rdflib.FOAF.name)
    )
    # right language tags: no Italian literal carries a body's English name (Faenza's title once did)
    with httpx.Client(base_url=harvestable.url, timeout=30.0) as client:
        rows = client.get(
            "/sparql",
            params={
                "query": 'SELECT DISTINCT ?l { ?o <http://www.w3.org/2000/01/rdf-schema#label> ?l FILTER(LANG(?l) = "en") }'
            },
            headers={"Accept": JSON},
        ).json()["results"]["bindings"]
    english = {row["l"]["value"] for row in rows}
    assert "Municipality of Faenza" in english
    italian = [str(o) for o in g.objects() if isinstance(o, rdflib.Literal) and o.language == "it"]
    assert not [text for text in italian for name in english if name in text]
    for description in g.objects(None, DCT.description):
        assert "1 documenti" not in description and "1 documents" not in description


@pytest.mark.server
def test_creator_ipa_and_temporal_come_from_the_data(with_creator_ipa: LiveServer) -> None:
    g = _get_graph(with_creator_ipa.url + "/catalog", "text/turtle", "turtle")
    ds = rdflib.URIRef(BASE + "catalog#dataset-provincia-di-asti")
    creator = rdflib.URIRef(BASE + "id/organization/provincia-di-asti")
    assert g.value(ds, DCT.creator) == creator
    assert (creator, rdflib.RDF.type, DCATAPIT.Agent) in g and (creator, rdflib.RDF.type, rdflib.FOAF.Agent) in g
    assert g.value(creator, DCT.identifier) == rdflib.Literal("p_fixture")
    assert g.value(creator, rdflib.FOAF.name) == rdflib.Literal("Provincia di Asti", lang="it")
    # The fixture's source graph states two dates, both 2024-03-08 (the page's and the protocol's dct:issued).
    period = g.value(ds, DCT.temporal)
    day = rdflib.Literal("2024-03-08", datatype=rdflib.XSD.date)
    for prop in (DCAT.startDate, DCAT.endDate, DCATAPIT.startDate, DCATAPIT.endDate):
        assert g.value(period, prop) == day, prop
    conforms, _, text = pyshacl.validate(g, shacl_graph=_shapes(IT_SHAPES), allow_warnings=True)
    assert conforms, text[:3000]


@pytest.mark.server
def test_every_distribution_measures_exactly_what_it_serves(harvestable: LiveServer) -> None:
    """dcat:byteSize and spdx:checksum hold for the bytes each download URL serves; a per-source graph
    document serves exactly its named graph (no triple about the document added)."""
    g = _get_graph(harvestable.url + "/catalog", "text/turtle", "turtle")
    checked = 0
    with httpx.Client(base_url=harvestable.url, timeout=30.0) as client:
        for dist in g.subjects(rdflib.RDF.type, DCAT.Distribution):
            url = str(g.value(dist, DCAT.downloadURL))
            if not url.startswith(BASE):
                continue
            body = client.get("/" + url.removeprefix(BASE)).content
            assert int(g.value(dist, DCAT.byteSize)) == len(body), url
            checksum = g.value(dist, SPDX.checksum)
            assert g.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
            assert str(g.value(checksum, SPDX.checksumValue)) == hashlib.sha256(body).hexdigest(), url
            if "/graph/" in url:
                graph = url.removesuffix(".ttl")
                served = rdflib.Graph().parse(data=body, format="turtle")
                assert len(served) == sparql_int(
                    client, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
                )
            checked += 1
    assert checked >= 8  # three dumps and one graph per source page


@pytest.mark.server
def test_void_and_catalog_link_each_other(harvestable: LiveServer) -> None:
    catalog = _get_graph(harvestable.url + "/catalog", "text/turtle", "turtle")
    void = _get_graph(harvestable.url + "/.well-known/void", "text/turtle", "turtle")
    whole, void_ds = rdflib.URIRef(BASE + "catalog#dataset"), rdflib.URIRef(BASE + ".well-known/void#parita")
    assert (whole, rdflib.RDFS.seeAlso, void_ds) in catalog
    assert (void_ds, rdflib.RDFS.seeAlso, whole) in void


@pytest.mark.server
def test_home_page_announces_the_catalog(harvestable: LiveServer) -> None:
    r = httpx.get(harvestable.url + "/", headers={"Accept": "text/html"}, timeout=30.0)
    assert '</catalog.ttl>; rel="alternate"; type="text/turtle"' in r.headers["link"]
    assert '</.well-known/void>; rel="describedby"' in r.headers["link"]
    assert '<link rel="alternate" type="application/rdf+xml" href="/catalog.rdf"' in r.text
    target = httpx.get(harvestable.url + "/catalog.rdf", timeout=30.0)
    assert (None, rdflib.RDF.type, DCAT.Catalog) in rdflib.Graph().parse(data=target.content, format="xml")


@pytest.mark.server
def test_catalog_page_says_whether_it_is_harvestable(http: httpx.Client, harvestable: LiveServer) -> None:
    placeholder = http.get("/catalog", headers={"Accept": "text/html"}, params={"lang": "en"}).text
    assert 'id="not-harvestable"' in placeholder
    for setting in ("PARITA_PUBLISHER_NAME", "PARITA_PUBLISHER_IPA", "PARITA_CONTACT_EMAIL"):
        assert setting in placeholder
    configured = httpx.get(harvestable.url + "/catalog", headers={"Accept": "text/html"}, timeout=30.0).text
    assert 'id="not-harvestable"' not in configured and "Comune di Esempio" in configured


def test_build_warns_while_the_catalog_is_not_harvestable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from scripts.build import main as build_main

    for name in PUBLISHER:
        monkeypatch.delenv(name, raising=False)
    assert build_main(["--build-dir", str(tmp_path / "placeholder"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "NOT HARVESTABLE" in err
    for setting in PUBLISHER:
        assert setting in err
    for name, value in PUBLISHER.items():
        monkeypatch.setenv(name, value)
    assert build_main(["--build-dir", str(tmp_path / "configured"), "--quiet"]) == 0
    assert "NOT HARVESTABLE" not in capsys.readouterr().err


CKANEXT_DCAT = Path(__file__).parent / "data" / "ckanext-dcat"  # pinned requirements and the parse script


@pytest.mark.server
@pytest.mark.parametrize("path", ["/catalog", "/catalog.rdf"])
def test_ckanext_dcat_parses_the_catalog(harvestable: LiveServer, path: str) -> None:
    """CKAN's own DCAT parser (ckanext-dcat, the base of dati.gov.it's ckanext-dcatapit), run as a client in
    its own venv without a CKAN site: every dataset, its identifiers, contact, period and files come through."""
    python = client_python("ckanext-dcat", CKANEXT_DCAT / "requirements.txt")
    done = subprocess.run(
        [str(python), str(CKANEXT_DCAT / "parse_catalog.py"), harvestable.url + path],
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    packages = json.loads(done.stdout)
    catalog = _get_graph(harvestable.url + "/catalog", "text/turtle", "turtle")
    by_uri = {}
    for package in packages:
        extras = {e["key"]: e["value"] for e in package["extras"]}
        by_uri[extras["uri"]] = (package, extras)
    assert set(by_uri) == {str(d) for d in catalog.subjects(rdflib.RDF.type, DCATAPIT.Dataset)}
    for uri, (package, extras) in by_uri.items():
        node = rdflib.URIRef(uri)
        assert extras["identifier"] == str(catalog.value(node, DCT.identifier))
        assert extras["publisher_identifier"] == "c_x000" and extras["publisher_name"] == "Comune di Esempio"
        assert extras["contact_email"] == "pariopportunita@example.org"
        period = catalog.value(node, DCT.temporal)
        assert extras.get("temporal_start") == (str(catalog.value(period, DCAT.startDate)) if period else None)
        files = {
            str(catalog.value(d, DCAT.downloadURL)): (
                int(catalog.value(d, DCAT.byteSize)),
                str(catalog.value(catalog.value(d, SPDX.checksum), SPDX.checksumValue)),
            )
            for d in catalog.objects(node, DCAT.distribution)
            if catalog.value(d, DCAT.downloadURL) is not None
        }
        parsed = {r["url"]: (r["size"], r["hash"]) for r in package["resources"] if r["url"] in files}
        assert parsed == files, uri


@pytest.mark.server
def test_a_graph_with_blank_nodes_serves_the_same_bytes_from_every_process(
    http: httpx.Client, with_creator_ipa: LiveServer
) -> None:
    """Two servers load the same graph (blank nodes get fresh labels on every load); RDFC-1.0 labels and a
    sorted order make the bytes, and so the catalog's checksum, the same from both."""
    path = "/graph/source/asti-rete-antiviolenza.ttl"
    here = http.get(path).content
    assert b"_:" in here  # the fixture's address is a blank node
    there = httpx.get(with_creator_ipa.url + path, timeout=30.0).content
    assert here == there
    catalog = _get_graph(with_creator_ipa.url + "/catalog", "text/turtle", "turtle")
    dist = catalog.value(predicate=DCAT.downloadURL, object=rdflib.URIRef(BASE + path.lstrip("/")))
    assert (
        str(catalog.value(catalog.value(dist, SPDX.checksum), SPDX.checksumValue)) == hashlib.sha256(here).hexdigest()
    )


@pytest.mark.server
def test_releases_and_catalog_name_media_types_alike(harvestable: LiveServer) -> None:
    forms = set()
    for path in ("/catalog", "/releases"):
        g = _get_graph(harvestable.url + path, "text/turtle", "turtle")
        types = {str(o) for o in g.objects(None, DCAT.mediaType)}
        assert types, path
        forms |= {t.rsplit("/", 2)[0] for t in types}
    assert forms == {"http://www.iana.org/assignments/media-types"}
