"""What a release is built from: which files, the named graph of each, and reading them.

One data file per source document (its graph `{base}graph/<file stem>`), the ontology and the shapes, and
one graph per publisher whose contribution was accepted (`build/contributions/<ID>.nq`). The reconcile
rules' owl:sameAs are a derived graph, `graph/reconciled`, carried as the contribution file
`build/contributions/_reconciled.nq` (no publisher ID starts with "_"): it is validated, installed and
counted in the build's inputs with the publisher's graph it was computed for, in the same release. Files are
written against the default base URI and rebased when a release is written. Used by `build`, `validate`,
`ingest` and `harvest`.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from scripts.derive import RECONCILED
from scripts.rdfio import SYNTAX_BY_SUFFIX, SourceFile, iter_quads
from server.config import DEFAULT_BASE_URI, Settings
from server.statements import Statements


def graph_iri(base_uri: str, name: str) -> str:
    return f"{base_uri}graph/{name}"


def release_sources(settings: Settings, contributions: dict[str, Path] | None = None) -> list[SourceFile]:
    """Every file of a release and its named graph: one graph per data file (per source document),
    plus one per publisher whose submission was accepted (`contributions` replaces or adds some)."""
    base = DEFAULT_BASE_URI  # files are written against the default base; rebased on output
    sources = [SourceFile(p, graph_iri(base, "ontology")) for p in sorted(settings.ontology_dir.glob("*.ttl"))]
    sources += [SourceFile(p, graph_iri(base, "shapes")) for p in sorted(settings.shapes_dir.glob("*.ttl"))]
    sources += [
        SourceFile(p, graph_iri(base, p.stem))
        for p in sorted(settings.data_dir.iterdir())
        if p.suffix.lower() in SYNTAX_BY_SUFFIX and p.is_file()
    ]
    files = release_contributions(settings, contributions)
    sources += [SourceFile(files[name], graph_iri(base, contribution_graph(name))) for name in sorted(files)]
    return sources


def release_contributions(settings: Settings, contributions: dict[str, Path] | None = None) -> dict[str, Path]:
    """Contributions key -> file, for every contribution a release is built from: the published ones, with
    `contributions` replacing or adding some."""
    return {**published_contributions(settings), **(contributions or {})}


#: The contributions key (and file stem) of the derived graph `graph/reconciled` (scripts/reconcile.py).
RECONCILED_KEY = "_" + RECONCILED


def contribution_graph(key: str) -> str:
    """The graph name of a contributions file: `reconciled` for the reconcile rules', else `publisher/<ID>`."""
    return RECONCILED if key == RECONCILED_KEY else f"publisher/{key}"


def contributions_dir(settings: Settings) -> Path:
    return settings.build_dir / "contributions"


def published_contributions(settings: Settings) -> dict[str, Path]:
    """publisher ID -> the accepted statements of that publisher (`build/contributions/<ID>.nq`)."""
    folder = contributions_dir(settings)
    if not folder.exists():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.nq")) if not p.name.startswith(".")}


def _stable(term: Any, names: dict[str, ox.BlankNode], number: int) -> Any:
    """A blank node renamed `f<source number>b<order of first use>`; any other term as it is."""
    if isinstance(term, ox.BlankNode):
        return names.setdefault(term.value, ox.BlankNode(f"f{number}b{len(names)}"))
    return term


def read_sources(sources: list[SourceFile], graphs: Container[str] | None = None) -> list[ox.Quad]:
    """`read_statements` as pyoxigraph Quads."""
    return [ox.Quad(*s) for s in read_statements(sources, graphs)]


def read_statements(sources: list[SourceFile], graphs: Container[str] | None = None) -> Statements:
    """Every statement of every source (only of the sources of `graphs`, when given), blank nodes renamed in
    reading order so builds are reproducible: a blank node's name depends on its source's position in
    `sources`, so reading some of them names their blank nodes as reading all of them does."""
    statements = Statements()
    for number, source in enumerate(sources):
        if graphs is not None and source.graph not in graphs:
            continue
        names: dict[str, ox.BlankNode] = {}
        graph = ox.NamedNode(source.graph)
        for q in iter_quads(source.path):
            statements.add(_stable(q.subject, names, number), q.predicate, _stable(q.object, names, number), graph)
    return statements.done()


def meta_graphs() -> set[str]:
    return {graph_iri(DEFAULT_BASE_URI, "ontology"), graph_iri(DEFAULT_BASE_URI, "shapes")}


def rebase_iri(iri: str, base_uri: str) -> str:
    return base_uri + iri[len(DEFAULT_BASE_URI) :] if iri.startswith(DEFAULT_BASE_URI) else iri


def unrebase_iri(iri: str, base_uri: str) -> str:
    """`rebase_iri` undone: a served IRI as the source files write it, under the default base."""
    return DEFAULT_BASE_URI + iri[len(base_uri) :] if iri.startswith(base_uri) else iri


@dataclass(frozen=True)
class LineChanges:
    """How an N-Quads source differs from its previous copy, line by line (the statements of `graph`)."""

    came: list[ox.Quad]  # the statements of the lines only the new copy has
    gone: list[ox.Quad]  # ... and of those only the previous copy had
    before: int  # the distinct statement lines of the previous copy


def line_changes(before: bytes, now: bytes, graph: str) -> LineChanges | None:
    """The lines of N-Quads source `now` that its previous copy `before` lacks, and the reverse, read as
    statements of `graph` (as `read_sources` reads the whole file); None when they cannot stand for the whole
    file: a changed line with a blank node (`read_sources` names blank nodes by their order in the file), a
    line that does not parse on its own, text that is not UTF-8. Lines are compared as statements stripped of
    surrounding blanks; comments and empty lines are no statements."""
    try:
        old, new = _statement_lines(before), _statement_lines(now)
        gone, came = old - new, new - old
        if any(b"_:" in line for line in gone | came):
            return None
        named = ox.NamedNode(graph)
        statements = [
            [ox.Quad(q.subject, q.predicate, q.object, named) for q in _parse_lines(lines)] for lines in (came, gone)
        ]
    except (SyntaxError, ValueError):
        return None
    return LineChanges(statements[0], statements[1], len(old))


def _statement_lines(data: bytes) -> set[bytes]:
    """Split on line feeds only (N-Quads ends a line there; a literal may hold other line breaks)."""
    return {line for line in (raw.strip() for raw in data.split(b"\n")) if line and not line.startswith(b"#")}


def _parse_lines(lines: set[bytes]) -> list[ox.Quad]:
    quads = list(ox.parse(b"\n".join(sorted(lines)), format=ox.RdfFormat.N_QUADS))
    if len(quads) != len(lines) or any(
        isinstance(q.subject, ox.Triple) or isinstance(q.object, ox.Triple) for q in quads
    ):
        raise ValueError("not one plain statement a line")
    return quads
