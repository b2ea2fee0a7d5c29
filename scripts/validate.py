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

import pyoxigraph as ox
import pyshacl
import rdflib
import rdflib.collection
from rdflib.namespace import DCTERMS, RDFS, SH, SKOS

from scripts.rdfio import UnreadableInput, graphs_by_subject, read_quads, to_rdflib_graph, to_rdflib_term
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


def only_about(report: Report, origins: dict[rdflib.term.Node, list[str]]) -> Report:
    """The findings about nodes the checked files state, and every violation: background data is not on
    trial, but a violation anywhere makes the build refuse (a replaced graph may break a node it links)."""
    checked = {str(node) for node in origins}
    kept = [f for f in report.findings if f.severity == "Violation" or f.focus_node in checked]
    conforms = not any(f.severity == "Violation" for f in kept)
    return Report(
        conforms=conforms,
        findings=kept,
        report_graph=subset_report(
            report.report_graph,
            lambda result, graph: (
                graph.value(result, SH.resultSeverity) == SH.Violation
                or str(graph.value(result, SH.focusNode)) in checked
            ),
            conforms,
        ),
    )


def subset_report(
    report_graph: rdflib.Graph, keep: Callable[[rdflib.term.Node, rdflib.Graph], bool], conforms: bool
) -> rdflib.Graph:
    """The sh:ValidationReport with only the results `keep(result, report_graph)` accepts."""
    graph = rdflib.Graph()
    for prefix, namespace in report_graph.namespaces():
        graph.bind(prefix, namespace)
    for root in report_graph.subjects(rdflib.RDF.type, SH.ValidationReport):
        graph.add((root, rdflib.RDF.type, SH.ValidationReport))
        graph.add((root, SH.conforms, rdflib.Literal(conforms)))
        for result in report_graph.objects(root, SH.result):
            if keep(result, report_graph):
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


def release_background(
    files: list[Path], data: list[ox.Quad], settings: Settings
) -> tuple[list[ox.Quad], dict[str, str]]:
    """What the build would validate `files` with: every data graph of the release except the ones the files
    replace. A file replaces the source of the same name (data/asti.ttl, contributions/ID.nq) and every graph
    it declares (a TriG or N-Quads file naming `{base}graph/...`), so it is checked as the build would check
    it, never on top of its own published version. Returns the background and, per graph, its file."""
    from scripts.build import meta_graphs, read_sources, rebase_iri, release_sources  # build imports this module

    names = {path.name for path in files}
    declared = {graph_of_any(q) for q in data} - {None}
    sources = [
        s
        for s in release_sources(settings)
        if s.graph not in meta_graphs()
        and s.path.name not in names
        and s.graph not in declared
        and rebase_iri(s.graph, settings.base_uri) not in declared
    ]
    return read_sources(sources), {s.graph: str(s.path) for s in sources}


def graph_of_any(quad: ox.Quad) -> str | None:
    return None if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value


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
        checked = {path: read_quads(path) for path in args.files}
    except UnreadableInput as error:
        print(format_unreadable(error, args.format))
        return EXIT_UNREADABLE
    try:
        background, files_of_graph = release_background(
            args.files, [q for quads in checked.values() for q in quads], settings
        )
    except UnreadableInput as error:  # a published source that no longer parses: the build would refuse too
        print(format_unreadable(error, args.format))
        return EXIT_UNREADABLE
    data = rdflib.Graph()
    origins: dict[rdflib.term.Node, list[str]] = {}
    for path, quads in checked.items():
        for subject in {q.subject for q in quads}:
            origins.setdefault(to_rdflib_term(subject), []).append(str(path))
        data += to_rdflib_graph(quads)
    background_origins = {
        to_rdflib_term(subject): [files_of_graph[g] for g in graphs]
        for subject, graphs in graphs_by_subject(background).items()
    }
    report = validate_graph(
        data + to_rdflib_graph(background),
        settings,
        {**background_origins, **origins},
        shapes=shapes_graph(settings, with_warnings=not args.no_warnings),
    )
    report = only_about(report, origins)
    print(FORMATTERS[args.format](report))
    return EXIT_OK if report.conforms else EXIT_VIOLATIONS


if __name__ == "__main__":
    sys.exit(main())
