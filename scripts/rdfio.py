"""Reading RDF files in any syntax, with the parser's line and column when they are unreadable.

pyoxigraph parses every syntax parita accepts and reports precise positions; it never fetches
remote JSON-LD contexts or XML external entities, and `scripts/rdfscreen.py` refuses first what would
exhaust it (entity expansion, deep nesting), which keeps `validate` safe on untrusted files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib

from scripts.rdfscreen import HostileInput, screen
from server.formats import READ_SUFFIXES
from server.statements import AnyQuad

#: The RDF syntaxes files are read in, by suffix (the registry: server/formats.py READ_SUFFIXES).
SYNTAX_BY_SUFFIX: dict[str, ox.RdfFormat] = {
    suffix: getattr(ox.RdfFormat, fmt.oxigraph) for suffix, fmt in READ_SUFFIXES.items()
}


class UnreadableInput(Exception):
    """A file that cannot be read or parsed; carries the parser's position when it has one."""

    def __init__(self, path: Path, message: str, line: int | None = None, column: int | None = None):
        self.path, self.message, self.line, self.column = path, message, line, column
        where = f":{line}:{column}" if line is not None else ""
        super().__init__(f"{path}{where}: {message}")


def syntax_of(path: Path) -> ox.RdfFormat:
    try:
        return SYNTAX_BY_SUFFIX[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(SYNTAX_BY_SUFFIX))
        raise UnreadableInput(path, f"unknown RDF syntax for suffix {path.suffix!r} (known: {known})") from None


def read_quads(path: Path, graph: ox.NamedNode | None = None) -> list[ox.Quad]:
    """Every statement of `path`; triples go into `graph` when given, else the default graph."""
    return list(iter_quads(path, graph))


def iter_quads(path: Path, graph: ox.NamedNode | None = None) -> Iterator[ox.Quad]:
    """`read_quads` one statement at a time, as the parser reads them: a file is never held as a list of
    statements (the caller keeps what it needs, in the form it needs). Raises UnreadableInput while iterating."""
    syntax = syntax_of(path)
    try:
        data = path.read_bytes()
        screen(data, syntax)  # billion laughs, external entities, nesting that overflows the parser
        for q in ox.parse(data, format=syntax, base_iri=path.resolve().as_uri()):
            if isinstance(q.subject, ox.Triple) or isinstance(q.object, ox.Triple):
                raise UnreadableInput(
                    path,
                    "RDF 1.2 triple terms (<<( … )>>, reifiers) are not supported: parita "
                    "publishes RDF 1.1; state the facts as plain triples.",
                )
            yield q if graph is None else ox.Quad(q.subject, q.predicate, q.object, graph)
    except HostileInput as error:
        raise UnreadableInput(path, error.message, error.line, error.column) from None
    except SyntaxError as error:
        raise UnreadableInput(path, error.msg, error.lineno, error.offset) from None
    except (OSError, ValueError) as error:
        raise UnreadableInput(path, str(error)) from None


def to_rdflib_term(term: object) -> rdflib.term.Node:
    """Convert one pyoxigraph term to rdflib (used to hand data to pySHACL)."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise TypeError(f"unsupported term {term!r}")


def to_rdflib_graph(quads: Iterable[AnyQuad]) -> rdflib.Graph:
    """All statements of `quads` as one rdflib graph (graph names dropped)."""
    graph = rdflib.Graph()
    for q in quads:
        graph.add((to_rdflib_term(q.subject), to_rdflib_term(q.predicate), to_rdflib_term(q.object)))
    return graph


def graphs_by_subject(quads: Iterable[AnyQuad]) -> dict[ox.NamedNode | ox.BlankNode, list[str]]:
    """The named graphs that state something about each subject, in reading order: where a finding about
    that node comes from."""
    graphs: dict[ox.NamedNode | ox.BlankNode, list[str]] = {}
    names: dict[str, str] = {}  # one str per graph, shared by the lists of all its subjects
    for q in quads:
        found = graphs.setdefault(q.subject, [])  # type: ignore[arg-type]
        graph = graph_of(q)
        if graph not in found:
            found.append(names.setdefault(graph, graph))
    return graphs


def graph_of(quad: AnyQuad) -> str:
    """The name of the graph `quad` is in: parita states everything in a named graph."""
    if isinstance(quad.graph_name, ox.DefaultGraph):
        raise ValueError(f"a statement in the default graph: {quad}")
    return quad.graph_name.value


@dataclass(frozen=True)
class SourceFile:
    """A data file and the named graph it is published in."""

    path: Path
    graph: str
