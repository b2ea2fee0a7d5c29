"""Reconciliation: is a submitted body one already published? Reuse its URI, or ask a person.

Certain (the URI is reused): same IPA code; else same territory and legal status (the ISTAT
identity of a comune or province); else same normalised label, kind and territory. Uncertain
(listed by `parita reconcile` for a person to confirm, then recorded as owl:sameAs): same label
where one side has no territory, or labels at least 85% alike. Decisions are kept per publisher in
`build/reconciliation/<publisher>.json`, outside any release, and applied on every ingest.

A harvested body keeps its publisher's IRI, so a certain match (and a confirmed one, of ingest or harvest)
becomes an owl:sameAs. It is derived, not stated by the publisher: every publisher's owl:sameAs are the
derived graph `graph/reconciled` (ontology/README.md, "Derived graphs"), rebuilt from all the decisions
whenever one publisher's change, and published with that publisher's graph in the same release.
"""

from __future__ import annotations

import json
import re
import typing
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from scripts.derive import RECONCILED, derived_graphs, graph_name, self_description
from scripts.sources import RECONCILED_KEY, contributions_dir, rebase_iri, unrebase_iri
from server import terms
from server.config import DEFAULT_BASE_URI, Settings

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2
BODY_KINDS = ("organization", "post", "network")
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
IPA = "https://w3id.org/italia/onto/COV/IPAcode"
LEGAL_STATUS = "https://w3id.org/italia/onto/COV/hasLegalStatus"
SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
PROV_DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"
RECONCILED_RULES = (
    "owl:sameAs calcolati dalle regole di riconciliazione (scripts/reconcile.py; ontology/README.md, «Grafi "
    "derivati»): tra un ente di un editore (graph/publisher/ID) e uno già pubblicato, quando hanno lo stesso "
    "codice IPA, o lo stesso territorio ISTAT e forma giuridica, o la stessa etichetta, tipo e territorio; "
    "oppure quando una persona ha confermato la corrispondenza (parita reconcile). prov:wasDerivedFrom nomina "
    "i grafi confrontati.",
    'owl:sameAs computed by the reconcile rules (scripts/reconcile.py; ontology/README.md, "Derived graphs"): '
    "between a publisher's body (graph/publisher/ID) and a published one, when they have the same IPA code, or "
    "the same ISTAT territory and legal status, or the same label, kind and territory; or when a person "
    "confirmed the match (parita reconcile). prov:wasDerivedFrom names the graphs compared.",
)
SIMILAR = 0.85


@dataclass
class Entity:
    iri: str
    kind: str
    label: str | None = None
    labels: set[str] = field(default_factory=set)
    ipa: str | None = None
    territory: str | None = None
    legal_status: str | None = None


@dataclass(frozen=True)
class Match:
    """A submitted entity and a published one; `certain` ones are merged, the others wait for a person."""

    submitted: str
    existing: str
    label: str | None
    existing_label: str | None
    reason: str
    certain: bool
    score: float = 1.0


def normalise(label: str) -> str:
    """ASCII-folded, lower-case words: "Comitato Unico di Garanzia – CUG" -> "comitato unico di garanzia cug"."""
    folded = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return " ".join(re.findall(r"[a-z0-9]+", folded.lower()))


def kind_of(iri: str) -> str | None:
    prefix = DEFAULT_BASE_URI + "id/"
    if not iri.startswith(prefix):
        return None
    return iri[len(prefix) :].split("/", 1)[0]


def entities(quads: list[ox.Quad], only: set[str] | None = None) -> dict[str, Entity]:
    """The bodies (organizations, posts, networks) the statements describe, with what identifies them."""
    found: dict[str, Entity] = {}
    for q in quads:
        if not isinstance(q.subject, ox.NamedNode):
            continue
        s = q.subject.value
        kind = kind_of(s)
        if kind not in BODY_KINDS or (only is not None and s not in only):
            continue
        e = found.setdefault(s, Entity(s, kind))
        p, o = q.predicate.value, q.object
        if isinstance(o, ox.Triple):  # RDF 1.2 triple terms are refused when a file is read
            continue
        if p == RDFS_LABEL and isinstance(o, ox.Literal):
            e.labels.add(normalise(o.value))
            if e.label is None or o.language == "it":
                e.label = o.value
        elif p == IPA:
            e.ipa = o.value
        elif p == terms.territory:
            e.territory = o.value
        elif p == LEGAL_STATUS:
            e.legal_status = o.value
    return found


def match(submitted: Entity, published: dict[str, Entity]) -> list[Match]:
    """Certain matches first (at most one is used), then uncertain candidates, best first."""
    certain, maybe = [], []
    for e in published.values():
        if e.kind != submitted.kind:
            continue
        reason = _certain_reason(submitted, e)
        if reason:
            certain.append(Match(submitted.iri, e.iri, submitted.label, e.label, reason, True))
            continue
        score = max((SequenceMatcher(None, a, b).ratio() for a in submitted.labels for b in e.labels), default=0.0)
        if score >= SIMILAR:
            why = (
                "stessa etichetta, territorio diverso o assente / same label, different or missing territory"
                if score == 1.0
                else f"etichette simili al {score:.0%} / labels {score:.0%} alike"
            )
            maybe.append(Match(submitted.iri, e.iri, submitted.label, e.label, why, False, round(score, 3)))
    return certain[:1] or sorted(maybe, key=lambda m: -m.score)


def _certain_reason(a: Entity, b: Entity) -> str | None:
    if a.ipa and a.ipa == b.ipa:
        return f"stesso codice IPA / same IPA code ({a.ipa})"
    if a.territory and a.legal_status and (a.territory, a.legal_status) == (b.territory, b.legal_status):
        return "stesso territorio ISTAT e forma giuridica / same ISTAT territory and legal status"
    if a.labels & b.labels and a.territory == b.territory and a.territory is not None:
        return "stessa etichetta, tipo e territorio / same label, kind and territory"
    if a.labels & b.labels and a.territory is None and b.territory is None and a.kind == "organization":
        return "stessa etichetta e tipo, nessun territorio / same label and kind, no territory"
    return None


def duplicates(submitted: dict[str, Entity]) -> list[tuple[Entity, Entity]]:
    """Pairs of submitted bodies that describe the same thing (same label, kind and territory)."""
    seen: dict[tuple[str, str, str | None], Entity] = {}
    pairs = []
    for e in submitted.values():
        for label in sorted(e.labels):
            key = (e.kind, label, e.territory)
            if key in seen and seen[key].iri != e.iri:
                pairs.append((seen[key], e))
                break
            seen.setdefault(key, e)
    return pairs


# --- Decisions: kept per publisher outside the releases ------------------------------------------


def decisions_path(settings: Settings, publisher: str) -> Path:
    return settings.build_dir / "reconciliation" / f"{publisher}.json"


def load_decisions(settings: Settings, publisher: str) -> dict[str, Any]:
    path = decisions_path(settings, publisher)
    data = json.loads(path.read_text()) if path.exists() else {}
    return {
        "candidates": data.get("candidates", []),
        "certain": data.get("certain", []),  # the rules' certain matches at the last harvest
        "confirmed": data.get("confirmed", []),
        "rejected": data.get("rejected", []),
    }


def save_decisions(settings: Settings, publisher: str, decisions: dict[str, Any]) -> None:
    path = decisions_path(settings, publisher)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(decisions, indent=2, ensure_ascii=False, sort_keys=True))
    tmp.replace(path)


def pending(decisions: dict[str, Any]) -> list[dict[str, Any]]:
    decided = {tuple(p) for p in decisions["confirmed"] + decisions["rejected"]}
    return [c for c in decisions["candidates"] if (c["submitted"], c["existing"]) not in decided]


def linked(decisions: dict[str, Any]) -> list[tuple[str, str]]:
    """The pairs a publisher's decisions publish as owl:sameAs: certain or confirmed, never rejected."""
    rejected = {tuple(p) for p in decisions["rejected"]}
    return sorted({(a, b) for a, b in decisions["certain"] + decisions["confirmed"] if (a, b) not in rejected})


def reconciled_graph(settings: Settings, changed: dict[str, dict[str, Any]]) -> list[ox.Quad] | None:
    """The quads of `graph/reconciled` (written against the default base) from every publisher's decisions,
    `changed` in place of the saved ones: the owl:sameAs, and the graph's description of itself (a
    parita:DerivedGraph, its rule, and prov:wasDerivedFrom each publisher's graph and the graphs that describe
    the bodies matched, in the current release). None when there is nothing to publish and nothing was."""
    folder = settings.build_dir / "reconciliation"
    saved = {p.stem: load_decisions(settings, p.stem) for p in sorted(folder.glob("*.json"))} if folder.exists() else {}
    pairs = {publisher: linked(d) for publisher, d in {**saved, **changed}.items()}
    if not any(pairs.values()):
        return [] if (contributions_dir(settings) / f"{RECONCILED_KEY}.nq").exists() else None

    def default(iri: str) -> str:  # this instance's IRIs as the files write them (rebased on output)
        return unrebase_iri(iri, settings.base_uri)

    graph = ox.NamedNode(graph_name(RECONCILED))
    quads = self_description(graph.value, RECONCILED_RULES)
    compared = {graph_name(f"publisher/{p}") for p, found in pairs.items() if found}
    described = _graphs_describing(settings, {b for found in pairs.values() for _, b in found})
    for found in pairs.values():
        for a, b in found:
            quads.append(ox.Quad(ox.NamedNode(default(a)), ox.NamedNode(SAME_AS), ox.NamedNode(default(b)), graph))
            compared |= {default(g) for g in described.get(b, ())}
    quads += [ox.Quad(graph, ox.NamedNode(PROV_DERIVED_FROM), ox.NamedNode(g), graph) for g in sorted(compared)]
    return quads


def current_store(settings: Settings) -> ox.Store | None:
    """The current release's store, opened read-only (the server may hold it too), or None before the first."""
    current = settings.current_release
    return ox.Store.read_only(str(current.resolve() / "store")) if current.exists() else None


def identifying_statements(store: ox.Store, ignored: set[str], base_uri: str, bases: tuple[str, ...]) -> list[ox.Quad]:
    """The statements the rules read (labels, IPA codes, territories, legal statuses) about bodies named under
    `bases`, in the store's named graphs but `ignored`: asked graph by graph with the predicates and the IRI
    prefixes given, so the cost follows the bodies compared, not the release."""
    read = (RDFS_LABEL, IPA, rebase_iri(terms.territory, base_uri), LEGAL_STATUS)
    prefixes = sorted({f"{b}id/{kind}/" for b in (*bases, DEFAULT_BASE_URI) for kind in BODY_KINDS})
    subject = " || ".join(f"STRSTARTS(STR(?s), {json.dumps(p)})" for p in prefixes)
    query = f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {' '.join(f'<{p}>' for p in read)} }} ?s ?p ?o FILTER({subject}) }}"
    graphs = sorted((g for g in store.named_graphs() if isinstance(g, ox.NamedNode)), key=lambda g: g.value)
    found = []
    for graph in graphs:
        if graph.value not in ignored:
            for row in typing.cast(ox.QuerySolutions, store.query(query, default_graph=graph)):
                found.append(ox.Quad(row["s"], row["p"], row["o"], graph))
    return found


def _graphs_describing(settings: Settings, iris: set[str]) -> dict[str, set[str]]:
    """The graphs of the current release in which each of `iris` is a subject (derived graphs left out): one
    store lookup per IRI."""
    store = current_store(settings)
    if store is None:
        return {}
    derived = set(derived_graphs(settings.base_uri)) | set(derived_graphs())
    found: dict[str, set[str]] = defaultdict(set)
    try:
        for iri in sorted(iris):
            for q in store.quads_for_pattern(ox.NamedNode(iri), None, None, None):
                if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value not in derived:
                    found[iri].add(q.graph_name.value)
    finally:
        del store
    return found


def as_dict(m: Match) -> dict[str, Any]:
    return asdict(m)
