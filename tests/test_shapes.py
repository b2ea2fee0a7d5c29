"""SHACL shapes: the shipped data conforms, and every constraint rejects its negative fixture.

Negative fixtures live in ``tests/data/shapes/`` (see its README.md); each is named
``<Shape>--<Constraint>[--<variant>].ttl`` and is validated merged with ``_base.ttl``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pyshacl
import pytest
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "shapes"
SH = Namespace("http://www.w3.org/ns/shacl#")
SHP = Namespace("https://w3id.org/parita/shapes#")

# Constraint parameters and the component each one belongs to (SHACL §4).
PARAMETERS = {
    SH.minCount: "MinCount",
    SH.maxCount: "MaxCount",
    SH.datatype: "Datatype",
    SH["class"]: "Class",
    SH.node: "Node",
    SH["or"]: "Or",
    SH["and"]: "And",
    SH["not"]: "Not",
    SH.xone: "Xone",
    SH.pattern: "Pattern",
    SH.nodeKind: "NodeKind",
    SH.languageIn: "LanguageIn",
    SH.uniqueLang: "UniqueLang",
    SH.qualifiedMinCount: "QualifiedMinCount",
    SH.qualifiedMaxCount: "QualifiedMaxCount",
    SH.hasValue: "HasValue",
    SH["in"]: "In",
    SH.minLength: "MinLength",
    SH.maxLength: "MaxLength",
    SH.closed: "Closed",
    SH.equals: "Equals",
    SH.disjoint: "Disjoint",
}
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


def _parse(*paths: Path) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(path)
    return graph


@functools.cache
def shapes() -> Graph:
    return _parse(ROOT / "shapes" / "parita.ttl")


@functools.cache
def recommended() -> Graph:
    return _parse(ROOT / "shapes" / "parita-recommended.ttl")


@functools.cache
def ontology() -> Graph:
    return _parse(ROOT / "ontology" / "parita.ttl")


@functools.cache
def base() -> Graph:
    return _parse(FIXTURES / "_base.ttl")


def validate(data: Graph, shacl: Graph) -> Graph:
    """Validate as the publishing pipeline does and return the report graph."""
    _, report, _ = pyshacl.validate(data, shacl_graph=shacl, ont_graph=ontology(), inference="none", advanced=True)
    return report


@dataclass(frozen=True)
class Result:
    shape: URIRef
    component: str
    constraint: URIRef | BNode | None
    focus: URIRef | BNode
    severity: URIRef
    messages: frozenset[Literal]


def results(report: Graph) -> list[Result]:
    found = []
    for node in report.objects(None, SH.result):  # top-level results, not nested sh:detail
        component = str(report.value(node, SH.sourceConstraintComponent))
        found.append(
            Result(
                shape=report.value(node, SH.sourceShape),
                component=component.removeprefix(str(SH)).removesuffix("ConstraintComponent"),
                constraint=report.value(node, SH.sourceConstraint),
                focus=report.value(node, SH.focusNode),
                severity=report.value(node, SH.resultSeverity),
                messages=frozenset(report.objects(node, SH.resultMessage)),
            )
        )
    return found


def _named_shapes(graph: Graph) -> set[URIRef]:
    kinds = (SH.NodeShape, SH.PropertyShape)
    return {s for kind in kinds for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef)}


def _helpers(graph: Graph) -> set[URIRef]:
    """Untargeted node shapes that are only reached through sh:node or sh:or."""
    return {
        s
        for s in graph.subjects(RDF.type, SH.NodeShape)
        if isinstance(s, URIRef) and not any(graph.value(s, t) for t in TARGETS)
    }


def required_keys(graph: Graph) -> set[tuple[str, str]]:
    """(shape, component-or-SPARQL-constraint) pairs that a negative fixture must exercise."""
    keys = set()
    for shape in _named_shapes(graph) - _helpers(graph):
        local = shape.removeprefix(str(SHP))
        keys |= {(local, name) for param, name in PARAMETERS.items() if (shape, param, None) in graph}
        keys |= {(local, c.removeprefix(str(SHP))) for c in graph.objects(shape, SH.sparql)}
    return keys


def fixture_key(path: Path) -> tuple[str, str]:
    shape, constraint, *_variant = path.stem.split("--")
    return shape, constraint


CASES = sorted(p for p in FIXTURES.glob("*.ttl") if not p.name.startswith("_"))


@functools.cache
def fixture_graph(name: str) -> Graph:
    return _parse(FIXTURES / name)


@functools.cache
def fixture_results(name: str) -> tuple[Result, ...]:
    data = base() + fixture_graph(name)
    return tuple(results(validate(data, shapes())))


def messages_of(node: URIRef | BNode) -> frozenset[Literal]:
    return frozenset(shapes().objects(node, SH.message))


# --- The shipped data ---------------------------------------------------------------------------


def test_shipped_data_conforms() -> None:
    data = _parse(*sorted((ROOT / "data").glob("*.ttl")))
    found = results(validate(data, shapes() + recommended()))
    for result in found:
        if result.severity == SH.Warning:
            print(f"warning {result.shape.n3()} {result.focus}: {sorted(result.messages)[0]}")
    violations = [r for r in found if r.severity != SH.Warning]
    assert not violations, "\n".join(
        f"{r.shape.removeprefix(str(SHP))} on {r.focus}: {sorted(r.messages)}" for r in violations
    )


def test_base_fixture_conforms() -> None:
    assert results(validate(base(), shapes())) == []


# --- Negative fixtures ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_fixture_triggers_exactly_its_constraint(path: Path) -> None:
    shape, constraint = fixture_key(path)
    found = fixture_results(path.name)
    assert found, f"{path.name} conforms; it should violate shp:{shape} ({constraint})"
    for result in found:
        assert result.severity == SH.Violation
        assert result.shape == SHP[shape], f"unexpected {result}"
        if result.component == "SPARQL":
            assert result.constraint == SHP[constraint], f"unexpected {result}"
            expected = messages_of(result.constraint)
        else:
            assert result.component == constraint, f"unexpected {result}"
            expected = messages_of(result.shape)
        # pyshacl drops the language tag of SPARQL constraint messages: compare the text.
        assert {str(m) for m in result.messages} == {str(m) for m in expected}
        assert {m.language for m in expected} == {"it", "en"}


@pytest.mark.parametrize("key", sorted(required_keys(shapes())), ids="--".join)
def test_every_constraint_has_a_negative_fixture(key: tuple[str, str]) -> None:
    assert key in {fixture_key(p) for p in CASES}, f"add tests/data/shapes/{'--'.join(key)}.ttl"


def test_every_fixture_names_a_constraint() -> None:
    stale = {p.name for p in CASES if fixture_key(p) not in required_keys(shapes())}
    assert not stale


def _subclasses(cls: URIRef) -> set[URIRef]:
    return set(ontology().transitive_subjects(RDFS.subClassOf, cls))


def _exercised_by_a_fixture(node_shape: URIRef) -> bool:
    graph = shapes()
    own = {node_shape, *graph.objects(node_shape, SH.property)}
    classes = {c for t in graph.objects(node_shape, SH.targetClass) for c in _subclasses(t)}
    for path in CASES:
        data = fixture_graph(path.name)
        for result in fixture_results(path.name):
            focus_types = set(data.objects(result.focus, RDF.type))
            # With a class target, the focus must be one of its instances (shared property
            # shapes serve several node shapes); other targets are not checked here.
            if result.shape == node_shape or (result.shape in own and (not classes or focus_types & classes)):
                return True
    return False


@pytest.mark.parametrize(
    "node_shape",
    sorted(s for s in shapes().subjects(RDF.type, SH.NodeShape) if s not in _helpers(shapes())),
    ids=lambda s: s.removeprefix(str(SHP)),
)
def test_every_node_shape_rejects_a_fixture(node_shape: URIRef) -> None:
    assert _exercised_by_a_fixture(node_shape)


# --- How the shapes files are written (STYLE.md §8 item 13) --------------------------------------


def _reports_results(graph: Graph, shape: URIRef) -> bool:
    """Whether results can name this shape or constraint (it has constraints of its own)."""
    if shape in _helpers(graph):
        return False
    own = any((shape, param, None) in graph for param in PARAMETERS)
    return own or (shape, RDF.type, SH.SPARQLConstraint) in graph


@pytest.mark.parametrize("graph", [shapes, recommended], ids=["parita", "parita-recommended"])
def test_every_shape_is_named_and_has_bilingual_messages(graph) -> None:
    g = graph()
    for shape in _named_shapes(g) | set(g.subjects(RDF.type, SH.SPARQLConstraint)):
        assert shape.startswith(str(SHP)), shape
        assert {n.language for n in g.objects(shape, SH.name)} == {"it", "en"}, shape
        if _reports_results(g, shape):
            assert {m.language for m in g.objects(shape, SH.message)} == {"it", "en"}, shape


def test_helper_shapes_are_used() -> None:
    g = shapes()
    used = set(g.objects(None, SH.node))
    assert _helpers(g) <= used


def test_severities() -> None:
    assert set(shapes().objects(None, SH.severity)) <= {SH.Violation}
    rec = recommended()
    named = _named_shapes(rec) | set(rec.subjects(RDF.type, SH.SPARQLConstraint))
    assert named and all(rec.value(s, SH.severity) == SH.Warning for s in named)


def test_secret_facility_forbids_every_location_property() -> None:
    g = shapes()
    forbidden = {
        g.value(p, SH.path)
        for p in g.objects(SHP.SecretFacilityShape, SH.property)
        if g.value(p, SH.maxCount) == Literal(0)
    }
    assert {
        URIRef(u)
        for u in (
            "https://w3id.org/italia/onto/CLV/hasAddress",
            "https://w3id.org/italia/onto/CLV/hasGeometry",
            "http://www.w3.org/ns/org#siteAddress",
            "http://www.w3.org/ns/org#location",
            "http://www.w3.org/ns/locn#address",
            "http://www.w3.org/ns/locn#geometry",
            "http://www.w3.org/2003/01/geo/wgs84_pos#lat",
            "http://www.w3.org/2003/01/geo/wgs84_pos#long",
            "http://schema.org/address",
            "http://schema.org/geo",
            "http://www.w3.org/2006/vcard/ns#hasAddress",
        )
    } <= forbidden
