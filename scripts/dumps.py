"""A release's dumps: N-Quads and N-Triples as series of gzip members (a piece that did not change is copied
from the previous release), and the Turtle of the union streamed from the N-Triples file."""

from __future__ import annotations

import gzip
import hashlib
import heapq
import os
import re
import typing
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from scripts.rdfio import SourceFile, graph_of
from scripts.sources import rebase_iri
from server.config import DEFAULT_BASE_URI
from server.formats import DUMP_MEDIA_TYPES, NQ_DUMP, NT_DUMP
from server.statements import AnyQuad, as_quads

#: Statements serialised at a time when a graph's lines are collected: only this much text beside the lines.
SERIALIZE_CHUNK = 50_000
#: Lines compressed at a time into a gzip member: the member is written without its whole text in memory.
COMPRESS_CHUNK = 10_000
#: Compressed bytes read at a time from each graph's N-Quads member while the N-Triples dump merges them.
READ_CHUNK = 1 << 16


def write_dumps(
    folder: Path,
    quads: Sequence[AnyQuad],
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
    each piece known by its SHA-256. The Turtle is streamed from the N-Triples file.

    Lines are bytes, split on line feeds only (UTF-8 sorts as code points do). One graph's lines are held at
    a time: the N-Triples merge reads every graph's lines back from the N-Quads file, a chunk at a time."""
    folder.mkdir()
    kept = kept or {}
    by_graph: dict[str, list[AnyQuad]] = defaultdict(list)
    for q in quads:
        by_graph[graph_of(q)].append(q)
    pieces: dict[str, dict[str, dict[str, int]]] = {NQ_DUMP: {}, NT_DUMP: {}}
    with _GzipPieces(folder / NQ_DUMP, pieces[NQ_DUMP]) as out:
        for graph in sorted(by_graph.keys() | kept.get(NQ_DUMP, {}).keys()):  # a kept graph needs no statements
            statements = by_graph.pop(graph, [])
            member = kept.get(NQ_DUMP, {}).get(graph)
            if member is None:
                out.write_lines(graph, _sorted_lines(statements))
            else:
                out.write(graph, member)
            del statements
    with open(folder / NQ_DUMP, "rb") as nq:
        merged = heapq.merge(
            *(_without_graph(_member_lines(nq.fileno(), at), graph) for graph, at in pieces[NQ_DUMP].items())
        )
        with _GzipPieces(folder / NT_DUMP, pieces[NT_DUMP]) as out:
            for text in _nt_pieces(merged):
                key = hashlib.sha256(text).hexdigest()
                out.write(key, kept.get(NT_DUMP, {}).get(key) or _gzip_member(text))
    with open(folder / NT_DUMP, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as sorted_triples:
        ox.serialize(
            ox.parse(typing.cast(typing.IO[bytes], sorted_triples), format=ox.RdfFormat.N_TRIPLES),
            str(folder / "parita.ttl"),
            format=ox.RdfFormat.TURTLE,
            prefixes={p: rebase_iri(ns, base_uri) for p, ns in _prefixes(sources).items()},
        )
    files = {}
    for name, media_type in DUMP_MEDIA_TYPES.items():
        with open(folder / name, "rb") as dump:
            sha256 = hashlib.file_digest(dump, "sha256").hexdigest()
        files[name] = {"sha256": sha256, "bytes": (folder / name).stat().st_size, "media_type": media_type}
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

    def write_lines(self, key: str, lines: list[bytes]) -> None:
        """The member `_gzip_member(_text(lines))`, compressed and written a chunk of lines at a time."""
        packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS)
        length = 0
        for start in range(0, max(len(lines), 1), COMPRESS_CHUNK):
            length += self.out.write(packer.compress(_text(lines[start : start + COMPRESS_CHUNK])))
        length += self.out.write(packer.flush())
        self.where.setdefault(key, {"offset": self.offset, "length": length})
        self.offset += length


def graph_piece(lines: Iterable[bytes]) -> bytes:
    """A graph's member of the N-Quads dump from its lines (each a statement as pyoxigraph writes it), the bytes
    `write_dumps` writes for its statements: for a rebuild that knows a changed graph's lines, not its statements."""
    return _gzip_member(_text(sorted(set(lines))))


#: gzip.compress(text, mtime=0) is zlib's gzip format at level 9 (no name, mtime 0): the same bytes for the
#: same data, so the same checksum; `_GzipPieces.write_lines` gives those bytes a chunk at a time.
GZIP_LEVEL, GZIP_WBITS = 9, 31


def _gzip_member(text: bytes) -> bytes:
    return zlib.compress(text, level=GZIP_LEVEL, wbits=GZIP_WBITS)


def _text(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def _member_lines(fd: int, at: dict[str, int]) -> Iterator[bytes]:
    """The lines of the gzip member at `at` (its offset and length) in the file `fd`, read a chunk at a time."""
    unzip = zlib.decompressobj(wbits=GZIP_WBITS)
    offset, end, rest = at["offset"], at["offset"] + at["length"], b""
    while offset < end:
        chunk = os.pread(fd, min(READ_CHUNK, end - offset), offset)
        if not chunk:
            raise OSError(f"the dump ends inside a gzip member ({at})")
        offset += len(chunk)
        *lines, rest = (rest + unzip.decompress(chunk)).split(b"\n")
        yield from lines
    *lines, rest = (rest + unzip.flush()).split(b"\n")
    yield from lines


def _without_graph(lines: Iterable[bytes], graph: str) -> Iterator[bytes]:
    """A graph's sorted N-Quads lines as N-Triples lines, still sorted: every line ends in the same ` <graph> .`,
    and what precedes it ends a term, so cutting it off keeps the order."""
    cut = len(f" <{graph}> .".encode())
    return (line[:-cut] + b" ." for line in lines)


#: A piece of the N-Triples dump ends after a line whose CRC-32 is a multiple of this (~1,000 lines a piece).
NT_PIECE = 1024


def _nt_pieces(sorted_lines: Iterable[bytes]) -> Iterator[bytes]:
    """Sorted lines without duplicates, cut where the content says: a change moves only the cuts near it."""
    piece: list[bytes] = []
    last = None
    for line in sorted_lines:
        if line == last:
            continue
        last = line
        piece.append(line)
        if zlib.crc32(line) % NT_PIECE == 0:
            yield _text(piece)
            piece = []
    if piece:
        yield _text(piece)


def _sorted_lines(quads: list[AnyQuad]) -> list[bytes]:
    """The statements' N-Quads lines, sorted, without duplicates; serialised a chunk at a time, so the whole
    text is never held beside the lines."""
    lines: set[bytes] = set()
    for start in range(0, len(quads), SERIALIZE_CHUNK):
        lines.update(
            (ox.serialize(as_quads(quads[start : start + SERIALIZE_CHUNK]), format=ox.RdfFormat.N_QUADS) or b"").split(
                b"\n"
            )
        )
    lines.discard(b"")
    return sorted(lines)


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
