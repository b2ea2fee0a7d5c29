"""The two derived graphs of a release, computed at build time from the asserted graphs by the rules of
ontology/README.md ("Derived graphs"); nothing in them comes from a source, and each says so about itself.

- `graph/entailed`: RDFS subclass and subproperty closure over ontology/parita.ttl and the standard
  vocabularies' axioms in ontology/imports/, `owl:inverseOf` both ways, `owl:SymmetricProperty`, and
  ORG's membership shortcut (an org:Membership's member is org:memberOf its organization).
- `graph/derived`: the interval each stated date denotes (`parita:earliestDate` / `parita:latestDate`
  as xsd:date, so a partial date such as 2008-05 is found by a filter on days), and labels in
  Italian and English for memberships that have none.

Both are in the union default graph; `default-graph-uri={base}graph/asserted` leaves them out
(server/query.py).
"""

from __future__ import annotations

import calendar
import contextlib
import gc
import typing
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from scripts.rdfio import read_quads
from server import terms
from server.config import DEFAULT_BASE_URI
from server.statements import AnyQuad, Statement

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
ORG = "http://www.w3.org/ns/org#"
DCT = "http://purl.org/dc/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
COV = "https://w3id.org/italia/onto/COV/"

ENTAILED, DERIVED = "entailed", "derived"
#: The third derived graph: owl:sameAs from the reconcile rules (scripts/reconcile.py), computed when a publisher's
#: data is harvested, ingested or reconciled, and carried into builds as a contribution file (scripts/sources.py).
RECONCILED = "reconciled"
ASSERTED = "asserted"  # not a graph: the default-graph-uri that means "every graph but the derived ones"
DATE_PROPERTIES = (COV + "foundationDate", DCT + "dateAccepted", DCT + "date", terms.startDate)
STANDARD_AXIOMS = Path(__file__).resolve().parent.parent / "ontology" / "imports" / "standard-axioms.ttl"
#: What the derived graphs depend on besides the release's sources (part of the build's input digest).
RULE_FILES = (STANDARD_AXIOMS, Path(__file__).resolve())

Node = ox.NamedNode | ox.BlankNode | ox.Triple  # a subject (RDF 1.2 triple terms included)
Triple = tuple[Node, ox.NamedNode, Node | ox.Literal]


def graph_name(name: str, base: str = DEFAULT_BASE_URI) -> str:
    return f"{base}graph/{name}"


def derived_graphs(base: str = DEFAULT_BASE_URI) -> tuple[str, str, str]:
    """Every graph whose statements a rule, not a source, makes (left out of the stream and of `graph/asserted`)."""
    return graph_name(ENTAILED, base), graph_name(DERIVED, base), graph_name(RECONCILED, base)


def derive(quads: Sequence[AnyQuad], meta_graphs: set[str], base: str = DEFAULT_BASE_URI) -> list[ox.Quad]:
    """The quads of `graph/entailed` and `graph/derived` for the asserted `quads` (ontology and shapes
    graphs, `meta_graphs`, give the schema but are not themselves entailed over)."""
    return [ox.Quad(*s) for s in derive_statements(quads, meta_graphs, base)]


def derive_statements(quads: Sequence[AnyQuad], meta_graphs: set[str], base: str = DEFAULT_BASE_URI) -> list[Statement]:
    """`derive` as Statements sharing the terms of `quads` (a full build's form)."""
    with no_cycle_collection():
        return _derive(quads, meta_graphs, base)


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Deriving makes hundreds of thousands of small tuples and no reference cycle: the cycle collector's runs
    meanwhile (each walking every tuple alive) found nothing and took half the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _derive(quads: Sequence[AnyQuad], meta_graphs: set[str], base: str) -> list[Statement]:
    ontology = ox.NamedNode(graph_name("ontology", base))
    meta = {ox.NamedNode(g) for g in meta_graphs}
    schema = [(q.subject, q.predicate, q.object) for q in read_quads(STANDARD_AXIOMS, ontology)]
    # the data by predicate: the rules name their predicates, so most statements are never looked at again
    by_predicate: dict[ox.NamedNode, list[AnyQuad]] = defaultdict(list)
    for q in quads:
        if q.graph_name not in meta:
            by_predicate[q.predicate].append(q)
        elif q.graph_name == ontology:
            schema.append((q.subject, q.predicate, q.object))
    data = _Statements(by_predicate, entail(by_predicate, Rules(schema)))
    derived = {t for t in date_bounds(data) | membership_labels(data) if not data.holds(t)}
    entailed_iri, derived_iri = graph_name(ENTAILED, base), graph_name(DERIVED, base)
    return (
        _in_graph(data.entailed_triples(), entailed_iri)
        + _in_graph(derived, derived_iri)
        + [Statement(*q) for q in self_description(entailed_iri, ENTAILED_RULES)]
        + [Statement(*q) for q in self_description(derived_iri, DERIVED_RULES)]
    )


Pairs = set[tuple[Node, Node | ox.Literal]]  # (subject, object) of the statements of one predicate


class _Statements:
    """The asserted statements (by predicate) and what they entail (by predicate, none of them asserted): what
    the rules of graph/derived read."""

    def __init__(self, by_predicate: dict[ox.NamedNode, list[AnyQuad]], entailed: dict[ox.NamedNode, Pairs]) -> None:
        self.by_predicate = by_predicate
        self._asserted: dict[ox.NamedNode, Pairs] = {}
        self.entailed = {p: pairs - self.asserted(p) for p, pairs in entailed.items()}

    def asserted(self, predicate: ox.NamedNode) -> Pairs:
        if (pairs := self._asserted.get(predicate)) is None:
            pairs = self._asserted[predicate] = {(q.subject, q.object) for q in self.by_predicate.get(predicate, ())}
        return pairs

    def pairs(self, predicate: ox.NamedNode) -> Iterator[tuple[Node, Node | ox.Literal]]:
        """Every (subject, object) of `predicate`, asserted or entailed (some twice)."""
        yield from ((q.subject, q.object) for q in self.by_predicate.get(predicate, ()))
        yield from self.entailed.get(predicate, ())

    def holds(self, triple: Triple) -> bool:
        s, p, o = triple
        return (s, o) in self.entailed.get(p, ()) or (s, o) in self.asserted(p)

    def entailed_triples(self) -> set[Triple]:
        return {(s, p, o) for p, pairs in self.entailed.items() for s, o in pairs}


# --- graph/entailed ----------------------------------------------------------------------------

ENTAILED_RULES = (
    "Inferenze calcolate alla pubblicazione (ontology/README.md): chiusura RDFS di rdfs:subClassOf e "
    "rdfs:subPropertyOf su ontology/parita.ttl e sugli assiomi di ORG, PROV-O e FOAF "
    "(ontology/imports/standard-axioms.ttl); owl:inverseOf in entrambe le direzioni; owl:SymmetricProperty; "
    "org:memberOf/org:hasMember dai org:Membership.",
    "Inferences computed at publishing (ontology/README.md): RDFS closure of rdfs:subClassOf and "
    "rdfs:subPropertyOf over ontology/parita.ttl and the ORG, PROV-O and FOAF axioms "
    "(ontology/imports/standard-axioms.ttl); owl:inverseOf both ways; owl:SymmetricProperty; "
    "org:memberOf/org:hasMember from org:Membership.",
)


def _closure(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Reflexive-free transitive closure: term -> every term above it."""
    up: dict[str, set[str]] = defaultdict(set)
    for low, high in pairs:
        up[low].add(high)
    changed = True
    while changed:
        changed = False
        for low in list(up):
            more = set().union(*(up.get(h, set()) for h in up[low])) - up[low] - {low}
            if more:
                up[low] |= more
                changed = True
    return up


class Rules:
    """The schema's entailment rules, each of which takes ONE statement to others: a type to its superclasses,
    a property to its superproperties, to its inverses and (when symmetric) to itself the other way round.
    So everything a set of statements entails is the union of what each entails on its own (`closure`), and
    `sources` answers, for a statement, which statements entail it (what `derive_changes` looks up)."""

    def __init__(self, schema: Iterable[Triple]) -> None:
        axioms = {(_iri(s), p.value, _iri(o)) for s, p, o in schema}
        self.superclasses = _closure(
            (low, high) for low, rel, high in axioms if rel == RDFS + "subClassOf" and low and high
        )
        self.superproperties = _closure(
            (low, high) for low, rel, high in axioms if rel == RDFS + "subPropertyOf" and low and high
        )
        self.inverse: dict[str, set[str]] = defaultdict(set)
        for one, rel, other in axioms:
            if rel == OWL + "inverseOf" and one and other:
                self.inverse[one].add(other)
                self.inverse[other].add(one)
        self.symmetric = {
            prop for prop, rel, kind in axioms if rel == RDF_TYPE and kind == OWL + "SymmetricProperty" and prop
        }
        self.subclasses, self.subproperties = _below(self.superclasses), _below(self.superproperties)
        self.classes = {ox.NamedNode(c) for c in self.superclasses}  # those with a superclass
        self._templates: dict[tuple[ox.NamedNode, object], list[tuple[Any, ox.NamedNode, Any]]] = {}

    def moves(self, predicate: ox.NamedNode) -> bool:
        """Whether a rule takes a statement of `predicate` anywhere."""
        p = predicate.value
        return p == RDF_TYPE or p in self.superproperties or p in self.inverse or p in self.symmetric

    def template(self, predicate: ox.NamedNode, value: object) -> list[tuple[Any, ox.NamedNode, Any]]:
        """What a statement (s, `predicate`, `value`) entails on its own, itself aside, as (subject, predicate,
        object) with 0 standing for s and 1 for `value`: the same for every statement of `predicate` whose
        object is alike (a literal, or not; a class with superclasses, itself), so it is worked out once."""
        key = (predicate, value) if value in self.classes else (predicate, isinstance(value, ox.Literal))
        if (found := self._templates.get(key)) is None:
            s = ox.NamedNode("urn:x-parita-derive:subject")
            if value in self.classes:
                o: Node | ox.Literal = typing.cast(ox.NamedNode, value)
            elif isinstance(value, ox.Literal):
                o = ox.Literal("urn:x-parita-derive:object")
            else:
                o = ox.NamedNode("urn:x-parita-derive:object")
            ends = {s: 0, o: 1}
            found = self._templates[key] = [
                (ends.get(a, a), p, ends.get(b, b)) for a, p, b in self.closure((s, predicate, o)) - {(s, predicate, o)}
            ]
        return found

    def step(self, triple: Triple) -> set[Triple]:
        """What the rules add to one statement, once."""
        return self._one_step(triple, self.superclasses, self.superproperties)

    def step_back(self, triple: Triple) -> set[Triple]:
        """Every statement whose `step` gives `triple`: the same rules with the hierarchies read downwards
        (inverse and symmetric properties are their own reverse)."""
        return self._one_step(triple, self.subclasses, self.subproperties)

    def _one_step(self, triple: Triple, classes: dict[str, set[str]], properties: dict[str, set[str]]) -> set[Triple]:
        s, p, o = triple
        found: set[Triple] = set()
        if p.value == RDF_TYPE and isinstance(o, ox.NamedNode):
            found |= {(s, p, ox.NamedNode(c)) for c in classes.get(o.value, ())}
        found |= {(s, ox.NamedNode(q), o) for q in properties.get(p.value, ())}
        if not isinstance(o, ox.Literal):
            found |= {(o, ox.NamedNode(q), s) for q in self.inverse.get(p.value, ())}
            if p.value in self.symmetric:
                found.add((o, p, s))
        return found

    def closure(self, triple: Triple) -> set[Triple]:
        """`triple` and everything it entails on its own."""
        return _reach(triple, self.step)

    def sources(self, triple: Triple) -> set[Triple]:
        """`triple` and every statement that entails it on its own."""
        return _reach(triple, self.step_back)


def _below(up: dict[str, set[str]]) -> dict[str, set[str]]:
    down: dict[str, set[str]] = defaultdict(set)
    for low, highs in up.items():
        for high in highs:
            down[high].add(low)
    return down


def _reach(start: Triple, step: Callable[[Triple], set[Triple]]) -> set[Triple]:
    seen, frontier = {start}, {start}
    while frontier:
        frontier = set().union(*(step(t) for t in frontier)) - seen
        seen |= frontier
    return seen


def entail(by_predicate: dict[ox.NamedNode, list[AnyQuad]], rules: Rules) -> dict[ox.NamedNode, Pairs]:
    """Everything the rules add to the statements (`by_predicate`), by predicate, to a fixpoint: the union of
    what each statement entails on its own, and ORG's membership shortcut (an org:Membership's member is
    org:memberOf its organization) with what it entails. Some of it may be asserted too."""
    found: dict[ox.NamedNode, Pairs] = defaultdict(set)

    def close(s: Node, predicate: ox.NamedNode, o: Node | ox.Literal) -> None:
        ends: tuple[Any, Any] = (s, o)
        for a, p, b in rules.template(predicate, o):
            found[p].add((ends[a] if type(a) is int else a, ends[b] if type(b) is int else b))

    for predicate, quads in by_predicate.items():
        if rules.moves(predicate):
            for q in quads:
                close(q.subject, predicate, q.object)
    member_of = ox.NamedNode(ORG + "memberOf")
    for member, organization in _membership_shortcuts(by_predicate):
        found[member_of].add((member, organization))
        close(member, member_of, organization)
    return found


def _iri(term: object) -> str | None:
    return term.value if isinstance(term, ox.NamedNode) else None


def _membership_shortcuts(by_predicate: dict[ox.NamedNode, list[AnyQuad]]) -> set[tuple[Node, Node]]:
    """ORG: "It is possible to directly indicate membership ... through use of the org:memberOf property":
    (member, organization) of every asserted membership; org:member and org:organization are only ever asserted
    (nothing entails them). Every member of a membership is a member of each of its organizations (the shapes
    allow one of each)."""

    def of(name: str) -> dict[Node, set[Node]]:
        found: dict[Node, set[Node]] = defaultdict(set)
        for q in by_predicate.get(ox.NamedNode(ORG + name), ()):
            if not isinstance(q.object, ox.Literal):
                found[q.subject].add(q.object)
        return found

    members, organizations = of("member"), of("organization")
    return {(a, b) for m in members.keys() & organizations.keys() for a in members[m] for b in organizations[m]}


# --- graph/derived -----------------------------------------------------------------------------

DERIVED_RULES = (
    "Affermazioni derivate alla pubblicazione (ontology/README.md): parita:earliestDate e parita:latestDate, "
    "primo e ultimo giorno dell'intervallo indicato dalla data affermata (xsd:gYear, xsd:gYearMonth o xsd:date); "
    "etichette in italiano e in inglese delle adesioni (org:Membership) che non ne hanno.",
    "Statements derived at publishing (ontology/README.md): parita:earliestDate and parita:latestDate, the first "
    "and last day of the interval the stated date denotes (xsd:gYear, xsd:gYearMonth or xsd:date); Italian and "
    "English labels of memberships (org:Membership) that have none.",
)


def bounds(value: ox.Literal) -> tuple[str, str] | None:
    """The first and last day a stated date denotes: 2008-05 -> (2008-05-01, 2008-05-31); None if unreadable."""
    kind, text = value.datatype.value, value.value
    try:
        if kind == XSD + "gYear" and len(text) == 4:
            return f"{text}-01-01", f"{text}-12-31"
        if kind == XSD + "gYearMonth" and len(text) == 7:
            year, month = int(text[:4]), int(text[5:7])
            return f"{text}-01", f"{text}-{calendar.monthrange(year, month)[1]:02d}"
        if kind == XSD + "date" and len(text) >= 10:
            return text[:10], text[:10]
    except ValueError:
        return None
    return None


def date_bounds(data: _Statements) -> set[Triple]:
    date = ox.NamedNode(XSD + "date")
    earliest, latest = ox.NamedNode(terms.earliestDate), ox.NamedNode(terms.latestDate)
    found: set[Triple] = set()
    for prop in DATE_PROPERTIES:
        for s, o in data.pairs(ox.NamedNode(prop)):
            if isinstance(o, ox.Literal) and (days := bounds(o)) is not None:
                found.add((s, earliest, ox.Literal(days[0], datatype=date)))
                found.add((s, latest, ox.Literal(days[1], datatype=date)))
    return found


LABELS = (RDFS + "label", SKOS + "prefLabel")  # what names a membership's member, organization and role


def _first_labels(named: Iterable[tuple[Node, ox.Literal]]) -> dict[str, dict[str, str]]:
    """Node (as str) -> language -> its label; sorted: the first label per language is the same in every build."""
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for s, o in sorted(((s, o) for s, o in named if o.language), key=str):
        labels[str(s)].setdefault(o.language or "", o.value)
    return labels


def _of(name: str) -> str:
    """Italian "of the" before an organisation's name: dell'Unione, della Rete, del Tavolo."""
    first = name.split()[0].casefold() if name.split() else ""
    if first[:1] in "aeiou" and first:
        return f"dell'{name}"
    return f"della {name}" if first.endswith("a") or first == "rete" else f"del {name}"


def membership_labels(data: _Statements) -> set[Triple]:
    """ "Comune di Asti — membro della Rete provinciale antiviolenza di Asti" / "Municipality of Asti — member
    of Asti provincial anti-violence network", for every org:Membership without a label of its own."""
    membership = ox.NamedNode(ORG + "Membership")
    memberships = {s for s, o in data.pairs(ox.NamedNode(RDF_TYPE)) if o == membership}
    memberships -= {s for s, _ in data.pairs(ox.NamedNode(RDFS + "label"))}
    parts: dict[Node, dict[str, set[Node]]] = defaultdict(lambda: defaultdict(set))
    for name in MEMBERSHIP_PARTS:
        for s, o in data.pairs(ox.NamedNode(ORG + name)):
            if s in memberships and not isinstance(o, ox.Literal):
                parts[s][name].add(o)
    named = {node for nodes in parts.values() for found in nodes.values() for node in found}
    labels = _first_labels(
        (s, o) for p in LABELS for s, o in data.pairs(ox.NamedNode(p)) if s in named and isinstance(o, ox.Literal)
    )
    found: set[Triple] = set()
    for m in memberships:
        found |= _membership_label(m, parts[m], lambda node: labels[str(node)])
    return found


MEMBERSHIP_PARTS = ("member", "organization", "role")


def _membership_label(m: Node, parts: dict[str, set[Node]], labels_of: Callable[[Node], dict[str, str]]) -> set[Triple]:
    """The labels of membership `m` from its parts (ORG local name -> nodes; the shapes allow one of each)
    and their labels."""
    label = ox.NamedNode(RDFS + "label")
    found: set[Triple] = set()
    roles: list[Node | None] = [*parts.get("role", ())] or [None]
    for member_node in parts.get("member", ()):
        for organization_node in parts.get("organization", ()):
            for role_node in roles:
                member, organization = labels_of(member_node), labels_of(organization_node)
                role = labels_of(role_node) if role_node is not None else {}
                if "it" not in member or "it" not in organization:
                    continue
                italian = f"{member['it']} — {role.get('it', 'membro').casefold()} {_of(organization['it'])}"
                found.add((m, label, ox.Literal(italian, language="it")))
                english_role = role.get("en", "member").casefold()
                english = (
                    f"{member.get('en', member['it'])} — {english_role} of {organization.get('en', organization['it'])}"
                )
                found.add((m, label, ox.Literal(english, language="en")))
    return found


# --- both ----------------------------------------------------------------------------------------


def _in_graph(triples: set[Triple], graph: str) -> list[Statement]:
    g = ox.NamedNode(graph)
    return [Statement(s, p, o, g) for s, p, o in sorted(triples, key=str)]


GRAPH_LABELS = {
    ENTAILED: ("Inferenze (grafo derivato)", "Inferences (derived graph)"),
    DERIVED: ("Affermazioni derivate (grafo derivato)", "Derived statements (derived graph)"),
    RECONCILED: ("Riconciliazioni (grafo derivato)", "Reconciliations (derived graph)"),
}


def self_description(graph: str, rules: tuple[str, str]) -> list[ox.Quad]:
    """Each derived graph says, in itself, that it is derived, by which rules, and how pages name it."""
    g = ox.NamedNode(graph)
    it, en = rules
    label_it, label_en = GRAPH_LABELS[graph.rsplit("/", 1)[-1]]
    return [
        ox.Quad(g, ox.NamedNode(RDFS + "label"), ox.Literal(label_it, language="it"), g),
        ox.Quad(g, ox.NamedNode(RDFS + "label"), ox.Literal(label_en, language="en"), g),
        ox.Quad(g, ox.NamedNode(RDF_TYPE), ox.NamedNode(terms.DerivedGraph), g),
        ox.Quad(g, ox.NamedNode(RDFS + "comment"), ox.Literal(it, language="it"), g),
        ox.Quad(g, ox.NamedNode(RDFS + "comment"), ox.Literal(en, language="en"), g),
    ]


# --- a change ------------------------------------------------------------------------------------


def derive_changes(
    store: ox.Store, added: Iterable[ox.Quad], removed: Iterable[ox.Quad], base: str = DEFAULT_BASE_URI
) -> tuple[set[ox.Quad], set[ox.Quad]]:
    """What to add to and remove from `graph/entailed` and `graph/derived` (remove first) so that they are again
    what `derive` makes of every asserted graph, after the asserted statements `added` and `removed` changed.

    `store` holds the asserted graphs as they are NOW, the ontology and shapes graphs, and the previous
    `graph/entailed` and `graph/derived`, all with IRIs under the default base moved to `base` (as a release's
    store). The work follows the change: every rule reaches from one statement to statements about the same
    nodes, so only the statements the changed ones entail, or are entailed with, are looked up, and the derived
    statements of the subjects they touch (with the memberships naming a node whose labels changed)."""
    return _Change(store, base).apply(list(added), list(removed))


def _rebased(term: Any, base: str) -> Any:
    """A term with an IRI under the default base moved to `base`, as a release's store holds it."""
    if isinstance(term, ox.NamedNode) and term.value.startswith(DEFAULT_BASE_URI) and base != DEFAULT_BASE_URI:
        return ox.NamedNode(base + term.value[len(DEFAULT_BASE_URI) :])
    return term


class _Change:
    """The new asserted data (the store's asserted graphs) and the new entailed graph (the store's, with what
    this change adds and removes) as lookups, and what the change does to the derived graphs."""

    def __init__(self, store: ox.Store, base: str) -> None:
        self.store = store
        ontology = ox.NamedNode(graph_name("ontology", base))
        self.entailed_graph = ox.NamedNode(graph_name(ENTAILED, base))
        self.derived_graph = ox.NamedNode(graph_name(DERIVED, base))
        self.not_data = {ontology, ox.NamedNode(graph_name("shapes", base)), self.entailed_graph, self.derived_graph}
        schema = [(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, ontology)]
        schema += [
            (_rebased(q.subject, base), _rebased(q.predicate, base), _rebased(q.object, base))
            for q in read_quads(STANDARD_AXIOMS)
        ]
        self.rules = Rules(schema)
        self.type, self.membership = ox.NamedNode(RDF_TYPE), ox.NamedNode(ORG + "Membership")
        self.label, self.labels = ox.NamedNode(RDFS + "label"), [ox.NamedNode(p) for p in LABELS]
        self.member, self.organization = ox.NamedNode(ORG + "member"), ox.NamedNode(ORG + "organization")
        self.member_of = ox.NamedNode(ORG + "memberOf")
        self.parts = {name: ox.NamedNode(ORG + name) for name in MEMBERSHIP_PARTS}
        self.dates = [_rebased(ox.NamedNode(p), base) for p in DATE_PROPERTIES]
        self.xsd_date = ox.NamedNode(XSD + "date")
        self.earliest = _rebased(ox.NamedNode(terms.earliestDate), base)
        self.latest = _rebased(ox.NamedNode(terms.latestDate), base)
        # each derived graph's description of itself: never removed, whatever the data says
        self.described: dict[ox.NamedNode, set[Triple]] = {self.entailed_graph: set(), self.derived_graph: set()}
        for name, rules in ((ENTAILED, ENTAILED_RULES), (DERIVED, DERIVED_RULES)):
            for q in self_description(graph_name(name, base), rules):
                triple = (_rebased(q.subject, base), _rebased(q.predicate, base), _rebased(q.object, base))
                self.described[ox.NamedNode(graph_name(name, base))].add(triple)
        self._asserted: dict[Triple, bool] = {}
        self._labels: dict[Node, dict[str, str]] = {}
        self.entail_added: set[Triple] = set()
        self.entail_added_by_subject: dict[Node, set[Triple]] = defaultdict(set)
        self.entail_added_by_object: dict[tuple[ox.NamedNode, Node | ox.Literal], set[Node]] = defaultdict(set)
        self.entail_removed: set[Triple] = set()

    def apply(self, added: list[ox.Quad], removed: list[ox.Quad]) -> tuple[set[ox.Quad], set[ox.Quad]]:
        changed = {(q.subject, q.predicate, q.object) for q in added + removed if q.graph_name not in self.not_data}
        self._entail(changed, self._shortcuts_around(changed, set(added), removed))
        touched = {s for s, _, _ in changed | self.entail_added | self.entail_removed}
        for s, p, _ in changed | self.entail_added | self.entail_removed:
            if p in self.labels:  # a new name for whatever memberships name s
                touched |= {m for part in self.parts.values() for m in self.subjects(part, s)}
        derived_added: set[Triple] = set()
        derived_removed: set[Triple] = set()
        for subject in touched:
            now = self.derived_of(subject)
            before = {
                (q.subject, q.predicate, q.object)
                for q in self.store.quads_for_pattern(subject, None, None, self.derived_graph)
            }
            derived_added |= now - before
            derived_removed |= before - now - self.described[self.derived_graph]

        def quads(triples: set[Triple], graph: ox.NamedNode) -> set[ox.Quad]:
            return {ox.Quad(s, p, o, graph) for s, p, o in triples}

        return (
            quads(self.entail_added, self.entailed_graph) | quads(derived_added, self.derived_graph),
            quads(self.entail_removed, self.entailed_graph) | quads(derived_removed, self.derived_graph),
        )

    # graph/entailed
    def _shortcuts_around(self, changed: set[Triple], added: set[ox.Quad], removed: list[ox.Quad]) -> set[Triple]:
        """ORG's membership shortcuts, before and after, of every membership whose member or organization changed."""
        found: set[Triple] = set()
        for m in {s for s, p, o in changed if p in (self.member, self.organization) and not isinstance(o, ox.Literal)}:

            def before(predicate: ox.NamedNode, m: Node = m) -> set[Node | ox.Literal]:
                kept = {
                    q.object
                    for q in self.store.quads_for_pattern(m, predicate, None, None)
                    if q.graph_name not in self.not_data and q not in added
                }
                return kept | {q.object for q in removed if q.subject == m and q.predicate == predicate}

            for members, organizations in (
                (self.objects(m, self.member, entailed=False), self.objects(m, self.organization, entailed=False)),
                (before(self.member), before(self.organization)),
            ):
                found |= {
                    (a, self.member_of, b)
                    for a in members
                    for b in organizations
                    if not isinstance(a, ox.Literal) and not isinstance(b, ox.Literal)
                }
        return found

    def _entail(self, changed: set[Triple], shortcuts: set[Triple]) -> None:
        """Everything the changed statements (and shortcuts) entail, now or before, is entailed now when a statement
        of the new data entails it and it is not itself asserted."""
        candidates = set().union(*(self.rules.closure(t) for t in changed | shortcuts))
        for triple in candidates:
            entailed = not self.asserted(triple) and any(
                self.asserted(t) or self.shortcut(t) for t in self.rules.sources(triple)
            )
            was = any(True for _ in self.store.quads_for_pattern(*triple, self.entailed_graph))
            if entailed and not was:
                self.entail_added.add(triple)
                self.entail_added_by_subject[triple[0]].add(triple)
                self.entail_added_by_object[triple[1], triple[2]].add(triple[0])
            elif was and not entailed and triple not in self.described[self.entailed_graph]:
                self.entail_removed.add(triple)

    def asserted(self, triple: Triple) -> bool:
        if (known := self._asserted.get(triple)) is not None:
            return known
        found = any(q.graph_name not in self.not_data for q in self.store.quads_for_pattern(*triple, None))
        self._asserted[triple] = found
        return found

    def shortcut(self, triple: Triple) -> bool:
        """ORG's shortcut in the new data: some membership has the subject as member, the object as organization."""
        s, p, o = triple
        if p != self.member_of or isinstance(o, ox.Literal):
            return False
        return any(self.asserted((m, self.organization, o)) for m in self.subjects(self.member, s, entailed=False))

    # graph/derived
    def holds(self, triple: Triple) -> bool:
        """In the new data or entailed from it (what `derive` calls everything)."""
        if self.asserted(triple) or triple in self.entail_added:
            return True
        return triple not in self.entail_removed and any(
            True for _ in self.store.quads_for_pattern(*triple, self.entailed_graph)
        )

    def objects(self, subject: Node, predicate: ox.NamedNode, entailed: bool = True) -> set[Node | ox.Literal]:
        """The objects of `subject`'s `predicate` in the new data (with what it entails unless not `entailed`)."""
        found = set()
        for q in self.store.quads_for_pattern(subject, predicate, None, None):
            if q.graph_name not in self.not_data:
                found.add(q.object)
            elif (
                entailed
                and q.graph_name == self.entailed_graph
                and (subject, predicate, q.object) not in self.entail_removed
            ):
                found.add(q.object)
        if entailed:
            found |= {o for _, p, o in self.entail_added_by_subject.get(subject, ()) if p == predicate}
        return found

    def subjects(self, predicate: ox.NamedNode, value: Node, entailed: bool = True) -> set[Node]:
        """The subjects with `value` as `predicate` in the new data (with what it entails unless not `entailed`)."""
        found = set()
        for q in self.store.quads_for_pattern(None, predicate, value, None):
            if q.graph_name not in self.not_data:
                found.add(q.subject)
            elif (
                entailed
                and q.graph_name == self.entailed_graph
                and (q.subject, predicate, value) not in self.entail_removed
            ):
                found.add(q.subject)
        if entailed:
            found |= self.entail_added_by_object.get((predicate, value), set())
        return found

    def labels_of(self, node: Node) -> dict[str, str]:
        if (known := self._labels.get(node)) is None:
            named = [(node, o) for p in self.labels for o in self.objects(node, p) if isinstance(o, ox.Literal)]
            known = self._labels[node] = _first_labels(named).get(str(node), {})
        return known

    def derived_of(self, subject: Node) -> set[Triple]:
        """`derive`'s graph/derived statements about `subject`, in the new data."""
        found: set[Triple] = set()
        for date in self.dates:
            for value in self.objects(subject, date):
                if isinstance(value, ox.Literal) and (days := bounds(value)) is not None:
                    found.add((subject, self.earliest, ox.Literal(days[0], datatype=self.xsd_date)))
                    found.add((subject, self.latest, ox.Literal(days[1], datatype=self.xsd_date)))
        if self.membership in self.objects(subject, self.type) and not self.objects(subject, self.label):
            parts = {
                name: {o for o in self.objects(subject, part) if not isinstance(o, ox.Literal)}
                for name, part in self.parts.items()
            }
            found |= _membership_label(subject, parts, self.labels_of)
        return {t for t in found if not self.holds(t)}
