"""CSV to RDF driven entirely by W3C CSVW metadata (https://www.w3.org/TR/csv2rdf/).

The `csvw` package parses the metadata and each cell (datatypes, date formats, `required`,
`null`); this module expands the metadata's `aboutUrl`/`propertyUrl`/`valueUrl` templates into
triples and remembers, for every triple, the file, row and column it came from. Nothing here
knows about a particular template. Deviations from csv2rdf's standard mode, all documented in
`data/templates/README.en.md`: no table/row description triples (minimal mode); a virtual
column is output only when the columns named in its `ifPresent` annotation have a value.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox
from csvw.metadata import NAMESPACES, Column, Table, TableGroup

IF_PRESENT = "https://w3id.org/parita/csvw#ifPresent"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# the CSVW initial context has both dc and dcterms
PREFIXES: dict[str, str] = {**NAMESPACES, "dcterms": "http://purl.org/dc/terms/"}
DATATYPES = {
    "date": "date",
    "datetime": "dateTime",
    "gYear": "gYear",
    "gYearMonth": "gYearMonth",
    "integer": "integer",
    "decimal": "decimal",
    "boolean": "boolean",
    "anyURI": "anyURI",
}
# OWASP "CSV injection": a cell a spreadsheet would run as a formula. Phone numbers (+39 ...) stay allowed.
MAX_ROWS = 5000  # per file: validation of a larger contribution would hold the clerk (and the server) for minutes
FORMULA = re.compile(r"^(=|@|\t|\r|[+-](?![0-9 ().]*$))")


@dataclass(frozen=True)
class Cell:
    """Where a value came from: file name, 1-based physical line (the header is line 1), column title."""

    file: str
    row: int
    column: str | None

    def uri(self) -> str:
        """RFC 7111 fragment for the row (and column) of the CSV file."""
        return f"{self.file}#row={self.row}"


@dataclass(frozen=True)
class Problem:
    """Something wrong with the submission, said in Italian and English, with its place."""

    kind: str
    it: str
    en: str
    cell: Cell | None = None
    focus: str | None = None
    path: str | None = None
    value: str | None = None
    severity: str = "Violation"
    shape: str | None = None


@dataclass
class Converted:
    """The triples of a submission, each with the cells it came from, and the problems met."""

    quads: list[ox.Quad] = field(default_factory=list)
    cells: dict[tuple[str, str], list[Cell]] = field(default_factory=dict)
    subjects: dict[str, Cell] = field(default_factory=dict)
    described: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)

    def add(self, triple: ox.Triple, cell: Cell, graph: ox.NamedNode) -> None:
        self.quads.append(ox.Quad(triple.subject, triple.predicate, triple.object, graph))
        subject, predicate = triple.subject, triple.predicate.value
        assert not isinstance(subject, ox.Triple), "RDF 1.2 triple terms are refused before conversion"
        self.cells.setdefault((subject.value, predicate), []).append(cell)
        row = Cell(cell.file, cell.row, None)
        if predicate == RDF_TYPE and subject.value not in self.described:
            self.subjects[subject.value] = row  # the row that types a thing is the one that describes it
            self.described.add(subject.value)
        self.subjects.setdefault(subject.value, row)


def load_metadata(path: Path) -> TableGroup:
    return TableGroup.from_file(path)


def table_for(group: TableGroup, name: str) -> Table | None:
    return next((t for t in group.tables if str(t.url) == name), None)


def expected_files(group: TableGroup) -> list[str]:
    return [str(t.url) for t in group.tables]


def convert_file(group: TableGroup, name: str, data: bytes, graph: ox.NamedNode, out: Converted) -> None:
    """Append the triples of one CSV file (`name` must be a table of `group`) to `out`."""
    table = table_for(group, name)
    if table is None:
        out.problems.append(
            Problem(
                "unknown-file",
                f"Il file {name} non corrisponde a nessun modello (attesi: {', '.join(expected_files(group))}).",
                f"File {name} matches no template (expected: {', '.join(expected_files(group))}).",
                Cell(name, 0, None),
            )
        )
        return
    text = _decode(name, data, out)
    if text is None:
        return
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:  # e.g. a cell over the csv module's 131,072-character field limit
        out.problems.append(
            Problem(
                "unreadable",
                f"Il file {name} non si legge come CSV: {error}.",
                f"File {name} cannot be read as CSV: {error}.",
                Cell(name, 0, None),
            )
        )
        return
    if not rows:
        out.problems.append(Problem("empty", f"Il file {name} è vuoto.", f"File {name} is empty.", Cell(name, 1, None)))
        return
    if len(rows) > MAX_ROWS + 1:
        out.problems.append(
            Problem(
                "too-many-rows",
                f"Il file {name} ha {len(rows) - 1} righe; una contribuzione ne può avere al massimo {MAX_ROWS}: dividerla in più invii.",
                f"File {name} has {len(rows) - 1} rows; a contribution may have at most {MAX_ROWS}: split it into several.",
                Cell(name, 0, None),
            )
        )
        return
    columns = _match_header(table, name, rows[0], out)
    if columns is None:
        return
    base = _base(group)
    seen_keys: dict[tuple[Any, ...], int] = {}
    for line, raw in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in raw):
            continue
        values = _read_row(table, name, line, columns, raw, out)
        if values is None:
            continue
        _check_key(table, name, line, values, seen_keys, out)
        _emit_row(table, base, name, line, values, graph, out)


def _decode(name: str, data: bytes, out: Converted) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        out.problems.append(
            Problem(
                "encoding",
                f'Il file {name} non è in UTF-8 (byte {error.start}, riga {line}): salvarlo come "CSV UTF-8".',
                f'File {name} is not UTF-8 (byte {error.start}, line {line}): save it as "CSV UTF-8".',
                Cell(name, line, None),
            )
        )
        return None


def _match_header(table: Table, name: str, header: list[str], out: Converted) -> list[Column | None] | None:
    real = [c for c in table.tableSchema.columns if not c.virtual]
    matched: list[Column | None] = []
    for title in header:
        col = next((c for c in real if c.name == title.strip() or c.has_title(title.strip())), None)
        if col is None:
            out.problems.append(
                Problem(
                    "unknown-column",
                    f'{name}: colonna "{title}" sconosciuta; colonne ammesse: {", ".join(c.name for c in real)}.',
                    f'{name}: unknown column "{title}"; allowed columns: {", ".join(c.name for c in real)}.',
                    Cell(name, 1, title),
                )
            )
        matched.append(col)
    present = {c.name for c in matched if c}
    for col in real:
        if col.required and col.name not in present:
            out.problems.append(
                Problem(
                    "missing-column",
                    f'{name}: manca la colonna obbligatoria "{col.name}".',
                    f'{name}: the required column "{col.name}" is missing.',
                    Cell(name, 1, col.name),
                )
            )
    return None if any(p.cell and p.cell.file == name and p.cell.row == 1 for p in out.problems) else matched


def _read_row(
    table: Table, name: str, line: int, columns: list[Column | None], raw: list[str], out: Converted
) -> dict[str, Any] | None:
    values: dict[str, Any] = {c.name: None for c in table.tableSchema.columns if not c.virtual}
    ok = True
    for col, text in zip(columns, raw, strict=False):
        if col is None:
            continue
        where = Cell(name, line, col.name)
        if FORMULA.match(text) or FORMULA.match(text.strip()):  # the stripped text is what gets stored
            first = text.strip()[:1] or text[:1]
            out.problems.append(
                Problem(
                    "formula",
                    f'Cella che inizia con "{first}": sembra una formula di foglio di calcolo ed è rifiutata (CSV injection).',
                    f'Cell starting with "{first}": it looks like a spreadsheet formula and is refused (CSV injection).',
                    where,
                    value=text,
                )
            )
            ok = False
            continue
        try:
            values[col.name] = col.read(text.strip())
        except ValueError as error:
            ok = False
            out.problems.append(_cell_problem(col, text, str(error), where))
    for col in table.tableSchema.columns:
        if (
            col.required
            and not col.virtual
            and values.get(col.name) is None
            and not any(p.cell == Cell(name, line, col.name) for p in out.problems)
        ):
            out.problems.append(_cell_problem(col, "", "required column value is missing", Cell(name, line, col.name)))
            ok = False
    return values if ok else None


def _cell_problem(col: Column, text: str, error: str, where: Cell) -> Problem:
    if "required" in error:
        return Problem(
            "required",
            f'Valore obbligatorio mancante nella colonna "{col.name}".',
            f'Required value missing in column "{col.name}".',
            where,
        )
    expected = (
        col.datatype.format
        if col.datatype and col.datatype.format
        else (col.datatype.base if col.datatype else "string")
    )
    if col.datatype and col.datatype.base in ("date", "datetime"):
        return Problem(
            "datatype",
            f'"{text}" non è una data valida nel formato {_human(expected)}.',
            f'"{text}" is not a valid date in the format {_human(expected)}.',
            where,
            value=text,
        )
    return Problem(
        "datatype",
        f'"{text}" non è un valore ammesso nella colonna "{col.name}" (formato atteso: {expected}).',
        f'"{text}" is not allowed in column "{col.name}" (expected format: {expected}).',
        where,
        value=text,
    )


def _human(fmt: str) -> str:
    return fmt.replace("dd", "GG").replace("MM", "MM").replace("yyyy", "AAAA") + f" ({fmt})"


def _check_key(
    table: Table, name: str, line: int, values: dict[str, Any], seen: dict[tuple[Any, ...], int], out: Converted
) -> None:
    key_cols = table.tableSchema.primaryKey or []
    if not key_cols:
        return
    key = tuple(values.get(c) for c in key_cols)
    if key in seen:
        shown = ", ".join(str(k) for k in key)
        out.problems.append(
            Problem(
                "duplicate",
                f'Duplicato: "{shown}" è già descritto alla riga {seen[key]} di {name}.',
                f'Duplicate: "{shown}" is already described on row {seen[key]} of {name}.',
                Cell(name, line, key_cols[0]),
                value=shown,
            )
        )
    else:
        seen[key] = line


def _emit_row(
    table: Table, base: str, name: str, line: int, values: dict[str, Any], graph: ox.NamedNode, out: Converted
) -> None:
    strings = {k: _lexical(v) for k, v in values.items() if not _empty(v)}
    row_about = table.tableSchema.inherit("aboutUrl")
    for col in table.tableSchema.columns:
        wanted = col.common_props.get(IF_PRESENT) or []
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        if col.suppressOutput or (col.virtual and any(strings.get(w) in (None, "") for w in wanted)):
            continue
        if not col.virtual and _empty(values.get(col.name)):
            continue
        triple = _triple(table, col, base, strings, values.get(col.name), row_about)
        if triple is not None:  # a virtual column's triple is blamed on the column it depends on
            out.add(triple, Cell(name, line, (wanted[0] if wanted else None) if col.virtual else col.name), graph)


def _triple(
    table: Table, col: Column, base: str, strings: dict[str, str], value: Any, row_about: Any
) -> ox.Triple | None:
    about = col.aboutUrl or row_about
    prop = col.inherit("propertyUrl")
    if about is None or prop is None:
        return None
    subject = ox.NamedNode(_iri(about.expand(**strings), base))
    predicate = ox.NamedNode(_iri(prop.expand(**strings), base))
    value_url = col.inherit("valueUrl")
    if value_url is not None:
        return ox.Triple(subject, predicate, ox.NamedNode(_iri(value_url.expand(**strings), base)))
    return ox.Triple(subject, predicate, _literal(col, value, table))


def _iri(text: str, base: str) -> str:
    prefix, _, rest = text.partition(":")
    if prefix in PREFIXES and not rest.startswith("//"):
        return PREFIXES[prefix] + rest
    return urljoin(base, text)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list)) and not value)


def _lexical(value: Any) -> str:
    if hasattr(value, "unsplit"):  # anyURI cells are rfc3986 URIReference objects
        return str(value.unsplit())
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _literal(col: Column, value: Any, table: Table) -> ox.Literal:
    base = col.datatype.base if col.datatype else "string"
    if base in DATATYPES:
        return ox.Literal(_lexical(value), datatype=ox.NamedNode(XSD + DATATYPES[base]))
    lang = col.lang if col.lang and col.lang != "und" else table.common_props.get("lang") or _group_lang(table)
    if lang and lang != "und":
        return ox.Literal(_lexical(value), language=lang)
    return ox.Literal(_lexical(value))


def _group_lang(table: Table) -> str | None:
    parent = getattr(table, "_parent", None)
    return getattr(parent, "lang", None) if parent is not None else None


def _base(group: TableGroup) -> str:
    for item in group.at_props.get("context", []) if isinstance(group.at_props.get("context"), list) else []:
        if isinstance(item, dict) and "@base" in item:
            return str(item["@base"])
    return "https://w3id.org/parita/id/"
