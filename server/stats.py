"""Counts over the served data, computed once per release with the same SPARQL anyone can send.

The default graph is the RDF merge of the named graphs, so whole-dataset counts are of *distinct*
triples (`SELECT DISTINCT ?s ?p ?o`), not the sum of the graphs' sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .store import DataStore

TRIPLES = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"
ENTITIES = 'SELECT (COUNT(DISTINCT ?s) AS ?n) {{ ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{space}")) }}'
SUBJECTS = "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }"
OBJECTS = "SELECT (COUNT(DISTINCT ?o) AS ?n) { ?s ?p ?o }"
CLASSES = "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) { ?s a ?c } GROUP BY ?c"
PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } } GROUP BY ?p"
GRAPHS = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
KINDS = (
    'SELECT ?kind (COUNT(DISTINCT ?s) AS ?n) {{ ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{space}")) '
    'BIND(STRBEFORE(STRAFTER(STR(?s), "{space}"), "/") AS ?kind) FILTER(?kind != "") }} GROUP BY ?kind'
)


@dataclass
class Stats:
    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    classes: dict[str, int] = field(default_factory=dict)  # class IRI → instances
    properties: dict[str, int] = field(default_factory=dict)  # property IRI → distinct triples
    graphs: dict[str, int] = field(default_factory=dict)  # graph IRI → triples
    kinds: dict[str, int] = field(default_factory=dict)  # `id/{kind}/` → things

    @property
    def vocabularies(self) -> list[str]:
        """Namespaces of the classes and properties used."""
        return sorted({_namespace(i) for i in (*self.classes, *self.properties)})


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def compute(data: DataStore, base: str) -> Stats:
    """Run the counting queries over `data`; `base` + `id/` is the URI space of things."""
    space = base + "id/"

    def one(query: str) -> int:
        return int(data.select(query)[0]["n"].value)

    def grouped(query: str, key: str) -> dict[str, int]:
        return {row[key].value: int(row["n"].value) for row in data.select(query) if key in row}

    return Stats(
        triples=one(TRIPLES),
        entities=one(ENTITIES.format(space=space)),
        distinct_subjects=one(SUBJECTS),
        distinct_objects=one(OBJECTS),
        classes=grouped(CLASSES, "c"),
        properties=grouped(PROPERTIES, "p"),
        graphs=grouped(GRAPHS, "g"),
        kinds=grouped(KINDS.format(space=space), "kind"),
    )
