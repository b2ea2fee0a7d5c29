"""The ontology: header metadata, bilingual labels and comments, alignment of every own term."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

ROOT = Path(__file__).resolve().parents[1]
PARITA = rdflib.Namespace("https://w3id.org/parita/ontology#")
ONTOLOGY_IRI = rdflib.URIRef("https://w3id.org/parita/ontology")


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in (ROOT / "ontology").glob("*.ttl"):
        graph.parse(path)
    return graph


def own_terms(graph: rdflib.Graph) -> list[rdflib.URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    return sorted({s for k in kinds for s in graph.subjects(RDF.type, k) if str(s).startswith(str(PARITA))})


def test_header_metadata(ontology: rdflib.Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    for prop in (
        DCTERMS.title,
        DCTERMS.description,
        DCTERMS.license,
        DCTERMS.creator,
        OWL.versionInfo,
        OWL.versionIRI,
        DCTERMS.modified,
    ):
        assert ontology.value(ONTOLOGY_IRI, prop) is not None, f"ontology header lacks {prop}"


def test_there_are_classes_and_properties(ontology: rdflib.Graph) -> None:
    terms = own_terms(ontology)
    assert PARITA.Protocol in terms and PARITA.approvedBy in terms and PARITA.SecretFacility in terms


@pytest.mark.parametrize("prop", [RDFS.label, RDFS.comment])
def test_every_term_is_labelled_and_commented_in_italian_and_english(
    ontology: rdflib.Graph, prop: rdflib.URIRef
) -> None:
    missing = []
    for term in own_terms(ontology):
        languages = {getattr(v, "language", None) for v in ontology.objects(term, prop)}
        if not {"it", "en"} <= languages:
            missing.append(f"{term} {prop}: has {sorted(map(str, languages))}")
    assert not missing, "\n".join(missing)


def test_every_term_is_defined_by_the_ontology_and_aligned_to_a_standard(ontology: rdflib.Graph) -> None:
    for term in own_terms(ontology):
        assert (term, RDFS.isDefinedBy, ONTOLOGY_IRI) in ontology, term
        parents = list(ontology.objects(term, RDFS.subClassOf)) + list(ontology.objects(term, RDFS.subPropertyOf))
        assert any(not str(p).startswith(str(PARITA)) for p in parents), f"{term} is not aligned to a standard term"


def test_every_parita_term_used_anywhere_is_defined(ontology: rdflib.Graph) -> None:
    """The namespace is closed: a typo in data or shapes must not mint a new term."""
    defined = {str(t) for t in own_terms(ontology)}
    used = set()
    for folder in ("data", "shapes"):
        for path in (ROOT / folder).glob("*.ttl"):
            text = path.read_text(encoding="utf-8")
            used |= {str(PARITA) + local for local in re.findall(r"\bparita:([A-Za-z][A-Za-z0-9]*)", text)}
    assert used, "no parita term used at all"
    assert used <= defined, f"undefined terms: {sorted(used - defined)}"
