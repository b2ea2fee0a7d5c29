"""The release dumps (scripts/dumps.py): every statement comes back from each dump, whatever its literals hold;
a dump is its pieces, each compressed as `gzip.compress` would; a rebuild that writes only the pieces its change
falls in writes the bytes of a full build.

The statements are fictitious and marked so (example.org IRIs)."""

from __future__ import annotations

import gzip
import random
import zlib
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from scripts import dumps
from scripts.dumps import write_dumps
from scripts.rdfio import SourceFile, graph_of
from server.formats import NQ_DUMP, NT_DUMP, TTL_DUMP

EX = "http://example.org/prova/"
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
# characters str.splitlines() cuts a line at, though N-Quads writes them as they are inside a literal
LINE_BREAKS_OF_STR = "\u2028 \u2029 \x85"


def statements(count: int) -> list[ox.Quad]:
    graphs = [ox.NamedNode(f"{EX}graph/{name}") for name in ("uno", "due", "è-tre")]
    return [
        ox.Quad(ox.NamedNode(f"{EX}cosa/{n}"), LABEL, ox.Literal(f"cosa {n} {LINE_BREAKS_OF_STR} fine"), graph)
        for n in range(count)
        for graph in graphs[: 1 + n % 3]
    ]


def test_every_dump_gives_back_every_statement_even_with_line_separators_in_literals(tmp_path: Path) -> None:
    quads = statements(200)
    files, pieces = write_dumps(tmp_path / "dumps", quads, [])
    folder = tmp_path / "dumps"
    nq = set(ox.parse(gzip.decompress((folder / NQ_DUMP).read_bytes()), format=ox.RdfFormat.N_QUADS))
    nt = set(ox.parse(gzip.decompress((folder / NT_DUMP).read_bytes()), format=ox.RdfFormat.N_TRIPLES))
    ttl = set(ox.parse((folder / "parita.ttl").read_bytes(), format=ox.RdfFormat.TURTLE))
    triples = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    assert nq == set(quads)
    assert {ox.Triple(q.subject, q.predicate, q.object) for q in nt} == triples
    assert {ox.Triple(q.subject, q.predicate, q.object) for q in ttl} == triples
    assert len(pieces[NQ_DUMP]) == 3 and files[NQ_DUMP]["bytes"] == (folder / NQ_DUMP).stat().st_size


def test_a_dump_is_its_pieces_compressed_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The N-Quads dump is each graph's sorted lines cut where a line's CRC-32 says, each piece a gzip member
    (`gzip.compress`), the N-Triples dump the lines of every graph without duplicates, cut likewise."""
    monkeypatch.setattr(dumps, "SERIALIZE_CHUNK", 11)
    monkeypatch.setattr(dumps, "READ_CHUNK", 64)  # the N-Triples merge reads each graph in many chunks
    monkeypatch.setattr(dumps, "PIECE_CUT", 8)
    quads = statements(300)
    _, pieces = write_dumps(tmp_path / "dumps", quads, [])
    lines = sorted(set((ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").split(b"\n")) - {b""})

    def cut(lines: list[bytes]) -> list[bytes]:
        out, piece = [], []
        for line in lines:
            piece.append(line)
            if zlib.crc32(line) % 8 == 0:
                out.append(gzip.compress(b"\n".join(piece) + b"\n", mtime=0))
                piece = []
        return out + ([gzip.compress(b"\n".join(piece) + b"\n", mtime=0)] if piece else [])

    graphs = sorted({graph_of(q) for q in quads})
    by_graph = [cut([line for line in lines if line.endswith(f"<{g}> .".encode())]) for g in graphs]
    assert (tmp_path / "dumps" / NQ_DUMP).read_bytes() == b"".join(b"".join(members) for members in by_graph)
    assert [len(pieces[NQ_DUMP][g]["parts"]) for g in graphs] == [len(members) for members in by_graph]
    assert all(len(members) > 3 for members in by_graph)
    triples = (
        ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES) or b""
    )
    expected = cut(sorted(set(triples.split(b"\n")) - {b""}))
    assert (tmp_path / "dumps" / NT_DUMP).read_bytes() == b"".join(expected)
    assert len(pieces[NT_DUMP]) == len(expected) > 10


def rebuilt(tmp_path: Path, name: str, before: list[ox.Quad], after: list[ox.Quad], sources: list[SourceFile]) -> Path:
    """The dumps of `after` written from those of `before` and the difference, line by line."""
    _, pieces = write_dumps(tmp_path / f"{name}-before", before, sources)
    lines = {line: q for q in {*before, *after} for line in [dumps.statement_lines([q])[0]]}
    old = {dumps.statement_lines([q])[0] for q in before}
    new = {dumps.statement_lines([q])[0] for q in after}
    change = dumps.Previous(
        tmp_path / f"{name}-before", pieces, [lines[x] for x in new - old], [lines[x] for x in old - new]
    )
    files, pieces_after = write_dumps(tmp_path / name, [], sources, previous=change)
    assert (files, pieces_after) == write_dumps(tmp_path / f"{name}-full", after, sources)
    return tmp_path / name


def assert_same_files(one: Path, other: Path) -> None:
    for name in (NQ_DUMP, NT_DUMP, TTL_DUMP, "SHA256SUMS"):
        assert (one / name).read_bytes() == (other / name).read_bytes(), name


def test_a_rebuild_writes_the_dumps_a_full_build_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Statements added and removed here and there, a line removed from one of the two graphs stating it (it
    stays in N-Triples), one removed from both (it goes), a graph emptied, a new graph, a cut line removed and
    one added: the rebuild's bytes are a full build's, and so are the pieces it records."""
    monkeypatch.setattr(dumps, "PIECE_CUT", 8)
    source = tmp_path / "prefissi.ttl"
    source.write_text(f"@prefix ex: <{EX}> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n")
    sources = [SourceFile(source, f"{EX}graph/uno")]
    before = statements(400) + [
        ox.Quad(ox.NamedNode(f"{EX}cosa/sola"), LABEL, ox.Literal("sola"), ox.NamedNode(f"{EX}graph/quattro"))
    ]
    uno, due = (ox.NamedNode(f"{EX}graph/{g}") for g in ("uno", "due"))
    in_two = next(q for q in before if q.graph_name == due)  # the same triple is in graph/uno too
    in_both = [q for q in before if ox.Triple(q.subject, q.predicate, q.object) == in_two.triple]
    assert {q.graph_name for q in in_both} >= {uno, due}
    cut_lines = [q for q in before if zlib.crc32(dumps.statement_lines([q])[0]) % 8 == 0]
    added = [
        ox.Quad(ox.NamedNode(f"{EX}cosa/{n}"), LABEL, ox.Literal(f"nuova {n}", language="it"), graph)
        for n in range(0, 400, 37)
        for graph in (uno, ox.NamedNode(f"{EX}graph/cinque"))
    ]
    gone = {in_two, *in_both[-1:], cut_lines[0], *before[100:130], before[-1]}
    after = [q for q in before if q not in gone] + added
    assert in_two.triple in {q.triple for q in after}  # still in graph/uno
    folder = rebuilt(tmp_path, "rebuilt", before, after, sources)
    assert_same_files(folder, tmp_path / "rebuilt-full")
    ttl = set(ox.parse((folder / TTL_DUMP).read_bytes(), format=ox.RdfFormat.TURTLE))
    assert {q.triple for q in ttl} == {q.triple for q in after}
    rdflib_ttl = rdflib.Graph().parse(data=(folder / TTL_DUMP).read_bytes(), format="turtle")
    assert len(rdflib_ttl) == len({q.triple for q in after})
    # and back: the rebuild of the removals is the first release again
    assert_same_files(rebuilt(tmp_path, "back", after, before, sources), tmp_path / "back-full")
    assert_same_files(tmp_path / "back", tmp_path / "rebuilt-before")


@pytest.mark.parametrize("seed", range(6))
def test_random_changes_rebuild_to_the_full_dumps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    monkeypatch.setattr(dumps, "PIECE_CUT", 4 + seed)
    pick = random.Random(seed)
    everything = statements(150)
    before = pick.sample(everything, 200)
    after = [q for q in before if pick.random() > 0.1] + pick.sample(everything, 20 * seed)
    assert_same_files(rebuilt(tmp_path, "rebuilt", before, after, []), tmp_path / "rebuilt-full")
    assert_same_files(rebuilt(tmp_path, "emptied", before, [], []), tmp_path / "emptied-full")
    assert_same_files(rebuilt(tmp_path, "filled", [], after, []), tmp_path / "filled-full")


def test_the_turtle_pieces_are_one_document_with_blank_nodes_and_prefixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blank node named in several pieces is one node; rdflib and pyoxigraph read the triples written."""
    monkeypatch.setattr(dumps, "PIECE_CUT", 3)
    source = tmp_path / "prefissi.ttl"
    source.write_text(f"@prefix ex: <{EX}> .\n")
    graph = ox.NamedNode(f"{EX}graph/uno")
    node = ox.BlankNode("nodo")
    quads = [ox.Quad(ox.NamedNode(f"{EX}cosa/{n}"), ox.NamedNode(f"{EX}tiene"), node, graph) for n in range(40)]
    quads += [ox.Quad(node, LABEL, ox.Literal(f"nodo {n}"), graph) for n in range(40)]
    _, pieces = write_dumps(tmp_path / "dumps", quads, [SourceFile(source, graph.value)])
    text = (tmp_path / "dumps" / TTL_DUMP).read_bytes()
    assert len(pieces[TTL_DUMP]) > 5 and text.startswith(f"@prefix ex: <{EX}> .\n".encode())
    assert text.count(b"@prefix") == 1
    parsed = list(ox.parse(text, format=ox.RdfFormat.TURTLE))
    assert len(parsed) == len(quads) and len({q.object for q in parsed if q.predicate != LABEL}) == 1
    assert len({q.subject for q in parsed if q.predicate == LABEL}) == 1
    read = rdflib.Graph().parse(data=text, format="turtle")
    assert len(read) == len(quads) and len(set(read.objects(None, rdflib.URIRef(f"{EX}tiene")))) == 1


def test_a_small_change_rewrites_only_the_pieces_it_falls_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One statement added: a few members compressed and Turtle pieces serialised, not the dumps' hundred and fifty."""
    monkeypatch.setattr(dumps, "PIECE_CUT", 8)
    before = statements(400)
    written: list[bytes] = []
    compress = dumps._gzip_member
    monkeypatch.setattr(dumps, "_gzip_member", lambda text: written.append(text) or compress(text))
    _, pieces = write_dumps(tmp_path / "before", before, [])
    assert len(written) == sum(len(at["parts"]) for at in pieces[NQ_DUMP].values()) + len(pieces[NT_DUMP]) > 100
    new = ox.Quad(ox.NamedNode(f"{EX}cosa/7"), LABEL, ox.Literal("un'altra"), ox.NamedNode(f"{EX}graph/uno"))
    written.clear()
    write_dumps(tmp_path / "after", [], [], previous=dumps.Previous(tmp_path / "before", pieces, [new], []))
    assert 2 <= len(written) <= 6  # the graph's piece and the N-Triples piece (or the two a new cut makes)
    assert sum(b"un'altra" in text for text in written) == 2
    write_dumps(tmp_path / "full", [*before, new], [])
    assert_same_files(tmp_path / "after", tmp_path / "full")


def test_a_rebuild_whose_prefixes_changed_writes_the_turtle_of_a_full_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Turtle source declaring one more prefix: the kept N-Triples pieces' Turtle is written again with it."""
    monkeypatch.setattr(dumps, "PIECE_CUT", 8)
    source = tmp_path / "prefissi.ttl"
    source.write_text(f"@prefix ex: <{EX}> .\n")
    sources = [SourceFile(source, f"{EX}graph/uno")]
    before = statements(100)
    _, pieces = write_dumps(tmp_path / "before", before, sources)
    source.write_text(f"@prefix ex: <{EX}> .\n@prefix cosa: <{EX}cosa/> .\n")
    write_dumps(tmp_path / "after", [], sources, previous=dumps.Previous(tmp_path / "before", pieces, [], []))
    write_dumps(tmp_path / "full", before, sources)
    assert_same_files(tmp_path / "after", tmp_path / "full")
    assert b"cosa:1 " in (tmp_path / "after" / TTL_DUMP).read_bytes()


def test_a_graphs_lines_are_found_piece_by_piece(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GraphLines answers as the set of the graph's lines would: membership, count, lines by their start, even
    where those run over several pieces; it reads only the pieces asked about."""
    monkeypatch.setattr(dumps, "PIECE_CUT", 4)
    graph = ox.NamedNode(f"{EX}graph/uno")
    many = ox.NamedNode(f"{EX}cosa/molte")  # its lines run over several pieces
    quads = [ox.Quad(many, LABEL, ox.Literal(f"etichetta {n}"), graph) for n in range(60)]
    quads += [ox.Quad(ox.NamedNode(f"{EX}cosa/{n}"), LABEL, ox.Literal(f"cosa {n}"), graph) for n in range(60)]
    _, pieces = write_dumps(tmp_path / "dumps", quads, [])
    at = pieces[NQ_DUMP][graph.value]
    data = (tmp_path / "dumps" / NQ_DUMP).read_bytes()[at["offset"] : at["offset"] + at["length"]]
    lines = set(gzip.decompress(data).split(b"\n")[:-1])
    found = dumps.GraphLines(data, at)
    assert len(found) == len(lines) == 120 and len(at["parts"]) > 10
    assert all(line in found for line in lines) and not found.read.keys() ^ set(range(len(at["parts"])))
    found = dumps.GraphLines(data, at)
    assert b"<" + EX.encode() + b"cosa/molte> nulla" not in found and b"" not in found and b"\xff" not in found
    start = f"<{many.value}> <{LABEL.value}> ".encode()
    assert sorted(found.starting({start})) == sorted(line for line in lines if line.startswith(start))
    assert len(found.read) < len(at["parts"])  # the pieces of cosa/1... were not read
    assert list(dumps.GraphLines(None, None).starting({start})) == [] and len(dumps.GraphLines(None, None)) == 0
