"""The event stream at /ldes: its structure, caching, formats, derivation from the releases, and replication
by the TREE community's `ldes-client` (npm), compared with what SPARQL answers.

The release is built from a copy of data/ with the base URI set to the server's own loopback address, so
every IRI in the stream (pages, versions) is dereferenceable by a client, as on a province's own host.
One fictitious entity (`test-ldes-temporanea`, marked as such) is added in the first build and removed in
the second; a fictitious comment changes a real entity in the second.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from scripts.build import build
from server.config import Settings
from server.ldes import TIMESTAMP, TOMBSTONE, TREE, VERSION_OF
from tests.conftest import LiveServer, start_server, stop_server
from tests.npm_tools import LDES_CLIENT, npm_package
from tests.release_helpers import copy_data
from tools.processes import free_port

TEMPORARY = "id/organization/test-ldes-temporanea"
CHANGED = "id/organization/provincia-di-asti"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass
class Stream:
    server: LiveServer
    settings: Settings
    data: Path

    @property
    def base(self) -> str:
        return self.settings.base_uri

    def rebuild(self) -> None:
        """Publish a new release and wait (bounded) until the server serves it."""
        release = build(self.settings, force=True)
        for _ in range(100):
            if httpx.get(self.server.url + "/health").json()["release"] == release.name:
                return
            time.sleep(0.1)
        raise AssertionError("the server did not switch to the new release within 10 s")


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stream]:
    tmp = tmp_path_factory.mktemp("ldes")
    data = copy_data(tmp)
    (data / "test-ldes.ttl").write_text(
        f'<https://w3id.org/parita/{TEMPORARY}> <http://www.w3.org/2000/01/rdf-schema#label> "Ente temporaneo (fittizio, per i test)"@it .\n'
    )
    port = free_port()
    # the whole data (~44,000 triples with ISTAT's territories) must fit in one CONSTRUCT answer to compare
    settings = Settings(
        build_dir=tmp / "build", data_dir=data, base_uri=f"http://127.0.0.1:{port}/", sparql_row_limit=200_000
    )
    build(settings)
    server = start_server(settings, tmp / "uvicorn.log", port=port)
    yield Stream(server, settings, data)
    stop_server(server)


def turtle(client: httpx.Client, url: str) -> list[ox.Triple]:
    answer = client.get(url, headers={"Accept": "text/turtle"})
    assert answer.status_code == 200, answer.text
    return list(ox.parse(answer.content, format=ox.RdfFormat.TURTLE))


def page_urls(client: httpx.Client, url: str) -> list[str]:
    return [t.object.value for t in turtle(client, url) if t.predicate.value == TREE + "node"]


def test_root_describes_the_stream_and_links_every_page(stream: Stream) -> None:
    with httpx.Client(base_url=stream.server.url) as client:
        triples = turtle(client, "/ldes")
        about = {(t.predicate.value, t.object.value) for t in triples if t.subject.value == stream.base + "ldes"}
        assert (RDF_TYPE, "https://w3id.org/ldes#EventStream") in about
        assert ("https://w3id.org/ldes#timestampPath", TIMESTAMP) in about
        assert ("https://w3id.org/ldes#versionOfPath", VERSION_OF) in about
        assert ("https://w3id.org/ldes#versionDeleteObject", TOMBSTONE) in about
        assert (TREE + "view", stream.base + "ldes/view") in about
        relations = [t for t in triples if t.predicate.value == RDF_TYPE and t.object.value.endswith("Relation")]
        assert relations and all(t.object.value == TREE + "GreaterThanOrEqualToRelation" for t in relations)
        assert len(page_urls(client, "/ldes")) == len(relations)
        answer = client.get("/ldes")
        assert answer.headers["cache-control"] == "public, max-age=60"
        assert "Accept" in answer.headers["vary"]


def test_pages_are_immutable_with_strong_etags_and_304(stream: Stream) -> None:
    with httpx.Client() as client:
        url = page_urls(client, stream.server.url + "/ldes")[0]
        first = client.get(url)
        assert first.status_code == 200
        assert "immutable" in first.headers["cache-control"]
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert client.get(url, headers={"Accept": "application/n-triples"}).headers["etag"] != etag


def test_pages_and_root_carry_last_modified_and_link_alternates(stream: Stream) -> None:
    """Like every document: Last-Modified (a page: the time of the release that wrote it), an If-Modified-Since
    304, and a `Link` alternate per format whose suffix URL answers that format with the same ETag."""
    with httpx.Client() as client:
        url = page_urls(client, stream.server.url + "/ldes")[0]
        first = client.get(url, headers={"Accept": "text/turtle"})
        root_triples = turtle(client, stream.server.url + "/ldes")
        node_of = {t.subject: t.object.value for t in root_triples if t.predicate.value == TREE + "node"}
        value_of = {t.subject: t.object.value for t in root_triples if t.predicate.value == TREE + "value"}
        written = datetime.fromisoformat(next(value_of[r] for r, node in node_of.items() if node == url))
        assert parsedate_to_datetime(first.headers["last-modified"]) == written.replace(microsecond=0)
        since = client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
        assert since.status_code == 304 and since.headers["etag"] == first.headers["etag"]
        assert "immutable" in since.headers["cache-control"]
        links = {
            m.group(2): m.group(1)
            for m in re.finditer(r'<([^>]+)>; rel="alternate"; type="([^"]+)"', first.headers["link"])
        }
        assert set(links) == {
            "text/turtle",
            "application/n-triples",
            "application/ld+json",
            "application/trig",
            "application/n-quads",
            "text/html",
        }
        assert first.headers["content-location"] == links["text/turtle"]
        nquads = client.get(stream.server.url + links["application/n-quads"])
        assert nquads.status_code == 200 and nquads.headers["content-type"].startswith("application/n-quads")
        negotiated = client.get(url, headers={"Accept": "application/n-quads"})
        assert nquads.headers["etag"] == negotiated.headers["etag"] and nquads.content == negotiated.content
        root = client.get(stream.server.url + "/ldes", headers={"Accept": "text/turtle"})
        assert "last-modified" in root.headers and 'rel="alternate"' in root.headers["link"]
        assert client.get(stream.server.url + "/ldes.nt").headers["content-type"].startswith("application/n-triples")
        assert client.get(stream.server.url + "/ldes/view.rdf").status_code == 404  # a suffix the stream lacks


def test_a_browser_gets_the_stream_as_a_page(stream: Stream) -> None:
    """The home page links /ldes: a browser's Accept gets a page showing the Turtle, varied by language."""
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    with httpx.Client(base_url=stream.server.url) as client:
        answer = client.get("/ldes", headers={"Accept": browser})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
        assert "ldes:EventStream" in answer.text
        assert "Accept-Language" in answer.headers["vary"]
        assert client.get("/ldes", headers={"Accept": "*/*"}).headers["content-type"].startswith("text/turtle")


@pytest.mark.parametrize(
    ("accept", "syntax"),
    [
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/trig", ox.RdfFormat.TRIG),
        ("application/n-quads", ox.RdfFormat.N_QUADS),
    ],
)
def test_formats_carry_the_same_statements(stream: Stream, accept: str, syntax: ox.RdfFormat) -> None:
    with httpx.Client() as client:
        url = page_urls(client, stream.server.url + "/ldes")[0]
        reference = Graph().parse(data=client.get(url, headers={"Accept": "text/turtle"}).text, format="turtle")
        answer = client.get(url, headers={"Accept": accept})
        assert answer.headers["content-type"].startswith(accept)
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(answer.content, format=syntax)]
        other = Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
        assert isomorphic(reference, other)


def test_jsonld_names_a_context_parita_serves(stream: Stream) -> None:
    with httpx.Client() as client:
        answer = client.get(stream.server.url + "/ldes", headers={"Accept": "application/ld+json"})
        document = json.loads(answer.content)
        assert document["@context"] == stream.base + "ldes/context.jsonld"
        context = client.get(document["@context"])
        assert context.status_code == 200 and context.headers["content-type"].startswith("application/ld+json")
        # rdflib expands the document with the context it fetches from this very server
        parsed = Graph().parse(data=answer.text, format="json-ld", base=stream.base)
        reference = Graph().parse(
            data=client.get(stream.server.url + "/ldes", headers={"Accept": "text/turtle"}).text, format="turtle"
        )
        assert isomorphic(parsed, reference)


def run_ldes_client(url: str) -> list[ox.Triple]:
    """Replicate the stream with `ldes-client` (the CLI prints every member's statements)."""
    package = npm_package(*LDES_CLIENT)
    done = subprocess.run(
        ["node", str(package / "dist" / "bin" / "cli.js"), url], capture_output=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return list(ox.parse(done.stdout, format=ox.RdfFormat.TURTLE))  # n3.js writes 1 for "1"^^xsd:integer


def latest_states(members: list[ox.Triple]) -> tuple[set[str], Graph]:
    """Entities whose latest version is not a tombstone, and the union of those versions' statements with
    each version replaced by its entity (what a consumer materialises)."""
    by_version: dict[str, list[ox.Triple]] = defaultdict(list)
    for t in members:
        by_version[t.subject.value].append(t)
    latest: dict[str, tuple[str, str]] = {}
    for version, triples in by_version.items():
        entity = next((t.object.value for t in triples if t.predicate.value == VERSION_OF), None)
        stamp = next((t.object.value for t in triples if t.predicate.value == TIMESTAMP), None)
        if entity is not None and stamp is not None and (entity not in latest or stamp >= latest[entity][0]):
            latest[entity] = (stamp, version)
    graph = Graph()
    alive = set()
    subjects = {version: entity for entity, (_, version) in latest.items()}
    for entity, (_, version) in latest.items():
        if any(t.predicate.value == RDF_TYPE and t.object.value == TOMBSTONE for t in by_version[version]):
            continue
        alive.add(entity)
    kept = []
    for t in members:
        version = subjects.get(t.subject.value)
        if version is not None and version in alive and t.predicate.value not in (VERSION_OF, TIMESTAMP):
            kept.append(ox.Triple(ox.NamedNode(version), t.predicate, t.object))
        elif isinstance(t.subject, ox.BlankNode):
            kept.append(t)
    graph.parse(data=ox.serialize(kept, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    return alive, graph


def sparql_state(stream: Stream) -> tuple[set[str], Graph]:
    """What SPARQL answers over the asserted graphs (the stream leaves graph/entailed and graph/derived out:
    a consumer derives them)."""
    url = stream.server.url + "/sparql"
    asserted = stream.base + "graph/asserted"
    rows = httpx.post(
        url,
        data={"query": "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER isIRI(?s) }", "default-graph-uri": asserted},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"]
    everything = httpx.post(
        url,
        data={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "default-graph-uri": asserted},
        headers={"Accept": "application/n-triples"},
    )
    return {r["s"]["value"] for r in rows}, Graph().parse(data=everything.text, format="nt")


def assert_same(replicated: Graph, answered: Graph) -> None:
    """The two graphs are isomorphic; if not, the message shows what each has that the other lacks."""
    if not isomorphic(replicated, answered):
        _, only_stream, only_sparql = graph_diff(to_isomorphic(replicated), to_isomorphic(answered))
        raise AssertionError(
            f"only in the stream ({len(only_stream)}): {sorted(map(str, only_stream))[:5]}\n"
            f"only in SPARQL ({len(only_sparql)}): {sorted(map(str, only_sparql))[:5]}"
        )


def test_ldes_client_replicates_what_sparql_answers_across_releases(stream: Stream) -> None:
    members = run_ldes_client(stream.base + "ldes")
    entities, state = latest_states(members)
    expected_entities, expected = sparql_state(stream)
    assert stream.base + TEMPORARY in entities
    assert entities == expected_entities
    assert_same(state, expected)

    (stream.data / "test-ldes.ttl").write_text(
        f'<https://w3id.org/parita/{CHANGED}> <http://www.w3.org/2000/01/rdf-schema#comment> "Commento fittizio, per i test."@it .\n'
    )
    stream.rebuild()
    members = run_ldes_client(stream.base + "ldes")
    entities, state = latest_states(members)
    expected_entities, expected = sparql_state(stream)
    assert stream.base + TEMPORARY not in entities  # removed: its latest version is a tombstone
    assert entities == expected_entities
    assert_same(state, expected)
    with httpx.Client() as client:
        second = page_urls(client, stream.server.url + "/ldes")[-1]
        versions = {t.object.value for t in turtle(client, second) if t.predicate.value == VERSION_OF}
    assert versions == {stream.base + TEMPORARY, stream.base + CHANGED}


def test_the_same_sources_built_again_add_nothing(stream: Stream) -> None:
    with httpx.Client() as client:
        before = page_urls(client, stream.server.url + "/ldes")
        bodies = {url: client.get(url).content for url in before}
        stream.rebuild()
        assert page_urls(client, stream.server.url + "/ldes") == before
        assert {url: client.get(url).content for url in before} == bodies


def test_a_page_keeps_a_literal_with_the_line_separators_of_str(tmp_path: Path) -> None:
    """N-Triples writes U+2028, U+2029 and U+0085 as they are inside a literal: a page cut into lines at them
    (as str.splitlines does) would not parse. Fictitious entity (example.org)."""
    from scripts.ldes_build import write_stream
    from server.ldes import STREAM_DIR

    text = "prima\u2028seconda\u2029terza\x85quarta"
    entity = ox.NamedNode("http://example.org/prova/id/cosa")
    graph = ox.NamedNode("http://example.org/prova/graph/dati")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    work = tmp_path / ".tmp-r1"
    quads = [ox.Quad(entity, label, ox.Literal(text), graph)]
    index = write_stream(work, None, quads, "2026-01-01T00:00:00Z", "http://example.org/prova/")
    (page,) = index.pages
    triples = list(ox.parse((work / STREAM_DIR / page.file).read_bytes(), format=ox.RdfFormat.N_TRIPLES))
    assert [t.object.value for t in triples if t.predicate == label] == [text]
