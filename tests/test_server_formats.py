"""Every registered format serialises and parses back: SELECT rows, ASK booleans, triples."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from server.formats import (
    BY_NAME,
    CONSTRUCT_FORMATS,
    DUMP_MEDIA_TYPES,
    DUMPS,
    EU_FILE_TYPES,
    READ_SUFFIXES,
    RESULT_FORMATS,
    Format,
    served_media_type,
)
from server.results import write_boolean, write_rows, write_triples

ROWS = [
    (ox.NamedNode("http://example.org/a"), ox.Literal("caffè ✓", language="it")),
    (ox.BlankNode("b0"), ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
    (ox.NamedNode("http://example.org/c"), None),
]
RDFLIB = {
    "turtle": "turtle",
    "jsonld": "json-ld",
    "rdfxml": "xml",
    "ntriples": "nt",
    "trig": "trig",
    "nquads": "nquads",
}


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_rows_round_trip(fmt: Format) -> None:
    body = write_rows(["s", "o"], ROWS, fmt).decode()
    if fmt.name == "json":
        bindings = json.loads(body)["results"]["bindings"]
        assert bindings[0]["o"] == {"type": "literal", "value": "caffè ✓", "xml:lang": "it"} and "o" not in bindings[2]
    elif fmt.name == "xml":
        ns = "{http://www.w3.org/2005/sparql-results#}"
        assert len(ET.fromstring(body).findall(f"{ns}results/{ns}result")) == 3
    elif fmt.name == "csv":
        assert list(csv.reader(io.StringIO(body)))[1] == ["http://example.org/a", "caffè ✓"]
    else:
        lines = body.splitlines()
        assert lines[0] == "?s\t?o" and lines[1] == '<http://example.org/a>\t"caffè ✓"@it'


@pytest.mark.parametrize("fmt", [f for f in RESULT_FORMATS if f.name in ("json", "xml")], ids=lambda f: f.name)
def test_boolean(fmt: Format) -> None:
    assert b"true" in write_boolean(True, fmt)


@pytest.mark.parametrize("fmt", CONSTRUCT_FORMATS, ids=lambda f: f.name)
def test_triples_round_trip(fmt: Format) -> None:
    triples = [
        ox.Triple(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), o)
        for o in (ox.Literal("x", language="it"), ox.NamedNode("http://example.org/o"), ox.BlankNode("b1"))
    ]
    body = write_triples(triples, fmt, {"ex": "http://example.org/"})
    if fmt.kind == "dataset":  # read quads with pyoxigraph, keep their triples
        quads = ox.parse(body, format=ox.RdfFormat.from_media_type(fmt.media_type))
        body = write_triples([ox.Triple(q.subject, q.predicate, q.object) for q in quads], CONSTRUCT_FORMATS[0])
    got = rdflib.Graph().parse(data=body, format="turtle" if fmt.kind == "dataset" else RDFLIB[fmt.name])
    expected = rdflib.Graph().parse(data=write_triples(triples, CONSTRUCT_FORMATS[0]), format="turtle")
    assert isomorphic(got, expected)


# --- the registry's other facts: file suffixes read, EU file types, dumps (one owner: server/formats.py) ---------


@pytest.mark.parametrize(
    ("suffix", "syntax"),
    [
        (".ttl", "turtle"),
        (".trig", "trig"),
        (".nt", "ntriples"),
        (".nq", "nquads"),
        (".jsonld", "jsonld"),
        (".json", "jsonld"),
        (".rdf", "rdfxml"),
        (".owl", "rdfxml"),
        (".xml", "rdfxml"),
    ],
)
def test_file_suffixes_read_as(suffix: str, syntax: str) -> None:
    from scripts.rdfio import SYNTAX_BY_SUFFIX

    assert READ_SUFFIXES[suffix].name == syntax
    assert SYNTAX_BY_SUFFIX[suffix] == getattr(ox.RdfFormat, BY_NAME[syntax].oxigraph)


def test_no_other_suffix_is_read() -> None:
    assert sorted(READ_SUFFIXES) == [".json", ".jsonld", ".nq", ".nt", ".owl", ".rdf", ".trig", ".ttl", ".xml"]


@pytest.mark.parametrize(
    ("media_type", "code"),
    [("application/n-quads", "RDF_N_QUADS"), ("text/turtle", "RDF_TURTLE"), ("application/n-triples", "RDF_N_TRIPLES")],
)
def test_eu_file_types(media_type: str, code: str) -> None:
    assert EU_FILE_TYPES[media_type] == code


@pytest.mark.parametrize(
    ("name", "inside", "served"),
    [
        ("parita.nq.gz", "application/n-quads", "application/gzip"),
        ("parita.nt.gz", "application/n-triples", "application/gzip"),
        ("parita.ttl", "text/turtle", "text/turtle"),
        ("SHA256SUMS", None, "text/plain"),
    ],
)
def test_dumps(name: str, inside: str | None, served: str) -> None:
    assert DUMP_MEDIA_TYPES.get(name) == inside
    assert served_media_type(name) == served
    assert all(d.gzip == d.name.endswith(".gz") for d in DUMPS)


@pytest.mark.parametrize(
    ("accept", "report"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),  # a browser
        ("text/turtle", "turtle"),
        ("text/turtle;q=0.5, text/html", "html"),  # the client's q decides
        ("application/json, text/html;q=0", "json"),  # q=0 refuses (a substring match gave HTML)
        ("image/png", "json"),  # unsatisfiable: a report goes out anyway
        ("text/html;q=abc", "json"),  # malformed: likewise
    ],
)
def test_a_submission_report_is_negotiated(accept: str | None, report: str) -> None:
    from server.routes.submissions import _report_format

    assert _report_format(accept)[0] == report


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (b"application/json", b"application/json"),
        (b"*/*", b"text/plain"),
        (b"text/html", b"text/plain"),
        (b"", b"text/plain"),
    ],
)
def test_an_error_outside_the_routes_is_text_or_json(accept: bytes, media: bytes) -> None:
    from starlette.requests import Request

    from server.errors import BadRequest
    from server.web import error_response

    response = error_response(Request({"type": "http", "headers": [(b"accept", accept)]}), BadRequest("no"), page=False)
    assert dict(response.raw_headers)[b"content-type"].split(b";")[0] == media
