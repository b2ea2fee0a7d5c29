"""Serialise query results: SPARQL results (JSON, XML, CSV, TSV) for rows, RDF syntaxes for triples.

Rows are written here rather than by pyoxigraph so that a row cap can cut them.
Specs: https://www.w3.org/TR/sparql11-results-json/ , /rdf-sparql-XMLres/ , /sparql11-results-csv-tsv/
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from .formats import Format
from .vocab import XSD_STRING

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = Sequence[Term | None]
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def term_json(term: Term) -> dict[str, object]:
    """A term as a SPARQL JSON binding."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {
        "type": "triple",
        "value": {
            "subject": term_json(term.subject),
            "predicate": term_json(term.predicate),
            "object": term_json(term.object),
        },
    }


def _term_xml(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return (
        f"<triple><subject>{_term_xml(term.subject)}</subject><predicate>{_term_xml(term.predicate)}"
        f"</predicate><object>{_term_xml(term.object)}</object></triple>"
    )


def _term_csv(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return term.value
    return str(term)


def _term_tsv(term: Term | None) -> str:
    return "" if term is None else str(term)


def write_rows(variables: Sequence[str], rows: Iterable[Row], fmt: Format) -> bytes:
    """SELECT results in `fmt` (json, xml, csv or tsv)."""
    if fmt.name == "json":
        bindings = [{v: term_json(t) for v, t in zip(variables, row, strict=False) if t is not None} for row in rows]
        return json.dumps(
            {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}, ensure_ascii=False
        ).encode()
    if fmt.name == "xml":
        head = "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
        body = "".join(
            "<result>"
            + "".join(
                f"<binding name={quoteattr(v)}>{_term_xml(t)}</binding>"
                for v, t in zip(variables, row, strict=False)
                if t is not None
            )
            + "</result>"
            for row in rows
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head>{head}</head><results>{body}</results></sparql>\n"
        ).encode()
    if fmt.name == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_term_csv(t) for t in row] for row in rows)
        return buf.getvalue().encode()
    if fmt.name == "tsv":
        lines = ["\t".join("?" + v for v in variables)]
        lines += ["\t".join(_term_tsv(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(f"{fmt.name} is not a SPARQL results format")


def write_boolean(value: bool, fmt: Format) -> bytes:
    """ASK results in `fmt` (json or xml)."""
    if fmt.name == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt.name == "xml":
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{'true' if value else 'false'}</boolean></sparql>\n"
        ).encode()
    raise ValueError(f"{fmt.name} is not a boolean results format")


def write_triples(triples: Iterable[ox.Triple], fmt: Format, prefixes: dict[str, str] | None = None) -> bytes:
    """Triples in an RDF syntax; dataset syntaxes (TriG, N-Quads) put them in the default graph."""
    rdf_format = getattr(ox.RdfFormat, fmt.oxigraph)
    use_prefixes = prefixes if fmt.name in ("turtle", "trig", "rdfxml", "jsonld") else None
    if fmt.kind == "dataset":
        quads = (ox.Quad(t.subject, t.predicate, t.object) for t in triples)
        return ox.serialize(quads, format=rdf_format, prefixes=use_prefixes) or b""
    return ox.serialize(triples, format=rdf_format, prefixes=use_prefixes) or b""
