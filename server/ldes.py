"""The release history as a Linked Data Event Stream (SEMIC LDES 1.0 on W3C-community TREE).

Model (one owner: `scripts/ldes_build.py` writes what this module reads and serves):

* the stream `{base}ldes` is an `ldes:EventStream` whose members are *version objects*: one per entity
  (IRI subject) that a release added, changed or removed. A version `<v>` carries the entity's statements
  with the entity replaced by `<v>` (its blank-node closure kept), `dct:isVersionOf` the entity
  (`ldes:versionOfPath`) and `prov:generatedAtTime` the release time (`ldes:timestampPath`). A removed
  entity gets a version typed `as:Tombstone`, declared as `ldes:versionDeleteObject` on the path `rdf:type`.
* fragments: each release's versions, sorted by entity IRI, in pages of `PAGE_SIZE`, named
  `{base}ldes/{release id}/{n}`. A page is written once with its release and never changes, so every page is
  served `immutable`; the one document that changes is the root node `{base}ldes/view` (also served at
  `/ldes`), which links every page with a `tree:GreaterThanOrEqualToRelation` on the timestamp, oldest first.
* retention: every version is kept (no `ldes:retentionPolicy`, which the spec reads as "all members remain
  available") unless `PARITA_LDES_RETENTION_DAYS` is set; then pages of releases older than that are
  dropped at the next build and the view declares an `ldes:DurationAgoPolicy` of that many days.

Files in a release folder: `ldes/index.json` (the pages, oldest first), `ldes/pages/{release}/{n}.nt` (the
versions, sorted N-Triples; pages of earlier releases hard-linked from the previous release) and
`ldes/entities.json` (a digest of every entity's statements, what the next build compares against).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .vocab import DCT, PROV, RDF, XSD

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
ACTIVITY_STREAMS = "https://www.w3.org/ns/activitystreams#"
TOMBSTONE = ACTIVITY_STREAMS + "Tombstone"
VERSION_OF = DCT + "isVersionOf"
TIMESTAMP = PROV + "generatedAtTime"
PAGE_SIZE = 500
STREAM_DIR = "ldes"
INDEX_FILE = "index.json"
ENTITIES_FILE = "entities.json"
PAGES_DIR = "pages"
#: Prefixes of the served JSON-LD context (`/ldes/context.jsonld`) and of the Turtle pages.
CONTEXT_PREFIXES = {
    "ldes": LDES,
    "tree": TREE,
    "as": ACTIVITY_STREAMS,
    "dct": DCT,
    "prov": PROV,
    "rdf": RDF,
    "xsd": XSD,
}


def stream_iri(base: str) -> str:
    return base + "ldes"


def view_iri(base: str) -> str:
    return base + "ldes/view"


def page_iri(base: str, page_id: str) -> str:
    return f"{base}ldes/{page_id}"


def context_iri(base: str) -> str:
    return base + "ldes/context.jsonld"


@dataclass(frozen=True)
class Page:
    """One fragment: `id` is `{release id}/{n}`; `time` the release time its versions carry."""

    id: str
    time: str
    members: int
    sha256: str

    @property
    def file(self) -> str:
        return f"{PAGES_DIR}/{self.id}.nt"


@dataclass(frozen=True)
class StreamIndex:
    pages: tuple[Page, ...]
    retention_days: int

    def to_json(self) -> dict[str, Any]:
        return {"pages": [p.__dict__ for p in self.pages], "retention_days": self.retention_days}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StreamIndex:
        return cls(tuple(Page(**p) for p in data["pages"]), int(data.get("retention_days", 0)))

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()


def read_index(release: Path) -> StreamIndex | None:
    """The stream a release carries, or None for a release built before parita had one."""
    try:
        return StreamIndex.from_json(json.loads((release / STREAM_DIR / INDEX_FILE).read_text()))
    except FileNotFoundError:
        return None


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def view_triples(base: str, index: StreamIndex) -> list[ox.Triple]:
    """The root node: the stream's description, the retention policy, and one relation per page."""
    stream, view = _iri(stream_iri(base)), _iri(view_iri(base))
    a = _iri(RDF + "type")
    out = [
        ox.Triple(stream, a, _iri(LDES + "EventStream")),
        ox.Triple(stream, _iri(LDES + "timestampPath"), _iri(TIMESTAMP)),
        ox.Triple(stream, _iri(LDES + "versionOfPath"), _iri(VERSION_OF)),
        ox.Triple(stream, _iri(LDES + "versionDeletePath"), a),
        ox.Triple(stream, _iri(LDES + "versionDeleteObject"), _iri(TOMBSTONE)),
        ox.Triple(stream, _iri(TREE + "view"), view),
        ox.Triple(view, a, _iri(TREE + "Node")),
    ]
    if index.retention_days:
        policy = ox.BlankNode("retention")
        days = ox.Literal(f"P{index.retention_days}D", datatype=_iri(XSD + "duration"))
        out += [
            ox.Triple(view, _iri(LDES + "retentionPolicy"), policy),
            ox.Triple(policy, a, _iri(LDES + "DurationAgoPolicy")),
            ox.Triple(policy, _iri(TREE + "value"), days),
            ox.Triple(policy, _iri(LDES + "fullLogDuration"), days),
        ]
    for number, page in enumerate(index.pages):
        relation = ox.BlankNode(f"r{number}")
        out += [
            ox.Triple(view, _iri(TREE + "relation"), relation),
            ox.Triple(relation, a, _iri(TREE + "GreaterThanOrEqualToRelation")),
            ox.Triple(relation, _iri(TREE + "node"), _iri(page_iri(base, page.id))),
            ox.Triple(relation, _iri(TREE + "path"), _iri(TIMESTAMP)),
            ox.Triple(relation, _iri(TREE + "value"), ox.Literal(page.time, datatype=_iri(XSD + "dateTime"))),
        ]
    return out


def page_triples(base: str, release: Path, page: Page) -> list[ox.Triple]:
    """One page: the versions it holds, each a `tree:member` of the stream."""
    data = (release / STREAM_DIR / page.file).read_bytes()
    versions = list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
    stream, member = _iri(stream_iri(base)), _iri(TREE + "member")
    node = _iri(page_iri(base, page.id))
    out = [ox.Triple(node, _iri(RDF + "type"), _iri(TREE + "Node"))]
    out += [ox.Triple(stream, member, t.subject) for t in versions if t.predicate.value == VERSION_OF]
    return out + versions


def page_ntriples(base: str, release: Path, page: Page) -> bytes:
    """`page_triples` as N-Triples, without parsing: the page's file is N-Triples already (one statement a
    line), and each `tree:member` is read off a `dct:isVersionOf` line, whose first term is the version."""
    data = (release / STREAM_DIR / page.file).read_bytes()
    version_of = f"<{VERSION_OF}>".encode()
    head = [f"<{page_iri(base, page.id)}> <{RDF}type> <{TREE}Node> .".encode()]
    member = f"<{stream_iri(base)}> <{TREE}member> ".encode()
    for line in data.splitlines():
        subject, predicate, rest = (line.split(b" ", 2) + [b"", b""])[:3]
        if predicate == version_of and rest:
            head.append(member + subject + b" .")
    return b"\n".join(head) + b"\n" + data


def jsonld_context() -> dict[str, Any]:
    return {"@context": dict(CONTEXT_PREFIXES)}


def compact_jsonld(expanded: bytes, context_url: str) -> bytes:
    """pyoxigraph's expanded JSON-LD with property names shortened to the served context's prefixes
    (`tree:member`) and that context referenced by URL: the same statements, readable, no remote context."""
    nodes = json.loads(expanded)

    def short(key: str) -> str:
        for prefix, namespace in CONTEXT_PREFIXES.items():
            if key.startswith(namespace) and key != namespace:
                return f"{prefix}:{key[len(namespace) :]}"
        return key

    graph = [{(k if k.startswith("@") else short(k)): v for k, v in node.items()} for node in nodes]
    return json.dumps({"@context": context_url, "@graph": graph}, ensure_ascii=False, indent=1).encode()
