"""One count everywhere: the counts are computed once at build time (server/stats.py, `stats.json`) and
release.json, VoID, the home page, /releases and /health say the same (issue 13: stats.json said 328
entities while the served VoID said 150)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.stats import Stats, compute, read
from server.store import DataStore

BASE = "https://w3id.org/parita/"
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")


@pytest.fixture(scope="module")
def built(built_data: Settings) -> tuple[Settings, Path]:
    """The session's build of data/ (tests/conftest.py), read only."""
    return built_data, built_data.current_release.resolve()


def test_an_entity_is_a_typed_iri_under_id_except_memberships_and_sources() -> None:
    store = ox.Store()
    g = ox.NamedNode(BASE + "graph/test")
    a = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    thing = ox.NamedNode("http://example.org/Thing")
    for iri in ("id/organization/a", "id/post/b", "id/membership/c", "id/source/d", "ontology#Thing"):
        store.add(ox.Quad(ox.NamedNode(BASE + iri), a, thing, g))
    store.add(ox.Quad(ox.NamedNode(BASE + "id/organization/untyped"), label, ox.Literal("x"), g))
    store.add(ox.Quad(ox.NamedNode(BASE + "id/organization/a"), a, thing, ox.NamedNode(BASE + "graph/other")))
    stats = compute(DataStore(store), BASE)
    assert stats.entities == 2 and stats.kinds == {"organization": 1, "post": 1}
    assert stats.triples == 6 and stats.quads == 7  # one triple stated in two graphs


def test_every_place_says_the_same_counts(built: tuple[Settings, Path]) -> None:
    settings, release = built
    written = read(release)
    assert isinstance(written, Stats) and written.entities > 0 and sum(written.kinds.values()) == written.entities
    manifest = json.loads((release / "release.json").read_text())
    assert (manifest["triples"], manifest["entities"], manifest["quads"]) == (
        written.triples,
        written.entities,
        written.quads,
    )
    store = ox.Store.read_only(str(release / "store"))
    assert written.quads == len(store)
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
        assert (health["triples"], health["entities"]) == (written.triples, written.entities)
        void = rdflib.Graph().parse(data=client.get("/.well-known/void", headers={"Accept": "text/turtle"}).text)
        datasets = set(void.subjects(VOID.rootResource, None))  # the whole dataset, not a partition
        assert len(datasets) == 1
        dataset = datasets.pop()
        assert int(void.value(dataset, VOID.entities)) == written.entities  # type: ignore[arg-type]
        assert int(void.value(dataset, VOID.triples)) == written.triples  # type: ignore[arg-type]
        home = client.get("/", headers={"Accept": "text/html"}).text
        shown = re.search(r"([\d.,]+) [^<·]*triple[^<·]*·\s*([\d.,]+) ", home)
        assert shown, "the home page states the counts"
        assert [int(re.sub(r"\D", "", n)) for n in shown.groups()] == [written.triples, written.entities]
        sd = rdflib.Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).text)
        default_graphs = set(
            sd.objects(None, rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#defaultGraph"))
        )
        assert [int(sd.value(g, VOID.triples)) for g in default_graphs] == [written.triples]  # type: ignore[arg-type]
        listed = client.get("/releases", headers={"Accept": "text/html"}).text
        assert str(written.triples) in listed
        sparql = client.get(
            "/sparql",
            params={"query": "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"},
            headers={"Accept": "application/sparql-results+json"},
        ).json()
        assert int(sparql["results"]["bindings"][0]["n"]["value"]) == written.triples
