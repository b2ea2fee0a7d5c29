"""parita's SHACL engine: the shapes interpreted over an in-memory index of the data, set at a time.

It answers what pySHACL answers with `inference="none"`, `advanced=True` and the ontology mixed into the
data graph (tests/test_validation_oracle.py compares the two on every run): the same results, with the
same focus node, path, value, source shape, severity and constraint component, one per failing value.
The SHACL features it knows are listed in `SUPPORTED`; a shape that uses anything else (sh:closed,
sh:equals, sh:rule, ...) raises `UnsupportedShapes` before any data is read, never a silent difference.

Semantics kept as pySHACL keeps them:
- SHACL instances (targets by class, sh:class) follow rdf:type/rdfs:subClassOf* over data + ontology;
- value nodes are sets; a result per failing value node (sh:class, sh:datatype, sh:node, sh:or, ...),
  one without a value for the counting components (sh:minCount, sh:maxCount, qualified counts,
  sh:hasValue on a property shape, one per repeated language for sh:uniqueLang);
- a node shape's value node is its focus node;
- datatypes, patterns and lengths are decided on the rdflib form of a literal (ill-typed, normalised);
- a shape reached from several targeted shapes through sh:property reports once per reference;
- SPARQL targets and SPARQL constraints run on a pyoxigraph store of the same data, the constraint once
  for every `$this` (its rows then grouped by `$this`), which equals pre-binding for queries whose only
  use of `$this` is in the basic graph pattern (checked: anything else is unsupported).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
import rdflib
import rdflib.collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from scripts.rdfio import to_rdflib_term
from server.statements import AnyQuad, as_quads

Term = Any  # a pyoxigraph NamedNode, BlankNode or Literal
Triple = tuple[Term, Term, Term]

# Parameters of a shape the engine evaluates (anything else with the sh: namespace is refused).
SUPPORTED = {
    SH.path, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target,
    SH.property, SH.node, SH["or"], SH["and"], SH["not"], SH.xone,
    SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.nodeKind, SH.pattern, SH.flags,
    SH.languageIn, SH.uniqueLang, SH.hasValue, SH["in"], SH.minLength, SH.maxLength,
    SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
    SH.sparql, SH.severity, SH.message, SH.name, SH.description, SH.deactivated, SH.order, SH.group,
    SH.defaultValue,
}  # fmt: skip
SHAPE_TYPES = {SH.NodeShape, SH.PropertyShape}
RDF_TYPE, SUBCLASS = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(RDFS.subClassOf))
COMPONENT = {
    SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH["class"]: SH.ClassConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH.languageIn: SH.LanguageInConstraintComponent,
    SH.uniqueLang: SH.UniqueLangConstraintComponent,
    SH.hasValue: SH.HasValueConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
    SH.node: SH.NodeConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH["not"]: SH.NotConstraintComponent,
    SH.xone: SH.XoneConstraintComponent,
    SH.qualifiedMinCount: SH.QualifiedMinCountConstraintComponent,
    SH.qualifiedMaxCount: SH.QualifiedMaxCountConstraintComponent,
    SH.sparql: SH.SPARQLConstraintComponent,
}
NODE_KINDS = {
    SH.IRI: (ox.NamedNode,),
    SH.BlankNode: (ox.BlankNode,),
    SH.Literal: (ox.Literal,),
    SH.BlankNodeOrIRI: (ox.BlankNode, ox.NamedNode),
    SH.BlankNodeOrLiteral: (ox.BlankNode, ox.Literal),
    SH.IRIOrLiteral: (ox.NamedNode, ox.Literal),
}


class UnsupportedShapes(Exception):
    """The shapes use a SHACL feature this engine does not evaluate: use pySHACL (`--engine pyshacl`)."""


@dataclass(frozen=True, slots=True)  # slots: a build keeps every result with its report
class Result:
    """One validation result, terms as in the data (pyoxigraph) and the shapes graph (rdflib)."""

    shape: rdflib.term.Node
    component: rdflib.URIRef
    focus: Term
    value: Term | None
    path: rdflib.term.Node | None
    severity: rdflib.URIRef
    messages: tuple[rdflib.Literal, ...]
    constraint: rdflib.term.Node | None = None


# --- the data -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A SELECT query's solutions, kept after the store that answered them is gone."""

    variables: frozenset[str]
    rows: list[dict[str, Term]]  # variable -> value, unbound variables left out


class Data:
    """The data graph as dictionaries: predicate -> subject -> objects (a set, in reading order), built when
    first read; SPARQL queries run on a pyoxigraph store of the same triples. `answer` runs them all first and
    frees the store, so the store and the dictionaries are never in memory together."""

    def __init__(self, quads: Sequence[AnyQuad]):
        self._quads = quads
        self._into: dict[Term, dict[Term, list[Term]]] = {}
        self._store: ox.Store | None = None
        self._answers: dict[str, Answer] = {}
        # cached on the instance: a functools.cache on the method would keep every Data (index, store) alive
        self._superclasses: dict[Term, frozenset[Term]] = {}

    @functools.cached_property
    def out(self) -> dict[Term, dict[Term, list[Term]]]:
        out: dict[Term, dict[Term, list[Term]]] = defaultdict(dict)
        # one object per distinct term: each access to a quad's term makes a new one, and the same subject,
        # class or value is repeated across many triples
        same: dict[Term, Term] = {}
        for q in self._quads:
            s, p, o = q.subject, q.predicate, q.object
            by_subject = out[p]
            values = by_subject.get(s)
            if values is None:
                by_subject[same.setdefault(s, s)] = [same.setdefault(o, o)]
            else:
                values.append(same.setdefault(o, o))
        for by_subject in out.values():
            for s, values in by_subject.items():
                if len(values) > 1:
                    by_subject[s] = list(dict.fromkeys(values))
        return dict(out)

    def objects(self, s: Term, p: Term) -> list[Term]:
        return self.out.get(p, {}).get(s, [])

    def subjects(self, p: Term, o: Term) -> list[Term]:
        return self.into(p).get(o, [])

    def into(self, p: Term) -> dict[Term, list[Term]]:
        if p not in self._into:
            index: dict[Term, list[Term]] = defaultdict(list)
            for s, values in self.out.get(p, {}).items():
                for o in values:
                    index[o].append(s)
            self._into[p] = dict(index)
        return self._into[p]

    @functools.cached_property
    def _types(self) -> dict[Term, list[Term]]:
        return self.out.get(RDF_TYPE, {})

    def superclasses(self, cls: Term) -> frozenset[Term]:
        known = self._superclasses.get(cls)
        if known is not None:
            return known
        found, todo = {cls}, [cls]
        while todo:
            for parent in self.objects(todo.pop(), SUBCLASS):
                if parent not in found:
                    found.add(parent)
                    todo.append(parent)
        known = self._superclasses[cls] = frozenset(found)
        return known

    def is_instance(self, node: Term, cls: Term) -> bool:
        return any(cls in self.superclasses(t) for t in self._types.get(node, ()))

    def instances(self, cls: Term) -> list[Term]:
        classes, todo = {cls}, [cls]
        while todo:
            for child in self.subjects(SUBCLASS, todo.pop()):
                if child not in classes:
                    classes.add(child)
                    todo.append(child)
        typed = self.into(RDF_TYPE)
        return list(dict.fromkeys(n for c in classes for n in typed.get(c, ())))

    def store(self) -> ox.Store:
        """The same triples in a pyoxigraph store, for SPARQL targets and constraints (built once)."""
        if self._store is None:
            self._store = ox.Store()
            self._store.bulk_extend(as_quads(self._quads))  # queried with the union of the graphs as default graph
        return self._store

    def answer(self, queries: Iterable[str]) -> None:
        """Run `queries` now, keep their solutions for `select`, and free the store."""
        for query in queries:
            self._answers[query] = self.select(query)
        self._store = None

    def select(self, query: str) -> Answer:
        if query in self._answers:
            return self._answers[query]
        solutions = self.store().query(query, use_default_graph_as_union=True)
        assert isinstance(solutions, ox.QuerySolutions), "a SELECT query"
        names = frozenset(v.value for v in solutions.variables)
        rows = [{name: value for name in names if (value := row[name]) is not None} for row in solutions]
        return Answer(names, rows)


# --- literals as rdflib sees them (pySHACL decides datatypes and patterns on rdflib terms) -------------


@functools.lru_cache(maxsize=65536)
def _rdflib_literal(value: str, datatype: str | None, language: str | None) -> rdflib.Literal:
    if language:
        return rdflib.Literal(value, lang=language)
    return rdflib.Literal(value, datatype=rdflib.URIRef(datatype) if datatype else None)


def as_rdflib(term: Term) -> rdflib.term.Node:
    if isinstance(term, ox.Literal):
        return _rdflib_literal(term.value, None if term.language else term.datatype.value, term.language)
    return to_rdflib_term(term)


def _string_of(term: Term) -> str:
    """pySHACL's value_node_to_string: the lexical form (normalised by rdflib) or the IRI."""
    node = as_rdflib(term)
    if (
        isinstance(node, rdflib.Literal)
        and node.value is not None
        and node.datatype in (None, RDF.langString, XSD.string)
    ):
        return str(node.value)
    return str(node)


def as_ox(node: rdflib.term.Node) -> Term:
    if isinstance(node, rdflib.URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, rdflib.BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, rdflib.Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype or XSD.string)))
    raise UnsupportedShapes(f"unexpected term {node!r} in the shapes")


def datatype_matches(term: Term, datatype: rdflib.URIRef) -> bool:
    """pySHACL's DatatypeConstraintComponent on one value."""
    if not isinstance(term, ox.Literal):
        return False
    node = as_rdflib(term)
    assert isinstance(node, rdflib.Literal)
    if node.datatype == datatype:
        return node.ill_typed is not True and _actual_datatype(node, datatype)
    if datatype == RDFS.Literal:
        return True
    if datatype == RDFS.Datatype and node.datatype:
        return True
    if node.datatype is None and node.language is None and datatype == XSD.string:
        return _actual_datatype(node, datatype)
    if datatype == RDF.langString and node.language:
        return _actual_datatype(node, datatype)
    return False


def _actual_datatype(node: rdflib.Literal, datatype: rdflib.URIRef) -> bool:
    import datetime
    from decimal import Decimal

    checks: dict[rdflib.URIRef, type | tuple[type, ...]] = {
        XSD.string: (str, bytes),
        RDF.langString: (str, bytes),
        XSD.integer: int,
        XSD.float: float,
        XSD.decimal: Decimal,
        XSD.boolean: bool,
        XSD.date: datetime.date,
        XSD.time: datetime.time,
        XSD.dateTime: datetime.datetime,
    }
    wanted = checks.get(datatype)
    return True if wanted is None else isinstance(node.value, wanted)


# --- the shapes ---------------------------------------------------------------------------------------

Check = Callable[["Shape", Term, list[Term]], Iterator[Result]]


@dataclass(eq=False)
class Shape:
    node: rdflib.term.Node
    path: Callable[[Term], list[Term]] | None
    path_node: rdflib.term.Node | None
    severity: rdflib.URIRef
    messages: tuple[rdflib.Literal, ...]
    deactivated: bool
    checks: list[Check] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)

    def result(
        self,
        component: rdflib.URIRef,
        focus: Term,
        value: Term | None,
        path: rdflib.term.Node | None = None,
        constraint: rdflib.term.Node | None = None,
        messages: tuple[rdflib.Literal, ...] = (),
    ) -> Result:
        return Result(
            shape=self.node,
            component=component,
            focus=focus,
            value=value,
            path=path if path is not None else self.path_node,
            severity=self.severity,
            messages=messages or self.messages,
            constraint=constraint,
        )


class Engine:
    """The shapes of one shapes graph, compiled once; `validate(data)` gives every result."""

    def __init__(self, shapes: rdflib.Graph):
        self.g = shapes
        self._compiled: dict[rdflib.term.Node, Shape] = {}
        self.queries: list[str] = []  # every SPARQL query of the shapes, asked of the data before anything else
        self._conforms: dict[tuple[int, Term], bool] = {}
        self.data: Data | None = None
        self.targeted = [self.shape(s) for s in self._targeted_nodes()]
        self.targets = {id(s): list(self._targets(s.node)) for s in self.targeted}
        self.queries += [arg for targets in self.targets.values() for kind, arg in targets if kind == "sparql"]

    # compile

    def _targeted_nodes(self) -> list[rdflib.term.Node]:
        g = self.g
        found: dict[rdflib.term.Node, None] = {}
        for predicate in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
            for s in g.subjects(predicate, None):
                found[s] = None
        for kind in SHAPE_TYPES:  # implicit class targets
            for s in g.subjects(RDF.type, kind):
                if (s, RDF.type, RDFS.Class) in g or (s, RDF.type, rdflib.OWL.Class) in g:
                    raise UnsupportedShapes(f"implicit class target on {s}")
        return sorted(found, key=str)

    def _targets(self, node: rdflib.term.Node) -> Iterator[tuple[str, Any]]:
        g = self.g
        for c in g.objects(node, SH.targetClass):
            yield "class", as_ox(c)
        for n in g.objects(node, SH.targetNode):
            yield "node", as_ox(n)
        for p in g.objects(node, SH.targetSubjectsOf):
            yield "subjects", as_ox(p)
        for p in g.objects(node, SH.targetObjectsOf):
            yield "objects", as_ox(p)
        for target in g.objects(node, SH.target):
            select = g.value(target, SH.select)
            if select is None or (target, RDF.type, SH.SPARQLTarget) not in g:
                raise UnsupportedShapes(f"sh:target {target} is not a SPARQL target with sh:select")
            yield "sparql", self._prefixes(target) + str(select)

    def _prefixes(self, node: rdflib.term.Node) -> str:
        lines = []
        for declarer in self.g.objects(node, SH.prefixes):
            for declaration in self.g.objects(declarer, SH.declare):
                prefix, namespace = self.g.value(declaration, SH.prefix), self.g.value(declaration, SH.namespace)
                lines.append(f"PREFIX {prefix}: <{namespace}>\n")
        return "".join(lines)

    def shape(self, node: rdflib.term.Node) -> Shape:
        if node in self._compiled:
            return self._compiled[node]
        g = self.g
        for p in g.predicates(node, None):
            if str(p).startswith(str(SH)) and p not in SUPPORTED:
                raise UnsupportedShapes(f"{p.n3(g.namespace_manager)} on shape {node} (use --engine pyshacl)")
        path_node = g.value(node, SH.path)
        severity = g.value(node, SH.severity) or SH.Violation
        assert isinstance(severity, rdflib.URIRef)
        shape = Shape(
            node=node,
            path=None if path_node is None else self._path(path_node),
            path_node=path_node,
            severity=severity,
            messages=tuple(m for m in g.objects(node, SH.message) if isinstance(m, rdflib.Literal)),
            deactivated=g.value(node, SH.deactivated) == rdflib.Literal(True),
        )
        self._compiled[node] = shape  # before the parts: shapes may refer to each other
        shape.checks = self._checks(node)
        shape.properties = [self.shape(p) for p in g.objects(node, SH.property)]
        for other in self._referenced(node):
            self.shape(other)
        return shape

    def _referenced(self, node: rdflib.term.Node) -> list[rdflib.term.Node]:
        """The shapes a shape's constraints name (sh:node, sh:not, sh:qualifiedValueShape, the members of sh:or,
        sh:and, sh:xone): compiled with it, so every SPARQL query is known before the data is read and an
        unsupported feature is refused before validation starts, not midway."""
        g = self.g
        found = [*g.objects(node, SH.node), *g.objects(node, SH["not"]), *g.objects(node, SH.qualifiedValueShape)]
        for kind in (SH["or"], SH["and"], SH.xone):
            for members in g.objects(node, kind):
                found += self._list(members)
        return found

    def _list(self, node: rdflib.term.Node) -> list[rdflib.term.Node]:
        return list(rdflib.collection.Collection(self.g, node))

    def _path(self, node: rdflib.term.Node) -> Callable[[Term], list[Term]]:
        g = self.g
        if isinstance(node, rdflib.URIRef):
            p = as_ox(node)
            return lambda f: self._data.objects(f, p)
        if (node, RDF.first, None) in g:
            steps = [self._path(item) for item in self._list(node)]

            def sequence(f: Term) -> list[Term]:
                nodes = [f]
                for step in steps:
                    nodes = list(dict.fromkeys(v for n in nodes for v in step(n)))
                return nodes

            return sequence
        if (alternatives := g.value(node, SH.alternativePath)) is not None:
            options = [self._path(item) for item in self._list(alternatives)]
            return lambda f: list(dict.fromkeys(v for option in options for v in option(f)))
        if (inverse := g.value(node, SH.inversePath)) is not None:
            if not isinstance(inverse, rdflib.URIRef):
                raise UnsupportedShapes(f"an inverse of a complex path in {node}")
            p = as_ox(inverse)
            return lambda f: self._data.subjects(p, f)
        for kind, include_self in ((SH.zeroOrMorePath, True), (SH.oneOrMorePath, False)):
            if (inner := g.value(node, kind)) is not None:
                step = self._path(inner)

                def closure(
                    f: Term, step: Callable[[Term], list[Term]] = step, include_self: bool = include_self
                ) -> list[Term]:
                    found: dict[Term, None] = {f: None} if include_self else {}
                    todo = [f]
                    while todo:
                        for v in step(todo.pop()):
                            if v not in found:
                                found[v] = None
                                todo.append(v)
                    return list(found)

                return closure
        if (inner := g.value(node, SH.zeroOrOnePath)) is not None:
            step = self._path(inner)
            return lambda f: list(dict.fromkeys([f, *step(f)]))
        raise UnsupportedShapes(f"path {node} is not a SHACL property path")

    @property
    def _data(self) -> Data:
        assert self.data is not None, "validate() sets the data"
        return self.data

    def _checks(self, node: rdflib.term.Node) -> list[Check]:
        g = self.g
        checks: list[Check] = []

        def each(component: rdflib.URIRef, fails: Callable[[Term], bool]) -> Check:
            def check(shape: Shape, focus: Term, values: list[Term]) -> Iterator[Result]:
                for v in values:
                    if fails(v):
                        yield shape.result(component, focus, v)

            return check

        def count(component: rdflib.URIRef, fails: Callable[[int], bool]) -> Check:
            def check(shape: Shape, focus: Term, values: list[Term]) -> Iterator[Result]:
                if fails(len(values)):
                    yield shape.result(component, focus, None)

            return check

        for n in g.objects(node, SH.minCount):
            checks.append(count(SH.MinCountConstraintComponent, int(str(n)).__gt__))
        for n in g.objects(node, SH.maxCount):
            checks.append(count(SH.MaxCountConstraintComponent, int(str(n)).__lt__))
        for dt in g.objects(node, SH.datatype):
            checks.append(
                each(SH.DatatypeConstraintComponent, functools.partial(_wrong_datatype, rdflib.URIRef(str(dt))))
            )
        for cls in g.objects(node, SH["class"]):
            c = as_ox(cls)
            checks.append(
                each(
                    SH.ClassConstraintComponent,
                    functools.partial(self._not_instance, c),
                )
            )
        for kind in g.objects(node, SH.nodeKind):
            kinds = NODE_KINDS.get(rdflib.URIRef(str(kind)))
            if kinds is None:
                raise UnsupportedShapes(f"sh:nodeKind {kind}")
            checks.append(each(SH.NodeKindConstraintComponent, functools.partial(_wrong_kind, kinds)))
        flags = str(g.value(node, SH.flags) or "").lower()
        for pattern in g.objects(node, SH.pattern):
            regex = re.compile(str(pattern), (re.I if "i" in flags else 0) | (re.M if "m" in flags else 0))
            checks.append(
                each(
                    SH.PatternConstraintComponent,
                    functools.partial(_no_match, regex),
                )
            )
        for languages in g.objects(node, SH.languageIn):
            wanted = {str(x).lower() for x in self._list(languages)}
            checks.append(each(SH.LanguageInConstraintComponent, functools.partial(_not_language_in, wanted)))
        for unique in g.objects(node, SH.uniqueLang):
            if unique == rdflib.Literal(True):
                checks.append(_unique_lang)
        for value in g.objects(node, SH.hasValue):
            checks.append(_has_value(as_ox(value)))
        for members in g.objects(node, SH["in"]):
            allowed = {as_ox(x) for x in self._list(members)}
            checks.append(each(SH.InConstraintComponent, functools.partial(_not_in, allowed)))
        for length, longer in ((SH.minLength, False), (SH.maxLength, True)):
            for n in g.objects(node, length):
                component = SH.MaxLengthConstraintComponent if longer else SH.MinLengthConstraintComponent
                checks.append(
                    each(
                        component,
                        functools.partial(_wrong_length, int(str(n)), longer),
                    )
                )
        for other in g.objects(node, SH.node):
            checks.append(each(SH.NodeConstraintComponent, functools.partial(self._conforms_to_none, [other])))
        for members in g.objects(node, SH["or"]):
            ors = [n for n in self._list(members)]
            checks.append(each(SH.OrConstraintComponent, functools.partial(self._conforms_to_none, ors)))
        for members in g.objects(node, SH["and"]):
            ands = [n for n in self._list(members)]
            checks.append(each(SH.AndConstraintComponent, functools.partial(self._not_all, ands)))
        for members in g.objects(node, SH.xone):
            xs = [n for n in self._list(members)]
            checks.append(each(SH.XoneConstraintComponent, functools.partial(self._not_one, xs)))
        for negated in g.objects(node, SH["not"]):
            checks.append(each(SH.NotConstraintComponent, functools.partial(self._conforms_to_one, negated)))
        qualified = g.value(node, SH.qualifiedValueShape)
        if qualified is not None:
            if g.value(node, SH.qualifiedValueShapesDisjoint) == rdflib.Literal(True):
                raise UnsupportedShapes(f"sh:qualifiedValueShapesDisjoint on {node}")
            for bound, component, fails in (
                (SH.qualifiedMinCount, SH.QualifiedMinCountConstraintComponent, lambda k, n: k < n),
                (SH.qualifiedMaxCount, SH.QualifiedMaxCountConstraintComponent, lambda k, n: k > n),
            ):
                for n in g.objects(node, bound):
                    checks.append(_qualified(self, qualified, int(str(n)), component, fails))
        for constraint in g.objects(node, SH.sparql):
            checks.append(self._sparql_constraint(node, constraint))
        return checks

    def _sparql_constraint(self, node: rdflib.term.Node, constraint: rdflib.term.Node) -> Check:
        g = self.g
        select = g.value(constraint, SH.select)
        for p in g.predicates(constraint, None):
            if str(p).startswith(str(SH)) and p not in (
                SH.select,
                SH.prefixes,
                SH.message,
                SH.deactivated,
                SH.name,
                SH.description,
            ):
                raise UnsupportedShapes(f"{p} on SPARQL constraint {constraint}")
        if select is None or (node, SH.path, None) in g:
            raise UnsupportedShapes(f"SPARQL constraint {constraint}: only sh:select on a node shape")
        text = str(select)
        body = text[text.index("{") :]
        if re.search(
            r"\$(shapesGraph|currentShape|PATH)\b|\b(SERVICE|GRAPH|MINUS|NOT\s+EXISTS|EXISTS|SELECT|VALUES|BIND)\b",
            body,
            re.I,
        ):
            raise UnsupportedShapes(f"SPARQL constraint {constraint}: only a basic pattern with FILTER")
        if not re.search(r"SELECT\s+(DISTINCT\s+)?\$this\b", text, re.I):
            raise UnsupportedShapes(f"SPARQL constraint {constraint} must select $this")
        query = self._prefixes(constraint) + text
        self.queries.append(query)
        messages = tuple(m for m in g.objects(constraint, SH.message) if isinstance(m, rdflib.Literal))
        rows: dict[Term, list[tuple[Term | None, Term | None]]] | None = None

        def check(shape: Shape, focus: Term, values: list[Term]) -> Iterator[Result]:
            nonlocal rows
            if rows is None:
                rows = defaultdict(list)
                answer = self._data.select(query)
                for row in answer.rows:
                    rows[row.get("this")].append((row.get("path"), row.get("value")))
            seen = set()
            for path, value in rows.get(focus, ()):
                if (path, value) in seen:
                    continue
                seen.add((path, value))
                yield shape.result(
                    SH.SPARQLConstraintComponent,
                    focus,
                    value,
                    path=None if path is None else as_rdflib(path),
                    constraint=constraint,
                    messages=messages or shape.messages,
                )

        return check

    def _not_instance(self, cls: Term, v: Term) -> bool:
        return isinstance(v, ox.Literal) or not self._data.is_instance(v, cls)

    def _conforms_to_none(self, shapes: list[rdflib.term.Node], v: Term) -> bool:
        return not any(self.conforms(self.shape(s), v) for s in shapes)

    def _not_all(self, shapes: list[rdflib.term.Node], v: Term) -> bool:
        return not all(self.conforms(self.shape(s), v) for s in shapes)

    def _not_one(self, shapes: list[rdflib.term.Node], v: Term) -> bool:
        return sum(self.conforms(self.shape(s), v) for s in shapes) != 1

    def _conforms_to_one(self, shape: rdflib.term.Node, v: Term) -> bool:
        return self.conforms(self.shape(shape), v)

    # evaluate

    def evaluate(self, shape: Shape, focus: Term) -> Iterator[Result]:
        if shape.deactivated:
            return
        values = [focus] if shape.path is None else shape.path(focus)
        for check in shape.checks:
            yield from check(shape, focus, values)
        for prop in shape.properties:
            yield from self.evaluate(prop, focus)

    def conforms(self, shape: Shape, node: Term) -> bool:
        key = (id(shape), node)
        known = self._conforms.get(key)
        if known is None:
            known = self._conforms[key] = next(self.evaluate(shape, node), None) is None
        return known

    def focus_nodes(self, shape: Shape) -> list[Term]:
        data = self._data
        found: dict[Term, None] = {}
        for kind, arg in self.targets[id(shape)]:
            if kind == "class":
                found.update(dict.fromkeys(data.instances(arg)))
            elif kind == "node":
                found[arg] = None
            elif kind == "subjects":
                found.update(dict.fromkeys(data.out.get(arg, {})))
            elif kind == "objects":
                found.update(dict.fromkeys(data.into(arg)))
            else:
                found.update(dict.fromkeys(row["this"] for row in data.select(arg).rows if "this" in row))
        return list(found)

    def validate(self, data: Data) -> list[Result]:
        self.data, self._conforms = data, {}
        try:
            data.answer(self.queries)  # the SPARQL store is freed before the dictionaries are built
            return [r for shape in self.targeted for f in self.focus_nodes(shape) for r in self.evaluate(shape, f)]
        finally:
            self.data, self._conforms = None, {}


def _wrong_datatype(datatype: rdflib.URIRef, v: Term) -> bool:
    return not datatype_matches(v, datatype)


def _wrong_kind(kinds: tuple[type, ...], v: Term) -> bool:
    return not isinstance(v, kinds)


def _no_match(regex: re.Pattern[str], v: Term) -> bool:
    return isinstance(v, ox.BlankNode) or not regex.search(_string_of(v))


def _not_language_in(wanted: set[str], v: Term) -> bool:
    return not _language_in(v, wanted)


def _not_in(allowed: set[Term], v: Term) -> bool:
    return v not in allowed


def _wrong_length(n: int, longer: bool, v: Term) -> bool:
    if isinstance(v, ox.BlankNode):
        return True
    return len(_string_of(v)) > n if longer else len(_string_of(v)) < n


def _language_in(v: Term, wanted: set[str]) -> bool:
    if not isinstance(v, ox.Literal) or not v.language:
        return False
    lang = v.language.lower()
    return "*" in wanted or lang in wanted or lang.split("-")[0] in wanted


def _unique_lang(shape: Shape, focus: Term, values: list[Term]) -> Iterator[Result]:
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for v in values:
        if isinstance(v, ox.Literal) and v.language:
            lang = v.language.lower()
            if lang in seen:
                repeated[lang] = None
            seen.add(lang)
    for _ in repeated:
        yield shape.result(SH.UniqueLangConstraintComponent, focus, None)


def _has_value(wanted: Term) -> Check:
    def check(shape: Shape, focus: Term, values: list[Term]) -> Iterator[Result]:
        if wanted not in values:
            yield shape.result(SH.HasValueConstraintComponent, focus, None)

    return check


def _qualified(
    engine: Engine, qualified: rdflib.term.Node, n: int, component: rdflib.URIRef, fails: Callable[[int, int], bool]
) -> Check:
    def check(shape: Shape, focus: Term, values: list[Term]) -> Iterator[Result]:
        inner = engine.shape(qualified)
        if fails(sum(engine.conforms(inner, v) for v in values), n):
            yield shape.result(component, focus, None)

    return check


def validate(quads: Sequence[AnyQuad], shapes: rdflib.Graph) -> list[Result]:
    """Every SHACL result of `quads` (data and ontology, their graphs as one) against `shapes`."""
    return Engine(shapes).validate(Data(quads))
