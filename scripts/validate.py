"""`parita validate FILE...`: check RDF files against parita's shapes, with a report a person can act on.

Exit codes follow pySHACL: 0 conforms, 1 violations, 2 unreadable input or usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyshacl
import rdflib
import rdflib.collection
from rdflib.namespace import DCTERMS, RDFS, SH, SKOS

from scripts.rdfio import UnreadableInput, read_quads, to_rdflib_graph
from server.config import Settings

EXIT_OK, EXIT_VIOLATIONS, EXIT_UNREADABLE = 0, 1, 2
LABEL_PROPERTIES = (SKOS.prefLabel, RDFS.label, DCTERMS.title)


@dataclass(frozen=True)
class Finding:
    """One SHACL result, with labels and the file that states the focus node."""

    severity: str
    focus_node: str
    focus_label: str | None
    path: str | None
    value: str | None
    messages: dict[str, str]
    shape: str
    files: list[str] = field(default_factory=list)


@dataclass
class Report:
    conforms: bool
    findings: list[Finding]
    report_graph: rdflib.Graph

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "Violation"]


def load_directory(folder: Path) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted(folder.glob("*.ttl")):
        graph += to_rdflib_graph(read_quads(path))
    return graph


def shapes_graph(settings: Settings, with_warnings: bool = True) -> rdflib.Graph:
    """The shapes: violations from `shapes/*.ttl`, warnings from `*-recommended.ttl` when asked."""
    graph = rdflib.Graph()
    for path in sorted(settings.shapes_dir.glob("*.ttl")):
        if with_warnings or not path.stem.endswith("-recommended"):
            graph += to_rdflib_graph(read_quads(path))
    return graph


def validate_graph(
    data: rdflib.Graph,
    settings: Settings,
    origins: dict[rdflib.term.Node, list[str]] | None = None,
    ontology: rdflib.Graph | None = None,
    shapes: rdflib.Graph | None = None,
) -> Report:
    """Validate `data` with the ontology mixed in (so subclass targets apply) against the shapes."""
    ontology = load_directory(settings.ontology_dir) if ontology is None else ontology
    shapes = shapes_graph(settings) if shapes is None else shapes
    conforms, report_graph, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    labels = data + ontology
    findings = [
        _finding(report_graph, result, labels, origins or {})
        for result in report_graph.subjects(SH.resultSeverity, None)
    ]
    findings.sort(key=lambda f: (f.severity != "Violation", f.files, f.focus_node, f.path or ""))
    return Report(
        conforms=not any(f.severity == "Violation" for f in findings), findings=findings, report_graph=report_graph
    )


def _finding(
    report: rdflib.Graph, result: rdflib.term.Node, labels: rdflib.Graph, origins: dict[rdflib.term.Node, list[str]]
) -> Finding:
    focus = report.value(result, SH.focusNode)
    path = report.value(result, SH.resultPath)
    value = report.value(result, SH.value)
    messages: dict[str, str] = {}
    for message in report.objects(result, SH.resultMessage):
        messages.setdefault(getattr(message, "language", None) or "und", str(message))
    severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
    return Finding(
        severity=severity,
        focus_node=str(focus),
        focus_label=label_of(labels, focus),
        path=None if path is None else _short(labels, path, report),
        value=None if value is None else str(value),
        messages=messages,
        shape=str(report.value(result, SH.sourceShape)),
        files=origins.get(focus, []) if focus is not None else [],
    )


def label_of(graph: rdflib.Graph, node: rdflib.term.Node | None, lang: str = "it") -> str | None:
    """The preferred label of `node`: skos:prefLabel, rdfs:label, dct:title; `lang` first."""
    for prop in LABEL_PROPERTIES:
        values = list(graph.objects(node, prop))
        for value in values:
            if getattr(value, "language", None) == lang:
                return str(value)
        if values:
            return str(values[0])
    return None


def _short(graph: rdflib.Graph, path: rdflib.term.Node, report: rdflib.Graph | None = None) -> str:
    """A SHACL property path in SPARQL-like notation (`^org:organization`, `a/b`), prefixed where possible."""
    if isinstance(path, rdflib.URIRef):
        try:
            return graph.namespace_manager.normalizeUri(path)
        except Exception:  # noqa: BLE001 - rdflib raises several types for unbindable IRIs
            return str(path)
    if report is not None:
        inverse = report.value(path, SH.inversePath)
        if inverse is not None:
            return "^" + _short(graph, inverse, report)
        # spelled out rather than left as a blank node, whose label changes with every run
        for kind, mark in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
            inner = report.value(path, kind)
            if inner is not None:
                return f"({_short(graph, inner, report)}){mark}"
        for via, joiner in ((SH.alternativePath, "|"), (None, "/")):
            items = report.value(path, via) if via else path
            if items is not None and (items, rdflib.RDF.first, None) in report:
                return joiner.join(_short(graph, item, report) for item in rdflib.collection.Collection(report, items))
    return str(path)


def read_files(paths: list[Path]) -> tuple[rdflib.Graph, dict[rdflib.term.Node, list[str]]]:
    """Merge `paths` into one graph and remember which files state each subject."""
    data = rdflib.Graph()
    origins: dict[rdflib.term.Node, list[str]] = {}
    for path in paths:
        graph = to_rdflib_graph(read_quads(path))
        for subject in set(graph.subjects()):
            origins.setdefault(subject, []).append(str(path))
        data += graph
    return data, origins


def only_about(report: Report, origins: dict[rdflib.term.Node, list[str]]) -> Report:
    """Keep the findings whose focus node the checked files state (background data is not on trial)."""
    findings = [f for f in report.findings if f.files]
    conforms = not any(f.severity == "Violation" for f in findings)
    return Report(
        conforms=conforms,
        findings=findings,
        report_graph=subset_report(report.report_graph, lambda node: node in origins, conforms),
    )


def subset_report(
    report_graph: rdflib.Graph, keep: Callable[[rdflib.term.Node | None], bool], conforms: bool
) -> rdflib.Graph:
    """The sh:ValidationReport with only the results whose focus node `keep` accepts."""
    graph = rdflib.Graph()
    for prefix, namespace in report_graph.namespaces():
        graph.bind(prefix, namespace)
    for root in report_graph.subjects(rdflib.RDF.type, SH.ValidationReport):
        graph.add((root, rdflib.RDF.type, SH.ValidationReport))
        graph.add((root, SH.conforms, rdflib.Literal(conforms)))
        for result in report_graph.objects(root, SH.result):
            if keep(report_graph.value(result, SH.focusNode)):
                graph.add((root, SH.result, result))
                graph += report_graph.cbd(result)
    return graph


# --- Report formats --------------------------------------------------------------------------


def format_text(report: Report) -> str:
    lines = []
    for f in report.findings:
        where = ", ".join(f.files) or "?"
        label = f" ({f.focus_label})" if f.focus_label else ""
        lines.append(f"{f.severity.upper()} in {where}")
        lines.append(f"  node:  <{f.focus_node}>{label}")
        if f.path:
            lines.append(f"  path:  {f.path}")
        if f.value is not None:
            lines.append(f"  value: {f.value}")
        for lang in ("it", "en"):
            if lang in f.messages:
                lines.append(f"  [{lang}] {f.messages[lang]}")
        for lang, text in f.messages.items():
            if lang not in ("it", "en"):
                lines.append(f"  {text}")
        lines.append(f"  shape: <{f.shape}>")
    verdict = "conforme / conforms" if report.conforms else "NON conforme / does not conform"
    lines.append(f"{verdict}: {len(report.violations)} violation(s), {len(report.warnings)} warning(s)")
    return "\n".join(lines)


def format_json(report: Report) -> str:
    body = {
        "conforms": report.conforms,
        "violations": len(report.violations),
        "warnings": len(report.warnings),
        "results": [asdict(f) for f in report.findings],
    }
    return json.dumps(body, ensure_ascii=False, indent=2)


def format_turtle(report: Report) -> str:
    return report.report_graph.serialize(format="turtle")


FORMATTERS = {"text": format_text, "json": format_json, "turtle": format_turtle}


def format_unreadable(error: UnreadableInput, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            {
                "conforms": False,
                "unreadable": {
                    "file": str(error.path),
                    "line": error.line,
                    "column": error.column,
                    "message": error.message,
                },
            },
            ensure_ascii=False,
        )
    return f"UNREADABLE {error}"


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parita validate", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help="RDF files: .ttl .trig .nt .nq .jsonld .rdf")
    parser.add_argument(
        "--format", choices=sorted(FORMATTERS), default="text", help="report format (turtle = sh:ValidationReport)"
    )
    parser.add_argument("--no-warnings", action="store_true", help="check only the shapes that block publishing")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    try:
        data, origins = read_files(args.files)
    except UnreadableInput as error:
        print(format_unreadable(error, args.format))
        return EXIT_UNREADABLE
    # The published data is background knowledge: a submission may point at its bodies and concepts.
    background, _ = read_files(sorted(p for p in settings.data_dir.glob("*.ttl")))
    report = validate_graph(
        data + background, settings, origins, shapes=shapes_graph(settings, with_warnings=not args.no_warnings)
    )
    report = only_about(report, origins)
    print(FORMATTERS[args.format](report))
    return EXIT_OK if report.conforms else EXIT_VIOLATIONS


if __name__ == "__main__":
    sys.exit(main())
