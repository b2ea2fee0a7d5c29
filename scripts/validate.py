"""`parita validate FILE...`: check RDF files against parita's shapes, with a report a person can act on.

Exit codes follow pySHACL: 0 conforms, 1 violations, 2 unreadable input or usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import rdflib
import rdflib.collection
from rdflib.namespace import SH

from scripts import shacl_engine
from scripts.rdfio import UnreadableInput, graphs_by_subject, read_quads, to_rdflib_graph, to_rdflib_term
from scripts.sources import meta_graphs, read_sources, rebase_iri, release_sources
from server import labels
from server.config import Settings
from server.labels import LABEL_PROPERTIES
from server.statements import AnyQuad

EXIT_OK, EXIT_VIOLATIONS, EXIT_UNREADABLE = 0, 1, 2


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
    component: str = ""  # the sh:sourceConstraintComponent, without the SHACL namespace


class Report:
    """The findings, and the sh:ValidationReport graph (built when first asked for: it is large)."""

    def __init__(
        self, conforms: bool, findings: list[Finding], report_graph: rdflib.Graph | Callable[[], rdflib.Graph]
    ):
        self.conforms = conforms
        self.findings = findings
        self._report_graph = report_graph

    @property
    def report_graph(self) -> rdflib.Graph:
        if not isinstance(self._report_graph, rdflib.Graph):
            self._report_graph = self._report_graph()
        return self._report_graph

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "Violation"]


def load_directory(folder: Path) -> list[ox.Quad]:
    return [q for path in sorted(folder.glob("*.ttl")) for q in read_quads(path)]


def shapes_graph(settings: Settings, with_warnings: bool = True) -> rdflib.Graph:
    """The shapes: violations from `shapes/*.ttl`, warnings from `*-recommended.ttl` when asked."""
    graph = rdflib.Graph()
    for path in sorted(settings.shapes_dir.glob("*.ttl")):
        if with_warnings or not path.stem.endswith("-recommended"):
            graph += to_rdflib_graph(read_quads(path))
    return graph


def validate_graph(
    data: Sequence[AnyQuad],
    settings: Settings,
    origins: dict[str, list[str]] | None = None,
    ontology: Sequence[AnyQuad] | None = None,
    shapes: rdflib.Graph | None = None,
    engine: str | None = None,
) -> Report:
    """THE validation of parita (validate, build, ingest, incremental validation and the submission route all
    come here): `data` with the ontology mixed in (so subclass targets apply) against the shapes, by the engine
    `engine` or `settings.validation_engine`: "parita" (scripts/shacl_engine.py) or "pyshacl", the reference.
    Shapes the parita engine does not support are validated with pySHACL, saying so on stderr."""
    ontology = load_directory(settings.ontology_dir) if ontology is None else ontology
    shapes = shapes_graph(settings) if shapes is None else shapes
    engine = engine or settings.validation_engine
    if engine not in ENGINES:
        raise ValueError(f"unknown validation engine {engine!r} (known: {', '.join(ENGINES)})")
    if engine == "parita":
        try:
            compiled = shacl_engine.Engine(shapes)
        except shacl_engine.UnsupportedShapes as why:
            print(f"[validate] the parita engine cannot evaluate these shapes ({why}): using pySHACL", file=sys.stderr)
        else:
            results = compiled.validate(shacl_engine.Data([*data, *ontology]))
            return _report_of(
                _native_findings(results, shapes, data, origins or {}), lambda: _native_graph(results, shapes)
            )
    conforms, report_graph, _ = pyshacl.validate(
        to_rdflib_graph(data),
        shacl_graph=shapes,
        ont_graph=to_rdflib_graph(ontology),
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    # the results of the report, not the sh:detail results nested in them (the parita engine gives none)
    nodes = list(report_graph.objects(None, SH.result))
    labels = _labels({str(report_graph.value(r, SH.focusNode)) for r in nodes}, (*data, *ontology))
    findings = [_finding(report_graph, node, labels, origins or {}) for node in nodes]
    return _report_of(findings, report_graph)


ENGINES = ("parita", "pyshacl")


def _report_of(findings: list[Finding], graph: rdflib.Graph | Callable[[], rdflib.Graph]) -> Report:
    findings.sort(key=lambda f: (f.severity != "Violation", f.files, f.focus_node, f.path or "", f.component))
    return Report(conforms=not any(f.severity == "Violation" for f in findings), findings=findings, report_graph=graph)


def _labels(focus: set[str], quads: Iterable[AnyQuad]) -> rdflib.Graph:
    """The label statements about the focus nodes (what label_of reads)."""
    wanted = {ox.NamedNode(str(p)) for p in LABEL_PROPERTIES}
    graph = rdflib.Graph()
    for q in quads:
        if q.predicate in wanted and _iri_or_id(q.subject) in focus:
            graph.add((to_rdflib_term(q.subject), to_rdflib_term(q.predicate), to_rdflib_term(q.object)))
    return graph


def _iri_or_id(term: ox.NamedNode | ox.BlankNode | ox.Triple) -> str:
    return str(to_rdflib_term(term)) if isinstance(term, ox.Triple) else term.value


def _native_findings(
    results: list[shacl_engine.Result], shapes: rdflib.Graph, data: Sequence[AnyQuad], origins: dict[str, list[str]]
) -> list[Finding]:
    labels = _labels({r.focus.value for r in results}, data)
    label_cache: dict[str, str | None] = {}
    path_cache: dict[rdflib.term.Node, str] = {}  # a handful of paths, spelled once each
    # a report lives as long as the build: one str for each text many findings repeat (focus, value, shape,
    # severity, component) and one messages dict per shape message (findings are read, never changed)
    spelled: dict[str, str] = {}
    messages_of: dict[tuple[tuple[rdflib.Literal, ...], rdflib.URIRef], dict[str, str]] = {}

    def once(text: str) -> str:
        return spelled.setdefault(text, text)

    findings = []
    for r in results:
        focus = once(r.focus.value)
        if focus not in label_cache:
            label_cache[focus] = label_of(labels, shacl_engine.as_rdflib(r.focus))
        if r.path is not None and r.path not in path_cache:
            path_cache[r.path] = _short(labels, r.path, shapes)
        messages = messages_of.get((r.messages, r.component))
        if messages is None:
            messages = messages_of[(r.messages, r.component)] = {}
            for message in r.messages or _generic_messages(r.component):
                messages.setdefault(message.language or "und", str(message))
        findings.append(
            Finding(
                severity=once(r.severity.rsplit("#", 1)[-1]),
                focus_node=focus,
                focus_label=label_cache[focus],
                path=None if r.path is None else path_cache[r.path],
                value=None if r.value is None else once(r.value.value),
                messages=messages,
                shape=once(str(r.shape)),
                files=origins.get(focus, []),
                component=once(r.component.removeprefix(str(SH))),
            )
        )
    return findings


def _generic_messages(component: rdflib.URIRef) -> tuple[rdflib.Literal, ...]:
    name = component.removeprefix(str(SH)).removesuffix("ConstraintComponent")
    return (
        rdflib.Literal(f"Vincolo SHACL {name} non rispettato.", lang="it"),
        rdflib.Literal(f"SHACL {name} constraint not met.", lang="en"),
    )


def _native_graph(results: list[shacl_engine.Result], shapes: rdflib.Graph) -> rdflib.Graph:
    """The sh:ValidationReport of the parita engine's results, as pySHACL writes it."""
    graph = rdflib.Graph()
    graph.bind("sh", SH)
    root = rdflib.BNode()
    graph.add((root, rdflib.RDF.type, SH.ValidationReport))
    graph.add((root, SH.conforms, rdflib.Literal(not any(r.severity == SH.Violation for r in results))))
    for r in results:
        node = rdflib.BNode()
        graph.add((root, SH.result, node))
        graph.add((node, rdflib.RDF.type, SH.ValidationResult))
        graph.add((node, SH.sourceConstraintComponent, r.component))
        graph.add((node, SH.sourceShape, r.shape))
        graph.add((node, SH.resultSeverity, r.severity))
        graph.add((node, SH.focusNode, shacl_engine.as_rdflib(r.focus)))
        if r.value is not None:
            graph.add((node, SH.value, shacl_engine.as_rdflib(r.value)))
        if r.path is not None:
            graph.add((node, SH.resultPath, r.path))
            if isinstance(r.path, rdflib.BNode):
                graph += shapes.cbd(r.path)
        if r.constraint is not None:
            graph.add((node, SH.sourceConstraint, r.constraint))
        for message in r.messages or _generic_messages(r.component):
            graph.add((node, SH.resultMessage, message))
    return graph


def _finding(
    report: rdflib.Graph, result: rdflib.term.Node, labels: rdflib.Graph, origins: dict[str, list[str]]
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
        files=origins.get(str(focus), []) if focus is not None else [],
        component=str(report.value(result, SH.sourceConstraintComponent)).removeprefix(str(SH)),
    )


def label_of(graph: rdflib.Graph, node: rdflib.term.Node | None, lang: str = "it") -> str | None:
    """The label of `node` by the site's rule (server/labels.py): the chain, then `lang` first."""
    pairs = [
        (prop, str(value), value.language or "")
        for prop in LABEL_PROPERTIES
        for value in sorted(graph.objects(node, rdflib.URIRef(prop)), key=str)
        if isinstance(value, rdflib.Literal)
    ]
    return labels.best(pairs, lang)


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


def only_about(report: Report, origins: dict[str, list[str]]) -> Report:
    """The findings about nodes the checked files state, and every violation: background data is not on
    trial, but a violation anywhere makes the build refuse (a replaced graph may break a node it links)."""
    checked = set(origins)
    kept = [f for f in report.findings if f.severity == "Violation" or f.focus_node in checked]
    conforms = not any(f.severity == "Violation" for f in kept)
    return Report(
        conforms=conforms,
        findings=kept,
        report_graph=lambda: subset_report(
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


#: Checks CSV templates as a dry-run ingest: (settings, publisher, files, report format) -> exit code. The
#: `parita validate` command passes scripts.ingest.check_files (ingest builds on this module, so not imported here).
CsvChecker = Callable[[Settings, str, list[Path], str], int]


def main(argv: list[str] | None = None, settings: Settings | None = None, check_csv: CsvChecker | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parita validate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "files", nargs="+", type=Path, help="RDF files (.ttl .trig .nt .nq .jsonld .rdf) or the CSV templates"
    )
    parser.add_argument(
        "--format", choices=sorted(FORMATTERS), default="text", help="report format (turtle = sh:ValidationReport)"
    )
    parser.add_argument("--no-warnings", action="store_true", help="check only the shapes that block publishing")
    parser.add_argument(
        "--engine", choices=ENGINES, help="SHACL engine (default: the setting validation_engine, normally parita)"
    )
    parser.add_argument("--publisher", default="anteprima", help="CSV templates: check them as this publisher's")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    if any(path.suffix.lower() == ".csv" for path in args.files):  # the templates: `parita ingest --dry-run`
        if check_csv is None:
            print("CSV templates are checked by `parita validate` or `parita ingest --dry-run`", file=sys.stderr)
            return EXIT_UNREADABLE
        engine = {"validation_engine": args.engine} if args.engine else {}
        return check_csv(dataclasses.replace(settings, **engine), args.publisher, args.files, args.format)
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
    origins: dict[str, list[str]] = {}
    for path, quads in checked.items():
        for subject in {_iri_or_id(q.subject) for q in quads}:
            origins.setdefault(subject, []).append(str(path))
    background_origins = {
        subject.value: [files_of_graph[g] for g in graphs] for subject, graphs in graphs_by_subject(background).items()
    }
    report = validate_graph(
        [q for quads in checked.values() for q in quads] + background,
        settings,
        {**background_origins, **origins},
        shapes=shapes_graph(settings, with_warnings=not args.no_warnings),
        engine=args.engine,
    )
    report = only_about(report, origins)
    print(FORMATTERS[args.format](report))
    return EXIT_OK if report.conforms else EXIT_VIOLATIONS


if __name__ == "__main__":
    sys.exit(main())
