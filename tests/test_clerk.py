"""A clerk's day (issue 16, items 3-4): a comune outside the seeds contributes its CSV, saved with
commas or semicolons; `ingest --dry-run` and `validate` check without publishing; the report names
the file, row and column and says what would fit.

The example set tests/data/ingest/matera/ is fictitious (see tests/data/ingest/README.md): only the
comune's name and ISTAT code are real, from ISTAT's list in data/territories.ttl."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from scripts.ingest import Upload, convert, ingest
from server.config import PROJECT_ROOT, Settings
from tests.release_helpers import copy_build, select, tree_digest

MATERA = PROJECT_ROOT / "tests" / "data" / "ingest" / "matera"
PUBLISHER = "matera"
CITY = "https://w3id.org/parita/id/city/077014"
PROVINCE = "https://w3id.org/italia/controlled-vocabulary/territorial-classifications/provinces/077"
BODY = "https://w3id.org/parita/id/organization/matera-comune-di-matera"


def matera_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(MATERA.glob("*.csv"))}


def resaved(data: bytes, separator: str) -> bytes:
    """The file as a spreadsheet saves it with another separator (quoting where the cell needs it)."""
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator="\r\n").writerows(csv.reader(io.StringIO(data.decode())))
    return out.getvalue().encode()


def uploads(files: dict[str, bytes]) -> list[Upload]:
    return [Upload(name, data) for name, data in files.items()]


def parita(*args: str, build_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PARITA_BUILD_DIR": str(build_dir)}
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, built_data: Settings):  # type: ignore[no-untyped-def]
    """A copy of the session's build of data/: Matera's contribution is ingested into it."""
    return copy_build(built_data, tmp_path_factory.mktemp("clerk"))


def test_every_istat_territory_is_in_the_release(settings) -> None:  # type: ignore[no-untyped-def]
    store = ox.Store.read_only(str(settings.current_release / "store"))
    counts = select(
        store,
        "PREFIX clv: <https://w3id.org/italia/onto/CLV/> SELECT ?c (COUNT(DISTINCT ?t) AS ?n) "
        "WHERE { ?t a ?c ; prov:wasDerivedFrom id:source\\/istat-elenco-comuni } GROUP BY ?c ORDER BY ?c",
    )
    found = {c.rsplit("/", 1)[-1]: int(n) for c, n in counts}
    assert found["City"] == 7896 and found["Province"] == 107 and found["Region"] == 20
    matera = select(
        store,
        f"PREFIX clv: <https://w3id.org/italia/onto/CLV/> SELECT ?label ?code ?up WHERE {{ <{CITY}> rdfs:label ?label ; "
        "skos:notation ?code ; clv:hasDirectHigherRank ?up }",
    )
    assert matera == [("Matera", "077014", PROVINCE)]
    # the OntoPiA IRIs docs/identifiers.md lists are kept: Faenza is one resource, described by both sources,
    # each fact stated once (the union a SPARQL query sees by default has no duplicate rows)
    faenza = select(
        store,
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { <https://w3id.org/italia/controlled-vocabulary/territorial-classifications/"
        "cities/039010-(1985-01-14)> ?p ?o } } ORDER BY ?g",
    )
    assert faenza == [("https://w3id.org/parita/graph/identifiers",), ("https://w3id.org/parita/graph/territories",)]
    assert select(store, "SELECT ?s WHERE { ?s skos:notation '039010' }") == [
        ("https://w3id.org/italia/controlled-vocabulary/territorial-classifications/cities/039010-(1985-01-14)",)
    ]
    twice = select(
        store,
        "SELECT ?s ?p ?o WHERE { GRAPH <https://w3id.org/parita/graph/territories> { ?s ?p ?o } "
        "GRAPH <https://w3id.org/parita/graph/identifiers> { ?s ?p ?o } }",
    )
    assert twice == []


def test_the_territories_file_is_what_the_package_gives() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.territories", "--check"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date" in done.stdout


def test_the_same_files_saved_with_semicolons_or_tabs_convert_alike(settings) -> None:  # type: ignore[no-untyped-def]
    background = list(ox.Store.read_only(str(settings.current_release / "store")))
    comma = convert(settings, PUBLISHER, uploads(matera_files()), background)
    assert not comma.problems
    for separator in (";", "\t"):
        other = convert(
            settings,
            PUBLISHER,
            uploads({n: resaved(d, separator) for n, d in matera_files().items()}),
            background,
        )
        assert not other.problems, [p.en for p in other.problems]
        assert sorted(map(str, other.quads)) == sorted(map(str, comma.quads))


def test_a_comune_outside_the_seeds_contributes_with_semicolons(settings) -> None:  # type: ignore[no-untyped-def]
    files = {n: resaved(d, ";") for n, d in matera_files().items()}  # Excel's CSV in Italian
    assert b";" in files["enti.csv"].splitlines()[0]
    report = ingest(settings, PUBLISHER, uploads(files))
    assert report.ok, report.text()
    store = ox.Store.read_only(str(settings.current_release / "store"))
    assert select(store, f"SELECT ?t WHERE {{ <{BODY}> parita:territory ?t }}") == [(CITY,)]
    desk = select(
        store,
        "PREFIX clv: <https://w3id.org/italia/onto/CLV/> SELECT ?c WHERE { "
        "<https://w3id.org/parita/id/help-desk/matera-sportello-esempio> clv:hasAddress/clv:hasCity ?c }",
    )
    assert desk == [(CITY,)]


def test_a_dry_run_publishes_nothing(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name, data in matera_files().items():
        (tmp_path / name).write_bytes(data.replace(b"(esempio fittizio)", b"(esempio fittizio rinominato)"))
    before = tree_digest(settings.build_dir)
    done = parita(
        "ingest", "--dry-run", "--publisher", PUBLISHER, *sorted(map(str, tmp_path.glob("*.csv"))),
        build_dir=settings.build_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dry run, nothing was published" in done.stdout
    assert tree_digest(settings.build_dir) == before


def test_validate_takes_the_csv_templates(settings) -> None:  # type: ignore[no-untyped-def]
    before = tree_digest(settings.build_dir)
    done = parita(
        "validate", "--publisher", PUBLISHER, *sorted(map(str, MATERA.glob("*.csv"))), build_dir=settings.build_dir
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout and "nothing was published" in done.stdout
    assert tree_digest(settings.build_dir) == before
    bad = parita("validate", str(MATERA / "nessuno.csv"), build_dir=settings.build_dir)
    assert bad.returncode == 2 and "nessuno.csv" in bad.stderr


# --- What the report says: file, row, column, what would fit --------------------------------------


def problems(settings, files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    return ingest(settings, PUBLISHER, uploads(files), dry_run=True).problems


def test_an_impossible_date_is_told_from_a_wrong_format(settings) -> None:  # type: ignore[no-untyped-def]
    files = {"fonti.csv": matera_files()["fonti.csv"].replace(b"matera,,Esempio", b"matera,2026-02-01,Esempio", 1)}
    [wrong] = problems(settings, files)
    assert (wrong.kind, wrong.cell.column) == ("datatype", "data_modifica")
    assert "GG/MM/AAAA" in wrong.it and "31/01/2026" in wrong.en
    files = {"fonti.csv": matera_files()["fonti.csv"].replace(b"matera,,Esempio", b"matera,31/02/2026,Esempio", 1)}
    [impossible] = problems(settings, files)
    assert impossible.kind == "impossible-date" and "not a real date" in impossible.en


def test_a_header_with_another_separator_gets_a_word_about_it(settings) -> None:  # type: ignore[no-untyped-def]
    files = {"fonti.csv": matera_files()["fonti.csv"].replace(b",", b"|")}
    found = problems(settings, files)
    separator = [p for p in found if p.kind == "separator"]
    assert separator and "semicolon" in separator[0].en and separator[0].cell.file == "fonti.csv"


def test_unknown_references_get_did_you_mean_and_allowed_values(settings) -> None:  # type: ignore[no-untyped-def]
    files = matera_files()
    files["organismi.csv"] = files["organismi.csv"].replace(b",comune-di-matera,", b",comune-di-materra,")
    files["organismi.csv"] = files["organismi.csv"].replace(b",comitato-unico-di-garanzia,", b",comitato-unico,")
    found = {p.cell.column: p for p in problems(settings, files) if p.kind == "unknown-reference"}
    assert '"comune-di-matera"' in found["ente"].en and found["ente"].cell.file == "organismi.csv"
    assert "Allowed values" in found["tipo_organismo"].en and "comitato-unico-di-garanzia" in found["tipo_organismo"].en


def test_an_enumerated_column_lists_its_values(settings) -> None:  # type: ignore[no-untyped-def]
    files = {"enti.csv": matera_files()["enti.csv"].replace(b",FormalOrganization,", b",FormalOrganisation,", 1)}
    [wrong] = problems(settings, files)
    assert wrong.cell.column == "tipo" and '"FormalOrganization"' in wrong.en
    assert "Allowed values: FormalOrganization, OrganizationalUnit, Organization" in wrong.en


def test_a_comune_is_found_by_name_or_code_and_ambiguous_names_are_said(settings) -> None:  # type: ignore[no-untyped-def]
    base = matera_files()["enti.csv"]
    for cell in (b"077014", b"77014", b"matera", b"Matera (MT)"):
        converted = convert(settings, "x", [Upload("enti.csv", base.replace(b",Matera,", b"," + cell + b",", 1))],
                            list(ox.Store.read_only(str(settings.current_release / "store"))))  # fmt: skip
        assert not converted.problems and CITY in {q.object.value for q in converted.quads}, cell
    [ambiguous] = problems(settings, {"enti.csv": base.replace(b",Matera,", b",Castro,", 1)})
    assert ambiguous.cell.column == "comune" and "Castro (BG) 016065" in ambiguous.en and "Castro (LE)" in ambiguous.en
    [unknown] = problems(settings, {"enti.csv": base.replace(b",Matera,", b",Materra,", 1)})
    assert "Matera (MT) 077014" in unknown.en


def test_an_english_label_warning_names_the_nome_en_column(settings) -> None:  # type: ignore[no-untyped-def]
    files = matera_files()
    files["organismi.csv"] = files["organismi.csv"].replace(
        b",Single Guarantee Committee of the Municipality of Matera (fictitious example),", b",,"
    )
    report = ingest(settings, PUBLISHER, uploads(files), dry_run=True)
    assert report.ok, report.text()
    [english] = [w for w in report.warnings if w.cell and w.cell.file == "organismi.csv"]
    assert english.cell.column == "nome_en" and 'column "nome_en"' in english.en
