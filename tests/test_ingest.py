"""`parita ingest` (issue 5): a second province's CSV set becomes its own named graph in a new release."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from scripts import ingest as ingest_module
from scripts.ingest import RDF_TYPE, Upload, ingest
from server.config import Settings
from tests.ingest_helpers import CUNEO, GRAPH, PROVINCIA, PUBLISHER, Ingested, copy_ingested, cuneo_files, uploads
from tests.release_helpers import copy_build, select, tree_digest


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, cuneo_ingested: Ingested):  # type: ignore[no-untyped-def]
    """A copy of the session's build with Cuneo's contribution: a test here ingests into it again."""
    settings, release, report = copy_ingested(cuneo_ingested, tmp_path_factory.mktemp("ingest"))
    first = settings.build_dir / "releases" / report.changelog["previous"]
    return settings, first, release, report


def test_bodies_appear_in_sparql_in_their_own_graph(ingested) -> None:  # type: ignore[no-untyped-def]
    _, _, release, _ = ingested
    store = ox.Store.read_only(str(release / "store"))
    rows = select(
        store,
        f"SELECT ?label WHERE {{ GRAPH <{GRAPH}> {{ <{PROVINCIA}> rdfs:label ?label FILTER(lang(?label) = 'it') }} }}",
    )
    assert rows == [("Provincia di Cuneo",)]
    territory = select(store, f"SELECT ?t WHERE {{ <{PROVINCIA}> parita:territory ?t }}")
    assert territory == [("https://w3id.org/italia/controlled-vocabulary/territorial-classifications/provinces/004",)]


def test_the_example_is_marked_fictitious(ingested) -> None:  # type: ignore[no-untyped-def]
    _, _, release, _ = ingested
    store = ox.Store.read_only(str(release / "store"))
    rows = select(store, f"SELECT ?d WHERE {{ GRAPH <{GRAPH}> {{ ?s a parita:SourcePage ; dct:description ?d }} }}")
    assert rows == [("Esempio fittizio per i test / fictitious example for tests",)]


DERIVED_GRAPHS = ("https://w3id.org/parita/graph/entailed", "https://w3id.org/parita/graph/derived")


def asserted(graphs: dict[str, object]) -> dict[str, object]:
    """A changelog's graphs without the derived ones, which are recomputed from all the others."""
    return {g: c for g, c in graphs.items() if g not in DERIVED_GRAPHS}


def test_statistics_manifest_and_changelog_count_the_new_graph(ingested) -> None:  # type: ignore[no-untyped-def]
    _, first, release, _ = ingested
    stats = json.loads((release / "stats.json").read_text())
    manifest = json.loads((release / "release.json").read_text())
    before = json.loads((first / "release.json").read_text())
    assert stats["graphs"][GRAPH] == manifest["graphs"][GRAPH]["triples"] > 50
    assert manifest["graphs"][GRAPH]["file"] == "contributions/cuneo.nq"
    others = {g: v["triples"] for g, v in manifest["graphs"].items() if g != GRAPH}
    assert others == {g: v["triples"] for g, v in before["graphs"].items()}, "other graphs must be untouched"
    log = json.loads((release / "changelog.json").read_text())
    assert log["previous"] == first.name
    # graph/entailed and graph/derived follow from the new statements (ontology/README.md); no other graph moves
    assert asserted(log["graphs"]) == {GRAPH: {"added": stats["graphs"][GRAPH], "removed": 0}}
    added = {e["label"] for e in log["entities"]["added"]}
    assert {"Provincia di Cuneo", "Rete antiviolenza di esempio (fittizia)"} <= added


def test_a_published_body_is_reused_not_duplicated(ingested) -> None:  # type: ignore[no-untyped-def]
    _, _, release, report = ingested
    assert [r["existing"] for r in report.reused] == ["https://w3id.org/parita/id/organization/regione-piemonte"]
    store = ox.Store.read_only(str(release / "store"))
    others = select(store, "SELECT DISTINCT ?s WHERE { ?s <https://w3id.org/italia/onto/COV/IPAcode> 'r_piemon' }")
    assert others == [("https://w3id.org/parita/id/organization/regione-piemonte",)]
    signed = select(store, "SELECT ?who WHERE { ?p parita:signatory ?who } ORDER BY ?who")
    assert ("https://w3id.org/parita/id/organization/regione-piemonte",) in signed


def test_reingest_replaces_only_that_publishers_graph(ingested, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, _, _, _ = ingested
    files = cuneo_files()
    files["reti.csv"] = files["reti.csv"].replace(
        b"Rete antiviolenza di esempio (fittizia)", b"Rete antiviolenza di esempio rinominata (fittizia)"
    )
    report = ingest(settings, PUBLISHER, uploads(files))
    assert report.ok, report.text()
    log = report.changelog
    assert set(asserted(log["graphs"])) == {GRAPH} and log["graphs"][GRAPH] == {"added": 1, "removed": 1}
    changed = [e["label"] for e in log["entities"]["changed"]]
    assert "Rete antiviolenza di esempio rinominata (fittizia)" in changed
    # the network's memberships change too: their labels are derived from its name (graph/derived)
    others = [label for label in changed if label != "Rete antiviolenza di esempio rinominata (fittizia)"]
    assert others and all(
        label.endswith(" della Rete antiviolenza di esempio rinominata (fittizia)") for label in others
    )


# --- Bad submissions: a precise report, and the build folder byte-identical -------------------


def _replace(name: str, old: bytes, new: bytes):  # type: ignore[no-untyped-def]
    def change(files: dict[str, bytes]) -> None:
        assert old in files[name], (name, old)
        files[name] = files[name].replace(old, new, 1)

    return change


def _drop_column(files: dict[str, bytes]) -> None:
    lines = files["enti.csv"].decode().splitlines()
    files["enti.csv"] = (
        "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 3) for line in lines) + "\n"
    ).encode()


def _duplicate_row(files: dict[str, bytes]) -> None:
    lines = files["reti.csv"].decode().splitlines()
    files["reti.csv"] = ("\n".join(lines + [lines[1]]) + "\n").encode()


def _latin1(files: dict[str, bytes]) -> None:
    files["enti.csv"] = files["enti.csv"].decode().encode("latin-1")


BAD = {
    "missing column": (_drop_column, "missing-column", "enti.csv", 1, "tipo"),
    "bad date": (_replace("atti.csv", b"1,01/01/2000", b"1,31/02/2000"), "impossible-date", "atti.csv", 2, "data"),
    "date in another format": (
        _replace("atti.csv", b"1,01/01/2000", b"1,2000-01-01"),
        "datatype",
        "atti.csv",
        2,
        "data",
    ),
    "unknown referenced body": (
        _replace("adesioni.csv", b"rete-antiviolenza,associazione-esempio", b"rete-antiviolenza,ente-che-non-esiste"),
        "unknown-reference",
        "adesioni.csv",
        4,
        "membro",
    ),
    "duplicate body (same id)": (_duplicate_row, "duplicate", "reti.csv", 3, "id"),
    "duplicate body (same label)": (
        _replace(
            "enti.csv",
            b"associazione-esempio,Associazione di esempio contro la violenza (fittizia)",
            b"associazione-esempio,Ufficio Pari Opportunit\xc3\xa0 (esempio fittizio)",
        ),
        "duplicate",
        "enti.csv",
        None,
        None,
    ),
    "wrong encoding": (_latin1, "encoding", "enti.csv", 3, None),
    "formula injection": (
        _replace("reti.csv", b"Esempio fittizio per i test.", b'=HYPERLINK("http://x","clic")'),
        "formula",
        "reti.csv",
        2,
        "descrizione",
    ),
    "address on a secret facility": (
        _replace(
            "sportelli.csv",
            b"SecretFacility,associazione-esempio,,,,",
            b"SecretFacility,associazione-esempio,,,Via Segreta 1,",
        ),
        "shacl",
        "sportelli.csv",
        3,
        "indirizzo",
    ),
}


@pytest.fixture(scope="module")
def base_settings(tmp_path_factory: pytest.TempPathFactory, built_data: Settings):  # type: ignore[no-untyped-def]
    """A copy of the session's build of data/ (the good templates are ingested into it)."""
    return copy_build(built_data, tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_submission_is_refused_precisely_and_changes_nothing(base_settings, case: str) -> None:  # type: ignore[no-untyped-def]
    mutate, kind, file, row, column = BAD[case]
    files = cuneo_files()
    mutate(files)
    before = tree_digest(base_settings.build_dir)
    report = ingest(base_settings, PUBLISHER, uploads(files))
    assert not report.ok
    assert tree_digest(base_settings.build_dir) == before
    hits = [p for p in report.problems if p.kind == kind and p.cell and p.cell.file == file]
    assert hits, report.text()
    if row is not None:
        assert any(p.cell.row == row and p.cell.column == column for p in hits), report.text()
    assert all(p.it and p.en and p.it != p.en for p in hits)


def test_secret_facility_report_names_the_law(base_settings) -> None:  # type: ignore[no-untyped-def]
    files = cuneo_files()
    BAD["address on a secret facility"][0](files)
    report = ingest(base_settings, PUBLISHER, uploads(files))
    messages = [p.it for p in report.problems if p.path == "https://w3id.org/italia/onto/CLV/hasAddress"]
    assert any("segreta per legge" in m for m in messages), report.text()


def test_formula_cells_never_reach_a_report_unescaped(base_settings) -> None:  # type: ignore[no-untyped-def]
    files = cuneo_files()
    files["reti.csv"] = files["reti.csv"].replace(b"Esempio fittizio per i test.", b"=1+1<script>")
    report = ingest(base_settings, PUBLISHER, uploads(files))
    assert "<script>" not in report.html() and "&lt;script&gt;" in report.html()


def test_reports_in_every_format(base_settings, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    files = cuneo_files()
    BAD["bad date"][0](files)
    report = ingest(base_settings, PUBLISHER, uploads(files))
    body = json.loads(report.json())
    assert body["ok"] is False and body["problems"][0]["cell"] == {"file": "atti.csv", "row": 2, "column": "data"}
    graph = rdflib.Graph().parse(data=report.turtle(), format="turtle")
    assert (None, rdflib.URIRef("http://www.w3.org/ns/shacl#conforms"), rdflib.Literal(False)) in graph
    assert "atti.csv, riga/row 2, colonna/column data" in report.text()


def test_cli_exit_codes(base_settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "atti.csv"
    bad.write_bytes((CUNEO / "atti.csv").read_bytes().replace(b"01/01/2000", b"2000-99-99"))
    assert (
        ingest_module.main(["--quiet", "--publisher", PUBLISHER, "--format", "json", str(bad)], settings=base_settings)
        == 1
    )
    assert json.loads(capsys.readouterr().out)["ok"] is False
    assert ingest_module.main(["--quiet", "--publisher", "Not Valid!", str(bad)], settings=base_settings) == 1
    assert (
        ingest_module.main(["--quiet", "--publisher", PUBLISHER, str(tmp_path / "missing.csv")], settings=base_settings)
        == 2
    )


def test_rdf_outside_the_canonical_base_is_refused(base_settings) -> None:  # type: ignore[no-untyped-def]
    ttl = b"""@prefix org: <http://www.w3.org/ns/org#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    <http://example.org/ente> a org:Organization ; rdfs:label "Ente altrove"@it ."""
    report = ingest(base_settings, PUBLISHER, [ingest_module.Upload("extra.ttl", ttl)])
    assert [p.kind for p in report.problems] == ["outside-base"]


def test_a_reader_never_sees_a_partial_release(tmp_path: Path, built_data: Settings) -> None:
    settings = copy_build(built_data, tmp_path)
    old = len(ox.Store.read_only(str(settings.current_release / "store")))
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:  # a reader resolves `current` once, then opens that release (never the link itself)
        while not done.is_set():
            seen.add(len(ox.Store.read_only(str(settings.current_release.resolve() / "store"))))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        report = ingest(settings, PUBLISHER, uploads(cuneo_files()))
    finally:
        done.set()
        reader.join()
    new = len(ox.Store.read_only(str(settings.current_release / "store")))
    assert report.ok and new > old
    assert seen <= {old, new} and old in seen


def test_the_templates_themselves_ingest(base_settings) -> None:  # type: ignore[no-untyped-def]
    templates = Path(__file__).parents[1] / "data" / "templates"
    files = [ingest_module.Upload(p.name, p.read_bytes()) for p in sorted(templates.glob("*.csv"))]
    report = ingest(base_settings, "esempio", files)
    assert report.ok, report.text()
    assert report.changelog["graphs"]["https://w3id.org/parita/graph/publisher/esempio"]["added"] > 50


def test_a_formula_behind_leading_spaces_is_refused(base_settings) -> None:  # type: ignore[no-untyped-def]
    files = cuneo_files()
    files["reti.csv"] = files["reti.csv"].replace(b"Esempio fittizio per i test.", b" =cmd|' /C calc'!A0")
    report = ingest(base_settings, PUBLISHER, uploads(files))
    assert report.release is None
    assert [p.kind for p in report.problems] == ["formula"], report.text()
    assert report.problems[0].cell is not None and report.problems[0].cell.file == "reti.csv"


def test_a_cell_over_the_csv_field_limit_is_a_report_not_a_traceback(base_settings) -> None:  # type: ignore[no-untyped-def]
    files = cuneo_files()
    files["reti.csv"] = files["reti.csv"].replace(b"Esempio fittizio per i test.", b'"' + b"x" * 140_000 + b'"')
    report = ingest(base_settings, PUBLISHER, uploads(files))
    assert report.release is None
    assert any(p.kind == "unreadable" and p.cell is not None and p.cell.file == "reti.csv" for p in report.problems)


def test_too_many_rows_are_refused_with_the_file_named(base_settings) -> None:  # type: ignore[no-untyped-def]
    from scripts.csv2rdf import MAX_ROWS

    files = cuneo_files()
    header, first = files["reti.csv"].split(b"\n")[:2]
    files["reti.csv"] = header + b"\n" + b"\n".join([first] * (MAX_ROWS + 1)) + b"\n"
    report = ingest(base_settings, PUBLISHER, uploads(files))
    assert report.release is None
    assert any(p.kind == "too-many-rows" and p.cell is not None and p.cell.file == "reti.csv" for p in report.problems)


def test_triple_terms_are_an_unsupported_problem(base_settings) -> None:  # type: ignore[no-untyped-def]
    from scripts.ingest import Upload

    trig = b"<urn:a> <urn:b> <<( <urn:c> <urn:d> <urn:e> )>> .\n"
    report = ingest(base_settings, PUBLISHER, [Upload("extra.ttl", trig)])
    assert report.release is None
    assert [p.kind for p in report.problems] == ["unsupported"], report.text()


def test_a_publisher_id_with_a_trailing_newline_is_refused(base_settings) -> None:  # type: ignore[no-untyped-def]
    report = ingest(base_settings, PUBLISHER + "\n", uploads(cuneo_files()))
    assert report.release is None and report.problems


def test_a_contribution_cannot_write_onto_another_publishers_entity(ingested) -> None:  # type: ignore[no-untyped-def]
    from scripts.ingest import Upload

    settings = ingested[0]
    release = settings.current_release.resolve()
    hijack = f'<{PROVINCIA}> <http://www.w3.org/2000/01/rdf-schema#comment> "scritto da un altro"@it .\n'.encode()
    report = ingest(settings, "altro-editore", [Upload("extra.ttl", hijack)])
    assert report.release is None
    assert [p.kind for p in report.problems] == ["foreign-subject"], report.text()
    assert PROVINCIA in report.problems[0].en
    assert settings.current_release.resolve() == release  # nothing published


def test_a_resubmission_is_checked_instead_of_the_old_contribution_not_on_top(ingested) -> None:  # type: ignore[no-untyped-def]
    """The published contribution names the network; a resubmission without those labels is refused, as the
    build of it would be, even though the old contribution (which it replaces) still has them."""
    settings = ingested[0]
    release = settings.current_release.resolve()
    published = (settings.build_dir / "contributions" / f"{PUBLISHER}.nq").read_bytes()
    labels = {"http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel"}
    network = next(
        q.subject.value
        for q in ox.parse(published, format=ox.RdfFormat.N_QUADS)
        if q.predicate.value == RDF_TYPE and q.object.value == "http://www.w3.org/ns/org#OrganizationalCollaboration"
    )
    unlabelled = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(published, format=ox.RdfFormat.N_QUADS)
        if not (q.subject.value == network and q.predicate.value in labels)
    ]
    report = ingest(
        settings, PUBLISHER, [Upload("cuneo.nt", ox.serialize(unlabelled, format=ox.RdfFormat.N_TRIPLES) or b"")]
    )
    assert not report.ok
    assert any(p.focus == network and p.path == str(rdflib.RDFS.label) for p in report.problems), report.text()
    assert settings.current_release.resolve() == release, "a refused submission publishes nothing"
