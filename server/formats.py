"""The one registry of media types: negotiation, serialization, suffix URLs, SD and HTML links read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["results", "graph", "dataset", "html"]


@dataclass(frozen=True)
class Format:
    """One representation: `name` is the short `format=` value, `extension` the suffix URL ending."""

    name: str
    media_type: str
    kind: Kind
    extension: str
    label: str
    aliases: tuple[str, ...] = ()
    oxigraph: str = ""  # attribute name on pyoxigraph.RdfFormat / QueryResultsFormat
    sd_iri: str = ""  # W3C formats IRI, for the SPARQL Service Description
    qs: float = 1.0  # server-side quality: breaks ties between equally acceptable types
    eu_file_type: str = ""  # code in the EU file-type authority table (DCAT-AP dct:format), where one is used
    read_suffixes: tuple[str, ...] = ()  # further file suffixes read as this syntax (`parita validate`, build, ingest)


_W3 = "http://www.w3.org/ns/formats/"

FORMATS: tuple[Format, ...] = (
    Format(
        "json",
        "application/sparql-results+json",
        "results",
        "srj",
        "SPARQL JSON",
        ("application/json", "srj"),
        "JSON",
        _W3 + "SPARQL_Results_JSON",
    ),
    Format(
        "xml",
        "application/sparql-results+xml",
        "results",
        "srx",
        "SPARQL XML",
        ("application/xml", "text/xml", "srx"),
        "XML",
        _W3 + "SPARQL_Results_XML",
        0.9,
    ),
    Format("csv", "text/csv", "results", "csv", "CSV", (), "CSV", _W3 + "SPARQL_Results_CSV", 0.8),
    Format("tsv", "text/tab-separated-values", "results", "tsv", "TSV", (), "TSV", _W3 + "SPARQL_Results_TSV", 0.8),
    Format(
        "turtle", "text/turtle", "graph", "ttl", "Turtle", ("ttl",), "TURTLE", _W3 + "Turtle", eu_file_type="RDF_TURTLE"
    ),
    Format(
        "jsonld",
        "application/ld+json",
        "graph",
        "jsonld",
        "JSON-LD",
        ("json-ld",),
        "JSON_LD",
        _W3 + "JSON-LD",
        0.9,
        read_suffixes=("json",),
    ),
    Format(
        "rdfxml",
        "application/rdf+xml",
        "graph",
        "rdf",
        "RDF/XML",
        ("rdf", "xml-rdf"),
        "RDF_XML",
        _W3 + "RDF_XML",
        0.8,
        read_suffixes=("owl", "xml"),
    ),
    Format(
        "ntriples",
        "application/n-triples",
        "graph",
        "nt",
        "N-Triples",
        ("nt", "text/plain"),
        "N_TRIPLES",
        _W3 + "N-Triples",
        0.8,
        eu_file_type="RDF_N_TRIPLES",
    ),
    Format("trig", "application/trig", "dataset", "trig", "TriG", (), "TRIG", _W3 + "TriG", 0.7),
    Format(
        "nquads",
        "application/n-quads",
        "dataset",
        "nq",
        "N-Quads",
        ("nq",),
        "N_QUADS",
        _W3 + "N-Quads",
        0.7,
        eu_file_type="RDF_N_QUADS",
    ),
    Format("html", "text/html", "html", "html", "HTML", ("application/xhtml+xml",), "", "", 0.95),
)

BY_NAME = {f.name: f for f in FORMATS}
RESULT_FORMATS = tuple(f for f in FORMATS if f.kind == "results")
GRAPH_FORMATS = tuple(f for f in FORMATS if f.kind == "graph")
#: CONSTRUCT/DESCRIBE results: triples, serialised in any graph or dataset syntax (default graph only).
CONSTRUCT_FORMATS = GRAPH_FORMATS + tuple(f for f in FORMATS if f.kind == "dataset")
#: What a dereferenced document offers; Turtle first, so `*/*` (curl) gets Turtle.
DOCUMENT_FORMATS = GRAPH_FORMATS + (BY_NAME["html"],)
#: The RDF formats a document offers, in the order the HTML "download as" links show them.
DOCUMENT_RDF_FORMATS = GRAPH_FORMATS


def by_extension(extension: str, offered: tuple[Format, ...] = DOCUMENT_FORMATS) -> Format | None:
    """The offered format whose suffix URL ends with `.extension`, if any."""
    return next((f for f in offered if f.extension == extension), None)


def by_name(name: str, offered: tuple[Format, ...]) -> Format | None:
    """The offered format called `name` (short name, alias, extension or media type) by a `format=` parameter."""
    key = name.strip().lower()
    for f in offered:
        if key in (f.name, f.media_type, f.extension, *f.aliases):
            return f
    return None


#: Error bodies: plain text (the default), JSON, or the site's error page. Kind "html": never RDF or results.
ERROR_FORMATS = (
    Format("text", "text/plain", "html", "txt", "text"),
    Format(
        "json", "application/json", "html", "json", "JSON", ("application/sparql-results+json", "application/ld+json")
    ),
    BY_NAME["html"],
)
#: A submission's report (scripts/submission_report.py): JSON (the default), HTML, or an sh:ValidationReport.
REPORT_FORMATS = (Format("json", "application/json", "html", "json", "JSON"), BY_NAME["html"], BY_NAME["turtle"])

#: Suffix (".ttl") → the RDF syntax files with it are read as.
READ_SUFFIXES = {
    "." + suffix: f for f in FORMATS if f.kind in ("graph", "dataset") for suffix in (f.extension, *f.read_suffixes)
}
#: Media type → EU file-type code, for the catalog's dct:format.
EU_FILE_TYPES = {f.media_type: f.eu_file_type for f in FORMATS if f.eu_file_type}


@dataclass(frozen=True)
class Dump:
    """One dump file of every release: its syntax, and its encoding on disk (gzip) or none."""

    name: str
    format: Format
    gzip: bool


NQ_DUMP, NT_DUMP, TTL_DUMP = "parita.nq.gz", "parita.nt.gz", "parita.ttl"
DUMPS = (
    Dump(NQ_DUMP, BY_NAME["nquads"], True),
    Dump(NT_DUMP, BY_NAME["ntriples"], True),
    Dump(TTL_DUMP, BY_NAME["turtle"], False),
)
#: Dump file → the media type of the syntax inside (what the catalog and release.json state).
DUMP_MEDIA_TYPES = {d.name: d.format.media_type for d in DUMPS}


def served_media_type(name: str) -> str:
    """The Content-Type a dump file is served with: a gzip file as what it is (application/gzip, which
    clients save as is), the others as their RDF syntax. The catalog names the syntax inside
    (`DUMP_MEDIA_TYPES`) with dcat:compressFormat gzip."""
    if name.endswith(".gz"):
        return "application/gzip"
    return "text/plain" if name == "SHA256SUMS" else DUMP_MEDIA_TYPES.get(name, "application/octet-stream")


#: Text syntaxes are sent with their charset.
TEXT_TYPES = ("text/", "application/sparql-results+xml", "application/rdf+xml")


def content_type(fmt: Format) -> str:
    """The Content-Type a body in `fmt` is sent with."""
    return f"{fmt.media_type}; charset=utf-8" if fmt.media_type.startswith(TEXT_TYPES) else fmt.media_type
