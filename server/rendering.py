"""Turn descriptions into what templates show: labels (one fallback chain), grouped properties, links.
Pure functions: no HTTP, no store access."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from .known_labels import known_label
from .labels import LABEL_PROPERTIES
from .labels import best as best_label
from .store import Description
from .urls import Urls
from .vocab import TYPE, curie

LabelPairs = Mapping[str, Sequence[tuple[ox.NamedNode, ox.Literal]]]


def local_name(iri: str) -> str:
    """The last segment of an IRI: the label of last resort."""
    tail = iri.rstrip("/#").rsplit("#", 1)[-1]
    return tail.rsplit("/", 1)[-1] or iri


def label(iri: str, labels: LabelPairs, lang: str) -> str:
    """skos:prefLabel → rdfs:label → dct:title → foaf:name → sh:name → a bundled label → last IRI segment."""
    return stored_label(iri, labels, lang) or known_label(iri, lang) or local_name(iri)


def stored_label(iri: str, labels: LabelPairs, lang: str) -> str | None:
    """The best label the data holds for `iri` (server/labels.py), or None."""
    return best_label(((p.value, lit.value, lit.language or "") for p, lit in labels.get(iri, ())), lang)


@dataclass
class Value:
    """One value as a page shows it: text, an optional link, a language or datatype, its source graph(s)."""

    text: str
    href: str | None = None
    note: str = ""
    iri: str | None = None
    graphs: list[tuple[str, str]] = field(default_factory=list)  # (href, label)
    nested: list[Row] = field(default_factory=list)  # a blank node's own properties


@dataclass
class Row:
    prop_iri: str
    prop_label: str
    prop_href: str
    prop_curie: str
    values: list[Value]


@dataclass
class View:
    """Everything the resource template needs."""

    iri: str
    title: str
    types: list[Value]
    rows: list[Row]
    incoming: list[Row]
    sources: list[Value]


class Renderer:
    """Builds `View`s for one language; `prefix_map` gives CURIEs for property names; `harvested` are the
    things outside the base that this instance describes (a publisher's graph)."""

    def __init__(
        self,
        urls: Urls,
        labels: LabelPairs,
        lang: str,
        prefix_map: dict[str, str],
        graph_sources: Mapping[str, str] | None = None,
        harvested: Collection[str] = frozenset(),
    ) -> None:
        self.urls, self.labels, self.lang, self.prefix_map = urls, labels, lang, prefix_map
        self.graph_sources = graph_sources or {}
        self.harvested = harvested

    def link(self, iri: str) -> str:
        """Where a value links: a harvested thing's description here (its own page says "published by X, at
        <home>"), rather than its publisher's home; any other IRI as `Urls.link`."""
        return self.urls.foreign_document(iri) if iri in self.harvested else self.urls.link(iri)

    def term(self, term: object, nested_from: dict[str, list[ox.Quad]] | None = None) -> Value:
        if isinstance(term, ox.NamedNode):
            iri = term.value
            text = stored_label(iri, self.labels, self.lang) or known_label(iri, self.lang)
            if text is None:  # no label anywhere: our IRIs by their last segment, others as a CURIE or the IRI
                text = local_name(iri) if iri.startswith(self.urls.base) else curie(iri, self.prefix_map)
            return Value(text, self.link(iri), "", iri)
        if isinstance(term, ox.Literal):
            note = f"@{term.language}" if term.language else curie(term.datatype.value, self.prefix_map)
            return Value(term.value, None, "" if note == "xsd:string" else note)
        if isinstance(term, ox.BlankNode) and nested_from is not None:
            return Value("", nested=self.rows(nested_from.get(str(term), []), nested_from))
        return Value(str(term))

    def graph_value(self, graph: object) -> tuple[str, str]:
        iri = graph.value if isinstance(graph, ox.NamedNode) else ""
        if not iri:
            return ("", "")
        source = self.graph_sources.get(iri)
        if source and source in self.labels:
            return (self.urls.link(source), label(source, self.labels, self.lang))
        return (self.urls.link(iri), label(iri, self.labels, self.lang))

    def rows(self, quads: Sequence[ox.Quad], by_bnode: dict[str, list[ox.Quad]], skip_types: bool = False) -> list[Row]:
        grouped: dict[str, dict[str, Value]] = {}
        for q in quads:
            if skip_types and q.predicate.value == TYPE:
                continue
            values = grouped.setdefault(q.predicate.value, {})
            key = str(q.object)
            if key not in values:
                values[key] = self.term(q.object, by_bnode)
            g = self.graph_value(q.graph_name)
            if g[0] and g not in values[key].graphs:
                values[key].graphs.append(g)
        return [
            self._row(p, list(v.values())) for p, v in sorted(grouped.items(), key=lambda kv: self._sort_key(kv[0]))
        ]

    def _row(self, prop: str, values: list[Value]) -> Row:
        return Row(
            prop,
            label(prop, self.labels, self.lang),
            self.urls.link(prop),
            curie(prop, self.prefix_map),
            sorted(values, key=lambda v: (v.note.startswith("@") and v.note != "@" + self.lang, v.text.lower())),
        )

    def _sort_key(self, prop: str) -> tuple[int, str]:
        return (
            0 if prop == TYPE else 1 if prop in LABEL_PROPERTIES else 2,
            label(prop, self.labels, self.lang).lower(),
        )

    def view(self, desc: Description) -> View:
        node = ox.NamedNode(desc.iri)
        by_bnode: dict[str, list[ox.Quad]] = {}
        for q in desc.outgoing:
            if isinstance(q.subject, ox.BlankNode):
                by_bnode.setdefault(str(q.subject), []).append(q)
        own = [q for q in desc.outgoing if q.subject == node]
        types = {
            q.object.value: self.term(q.object)
            for q in own
            if q.predicate.value == TYPE and isinstance(q.object, ox.NamedNode)
        }
        sources = {
            g: Value(text, href, iri=g)
            for g, (href, text) in (
                (q.graph_name.value, self.graph_value(q.graph_name))
                for q in own
                if isinstance(q.graph_name, ox.NamedNode)
            )
        }
        incoming = self._incoming(desc.incoming)
        rows = self.rows(own, by_bnode, skip_types=True)
        if len(sources) <= 1:  # one source: the "Sources" line says it, values need no tag each
            _drop_graphs(rows)
        return View(
            desc.iri,
            label(desc.iri, self.labels, self.lang),
            list(types.values()),
            rows,
            incoming,
            list(sources.values()),
        )

    def _incoming(self, quads: Sequence[ox.Quad]) -> list[Row]:
        grouped: dict[str, dict[str, Value]] = {}
        for q in quads:
            grouped.setdefault(q.predicate.value, {}).setdefault(str(q.subject), self.term(q.subject))
        return [self._row(p, list(v.values())) for p, v in sorted(grouped.items())]


def _drop_graphs(rows: list[Row]) -> None:
    for row in rows:
        for value in row.values:
            value.graphs = []
            _drop_graphs(value.nested)
