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
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from scripts.rdfio import graph_of, read_quads
from server import terms
from server.config import DEFAULT_BASE_URI

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


def derive(quads: list[ox.Quad], meta_graphs: set[str], base: str = DEFAULT_BASE_URI) -> list[ox.Quad]:
    """The quads of `graph/entailed` and `graph/derived` for the asserted `quads` (ontology and shapes
    graphs, `meta_graphs`, give the schema but are not themselves entailed over)."""
    ontology = graph_name("ontology", base)
    schema = [(q.subject, q.predicate, q.object) for q in quads if graph_of(q) == ontology]
    schema += [(q.subject, q.predicate, q.object) for q in read_quads(STANDARD_AXIOMS, ox.NamedNode(ontology))]
    data = {(q.subject, q.predicate, q.object) for q in quads if graph_of(q) not in meta_graphs}
    entailed = entail(data, schema) - data
    everything = data | entailed
    derived = (date_bounds(everything) | membership_labels(everything)) - everything
    entailed_iri, derived_iri = graph_name(ENTAILED, base), graph_name(DERIVED, base)
    return (
        _in_graph(entailed, entailed_iri)
        + _in_graph(derived, derived_iri)
        + self_description(entailed_iri, ENTAILED_RULES)
        + self_description(derived_iri, DERIVED_RULES)
    )


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


def entail(data: set[Triple], schema: list[Triple]) -> set[Triple]:
    """`data` plus everything the rules add, to a fixpoint."""
    axioms = {(_iri(s), p.value, _iri(o)) for s, p, o in schema}
    superclasses = _closure((low, high) for low, rel, high in axioms if rel == RDFS + "subClassOf" and low and high)
    superproperties = _closure(
        (low, high) for low, rel, high in axioms if rel == RDFS + "subPropertyOf" and low and high
    )
    inverse: dict[str, set[str]] = defaultdict(set)
    for one, rel, other in axioms:
        if rel == OWL + "inverseOf" and one and other:
            inverse[one].add(other)
            inverse[other].add(one)
    symmetric = {prop for prop, rel, kind in axioms if rel == RDF_TYPE and kind == OWL + "SymmetricProperty" and prop}
    result = set(data)
    # ORG's shortcut first: org:member and org:organization are only ever asserted (nothing entails them)
    frontier = set(data) | _membership_shortcuts(data)
    result |= frontier
    while frontier:
        new: set[Triple] = set()
        for s, p, o in frontier:
            if p.value == RDF_TYPE and isinstance(o, ox.NamedNode):
                new |= {(s, p, ox.NamedNode(c)) for c in superclasses.get(o.value, ())}
            new |= {(s, ox.NamedNode(q), o) for q in superproperties.get(p.value, ())}
            if not isinstance(o, ox.Literal):
                new |= {(o, ox.NamedNode(q), s) for q in inverse.get(p.value, ())}
                if p.value in symmetric:
                    new.add((o, p, s))
        frontier = new - result
        result |= frontier
    return result


def _iri(term: object) -> str | None:
    return term.value if isinstance(term, ox.NamedNode) else None


def _membership_shortcuts(triples: set[Triple]) -> set[Triple]:
    """ORG: "It is possible to directly indicate membership ... through use of the org:memberOf property"."""
    members: dict[Node, Node] = {}
    organizations: dict[Node, Node] = {}
    for s, p, o in triples:
        if isinstance(o, ox.Literal):
            continue
        if p.value == ORG + "member":
            members[s] = o
        elif p.value == ORG + "organization":
            organizations[s] = o
    member_of = ox.NamedNode(ORG + "memberOf")
    return {(members[m], member_of, organizations[m]) for m in members.keys() & organizations.keys()}


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


def date_bounds(triples: set[Triple]) -> set[Triple]:
    date = ox.NamedNode(XSD + "date")
    earliest, latest = ox.NamedNode(terms.earliestDate), ox.NamedNode(terms.latestDate)
    found: set[Triple] = set()
    for s, p, o in triples:
        if p.value in DATE_PROPERTIES and isinstance(o, ox.Literal) and (days := bounds(o)) is not None:
            found |= {
                (s, earliest, ox.Literal(days[0], datatype=date)),
                (s, latest, ox.Literal(days[1], datatype=date)),
            }
    return found


def _labels(triples: set[Triple]) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    wanted = (RDFS + "label", SKOS + "prefLabel")
    found = [(s, o) for s, p, o in triples if p.value in wanted and isinstance(o, ox.Literal) and o.language]
    for s, o in sorted(found, key=str):  # sorted: the first label per language is the same in every build
        labels[str(s)].setdefault(o.language or "", o.value)
    return labels


def _of(name: str) -> str:
    """Italian "of the" before an organisation's name: dell'Unione, della Rete, del Tavolo."""
    first = name.split()[0].casefold() if name.split() else ""
    if first[:1] in "aeiou" and first:
        return f"dell'{name}"
    return f"della {name}" if first.endswith("a") or first == "rete" else f"del {name}"


def membership_labels(triples: set[Triple]) -> set[Triple]:
    """ "Comune di Asti — membro della Rete provinciale antiviolenza di Asti" / "Municipality of Asti — member
    of Asti provincial anti-violence network", for every org:Membership without a label of its own."""
    labels = _labels(triples)
    props: dict[str, dict[str, Node]] = defaultdict(dict)
    memberships, labelled = set(), set()
    rdf_type, membership, rdfs_label = (
        ox.NamedNode(RDF_TYPE),
        ox.NamedNode(ORG + "Membership"),
        ox.NamedNode(RDFS + "label"),
    )
    parts_of = {ox.NamedNode(ORG + name) for name in ("member", "organization", "role")}
    for s, p, o in triples:
        if p == rdf_type and o == membership:
            memberships.add(s)
        elif p == rdfs_label:
            labelled.add(s)
        elif p in parts_of and not isinstance(o, ox.Literal):
            props[str(s)][p.value] = o
    label = ox.NamedNode(RDFS + "label")
    found: set[Triple] = set()
    for m in memberships - labelled:
        parts = props[str(m)]
        if ORG + "member" not in parts or ORG + "organization" not in parts:
            continue
        member, organization = labels[str(parts[ORG + "member"])], labels[str(parts[ORG + "organization"])]
        role = labels[str(parts[ORG + "role"])] if ORG + "role" in parts else {}
        if "it" in member and "it" in organization:
            italian = f"{member['it']} — {role.get('it', 'membro').casefold()} {_of(organization['it'])}"
            found.add((m, label, ox.Literal(italian, language="it")))
            english_role = role.get("en", "member").casefold()
            english = (
                f"{member.get('en', member['it'])} — {english_role} of {organization.get('en', organization['it'])}"
            )
            found.add((m, label, ox.Literal(english, language="en")))
    return found


# --- both ----------------------------------------------------------------------------------------


def _in_graph(triples: set[Triple], graph: str) -> list[ox.Quad]:
    g = ox.NamedNode(graph)
    return [ox.Quad(s, p, o, g) for s, p, o in sorted(triples, key=str)]


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
