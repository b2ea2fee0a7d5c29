"""Reconciliation (issue 5): reuse published URIs, list uncertain candidates, record owl:sameAs."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from scripts import reconcile, reconcile_command
from scripts.reconcile import Entity, match, normalise
from tests.ingest_helpers import GRAPH, PUBLISHER, Ingested, copy_ingested, cuneo_files, uploads
from tests.release_helpers import select

ORG = "https://w3id.org/parita/id/organization/"
RECONCILED = "https://w3id.org/parita/graph/reconciled"


def test_normalise_folds_accents_case_and_punctuation() -> None:
    assert normalise("Comitato Unico di Garanzia – C.U.G.") == "comitato unico di garanzia c u g"
    assert normalise("Pari Opportunità") == normalise("PARI OPPORTUNITA'")


def test_rules_in_order() -> None:
    published = {
        ORG + "a": Entity(ORG + "a", "organization", "Regione X", {"regione x"}, ipa="r_x"),
        ORG + "b": Entity(
            ORG + "b", "organization", "Comune di Y", {"comune di y"}, territory="T", legal_status="2430"
        ),
        ORG + "c": Entity(ORG + "c", "organization", "Croce Rossa", {"croce rossa"}),
    }
    by_ipa = match(Entity(ORG + "n1", "organization", "Altro nome", {"altro nome"}, ipa="r_x"), published)
    assert by_ipa[0].existing == ORG + "a" and by_ipa[0].certain
    by_istat = match(
        Entity(ORG + "n2", "organization", "Città di Y", {"citta di y"}, territory="T", legal_status="2430"), published
    )
    assert by_istat[0].existing == ORG + "b" and by_istat[0].certain
    unsure = match(Entity(ORG + "n3", "organization", "Croce Rossa", {"croce rossa"}, territory="T"), published)
    assert unsure[0].existing == ORG + "c" and not unsure[0].certain
    assert match(Entity(ORG + "n4", "post", "Croce Rossa", {"croce rossa"}), published) == []


def test_confirming_a_candidate_records_owl_same_as(tmp_path: Path, capsys, cuneo_ingested: Ingested) -> None:  # type: ignore[no-untyped-def]
    settings, _, report = copy_ingested(cuneo_ingested, tmp_path)
    assert [(c["submitted"], c["existing"]) for c in report.candidates] == [
        (ORG + "cuneo-croce-rossa-italiana", ORG + "croce-rossa-italiana")
    ]
    assert reconcile_command.main(["--publisher", PUBLISHER], settings=settings) == 0
    assert "1 candidato/i" in capsys.readouterr().out
    assert reconcile_command.main(["--publisher", PUBLISHER, "--confirm", "1"], settings=settings) == 0
    store = ox.Store.read_only(str(settings.current_release.resolve() / "store"))
    # a derived statement: in graph/reconciled, under its rule, never in the publisher's graph
    same = select(store, "SELECT ?g ?a ?b WHERE { GRAPH ?g { ?a <http://www.w3.org/2002/07/owl#sameAs> ?b } }")
    assert same == [(RECONCILED, ORG + "cuneo-croce-rossa-italiana", ORG + "croce-rossa-italiana")]
    about = select(store, f"SELECT ?p ?o WHERE {{ GRAPH <{RECONCILED}> {{ <{RECONCILED}> ?p ?o }} }} ORDER BY ?p ?o")
    assert ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "https://w3id.org/parita/ontology#DerivedGraph") in about
    compared = {o for p, o in about if p == "http://www.w3.org/ns/prov#wasDerivedFrom"}
    assert GRAPH in compared and len(compared) >= 2  # the publisher's graph and the one describing the match
    assert any(p.endswith("comment") and "scripts/reconcile.py" in o for p, o in about)
    assert reconcile.pending(reconcile.load_decisions(settings, PUBLISHER)) == []
    again = __import__("scripts.ingest", fromlist=["ingest"]).ingest(settings, PUBLISHER, uploads(cuneo_files()))
    assert again.ok and again.candidates == []
    store = ox.Store.read_only(str(settings.current_release.resolve() / "store"))
    assert len(select(store, "SELECT ?a WHERE { ?a <http://www.w3.org/2002/07/owl#sameAs> ?b }")) == 1
