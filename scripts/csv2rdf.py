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
import difflib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox
from csvw.metadata import NAMESPACES, Column, Table, TableGroup

IF_PRESENT = "https://w3id.org/parita/csvw#ifPresent"
LOOKUP = "https://w3id.org/parita/csvw#lookup"  # the cell names a thing (a code or a name): a Lookup finds its IRI
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
SEPARATORS = {",": ("virgola", "comma"), ";": ("punto e virgola", "semicolon"), "\t": ("tabulazione", "tab")}
DATE_SHAPE = {"dd/MM/yyyy": re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")}


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


@dataclass(frozen=True)
class Found:
    """What a Lookup made of a cell: the IRI, or why not (Italian, English)."""

    iri: str | None
    it: str = ""
    en: str = ""


Lookup = Callable[[str], Found]


def suggest(word: str, choices: list[str] | set[str], n: int = 3) -> list[str]:
    """The closest choices to `word` (difflib), for "did you mean" hints."""
    return difflib.get_close_matches(word, sorted(choices), n=n, cutoff=0.6)


def did_you_mean(word: str, choices: list[str] | set[str]) -> tuple[str, str]:
    """' Forse: "a", "b"?' in Italian and English, or empty strings."""
    close = suggest(word, choices)
    if not close:
        return "", ""
    shown = ", ".join(f'"{c}"' for c in close)
    return f" Forse intendevi {shown}?", f" Did you mean {shown}?"


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


def convert_file(
    group: TableGroup,
    name: str,
    data: bytes,
    graph: ox.NamedNode,
    out: Converted,
    lookups: Mapping[str, Lookup] | None = None,
) -> None:
    """Append the triples of one CSV file (`name` must be a table of `group`) to `out`.

    The separator (comma, semicolon or tab: Excel in Italian saves with semicolons) is the one that
    makes the most header cells known column names. A column annotated with `parita-csvw:lookup` has
    its cell replaced by the IRI the named lookup finds (a comune by ISTAT code or name)."""
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
        separator = _separator(table, text)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
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
    columns = _match_header(table, name, rows[0], separator, out)
    if columns is None:
        return
    base = _base(group)
    seen_keys: dict[tuple[Any, ...], int] = {}
    for line, raw in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in raw):
            continue
        values = _read_row(table, name, line, columns, raw, out, lookups or {})
        if values is None:
            continue
        _check_key(table, name, line, values, seen_keys, out)
        _emit_row(table, base, name, line, values, graph, out)


def _known_titles(table: Table) -> set[str]:
    return {t for c in table.tableSchema.columns if not c.virtual for t in [c.name, *_titles(c)]}


def _titles(col: Column) -> list[str]:
    # csvw keeps titles per language: {None: ["nome", "name"]}
    return [str(t) for titles in (col.titles.values() if col.titles is not None else []) for t in titles]


def _separator(table: Table, text: str) -> str:
    """The separator that makes the most header cells known column names (comma on a tie)."""
    header = text.split("\n", 1)[0]
    known = _known_titles(table)

    def score(sep: str) -> int:
        cells = next(csv.reader([header], delimiter=sep), [])
        return sum(cell.strip() in known for cell in cells)

    return max(SEPARATORS, key=lambda sep: (score(sep), sep == ","))


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


def _match_header(
    table: Table, name: str, header: list[str], separator: str, out: Converted
) -> list[Column | None] | None:
    real = [c for c in table.tableSchema.columns if not c.virtual]
    names = ", ".join(c.name for c in real)
    matched: list[Column | None] = []
    unknown = 0
    mixed = False  # an unknown header cell holding another separator: the file is not split as it should be
    for title in header:
        col = next((c for c in real if c.name == title.strip() or c.has_title(title.strip())), None)
        if col is None:
            unknown += 1
            mixed = mixed or any(sep in title for sep in SEPARATORS if sep != separator)
            hint_it, hint_en = did_you_mean(title.strip(), _known_titles(table))
            out.problems.append(
                Problem(
                    "unknown-column",
                    f'{name}: colonna "{title}" sconosciuta.{hint_it} Colonne ammesse: {names}.',
                    f'{name}: unknown column "{title}".{hint_en} Allowed columns: {names}.',
                    Cell(name, 1, title),
                )
            )
        matched.append(col)
    if unknown and (mixed or unknown == len(header)):
        it_sep, en_sep = SEPARATORS[separator]
        others_it = " o ".join(f"{w[0]}" for s, w in SEPARATORS.items() if s != separator)
        others_en = " or ".join(f"{w[1]}" for s, w in SEPARATORS.items() if s != separator)
        out.problems.append(
            Problem(
                "separator",
                f"{name}: l'intestazione è stata letta con il separatore {it_sep} ({separator!r}), quello che riconosce "
                f"più colonne, ma {unknown} colonne restano sconosciute. parita riconosce virgola, punto e virgola e "
                f"tabulazione: se il file usa un altro separatore (non {others_it}) salvarlo come CSV UTF-8; "
                f"la prima riga deve contenere i nomi delle colonne del modello.",
                f"{name}: the header was read with the {en_sep} separator ({separator!r}), the one that recognises the "
                f"most columns, but {unknown} column(s) remain unknown. parita recognises comma, semicolon and tab: "
                f"if the file uses another separator (not {others_en}) save it as CSV UTF-8; the first line must hold "
                f"the template's column names.",
                Cell(name, 1, None),
            )
        )
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
    table: Table,
    name: str,
    line: int,
    columns: list[Column | None],
    raw: list[str],
    out: Converted,
    lookups: Mapping[str, Lookup],
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
            continue
        lookup = col.common_props.get(LOOKUP)
        if lookup and values[col.name] not in (None, "") and lookup in lookups:
            found = lookups[lookup](str(values[col.name]))
            if found.iri is None:
                ok = False
                out.problems.append(Problem("unknown-value", found.it, found.en, where, value=text.strip()))
            values[col.name] = found.iri
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
        shape = DATE_SHAPE.get(str(expected))
        if shape is not None and shape.fullmatch(text.strip()):  # right shape, no such day: 31/02/2026
            return Problem(
                "impossible-date",
                f'"{text}" nella colonna "{col.name}" ha il formato giusto ma non è una data esistente ({error}).',
                f'"{text}" in column "{col.name}" has the right format but is not a real date ({error}).',
                where,
                value=text,
            )
        return Problem(
            "datatype",
            f'"{text}" nella colonna "{col.name}" non è nel formato {_human(expected)}, per esempio 31/01/2026.',
            f'"{text}" in column "{col.name}" is not in the format {_human(expected)}, for example 31/01/2026.',
            where,
            value=text,
        )
    allowed = _choices(str(expected))
    if allowed:
        hint_it, hint_en = did_you_mean(text.strip(), allowed)
        shown = ", ".join(allowed)
        return Problem(
            "datatype",
            f'"{text}" non è ammesso nella colonna "{col.name}".{hint_it} Valori ammessi: {shown}.',
            f'"{text}" is not allowed in column "{col.name}".{hint_en} Allowed values: {shown}.',
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


def _choices(fmt: str) -> list[str]:
    """The values of a format that is a plain list of words ("HelpDesk|SecretFacility"), else []."""
    words = fmt.split("|")
    return words if len(words) > 1 and all(re.fullmatch(r"[A-Za-z0-9_-]+", w) for w in words) else []


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
