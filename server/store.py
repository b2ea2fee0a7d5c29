"""Read access to the served release for the web process: descriptions, labels, graph contents.

These are the server's own bounded look-ups (by pattern, not by user queries), run in a thread pool.
User SPARQL goes to a `QueryRunner` instead: the worker processes (`workers.py`) for the embedded store,
or the remote store itself (`backends/remote.py`). `DataStore` is the embedded implementation; the remote
one overrides the few primitives below (`outgoing`, `incoming`, `fetch_labels`, `select`, ...).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pyoxigraph as ox

from .labels import LABEL_PROPERTIES
from .query import Job, Outcome
from .vocab import OWL

Quad = ox.Quad
T = TypeVar("T")
GRAPH_SOURCES = """SELECT ?g ?src (COUNT(*) AS ?n) {
  GRAPH ?g { ?x <http://www.w3.org/ns/prov#wasDerivedFrom> ?src FILTER(isIRI(?src)) }
} GROUP BY ?g ?src ORDER BY ?g DESC(?n) ?src"""
#: Things outside the base that a publisher's graph describes (harvested: their pages here are `/doc/?uri=`):
#: the publishers' graphs first (an index look-up), then their subjects, so data without them costs nothing.
PUBLISHER_GRAPHS = """SELECT DISTINCT ?g {{ GRAPH ?g {{ }} FILTER(STRSTARTS(STR(?g), "{base}graph/publisher/")) }}"""
HARVESTED = (
    """SELECT DISTINCT ?s {{ GRAPH <{graph}> {{ ?s ?p ?o }} FILTER(isIRI(?s) && !STRSTARTS(STR(?s), "{base}")) }}"""
)
#: Incoming links from which a resource counts as a hub: describing it sorts them all (seconds for 100k).
HUB_LINKS = 1000
SORTED_INCOMING = 1000  # a resource with this many incoming links or more pages them unsorted (`incoming_page`)
#: Label look-ups kept per release (oldest forgotten first): ~10 MB, enough for every page's neighbours.
LABEL_CACHE_ENTRIES = 20000
Subject = ox.NamedNode | ox.BlankNode
Term = ox.NamedNode | ox.BlankNode | ox.Literal


class RunnerStats(Protocol):
    """The counters every runner exports on /metrics."""

    queries: int
    timeouts: int
    restarts: int
    busy_refusals: int


class QueryRunner(Protocol):
    """Where user SPARQL runs: `run(job)` answers or raises a PublisherError (timeout, store unavailable)."""

    @property
    def stats(self) -> RunnerStats: ...

    async def start(self) -> None: ...
    async def run(self, job: Job) -> Outcome: ...
    async def close(self) -> None: ...


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


def sorted_incoming(quads: list[ox.Quad]) -> list[ox.Quad]:
    return sorted(quads, key=lambda q: (q.predicate.value, str(q.subject)))


class DataStore:
    """The release's quads in memory, with the look-ups pages and documents need."""

    remote = False  # look-ups answer in-process (see `Served.look`)

    def __init__(self, store: ox.Store, order: str = "memory") -> None:
        self.store = store
        # How a hub's unsorted pages are ordered: the store's index order, which the same release gives
        # in every process of one kind ("memory" or "disk") but not across kinds (see `page_order`).
        self.order = order
        self._label_cache: dict[str, list[tuple[ox.NamedNode, ox.Literal]]] = {}
        self._graph_sources: dict[str, str] | None = None
        self._harvested: dict[str, frozenset[str]] = {}
        self._len: int | None = None

    def graph_sources(self) -> dict[str, str]:
        """Named graph → the source document it transcribes: the `prov:wasDerivedFrom` target most used in it."""
        if self._graph_sources is None:
            rows = self.select(GRAPH_SOURCES)
            mapping: dict[str, str] = {}
            for row in rows:  # ordered by graph, then by use count descending
                mapping.setdefault(row["g"].value, row["src"].value)
            self._graph_sources = mapping
        return self._graph_sources

    def harvested(self, base: str) -> frozenset[str]:
        """The IRIs outside `base` that some `graph/publisher/ID` describes (once per release: it never changes)."""
        if base not in self._harvested:
            quoted = base.replace("\\", "\\\\").replace('"', '\\"')
            graphs = [row["g"].value for row in self.select(PUBLISHER_GRAPHS.format(base=quoted))]
            self._harvested[base] = frozenset(
                row["s"].value for g in graphs for row in self.select(HARVESTED.format(graph=g, base=quoted))
            )
        return self._harvested[base]

    def source_of_graph(self, graph_iri: str) -> str | None:
        return self.graph_sources().get(graph_iri)

    def __len__(self) -> int:
        # counted once: a release never changes, and counting scans (pyoxigraph: 14 ms at scale 1 per /health)
        if self._len is None:
            self._len = self.count_quads()
        return self._len

    def count_quads(self) -> int:
        return len(self.store)

    def exists(self, iri: str) -> bool:
        """True when `iri` is the subject or the object of some quad."""
        node = ox.NamedNode(iri)
        return (
            next(self.store.quads_for_pattern(node, None, None), None) is not None
            or next(self.store.quads_for_pattern(None, None, node), None) is not None
        )

    def consistently(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` as of one release (a remote store may be switching; an embedded one never is)."""
        return fn(*args)

    def is_hub(self, iri: str) -> bool:
        """True when at least HUB_LINKS named statements point at `iri`."""
        return self._has_links(iri, HUB_LINKS)

    def _has_links(self, iri: str, n: int) -> bool:
        """Whether `n` incoming links reach `iri` (counted no further than that)."""
        return sum(1 for _ in itertools.islice(self._named_incoming(iri), n)) >= n

    def version_of(self, iri: str) -> str | None:
        """The ontology whose `owl:versionIRI` is `iri` (a version IRI resolves to that ontology)."""
        quad = next(self.store.quads_for_pattern(None, ox.NamedNode(OWL + "versionIRI"), ox.NamedNode(iri)), None)
        return quad.subject.value if quad is not None and isinstance(quad.subject, ox.NamedNode) else None

    def subjects_with_prefix(self, prefix: str) -> list[str]:
        """Every subject IRI that starts with `prefix` (used for hash namespaces such as `B ontology#`)."""
        rows = self.select(
            f"SELECT DISTINCT ?s {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?s), {_lit(prefix)})) }}"
        )
        return sorted(str(r["s"].value) for r in rows)

    def describe(self, iri: str, offset: int = 0, limit: int = 100) -> Description:
        """Outgoing quads (blank nodes closed), one page of incoming quads, labels of every linked IRI."""
        page, total = self.incoming_page(iri, offset, limit)
        return self.assemble(iri, self.outgoing(iri), page, total, offset, limit)

    def outgoing(self, iri: str) -> list[ox.Quad]:
        """Quads whose subject is `iri`, plus those of the blank nodes reached from it."""
        return list(self._closure([ox.NamedNode(iri)]))

    def incoming(self, iri: str) -> list[ox.Quad]:
        """Quads whose object is `iri`, from named subjects."""
        return list(self._named_incoming(iri))

    def _named_incoming(self, iri: str) -> Iterator[ox.Quad]:
        """Incoming quads from named subjects, in named graphs (a release has nothing in the default graph)."""
        return (
            q
            for q in self.store.quads_for_pattern(None, None, ox.NamedNode(iri))
            if not isinstance(q.subject, ox.BlankNode) and isinstance(q.graph_name, ox.NamedNode)
        )

    def page_order(self, iri: str) -> str:
        """ "sorted", or the store's order for a hub (`incoming_page`): a document's ETag names it, so that
        replicas on stores of different kinds never give one ETag to two different pages of a hub."""
        return self.order if self._has_links(iri, SORTED_INCOMING) else "sorted"

    def incoming_page(self, iri: str, offset: int, limit: int) -> tuple[list[ox.Quad], int]:
        """One page of the incoming quads, and how many there are in all. Pages of an ordinary resource
        are sorted by property and subject. A hub's are in the store's index order (see `order`):
        sorting the synthetic source's 107,853 links to show 50 took 1.7 s at scale 4."""
        links = self._named_incoming(iri)
        head = list(itertools.islice(links, SORTED_INCOMING))
        if len(head) < SORTED_INCOMING:
            return sorted_incoming(head)[offset : offset + limit], len(head)
        page = list(itertools.islice(itertools.chain(head, links), offset, offset + limit))
        rows = self.select(f"SELECT (COUNT(*) AS ?n) {{ GRAPH ?g {{ ?s ?p <{iri}> FILTER(!isBlank(?s)) }} }}")
        return page, int(rows[0]["n"].value)

    def assemble(
        self, iri: str, outgoing: list[ox.Quad], page: list[ox.Quad], total: int, offset: int, limit: int
    ) -> Description:
        desc = Description(iri, outgoing, page, total, offset, limit)
        linked = {q.predicate.value for q in outgoing + page}
        linked |= {t.value for q in outgoing for t in (q.object,) if isinstance(t, ox.NamedNode)}
        linked |= {q.subject.value for q in page if isinstance(q.subject, ox.NamedNode)}
        linked |= {q.graph_name.value for q in outgoing + page if isinstance(q.graph_name, ox.NamedNode)}
        linked.add(iri)
        linked.update(s for g in list(linked) if (s := self.source_of_graph(g)))
        desc.labels = self.labels(linked)
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
        return self.labels([iri]).get(iri, [])

    def labels(self, iris: Iterable[str]) -> dict[str, list[tuple[ox.NamedNode, ox.Literal]]]:
        """Label pairs of each IRI that has some (looked up once per IRI per release)."""
        iris = list(dict.fromkeys(iris))
        missing = [i for i in iris if i not in self._label_cache]
        if not missing:
            return {i: pairs for i in iris if (pairs := self._label_cache.get(i))}
        found = self.fetch_labels(missing)
        self._label_cache.update(found)
        while len(self._label_cache) > LABEL_CACHE_ENTRIES:
            del self._label_cache[next(iter(self._label_cache))]
        return {i: pairs for i in iris if (pairs := self._label_cache.get(i) or found.get(i))}

    def fetch_labels(self, iris: Sequence[str]) -> dict[str, list[tuple[ox.NamedNode, ox.Literal]]]:
        """Uncached label look-up: every IRI of `iris` gets its (possibly empty) list."""
        out: dict[str, list[tuple[ox.NamedNode, ox.Literal]]] = {}
        for iri in iris:
            node = ox.NamedNode(iri)
            pairs: list[tuple[ox.NamedNode, ox.Literal]] = []
            for prop in LABEL_PROPERTIES:
                p = ox.NamedNode(prop)
                lits = {
                    q.object for q in self.store.quads_for_pattern(node, p, None) if isinstance(q.object, ox.Literal)
                }
                pairs.extend((p, lit) for lit in sorted(lits, key=str))
            out[iri] = pairs
        return out

    def graph_quads(self, graph_iri: str) -> list[ox.Quad]:
        return list(self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)))

    def graph_exists(self, graph_iri: str) -> bool:
        return next(self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)), None) is not None

    def select(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        """A trusted, bounded SELECT over the union of the named graphs."""
        result = self.store.query(query, use_default_graph_as_union=True)
        assert isinstance(result, ox.QuerySolutions)
        names = [v.value for v in result.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in result]


def _lit(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
