"""Read access to the served release for the web process: descriptions, labels, graph contents.

These are the server's own bounded look-ups (by pattern, not by user queries), run in a thread pool.
User SPARQL goes to the worker processes (`workers.py`) instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from .vocab import LABEL_PROPERTIES, OWL

Quad = ox.Quad
GRAPH_SOURCES = """SELECT ?g ?src (COUNT(*) AS ?n) {
  GRAPH ?g { ?x <http://www.w3.org/ns/prov#wasDerivedFrom> ?src FILTER(isIRI(?src)) }
} GROUP BY ?g ?src ORDER BY ?g DESC(?n) ?src"""
Subject = ox.NamedNode | ox.BlankNode


@dataclass
class Description:
    """Everything a document says about `iri`."""

    iri: str
    outgoing: list[ox.Quad]  # subject = iri, plus the closure of blank nodes reached from it
    incoming: list[ox.Quad]  # object = iri, one page of them
    incoming_total: int
    offset: int
    limit: int
    labels: dict[str, list[tuple[ox.NamedNode, ox.Literal]]] = field(default_factory=dict)

    def triples(self) -> list[ox.Triple]:
        """Outgoing, incoming and the label triples of every linked IRI, without duplicates."""
        seen: dict[ox.Triple, None] = {}
        for q in itertools.chain(self.outgoing, self.incoming):
            seen[ox.Triple(q.subject, q.predicate, q.object)] = None
        for iri, pairs in self.labels.items():
            for prop, lit in pairs:
                seen[ox.Triple(ox.NamedNode(iri), prop, lit)] = None
        return list(seen)


class DataStore:
    """The release's quads in memory, with the look-ups pages and documents need."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self._label_cache: dict[str, list[tuple[ox.NamedNode, ox.Literal]]] = {}
        self._graph_sources: dict[str, str] | None = None

    def graph_sources(self) -> dict[str, str]:
        """Named graph → the source document it transcribes: the `prov:wasDerivedFrom` target most used in it."""
        if self._graph_sources is None:
            rows = self.select(GRAPH_SOURCES)
            mapping: dict[str, str] = {}
            for row in rows:  # ordered by graph, then by use count descending
                mapping.setdefault(row["g"].value, row["src"].value)
            self._graph_sources = mapping
        return self._graph_sources

    def source_of_graph(self, graph_iri: str) -> str | None:
        return self.graph_sources().get(graph_iri)

    def __len__(self) -> int:
        return len(self.store)

    def exists(self, iri: str) -> bool:
        """True when `iri` is the subject or the object of some quad."""
        node = ox.NamedNode(iri)
        return (next(self.store.quads_for_pattern(node, None, None), None) is not None
                or next(self.store.quads_for_pattern(None, None, node), None) is not None)

    def has_subject(self, iri: str) -> bool:
        return next(self.store.quads_for_pattern(ox.NamedNode(iri), None, None), None) is not None

    def version_of(self, iri: str) -> str | None:
        """The ontology whose `owl:versionIRI` is `iri` (a version IRI resolves to that ontology)."""
        quad = next(self.store.quads_for_pattern(None, ox.NamedNode(OWL + "versionIRI"), ox.NamedNode(iri)), None)
        return quad.subject.value if quad is not None and isinstance(quad.subject, ox.NamedNode) else None

    def subjects_with_prefix(self, prefix: str) -> list[str]:
        """Every subject IRI that starts with `prefix` (used for hash namespaces such as `B ontology#`)."""
        rows = self.select(f"SELECT DISTINCT ?s {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), {_lit(prefix)})) }}")
        return sorted(str(r["s"].value) for r in rows)

    def describe(self, iri: str, offset: int = 0, limit: int = 100) -> Description:
        """Outgoing quads (blank nodes closed), one page of incoming quads, labels of every linked IRI."""
        node = ox.NamedNode(iri)
        outgoing = list(self._closure([node]))
        incoming_all = self.store.quads_for_pattern(None, None, node)
        incoming = [q for q in incoming_all if not isinstance(q.subject, ox.BlankNode)]
        incoming.sort(key=lambda q: (q.predicate.value, str(q.subject)))
        page = incoming[offset: offset + limit]
        desc = Description(iri, outgoing, page, len(incoming), offset, limit)
        linked = {q.predicate.value for q in outgoing + page}
        linked |= {t.value for q in outgoing for t in (q.object,) if isinstance(t, ox.NamedNode)}
        linked |= {q.subject.value for q in page if isinstance(q.subject, ox.NamedNode)}
        linked |= {q.graph_name.value for q in outgoing + page if isinstance(q.graph_name, ox.NamedNode)}
        linked.add(iri)
        linked.update(s for g in list(linked) if (s := self.source_of_graph(g)))
        desc.labels = {i: pairs for i in linked if (pairs := self.label_pairs(i))}
        return desc

    def _closure(self, start: list[Subject]) -> Iterator[ox.Quad]:
        seen: set[str] = set()
        todo = list(start)
        while todo:
            subject = todo.pop()
            key = str(subject)
            if key in seen:
                continue
            seen.add(key)
            for q in self.store.quads_for_pattern(subject, None, None):
                yield q
                if isinstance(q.object, ox.BlankNode):
                    todo.append(q.object)

    def label_pairs(self, iri: str) -> list[tuple[ox.NamedNode, ox.Literal]]:
        """(label property, literal) pairs of `iri`, in fallback-chain order (cached: releases are immutable)."""
        cached = self._label_cache.get(iri)
        if cached is None:
            node = ox.NamedNode(iri)
            cached = []
            for prop in LABEL_PROPERTIES:
                p = ox.NamedNode(prop)
                lits = {q.object for q in self.store.quads_for_pattern(node, p, None) if isinstance(q.object, ox.Literal)}
                cached.extend((p, lit) for lit in sorted(lits, key=str))
            self._label_cache[iri] = cached
        return cached

    def labels(self, iris: Iterable[str]) -> dict[str, list[tuple[ox.NamedNode, ox.Literal]]]:
        """Label pairs of each IRI that has some."""
        return {i: pairs for i in iris if (pairs := self.label_pairs(i))}

    def graph_quads(self, graph_iri: str) -> list[ox.Quad]:
        return list(self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)))

    def graph_exists(self, graph_iri: str) -> bool:
        return next(self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)), None) is not None

    def select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        """A trusted, bounded SELECT over the union of the named graphs."""
        result = self.store.query(query, use_default_graph_as_union=True)
        assert isinstance(result, ox.QuerySolutions)
        names = [v.value for v in result.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in result]  # type: ignore[misc]


def _lit(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
