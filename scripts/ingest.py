"""`parita ingest --publisher ID FILE...`: a publisher's CSV (per the templates) or RDF becomes its named graph.

Convert (CSVW metadata in data/templates), mint URIs under the canonical base, reconcile with the
published bodies, check references, then validate the whole release with the shapes. On success a
new release replaces that publisher's graph `{base}graph/publisher/{ID}` (the others untouched);
on failure the report names file, row and column, and nothing under build/ changes.
`--dry-run` runs every check, the whole-release validation included, and publishes nothing: the
candidate lives in a temporary folder outside build/, which stays byte for byte as it was.
Exit codes: 0 published (or valid, with --dry-run), 1 refused (report printed), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from scripts import csv2rdf, reconcile
from scripts.build import BuildError, Progress, build, validate_quads
from scripts.csv2rdf import Cell, Converted, Problem, did_you_mean
from scripts.rdfio import SYNTAX_BY_SUFFIX, UnreadableInput, read_quads
from scripts.rdfscreen import screen
from scripts.sources import RECONCILED_KEY, contributions_dir, graph_iri, read_sources, release_sources, unrebase_iri
from scripts.submission_report import FORMATS, SubmissionReport
from scripts.territories import Cities
from scripts.validate import Finding
from server import terms
from server.config import DEFAULT_BASE_URI, PROJECT_ROOT, Settings
from server.release import previous_release

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
PUBLISHER_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")  # always fullmatch: `$` would let a final newline in
METADATA = PROJECT_ROOT / "data" / "templates" / "parita-metadata.json"
ID_BASE = DEFAULT_BASE_URI + "id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
OWN_CLASSES = (
    terms.NAMESPACE,
    "http://www.w3.org/ns/org#",
    "https://w3id.org/italia/onto/COV/",
    "https://w3id.org/italia/onto/CPSV/",
)


@dataclass(frozen=True)
class Upload:
    """One submitted file: its name (which picks the CSV template or the RDF syntax) and bytes."""

    name: str
    data: bytes


def publisher_graph(publisher: str) -> str:
    return graph_iri(DEFAULT_BASE_URI, f"publisher/{publisher}")


def ingest(
    settings: Settings,
    publisher: str,
    uploads: list[Upload],
    progress: Progress | None = None,
    dry_run: bool = False,
) -> SubmissionReport:
    """Run the whole pipeline; the report says whether a release was published (or, with `dry_run`, would be)."""
    report = SubmissionReport(publisher, [u.name for u in uploads], dry_run=dry_run)
    if not PUBLISHER_ID.fullmatch(publisher):
        report.problems.append(
            Problem(
                "publisher",
                f"Identificativo dell'editore non valido: {publisher!r} (minuscole, cifre, trattini; 2-63 caratteri).",
                f"Invalid publisher ID: {publisher!r} (lower case, digits, hyphens; 2-63 characters).",
                value=publisher,
            )
        )
        return report
    background = read_sources([s for s in release_sources(settings) if s.graph != publisher_graph(publisher)])
    converted = convert(settings, publisher, uploads, background)
    if converted.problems:
        report.problems = converted.problems
        return report
    decisions = reconcile.load_decisions(settings, publisher)
    _mint_and_reconcile(converted, background, publisher, report)
    decided = {tuple(p) for p in decisions["confirmed"] + decisions["rejected"]}
    report.candidates = [c for c in report.candidates if (c["submitted"], c["existing"]) not in decided]
    report.problems += references(converted, background, publisher)
    report.problems += foreign_subjects(converted, background)
    if report.problems:
        return report
    if dry_run:
        _check(settings, publisher, converted, report, progress)
        return report
    _publish(settings, publisher, converted, report, progress, reconcile.reconciled_graph(settings, {}))
    if report.ok:
        decisions["candidates"] = report.candidates
        reconcile.save_decisions(settings, publisher, decisions)
    return report


def convert(
    settings: Settings, publisher: str, uploads: list[Upload], background: list[ox.Quad] | None = None
) -> Converted:
    """CSV through the CSVW metadata, RDF as it is; every IRI moved back to the default base. A `comune`
    cell is looked up among the comuni the published data knows (data/territories.ttl)."""
    out = Converted()
    graph = ox.NamedNode(publisher_graph(publisher))
    group = csv2rdf.load_metadata(METADATA)
    cities: Cities | None = None
    for upload in uploads:
        if upload.name.lower().endswith(".csv"):
            if cities is None:
                cities = Cities.from_quads(background or [])
            csv2rdf.convert_file(group, upload.name, upload.data, graph, out, {"city": cities.find})
        else:
            _convert_rdf(upload, graph, out, settings.base_uri)
    return out


_DERIVED_FROM = "http://www.w3.org/ns/prov#wasDerivedFrom"


def foreign_subjects(converted: Converted, background: list[ox.Quad]) -> list[Problem]:
    """No new statements about another publisher's entities. A contribution describes its own entities and
    links to others; it may restate what another publisher's contribution already says of one (a clerk
    lists the bodies a protocol names in enti.csv), but a statement that contribution does not make, with
    that entity as subject, is refused: one problem per entity, naming the first such statement. The
    project's own sources (data/) are the shared reference every contribution is reconciled with: a
    contribution may add to their entities (a province's clerk adds to the province data/ describes)."""
    others = publisher_graph("")
    stated = {
        (q.subject, q.predicate, q.object)
        for q in background
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(others)
    }
    theirs = {s for s, _, _ in stated if isinstance(s, ox.NamedNode)}
    found: dict[str, tuple[ox.Quad, Cell | None]] = {}
    for q in converted.quads:
        if q.predicate.value == _DERIVED_FROM:  # which source restated it: provenance, not a claim about it
            continue
        if (
            isinstance(q.subject, ox.NamedNode)
            and q.subject in theirs
            and (q.subject, q.predicate, q.object) not in stated
            and q.subject.value not in found
        ):
            cells = converted.cells.get((q.subject.value, q.predicate.value))
            found[q.subject.value] = (q, cells[0] if cells else converted.subjects.get(q.subject.value))
    return [
        Problem(
            "foreign-subject",
            f"La contribuzione aggiunge a {iri}, descritto da un'altra fonte, l'affermazione {q.predicate.value} {q.object}: "
            "ogni editore descrive solo i propri enti e può collegarsi agli altri (il loro identificativo come valore).",
            f"The contribution adds to {iri}, which another source describes, the statement {q.predicate.value} {q.object}: "
            "a publisher describes only its own entities and may link to others (their identifier as a value).",
            cell,
            value=iri,
        )
        for iri, (q, cell) in found.items()
    ]


def _convert_rdf(upload: Upload, graph: ox.NamedNode, out: Converted, base_uri: str) -> None:
    suffix = Path(upload.name).suffix.lower()
    if suffix not in SYNTAX_BY_SUFFIX:
        out.problems.append(
            Problem(
                "syntax",
                f"{upload.name}: formato sconosciuto (ammessi: .csv {' '.join(sorted(SYNTAX_BY_SUFFIX))}).",
                f"{upload.name}: unknown format (allowed: .csv {' '.join(sorted(SYNTAX_BY_SUFFIX))}).",
                Cell(upload.name, 0, None),
            )
        )
        return
    try:
        screen(upload.data, SYNTAX_BY_SUFFIX[suffix])  # entity expansion, deep nesting: refused before parsing
        quads = list(ox.parse(upload.data, format=SYNTAX_BY_SUFFIX[suffix], base_iri=f"file:///{upload.name}"))
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None) or 0
        out.problems.append(
            Problem(
                "syntax",
                f"{upload.name}: RDF illeggibile: {error}",
                f"{upload.name}: unreadable RDF: {error}",
                Cell(upload.name, line, None),
            )
        )
        return
    if any(isinstance(q.subject, ox.Triple) or isinstance(q.object, ox.Triple) for q in quads):
        out.problems.append(
            Problem(
                "unsupported",
                f"{upload.name}: i triple term di RDF 1.2 (<<( … )>>) non sono supportati: "
                "parita pubblica RDF 1.1; esprimere i fatti come triple semplici.",
                f"{upload.name}: RDF 1.2 triple terms (<<( … )>>) are not supported: parita publishes "
                "RDF 1.1; state the facts as plain triples.",
                Cell(upload.name, 0, None),
            )
        )
        return
    for q in quads:
        s, p, o = (_unrebase(t, base_uri) for t in (q.subject, q.predicate, q.object))
        out.add(ox.Triple(s, p, o), Cell(upload.name, 0, None), graph)


def _unrebase(term: Any, base_uri: str) -> Any:
    return ox.NamedNode(unrebase_iri(term.value, base_uri)) if isinstance(term, ox.NamedNode) else term


def _mint_and_reconcile(
    converted: Converted, background: list[ox.Quad], publisher: str, report: SubmissionReport
) -> None:
    """Reuse a published URI for a body already published; else mint `{kind}/{publisher}-{slug}` for CSV rows."""
    from_csv = {s for s, cell in converted.subjects.items() if cell.file.lower().endswith(".csv")}
    renames = {s: _minted(s, publisher) for s in converted.described & from_csv if s.startswith(ID_BASE)}
    submitted = reconcile.entities(converted.quads, only=converted.described)
    published = reconcile.entities(background)
    for a, b in reconcile.duplicates(submitted):
        cell = converted.subjects.get(b.iri)
        report.problems.append(
            Problem(
                "duplicate",
                f'Ente duplicato: "{b.label}" è descritto due volte (anche come {a.iri.rsplit("/", 1)[-1]}).',
                f'Duplicate body: "{b.label}" is described twice (also as {a.iri.rsplit("/", 1)[-1]}).',
                cell,
                focus=b.iri,
                value=b.label,
            )
        )
    for entity in submitted.values():
        matches = reconcile.match(entity, published)
        if matches and matches[0].certain:
            renames[entity.iri] = matches[0].existing
            report.reused.append(reconcile.as_dict(matches[0]) | {"submitted": renames.get(entity.iri, entity.iri)})
        else:
            report.candidates += [
                reconcile.as_dict(m) | {"submitted": renames.get(entity.iri, entity.iri)} for m in matches
            ]
    _rename(converted, renames)


def _minted(iri: str, publisher: str) -> str:
    kind, _, slug = iri[len(ID_BASE) :].partition("/")
    return iri if slug.startswith(f"{publisher}-") else f"{ID_BASE}{kind}/{publisher}-{slug}"


def _rename(converted: Converted, renames: dict[str, str]) -> None:
    def move(term: Any) -> Any:
        return ox.NamedNode(renames[term.value]) if isinstance(term, ox.NamedNode) and term.value in renames else term

    converted.quads = [ox.Quad(move(q.subject), q.predicate, move(q.object), q.graph_name) for q in converted.quads]
    converted.cells = {(renames.get(s, s), p): c for (s, p), c in converted.cells.items()}
    converted.subjects = {renames.get(s, s): c for s, c in converted.subjects.items()}
    converted.described = {renames.get(s, s) for s in converted.described}


def references(converted: Converted, background: list[ox.Quad], publisher: str = "") -> list[Problem]:
    """Every referenced parita thing exists (here or published); nothing is minted outside the canonical base."""
    known = {q.subject.value for q in chain(background, converted.quads) if not isinstance(q.subject, ox.Triple)}
    problems = []
    for q in converted.quads:
        assert not isinstance(q.subject, ox.Triple), "RDF 1.2 triple terms are refused before conversion"
        s, p, o = q.subject.value, q.predicate.value, q.object
        cells = converted.cells.get((s, p))
        cell = cells[0] if cells else None
        if isinstance(o, ox.NamedNode) and o.value.startswith(ID_BASE) and o.value not in known:
            problems.append(_unknown_reference(o.value, s, p, cell, known, background, publisher))
        elif (
            p == RDF_TYPE
            and not isinstance(o, ox.Triple)
            and o.value.startswith(OWN_CLASSES)
            and isinstance(q.subject, ox.NamedNode)
            and not s.startswith(ID_BASE)
        ):
            problems.append(
                Problem(
                    "outside-base",
                    f"<{s}> è fuori dalla base canonica {ID_BASE}: un ente parita non può essere coniato altrove.",
                    f"<{s}> is outside the canonical base {ID_BASE}: a parita thing cannot be minted elsewhere.",
                    cell,
                    focus=s,
                )
            )
        elif s.startswith(DEFAULT_BASE_URI) and not s.startswith(ID_BASE):
            problems.append(
                Problem(
                    "reserved",
                    f"<{s}> è riservato (ontologia, vincoli, grafi): un invio non può descriverlo.",
                    f"<{s}> is reserved (ontology, shapes, graphs): a submission cannot describe it.",
                    cell,
                    focus=s,
                )
            )
    return problems


def _unknown_reference(
    iri: str, subject: str, path: str, cell: Cell | None, known: set[str], background: list[ox.Quad], publisher: str
) -> Problem:
    """An unknown reference, with the values that exist: a concept's whole scheme (the allowed values), else the
    closest published slugs and local ids of that kind, and the slug of a body whose name is close."""
    kind, _, slug = iri[len(ID_BASE) :].partition("/")
    column = f'colonna "{cell.column}"' if cell and cell.column else kind
    column_en = f'column "{cell.column}"' if cell and cell.column else kind
    if kind == "concept" and "/" in slug:
        scheme, _, value = slug.partition("/")
        prefix = f"{ID_BASE}concept/{scheme}/"
        allowed = sorted(k[len(prefix) :] for k in known if k.startswith(prefix) and "/" not in k[len(prefix) :])
        hint_it, hint_en = did_you_mean(value, allowed)
        return Problem(
            "unknown-reference",
            f'Valore sconosciuto nella {column}: "{value}".{hint_it} Valori ammessi (schema {scheme}): '
            f"{', '.join(allowed) or 'nessuno'}.",
            f'Unknown value in {column_en}: "{value}".{hint_en} Allowed values (scheme {scheme}): '
            f"{', '.join(allowed) or 'none'}.",
            cell,
            focus=subject,
            path=path,
            value=value,
        )
    prefix = f"{ID_BASE}{kind}/"
    slugs = {k[len(prefix) :] for k in known if k.startswith(prefix)}
    mine = f"{publisher}-"
    choices = slugs | {x[len(mine) :] for x in slugs if publisher and x.startswith(mine)}
    by_name = {
        reconcile.normalise(q.object.value): q.subject.value[len(prefix) :]
        for q in background
        if q.predicate.value == reconcile.RDFS_LABEL
        and isinstance(q.object, ox.Literal)
        and isinstance(q.subject, ox.NamedNode)
        and q.subject.value.startswith(prefix)
    }
    close = [by_name[n] for n in csv2rdf.suggest(slug.replace("-", " "), set(by_name))]
    hint_it, hint_en = did_you_mean(slug, choices | set(close))
    if close and not hint_it:
        hint_it, hint_en = did_you_mean(close[0], {close[0]})
    return Problem(
        "unknown-reference",
        f'Riferimento sconosciuto nella {column}: "{slug}" ({kind}) non è descritto nell\'invio né nei dati pubblicati.'
        f"{hint_it} Usare l'id di una riga dei propri file o l'identificativo di un ente pubblicato.",
        f'Unknown reference in {column_en}: "{slug}" ({kind}) is described neither in the submission nor in the '
        f"published data.{hint_en} Use the id of a row of your files or the identifier of a published body.",
        cell,
        focus=subject,
        path=path,
        value=slug,
    )


def _publish(
    settings: Settings,
    publisher: str,
    converted: Converted,
    report: SubmissionReport,
    progress: Progress | None,
    reconciled: list[ox.Quad] | None = None,
) -> None:
    """Build a release with the candidate contribution (and `graph/reconciled`, when given: the owl:sameAs of
    scripts/reconcile.py); map SHACL findings back to cells on refusal."""
    work = settings.build_dir / f".tmp-ingest-{os.getpid()}-{publisher}"
    _remove_abandoned(settings.build_dir)
    shutil.rmtree(work, ignore_errors=True)
    (work / "contributions").mkdir(parents=True)
    files = {publisher: converted.quads}
    if reconciled is not None:
        files[RECONCILED_KEY] = reconciled
    candidates = {key: work / "contributions" / f"{key}.nq" for key in files}
    for key, quads in files.items():
        candidates[key].write_bytes(ox.serialize(sorted(set(quads), key=str), format=ox.RdfFormat.N_QUADS) or b"")
    before = previous_release(settings)
    try:
        release = build(settings, progress, candidates)
    except BuildError as error:
        _add_findings(error.report.findings if error.report else [], converted, report)
        if not report.problems:
            report.problems.append(
                Problem("release", f"Il rilascio è stato rifiutato: {error}", f"The release was refused: {error}")
            )
        return
    except UnreadableInput as error:
        report.problems.append(
            Problem("release", f"Rilascio illeggibile: {error}", f"Unreadable release input: {error}")
        )
        return
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.release = release.name
    if release == before:  # an identical resubmission: nothing changed, nothing was published
        report.changelog = {"unchanged": True, "previous": release.name, "triples": {"added": 0, "removed": 0}}
    else:
        report.changelog = json.loads((release / "changelog.json").read_text())


def _check(
    settings: Settings, publisher: str, converted: Converted, report: SubmissionReport, progress: Progress | None
) -> None:
    """Validate the release the contribution would make, as `_publish` does, writing nothing under build/."""
    with tempfile.TemporaryDirectory(prefix="parita-dry-run-") as tmp:
        candidate = Path(tmp) / f"{publisher}.nq"
        candidate.write_bytes(ox.serialize(sorted(set(converted.quads), key=str), format=ox.RdfFormat.N_QUADS) or b"")
        try:
            quads = read_sources(release_sources(settings, {publisher: candidate}))
        except UnreadableInput as error:
            report.problems.append(
                Problem("release", f"Rilascio illeggibile: {error}", f"Unreadable release input: {error}")
            )
            return
        result, _ = validate_quads(quads, settings, progress or (lambda message: None))
    _add_findings(result.findings, converted, report)
    if not result.conforms and not report.problems:
        report.problems.append(
            Problem(
                "release",
                f"Il rilascio sarebbe rifiutato: {len(result.violations)} violazioni in altre fonti.",
                f"The release would be refused: {len(result.violations)} violation(s) in other sources.",
            )
        )


def _add_findings(findings: list[Finding], converted: Converted, report: SubmissionReport) -> None:
    """The findings about the contribution's own nodes, as problems (violations) and warnings."""
    own = {q.subject.value for q in converted.quads if not isinstance(q.subject, ox.Triple)}
    mine = [f for f in findings if f.focus_node in own]
    report.problems += [_from_finding(f, converted) for f in mine if f.severity == "Violation"]
    report.warnings += [_from_finding(f, converted) for f in mine if f.severity != "Violation"]


def _remove_abandoned(build_dir: Path) -> None:
    """Candidate folders of ingests that were killed (their process is gone) are never used: remove them."""
    for folder in build_dir.glob(".tmp-ingest-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Node shapes whose results carry no sh:resultPath, and the property they ask for (a column to fill).
NODE_SHAPE_PATHS = {"https://w3id.org/parita/shapes#EnglishLabelShape": reconcile.RDFS_LABEL}


def _from_finding(f: Finding, converted: Converted) -> Problem:
    path = _expand(f.path) or NODE_SHAPE_PATHS.get(f.shape)
    cells = converted.cells.get((f.focus_node, path or "")) or []
    # a missing value (no sh:value) is asked of the column that would hold it; a wrong one of the cell that has it
    missing = f.value is None or f.shape in NODE_SHAPE_PATHS
    cell = _column_for(converted, f.focus_node, path, f.shape) if missing or not cells else cells[0]
    it = f.messages.get("it", next(iter(f.messages.values()), ""))
    en = f.messages.get("en", next(iter(f.messages.values()), ""))
    if cell is not None and cell.column:  # the clerk fills a column, not an RDF property
        it = f'{cell.file}, riga {cell.row}, colonna "{cell.column}": {it}'
        en = f'{cell.file}, row {cell.row}, column "{cell.column}": {en}'
    return Problem(
        "shacl",
        it,
        en,
        cell,
        focus=f.focus_node,
        path=path or f.path,
        value=f.value,
        severity=f.severity,
        shape=f.shape,
    )


def _expand(path: str | None) -> str | None:
    if path and path.startswith("<") and path.endswith(">"):
        return path[1:-1]
    if not path or path.startswith(("http", "^")) or "/" in path.split(":", 1)[-1] or "|" in path:
        return path
    try:
        return str(rdflib.Graph().namespace_manager.expand_curie(path))
    except ValueError:
        return path


def _column_for(converted: Converted, focus: str, path: str | None, shape: str | None = None) -> Cell | None:
    """The row that describes `focus`, and the template column that would hold `path`: of the columns mapped
    to `path`, one the row left empty (an English label is asked of `nome_en`, not of the filled `nome`)."""
    last = re.search(r"<([^<>]+)>$", path or "")  # a path ending `.../<parita:territory>` is filled at its end
    path = last[1] if last else path
    cells = converted.cells.get((focus, path or "")) or []
    row = converted.subjects.get(focus) or (Cell(cells[0].file, cells[0].row, None) if cells else None)
    if row is None or path is None or not row.file.lower().endswith(".csv"):
        return cells[0] if cells else row
    table = csv2rdf.table_for(csv2rdf.load_metadata(METADATA), row.file)
    filled = {c.column for c in cells if c.row == row.row}
    columns = [
        col.name
        for col in (table.tableSchema.columns if table else [])
        if not col.virtual
        and (prop := col.inherit("propertyUrl")) is not None
        and csv2rdf._iri(prop.expand(), "") == path
    ]
    empty = [name for name in columns if name not in filled]
    if shape and shape.endswith("EnglishLabelShape"):
        empty = [name for name in empty if name.endswith("_en")] or empty
    chosen = (empty or columns or [None])[0]
    return Cell(row.file, row.row, chosen) if chosen else (cells[0] if cells else row)


def republish(settings: Settings, publisher: str, decisions: dict[str, Any]) -> SubmissionReport:
    """Publish the publisher's accepted statements again, and `graph/reconciled` with the owl:sameAs of
    `decisions` (used by reconcile); an owl:sameAs left in the publisher's graph by an earlier version moves."""
    report = SubmissionReport(publisher, [f"contributions/{publisher}.nq"])
    current = contributions_dir(settings) / f"{publisher}.nq"
    converted = Converted()
    graph = ox.NamedNode(publisher_graph(publisher))
    for q in read_quads(current, graph) if current.exists() else []:
        if q.predicate.value != reconcile.SAME_AS:
            converted.quads.append(q)
    _publish(settings, publisher, converted, report, None, reconcile.reconciled_graph(settings, {publisher: decisions}))
    return report


def check_files(settings: Settings, publisher: str, paths: list[Path], fmt: str = "text") -> int:
    """`parita validate` of CSV templates (and RDF beside them): a dry-run ingest. Exit 0 valid, 1 not, 2 unreadable."""
    try:
        uploads = [Upload(p.name, p.read_bytes()) for p in paths]
    except OSError as error:
        print(f"cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    report = ingest(settings, publisher, uploads, dry_run=True)
    print(FORMATS[fmt](report))
    return EXIT_OK if report.ok else EXIT_REFUSED


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parita ingest", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--publisher", required=True, help="publisher ID: lower case, digits, hyphens (e.g. provincia-cuneo)"
    )
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        help="CSV files named as in data/templates/, or RDF files (.ttl .trig .nt .nq .jsonld .rdf)",
    )
    parser.add_argument(
        "--format", choices=sorted(FORMATS), default="text", help="report format (turtle = sh:ValidationReport)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    parser.add_argument(
        "--dry-run", action="store_true", help="run every check, publish nothing (build/ is left as it was)"
    )
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    try:
        uploads = [Upload(p.name, p.read_bytes()) for p in args.files]
    except OSError as error:
        print(f"cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    progress = None if args.quiet else (lambda message: print(f"[ingest] {message}", file=sys.stderr))
    report = ingest(settings, args.publisher, uploads, progress, dry_run=args.dry_run)
    print(FORMATS[args.format](report))
    return EXIT_OK if report.ok else EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
