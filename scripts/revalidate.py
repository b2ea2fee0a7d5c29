"""Validation reuse: after a change to some source graphs, re-check (scripts/validate.py) only the nodes whose
results the change can reach, and keep the previous findings about every other node.

`validate_changes` reads what it needs from the NEW release's pyoxigraph store (a copy of the previous release's
plus the asserted change, rebased to `settings.base_uri`): the asserted data graphs (not ontology or shapes, not
graph/entailed or graph/derived) answer targeted lookups around the changed nodes, and the small context is moved
back to the default base the shapes and findings speak. The cache, `build/validation/state.json`, holds what the
last successful validation needs to be continued: a key of the shapes, ontology, engine and validation code, the
release it validated, and its findings (plus the subjects whose literals the store writes in another form, see
`altered_subjects`). A state of another release than the one the store was copied from is not used.

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
The context graph gives each node of F all of 1-4 (plus blank-node closures), so the engine says the same
about F in the context as in the whole data; findings about nodes outside F cannot have changed (only the
files stating them can: those of the subjects of changed statements are looked up again).
No cache, other shapes/ontology/engine/code, more than half the triples changed, or an unreadable cache:
full validation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import pyoxigraph as ox
import pyshacl
import rdflib
import rdflib.collection
from rdflib.namespace import RDF, RDFS, SH

from scripts.derive import DERIVED, ENTAILED, graph_name
from scripts.rdfio import SourceFile, graph_of, graphs_by_subject
from scripts.sources import graph_iri, meta_graphs, read_sources, rebase_iri, unrebase_iri
from scripts.validate import Finding, Report, shapes_graph, subset_report, validate_graph
from server.config import DEFAULT_BASE_URI, Settings
from server.statements import AnyQuad, as_quads
from server.vocab import XSD_STRING

CACHE_FORMAT = 4  # bump when the focus rule or the state changes: a cache written under another rule is not trusted
#: The code whose behaviour the cached findings depend on: a change to it is a change of the cache key.
CODE = [Path(__file__).with_name(name) for name in ("revalidate.py", "validate.py", "shacl_engine.py")]
FAR = 9  # "hop" of values reached by an inverse or chain path: nothing beyond them is readable
TYPE, SUBCLASS = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(RDFS.subClassOf))
CONTEXT = ox.NamedNode("urn:parita:validation-context")
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.target)
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Triple = tuple[ox.NamedNode | ox.BlankNode | ox.Triple, ox.NamedNode, Term]  # (subject, predicate, object)


class Unsupported(Exception):
    """The shapes read further than the focus rule covers, or the change is not one it can follow."""


@dataclass
class Reach:
    """What the shapes read around a focus node, beyond its own outgoing triples."""

    value_reads: set[str] = field(default_factory=lambda: {str(RDF.type)})
    chain: set[str] = field(default_factory=set)
    inverse: set[str] = field(default_factory=set)
    incoming_classes: set[str] = field(default_factory=set)


class Checked(Report):
    """A report with what the validation cache keeps beside its findings (`save`): the subjects whose literals
    the store writes in another form (`altered_subjects`) and about how many triples were validated."""

    def __init__(self, report: Report, altered: Iterable[str], triples: int):
        super().__init__(report.conforms, report.findings, lambda: report.report_graph)
        self.altered, self.triples = frozenset(altered), triples


def schema_key(settings: Settings) -> str:
    """What every cached finding depends on besides the data: ontology and shapes files, engine, pySHACL and
    the validation code."""
    digest = hashlib.sha256(f"{CACHE_FORMAT} {settings.validation_engine} {pyshacl.__version__}".encode())
    files = [*sorted(settings.ontology_dir.glob("*.ttl")), *sorted(settings.shapes_dir.glob("*.ttl")), *CODE]
    for path in files:
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def altered_subjects(quads: Iterable[AnyQuad], base: str = DEFAULT_BASE_URI) -> set[str]:
    """The subjects (under the default base) of statements whose literal a pyoxigraph store writes in another
    form ("01"^^xsd:integer is kept as "1"): a context read from the store would not be what was validated."""
    quads = list(quads)
    changed = rewritten_literals(q.object for q in quads)
    return {_name(q.subject, base) for q in quads if q.object in changed} if changed else set()


def rewritten_literals(terms: Iterable[object]) -> set[ox.Literal]:
    """The literals among `terms` that a pyoxigraph store gives back in another form than they are written:
    typed ones only (a string or a language-tagged literal is kept as it is)."""
    typed = list({t for t in terms if is_typed_literal(t)})
    store = ox.Store()
    store.extend(
        ox.Quad(ox.NamedNode(f"urn:parita:literal:{n}"), TYPE, lit, ox.DefaultGraph()) for n, lit in enumerate(typed)
    )
    stored = {int(q.subject.value.rsplit(":", 1)[1]): q.object for q in store}
    return {literal for n, literal in enumerate(typed) if stored[n] != literal}


def is_typed_literal(term: object) -> TypeGuard[ox.Literal]:
    """A literal whose form a store may change ("01"^^xsd:integer is kept as "1"): a typed one, not a string."""
    return isinstance(term, ox.Literal) and term.language is None and term.datatype.value != XSD_STRING


def _name(node: ox.NamedNode | ox.BlankNode | ox.Triple, base: str) -> str:
    """A subject as a finding names its focus node, under the default base (parita states no triple terms)."""
    if isinstance(node, ox.NamedNode):
        return unrebase_iri(node.value, base)
    return node.value if isinstance(node, ox.BlankNode) else str(node)


def full_report(report: Report, data: Sequence[AnyQuad]) -> Checked:
    """A full validation's report of `data` (the data graphs' statements, under the default base), ready for `save`."""
    return Checked(report, altered_subjects(data), len(data))


@dataclass
class Snapshot:
    """The data graphs of one build, their digests and the key of what they are validated against (the
    validation of `validate_quads`, which reads every statement)."""

    schema: str
    graphs: dict[str, list[AnyQuad]]
    digests: dict[str, str]


def digest(quads: Sequence[AnyQuad]) -> str:
    # lines as bytes, split on line feeds only (a literal may hold other line breaks): UTF-8 sorts as code points do
    lines = sorted((ox.serialize(as_quads(quads), format=ox.RdfFormat.N_QUADS) or b"").split(b"\n")[:-1])
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def snapshot(quads: Sequence[AnyQuad], meta: set[str], settings: Settings) -> Snapshot:
    graphs: dict[str, list[AnyQuad]] = defaultdict(list)
    for q in quads:
        if graph_of(q) not in meta:
            graphs[graph_of(q)].append(q)
    return Snapshot(schema_key(settings), dict(graphs), {g: digest(qs) for g, qs in graphs.items()})


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


# --- the incremental validation on the new store ------------------------------------------------


def validate_changes(
    store: ox.Store,
    added: Iterable[ox.Quad],
    removed: Iterable[ox.Quad],
    settings: Settings,
    folder: Path,
    previous: str,
    sources: Sequence[SourceFile],
    say: Callable[[str], None] = lambda message: None,
) -> Checked | None:
    """The findings of a full validation of the release in `store`, from the findings the cache in `folder` holds
    about release `previous` and a validation of the nodes the change reaches; None when it cannot tell (then
    validate everything).

    `store` holds the new release's asserted graphs and its ontology (rebased to `settings.base_uri`; other
    graphs, such as graph/entailed, are not read), `added` and `removed` the asserted statements that changed
    since `previous`, as the store holds them (removed ones may be of a graph whose source is gone); `sources`
    are the new release's files in reading order (which graphs are data, and the order of a finding's `files`)."""
    try:
        state = load(folder, settings, previous)
        report, changed, focus = _changes(store, list(added), list(removed), settings, state, sources)
    except Unsupported as why:
        say(f"full validation ({why})")
        return None
    graphs = len({rebase_iri(s.graph, settings.base_uri) for s in sources} - _meta(settings.base_uri))
    say(f"re-validating {changed} changed graph(s) of {graphs} incrementally ({focus} focus nodes)")
    return report


def _meta(base: str) -> set[str]:
    return {rebase_iri(g, base) for g in meta_graphs()}


class _Store:
    """Targeted lookups in the store's asserted data graphs (and its ontology), memoised: the only way the
    incremental validation sees the data."""

    def __init__(self, store: ox.Store, base: str, data: set[str], ontology: str):
        self.store, self.base, self.data, self.readable = store, base, data, data | {ontology}
        self._out: dict[Term, list[tuple[Triple, str]]] = {}
        self._into: dict[Term, list[tuple[Triple, str]]] = {}

    def match(self, s: Any, p: Any, o: Any, graphs: set[str]) -> list[tuple[Triple, str]]:
        found = []
        for q in self.store.quads_for_pattern(s, p, o, None):
            graph = q.graph_name
            if isinstance(graph, ox.NamedNode) and graph.value in graphs:
                found.append(((q.subject, q.predicate, q.object), graph.value))
        return found

    def out(self, x: Term) -> list[Triple]:
        """Triples from `x` in the data graphs and the ontology."""
        if x not in self._out:
            self._out[x] = [] if isinstance(x, ox.Literal) else self.match(x, None, None, self.readable)
        return [t for t, _ in self._out[x]]

    def out_stated(self, x: Term) -> list[Triple]:
        """Triples from `x` in the data graphs only: the context (the ontology is validated whole, as read)."""
        self.out(x)
        return [t for t, g in self._out[x] if g in self.data]

    def into(self, x: Term) -> list[Triple]:
        """Triples to `x` in the data graphs and the ontology."""
        if x not in self._into:
            self._into[x] = self.match(None, None, x, self.readable)
        return [t for t, _ in self._into[x]]

    def into_stated(self, x: Term) -> list[Triple]:
        self.into(x)
        return [t for t, g in self._into[x] if g in self.data]

    def stated(self, triple: Triple, unless: set[ox.Quad]) -> bool:
        """Whether a data graph states `triple` in a quad not in `unless`."""
        s, p, o = triple
        return any(ox.Quad(s, p, o, ox.NamedNode(g)) not in unless for _, g in self.match(s, p, o, self.data))

    def files(self, subject: Term, order: dict[str, int]) -> list[str]:
        """The data graphs stating something about `subject`, in reading order, under the default base (the
        `files` of a finding, as graphs_by_subject says them)."""
        graphs = {g for _, g in self.match(subject, None, None, self.data)}
        return [self.unrebase_iri(g) for g in sorted(graphs, key=order.__getitem__)]

    def unrebase_iri(self, iri: str) -> str:
        return DEFAULT_BASE_URI + iri[len(self.base) :] if iri.startswith(self.base) else iri

    def unrebase(self, term: Any) -> Any:
        if isinstance(term, ox.NamedNode) and term.value.startswith(self.base):
            return ox.NamedNode(self.unrebase_iri(term.value))
        return term


def _changes(
    ox_store: ox.Store,
    added: list[ox.Quad],
    removed: list[ox.Quad],
    settings: Settings,
    state: dict[str, Any],
    sources: Sequence[SourceFile],
) -> tuple[Checked, int, int]:
    """The incremental validation; raises Unsupported when it cannot follow the change."""
    base = settings.base_uri
    if base != DEFAULT_BASE_URI and (base.startswith(DEFAULT_BASE_URI) or DEFAULT_BASE_URI.startswith(base)):
        raise Unsupported("the base URI and the default one nest: moving IRIs back would be ambiguous")
    meta, order = _meta(base), dict[str, int]()
    for number, source in enumerate(sources):
        order.setdefault(rebase_iri(source.graph, base), number)
    ontology_graph = graph_iri(DEFAULT_BASE_URI, "ontology")
    data = set(order) - meta
    store = _Store(ox_store, base, data, rebase_iri(ontology_graph, base))
    # a removed statement may be in a graph whose source is gone; none may be in the ontology, shapes or derived graphs
    derived = {graph_name(ENTAILED, base), graph_name(DERIVED, base)}
    if any(not isinstance(q.graph_name, ox.NamedNode) or q.graph_name.value not in data for q in added) or any(
        not isinstance(q.graph_name, ox.NamedNode) or q.graph_name.value in meta | derived for q in removed
    ):
        raise Unsupported("a change outside the data graphs")
    if altered_subjects(added, base) or altered_subjects(removed, base):
        raise Unsupported("a changed literal the store writes in another form")

    triple: Callable[[ox.Quad], Triple] = lambda q: (q.subject, q.predicate, q.object)  # noqa: E731
    new, gone_quads = set(added), {triple(q) for q in removed}
    gained = {triple(q) for q in added if triple(q) not in gone_quads and not store.stated(triple(q), new)}
    lost = {t for t in gone_quads if not store.stated(t, set())}
    delta = gained | lost
    if len(delta) * 2 > state["triples"]:
        raise Unsupported("more than half the triples changed")
    if any(t[1] == SUBCLASS for t in delta):
        raise Unsupported("rdfs:subClassOf changed")
    shapes = shapes_graph(settings)
    reach = audit(shapes)
    # incoming triples the old data had: the removed ones still point at their nodes
    gone: defaultdict[Term, list[Triple]] = defaultdict(list)
    for t in lost:
        gone[t[2]].append(t)
    incoming_typed = _closure(
        {ox.NamedNode(rebase_iri(c, base)) for c in reach.incoming_classes},
        lambda c: [t[0] for t in store.into(c) if t[1] == SUBCLASS],
    )

    def reads_incoming(x: Term) -> bool:
        return any(t[1] == TYPE and t[2] in incoming_typed for t in store.out(x))

    def rebased(predicates: set[str]) -> set[str]:
        return {rebase_iri(p, base) for p in predicates}

    value_reads, chain, inverse = rebased(reach.value_reads), rebased(reach.chain), rebased(reach.inverse)
    focus: set[Term] = set()
    for s, p, o in delta:
        focus.add(s)
        if not isinstance(o, ox.Literal) and (p.value in inverse or reads_incoming(o)):
            focus.add(o)
        if p.value in value_reads:  # nodes whose values or chains read this triple
            focus |= {t[0] for t in (*store.into(s), *gone[s])}
            focus |= _closure({s}, lambda z: [t[0] for t in (*store.into(z), *gone[z]) if t[1].value in chain])

    context: set[Triple] = set()
    for x in focus:
        context.update(store.out_stated(x))
        every = reads_incoming(x)
        context.update(t for t in store.into_stated(x) if every or t[1].value in inverse)
        for _, _, v in store.out(x):
            context.update(store.out_stated(v))
        for z in _closure({x}, lambda z: [t[2] for t in store.out(z) if t[1].value in chain]):
            context.update(store.out_stated(z))
    # class closure for targets and sh:class, wherever the data states it (the ontology comes whole)
    context.update(t for t, _ in store.match(None, SUBCLASS, None, data))
    blank = [t[2] for t in context if isinstance(t[2], ox.BlankNode)]
    for b in _closure(set(blank), lambda z: [t[2] for t in store.out(z) if isinstance(t[2], ox.BlankNode)]):
        context.update(store.out_stated(b))
    altered = set(state["altered"])
    if any(_name(t[0], base) in altered for t in context):
        raise Unsupported("a node to re-check has a literal the store writes in another form")

    keys = {_name(x, base): x for x in focus if not isinstance(x, ox.Literal)}
    ontology = _ontology(sources, ontology_graph)
    # nothing reachable changed (say, a triple moved between graphs): nothing to validate
    partial = (
        validate_graph(
            [ox.Quad(store.unrebase(s), store.unrebase(p), store.unrebase(o), CONTEXT) for s, p, o in context],
            settings,
            ontology=ontology,
            shapes=shapes,
        )
        if focus
        else Report(True, [], rdflib.Graph())
    )
    moved = {_name(q.subject, base): q.subject for q in (*added, *removed)}
    files = {key: store.files(node, order) for key, node in {**moved, **keys}.items()}
    fresh = [f for f in partial.findings if f.focus_node in keys]
    still = [f for f in state["findings"] if f.focus_node not in keys]
    findings = [
        dataclasses.replace(f, files=files[f.focus_node]) if f.focus_node in files else f for f in (*still, *fresh)
    ]
    findings.sort(key=lambda f: (f.severity != "Violation", f.files, f.focus_node, f.path or "", f.component))
    conforms = not any(f.severity == "Violation" for f in findings)

    def report_graph() -> rdflib.Graph:
        return subset_report(
            partial.report_graph, lambda result, graph: str(graph.value(result, SH.focusNode)) in keys, conforms
        )

    report = Report(conforms=conforms, findings=findings, report_graph=report_graph)
    changed = len({q.graph_name for q in (*added, *removed)})
    return Checked(report, altered, state["triples"] + len(gained) - len(lost)), changed, len(focus)


def _ontology(sources: Sequence[SourceFile], graph: str) -> list[ox.Quad]:
    """The ontology as `read_sources` reads it: its files come first, so its blank nodes are named alike."""
    count = sum(1 for s in sources if s.graph == graph)
    if any(s.graph != graph for s in sources[:count]):
        raise Unsupported("the ontology files are not read first")
    return read_sources(list(sources[:count]))


# --- the incremental validation on every statement (validate_quads) ----------------------------------


def validate(
    snap: Snapshot,
    ontology: Sequence[AnyQuad],
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
        return "shapes, ontology, engine, pySHACL or the validation code changed", None, {}
    if "graphs" not in state:  # saved by a rebuild (validate_changes), which keeps no copy of the graphs
        return "the validation cache holds no copy of the graphs", None, {}
    if set(state["graphs"]) != set(snap.graphs):
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
    ontology: Sequence[AnyQuad],
    previous: dict[str, Any],
    changed: list[str],
    settings: Settings,
) -> tuple[Report, int]:
    triple: Callable[[AnyQuad], Triple] = lambda q: (q.subject, q.predicate, q.object)  # noqa: E731
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


def load(folder: Path, settings: Settings, release: str) -> dict[str, Any]:
    """The cached state of the validation of `release` (its findings as Finding); Unsupported says why there is
    none to continue from."""
    try:
        state: dict[str, Any] = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        raise Unsupported("no validation cache") from None
    try:
        if state["format"] != CACHE_FORMAT:
            raise Unsupported("the validation cache is of another format")
        if state["schema"] != schema_key(settings):
            raise Unsupported("shapes, ontology, engine or validation code changed")
        if state["release"] != release:
            raise Unsupported(f"the validation cache is about release {state['release']}, not {release}")
        state["findings"] = [Finding(**f) for f in state["findings"]]
        if not isinstance(state["altered"], list) or not isinstance(state["triples"], int):
            raise TypeError
    except (KeyError, TypeError, AttributeError, ValueError):  # a state.json of another shape: not trusted
        raise Unsupported("the validation cache is unreadable") from None
    return state


def save(folder: Path, settings: Settings, release: str, report: Report, snap: Snapshot | None = None) -> None:
    """Remember what the successful validation of `release` found (a `Checked` report: `validate_changes`'s, or a
    full one through `full_report`); with `snap`, the validated graphs too, for `validate_quads`. state.json is
    written last, so a half-written cache is one whose state does not name the new files (and a file that does
    not match its digest is refused)."""
    folder.mkdir(parents=True, exist_ok=True)
    everything = [q for qs in snap.graphs.values() for q in qs] if snap is not None else []
    if isinstance(report, Checked):
        altered, triples = sorted(report.altered), report.triples
    else:
        altered, triples = sorted(altered_subjects(everything)), len(everything)
    state: dict[str, Any] = {
        "format": CACHE_FORMAT,
        "schema": schema_key(settings),
        "release": release,
        "altered": altered,
        "triples": triples,
        "findings": [vars(f) for f in report.findings],  # asdict deep-copies: seconds for 100k findings
    }
    graphs = folder / "graphs"
    if snap is not None:
        graphs.mkdir(exist_ok=True)
        for graph, quads in snap.graphs.items():
            target = graphs / f"{snap.digests[graph]}.nq"
            if not target.exists():
                tmp = target.with_suffix(".tmp")
                ox.serialize(as_quads(quads), str(tmp), format=ox.RdfFormat.N_QUADS)  # streamed: no text in memory
                os.rename(tmp, target)
        state["graphs"] = snap.digests
    tmp = folder / "state.json.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False, sort_keys=True))
    os.rename(tmp, folder / "state.json")  # rename(2), atomic like os.replace
    wanted = {f"{d}.nq" for d in snap.digests.values()} if snap is not None else set()
    for leftover in graphs.iterdir() if graphs.is_dir() else ():
        if leftover.name not in wanted:
            leftover.unlink(missing_ok=True) if leftover.is_file() else shutil.rmtree(leftover, ignore_errors=True)
