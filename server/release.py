"""A built release on disk (`build/current` → `build/releases/<id>/`): its metadata, dumps and store."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .errors import StoreError

NQ_DUMP = "parita.nq.gz"
#: The dumps every release has (written by `scripts/build.py`), with their media types.
DUMP_MEDIA_TYPES = {
    NQ_DUMP: "application/n-quads",
    "parita.nt.gz": "application/n-triples",
    "parita.ttl": "text/turtle",
}


def served_media_type(name: str) -> str:
    """The Content-Type a dump file is served with: a gzip file as what it is (application/gzip, which
    clients save as is), the others as their RDF syntax. The catalog names the syntax inside
    (`DUMP_MEDIA_TYPES`) with dcat:compressFormat gzip."""
    if name.endswith(".gz"):
        return "application/gzip"
    return "text/plain" if name == "SHA256SUMS" else DUMP_MEDIA_TYPES.get(name, "application/octet-stream")


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

    @property
    def last_modified(self) -> str:
        """HTTP-date of the release (RFC 9110 §5.6.7)."""
        return format_datetime(self.created.replace(microsecond=0), usegmt=True)

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
