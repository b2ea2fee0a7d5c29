"""Releases as versions: the changelog of each release, the list of kept releases, and rollback.

Every release folder holds `changelog.json`: the previous release, triples added and removed per
named graph, and entities added, removed or changed, with their labels. `parita rollback [ID]`
makes an earlier kept release current with the same atomic symlink switch `parita build` uses,
and restores the publishers' contributions that release was built from.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from server.config import Settings

EXIT_OK, EXIT_ERROR = 0, 2
LABELS = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
)
MAX_LISTED = 200


def read_dump(release: Path) -> set[ox.Quad]:
    data = gzip.decompress((release / "dumps" / "parita.nq.gz").read_bytes())
    return set(ox.parse(data, format=ox.RdfFormat.N_QUADS))


def changelog(previous: Path | None, quads: list[ox.Quad]) -> dict[str, Any]:
    """What changed since `previous` (a release folder, or None for the first release)."""
    new = set(quads)
    old = read_dump(previous) if previous is not None else set()
    added, removed = new - old, old - new
    graphs: dict[str, dict[str, int]] = defaultdict(lambda: {"added": 0, "removed": 0})
    for change, changed in (("added", added), ("removed", removed)):
        for q in changed:
            assert not isinstance(q.graph_name, ox.DefaultGraph), "a release states everything in named graphs"
            graphs[q.graph_name.value][change] += 1
    new_subjects, old_subjects = _subjects(new), _subjects(old)
    touched = {q.subject.value for q in added | removed if isinstance(q.subject, ox.NamedNode)}
    entities = {
        "added": sorted(touched & (new_subjects - old_subjects)),
        "removed": sorted(touched & (old_subjects - new_subjects)),
        "changed": sorted(touched & new_subjects & old_subjects),
    }
    labels = _labels(new) | {k: v for k, v in _labels(old).items() if k in entities["removed"]}
    return {
        "previous": previous.name if previous is not None else None,
        "triples": {"added": len(added), "removed": len(removed)},
        "graphs": {g: graphs[g] for g in sorted(graphs)},
        "entities": {k: [{"iri": i, "label": labels.get(i)} for i in v[:MAX_LISTED]] for k, v in entities.items()},
        "entity_counts": {k: len(v) for k, v in entities.items()},
    }


def _subjects(quads: set[ox.Quad]) -> set[str]:
    return {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}


def _labels(quads: set[ox.Quad]) -> dict[str, str]:
    """One label per subject: Italian first, then any, in the order skos:prefLabel, rdfs:label, dct:title."""
    best: dict[str, tuple[int, str]] = {}
    for q in quads:
        if q.predicate.value in LABELS and isinstance(q.object, ox.Literal) and not isinstance(q.subject, ox.Triple):
            rank = LABELS.index(q.predicate.value) * 2 + (0 if q.object.language == "it" else 1)
            if q.subject.value not in best or rank < best[q.subject.value][0]:
                best[q.subject.value] = (rank, q.object.value)
    return {k: v for k, (_, v) in best.items()}


def release_list(settings: Settings) -> list[dict[str, Any]]:
    """The kept releases, newest first: id, created, triples, changelog summary, whether current."""
    folder = settings.build_dir / "releases"
    current = settings.current_release.resolve() if settings.current_release.exists() else None
    out: list[dict[str, Any]] = []
    for path in (
        sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
        if folder.exists()
        else []
    ):
        manifest = json.loads((path / "release.json").read_text())
        log = path / "changelog.json"
        out.append(
            {
                "id": path.name,
                "created": manifest.get("created"),
                "triples": manifest.get("triples"),
                "current": path.resolve() == current,
                "path": path,
                "changelog": json.loads(log.read_text()) if log.exists() else None,
            }
        )
    return out


def previous_release(settings: Settings) -> Path | None:
    """The release `current` points at, if any (the base of the next changelog)."""
    link = settings.current_release
    return link.resolve() if link.exists() else None


def rollback(settings: Settings, release_id: str | None = None) -> Path:
    """Make `release_id` (default: the one before current) current again; returns its folder."""
    from scripts.build import build_lock, switch_current

    kept = [r for r in reversed(release_list(settings))]
    ids = [r["id"] for r in kept]
    if release_id is None:
        current = [r["id"] for r in kept if r["current"]]
        position = ids.index(current[0]) if current else len(ids)
        if position == 0:
            raise LookupError("there is no release before the current one")
        release_id = ids[position - 1]
    if release_id not in ids:
        raise LookupError(f"no kept release {release_id!r}; kept: {', '.join(ids) or 'none'}")
    target = settings.build_dir / "releases" / release_id
    with build_lock(settings.build_dir):
        _restore_contributions(settings, target)
        switch_current(settings.build_dir, target)
    return target


def _restore_contributions(settings: Settings, release: Path) -> None:
    """Put back the contributions `release` was built from, so the next build starts from them."""
    live = settings.build_dir / "contributions"
    staged = settings.build_dir / f".tmp-contributions-{os.getpid()}"
    shutil.rmtree(staged, ignore_errors=True)
    if (release / "contributions").exists():
        shutil.copytree(release / "contributions", staged)
    else:
        staged.mkdir()
    old = settings.build_dir / f".tmp-old-contributions-{os.getpid()}"
    if live.exists():
        os.rename(live, old)
    os.rename(staged, live)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="parita rollback", description="Make an earlier release current again (atomic switch)."
    )
    parser.add_argument("release", nargs="?", help="release id (default: the one before the current release)")
    parser.add_argument("--list", action="store_true", help="list the kept releases and exit")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    if args.list:
        for r in release_list(settings):
            counts = (r["changelog"] or {}).get("triples", {})
            print(
                f"{'*' if r['current'] else ' '} {r['id']}  {r['triples']} triples  +{counts.get('added', '?')} -{counts.get('removed', '?')}"
            )
        return EXIT_OK
    try:
        target = rollback(settings, args.release)
    except LookupError as error:
        print(f"rollback refused: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(f"current release is now {target.name}")
    return EXIT_OK
