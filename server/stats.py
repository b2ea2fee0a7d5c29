"""A release's counts, computed once when it is built (`stats.json` in the release) with the same SPARQL anyone
can send, and read from there by VoID, the catalog, the home page, the release list and /health: one count
everywhere, by construction.

- triples: *distinct* triples of the default graph, the RDF merge of the named graphs (`SELECT DISTINCT
  ?s ?p ?o`); quads: statements over all named graphs (the sum of the graphs' sizes, what the store holds).
- entity: an IRI under `{base}id/` that has an rdf:type, except memberships (`id/membership/`, the link
  between a person's post and a body) and sources (`id/source/`, the documents the data transcribes).
  `kinds` counts entities by the first path segment after `id/`, so the kinds add up to `entities`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .store import DataStore
from .vocab import RDF

STATS_FILE = "stats.json"
#: Path segments under `{base}id/` whose things are not entities (see the module's docstring).
NOT_ENTITIES = ("membership", "source")

ENTITY = (
    '?s a ?type FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{space}")) '
    'BIND(STRBEFORE(STRAFTER(STR(?s), "{space}"), "/") AS ?kind) FILTER(?kind != "" && ?kind NOT IN ({excluded}))'
)
SUBJECTS = "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }"
OBJECTS = "SELECT (COUNT(DISTINCT ?o) AS ?n) { ?s ?p ?o }"
CLASSES = "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) { ?s a ?c } GROUP BY ?c"
PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } } GROUP BY ?p"
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
KINDS = "SELECT ?kind (COUNT(DISTINCT ?s) AS ?n) {{ " + ENTITY + " }} GROUP BY ?kind"


@dataclass
class Stats:
    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    classes: dict[str, int] = field(default_factory=dict)  # class IRI → instances
    properties: dict[str, int] = field(default_factory=dict)  # property IRI → distinct triples
    graphs: dict[str, int] = field(default_factory=dict)  # graph IRI → triples
    kinds: dict[str, int] = field(default_factory=dict)  # `id/{kind}/` → entities
    quads: int = 0  # statements over all named graphs

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @property
    def vocabularies(self) -> list[str]:
        """Namespaces of the classes and properties used."""
        return sorted({_namespace(i) for i in (*self.classes, *self.properties)})


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def read(release: Path) -> Stats | None:
    """The counts written into `release` when it was built; None for a release without them (or older ones)."""
    try:
        raw: dict[str, Any] = json.loads((release / STATS_FILE).read_text())
        return Stats(**{k: raw[k] for k in Stats.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def compute(data: DataStore, base: str) -> Stats:
    """Run the counting queries over `data`; `base` + `id/` is the URI space of things."""
    space = base + "id/"
    excluded = ", ".join(f'"{kind}"' for kind in NOT_ENTITIES)

    def one(query: str) -> int:
        return int(data.select(query)[0]["n"].value)

    def grouped(query: str, key: str) -> dict[str, int]:
        return {row[key].value: int(row["n"].value) for row in data.select(query) if key in row}

    properties = grouped(PROPERTIES, "p")
    graphs = grouped(GRAPHS, "g")
    kinds = grouped(KINDS.format(space=space, excluded=excluded), "kind")
    # the totals are the groups' sums (a distinct triple has one predicate, a quad one graph, an entity one
    # kind): each grouped query walks what its total's own query would walk again
    return Stats(
        triples=sum(properties.values()),
        entities=sum(kinds.values()),
        distinct_subjects=one(SUBJECTS),
        distinct_objects=one(OBJECTS),
        classes=grouped(CLASSES, "c"),
        properties=properties,
        graphs=graphs,
        kinds=kinds,
        quads=sum(graphs.values()),
    )


RDF_TYPE = RDF + "type"


def update(before: Stats, old: ox.Store, new: ox.Store, changed: Iterable[ox.Quad], base: str) -> Stats:
    """`compute` on `new` when `before` is `compute` on `old` and `changed` holds every statement in one store
    but not the other: only what those statements touch is looked up, each in both stores. The statements
    are first put into a store of their own, so they are compared as the stores hold them (a store keeps
    one canonical form of a literal: "01"^^xsd:integer is "1"^^xsd:integer)."""
    space = base + "id/"
    normalized = ox.Store()
    normalized.extend(changed)
    after = Stats(**asdict(before))  # asdict copies the dicts too

    def move(counts: dict[str, int], key: str, by: int) -> None:
        counts[key] = counts.get(key, 0) + by
        if not counts[key]:
            del counts[key]

    def present(store: ox.Store, s: Any = None, p: Any = None, o: Any = None) -> bool:
        return next(iter(store.quads_for_pattern(s, p, o, None)), None) is not None

    for quad in normalized:
        if by := (quad in new) - (quad in old):
            assert isinstance(quad.graph_name, ox.NamedNode), "a release states everything in named graphs"
            move(after.graphs, quad.graph_name.value, by)
            after.quads += by
    subjects, objects, typed = set(), set(), set()
    for triple in {ox.Triple(q.subject, q.predicate, q.object) for q in normalized}:
        if by := present(new, *triple) - present(old, *triple):
            after.triples += by
            move(after.properties, triple.predicate.value, by)
            subjects.add(triple.subject)
            objects.add(triple.object)
            if triple.predicate.value == RDF_TYPE:
                assert not isinstance(triple.object, ox.Triple), "a release states no triple terms"
                move(after.classes, triple.object.value, by)
                typed.add(triple.subject)
    after.distinct_subjects += sum(present(new, s) - present(old, s) for s in subjects)
    after.distinct_objects += sum(present(new, o=o) - present(old, o=o) for o in objects)
    a = ox.NamedNode(RDF_TYPE)
    for thing in typed:
        rest = thing.value[len(space) :] if isinstance(thing, ox.NamedNode) and thing.value.startswith(space) else ""
        kind = rest.partition("/")[0] if "/" in rest else ""
        if kind and kind not in NOT_ENTITIES and (by := present(new, thing, a) - present(old, thing, a)):
            after.entities += by
            move(after.kinds, kind, by)
    return after
