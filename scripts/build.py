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
import re
import shutil
import sys
import time
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from scripts import derive, ldes_build, revalidate
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
from server.formats import DUMP_MEDIA_TYPES
from server.release import TMP_PREFIX
from server.stats import STATS_FILE, Stats, compute
from server.store import DataStore

EXIT_OK, EXIT_INVALID, EXIT_ERROR, EXIT_WRITE = 0, 1, 2, 3
Progress = Callable[[str], None]


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


def write_dumps(
    folder: Path, quads: list[ox.Quad], sources: list[SourceFile], base_uri: str = DEFAULT_BASE_URI
) -> dict[str, dict[str, Any]]:
    """N-Quads (with graphs) and N-Triples gzipped, Turtle of the union; sorted so builds are reproducible.
    One sorted dump in memory at a time, written in slices, and the Turtle streamed from the N-Triples file:
    the dumps are the build's peak of memory."""
    folder.mkdir()
    _write_gzip(folder / "parita.nq.gz", _sorted_lines(ox.serialize(quads, format=ox.RdfFormat.N_QUADS)))
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in quads)
    _write_gzip(folder / "parita.nt.gz", _sorted_lines(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)))
    with open(folder / "parita.nt.gz", "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as sorted_triples:
        ox.serialize(
            ox.parse(typing.cast(typing.IO[bytes], sorted_triples), format=ox.RdfFormat.N_TRIPLES),
            str(folder / "parita.ttl"),
            format=ox.RdfFormat.TURTLE,
            prefixes={p: rebase_iri(ns, base_uri) for p, ns in _prefixes(sources).items()},
        )
    files = {}
    for name, media_type in DUMP_MEDIA_TYPES.items():
        data = (folder / name).read_bytes()
        files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "media_type": media_type}
    (folder / "SHA256SUMS").write_text("".join(f"{v['sha256']}  {k}\n" for k, v in files.items()))
    return files


def _sorted_lines(serialized: bytes | None) -> list[str]:
    return sorted(set((serialized or b"").decode().splitlines()))


def _write_gzip(path: Path, lines: list[str], slice_size: int = 65536) -> None:
    # mtime=0 keeps the gzip header, and so the checksum, identical across builds of the same data
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        for start in range(0, len(lines), slice_size):
            out.write(("\n".join(lines[start : start + slice_size]) + "\n").encode("utf-8"))


def _prefixes(sources: list[SourceFile]) -> dict[str, str]:
    """The prefixes the Turtle sources declare, so the Turtle dump reads like them."""
    prefixes: dict[str, str] = {}
    for source in sources:
        if source.path.suffix == ".ttl":
            for prefix, namespace in re.findall(
                r"^@prefix\s+([A-Za-z][\w-]*):\s*<([^>]+)>", source.path.read_text(encoding="utf-8"), re.M
            ):
                prefixes.setdefault(prefix, namespace)
    return prefixes


def statistics(store_dir: Path, base_uri: str) -> Stats:
    """The release's counts (server/stats.py), computed on the written store: what SPARQL will say."""
    store = ox.Store.read_only(str(store_dir))
    try:
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
    release_id = lifecycle.new_release_id(releases)
    work = releases / f"{TMP_PREFIX}{release_id}"
    work.mkdir()
    try:
        manifest = _write_candidate(work, quads, sources, settings, report, say)
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
    work: Path, quads: list[ox.Quad], sources: list[SourceFile], settings: Settings, report: Report, say: Progress
) -> dict[str, Any]:
    """Store, dumps, statistics, manifest and changelog of a new release, in the folder `work`."""
    release_id = work.name[len(TMP_PREFIX) :]
    write_store(work / "store", quads)
    say("store written; writing dumps")
    dumps = write_dumps(work / "dumps", quads, sources, settings.base_uri)
    say("dumps written; counting the VoID statistics")
    stats = statistics(work / "store", settings.base_uri)
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
    log = lifecycle.changelog(lifecycle.previous_release(settings), quads)
    (work / "changelog.json").write_text(json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False))
    ldes_build.write_stream(
        work,
        lifecycle.previous_release(settings),
        quads,
        created,
        settings.base_uri,
        settings.ldes_retention_days,
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
