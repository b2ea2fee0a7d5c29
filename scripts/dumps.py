"""A release's dumps: N-Quads and N-Triples as series of gzip members (a piece that did not change is copied
from the previous release), and the Turtle of the union streamed from the N-Triples file."""

from __future__ import annotations

import gzip
import hashlib
import heapq
import re
import typing
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from scripts.rdfio import SourceFile, graph_of
from scripts.sources import rebase_iri
from server.config import DEFAULT_BASE_URI
from server.formats import DUMP_MEDIA_TYPES, NQ_DUMP, NT_DUMP


def write_dumps(
    folder: Path,
    quads: list[ox.Quad],
    sources: list[SourceFile],
    base_uri: str = DEFAULT_BASE_URI,
    kept: dict[str, dict[str, bytes]] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, dict[str, int]]]]:
    """N-Quads (with graphs) and N-Triples gzipped, Turtle of the union; sorted so builds are reproducible.
    Returns the dumps' manifest and, per gzipped dump, where each of its pieces lies in it.

    Both gzipped dumps are a series of gzip members (one gzip file to any reader), so a piece that did not
    change is copied from the previous release (`kept`: dump name → piece → its member) instead of being
    compressed again, and the bytes are the same either way. N-Quads: one member per named graph, in graph
    order, each the graph's sorted lines. N-Triples: the merge of the graphs' sorted lines without their
    graph, duplicates dropped, cut into pieces where a line's CRC-32 says so (the same lines, the same cuts),
    each piece known by its SHA-256. The Turtle is streamed from the N-Triples file."""
    folder.mkdir()
    kept = kept or {}
    by_graph: dict[str, list[ox.Quad]] = defaultdict(list)
    for q in quads:
        by_graph[graph_of(q)].append(q)
    lines_of: dict[str, list[str]] = {}
    pieces: dict[str, dict[str, dict[str, int]]] = {NQ_DUMP: {}, NT_DUMP: {}}
    with _GzipPieces(folder / NQ_DUMP, pieces[NQ_DUMP]) as out:
        for graph in sorted(by_graph.keys() | kept.get(NQ_DUMP, {}).keys()):  # a kept graph needs no statements
            member = kept.get(NQ_DUMP, {}).get(graph)
            if member is None:
                lines_of[graph] = _sorted_lines(ox.serialize(by_graph.pop(graph), format=ox.RdfFormat.N_QUADS))
                member = _gzip_member(_text(lines_of[graph]))
            else:
                lines_of[graph] = gzip.decompress(member).decode().splitlines()
            out.write(graph, member)
    del by_graph
    merged = heapq.merge(*(_without_graph(lines, graph) for graph, lines in lines_of.items()))
    with _GzipPieces(folder / NT_DUMP, pieces[NT_DUMP]) as out:
        for text in _nt_pieces(merged):
            key = hashlib.sha256(text).hexdigest()
            out.write(key, kept.get(NT_DUMP, {}).get(key) or _gzip_member(text))
    del lines_of, merged
    with open(folder / NT_DUMP, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as sorted_triples:
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
    return files, pieces


class _GzipPieces:
    """A file written as a series of gzip members, recording each one's offset and length under its key."""

    def __init__(self, path: Path, where: dict[str, dict[str, int]]) -> None:
        self.path, self.where, self.offset = path, where, 0

    def __enter__(self) -> _GzipPieces:
        self.out = open(self.path, "wb")  # closed by __exit__
        return self

    def __exit__(self, *exc: object) -> None:
        self.out.close()

    def write(self, key: str, member: bytes) -> None:
        self.out.write(member)
        self.where.setdefault(key, {"offset": self.offset, "length": len(member)})
        self.offset += len(member)


def graph_piece(lines: Iterable[str]) -> bytes:
    """A graph's member of the N-Quads dump from its lines (each a statement as pyoxigraph writes it), the bytes
    `write_dumps` writes for its statements: for a rebuild that knows a changed graph's lines, not its statements."""
    return _gzip_member(_text(sorted(set(lines))))


def _gzip_member(text: bytes) -> bytes:
    return gzip.compress(text, mtime=0)  # mtime=0: the same bytes, so the same checksum, for the same data


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _without_graph(lines: list[str], graph: str) -> Iterator[str]:
    """A graph's sorted N-Quads lines as N-Triples lines, still sorted: every line ends in the same ` <graph> .`,
    and what precedes it ends a term, so cutting it off keeps the order."""
    cut = len(f" <{graph}> .")
    return (line[:-cut] + " ." for line in lines)


#: A piece of the N-Triples dump ends after a line whose CRC-32 is a multiple of this (~1,000 lines a piece).
NT_PIECE = 1024


def _nt_pieces(sorted_lines: Iterable[str]) -> Iterator[bytes]:
    """Sorted lines without duplicates, cut where the content says: a change moves only the cuts near it."""
    piece: list[str] = []
    last = None
    for line in sorted_lines:
        if line == last:
            continue
        last = line
        piece.append(line)
        if zlib.crc32(line.encode()) % NT_PIECE == 0:
            yield _text(piece)
            piece = []
    if piece:
        yield _text(piece)


def _sorted_lines(serialized: bytes | None) -> list[str]:
    return sorted(set((serialized or b"").decode().splitlines()))


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
