"""server/labels.py: the one label rule, and its three users (site, validation reports, changelogs)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from scripts.validate import validate_graph
from server import labels, release
from server.config import Settings
from server.rendering import stored_label
from server.vocab import DCT, FOAF, RDFS, SH, SKOS

PREF, LABEL, TITLE, NAME = SKOS + "prefLabel", RDFS + "label", DCT + "title", FOAF + "name"
THING = "https://w3id.org/parita/id/organization/solo-nome"


@pytest.mark.parametrize(
    ("pairs", "lang", "expected"),
    [
        ([], "it", None),
        ([(NAME, "Nome", "")], "it", "Nome"),  # foaf:name alone is a label
        ([(SH + "name", "forma", "")], "en", "forma"),
        ([(LABEL, "Etichetta", "it"), (PREF, "Preferita", "it")], "it", "Preferita"),  # the chain, not the order
        ([(TITLE, "Titolo", "it"), (NAME, "Nome", "it")], "it", "Titolo"),
        ([(PREF, "Comune", "it"), (PREF, "Municipality", "en")], "en", "Municipality"),
        ([(PREF, "Comune", "it"), (PREF, "Municipality", "en")], "it", "Comune"),
        ([(PREF, "Municipality", "en"), (PREF, "Comune", "it")], "de", "Comune"),  # then Italian
        ([(PREF, "Gemeinde", "de"), (PREF, "Municipality", "en")], "fr", "Municipality"),  # then English
        ([(PREF, "Gemeinde", "de"), (PREF, "senza lingua", "")], "it", "senza lingua"),  # then untagged
        ([(PREF, "Gemeinde", "de")], "it", "Gemeinde"),  # then any
        ([(PREF, "Gemeinde", "de"), (LABEL, "Comune", "it")], "it", "Gemeinde"),  # the property first
        ([("http://example.org/other", "no", "it")], "it", None),  # not a label property
    ],
)
def test_best(pairs: list[labels.Pair], lang: str, expected: str | None) -> None:
    assert labels.best(pairs, lang) == expected


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], {}),
        ([(LABEL, "a", "it"), (PREF, "b", "en"), (PREF, "c", "en")], {"en": "b"}),
        ([(NAME, "x", ""), (NAME, "y", "it")], {"": "x", "it": "y"}),
    ],
)
def test_by_language_and_pick(pairs: list[labels.Pair], expected: dict[str, str]) -> None:
    table = labels.by_language(pairs)
    assert table == expected
    for lang in ("it", "en", "de"):
        assert labels.pick(table, lang) == labels.best(pairs, lang)


def test_the_site_uses_the_rule() -> None:
    pairs = {THING: [(ox.NamedNode(NAME), ox.Literal("Solo nome"))]}
    assert stored_label(THING, pairs, "it") == "Solo nome"


@pytest.mark.parametrize("engine", ["parita", "pyshacl"])
def test_a_thing_named_only_by_foaf_name_has_that_label_in_a_validation_report(tmp_path: Path, engine: str) -> None:
    data = list(
        ox.parse(
            f'<{THING}> a <http://example.org/Thing> ; <{NAME}> "Solo nome"@it .'.encode(),
            format=ox.RdfFormat.TURTLE,
        )
    )
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode("https://w3id.org/parita/graph/t")) for t in data]
    shapes = rdflib.Graph().parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> .
        <http://example.org/shape> a sh:NodeShape ; sh:targetClass <http://example.org/Thing> ;
            sh:property [ sh:path <http://example.org/required> ; sh:minCount 1 ] .""",
        format="turtle",
    )
    report = validate_graph(quads, Settings(build_dir=tmp_path), ontology=[], shapes=shapes, engine=engine)
    assert not report.conforms
    assert [f.focus_label for f in report.findings] == ["Solo nome"]


def test_a_thing_named_only_by_foaf_name_has_that_label_in_a_changelog() -> None:
    graph = ox.NamedNode("https://w3id.org/parita/graph/test")
    quads = [ox.Quad(ox.NamedNode(THING), ox.NamedNode(NAME), ox.Literal("Solo nome", language="it"), graph)]
    log = release.changelog(None, quads)
    assert log["entities"]["added"] == [{"iri": THING, "label": "Solo nome"}]
