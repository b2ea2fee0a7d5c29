"""Statements held compactly: what a build keeps of every statement of a release, and reads like Quads.

A pyoxigraph Quad owns a copy of each of its four terms; a `Statement` is a tuple of terms that equal
statements share, several times smaller (BENCHMARKS.md, "Build memory"). The functions that read statements
take both forms (`AnyQuad`); `as_quads` gives pyoxigraph's where its serialisers and stores want it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import pyoxigraph as ox


class Statement(NamedTuple):
    """A statement as a tuple of terms (shared with the other statements of a `Statements`), read like a Quad."""

    subject: ox.NamedNode | ox.BlankNode | ox.Triple
    predicate: ox.NamedNode
    object: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
    graph_name: ox.NamedNode | ox.BlankNode | ox.DefaultGraph

    def __str__(self) -> str:  # the N-Quads form a Quad prints, so both sort alike
        return str(ox.Quad(*self))


#: A statement in either form: the functions that read statements take both.
AnyQuad = ox.Quad | Statement


def as_quads(statements: Iterable[AnyQuad]) -> Iterator[ox.Quad]:
    """pyoxigraph's form of `statements`, one at a time (for its serialisers and stores)."""
    return (s if isinstance(s, ox.Quad) else ox.Quad(*s) for s in statements)


class Statements(list[Statement]):
    """A list of `Statement`s whose terms are shared: a term equal to one already added is not kept twice."""

    def __init__(self) -> None:
        super().__init__()
        self._terms: dict[Any, Any] = {}

    def add(
        self,
        subject: ox.NamedNode | ox.BlankNode | ox.Triple,
        predicate: ox.NamedNode,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple,
        graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph,
    ) -> None:
        same = self._terms.setdefault
        self.append(Statement(same(subject, subject), same(predicate, predicate), same(obj, obj), same(graph, graph)))

    def done(self) -> Statements:
        """The list, its index of terms dropped: the terms live on in the statements."""
        self._terms = {}
        return self


def parse_statements(data: bytes, format: ox.RdfFormat) -> Statements:
    """The statements of an RDF text, as `Statements`."""
    statements = Statements()
    for q in ox.parse(data, format=format):
        statements.add(*q)
    return statements.done()
