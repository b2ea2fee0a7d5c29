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
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from scripts import derive, ldes_build, revalidate
from scripts.derive import derived_graphs
from scripts.dumps import write_dumps
from scripts.rdfio import (
    SourceFile,
    UnreadableInput,
    graph_of,
    graphs_by_subject,
)
from scripts.sources import (
    contributions_dir,
    graph_iri,
    meta_graphs,
    read_sources,
    rebase_iri,
    release_sources,
)
from scripts.validate import ENGINES, Report, format_text, validate_graph
from server import release as lifecycle
from server.catalog import harvest_warning
from server.config import DEFAULT_BASE_URI, Settings
from server.formats import NQ_DUMP, NT_DUMP
from server.release import TMP_PREFIX
from server.stats import STATS_FILE, Stats, compute
from server.stats import read as read_stats
from server.stats import update as update_stats
from server.store import DataStore

EXIT_OK, EXIT_INVALID, EXIT_ERROR, EXIT_WRITE = 0, 1, 2, 3
Progress = Callable[[str], None]
#: What a release keeps for the next build to reuse: each graph's inputs and its piece of the N-Quads dump.
PIECES_FILE = "pieces.json"
#: Bump when what PIECES_FILE records, or how a release is written from it, changes: the next build is then full.
PIECES_VERSION = 1


class BuildError(Exception):
    """The build refused its input; `report` holds the SHACL findings when validation failed."""

    def __init__(self, message: str, report: Report | None = None):
        super().__init__(message)
        self.report = report


def validation_dir(settings: Settings) -> Path:
    """What the last successful validation saw (scripts/revalidate.py); never part of a release."""
    return settings.build_dir / "validation"


def validate_release(quads: list[ox.Quad], settings: Settings) -> Report:
    """Validate the data graphs (not ontology or shapes) against the shapes, with the ontology."""
    meta = meta_graphs()
    data = [q for q in quads if graph_of(q) not in meta]
    origins = {subject.value: files for subject, files in graphs_by_subject(data).items()}
    ontology = [q for q in quads if graph_of(q) == graph_iri(DEFAULT_BASE_URI, "ontology")]
    return validate_graph(data, settings, origins, ontology=ontology)


def validate_quads(
    quads: list[ox.Quad], settings: Settings, say: Progress, full_validation: bool = False
) -> tuple[Report, revalidate.Snapshot]:
    """`validate_release`'s findings, re-checking only what changed since the cached validation."""
    snap = revalidate.snapshot(quads, meta_graphs(), settings.validation_engine)
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

    def move(term: Any) -> Any:  # any term: an IRI under the default base moved, the others as they are
        if isinstance(term, ox.NamedNode) and term.value.startswith(DEFAULT_BASE_URI):
            return ox.NamedNode(base_uri + term.value[len(DEFAULT_BASE_URI) :])
        return term

    return [ox.Quad(move(q.subject), move(q.predicate), move(q.object), move(q.graph_name)) for q in quads]


def write_store(folder: Path, quads: list[ox.Quad]) -> None:
    store = ox.Store(str(folder))
    store.bulk_extend(quads)
    store.flush()
    store.optimize()
    del store


def write_store_from(folder: Path, previous: Path, delta: Delta) -> None:
    """The previous release's store with `delta` applied. `backup` of a store opened read-only hard-links its
    immutable files into `folder`: the previous store is neither written nor locked, so the server keeps
    reading it."""
    source = ox.Store.read_only(str(previous / "store"))
    source.backup(str(folder))
    del source
    store = ox.Store(str(folder))
    for quad in delta.removed:
        store.remove(quad)
    store.bulk_extend(delta.added | delta.kept_alike)
    store.flush()
    del store


@dataclasses.dataclass(frozen=True)
class Delta:
    """How a release's statements differ from the previous release's, found graph by graph."""

    previous: Path
    members: dict[str, dict[str, bytes]]  # dump → piece → its gzip member in the previous release (write_dumps)
    added: set[ox.Quad]
    removed: set[ox.Quad]
    touched: set[str]  # IRI subjects of the changed graphs' old and new statements (derived graphs aside)
    # statements kept whose subject, predicate and graph are those of a removed one: the store keeps one form
    # of a literal ("01"^^xsd:integer is "1"), so removing the one may remove the other, which is put back
    kept_alike: set[ox.Quad]
    changed: list[str]  # the graphs whose statements differ


def graph_inputs(settings: Settings, sources: list[SourceFile]) -> dict[str, str]:
    """Per named graph of the release: SHA-256 over its sources' positions, graph and bytes (a blank node's
    label depends on its source's position, scripts/sources.py), so equal inputs mean equal statements."""
    hashers: dict[str, Any] = {}
    for number, source in enumerate(sources):
        hasher = hashers.setdefault(rebase_iri(source.graph, settings.base_uri), hashlib.sha256())
        hasher.update(f"{number}\0{source.graph}\0".encode() + source.path.read_bytes() + b"\0")
    return {graph: hasher.hexdigest() for graph, hasher in hashers.items()}


def _reuse_key(settings: Settings) -> str:
    return f"{PIECES_VERSION} {settings.base_uri}"


def _reusable(settings: Settings, inputs: dict[str, str]) -> tuple[Path, dict[str, Any], set[str]] | None:
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
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (previous / "store").is_dir() or not all((previous / "dumps" / name).is_file() for name in pieces):
        return None
    changed = {g for g in inputs.keys() | old_inputs.keys() if inputs.get(g) != old_inputs.get(g)}
    if changed & {rebase_iri(g, settings.base_uri) for g in meta_graphs()}:
        return None
    return previous, pieces, changed | set(derived_graphs(settings.base_uri))


def _delta(previous: Path, pieces: dict[str, Any], changed: set[str], quads: list[ox.Quad], base_uri: str) -> Delta:
    """Compare the changed graphs' statements with their pieces of the previous N-Quads dump; the other
    graphs' pieces are carried as they are."""
    members = {
        name: {key: data[at["offset"] : at["offset"] + at["length"]] for key, at in pieces[name].items()}
        for name, data in ((name, (previous / "dumps" / name).read_bytes()) for name in (NQ_DUMP, NT_DUMP))
    }
    graphs = members[NQ_DUMP]

    now: dict[str, set[ox.Quad]] = defaultdict(set)
    for q in quads:
        if graph_of(q) in changed:
            now[graph_of(q)].add(q)
    derived = set(derived_graphs(base_uri))
    added: set[ox.Quad] = set()
    removed: set[ox.Quad] = set()
    touched: set[str] = set()
    differ = []
    for graph in sorted(changed):
        new = now.get(graph, set())
        old = set(ox.parse(gzip.decompress(graphs[graph]), format=ox.RdfFormat.N_QUADS)) if graph in graphs else set()
        if old == new:
            continue
        differ.append(graph)
        added |= new - old
        removed |= old - new
        if graph not in derived:
            touched |= {q.subject.value for q in old | new if isinstance(q.subject, ox.NamedNode)}
    for graph in differ:
        graphs.pop(graph, None)
    gone = {(q.subject, q.predicate, q.graph_name) for q in removed}
    alike = {q for graph in differ for q in now.get(graph, ()) if (q.subject, q.predicate, q.graph_name) in gone}
    return Delta(previous, members, added, removed, touched, alike - added, differ)


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
        if not force and (same := _unchanged_release(settings, contributions)) is not None:
            say(f"nothing changed since release {same.name}: nothing published (--force publishes anyway)")
            return same
        return _build(settings, say, contributions or {}, full_validation)


def inputs_digest(settings: Settings, sources: list[SourceFile]) -> str:
    """SHA-256 over the base URI and every source file (its graph and bytes): what a release is built from."""
    digest = hashlib.sha256(settings.base_uri.encode())
    for source in sources:
        digest.update(b"\0" + source.graph.encode() + b"\0" + source.path.read_bytes())
    for rules in derive.RULE_FILES:  # the derived graphs follow these too: a changed rule is a changed input
        digest.update(b"\0" + rules.read_bytes())
    return digest.hexdigest()


def _unchanged_release(settings: Settings, contributions: dict[str, Path] | None = None) -> Path | None:
    """The current release when it was built from exactly today's inputs (with `contributions` in place of
    the published ones: an identical resubmission changes nothing), else None."""
    current = settings.current_release
    try:
        recorded = json.loads((current / "release.json").read_text()).get("inputs")
    except (OSError, ValueError):
        return None
    return current.resolve() if recorded == inputs_digest(settings, release_sources(settings, contributions)) else None


def _build(settings: Settings, say: Progress, contributions: dict[str, Path], full_validation: bool = False) -> Path:
    releases = settings.build_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    lifecycle.remove_abandoned(releases)
    started = time.monotonic()

    sources = release_sources(settings, contributions)
    say(f"reading {len(sources)} files")
    quads = read_sources(sources)
    say(f"read {len(quads)} statements; validating against the shapes")
    report, snap = validate_quads(quads, settings, say, full_validation)
    if not report.conforms:
        raise BuildError(f"{len(report.violations)} violation(s): the current release is unchanged", report)
    say(f"valid ({len(report.warnings)} warning(s)); deriving graph/entailed and graph/derived")
    quads += derive.derive(quads, meta_graphs())  # after validation: the rules, not the sources, answer for them

    quads = rebase(quads, settings.base_uri)
    inputs = graph_inputs(settings, sources)
    delta = None
    if (reuse := _reusable(settings, inputs)) is not None:
        delta = _delta(*reuse, quads, settings.base_uri)
        say(f"{len(delta.changed)} graph(s) changed since release {delta.previous.name}: reusing the others")
    release_id = lifecycle.new_release_id(releases)
    work = releases / f"{TMP_PREFIX}{release_id}"
    work.mkdir()
    try:
        manifest = _write_candidate(work, quads, sources, settings, report, say, inputs, delta)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # a full disk must not leave half a release behind
        raise
    final = releases / release_id
    os.rename(work, final)
    revalidate.save(validation_dir(settings), snap, report)  # before the switch: it only describes content
    _install_contributions(settings, contributions)
    lifecycle.switch_current(settings.build_dir, final)
    if pruned := lifecycle.prune(settings.build_dir, settings.keep_releases):
        say(f"removed {len(pruned)} old release(s), keeping {settings.keep_releases}: {', '.join(pruned)}")
    say(
        f"release {release_id}: {manifest['triples']} triples in {manifest['graph_count']} graphs ({time.monotonic() - started:.1f} s)"
    )
    return final


def _write_candidate(
    work: Path,
    quads: list[ox.Quad],
    sources: list[SourceFile],
    settings: Settings,
    report: Report,
    say: Progress,
    inputs: dict[str, str],
    delta: Delta | None = None,
) -> dict[str, Any]:
    """Store, dumps, statistics, manifest and changelog of a new release, in the folder `work`; with `delta`,
    from the previous release plus what changed (the same files a full build writes)."""
    release_id = work.name[len(TMP_PREFIX) :]
    if delta is not None:
        write_store_from(work / "store", delta.previous, delta)
    else:
        write_store(work / "store", quads)
    say("store written; writing dumps")
    dumps, pieces = write_dumps(
        work / "dumps", quads, sources, settings.base_uri, delta.members if delta is not None else None
    )
    recorded = {"key": _reuse_key(settings), "inputs": inputs, "pieces": pieces}
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
        "inputs": inputs_digest(settings, sources),
    }
    (work / "release.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    manifest["graph_count"] = len(stats.graphs)
    if delta is not None:
        log = lifecycle.changelog_of_delta(delta.previous, quads, delta.added, delta.removed)
    else:
        log = lifecycle.changelog(lifecycle.previous_release(settings), quads)
    (work / "changelog.json").write_text(json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False))
    ldes_build.write_stream(
        work,
        lifecycle.previous_release(settings),
        quads,
        created,
        settings.base_uri,
        settings.ldes_retention_days,
        delta.touched if delta is not None else None,
    )
    _snapshot_contributions(work / "contributions", sources)
    return manifest


def _snapshot_contributions(folder: Path, sources: list[SourceFile]) -> None:
    """Each release keeps the contributions it was built from, so a rollback can restore them."""
    for source in sources:
        if source.path.parent.name == "contributions":
            folder.mkdir(exist_ok=True)
            shutil.copyfile(source.path, folder / source.path.name)


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
