"""A release's dumps: N-Quads and N-Triples as series of gzip members, and Turtle, each cut into pieces where
the lines say, so a rebuild writes only the pieces its change falls in and copies the others from the
previous release."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import heapq
import os
import re
import zlib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox

from scripts.rdfio import SourceFile, graph_of
from scripts.sources import rebase_iri
from server.config import DEFAULT_BASE_URI
from server.formats import DUMP_MEDIA_TYPES, NQ_DUMP, NT_DUMP, TTL_DUMP
from server.statements import AnyQuad, as_quads

#: Statements serialised at a time when a graph's lines are collected: only this much text beside the lines.
SERIALIZE_CHUNK = 50_000
#: Compressed bytes read at a time from each graph's N-Quads pieces while the N-Triples dump merges them.
READ_CHUNK = 1 << 16
#: A piece of a dump ends after a line whose CRC-32 is a multiple of this (~1,000 lines a piece).
PIECE_CUT = 1024

#: Where each piece of each dump lies: dump → piece → {"offset", "length", ...} (see `write_dumps`).
Pieces = dict[str, dict[str, dict[str, Any]]]


@dataclasses.dataclass(frozen=True)
class Previous:
    """What a rebuild writes its dumps from: the previous release's dumps folder, the pieces `write_dumps`
    recorded for it, and the statements added and removed since, line by line (an added statement's line was
    not in its graph's N-Quads piece, a removed one's was and is no longer)."""

    folder: Path
    pieces: Pieces
    added: Iterable[ox.Quad]
    removed: Iterable[ox.Quad]


def write_dumps(
    folder: Path,
    quads: Sequence[AnyQuad],
    sources: list[SourceFile],
    base_uri: str = DEFAULT_BASE_URI,
    previous: Previous | None = None,
) -> tuple[dict[str, dict[str, Any]], Pieces]:
    """N-Quads (with graphs) and N-Triples gzipped, Turtle of the union; sorted so builds are reproducible.
    Returns the dumps' manifest and, per dump, where each of its pieces lies in it.

    Every dump is a series of pieces cut after a line whose CRC-32 says so (`_cuts`): the same lines give the
    same cuts, so a rebuild (`previous`, with `quads` empty) that writes only the pieces near its change and
    copies the others writes the bytes a full build of the same statements writes. N-Quads: per named graph,
    in graph order, the graph's sorted lines in pieces, each a gzip member (one gzip file to any reader);
    recorded per graph with its pieces' lengths, last lines and numbers of lines. N-Triples: the merge of the graphs' lines
    without their graph, duplicates dropped, in pieces, each a gzip member known by its SHA-256 and recorded
    with its last line. Turtle: the prefixes the Turtle sources declare, then one serialisation of each
    N-Triples piece (a subject cut between two pieces is stated twice, the triples are the same), known by the
    SHA-256 of the prefixes and that piece.

    Lines are bytes, split on line feeds only (UTF-8 sorts as code points do). A full build holds one graph's
    lines at a time: the N-Triples merge reads every graph's lines back from the N-Quads file."""
    folder.mkdir()
    prefixes = {p: rebase_iri(ns, base_uri) for p, ns in _prefixes(sources).items()}
    pieces: Pieces = {NQ_DUMP: {}, NT_DUMP: {}, TTL_DUMP: {}}
    if previous is None:
        with _GzipPieces(folder / NQ_DUMP, pieces[NQ_DUMP]) as out:
            by_graph: dict[str, list[AnyQuad]] = defaultdict(list)
            for q in quads:
                by_graph[graph_of(q)].append(q)
            for graph in sorted(by_graph):
                out.write_graph(graph, _cut(_sorted_lines(by_graph.pop(graph))))
        with open(folder / NQ_DUMP, "rb") as nq:
            merged = heapq.merge(
                *(
                    _without_graph(_range_lines(nq.fileno(), at["offset"], at["length"]), graph)
                    for graph, at in pieces[NQ_DUMP].items()
                )
            )
            _write_triples(folder, _cut(_unique(merged)), pieces, prefixes)
    else:
        _write_change(folder, previous, pieces, prefixes)
    files = {}
    for name, media_type in DUMP_MEDIA_TYPES.items():
        with open(folder / name, "rb") as dump:
            sha256 = hashlib.file_digest(dump, "sha256").hexdigest()
        files[name] = {"sha256": sha256, "bytes": (folder / name).stat().st_size, "media_type": media_type}
    (folder / "SHA256SUMS").write_text("".join(f"{v['sha256']}  {k}\n" for k, v in files.items()))
    return files, pieces


@dataclasses.dataclass(frozen=True)
class _Old:
    """A piece of one of the previous release's dumps, kept or read where a change falls: where it lies in
    its file (`fd`), its last line, and its key (an N-Triples piece's SHA-256)."""

    fd: int
    offset: int
    length: int
    last: bytes
    key: str = ""
    lines: int = 0  # how many (an N-Quads piece's)

    def member(self) -> bytes:
        return _read(self.fd, self.offset, self.length)


def _read(fd: int, offset: int, length: int) -> bytes:
    """`length` bytes at `offset` of the previous release's dump `fd`."""
    data = os.pread(fd, length, offset)
    if len(data) != length:
        raise OSError(f"the previous release's dump ends inside a piece (at {offset})")
    return data


#: A piece as the writers take it: new lines, or one of the previous release's kept as it was.
Piece = list[bytes] | _Old


def _write_triples(
    folder: Path,
    nt_pieces: Iterable[Piece],
    pieces: Pieces,
    prefixes: dict[str, str],
    old_turtle: tuple[int, dict[str, dict[str, Any]]] | None = None,
) -> None:
    """The N-Triples and Turtle dumps from their pieces in order. `old_turtle`, in a rebuild: the previous
    release's Turtle (its file and pieces), whose piece of an N-Triples piece kept is copied when the prefixes
    are the same."""
    header = _turtle_header(prefixes)
    with _GzipPieces(folder / NT_DUMP, pieces[NT_DUMP]) as nt, open(folder / TTL_DUMP, "wb") as ttl:
        ttl.write(header)
        turtle = _Plain(ttl, pieces[TTL_DUMP], len(header))
        for piece in nt_pieces:
            if isinstance(piece, _Old):
                key, member, last, text = piece.key, piece.member(), piece.last, None
            else:
                text, last = _lines(piece), piece[-1]
                key, member = hashlib.sha256(text).hexdigest(), _gzip_member(text)
            nt.write(key, member, last=last.decode())
            turtle_key = hashlib.sha256(header + b"\0" + key.encode()).hexdigest()
            kept = old_turtle[1].get(turtle_key) if old_turtle is not None else None
            if old_turtle is not None and kept is not None:
                turtle.write(turtle_key, _read(old_turtle[0], kept["offset"], kept["length"]))
            else:
                turtle.write(turtle_key, _turtle(text if text is not None else _member_text(member), prefixes, header))


def _write_change(folder: Path, previous: Previous, pieces: Pieces, prefixes: dict[str, str]) -> None:
    """A rebuild's dumps: the previous release's pieces, those the change falls in rewritten."""
    more: dict[str, list[bytes]] = defaultdict(list)
    fewer: dict[str, list[bytes]] = defaultdict(list)
    for into, quads in ((more, list(previous.added)), (fewer, list(previous.removed))):
        for q, line in zip(quads, statement_lines(quads), strict=True):
            into[graph_of(q)].append(line)
    with contextlib.ExitStack() as files:
        old_nq, old_nt, old_ttl = (
            files.enter_context(open(previous.folder / name, "rb")).fileno() for name in (NQ_DUMP, NT_DUMP, TTL_DUMP)
        )
        with _GzipPieces(folder / NQ_DUMP, pieces[NQ_DUMP]) as out:
            for graph in sorted(previous.pieces[NQ_DUMP].keys() | more.keys() | fewer.keys()):
                at = previous.pieces[NQ_DUMP].get(graph)
                if at is not None and graph not in more and graph not in fewer:
                    out.copy_graph(graph, _read(old_nq, at["offset"], at["length"]), at["parts"])
                    continue
                old = _graph_parts(old_nq, at) if at is not None else []
                followed = _follow(old, more.get(graph, []), fewer.get(graph, []))
                out.write_graph(graph, (old[p] if isinstance(p, int) else p for p in followed))
        # a triple stays in the N-Triples dump while any graph states it: the graphs that lost its line are looked up
        added = {line for graph, lines in more.items() for line in _without_graph(lines, graph)}
        removed = {line for graph, lines in fewer.items() for line in _without_graph(lines, graph)} - added
        with open(folder / NQ_DUMP, "rb") as nq:
            stated = _Lookup(nq.fileno(), pieces[NQ_DUMP])
            gone = {t for t in removed if not any(stated.has(t, graph) for graph in pieces[NQ_DUMP])}
        kept = sorted(
            (
                _Old(old_nt, at["offset"], at["length"], str(at["last"]).encode(), key)
                for key, at in previous.pieces[NT_DUMP].items()
            ),
            key=lambda piece: piece.offset,
        )
        followed = _follow(kept, added, gone)
        nt_pieces = (kept[p] if isinstance(p, int) else p for p in followed)
        _write_triples(folder, nt_pieces, pieces, prefixes, (old_ttl, previous.pieces[TTL_DUMP]))


class _Lookup:
    """Whether a graph of the N-Quads dump being written states a triple: its piece found by its last lines,
    read once."""

    def __init__(self, fd: int, where: dict[str, dict[str, Any]]) -> None:
        self.parts = {graph: _graph_parts(fd, at) for graph, at in where.items()}
        self.lasts = {graph: [part.last for part in parts] for graph, parts in self.parts.items()}
        self.read: dict[tuple[str, int], set[bytes]] = {}

    def has(self, triple: bytes, graph: str) -> bool:
        line = triple[:-1] + f"<{graph}> .".encode()
        n = bisect_left(self.lasts[graph], line)
        if n == len(self.lasts[graph]):
            return False
        if (graph, n) not in self.read:
            self.read[graph, n] = set(_member_text(self.parts[graph][n].member()).split(b"\n"))
        return line in self.read[graph, n]


def _graph_parts(fd: int, at: dict[str, Any]) -> list[_Old]:
    """A graph's N-Quads pieces as recorded (in the file `fd`)."""
    parts, offset = [], int(at["offset"])
    for length, last, lines in at["parts"]:
        parts.append(_Old(fd, offset, int(length), str(last).encode(), lines=int(lines)))
        offset += int(length)
    return parts


class GraphLines:
    """The lines of one graph's N-Quads pieces in a release's dump, from its gzip members (`members`, the
    graph's bytes of the dump) and what `write_dumps` recorded of them (`at`): each piece is read only where
    a line asked about falls, so a rebuild's cost follows its change, not the graph's size."""

    def __init__(self, members: bytes | None, at: dict[str, Any] | None) -> None:
        self.members, self.parts = members or b"", []
        if at is not None:
            offset = 0
            for length, last, lines in at["parts"]:
                self.parts.append((offset, int(length), str(last).encode(), int(lines)))
                offset += int(length)
        self.lasts = [last for _, _, last, _ in self.parts]
        self.read: dict[int, list[bytes]] = {}

    def __len__(self) -> int:
        return sum(lines for _, _, _, lines in self.parts)

    def __contains__(self, line: object) -> bool:
        if not isinstance(line, bytes) or (n := bisect_left(self.lasts, line)) == len(self.parts):
            return False
        found = self._lines(n)
        at = bisect_left(found, line)
        return at < len(found) and found[at] == line

    def starting(self, prefixes: Iterable[bytes]) -> Iterator[bytes]:
        """The lines that start with one of `prefixes` (sorted lines starting alike are side by side)."""
        for prefix in sorted(set(prefixes)):
            for n in range(bisect_left(self.lasts, prefix), len(self.parts)):
                yield from (line for line in self._lines(n) if line.startswith(prefix))
                if not self.lasts[n].startswith(prefix):
                    break

    def _lines(self, n: int) -> list[bytes]:
        if n not in self.read:
            offset, length = self.parts[n][:2]
            self.read[n] = _text_lines(_member_text(self.members[offset : offset + length]))
        return self.read[n]


def _follow(old: list[_Old], added: Iterable[bytes], removed: Iterable[bytes]) -> Iterator[int | list[bytes]]:
    """The pieces (`_cut`) of sorted, distinct lines after a change, from the pieces before it: an old piece's
    number where it stays as it was, else a new piece's lines. Only the pieces the change falls in are read,
    and those after them until a cut is where it was."""
    if not old:
        yield from _cut(sorted(set(added) - set(removed)))
        return
    lasts = [piece.last for piece in old]
    more: dict[int, set[bytes]] = defaultdict(set)
    fewer: dict[int, set[bytes]] = defaultdict(set)
    end = len(lasts) - 1  # a line after the last piece's last line joins the last piece
    for lines, into in ((added, more), (removed, fewer)):
        for line in lines:
            into[min(bisect_left(lasts, line), end)].add(line)
    pending: list[bytes] = []
    for n in range(len(old)):
        if not pending and n not in more and n not in fewer:
            yield n
            continue
        lines = _text_lines(_member_text(old[n].member()))
        if n in more or n in fewer:
            lines = sorted((set(lines) - fewer[n]) | more[n])
        for line in lines:
            pending.append(line)
            if _cuts(line):
                yield pending
                pending = []
    if pending:
        yield pending


def _cuts(line: bytes) -> bool:
    """Whether a piece ends after this line: the content decides, so a change moves only the cuts near it."""
    return zlib.crc32(line) % PIECE_CUT == 0


def _cut(sorted_lines: Iterable[bytes]) -> Iterator[list[bytes]]:
    """Sorted lines in pieces, each ending with a line that `_cuts` (the last one with the last line)."""
    piece: list[bytes] = []
    for line in sorted_lines:
        piece.append(line)
        if _cuts(line):
            yield piece
            piece = []
    if piece:
        yield piece


def _unique(sorted_lines: Iterable[bytes]) -> Iterator[bytes]:
    last = None
    for line in sorted_lines:
        if line != last:
            yield line
        last = line


class _GzipPieces:
    """A file written as a series of gzip members, recording where each piece lies under its key."""

    def __init__(self, path: Path, where: dict[str, dict[str, Any]]) -> None:
        self.path, self.where, self.offset = path, where, 0

    def __enter__(self) -> _GzipPieces:
        self.out = open(self.path, "wb")  # closed by __exit__
        return self

    def __exit__(self, *exc: object) -> None:
        self.out.close()

    def write(self, key: str, member: bytes, **more: Any) -> None:
        self.out.write(member)
        self.where.setdefault(key, {"offset": self.offset, "length": len(member), **more})
        self.offset += len(member)

    def write_graph(self, graph: str, graph_pieces: Iterable[Piece]) -> None:
        """A graph's pieces, recorded under the graph with each one's length and last line (a graph without
        lines has none)."""
        start, parts = self.offset, []
        for piece in graph_pieces:
            if isinstance(piece, _Old):
                member, last, lines = piece.member(), piece.last, piece.lines
            else:
                member, last, lines = _gzip_member(_lines(piece)), piece[-1], len(piece)
            self.out.write(member)
            parts.append([len(member), last.decode(), lines])
            self.offset += len(member)
        if parts:
            self.where[graph] = {"offset": start, "length": self.offset - start, "parts": parts}

    def copy_graph(self, graph: str, members: bytes, parts: list[Any]) -> None:
        """A graph's pieces copied whole from the previous release (`parts` as it recorded them)."""
        self.out.write(members)
        self.where[graph] = {"offset": self.offset, "length": len(members), "parts": parts}
        self.offset += len(members)


class _Plain:
    """Pieces of a plain file, recording where each lies under its key."""

    def __init__(self, out: BinaryIO, where: dict[str, dict[str, Any]], offset: int) -> None:
        self.out, self.where, self.offset = out, where, offset

    def write(self, key: str, text: bytes) -> None:
        self.out.write(text)
        self.where.setdefault(key, {"offset": self.offset, "length": len(text)})
        self.offset += len(text)


#: gzip.compress(text, mtime=0) is zlib's gzip format at level 9 (no name, mtime 0): the same bytes for the
#: same data, so the same checksum.
GZIP_LEVEL, GZIP_WBITS = 9, 31


def _gzip_member(text: bytes) -> bytes:
    return zlib.compress(text, level=GZIP_LEVEL, wbits=GZIP_WBITS)


def _member_text(member: bytes) -> bytes:
    return zlib.decompress(member, GZIP_WBITS)


def _lines(lines: list[bytes]) -> bytes:
    """A piece's text: its lines, each ended by a line feed."""
    return b"\n".join(lines) + b"\n"


def _text_lines(text: bytes) -> list[bytes]:
    return text.split(b"\n")[:-1]


def statement_lines(quads: list[ox.Quad]) -> list[bytes]:
    """Each statement's N-Quads line, in order (split on line feeds only: a literal may hold other line breaks)."""
    return (ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").split(b"\n")[:-1]


def _range_lines(fd: int, offset: int, length: int) -> Iterator[bytes]:
    """The lines of the gzip members at `offset` in the file `fd`, over `length` bytes, read a chunk at a time."""
    unzip = zlib.decompressobj(wbits=GZIP_WBITS)
    end, rest = offset + length, b""
    while offset < end:
        chunk = os.pread(fd, min(READ_CHUNK, end - offset), offset)
        if not chunk:
            raise OSError(f"the dump ends inside a gzip member (at {offset}, before {end})")
        offset += len(chunk)
        text = b""
        while chunk:
            text += unzip.decompress(chunk)
            chunk = b""
            if unzip.eof:  # the next member starts in what is left
                chunk, unzip = unzip.unused_data, zlib.decompressobj(wbits=GZIP_WBITS)
        *lines, rest = (rest + text).split(b"\n")
        yield from lines
    *lines, rest = (rest + unzip.flush()).split(b"\n")
    yield from lines


def _without_graph(lines: Iterable[bytes], graph: str) -> Iterator[bytes]:
    """A graph's sorted N-Quads lines as N-Triples lines, still sorted: every line ends in the same ` <graph> .`,
    and what precedes it ends a term, so cutting it off keeps the order."""
    cut = len(f" <{graph}> .".encode())
    return (line[:-cut] + b" ." for line in lines)


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


def _turtle_header(prefixes: dict[str, str]) -> bytes:
    """The prefix declarations the Turtle dump starts with, as pyoxigraph writes them."""
    if not prefixes:
        return b""
    sample = ox.Triple(ox.BlankNode("h"), ox.NamedNode("urn:h"), ox.BlankNode("h"))
    out = ox.serialize([sample], format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
    return out[: out.rindex(b"\n_:h ") + 1]  # what precedes the sample's statement


def _turtle(nt_text: bytes, prefixes: dict[str, str], header: bytes) -> bytes:
    """An N-Triples piece in Turtle, without the prefix declarations (`header`) pyoxigraph writes first: its
    blank nodes keep their labels, so the pieces are one document."""
    parsed = ox.parse(nt_text, format=ox.RdfFormat.N_TRIPLES)
    out = ox.serialize(parsed, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
    if not out.startswith(header):
        raise RuntimeError("pyoxigraph's Turtle does not start with the prefixes it was given")
    return out[len(header) :]


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
