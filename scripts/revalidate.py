"""Validation reuse keyed by content: after a change to some source graphs, re-check (scripts/validate.py) only
the nodes whose results the change can reach, and keep the previous findings about every other node.

The cache, `build/validation/`, holds what the last successful validation saw: `state.json` (a digest per
data graph, one of shapes + ontology + engine + pySHACL version + CACHE_FORMAT, and the findings) and
`graphs/<digest>.nq`, the validated statements of each graph (blank nodes named as `read_sources` names
them, before any rebase), so the previous version of a changed graph is known.

Why re-checking a focus set F is enough. A node's results are a function of the triples its shapes read.
`audit` walks the shapes and sends to a full validation any shape that reads further than:
  1. the node's own outgoing triples (targets by class, subject-of or SPARQL `?this a ?c`; predicate and
     alternative paths, sh:or/sh:not around them);
  2. the outgoing triples of its values, one hop: rdf:type for sh:class, the paths of sh:node shapes such
     as `skos:inScheme` (these predicates are `Reach.value_reads`);
  3. incoming triples: the predicates of inverse paths (`^org:organization`), and every incoming triple of
     an instance of a class targeted by a shape with a SPARQL constraint on `?x ?p $this` (secret facilities);
  4. chains `(org:unitOf|org:subOrganizationOf|org:postIn)* / parita:territory` from the node;
  5. rdfs:subClassOf triples anywhere (class closure): a change to one forces a full validation.
With D the triples the union of the data gained or lost, F = the subjects of D; the objects of D triples
whose predicate is read inversely (3) or that are instances of a class of (3); and, for a D triple whose
predicate is in `value_reads`, every node linking to its subject (2) or reaching it through a chain (4).
The context graph gives each node of F all of 1-4 (plus blank-node closures), so pySHACL says the same
about F in the context as in the whole data; findings about nodes outside F cannot have changed.
No cache, other shapes/ontology/pySHACL, a graph added or removed, more than half the triples changed,
or an unreadable cache file: full validation.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pyshacl
import rdflib
import rdflib.collection
from rdflib.namespace import RDF, RDFS, SH

from scripts.rdfio import graph_of, graphs_by_subject
from scripts.validate import Finding, Report, shapes_graph, subset_report, validate_graph
from server.config import Settings

CACHE_FORMAT = 2  # bump when the focus rule changes: a cache written under another rule is not trusted
FAR = 9  # "hop" of values reached by an inverse or chain path: nothing beyond them is readable
TYPE, SUBCLASS = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(RDFS.subClassOf))
CONTEXT = ox.NamedNode("urn:parita:validation-context")
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.target)
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Triple = tuple[ox.NamedNode | ox.BlankNode | ox.Triple, ox.NamedNode, Term]  # (subject, predicate, object)


class Unsupported(Exception):
    """The shapes read further than the focus rule covers."""


@dataclass
class Reach:
    """What the shapes read around a focus node, beyond its own outgoing triples."""

    value_reads: set[str] = field(default_factory=lambda: {str(RDF.type)})
    chain: set[str] = field(default_factory=set)
    inverse: set[str] = field(default_factory=set)
    incoming_classes: set[str] = field(default_factory=set)


@dataclass
class Snapshot:
    """The data graphs of one build, their digests and the digest of what they are validated against."""

    schema: str
    graphs: dict[str, list[ox.Quad]]
    digests: dict[str, str]


def digest(quads: list[ox.Quad]) -> str:
    lines = sorted((ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").decode().splitlines())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def snapshot(quads: list[ox.Quad], meta: set[str], engine: str = "pyshacl") -> Snapshot:
    graphs: dict[str, list[ox.Quad]] = defaultdict(list)
    for q in quads:
        graphs[graph_of(q)].append(q)
    schema = [q for g in sorted(meta) for q in graphs.pop(g, [])]
    key = hashlib.sha256(f"{CACHE_FORMAT} {engine} {pyshacl.__version__} {digest(schema)}".encode()).hexdigest()
    return Snapshot(key, dict(graphs), {g: digest(qs) for g, qs in graphs.items()})


# --- what the shapes read ------------------------------------------------------------------------------


def audit(shapes: rdflib.Graph) -> Reach:
    """Walk every targeted shape, tracking how many hops from the focus node each nested shape applies."""
    for feature in (SH.rule, SH.targetObjectsOf, SH.js, SH.parameter):
        if (None, feature, None) in shapes:
            raise Unsupported(f"shapes use {feature.n3(shapes.namespace_manager)}")
    reach, seen = Reach(), set()

    def need(ok: bool, why: str) -> None:
        if not ok:
            raise Unsupported(why)

    def visit(shape: rdflib.term.Node, hop: int) -> None:
        if (shape, hop) in seen:
            return
        seen.add((shape, hop))
        path = shapes.value(shape, SH.path)
        values = hop if path is None else step(path, hop)
        if (shape, SH["class"], None) in shapes:
            need(values <= 1, "sh:class two hops away")
        for compared in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            for p in shapes.objects(shape, compared):
                need(hop <= 1, "comparison two hops away")
                if hop == 1:
                    reach.value_reads.add(str(p))
        need(hop == 0 or (shape, SH.closed, None) not in shapes, "sh:closed on a value")
        for nested in (
            *shapes.objects(shape, SH.node),
            *shapes.objects(shape, SH.qualifiedValueShape),
            *shapes.objects(shape, SH["not"]),
            *shapes.objects(shape, SH.property),
        ):
            visit(nested, values)
        for logic in (SH["or"], SH["and"], SH.xone):
            for members in shapes.objects(shape, logic):
                for member in rdflib.collection.Collection(shapes, members):
                    visit(member, values)
        for constraint in shapes.objects(shape, SH.sparql):
            need(hop == 0 and path is None, "SPARQL constraint away from the focus node")
            if sparql_direction(str(shapes.value(constraint, SH.select))) == "in":
                classes = set(shapes.objects(shape, SH.targetClass))
                need(
                    bool(classes) and all((shape, t, None) not in shapes for t in TARGETS[1:]),
                    "SPARQL constraint on incoming links of nodes not targeted by class",
                )
                reach.incoming_classes |= {str(c) for c in classes}

    def step(path: rdflib.term.Node, hop: int) -> int:
        """The hop of the values of `path` read from a node at `hop`, recording the predicates read."""
        need(hop <= 1, "a path read two hops from the focus node")
        if isinstance(path, rdflib.URIRef):
            if hop == 1:
                reach.value_reads.add(str(path))
            return hop + 1
        alternative, inverse = shapes.value(path, SH.alternativePath), shapes.value(path, SH.inversePath)
        if alternative is not None:
            return max(step(p, hop) for p in predicates(alternative))
        need(hop == 0, "an inverse or sequence path on a value")
        if isinstance(inverse, rdflib.URIRef):
            reach.inverse.add(str(inverse))
            return FAR
        items = list(rdflib.collection.Collection(shapes, path)) if (path, RDF.first, None) in shapes else []
        need(len(items) >= 2 and isinstance(items[-1], rdflib.URIRef), f"path {path} not supported")
        for item in items[:-1]:  # (p|q)* / ... / last: the chain is followed to any depth
            star = shapes.value(item, SH.zeroOrMorePath) or shapes.value(item, SH.oneOrMorePath)
            need(star is not None, "a sequence path with a fixed-length step")
            reach.chain |= {
                str(p)
                for p in (
                    [star] if isinstance(star, rdflib.URIRef) else predicates(shapes.value(star, SH.alternativePath))
                )
            }
        reach.value_reads |= reach.chain | {str(items[-1])}
        return FAR

    def predicates(items: rdflib.term.Node | None) -> list[rdflib.URIRef]:
        found = list(rdflib.collection.Collection(shapes, items)) if items is not None else []
        uris = [p for p in found if isinstance(p, rdflib.URIRef)]
        need(bool(found) and len(uris) == len(found), "an alternative of complex paths")
        return uris

    for target in shapes.objects(None, SH.target):
        query = shapes.value(target, SH.select)
        need(query is not None and sparql_direction(str(query)) == "out", "a target other than SPARQL on ?this a ?c")
    for shape in {s for t in TARGETS for s in shapes.subjects(t, None)}:
        visit(shape, 0)
    return reach


def sparql_direction(query: str) -> str:
    """'out' or 'in' for a query whose only pattern is one triple with $this as subject or object."""
    body = query[query.index("{") + 1 : query.rindex("}")]
    while (at := body.upper().find("FILTER")) >= 0:  # drop FILTER (...) with balanced parentheses
        depth, start = 0, body.index("(", at)
        end = start
        for end in range(start, len(body)):
            depth += {"(": 1, ")": -1}.get(body[end], 0)
            if depth == 0:
                break
        body = body[:at] + body[end + 1 :]
    words = body.replace(" .", " ").split()
    this = {"$this", "?this"}
    if len(words) == 3 and words[1] not in this and (words[0] in this) != (words[2] in this):
        return "out" if words[0] in this else "in"
    raise Unsupported("a SPARQL query with more than one pattern")


# --- the incremental validation -----------------------------------------------------------------------


def validate(
    snap: Snapshot,
    ontology: list[ox.Quad],
    settings: Settings,
    folder: Path,
    full: Callable[[], Report],
    say: Callable[[str], None],
    force_full: bool = False,
) -> Report:
    """Findings equal to `full()`'s, computed on the nodes the change since the cached validation reaches."""
    names = f"{len(snap.graphs)} graph(s)"
    try:
        reason, previous, old = "asked", None, dict[str, list[ox.Quad]]()
        if not force_full:
            reason, previous, old = _load(folder, snap)
        if previous is not None:
            changed = sorted(g for g in snap.graphs if snap.digests[g] != previous["graphs"][g])
            report, focus = _incremental(snap, old, ontology, previous, changed, settings)
            say(
                f"re-validating {len(changed)} changed graph(s) of {len(snap.graphs)} incrementally ({focus} focus nodes)"
            )
            return report
    except Unsupported as why:
        reason = str(why)
    except (KeyError, TypeError, AttributeError, ValueError):  # a state.json of another shape: not trusted
        reason = "the validation cache is unreadable"
    say(f"full validation of {names} ({reason})")
    return full()


def _load(folder: Path, snap: Snapshot) -> tuple[str, dict[str, Any] | None, dict[str, list[ox.Quad]]]:
    try:
        state = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return "no validation cache", None, {}
    if state.get("schema") != snap.schema:
        return "shapes, ontology or pySHACL changed", None, {}
    if set(state.get("graphs", {})) != set(snap.graphs):
        return "a graph was added or removed", None, {}
    old: dict[str, list[ox.Quad]] = {}
    for graph, known in state["graphs"].items():
        if known != snap.digests[graph]:
            try:
                old[graph] = list(
                    ox.parse((folder / "graphs" / f"{known}.nq").read_bytes(), format=ox.RdfFormat.N_QUADS)
                )
            except (OSError, SyntaxError, ValueError):
                return "a cache file is unreadable", None, {}
            if digest(old[graph]) != known:
                return "a cache file does not match its digest", None, {}
    return "", state, old


def _incremental(
    snap: Snapshot,
    old: dict[str, list[ox.Quad]],
    ontology: list[ox.Quad],
    previous: dict[str, Any],
    changed: list[str],
    settings: Settings,
) -> tuple[Report, int]:
    triple: Callable[[ox.Quad], Triple] = lambda q: (q.subject, q.predicate, q.object)  # noqa: E731
    kept = {triple(q) for g, qs in snap.graphs.items() if g not in changed for q in qs}
    now = {triple(q) for g in changed for q in snap.graphs[g]}
    before = {triple(q) for g in changed for q in old[g]}
    delta = (now ^ before) - kept
    if len(delta) * 2 > len(kept | now):
        raise Unsupported("more than half the triples changed")
    if any(t[1] == SUBCLASS for t in delta):
        raise Unsupported("rdfs:subClassOf changed")
    reach = audit(shapes_graph(settings))
    out: defaultdict[Term, list[Triple]] = defaultdict(list)
    into: defaultdict[Term, list[Triple]] = defaultdict(list)
    classes: list[Triple] = []
    for t in (*kept, *now, *(triple(q) for q in ontology)):
        out[t[0]].append(t)
        into[t[2]].append(t)
        if t[1] == SUBCLASS:
            classes.append(t)
    # incoming triples the old data had: the removed ones still point at their nodes
    gone: defaultdict[Term, list[Triple]] = defaultdict(list)
    for t in before - now - kept:
        gone[t[2]].append(t)

    incoming_typed = _subclasses({ox.NamedNode(c) for c in reach.incoming_classes}, into)

    def reads_incoming(x: Term) -> bool:
        return any(t[1] == TYPE and t[2] in incoming_typed for t in out[x])

    focus: set[Term] = set()
    for s, p, o in delta:
        focus.add(s)
        if not isinstance(o, ox.Literal) and (p.value in reach.inverse or reads_incoming(o)):
            focus.add(o)
        if p.value in reach.value_reads:  # nodes whose values or chains read this triple
            focus |= {t[0] for t in (*into[s], *gone[s])}
            focus |= _closure({s}, lambda z: [t[0] for t in (*into[z], *gone[z]) if t[1].value in reach.chain])

    context: set[Triple] = set()
    for x in focus:
        context.update(out[x])
        every = reads_incoming(x)
        context.update(t for t in into[x] if every or t[1].value in reach.inverse)
        for _, _, v in out[x]:
            context.update(out[v])
        for z in _closure({x}, lambda z: [t[2] for t in out[z] if t[1].value in reach.chain]):
            context.update(out[z])
    context.update(classes)  # class closure for targets and sh:class, wherever it is stated
    blank = [t[2] for t in context if isinstance(t[2], ox.BlankNode)]
    for b in _closure(set(blank), lambda z: [t[2] for t in out[z] if isinstance(t[2], ox.BlankNode)]):
        context.update(out[b])

    keys = {x.value for x in focus if not isinstance(x, ox.Triple)}
    # nothing reachable changed (say, a triple moved between graphs): nothing to validate
    partial = (
        validate_graph([ox.Quad(s, p, o, CONTEXT) for s, p, o in context], settings, ontology=ontology)
        if focus
        else Report(True, [], rdflib.Graph())
    )
    origins = {
        subject.value: files
        for subject, files in graphs_by_subject(q for qs in snap.graphs.values() for q in qs).items()
    }
    fresh = [f for f in partial.findings if f.focus_node in keys]
    still = [Finding(**f) for f in previous["findings"] if f["focus_node"] not in keys]
    findings = [_with_files(f, origins) for f in (*still, *fresh)]
    findings.sort(key=lambda f: (f.severity != "Violation", f.files, f.focus_node, f.path or ""))
    conforms = not any(f.severity == "Violation" for f in findings)
    report_graph = subset_report(
        partial.report_graph, lambda result, graph: str(graph.value(result, SH.focusNode)) in keys, conforms
    )
    return Report(conforms=conforms, findings=findings, report_graph=report_graph), len(focus)


def _closure(start: set[Term], neighbours: Callable[[Term], Iterable[Term]]) -> set[Term]:
    found, todo = set(start), list(start)
    while todo:
        for n in neighbours(todo.pop()):
            if n not in found:
                found.add(n)
                todo.append(n)
    return found


def _subclasses(classes: set[Term], into: dict[Term, list[Triple]]) -> set[Term]:
    return _closure(classes, lambda c: [t[0] for t in into[c] if t[1] == SUBCLASS])


def _with_files(finding: Finding, origins: dict[str, list[str]]) -> Finding:
    return Finding(**{**asdict(finding), "files": origins.get(finding.focus_node, [])})


# --- the cache ----------------------------------------------------------------------------------------


def save(folder: Path, snap: Snapshot, report: Report) -> None:
    """Remember what this successful validation saw; state.json is written last, so a half-written cache
    is one whose state does not name the new files (and a file that does not match its digest is refused)."""
    graphs = folder / "graphs"
    graphs.mkdir(parents=True, exist_ok=True)
    for graph, quads in snap.graphs.items():
        target = graphs / f"{snap.digests[graph]}.nq"
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
            os.rename(tmp, target)
    state = {
        "format": CACHE_FORMAT,
        "schema": snap.schema,
        "graphs": snap.digests,
        "findings": [vars(f) for f in report.findings],  # asdict deep-copies: seconds for 100k findings
    }
    tmp = folder / "state.json.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False, sort_keys=True))
    os.rename(tmp, folder / "state.json")  # rename(2), atomic like os.replace
    wanted = {f"{d}.nq" for d in snap.digests.values()}
    for leftover in graphs.iterdir():
        if leftover.name not in wanted:
            leftover.unlink(missing_ok=True) if leftover.is_file() else shutil.rmtree(leftover, ignore_errors=True)
