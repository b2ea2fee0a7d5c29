"""The report of a submission: terminal text, JSON, HTML and an sh:ValidationReport in Turtle.

Each problem names the file, row and column of the CSV cell (or the RDF node), and says what is
wrong in Italian and English. The HTML escapes every value, so a refused cell is never echoed raw.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import rdflib
from rdflib.namespace import DCTERMS, PROV, RDF, SH, XSD

from scripts.csv2rdf import Problem


@dataclass
class SubmissionReport:
    publisher: str
    files: list[str]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    release: str | None = None
    reused: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    changelog: dict[str, Any] | None = None
    dry_run: bool = False  # every check ran, nothing was published

    @property
    def ok(self) -> bool:
        return not self.problems and (self.release is not None or self.dry_run)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "publisher": self.publisher,
            "files": self.files,
            "release": self.release,
            "violations": len(self.problems),
            "warnings": len(self.warnings),
            "problems": [_problem(p) for p in self.problems],
            "warning_list": [_problem(p) for p in self.warnings],
            "reconciliation": {"reused": self.reused, "candidates": self.candidates},
            "changelog": self.changelog,
        }

    def json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)

    def text(self) -> str:
        lines = []
        for p in self.problems + self.warnings:
            lines.append(f"{p.severity.upper()} {_where(p)}")
            if p.focus:
                lines.append(f"  node:  <{p.focus}>" + (f"  path: {p.path}" if p.path else ""))
            if p.value is not None:
                lines.append(f"  value: {p.value!r}")
            lines += [f"  [it] {p.it}", f"  [en] {p.en}"]
        for r in self.reused:
            lines.append(f"RIUSO / REUSED <{r['existing']}> ({r['existing_label']}): {r['reason']}")
        for c in self.candidates:
            lines.append(
                f"DA CONFERMARE / TO CONFIRM <{c['submitted']}> = <{c['existing']}>? {c['reason']} (parita reconcile)"
            )
        if self.ok and self.dry_run:
            lines.append(
                f"valido / valid: {len(self.warnings)} avviso/i / warning(s); prova, nulla è stato pubblicato / "
                "dry run, nothing was published"
            )
        elif self.ok and (self.changelog or {}).get("unchanged"):
            lines.append(
                f"accettato / accepted: identico alla release {self.release}, nulla da pubblicare / "
                "identical to the current release, nothing published"
            )
        elif self.ok:
            log = self.changelog or {}
            lines.append(
                f"accettato / accepted: release {self.release} "
                f"(+{log.get('triples', {}).get('added', 0)} -{log.get('triples', {}).get('removed', 0)} triples)"
            )
        else:
            lines.append(
                f"rifiutato / refused: {len(self.problems)} problem(s); nothing was changed / nulla è cambiato"
            )
        return "\n".join(lines)

    def html(self) -> str:
        rows = "".join(
            f"<tr><td>{_e(p.severity)}</td><td>{_e(p.cell.file if p.cell else '')}</td><td>{_e(p.cell.row if p.cell else '')}</td>"
            f'<td>{_e(p.cell.column if p.cell and p.cell.column else "")}</td><td lang="it">{_e(p.it)}</td><td lang="en">{_e(p.en)}</td>'
            f"<td>{_e(p.value or '')}</td><td>{_e(p.focus or '')}</td></tr>"
            for p in self.problems + self.warnings
        )
        verdict = (
            "Valido: prova, nulla è stato pubblicato / Valid: dry run, nothing was published"
            if self.ok and self.dry_run
            else f"Accettato: release {_e(self.release)} / Accepted"
            if self.ok
            else "Rifiutato: nulla è cambiato / Refused: nothing changed"
        )
        return (
            '<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Rapporto di invio / Submission report</title></head>'
            f"<body><h1>{_e(self.publisher)}: {verdict}</h1><table><thead><tr><th>gravità / severity</th><th>file</th><th>riga / row</th>"
            "<th>colonna / column</th><th>problema</th><th>problem</th><th>valore / value</th><th>nodo / node</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></body></html>"
        )

    def turtle(self) -> str:
        """The problems as an sh:ValidationReport; CSV cells are named with RFC 7111 fragments."""
        g = rdflib.Graph()
        g.bind("sh", SH)
        report = rdflib.BNode("report")
        g.add((report, RDF.type, SH.ValidationReport))
        g.add((report, SH.conforms, rdflib.Literal(not self.problems)))
        for n, p in enumerate(self.problems + self.warnings):
            r = rdflib.BNode(f"r{n}")
            g.add((report, SH.result, r))
            g.add((r, RDF.type, SH.ValidationResult))
            g.add((r, SH.resultSeverity, SH.Violation if p.severity == "Violation" else SH.Warning))
            g.add((r, SH.focusNode, rdflib.URIRef(p.focus) if p.focus else rdflib.Literal(_where(p))))
            if p.path and p.path.startswith("http"):
                g.add((r, SH.resultPath, rdflib.URIRef(p.path)))
            if p.value is not None:
                g.add((r, SH.value, rdflib.Literal(p.value)))
            g.add((r, SH.resultMessage, rdflib.Literal(p.it, lang="it")))
            g.add((r, SH.resultMessage, rdflib.Literal(p.en, lang="en")))
            g.add((r, SH.sourceConstraintComponent, rdflib.URIRef(f"https://w3id.org/parita/ingest#{p.kind}")))
            if p.shape:
                g.add((r, SH.sourceShape, rdflib.URIRef(p.shape)))
            if p.cell:
                g.add((r, PROV.wasDerivedFrom, rdflib.Literal(_cell_ref(p), datatype=XSD.anyURI)))
                g.add((r, DCTERMS.source, rdflib.Literal(p.cell.file)))
        return g.serialize(format="turtle")


def _cell_ref(p: Problem) -> str:
    assert p.cell is not None
    return f"{p.cell.file}#row={p.cell.row}" + (f";column={p.cell.column}" if p.cell.column else "")


def _where(p: Problem) -> str:
    if p.cell is None:
        return p.focus or "?"
    where = f"{p.cell.file}, riga/row {p.cell.row}"
    return where + (f", colonna/column {p.cell.column}" if p.cell.column else "")


def _problem(p: Problem) -> dict[str, Any]:
    d = asdict(p)
    d["cell"] = None if p.cell is None else {"file": p.cell.file, "row": p.cell.row, "column": p.cell.column}
    return d


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


FORMATS = {
    "text": SubmissionReport.text,
    "json": SubmissionReport.json,
    "html": SubmissionReport.html,
    "turtle": SubmissionReport.turtle,
}
