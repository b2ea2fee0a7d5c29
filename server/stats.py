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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .store import DataStore

STATS_FILE = "stats.json"
#: Path segments under `{base}id/` whose things are not entities (see the module's docstring).
NOT_ENTITIES = ("membership", "source")

TRIPLES = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"
ENTITY = (
    '?s a ?type FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{space}")) '
    'BIND(STRBEFORE(STRAFTER(STR(?s), "{space}"), "/") AS ?kind) FILTER(?kind != "" && ?kind NOT IN ({excluded}))'
)
ENTITIES = "SELECT (COUNT(DISTINCT ?s) AS ?n) {{ " + ENTITY + " }}"
SUBJECTS = "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }"
OBJECTS = "SELECT (COUNT(DISTINCT ?o) AS ?n) { ?s ?p ?o }"
CLASSES = "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) { ?s a ?c } GROUP BY ?c"
PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } } GROUP BY ?p"
QUADS = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
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

    return Stats(
        triples=one(TRIPLES),
        entities=one(ENTITIES.format(space=space, excluded=excluded)),
        distinct_subjects=one(SUBJECTS),
        distinct_objects=one(OBJECTS),
        classes=grouped(CLASSES, "c"),
        properties=grouped(PROPERTIES, "p"),
        graphs=grouped(GRAPHS, "g"),
        kinds=grouped(KINDS.format(space=space, excluded=excluded), "kind"),
        quads=one(QUADS),
    )
