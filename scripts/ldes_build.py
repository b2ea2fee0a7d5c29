"""Write a release's Linked Data Event Stream (the model is described in `server/ldes.py`).

Versions carry what the sources assert: the graphs a rule makes (`derived_graphs()` in scripts/derive.py:
`graph/entailed`, `graph/derived`, `graph/reconciled`) are left out, as a consumer derives them by the same
documented rules. The stream is derived from the releases only: a build compares every entity's statements with the digests
the previous release recorded, writes one version per entity added, changed or removed, and carries the
previous release's pages over unchanged (hard links). The same data built twice therefore adds nothing, and
a restart or a rebuild of the server changes nothing. A previous release without a stream (built before
parita had one) counts as no previous release: the first stream holds a version of every entity.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyoxigraph as ox

from scripts.derive import derived_graphs
from server.ldes import (
    ENTITIES_FILE,
    INDEX_FILE,
    PAGE_SIZE,
    STREAM_DIR,
    TIMESTAMP,
    TOMBSTONE,
    VERSION_OF,
    Page,
    StreamIndex,
    page_iri,
    read_index,
)
from server.statements import AnyQuad
from server.vocab import RDF, XSD

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Graph = dict[Term, list[tuple[ox.NamedNode, Term]]]


def _by_subject(quads: Iterable[AnyQuad]) -> Graph:
    """The union of the named graphs, statement by statement, grouped by subject."""
    graph: Graph = defaultdict(list)
    for q in quads:
        graph[q.subject].append((q.predicate, q.object))
    for subject, pairs in graph.items():  # a statement in several graphs once (no set of every statement)
        if len(pairs) > 1:
            graph[subject] = list(dict.fromkeys(pairs))
    return graph


def _described(store: ox.Store, entities: Iterable[str], left_out: set[str]) -> Graph:
    """`_by_subject` of the statements about `entities` and the blank nodes they reach, looked up in `store`
    (graphs `left_out` aside)."""
    graph: Graph = {}
    todo: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(iri) for iri in entities]
    seen: set[ox.NamedNode | ox.BlankNode] = set(todo)
    while todo:
        node = todo.pop()
        found = {
            (q.predicate, q.object): None
            for q in store.quads_for_pattern(node, None, None, None)
            if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value not in left_out
        }
        if found:
            graph[node] = list(found)
        for _, obj in found:
            if isinstance(obj, ox.BlankNode) and obj not in seen:
                seen.add(obj)
                todo.append(obj)
    return graph


def _canonical(graph: Graph, node: Term, path: frozenset[str] = frozenset()) -> str:
    """A text that is equal for two nodes exactly when their statements (blank nodes followed, whatever
    their labels) are: what a version is compared by."""
    lines = []
    for predicate, obj in graph.get(node, []):
        if isinstance(obj, ox.BlankNode) and obj.value not in path:
            text = "[" + _canonical(graph, obj, path | {obj.value}) + "]"
        else:
            text = "_:cycle" if isinstance(obj, ox.BlankNode) else str(obj)
        lines.append(f"{predicate} {text}")
    return " ; ".join(sorted(lines))


def _closure(graph: Graph, entity: ox.NamedNode) -> list[ox.Triple]:
    """The entity's statements and those of the blank nodes they reach (its concise bounded description)."""
    out: list[ox.Triple] = []
    todo: list[ox.NamedNode | ox.BlankNode] = [entity]
    seen = {entity.value}
    while todo:
        node = todo.pop()
        for predicate, obj in graph.get(node, []):
            out.append(ox.Triple(node, predicate, obj))
            if isinstance(obj, ox.BlankNode) and obj.value not in seen:
                seen.add(obj.value)
                todo.append(obj)
    return out


def _version(
    entity: ox.NamedNode, statements: list[ox.Triple], version: ox.NamedNode, time: ox.Literal, key: str
) -> list[ox.Triple]:
    """The version object: the entity's statements about `version` instead, blank nodes renamed per version."""

    def rename(node: ox.BlankNode) -> ox.BlankNode:
        return ox.BlankNode(f"{key}{node.value}")

    out = [
        ox.Triple(version, ox.NamedNode(VERSION_OF), entity),
        ox.Triple(version, ox.NamedNode(TIMESTAMP), time),
    ]
    for t in statements:
        subject = (
            version if t.subject == entity else rename(t.subject) if isinstance(t.subject, ox.BlankNode) else t.subject
        )
        out.append(
            ox.Triple(subject, t.predicate, rename(t.object) if isinstance(t.object, ox.BlankNode) else t.object)
        )
    return out


def write_stream(
    work: Path,
    previous: Path | None,
    quads: Iterable[AnyQuad],
    created: str,
    base_uri: str,
    retention_days: int = 0,
    touched: set[str] | None = None,
    store: ox.Store | None = None,
) -> StreamIndex:
    """Write `work/ldes/`: the previous release's pages (those the retention keeps) and this release's.

    `touched`, when the build knows it, names every entity whose statements may differ from `previous`'s
    (the IRI subjects of the changed graphs' old and new statements): only those are digested again, every
    other entity keeps the digest the previous release recorded. Blank nodes are scoped to one source file,
    so an entity's description reaches only blank nodes of graphs it is itself stated in. With `store` (the
    release's, holding every statement as `quads` writes it), the touched entities' descriptions are looked up
    in it and `quads` is not read."""
    folder = work / STREAM_DIR
    (folder / "pages").mkdir(parents=True)
    earlier = read_index(previous) if previous is not None else None
    try:
        known: dict[str, str] = (
            json.loads((previous / STREAM_DIR / ENTITIES_FILE).read_text()) if previous and earlier else {}
        )
    except FileNotFoundError:
        known = {}
    derived = set(derived_graphs(base_uri))  # re-derived by whoever reads the stream: not a source's claims
    stated = (q for q in quads if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in derived))
    if touched is not None and known and store is not None:
        graph = _described(store, touched, derived)
        entities = sorted((s for s in graph if isinstance(s, ox.NamedNode)), key=lambda n: n.value)
        digests = {k: v for k, v in known.items() if k not in touched}
    elif touched is not None and known:
        graph = _by_subject(q for q in stated if not isinstance(q.subject, ox.NamedNode) or q.subject.value in touched)
        entities = sorted((s for s in graph if isinstance(s, ox.NamedNode)), key=lambda n: n.value)
        digests = {k: v for k, v in known.items() if k not in touched}
    else:
        graph = _by_subject(stated)
        entities = sorted((s for s in graph if isinstance(s, ox.NamedNode)), key=lambda n: n.value)
        digests = {}
    fresh = {e.value: hashlib.sha256(_canonical(graph, e).encode()).hexdigest()[:32] for e in entities}
    digests.update(fresh)
    changed = [iri for iri, digest in fresh.items() if known.get(iri) != digest]
    removed = sorted(set(known) - set(digests))
    release_id = work.name.removeprefix(".tmp-")
    time = ox.Literal(created, datatype=ox.NamedNode(XSD + "dateTime"))
    pages: list[Page] = []
    if earlier is not None:
        cutoff = (datetime.now(UTC) - timedelta(days=retention_days)).isoformat() if retention_days else ""
        for page in earlier.pages:
            if page.time >= cutoff:
                _carry(previous / STREAM_DIR / page.file, folder / page.file)  # type: ignore[operator]
                pages.append(page)
    versioned = sorted(changed + removed)
    by_iri = {e.value: e for e in entities}
    for number, start in enumerate(range(0, len(versioned), PAGE_SIZE)):
        page_id = f"{release_id}/{number}"
        triples: list[ox.Triple] = []
        for iri in versioned[start : start + PAGE_SIZE]:
            key = hashlib.sha256(iri.encode()).hexdigest()[:16]
            version = ox.NamedNode(f"{page_iri(base_uri, page_id)}#{key}")
            if iri in by_iri:
                triples += _version(by_iri[iri], _closure(graph, by_iri[iri]), version, time, "v" + key)
            else:
                triples += _version(ox.NamedNode(iri), [], version, time, "v" + key)
                triples.append(ox.Triple(version, ox.NamedNode(RDF + "type"), ox.NamedNode(TOMBSTONE)))
        text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        # split on line feeds only: a literal may hold U+2028 or U+0085, which N-Triples writes as they are
        data = b"".join(line + b"\n" for line in sorted(set(text.split(b"\n")) - {b""}))
        page = Page(page_id, created, len(versioned[start : start + PAGE_SIZE]), hashlib.sha256(data).hexdigest())
        (folder / page.file).parent.mkdir(parents=True, exist_ok=True)
        (folder / page.file).write_bytes(data)
        pages.append(page)
    index = StreamIndex(tuple(pages), retention_days)
    (folder / INDEX_FILE).write_text(json.dumps(index.to_json(), indent=1))
    (folder / ENTITIES_FILE).write_text(json.dumps(digests, sort_keys=True))
    return index


def _carry(source: Path, target: Path) -> None:
    """An earlier page into the new release: a hard link (it never changes), a copy where links fail."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
