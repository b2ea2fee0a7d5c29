"""Releases: one built release on disk (`build/current` → `build/releases/<id>/`) with its metadata, dumps and
store, and the lifecycle of all of them (the writer lock, ids, the atomic switch, pruning, the list, changelogs
and rollback). `scripts/` holds the commands (`parita build`, `ingest`, `rollback`) that drive it."""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import labels
from .config import Settings
from .errors import StoreError
from .formats import NQ_DUMP
from .ldes import STREAM_DIR
from .statements import AnyQuad, Statement, parse_statements


@dataclass(frozen=True)
class Release:
    """Read-only view of one release directory; `id` and `created` drive ETag and Last-Modified."""

    path: Path
    id: str
    created: datetime
    meta: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def open(cls, path: Path) -> Release:
        """Read `release.json`; a missing or broken release is a StoreError saying how to build one."""
        real = path.resolve()
        try:
            meta = json.loads((real / "release.json").read_text(encoding="utf-8"))
            created = datetime.fromisoformat(meta["created"].replace("Z", "+00:00"))
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"No usable release at {path} ({exc}). Run `parita build` first.") from exc
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return cls(path=real, id=str(meta["id"]), created=created.astimezone(UTC), meta=meta)

    @property
    def dumps_dir(self) -> Path:
        return self.path / "dumps"

    @property
    def dumps(self) -> dict[str, dict[str, Any]]:
        """`release.json` dumps: file name → {sha256, bytes, media_type}."""
        return dict(self.meta.get("dumps", {}))

    @property
    def graphs(self) -> dict[str, dict[str, Any]]:
        return dict(self.meta.get("graphs", {}))

    def etag(self, *parts: str) -> str:
        """A strong ETag for one representation of one resource in this release."""
        digest = hashlib.sha256("\x00".join((self.id, *parts)).encode()).hexdigest()[:24]
        return f'"{digest}"'

    def load_store(self) -> ox.Store:
        """An in-memory store holding every quad of the N-Quads dump (4-7× faster than on disk)."""
        store = ox.Store()
        try:
            with gzip.open(self.dumps_dir / NQ_DUMP, "rb") as fh:
                store.bulk_load(fh, format=ox.RdfFormat.N_QUADS)  # type: ignore[arg-type]  # GzipFile is an IO[bytes]
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"Cannot load {self.dumps_dir / NQ_DUMP}: {exc}") from exc
        return store

    def open_store(self, mode: str) -> ox.Store:
        """The release's quads in this process: loaded into memory, or its on-disk store opened read-only."""
        if mode == "disk":
            try:
                return ox.Store.read_only(str(self.path / "store"))
            except OSError as exc:
                raise StoreError(f"Cannot open {self.path / 'store'} read-only: {exc}") from exc
        return self.load_store()


# --- The lifecycle: one writer at a time, ids, the atomic switch, pruning, the list, changelogs, rollback. ---------
# `scripts/build.py`, `scripts/ingest.py` and `scripts/releases.py` are the commands; the rules are here.

TMP_PREFIX = ".tmp-"  # folders and links being written: never served, removed when abandoned
MAX_LISTED = 200  # entities named per kind in a changelog (the counts are always complete)


@contextlib.contextmanager
def writer_lock(build_dir: Path) -> Iterator[None]:
    """One writer at a time (build, ingest, rollback); readers never wait."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_release_id(releases: Path) -> str:
    """A UTC timestamp, with `-N` when one of that second exists already (ids sort in time order)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = stamp, 1
    while (releases / candidate).exists():
        n += 1
        candidate = f"{stamp}-{n}"
    return candidate


def switch_current(build_dir: Path, release: Path) -> None:
    """Point `build/current` at `release` with one atomic rename."""
    link = build_dir / "current"
    tmp = build_dir / f"{TMP_PREFIX}current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(release, build_dir), tmp)
    os.replace(tmp, link)


def remove_abandoned(releases: Path) -> None:
    """Folders and half-made `current` links left by a writer killed half-way are never served; remove them."""
    for leftover in releases.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for link in releases.parent.glob(f"{TMP_PREFIX}current-*"):
        link.unlink(missing_ok=True)


def finished_releases(releases: Path) -> list[Path]:
    """The release folders, oldest first."""
    if not releases.exists():
        return []
    return sorted(p for p in releases.iterdir() if p.is_dir() and not p.name.startswith((TMP_PREFIX, ".")))


def _manifest(release: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((release / "release.json").read_text()))
    except (OSError, ValueError):
        return {}


def protected(build_dir: Path) -> set[str]:
    """Releases pruning keeps whatever their age: the current one, and the ones it was rolled back from and
    onto (a rollback can be undone only while the release it left is kept)."""
    current = (build_dir / "current").resolve()
    rollback = _manifest(current).get("rollback") or {}
    return {current.name, *(v for k, v in rollback.items() if k in ("from", "onto") and v)}


def prune(build_dir: Path, keep: int) -> list[str]:
    """Remove all but the newest `keep` releases, never a protected one; returns the ids removed."""
    keep_ids = protected(build_dir)
    finished = finished_releases(build_dir / "releases")
    removed = []
    for old in finished[: max(0, len(finished) - keep)]:
        if old.name not in keep_ids:
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old.name)
    return removed


def release_list(settings: Settings) -> list[dict[str, Any]]:
    """The kept releases, newest first: id, created, triples, changelog, whether current, rollback record."""
    current = settings.current_release.resolve() if settings.current_release.exists() else None
    out: list[dict[str, Any]] = []
    for path in reversed(finished_releases(settings.build_dir / "releases")):
        manifest = _manifest(path)
        log = path / "changelog.json"
        out.append(
            {
                "id": path.name,
                "created": manifest.get("created"),
                "triples": manifest.get("triples"),
                "current": path.resolve() == current,
                "path": path,
                "rollback": manifest.get("rollback"),
                "changelog": json.loads(log.read_text()) if log.exists() else None,
            }
        )
    return out


def previous_release(settings: Settings) -> Path | None:
    """The release `current` points at, if any (the base of the next changelog)."""
    link = settings.current_release
    return link.resolve() if link.exists() else None


def read_dump(release: Path) -> set[Statement]:
    data = gzip.decompress((release / "dumps" / NQ_DUMP).read_bytes())
    return set(parse_statements(data, ox.RdfFormat.N_QUADS))


def changelog(previous: Path | None, quads: Iterable[AnyQuad]) -> dict[str, Any]:
    """What changed since `previous` (a release folder, or None for the first release): triples added and
    removed per named graph, and the entities added, removed or changed, with their labels."""
    new = {q if isinstance(q, Statement) else Statement(*q) for q in quads}  # one form, to compare with the dump's
    old = read_dump(previous) if previous is not None else set()
    added, removed = (new - old, old - new) if old else (new, old)
    # every subject's statements grouped (changelog_of_delta asks only for those the difference touches, every
    # subject of a first release): cheaper than collecting the touched subjects first
    about: dict[str, list[AnyQuad]] = defaultdict(list)
    for q in new:
        if isinstance(q.subject, ox.NamedNode):
            about[q.subject.value].append(q)
    return changelog_of_delta(previous, lambda iri: about.get(iri, ()), added, removed)


def changelog_of_delta(
    previous: Path | None, about: Callable[[str], Iterable[AnyQuad]], added: Set[AnyQuad], removed: Set[AnyQuad]
) -> dict[str, Any]:
    """`changelog` from the difference alone: `about(iri)` gives the new release's statements whose subject is
    `iri` (a lookup in its store), `added` and `removed` what differs from `previous`'s. Only the entities the
    difference names are looked up: a build that knows the difference never reads the releases' other
    statements (the old statements about an IRI are `about(iri)` - `added` + `removed`)."""
    graphs: dict[str, dict[str, int]] = defaultdict(lambda: {"added": 0, "removed": 0})
    for change, changed in (("added", added), ("removed", removed)):
        for q in changed:
            assert not isinstance(q.graph_name, ox.DefaultGraph), "a release states everything in named graphs"
            graphs[q.graph_name.value][change] += 1
    statements = {iri: list(about(iri)) for iri in _iri_subjects(added | removed)}
    now = {iri for iri, found in statements.items() if found}  # touched IRIs that are a subject in the new release
    before = _iri_subjects(removed) | {  # ... and in the old one
        iri for iri, found in statements.items() if any(q not in added for q in found)
    }
    entities = {
        "added": sorted(now - before),
        "removed": sorted(before - now),
        "changed": sorted(now & before),
    }
    # a label depends only on its subject's statements: label only the entities listed
    listed = {i for v in entities.values() for i in v[:MAX_LISTED]}
    gone = listed & set(entities["removed"])
    names = labels_of(q for iri in listed for q in statements[iri]) | labels_of(
        q for q in removed if isinstance(q.subject, ox.NamedNode) and q.subject.value in gone
    )
    return {
        "previous": previous.name if previous is not None else None,
        "triples": {"added": len(added), "removed": len(removed)},
        "graphs": {g: graphs[g] for g in sorted(graphs)},
        "entities": {k: [{"iri": i, "label": names.get(i)} for i in v[:MAX_LISTED]] for k, v in entities.items()},
        "entity_counts": {k: len(v) for k, v in entities.items()},
    }


def _iri_subjects(quads: Iterable[AnyQuad]) -> set[str]:
    return {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}


def labels_of(quads: Iterable[AnyQuad]) -> dict[str, str]:
    """One label per IRI subject, by the site's label rule (server/labels.py), for an Italian reader."""
    pairs: dict[str, list[labels.Pair]] = defaultdict(list)
    for q in sorted(quads, key=str):  # the same label whatever order the set gives
        if (
            q.predicate.value in labels.RANK
            and isinstance(q.object, ox.Literal)
            and isinstance(q.subject, ox.NamedNode)
        ):
            pairs[q.subject.value].append((q.predicate.value, q.object.value, q.object.language or ""))
    return {s: label for s, found in pairs.items() if (label := labels.best(found, "it"))}


#: Writes what a release derives from its quads besides store and dumps (the LDES stream):
#: (candidate folder, previous release, quads, created).
Derive = Callable[[Path, Path | None, list[Statement], str], object]


def rollback(settings: Settings, release_id: str | None = None, derive: Derive | None = None) -> Path:
    """Publish again what release `release_id` (default: the one before current) holds, as a new release that
    records the event: its changelog says what the rollback removed and restored, its release.json which
    release it left and which it restored. The publishers' contributions of that release come back with it."""
    with writer_lock(settings.build_dir):
        kept = list(reversed(release_list(settings)))
        ids = [r["id"] for r in kept]
        current = previous_release(settings)
        if release_id is None:
            here = current.name if current is not None else None
            position = ids.index(here) if here in ids else len(ids)
            if position == 0:
                raise LookupError("there is no release before the current one")
            release_id = ids[position - 1]
        if release_id not in ids:
            raise LookupError(f"no kept release {release_id!r}; kept: {', '.join(ids) or 'none'}")
        onto = settings.build_dir / "releases" / release_id
        if current is not None and onto.resolve() == current:
            raise LookupError(f"release {release_id} is already current")
        releases = settings.build_dir / "releases"
        remove_abandoned(releases)
        new_id = new_release_id(releases)
        work = releases / f"{TMP_PREFIX}{new_id}"
        try:
            shutil.copytree(onto, work, ignore=shutil.ignore_patterns("release.json", "changelog.json", STREAM_DIR))
            quads = read_dump(onto)
            manifest = {
                **_manifest(onto),
                "id": new_id,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "rollback": {"from": current.name if current is not None else None, "onto": release_id},
            }
            (work / "release.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
            log = {**changelog(current, quads), "event": "rollback", "rollback": manifest["rollback"]}
            (work / "changelog.json").write_text(json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False))
            if derive is not None:
                derive(work, current, sorted(quads, key=str), manifest["created"])
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
            raise
        final = releases / new_id
        os.rename(work, final)
        _restore_contributions(settings, final)
        switch_current(settings.build_dir, final)
        prune(settings.build_dir, settings.keep_releases)
    return final


def _restore_contributions(settings: Settings, release: Path) -> None:
    """Put back the contributions `release` was built from, so the next build starts from them."""
    live = settings.build_dir / "contributions"
    staged = settings.build_dir / f"{TMP_PREFIX}contributions-{os.getpid()}"
    shutil.rmtree(staged, ignore_errors=True)
    if (release / "contributions").exists():
        shutil.copytree(release / "contributions", staged)
    else:
        staged.mkdir()
    old = settings.build_dir / f"{TMP_PREFIX}old-contributions-{os.getpid()}"
    if live.exists():
        os.rename(live, old)
    os.rename(staged, live)
    shutil.rmtree(old, ignore_errors=True)
