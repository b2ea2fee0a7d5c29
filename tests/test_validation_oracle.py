"""pySHACL is the oracle of parita's SHACL engine (scripts/shacl_engine.py): on the real data, on every negative
fixture of the shapes tests, on mutations of the real data and on synthetic scale 0.1, both engines give the same
results — the same focus node, path, value, source shape, severity and constraint component, as many times —
or this test fails naming the difference."""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from scripts import shacl_engine
from scripts.build import meta_graphs, read_sources, release_sources
from scripts.rdfio import graph_of, read_quads
from scripts.validate import Report, main, shapes_graph, validate_graph
from server.config import PROJECT_ROOT, Settings
from tests.release_helpers import settings_for
from tools.synth import synthesize

FIXTURES = PROJECT_ROOT / "tests" / "data" / "shapes"
SETTINGS = Settings()
Key = tuple[str, str | None, str | None, str, str, str]


@functools.cache
def shapes() -> rdflib.Graph:
    return shapes_graph(SETTINGS)


@functools.cache
def ontology() -> tuple[ox.Quad, ...]:
    return tuple(q for path in sorted(SETTINGS.ontology_dir.glob("*.ttl")) for q in read_quads(path))


def release_data(settings: Settings) -> list[ox.Quad]:
    meta = meta_graphs()
    return [q for q in read_sources(release_sources(settings)) if graph_of(q) not in meta]


def results(report: Report) -> Counter[Key]:
    return Counter((f.focus_node, f.path, f.value, f.shape, f.severity, f.component) for f in report.findings)


def assert_same(data: list[ox.Quad], what: str) -> int:
    """Both engines on `data` (with the ontology); returns how many results they agree on."""
    ours = results(validate_graph(data, SETTINGS, ontology=list(ontology()), shapes=shapes(), engine="parita"))
    oracle = results(validate_graph(data, SETTINGS, ontology=list(ontology()), shapes=shapes(), engine="pyshacl"))
    only_ours, only_oracle = ours - oracle, oracle - ours
    assert not only_ours and not only_oracle, (
        f"{what}: the parita engine differs from pySHACL\n"
        + "".join(f"  only parita:  {k}\n" for k in sorted(only_ours, key=str)[:20])
        + "".join(f"  only pySHACL: {k}\n" for k in sorted(only_oracle, key=str)[:20])
    )
    return sum(ours.values())


def test_the_engine_evaluates_every_shipped_shape() -> None:
    """Unsupported shapes would silently fall back to pySHACL: the shipped shapes must all compile."""
    engine = shacl_engine.Engine(shapes())
    assert len(engine.targeted) >= 40


def test_real_data() -> None:
    assert_same(release_data(SETTINGS), "the real data")


FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*.ttl") if not p.name.startswith("_"))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_negative_fixture(path: Path) -> None:
    data = read_quads(FIXTURES / "_base.ttl", ox.NamedNode("urn:base")) + read_quads(path, ox.NamedNode("urn:case"))
    assert assert_same(data, path.name) > 0, f"{path.name} should give results"


# --- mutations: each changes a seeded random sample of the real data's statements ---------------------

XSD = "http://www.w3.org/2001/XMLSchema#"


def _drop(q: ox.Quad, rng: random.Random, pool: list[ox.Quad]) -> list[ox.Quad]:
    return []


def _retag(q: ox.Quad, rng: random.Random, pool: list[ox.Quad]) -> list[ox.Quad]:
    o = q.object
    if isinstance(o, ox.Literal):
        choice = rng.choice(["fr", "en", "it-IT", "", "date"])
        if choice == "date":
            o = ox.Literal(
                rng.choice(["2021-02-30", "2020-01-01", "2020", "ieri"]), datatype=ox.NamedNode(XSD + "date")
            )
        elif choice:
            o = ox.Literal(o.value, language=choice)
        else:
            o = ox.Literal(o.value)
    return [ox.Quad(q.subject, q.predicate, o, q.graph_name)]


def _rewire(q: ox.Quad, rng: random.Random, pool: list[ox.Quad]) -> list[ox.Quad]:
    """The object replaced by another statement's object (an IRI, a literal or a blank node)."""
    return [ox.Quad(q.subject, q.predicate, rng.choice(pool).object, q.graph_name)]


def _repeat(q: ox.Quad, rng: random.Random, pool: list[ox.Quad]) -> list[ox.Quad]:
    """A second value for the same property (maximum counts, unique languages)."""
    other = rng.choice(pool).object
    return [q, ox.Quad(q.subject, q.predicate, other, q.graph_name)]


def _retype(q: ox.Quad, rng: random.Random, pool: list[ox.Quad]) -> list[ox.Quad]:
    """A node's class changed, or the node dropped from its class (targets, sh:class)."""
    if q.predicate.value != "http://www.w3.org/1999/02/22-rdf-syntax-ns#type":
        return [q]
    classes = sorted({p.object.value for p in pool if p.predicate == q.predicate})
    return [ox.Quad(q.subject, q.predicate, ox.NamedNode(rng.choice(classes)), q.graph_name)]


MUTATIONS = {"drop": _drop, "retag": _retag, "rewire": _rewire, "repeat": _repeat, "retype": _retype}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_mutation_of_the_real_data(kind: str, seed: int) -> None:
    data = release_data(SETTINGS)
    rng = random.Random(f"{kind}-{seed}")
    mutate, rate = MUTATIONS[kind], 0.3 if kind == "retype" else 0.08
    mutated = [m for q in data for m in (mutate(q, rng, data) if rng.random() < rate else [q])]
    assert mutated != data
    assert assert_same(mutated, f"mutation {kind} {seed}") > 0


def test_synthetic_scale_0_1(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    synthesize(0.1, folder, SETTINGS)
    assert assert_same(release_data(settings_for(tmp_path, data_dir=folder)), "synthetic scale 0.1") > 1000


# --- what the engine refuses, and the reference engine on request --------------------------------------


@pytest.mark.parametrize(
    "shape",
    [
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true .",
        "ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:equals ex:q .",
        "ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:minInclusive 3 .",
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:rule [ a sh:TripleRule ] .",
    ],
)
def test_an_unsupported_feature_is_an_explicit_error(shape: str) -> None:
    graph = rdflib.Graph().parse(
        data=f"@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <urn:ex:> . {shape}", format="turtle"
    )
    with pytest.raises(shacl_engine.UnsupportedShapes):
        shacl_engine.Engine(graph)


def test_unsupported_shapes_are_validated_by_pyshacl_and_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shapes_dir = tmp_path / "shapes"
    shapes_dir.mkdir()
    (shapes_dir / "closed.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <urn:ex:> .\n"
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true ; sh:property [ sh:path ex:p ] .\n"
    )
    data = [
        ox.Quad(ox.NamedNode("urn:ex:x"), ox.NamedNode(p), o, ox.NamedNode("urn:g"))
        for p, o in (
            ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", ox.NamedNode("urn:ex:C")),
            ("urn:ex:q", ox.Literal("not allowed")),
        )
    ]
    report = validate_graph(data, Settings(shapes_dir=shapes_dir), ontology=[], engine="parita")
    assert {(f.focus_node, f.component, f.value) for f in report.violations} >= {
        ("urn:ex:x", "ClosedConstraintComponent", "not allowed")
    }
    assert "using pySHACL" in capsys.readouterr().err


def test_the_reference_engine_is_selectable(capsys: pytest.CaptureFixture[str]) -> None:
    asti = PROJECT_ROOT / "data" / "asti-pari-opportunita.ttl"
    found = {}
    for engine in ("pyshacl", "parita"):
        assert main([str(asti), "--engine", engine, "--format", "json"]) == 0
        found[engine] = Counter(
            (r["focus_node"], r["path"], r["value"], r["shape"], r["severity"], r["component"])
            for r in json.loads(capsys.readouterr().out)["results"]
        )
    assert found["pyshacl"] == found["parita"] and found["parita"]


def test_build_takes_the_engine_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`parita build --engine E` validates with E (the validation cache is keyed by the engine) and both engines
    publish the same warnings."""
    from scripts import build

    warnings, keys = {}, {}
    for engine in ("pyshacl", "parita"):
        settings = settings_for(tmp_path / engine)
        assert build.main(["--engine", engine, "--quiet"], settings=settings) == 0
        warnings[engine] = json.loads((settings.current_release / "release.json").read_text())["warnings"]
        keys[engine] = json.loads((build.validation_dir(settings) / "state.json").read_text())["schema"]
    assert warnings["pyshacl"] == warnings["parita"] > 0
    assert keys["pyshacl"] != keys["parita"]
