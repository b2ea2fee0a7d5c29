"""`parita synth`: deterministic, shaped like the real thing, valid, and unmistakably synthetic."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from scripts.build import build
from server.config import Settings
from tests.release_helpers import select, settings_for
from tools.synth import Generator, synthesize

SCALE = 0.05


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ox.Store]:
    tmp = tmp_path_factory.mktemp("synth")
    synthesize(SCALE, tmp / "data", Settings())
    release = build(settings_for(tmp, data_dir=tmp / "data"))  # raises if the shapes refuse it
    return tmp / "data", ox.Store.read_only(str(release / "store"))


def test_same_scale_gives_the_same_triples() -> None:
    assert Generator(SCALE).generate() == Generator(SCALE).generate()


def test_national_proportions_at_scale_one() -> None:
    triples = Generator(1).generate()
    kinds = {}
    for t in triples:
        if t.predicate.value.endswith("#type"):
            kinds[t.object.value] = kinds.get(t.object.value, 0) + 1
    clv = "https://w3id.org/italia/onto/CLV/"
    assert kinds[clv + "Region"] == 20 and kinds[clv + "Province"] == 107
    assert 6000 < kinds[clv + "City"] < 10000


def test_release_has_offices_bodies_networks_protocols_desks(synthetic: tuple[Path, ox.Store]) -> None:
    _, store = synthetic
    provinces = select(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/parita/graph/synthetic> { ?t a <https://w3id.org/italia/onto/CLV/Province> } }",
    )[0][0]
    assert int(provinces) == round(107 * SCALE)
    sizes = [
        int(n)
        for (n,) in select(
            store,
            """
        SELECT (COUNT(?m) AS ?n) WHERE { GRAPH <https://w3id.org/parita/graph/synthetic> {
          ?m org:organization ?net ; org:role id:concept\\/network-role\\/membro } } GROUP BY ?net""",
        )
    ]
    assert sizes and all(10 <= n <= 40 for n in sizes)
    for kind in ("parita:Protocol", "parita:Act", "parita:HelpDesk", "parita:EqualityBody"):
        assert int(select(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?x a {kind} }}")[0][0]) > 0, kind


def test_everything_synthetic_is_marked_and_separate(synthetic: tuple[Path, ox.Store]) -> None:
    _, store = synthetic
    rows = select(
        store,
        """
        SELECT DISTINCT ?s WHERE { GRAPH <https://w3id.org/parita/graph/synthetic> { ?s ?p ?o }
          FILTER(!CONTAINS(STR(?s), "synthetic")) }""",
    )
    assert rows == []
    labels = select(
        store,
        """
        SELECT ?l WHERE { GRAPH <https://w3id.org/parita/graph/synthetic> { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }
          FILTER(!REGEX(?l, "sintetic", "i")) }""",
    )
    assert labels == []
    description = select(
        store, """SELECT ?d WHERE { id:source\\/synthetic dct:description ?d FILTER(lang(?d) = "it") }"""
    )
    assert "fittizi" in description[0][0]
