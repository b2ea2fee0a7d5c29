"""`parita validate`: exit codes, report fields and every accepted RDF syntax."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDFS, SH, SKOS

from scripts.build import BuildError, build
from scripts.cli import main as parita
from scripts.validate import main
from server.config import PROJECT_ROOT, Settings
from tests.release_helpers import copy_data, settings_for

ASTI = PROJECT_ROOT / "data" / "asti-pari-opportunita.ttl"
BAD_MEMBERSHIP = """
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<https://w3id.org/parita/id/membership/no-role> a org:Membership ;
    org:organization <https://w3id.org/parita/id/network/rete-antiviolenza-asti> ;
    org:member <https://w3id.org/parita/id/organization/questura-di-asti> ;
    prov:wasDerivedFrom <https://w3id.org/parita/id/source/asti-pari-opportunita> .
"""


@pytest.fixture()
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.ttl"
    path.write_text(BAD_MEMBERSHIP)
    return path


def test_shipped_file_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(ASTI), "--no-warnings"]) == 0
    assert "conforms" in capsys.readouterr().out


def test_violation_exits_1_naming_node_path_and_message(bad_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(bad_file)]) == 1
    out = capsys.readouterr().out
    assert "membership/no-role" in out
    assert "org:role" in out
    assert str(bad_file) in out
    assert "[it]" in out and "[en]" in out


def test_json_report_has_every_field(bad_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(bad_file), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["conforms"] is False and report["violations"] >= 1
    result = next(r for r in report["results"] if r["path"] == "org:role")
    assert result["severity"] == "Violation"
    assert result["focus_node"].endswith("/membership/no-role")
    assert result["files"] == [str(bad_file)]
    assert set(result["messages"]) >= {"it", "en"}
    assert result["shape"]


def test_labels_not_only_uris(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "labelled.ttl"
    path.write_text(
        BAD_MEMBERSHIP.replace(
            "prov:wasDerivedFrom",
            '<http://www.w3.org/2000/01/rdf-schema#label> "Questura nella rete"@it ; prov:wasDerivedFrom',
        )
    )
    assert main([str(path), "--format", "json"]) == 1
    results = json.loads(capsys.readouterr().out)["results"]
    assert any(r["focus_label"] == "Questura nella rete" for r in results)


def test_turtle_report_is_a_shacl_validation_report(bad_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(bad_file), "--format", "turtle"]) == 1
    graph = rdflib.Graph().parse(data=capsys.readouterr().out, format="turtle")
    report = next(graph.subjects(rdflib.RDF.type, SH.ValidationReport))
    assert graph.value(report, SH.conforms) == rdflib.Literal(False)
    focus = {str(graph.value(r, SH.focusNode)) for r in graph.objects(report, SH.result)}
    assert focus == {"https://w3id.org/parita/id/membership/no-role"}, "background data must not be reported"


def test_truncated_turtle_exits_2_with_line_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "truncated.ttl"
    text = ASTI.read_text()
    path.write_text(text[: len(text) // 3])
    assert main([str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:" in out and "line" in out and "column" in out
    assert main([str(path), "--format", "json"]) == 2
    unreadable = json.loads(capsys.readouterr().out)["unreadable"]
    assert unreadable["line"] > 1 and unreadable["column"] >= 1


def test_unknown_suffix_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.xyz"
    path.write_text("a,b\n")
    assert main([str(path)]) == 2


def test_a_csv_file_that_is_no_template_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.csv"  # CSV files are the templates, checked as `parita ingest --dry-run` would
    path.write_text("a,b\n")
    assert parita(["validate", str(path)]) == 1  # the command hands CSV to ingest's dry run
    assert "data.csv matches no template" in capsys.readouterr().out


@pytest.mark.parametrize(
    "suffix,syntax",
    [
        (".trig", ox.RdfFormat.TRIG),
        (".nt", ox.RdfFormat.N_TRIPLES),
        (".nq", ox.RdfFormat.N_QUADS),
        (".jsonld", ox.RdfFormat.JSON_LD),
        (".rdf", ox.RdfFormat.RDF_XML),
    ],
)
def test_every_syntax_is_accepted(tmp_path: Path, suffix: str, syntax: ox.RdfFormat) -> None:
    quads = list(ox.parse(ASTI.read_bytes(), format=ox.RdfFormat.TURTLE))
    good = tmp_path / f"asti{suffix}"
    good.write_bytes(
        ox.serialize(
            [ox.Triple(q.subject, q.predicate, q.object) for q in quads] if not syntax.supports_datasets else quads,
            format=syntax,
        )
    )
    assert main([str(good), "--no-warnings"]) == 0
    bad_quads = list(ox.parse(BAD_MEMBERSHIP.encode(), format=ox.RdfFormat.TURTLE))
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(
        ox.serialize(
            [ox.Triple(q.subject, q.predicate, q.object) for q in bad_quads]
            if not syntax.supports_datasets
            else bad_quads,
            format=syntax,
        )
    )
    assert main([str(bad)]) == 1


def test_triple_terms_are_unreadable_input_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "star.ttl"
    path.write_text("<urn:a> <urn:b> <<( <urn:c> <urn:d> <urn:e> )>> .\n")
    assert main([str(path)]) == 2
    assert "triple terms" in capsys.readouterr().out


# --- validate agrees with build: a file replaces the graph it is the source of -------------------

LABELS = (str(RDFS.label), str(SKOS.prefLabel))


def _without_labels(source: Path) -> list[ox.Quad]:
    return [q for q in ox.parse(source.read_bytes(), format=ox.RdfFormat.TURTLE) if q.predicate.value not in LABELS]


def _violations(argv: list[str], settings: Settings, capsys: pytest.CaptureFixture[str]) -> set[tuple[str, ...]]:
    assert main([*argv, "--format", "json"], settings=settings) == 1
    results = json.loads(capsys.readouterr().out)["results"]
    return {(r["focus_node"], r["path"], r["shape"]) for r in results if r["severity"] == "Violation"}


def test_a_file_replaces_its_published_version_as_the_build_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """asti without its labels: the build refuses it, and so does validate, whether the file is matched by
    its name or by the graph it declares (the published asti is not background for its own replacement)."""
    data = copy_data(tmp_path)
    settings = settings_for(tmp_path, data_dir=data)
    unlabelled = ox.serialize(_without_labels(ASTI), format=ox.RdfFormat.TURTLE) or b""
    (data / ASTI.name).write_bytes(unlabelled)
    with pytest.raises(BuildError) as refused:
        build(settings)
    assert refused.value.report is not None
    by_build = {(f.focus_node, f.path, f.shape) for f in refused.value.report.violations}
    assert len(by_build) >= 10, by_build

    shutil.copyfile(ASTI, data / ASTI.name)  # the published asti is the good one again
    same_name = tmp_path / "submission" / ASTI.name
    same_name.parent.mkdir()
    same_name.write_bytes(unlabelled)
    assert _violations([str(same_name)], settings, capsys) == by_build

    graph = ox.NamedNode("https://w3id.org/parita/graph/" + ASTI.stem)
    declared = tmp_path / "submission" / "revision.trig"
    declared.write_bytes(
        ox.serialize(
            [ox.Quad(q.subject, q.predicate, q.object, graph) for q in _without_labels(ASTI)],
            format=ox.RdfFormat.TRIG,
        )
        or b""
    )
    assert _violations([str(declared)], settings, capsys) == by_build

    other = tmp_path / "submission" / "unrelated-name.ttl"  # neither name nor graph: checked on top of asti
    other.write_bytes(unlabelled)
    assert main([str(other), "--no-warnings"], settings=settings) == 0
