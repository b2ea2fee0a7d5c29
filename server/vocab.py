"""Namespaces the server reads or writes, and the prefixes used when serialising."""

from __future__ import annotations

from . import terms

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCATAPIT = "http://dati.gov.it/onto/dcatapit#"
SD = "http://www.w3.org/ns/sparql-service-description#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
ORG = "http://www.w3.org/ns/org#"
SCHEMA = "https://schema.org/"
ADMS = "http://www.w3.org/ns/adms#"
LOCN = "http://www.w3.org/ns/locn#"
HYDRA = "http://www.w3.org/ns/hydra/core#"
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FREQ = "http://publications.europa.eu/resource/authority/frequency/"
EU_FILETYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LANG = "http://publications.europa.eu/resource/authority/language/"
IANA_MEDIA = "http://www.iana.org/assignments/media-types/"

TYPE = RDF + "type"
COMMENT_PROPERTIES = (SKOS + "definition", RDFS + "comment", DCT + "description")

COMMON_PREFIXES = {
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dct": DCT,
    "foaf": FOAF,
    "prov": PROV,
    "sh": SH,
    "void": VOID,
    "dcat": DCAT,
    "dcatapit": DCATAPIT,
    "sd": SD,
    "vcard": VCARD,
    "org": ORG,
    "schema": SCHEMA,
    "adms": ADMS,
    "locn": LOCN,
    "cov": "https://w3id.org/italia/onto/COV/",
    "clv": "https://w3id.org/italia/onto/CLV/",
    "cpsv": "http://purl.org/vocab/cpsv#",
    "vann": "http://purl.org/vocab/vann/",
}


def prefixes(base: str) -> dict[str, str]:
    """Common prefixes plus parita's own, for the canonical base `base`."""
    return {
        **COMMON_PREFIXES,
        "parita": parita_namespace(base),
        "paritash": base + "shapes#",
        "pid": base + "id/",
        "pgraph": base + "graph/",
    }


def parita_namespace(base: str) -> str:
    """parita's own namespace on a site served under `base` (`terms.NAMESPACE` under the canonical base)."""
    return base + "ontology#"


def parita_term(term: str, base: str) -> str:
    """One of parita's terms (server/terms.py) as a site served under `base` names it (its data is rebased alike)."""
    if term not in terms.TERMS:
        raise ValueError(f"{term} is not a term of ontology/parita.ttl")
    return parita_namespace(base) + term[len(terms.NAMESPACE) :]


def curie(iri: str, prefix_map: dict[str, str]) -> str:
    """`prefix:local` for `iri` when a prefix matches (longest namespace first), else the IRI."""
    for name, ns in sorted(prefix_map.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{name}:{iri[len(ns) :]}"
    return iri
