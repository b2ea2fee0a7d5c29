"""`parita build`: ontology + shapes + data -> validated, immutable release, switched to atomically.

A release is a folder `build/releases/<id>/` holding an embedded pyoxigraph store, dumps with their
SHA-256, VoID statistics and `release.json`. `build/current` is a symlink replaced with one
rename(2), so readers see the old release or the new one, never a mix. On any parse error or
violation nothing under `build/` changes except the removal of abandoned temporary folders.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import hashlib
import json
import os
import shutil
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from scripts import derive, ldes_build, revalidate
from scripts.derive import derived_graphs
from scripts.dumps import GraphLines, Previous, statement_lines, write_dumps
from scripts.rdfio import (
    SourceFile,
    UnreadableInput,
    graph_of,
    graphs_by_subject,
)
from scripts.sources import (
    contributions_dir,
    graph_iri,
    line_changes,
    meta_graphs,
    read_sources,
    read_statements,
    rebase_iri,
    release_contributions,
    release_sources,
)
from scripts.validate import ENGINES, Report, format_text, validate_graph
from server import release as lifecycle
from server.catalog import harvest_warning
from server.config import DEFAULT_BASE_URI, Settings
from server.formats import NQ_DUMP
from server.release import TMP_PREFIX
from server.statements import AnyQuad, Statement, Statements, as_quads
from server.stats import STATS_FILE, Stats, compute
from server.stats import read as read_stats
from server.stats import update as update_stats
from server.store import DataStore

EXIT_OK, EXIT_INVALID, EXIT_ERROR, EXIT_WRITE = 0, 1, 2, 3
Progress = Callable[[str], None]
#: What a release keeps for the next build to reuse: each graph's inputs and where its dumps' pieces lie.
PIECES_FILE = "pieces.json"
#: Bump when what PIECES_FILE records, or how a release is written from it, changes: the next build is then full.
PIECES_VERSION = 5


class BuildError(Exception):
    """The build refused its input; `report` holds the SHACL findings when validation failed."""

    def __init__(self, message: str, report: Report | None = None):
        super().__init__(message)
        self.report = report


def validation_dir(settings: Settings) -> Path:
    """What the last successful validation saw (scripts/revalidate.py); never part of a release."""
    return settings.build_dir / "validation"


def validate_release(quads: Sequence[AnyQuad], settings: Settings) -> revalidate.Checked:
    """Validate the data graphs (not ontology or shapes) against the shapes, with the ontology: every statement
    of the release as read (`read_sources`, under the default base). The report is one `revalidate.save` keeps."""
    meta = meta_graphs()
    data = [q for q in quads if graph_of(q) not in meta]
    origins = {subject.value: files for subject, files in graphs_by_subject(data).items()}
    ontology = [q for q in quads if graph_of(q) == graph_iri(DEFAULT_BASE_URI, "ontology")]
    return revalidate.full_report(validate_graph(data, settings, origins, ontology=ontology), data)


def validate_quads(
    quads: Sequence[AnyQuad], settings: Settings, say: Progress, full_validation: bool = False
) -> tuple[Report, revalidate.Snapshot]:
    """`validate_release`'s findings, re-checking only what changed since the cached validation."""
    snap = revalidate.snapshot(quads, meta_graphs(), settings)
    ontology = [q for q in quads if graph_of(q) == graph_iri(DEFAULT_BASE_URI, "ontology")]
    report = revalidate.validate(
        snap,
        ontology,
        settings,
        validation_dir(settings),
        lambda: validate_release(quads, settings),
        say,
        force_full=full_validation,
    )
    return report, snap


def rebase(quads: list[ox.Quad], base_uri: str) -> list[ox.Quad]:
    """Move every IRI under the default base to the configured canonical base."""
    if base_uri == DEFAULT_BASE_URI:
        return quads
    move = _mover(base_uri)
    return [ox.Quad(move(q.subject), move(q.predicate), move(q.object), move(q.graph_name)) for q in quads]


def rebase_statements(statements: Statements, base_uri: str) -> Statements:
    """`rebase`, in place, for the statements of a full build (their terms stay shared)."""
    if base_uri == DEFAULT_BASE_URI:
        return statements
    move, moved = _mover(base_uri), dict[Any, Any]()

    def shared(term: Any) -> Any:  # one moved term for all the statements naming it
        if (found := moved.get(term)) is None:
            found = moved[term] = move(term)
        return found

    for n, (s, p, o, g) in enumerate(statements):
        statements[n] = Statement(shared(s), shared(p), shared(o), shared(g))
    return statements


def _mover(base_uri: str) -> Callable[[Any], Any]:
    def move(term: Any) -> Any:  # any term: an IRI under the default base moved, the others as they are
        if isinstance(term, ox.NamedNode) and term.value.startswith(DEFAULT_BASE_URI):
            return ox.NamedNode(base_uri + term.value[len(DEFAULT_BASE_URI) :])
        return term

    return move


#: Quads given to the store's bulk loader at a time: it holds all it is given in memory until it writes them,
#: so batches keep the build's peak down for a little more CPU (BENCHMARKS.md, the store of a full build).
STORE_BATCH = 100_000


def write_store(folder: Path, quads: Sequence[AnyQuad]) -> None:
    store = ox.Store(str(folder))
    for start in range(0, len(quads), STORE_BATCH):
        store.bulk_extend(list(as_quads(quads[start : start + STORE_BATCH])))
    store.flush()
    store.optimize()
    del store


def _apply(store: ox.Store, removed: Iterable[ox.Quad], added: Iterable[ox.Quad], alike: Iterable[ox.Quad]) -> None:
    """Remove, then add: `alike` are kept statements a removal may have taken with it (see Delta.kept_alike)."""
    for quad in removed:
        store.remove(quad)
    store.bulk_extend([*added, *alike])


def open_store_from(folder: Path, previous: Path) -> ox.Store:
    """A copy of the previous release's store, open for writing. `backup` of a store opened read-only
    hard-links its immutable files into `folder`: the previous store is neither written nor locked, so the
    server keeps reading it."""
    source = ox.Store.read_only(str(previous / "store"))
    source.backup(str(folder))
    del source
    return ox.Store(str(folder))


def write_store_from(folder: Path, previous: Path, delta: Delta) -> None:
    """The previous release's store with `delta` applied."""
    store = open_store_from(folder, previous)
    _apply(store, delta.removed, delta.added, delta.kept_alike)
    store.flush()
    del store


@dataclasses.dataclass(frozen=True)
class Delta:
    """How a release's statements differ from the previous release's, found graph by graph."""

    previous: Path
    added: set[ox.Quad]
    removed: set[ox.Quad]
    # entities whose description (LDES) may differ: the IRI subjects of the changed stated statements (derived
    # graphs aside) and the IRIs that reach, through blank nodes, a blank node whose statements changed
    touched: set[str]
    # statements kept whose subject, predicate and graph are those of a removed one: the store keeps one form
    # of a literal ("01"^^xsd:integer is "1"), so removing the one may remove the other, which is put back
    kept_alike: set[ox.Quad]
    changed: list[str]  # the graphs whose statements differ
    pieces: dict[str, Any]  # the previous release's PIECES_FILE record: where its dumps' pieces lie
    # every typed literal of the release is written as the store holds it, so the store's answers are the
    # statements themselves (the changelog and the LDES are then looked up in it)
    as_stored: bool = False


def file_digests(sources: list[SourceFile]) -> list[str]:
    """The SHA-256 of each source file's bytes, in order: a build reads every file once for all its digests."""
    digests = []
    for source in sources:
        with open(source.path, "rb") as data:
            digests.append(hashlib.file_digest(data, "sha256").hexdigest())
    return digests


def graph_inputs(settings: Settings, sources: list[SourceFile], digests: list[str]) -> dict[str, str]:
    """Per named graph of the release: SHA-256 over its sources' positions, graphs and bytes (`digests`, from
    `file_digests`; a blank node's label depends on its source's position, scripts/sources.py), so equal
    inputs mean equal statements."""
    hashers: dict[str, Any] = {}
    for number, (source, digest) in enumerate(zip(sources, digests, strict=True)):
        hasher = hashers.setdefault(rebase_iri(source.graph, settings.base_uri), hashlib.sha256())
        hasher.update(_input(number, source, digest))
    return {graph: hasher.hexdigest() for graph, hasher in hashers.items()}


def _input(number: int, source: SourceFile, digest: str) -> bytes:
    """What `graph_inputs` hashes of a source: its position, graph and its bytes' SHA-256."""
    return f"{number}\0{source.graph}\0{digest}\0".encode()


def _reuse_key(settings: Settings) -> str:
    """What a release's pieces are reusable under: this format, the base URI, and the rules the derived graphs
    follow (a rebuild moves the previous derived graphs by the change: other rules mean a full build)."""
    rules = hashlib.sha256(b"\0".join(path.read_bytes() for path in derive.RULE_FILES)).hexdigest()
    # the pieces kept are pyoxigraph's text compressed by zlib: another version of either could write other
    # bytes for the same statements, and a rebuild would then mix two forms no full build writes
    return f"{PIECES_VERSION} {settings.base_uri} {rules} {ox.__version__} {zlib.ZLIB_RUNTIME_VERSION}"


@dataclasses.dataclass(frozen=True)
class Reuse:
    """What a rebuild starts from: the previous release, what its PIECES_FILE recorded, the graphs whose
    inputs changed."""

    previous: Path
    pieces: dict[str, Any]
    as_stored: bool
    inputs: dict[str, str]  # the previous release's graph_inputs
    changed: set[str]


def _reusable(settings: Settings, inputs: dict[str, str]) -> Reuse | None:
    """The previous release, its pieces and the graphs whose inputs changed, when a build may start from it:
    same base URI and format, same ontology and shapes (they change what everything else means), its store
    and dump in place. None means a full build."""
    previous = lifecycle.previous_release(settings)
    if previous is None:
        return None
    try:
        recorded = json.loads((previous / PIECES_FILE).read_text())
        old_inputs, pieces = dict(recorded["inputs"]), dict(recorded["pieces"])
        if recorded["key"] != _reuse_key(settings):
            return None
        as_stored = recorded["as_stored"] is True
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (previous / "store").is_dir() or not all((previous / "dumps" / name).is_file() for name in pieces):
        return None
    changed = {g for g in inputs.keys() | old_inputs.keys() if inputs.get(g) != old_inputs.get(g)}
    if changed & {rebase_iri(g, settings.base_uri) for g in meta_graphs()}:
        return None
    return Reuse(previous, pieces, as_stored, old_inputs, changed)


class PreviousDump:
    """The previous release's N-Quads dump, a graph at a time: a rebuild reads only its changed graphs' pieces,
    where PIECES_FILE (`pieces`) says they lie."""

    def __init__(self, previous: Path, pieces: dict[str, Any]) -> None:
        self.path, self.where = previous / "dumps" / NQ_DUMP, pieces[NQ_DUMP]

    def _members(self, graph: str) -> bytes | None:
        at = self.where.get(graph)
        if at is None:
            return None
        with open(self.path, "rb") as dump:
            return os.pread(dump.fileno(), at["length"], at["offset"])

    def lines(self, graph: str) -> GraphLines:
        """The graph's lines, each piece decompressed only where a line asked about falls."""
        return GraphLines(self._members(graph), self.where.get(graph))

    def statements(self, graph: str) -> set[ox.Quad]:
        """The graph's statements as the dump wrote them (every literal's form)."""
        members = self._members(graph)
        return set(ox.parse(gzip.decompress(members), format=ox.RdfFormat.N_QUADS)) if members else set()


def as_stored(quads: Iterable[AnyQuad]) -> bool:
    """Whether a store gives back every typed literal of `quads` in the form it is written."""
    return not revalidate.rewritten_literals(q.object for q in quads)


def real_changes(
    previous: PreviousDump, added: Iterable[ox.Quad], removed: Iterable[ox.Quad]
) -> tuple[list[str], set[ox.Quad], set[ox.Quad], set[ox.Quad]]:
    """Compare `removed`, then `added`, with the previous release's N-Quads pieces, line by line (write_dumps
    applies them to the dumps). Returns the graphs that changed; the statements the store must keep though a removal
    may take them (Delta.kept_alike: the new pieces' statements whose subject, predicate and graph are those of a
    removed statement with a typed literal); and what was really added and removed (a statement already
    there is not added, one not there or added back is not removed)."""
    by_graph: dict[str, tuple[list[ox.Quad], list[ox.Quad]]] = defaultdict(lambda: ([], []))
    for index, quads in enumerate((added, removed)):
        for q in quads:
            by_graph[graph_of(q)][index].append(q)
    changed: list[str] = []
    alike: set[ox.Quad] = set()
    came: set[ox.Quad] = set()
    gone: set[ox.Quad] = set()
    for graph, (more, fewer) in sorted(by_graph.items()):
        old = previous.lines(graph)
        more_lines = dict(zip(statement_lines(more), more, strict=True))
        fewer_lines = {line: q for line, q in zip(statement_lines(fewer), fewer, strict=True) if line in old}
        out = {line: q for line, q in fewer_lines.items() if line not in more_lines}
        into = {line: q for line, q in more_lines.items() if line not in old}
        if not out and not into:
            continue
        changed.append(graph)
        came |= set(into.values())
        gone |= set(out.values())
        starts = {f"{q.subject} {q.predicate} ".encode() for q in out.values() if revalidate.is_typed_literal(q.object)}
        if starts:  # the graph's lines now, with those starts
            lines = [*(line for line in old.starting(starts) if line not in out), *into]
            same = [line for line in lines if line[: line.find(b" ", line.find(b" ") + 1) + 1] in starts]
            alike |= set(ox.parse(b"\n".join(same), format=ox.RdfFormat.N_QUADS))
    return changed, alike - came, came, gone


def graph_changes(
    previous: PreviousDump, graphs: Iterable[str], now: Iterable[ox.Quad]
) -> tuple[set[ox.Quad], set[ox.Quad]]:
    """(added, removed): `now`, every statement of `graphs` in the new release, against their previous pieces."""
    new: dict[str, set[ox.Quad]] = {graph: set() for graph in graphs}
    for q in now:
        new[graph_of(q)].add(q)
    added: set[ox.Quad] = set()
    removed: set[ox.Quad] = set()
    for graph, statements in new.items():
        old = previous.statements(graph)
        added |= statements - old
        removed |= old - statements
    return added, removed


def entities_touched(changes: Iterable[ox.Quad], stores: Iterable[ox.Store]) -> set[str]:
    """The IRI subjects of `changes` and the IRIs that reach one of their blank-node subjects through blank
    nodes, in any of `stores` (the old and the new release): every entity whose description may differ."""
    touched: set[str] = set()
    blank: list[ox.BlankNode] = []
    for q in changes:
        if isinstance(q.subject, ox.NamedNode):
            touched.add(q.subject.value)
        elif isinstance(q.subject, ox.BlankNode):
            blank.append(q.subject)
    seen = set(blank)
    while blank:
        node = blank.pop()
        for store in stores:
            for q in store.quads_for_pattern(None, None, node, None):
                if isinstance(q.subject, ox.NamedNode):
                    touched.add(q.subject.value)
                elif isinstance(q.subject, ox.BlankNode) and q.subject not in seen:
                    seen.add(q.subject)
                    blank.append(q.subject)
    return touched


def statistics(store_dir: Path, base_uri: str, delta: Delta | None = None) -> Stats:
    """The release's counts (server/stats.py), computed on the written store: what SPARQL will say. With
    `delta`, the previous release's counts moved by what changed, looked up in both stores."""
    store = ox.Store.read_only(str(store_dir))
    try:
        if delta is not None and (before := read_stats(delta.previous)) is not None:
            old = ox.Store.read_only(str(delta.previous / "store"))
            try:
                return update_stats(before, old, store, delta.added | delta.removed, base_uri)
            finally:
                del old
        return compute(DataStore(store), base_uri)
    finally:
        del store  # the read-only store is released once counted


def build(
    settings: Settings,
    progress: Progress | None = None,
    contributions: dict[str, Path] | None = None,
    full_validation: bool = False,
    force: bool = False,
) -> Path:
    """Build and publish a release; return its folder. Raises BuildError or UnreadableInput.

    When nothing changed since the current release (same ontology, shapes, data and contributions, byte
    for byte, and the same base URI), nothing is published and the current release is returned, unless
    `force`.

    `contributions` maps publisher IDs to candidate files: they are validated with everything else
    and, only if the release is published, moved into `build/contributions/` before the switch.
    Validation re-checks only what changed since the last successful one (scripts/revalidate.py)
    unless `full_validation`; the findings are the same either way.
    """
    with lifecycle.writer_lock(settings.build_dir):
        say = progress or (lambda message: None)
        sources = release_sources(settings, contributions)
        digests = file_digests(sources)
        if not force and (same := _unchanged_release(settings, inputs_digest(settings, sources, digests))) is not None:
            say(f"nothing changed since release {same.name}: nothing published (--force publishes anyway)")
            return same
        return _build(settings, say, contributions or {}, sources, digests, full_validation)


def inputs_digest(settings: Settings, sources: list[SourceFile], digests: list[str]) -> str:
    """SHA-256 over the base URI and every source file (its graph and bytes, `digests` from `file_digests`):
    what a release is built from."""
    digest = hashlib.sha256(settings.base_uri.encode())
    for source, bytes_digest in zip(sources, digests, strict=True):
        digest.update(f"\0{source.graph}\0{bytes_digest}".encode())
    for rules in derive.RULE_FILES:  # the derived graphs follow these too: a changed rule is a changed input
        digest.update(b"\0" + rules.read_bytes())
    return digest.hexdigest()


def _unchanged_release(settings: Settings, inputs: str) -> Path | None:
    """The current release when it was built from exactly today's inputs (`inputs_digest`, with the candidate
    contributions in place of the published ones: an identical resubmission changes nothing), else None."""
    current = settings.current_release
    try:
        recorded = json.loads((current / "release.json").read_text()).get("inputs")
    except (OSError, ValueError):
        return None
    return current.resolve() if recorded == inputs else None


def _build(
    settings: Settings,
    say: Progress,
    contributions: dict[str, Path],
    sources: list[SourceFile],
    digests: list[str],
    full_validation: bool = False,
) -> Path:
    releases = settings.build_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    lifecycle.remove_abandoned(releases)
    started = time.monotonic()

    files = release_contributions(settings, contributions)
    inputs = graph_inputs(settings, sources, digests)
    reuse = _reusable(settings, inputs)
    release_id = lifecycle.new_release_id(releases)
    work = releases / f"{TMP_PREFIX}{release_id}"
    work.mkdir()
    try:
        built = None if reuse is None else _rewrite_store(work, sources, files, settings, say, reuse, full_validation)
        if built is None:
            built = _write_store(work, sources, settings, say, full_validation)
        report, snap, quads, delta = built
        manifest = _write_candidate(work, quads, sources, settings, report, say, inputs, digests, delta)
        _snapshot_contributions(work / "contributions", files)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)  # refused, or a full disk: no half release is left behind
        raise
    final = releases / release_id
    os.rename(work, final)
    # before the switch: it only describes content
    revalidate.save(validation_dir(settings), settings, release_id, report, snap)
    _install_contributions(settings, contributions)
    lifecycle.switch_current(settings.build_dir, final)
    if pruned := lifecycle.prune(settings.build_dir, settings.keep_releases):
        say(f"removed {len(pruned)} old release(s), keeping {settings.keep_releases}: {', '.join(pruned)}")
    say(
        f"release {release_id}: {manifest['triples']} triples in {manifest['graph_count']} graphs ({time.monotonic() - started:.1f} s)"
    )
    return final


Built = tuple[Report, revalidate.Snapshot | None, Sequence[AnyQuad] | None, Delta | None]


def _write_store(
    work: Path, sources: list[SourceFile], settings: Settings, say: Progress, full_validation: bool
) -> Built:
    """A full build's store: every source read, validated, derived over."""
    say(f"reading {len(sources)} files")
    quads = read_statements(sources)
    say(f"read {len(quads)} statements; validating against the shapes")
    report, snap = validate_quads(quads, settings, say, full_validation)
    _refuse_violations(report)
    say(f"valid ({len(report.warnings)} warning(s)); deriving graph/entailed and graph/derived")
    # after validation: the rules, not the sources, answer for the derived graphs
    quads += derive.derive_statements(quads, meta_graphs())
    quads = rebase_statements(quads, settings.base_uri)
    write_store(work / "store", quads)
    say("store written; writing dumps")
    return report, snap, quads, None


#: A rebuild follows the change statement by statement; a change larger than 1/LARGE_CHANGE of the previous release
#: costs it more than a full build does (derive_changes looks up, for each changed type or link, the nodes sharing it),
#: so such a change, as a publisher's first harvest or a whole new file, is built in full.
LARGE_CHANGE = 20


def _statements(release: Path) -> int:
    try:
        return int(json.loads((release / "release.json").read_text())["quads"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0  # unknown size: every change counts as large


def _rewrite_store(
    work: Path,
    sources: list[SourceFile],
    files: dict[str, Path],
    settings: Settings,
    say: Progress,
    reuse: Reuse,
    full_validation: bool,
) -> Built | None:
    """A rebuild's store: the previous release's plus what changed, found by reading only the sources of the
    graphs whose inputs changed and comparing them with their pieces of the previous N-Quads dump. None when
    the change is too large to follow (LARGE_CHANGE): the caller builds in full."""
    base = settings.base_uri
    dump = PreviousDump(reuse.previous, reuse.pieces)
    say(f"reading the sources of {len(reuse.changed)} changed graph(s), of {len(sources)} files")
    added, removed, read = stated_changes(reuse, dump, sources, files, base)
    if (len(added) + len(removed)) * LARGE_CHANGE > _statements(reuse.previous):
        say(f"{len(added) + len(removed)} statements changed, over 1/{LARGE_CHANGE} of the release: a full build")
        return None
    say(f"read {read} statements of {len(reuse.changed)} changed graph(s); validating against the shapes")
    changed, alike, added, removed = real_changes(dump, added, removed)
    store = open_store_from(work / "store", reuse.previous)
    try:
        _apply(store, removed, added, alike)
        report = None
        if not full_validation:
            folder = validation_dir(settings)
            report = revalidate.validate_changes(
                store, added, removed, settings, folder, reuse.previous.name, sources, say
            )
        if report is None:  # no cache of the previous release's validation to continue, or asked: every statement
            if full_validation:
                say("full validation of every data graph (asked)")
            report = validate_release(read_sources(sources), settings)
        _refuse_violations(report)
        say(f"valid ({len(report.warnings)} warning(s)); deriving graph/entailed and graph/derived")
        more, fewer = derive.derive_changes(store, added, removed, base)
        derived, derived_alike, derived_added, derived_removed = real_changes(dump, more, fewer)
        _apply(store, derived_removed, derived_added, derived_alike)
        store.flush()
        old = ox.Store.read_only(str(reuse.previous / "store"))
        touched = entities_touched(
            (q for q in added | removed if graph_of(q) not in derived_graphs(base)), (store, old)
        )
        del old
    finally:
        del store
    delta = Delta(
        reuse.previous,
        added | derived_added,
        removed | derived_removed,
        touched,
        alike | derived_alike,
        changed + derived,
        reuse.pieces,
        reuse.as_stored and as_stored(added | derived_added),
    )
    say(f"{len(delta.changed)} graph(s) changed since release {delta.previous.name}: reusing the others")
    say("store written; writing dumps")
    return report, None, None, delta


def stated_changes(
    reuse: Reuse, dump: PreviousDump, sources: list[SourceFile], files: dict[str, Path], base: str
) -> tuple[set[ox.Quad], set[ox.Quad], int]:
    """(added, removed, statements read) in the graphs whose inputs changed, as the store holds them (rebased).
    An N-Quads contribution whose previous copy the previous release kept (and built that release from) is
    compared with it line by line when its changed lines can stand for the whole file (`line_changes`) and
    its previous copy has a line per statement of its piece; the other graphs' sources are read whole and
    compared with their pieces of the previous N-Quads dump."""
    keys = {path: key for key, path in files.items()}
    added: set[ox.Quad] = set()
    removed: set[ox.Quad] = set()
    whole, read = set(reuse.changed), 0
    for number, source in enumerate(sources):
        graph, key = rebase_iri(source.graph, base), keys.get(source.path)
        copy = reuse.previous / "contributions" / f"{key}.nq"
        if graph not in whole or key is None or not copy.is_file():
            continue
        before = copy.read_bytes()
        if hashlib.sha256(_input(number, source, hashlib.sha256(before).hexdigest())).hexdigest() != reuse.inputs.get(
            graph
        ):
            continue
        lines = line_changes(before, source.path.read_bytes(), source.graph)
        old = dump.lines(graph)
        if lines is None or lines.before != len(old):
            continue
        came, gone = set(rebase(lines.came, base)), set(rebase(lines.gone, base))
        new = sorted(came - gone, key=str)
        added |= {q for q, line in zip(new, statement_lines(new), strict=True) if line not in old}
        removed |= gone - came
        whole.discard(graph)
        read += len(lines.came) + len(lines.gone)
    fresh = rebase(read_sources(sources, {s.graph for s in sources if rebase_iri(s.graph, base) in whole}), base)
    more, fewer = graph_changes(dump, whole, fresh)
    return added | more, removed | fewer, read + len(fresh)


def _refuse_violations(report: Report) -> None:
    if not report.conforms:
        raise BuildError(f"{len(report.violations)} violation(s): the current release is unchanged", report)


def _write_candidate(
    work: Path,
    quads: Sequence[AnyQuad] | None,
    sources: list[SourceFile],
    settings: Settings,
    report: Report,
    say: Progress,
    inputs: dict[str, str],
    digests: list[str],
    delta: Delta | None = None,
) -> dict[str, Any]:
    """Dumps, statistics, manifest, changelog and LDES stream of a new release whose store is written, in the
    folder `work`; from `quads`, every statement, or with `delta`, from the previous release plus what changed
    (the same files a full build writes)."""
    release_id = work.name[len(TMP_PREFIX) :]
    changes = None if delta is None else Previous(delta.previous / "dumps", delta.pieces, delta.added, delta.removed)
    dumps, pieces = write_dumps(work / "dumps", quads or [], sources, settings.base_uri, changes)
    # the statements, where the store cannot stand for them: read back from the dump (a rebuild after a release
    # with a literal the store writes in another form)
    if quads is None and delta is not None and not delta.as_stored:
        quads = list(lifecycle.read_dump(work))
    exact = delta.as_stored if delta is not None and delta.as_stored else as_stored(quads or [])
    recorded = {"key": _reuse_key(settings), "inputs": inputs, "pieces": pieces, "as_stored": exact}
    (work / PIECES_FILE).write_text(json.dumps(recorded, indent=1, sort_keys=True))
    say("dumps written; counting the VoID statistics")
    stats = statistics(work / "store", settings.base_uri, delta)
    say("statistics counted; writing the changelog and the LDES stream")
    (work / STATS_FILE).write_text(stats.to_json())
    created = datetime.now(UTC).isoformat(timespec="seconds")
    manifest: dict[str, Any] = {
        "id": release_id,
        "created": created,
        "base_uri": settings.base_uri,
        "triples": stats.triples,
        "quads": stats.quads,
        "entities": stats.entities,
        "warnings": len(report.warnings),
        "graphs": {
            rebase_iri(s.graph, settings.base_uri): {
                "triples": stats.graphs.get(rebase_iri(s.graph, settings.base_uri), 0),
                "file": s.path.relative_to(s.path.parents[1]).as_posix(),
            }
            for s in sources
        },
        "dumps": dumps,
        "inputs": inputs_digest(settings, sources, digests),
    }
    (work / "release.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    manifest["graph_count"] = len(stats.graphs)
    previous = lifecycle.previous_release(settings)
    if quads is not None:
        # grouping every statement by subject makes a few hundred thousand small tuples and no reference cycle:
        # the cycle collector's runs meanwhile walk them all and find nothing (half the phase's time)
        with derive.no_cycle_collection():
            log = lifecycle.changelog(previous, quads)
            (work / "changelog.json").write_text(json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False))
            say("changelog written; writing the LDES stream")
            touched = delta.touched if delta is not None else None
            ldes_build.write_stream(
                work, previous, quads, created, settings.base_uri, settings.ldes_retention_days, touched
            )
    else:
        assert delta is not None, "a build writes from every statement or from a difference"
        _write_changes(work, previous, delta, created, settings)
    return manifest


def _write_changes(work: Path, previous: Path | None, delta: Delta, created: str, settings: Settings) -> None:
    """The changelog and the LDES stream of a release whose store holds the statements as written
    (Delta.as_stored), from the difference and lookups in that store for the entities it touches."""
    store = ox.Store.read_only(str(work / "store"))

    def about(iri: str) -> Iterable[ox.Quad]:
        return store.quads_for_pattern(ox.NamedNode(iri), None, None, None)

    log = lifecycle.changelog_of_delta(delta.previous, about, delta.added, delta.removed)
    (work / "changelog.json").write_text(json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False))
    ldes_build.write_stream(
        work, previous, store, created, settings.base_uri, settings.ldes_retention_days, delta.touched, store
    )


def _snapshot_contributions(folder: Path, files: dict[str, Path]) -> None:
    """Each release keeps the contributions it was built from (`<key>.nq`, wherever the candidate was), so a
    rollback can restore them and the next build can compare a contribution with its previous copy."""
    for key, path in files.items():
        folder.mkdir(exist_ok=True)
        shutil.copyfile(path, folder / f"{key}.nq")


def _install_contributions(settings: Settings, contributions: dict[str, Path]) -> None:
    folder = contributions_dir(settings)
    for publisher, path in contributions.items():
        folder.mkdir(exist_ok=True)
        os.replace(path, folder / f"{publisher}.nq")


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parita build", description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, help="where releases are written (default: build/)")
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    parser.add_argument("--full-validation", action="store_true", help="validate every graph, not only what changed")
    parser.add_argument("--force", action="store_true", help="publish a release even when nothing changed")
    parser.add_argument("--engine", choices=ENGINES, help="SHACL engine (default: the setting validation_engine)")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env(build_dir=args.build_dir)
    if args.engine:
        settings = dataclasses.replace(settings, validation_engine=args.engine)
    progress = None if args.quiet else (lambda message: print(f"[build] {message}", file=sys.stderr))
    try:
        release = build(settings, progress, full_validation=args.full_validation, force=args.force)
    except UnreadableInput as error:
        print(f"UNREADABLE {error}\nThe current release is unchanged.", file=sys.stderr)
        return EXIT_ERROR
    except BuildError as error:
        if error.report is not None:
            print(format_text(error.report))
        print(f"build refused: {error}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as error:  # a full disk, a quota, a read-only build folder: not the data's fault
        print(f"COULD NOT WRITE the release: {error}\nThe current release is unchanged.", file=sys.stderr)
        return EXIT_WRITE
    print(f"published {release}")
    if warning := harvest_warning(settings):  # loud on every build (and `parita up`), until the deployer acts
        print(warning, file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
