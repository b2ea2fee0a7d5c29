"""Known answers, through SPARQL on a built release, for facts each seed page states."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.config import Settings
from tests.release_helpers import select

SEEDS = Path(__file__).parent / "data" / "seeds"  # the source pages, shipped as fixtures (see its README)


@pytest.fixture(scope="module")
def store(built_data: Settings) -> ox.Store:
    """The store of the session's build of data/ (tests/conftest.py), read only."""
    return ox.Store.read_only(str(built_data.current_release / "store"))


def seed_text(prefix: str) -> str:
    (match,) = SEEDS.glob(f"{prefix}_*.txt")
    return match.read_text(encoding="utf-8")


def test_asti_network_has_exactly_the_members_the_page_lists(store: ox.Store) -> None:
    sentence = re.search(r"costituita dai seguenti soggetti: (.+?)\.\n", seed_text("003") + "\n").group(1)
    listed = [name.strip() for name in sentence.split(", ")]
    assert len(listed) == 19
    labels = [
        row[0]
        for row in select(
            store,
            """
        SELECT ?label WHERE {
          ?m org:organization id:network\\/rete-antiviolenza-asti ; org:member ?member .
          ?member rdfs:label ?label FILTER(lang(?label) = "it") }""",
        )
    ]
    assert len(labels) == 19
    for name in listed:
        matching = [label for label in labels if label.startswith(name)]
        assert len(matching) == 1, f"{name!r} matches {matching}"


def test_unione_has_the_six_comuni_with_their_istat_codes(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT DISTINCT ?label ?code WHERE {  # DISTINCT: a comune's code is stated by identifiers and territories
          id:organization\\/unione-della-romagna-faentina org:hasMember ?comune .
          ?comune rdfs:label ?label ; parita:territory ?city . ?city skos:notation ?code
          FILTER(lang(?label) = "it") } ORDER BY ?code""",
    )
    assert rows == [
        ("Comune di Brisighella", "039004"),
        ("Comune di Casola Valsenio", "039005"),
        ("Comune di Castel Bolognese", "039006"),
        ("Comune di Faenza", "039010"),
        ("Comune di Riolo Terme", "039015"),
        ("Comune di Solarolo", "039018"),
    ]


def test_asti_protocol_approved_by_giunta_resolution_231_of_2010_09_10(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?number ?date ?issuer ?kind WHERE {
          ?protocol a parita:Protocol ; parita:approvedBy ?act ; rdfs:label ?label .
          FILTER(CONTAINS(?label, "strategie condivise"))
          ?act parita:actNumber ?number ; dct:date ?date ; dct:creator ?issuer ; dct:type ?kind }""",
    )
    assert rows == [
        (
            "231",
            "2010-09-10",
            "https://w3id.org/parita/id/organization/provincia-di-asti",
            "https://w3id.org/parita/id/concept/act-kind/delibera-giunta-provinciale",
        )
    ]


def test_asti_network_amended_by_presidents_resolution_154_of_2015(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?number ?date WHERE { id:network\\/rete-antiviolenza-asti parita:amendedBy ?act .
          ?act parita:actNumber ?number ; dct:date ?date }""",
    )
    assert rows == [("154", "2015-10-23")]


def test_regional_plan_approved_by_dgr_2_9099(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?number ?date ?issuer WHERE { ?plan a parita:Plan ; parita:approvedBy ?act .
          ?act parita:actNumber ?number ; dct:date ?date ; dct:creator ?issuer }""",
    )
    assert rows == [("2-9099", "2008-07-07", "https://w3id.org/parita/id/organization/regione-piemonte")]


def test_2016_conferral_of_functions_from_faenza_to_the_unione(store: ox.Store) -> None:
    """ "con decorrenza 01.01.2016 è stato approvato il conferimento all'Unione ... di diverse funzioni":
    a conferral, not a merger: the Comune di Faenza goes on existing, so no change event replaces it."""
    rows = select(
        store,
        """
        SELECT ?date ?from ?to ?function WHERE { ?e a parita:FunctionConferral ; dct:date ?date ;
          parita:conferredBy ?from ; parita:conferredOn ?to ; parita:function ?function FILTER(lang(?function) = "it") }""",
    )
    assert rows == [
        (
            "2016-01-01",
            "https://w3id.org/parita/id/organization/comune-di-faenza",
            "https://w3id.org/parita/id/organization/unione-della-romagna-faentina",
            "Funzione fondamentale dei Servizi Sociali",
        )
    ]
    replaced = select(store, "SELECT ?e WHERE { ?e org:originalOrganization id:organization\\/comune-di-faenza }")
    assert replaced == []


def test_pisa_table_merged_into_the_provincial_table_without_a_date(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?from ?to ?date WHERE { ?e a org:ChangeEvent ; org:originalOrganization ?from ;
          org:resultingOrganization ?to OPTIONAL { ?e dct:date ?date } FILTER(CONTAINS(STR(?from), "pisa")) }""",
    )
    assert rows == [
        (
            "https://w3id.org/parita/id/network/pisa-tavolo-interistituzionale-violenza-donne-minori",
            "https://w3id.org/parita/id/network/pisa-tavolo-provinciale-rete-violenze",
            None,
        )
    ]


def test_modena_plans_approved_by_the_council_in_may_2008(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?date ?body WHERE { ?plan a parita:Plan ; dct:dateAccepted ?date ; parita:approvingBody ?body }""",
    )
    assert (
        rows == [("2008-05", "https://w3id.org/parita/id/organization/provincia-di-modena-consiglio-provinciale")] * 2
    )


def test_modena_table_is_at_the_prefecture(store: ox.Store) -> None:
    rows = select(store, "SELECT ?host WHERE { ?t parita:hostedBy ?host }")
    assert rows == [("https://w3id.org/parita/id/organization/prefettura-di-modena",)]


def test_asti_help_desks_and_who_runs_them(store: ox.Store) -> None:
    rows = select(store, "SELECT ?desk ?by WHERE { ?desk a parita:HelpDesk ; parita:operatedBy ?by }")
    assert len(rows) == 5
    assert (
        "https://w3id.org/parita/id/help-desk/orecchio-di-venere",
        "https://w3id.org/parita/id/organization/croce-rossa-italiana",
    ) in rows


def test_secret_facilities_have_no_location_at_all(store: ox.Store) -> None:
    facilities = select(store, "SELECT ?f WHERE { ?f a parita:SecretFacility }")
    assert len(facilities) == 1
    leaks = select(
        store,
        """
        SELECT ?f ?p ?o WHERE { ?f a parita:SecretFacility . { ?f ?p ?o } UNION { ?o ?p ?f }
          FILTER(?p NOT IN (<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>, rdfs:label, dct:description,
                            parita:operatedBy, prov:wasAttributedTo, prov:wasDerivedFrom)) }""",  # wasAttributedTo: operatedBy entailed
    )
    assert leaks == []


def test_faenza_contact_details_as_the_page_gives_them(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?tel ?fax ?pec ?street WHERE { id:organization\\/comune-di-faenza <http://schema.org/telephone> ?tel ;
          <http://schema.org/faxNumber> ?fax ; parita:pec ?pec ;
          <https://w3id.org/italia/onto/CLV/hasAddress>/<https://w3id.org/italia/onto/CLV/fullAddress> ?street }""",
    )
    assert rows == [("0546691111", "0546691499", "comune.faenza@cert.provincia.ra.it", "Piazza del Popolo n. 31")]


def test_every_seed_page_is_a_described_source_in_its_own_graph(store: ox.Store) -> None:
    files = {path.name for path in SEEDS.glob("*.txt")} if SEEDS.exists() else set()
    if not files:
        pytest.skip(f"no seeds under {SEEDS}")
    rows = select(
        store,
        """
        SELECT ?file ?g WHERE { GRAPH ?g { ?source a parita:SourcePage ; dct:identifier ?file } }""",
    )
    described = {file for file, _ in rows}
    assert files <= described
    for file, graph in rows:
        if file in files:
            assert graph.startswith("https://w3id.org/parita/graph/")


def test_every_entity_has_a_source(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT DISTINCT ?s ?g WHERE { GRAPH ?g { ?s a ?type }
          FILTER(?g NOT IN (<https://w3id.org/parita/graph/ontology>, <https://w3id.org/parita/graph/shapes>,
                            <https://w3id.org/parita/graph/entailed>, <https://w3id.org/parita/graph/derived>))
          FILTER(?type NOT IN (parita:SourcePage, skos:ConceptScheme))
          FILTER NOT EXISTS { ?s prov:wasDerivedFrom|dct:source ?src . ?src a parita:SourcePage } }""",
    )
    assert rows == []


def test_no_internal_object_lacks_a_description(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER(isIRI(?o) && STRSTARTS(STR(?o), "https://w3id.org/parita/id/"))
          FILTER NOT EXISTS { ?o ?q ?v } }""",
    )
    assert rows == []


def test_one_thing_one_uri(store: ox.Store) -> None:
    rows = select(
        store,
        """
        SELECT ?label (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a org:Organization ; rdfs:label ?label }
        GROUP BY ?label HAVING (COUNT(DISTINCT ?s) > 1)""",
    )
    assert rows == []
