"""The release dumps (scripts/dumps.py): every statement comes back from each dump, whatever its literals hold,
and a gzip member written a chunk of lines at a time is the one `gzip.compress` gives for the whole text.

The statements are fictitious and marked so (example.org IRIs)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest

from scripts import dumps
from scripts.dumps import write_dumps
from scripts.rdfio import graph_of
from server.formats import NQ_DUMP, NT_DUMP

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


def test_a_member_written_in_chunks_is_the_member_of_the_whole_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dumps' bytes must not depend on how a member was compressed: a rebuild copies old members beside
    new ones, and a fresh build of the same data must write the same file."""
    monkeypatch.setattr(dumps, "COMPRESS_CHUNK", 7)
    monkeypatch.setattr(dumps, "SERIALIZE_CHUNK", 11)
    monkeypatch.setattr(dumps, "READ_CHUNK", 64)  # the N-Triples merge reads each member in many pieces
    quads = statements(300)
    write_dumps(tmp_path / "dumps", quads, [])
    lines = sorted(
        {line.encode() for line in (ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").decode().split("\n")}
    )
    data = (tmp_path / "dumps" / NQ_DUMP).read_bytes()
    assert data == b"".join(
        gzip.compress(
            b"\n".join(line for line in lines if line.endswith(f"<{g}> .".encode())) + b"\n",
            mtime=0,
        )
        for g in sorted({graph_of(q) for q in quads})
    )
    triples = (
        ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES) or b""
    )
    expected = sorted(set(triples.split(b"\n")) - {b""})
    assert gzip.decompress((tmp_path / "dumps" / NT_DUMP).read_bytes()) == b"\n".join(expected) + b"\n"


def test_kept_members_give_the_same_dumps_as_the_statements(tmp_path: Path) -> None:
    quads = statements(120)
    files, pieces = write_dumps(tmp_path / "all", quads, [])
    data = {name: (tmp_path / "all" / name).read_bytes() for name in (NQ_DUMP, NT_DUMP)}
    members = {
        name: {key: data[name][at["offset"] : at["offset"] + at["length"]] for key, at in pieces[name].items()}
        for name in data
    }
    kept_graph = f"{EX}graph/due"
    kept = {NQ_DUMP: {kept_graph: members[NQ_DUMP][kept_graph]}, NT_DUMP: members[NT_DUMP]}
    rest = [q for q in quads if graph_of(q) != kept_graph]
    assert write_dumps(tmp_path / "kept", rest, [], kept=kept) == (files, pieces)
    for name in (*data, "parita.ttl", "SHA256SUMS"):
        assert (tmp_path / "kept" / name).read_bytes() == (tmp_path / "all" / name).read_bytes()
