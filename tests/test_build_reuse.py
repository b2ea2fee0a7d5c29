"""A rebuild starts from the previous release and redoes only the graphs whose inputs changed
(scripts/build.py `_rewrite_store`): its store, dumps, statistics, changelog and LDES digests must be exactly what a
full build of the same inputs publishes, and anything that does not line up means a full build.

The changes are fictitious and marked so: a label of a real entity changed, and a temporary file stating a
new organization (its org:subOrganizationOf reaches graph/entailed, so the derived graphs' difference is exercised too).
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from scripts import build as build_module
from scripts import derive, ldes_build
from scripts.build import LARGE_CHANGE, PIECES_FILE, build, write_store, write_store_from
from scripts.dumps import write_dumps
from scripts.harvest import Refused, _gunzip
from scripts.releases import roll_back
from server import release as lifecycle
from server.config import Settings
from server.ldes import ENTITIES_FILE, STREAM_DIR, VERSION_OF, read_index
from server.stats import compute, update
from server.store import DataStore
from tests.release_helpers import copy_build, copy_data, settings_for, tree_digest

ID = "https://w3id.org/parita/id/"
PISA = "pisa-ufficio-pari-opportunita.ttl"
TEMPORARY_FILE = "zz-test-riuso.ttl"
TEMPORARY = f"{ID}organization/test-riuso-temporanea"
LABEL, NEW_LABEL = '"Provincia di Pisa"@it', '"Provincia di Pisa (etichetta fittizia, per i test)"@it'


def change(data: Path) -> None:
    text = (data / PISA).read_text()
    assert LABEL in text, "the test data moved"
    (data / PISA).write_text(text.replace(LABEL, NEW_LABEL, 1))
    (data / TEMPORARY_FILE).write_text(
        f'<{TEMPORARY}> <http://www.w3.org/2000/01/rdf-schema#label> "Ente temporaneo (fittizio, per i test)"@it ;\n'
        f"  <http://www.w3.org/ns/org#subOrganizationOf> <{ID}organization/provincia-di-pisa> .\n"
    )


def undo(data: Path) -> None:
    (data / PISA).write_text((data / PISA).read_text().replace(NEW_LABEL, LABEL, 1))
    (data / TEMPORARY_FILE).unlink()


def rebuild(settings: Settings) -> tuple[Path, list[str]]:
    said: list[str] = []
    return build(settings, said.append), said


def reused(said: list[str]) -> bool:
    return any("reusing the others" in m for m in said)


def store_quads(release: Path) -> set[ox.Quad]:
    store = ox.Store.read_only(str(release / "store"))
    try:
        return set(store)
    finally:
        del store


def published(release: Path) -> dict[str, object]:
    """Everything a release publishes that does not depend on when it was built."""
    manifest = json.loads((release / "release.json").read_text())
    return {
        "dumps": tree_digest(release / "dumps"),
        "stats": (release / "stats.json").read_text(),
        "pieces": (release / PIECES_FILE).read_text(),
        "manifest": {k: v for k, v in manifest.items() if k not in ("id", "created")},
        "entity digests": (release / STREAM_DIR / ENTITIES_FILE).read_text(),
    }


def new_versions(release: Path) -> set[str]:
    """The entities the release's own LDES pages carry a version of."""
    index = read_index(release)
    assert index is not None
    out = set()
    for page in index.pages:
        if page.id.startswith(release.name + "/"):
            text = (release / STREAM_DIR / page.file).read_bytes()
            out |= {
                t.object.value for t in ox.parse(text, format=ox.RdfFormat.N_TRIPLES) if t.predicate.value == VERSION_OF
            }
    return out


def assert_same_as_a_full_computation(release: Path, previous: Path, tmp: Path) -> None:
    """The changelog and the LDES versions the reusing build wrote are those computed from every statement."""
    quads = lifecycle.read_dump(release)
    full_log = lifecycle.changelog(previous, quads)
    log = json.loads((release / "changelog.json").read_text())
    assert log == json.loads(json.dumps(full_log))
    work = tmp / f"{lifecycle.TMP_PREFIX}{release.name}"
    work.mkdir(parents=True)
    ldes_build.write_stream(work, previous, sorted(quads, key=str), "2026-01-01T00:00:00+00:00", Settings().base_uri)
    assert (work / STREAM_DIR / ENTITIES_FILE).read_text() == (release / STREAM_DIR / ENTITIES_FILE).read_text()
    full_pages = (work / STREAM_DIR / "pages" / release.name).rglob("*")
    full_versions = {
        t.object.value
        for page in full_pages
        if page.is_file()
        for t in ox.parse(page.read_bytes(), format=ox.RdfFormat.N_TRIPLES)
        if t.predicate.value == VERSION_OF
    }
    assert new_versions(release) == full_versions


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory, built_data: Settings) -> tuple[Settings, Path]:
    """A build of a copy of data/ (a copy of the session's build, tests/conftest.py): the tests change both."""
    tmp = tmp_path_factory.mktemp("reuse")
    settings = copy_build(built_data, tmp, data_dir=copy_data(tmp))
    return settings, settings.current_release.resolve()


def test_a_rebuild_reuses_the_previous_release_and_publishes_what_a_full_build_does(
    first: tuple[Settings, Path], tmp_path: Path
) -> None:
    settings, original = first
    untouched = tree_digest(original)
    change(settings.data_dir)
    changed, said = rebuild(settings)
    assert reused(said), said
    full = build(settings_for(tmp_path / "full", data_dir=settings.data_dir))
    assert published(changed) == published(full)
    assert store_quads(changed) == store_quads(full)
    assert_same_as_a_full_computation(changed, original, tmp_path)
    log = json.loads((changed / "changelog.json").read_text())
    assert [e["iri"] for e in log["entities"]["added"]] == [TEMPORARY]
    assert f"{ID}organization/provincia-di-pisa" in {e["iri"] for e in log["entities"]["changed"]}
    assert log["graphs"]["https://w3id.org/parita/graph/entailed"]["added"] > 0  # the derived graphs moved too
    assert tree_digest(original) == untouched, "the previous release must stay as it was"

    # and back: the entity goes, the label returns, and the release is the first one again
    undo(settings.data_dir)
    restored, said = rebuild(settings)
    assert reused(said), said
    assert published(restored) == published(original)
    assert store_quads(restored) == store_quads(original)
    assert_same_as_a_full_computation(restored, changed, tmp_path / "back")
    log = json.loads((restored / "changelog.json").read_text())
    assert [e["iri"] for e in log["entities"]["removed"]] == [TEMPORARY]


def test_without_what_to_reuse_a_rebuild_is_full_and_the_same(
    first: tuple[Settings, Path], tmp_path: Path, built_data: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(first[0].data_dir, tmp_path / "data")
    settings = copy_build(built_data, tmp_path, data_dir=tmp_path / "data")  # a build of data/
    (settings.current_release / PIECES_FILE).unlink()  # a release built before parita kept its pieces
    change(settings.data_dir)
    rebuilt, said = rebuild(settings)
    assert not reused(said), said
    assert published(rebuilt) == published(build(settings_for(tmp_path / "full", data_dir=settings.data_dir)))
    undo(settings.data_dir)
    assert reused(rebuild(settings)[1])  # the full build kept its pieces: the next one reuses them

    change(settings.data_dir)
    rules = tmp_path / "rules.ttl"  # a changed rule file: the previous derived graphs cannot be moved by the change
    rules.write_text("# another rule\n")
    with monkeypatch.context() as patched:
        patched.setattr(derive, "RULE_FILES", (*derive.RULE_FILES, rules))
        assert not reused(rebuild(settings)[1]), "other derivation rules: nothing is reused"
    undo(settings.data_dir)

    moved = Settings(build_dir=settings.build_dir, data_dir=settings.data_dir, base_uri="https://example.org/parita/")
    change(settings.data_dir)
    assert not reused(rebuild(moved)[1]), "another base URI changes every IRI: nothing is reused"


def test_a_change_larger_than_a_rebuild_follows_is_built_in_full_and_the_same(
    first: tuple[Settings, Path], tmp_path: Path, built_data: Settings
) -> None:
    """A new file of more statements than 1/LARGE_CHANGE of the release (a publisher's first harvest) is built in
    full, not followed statement by statement, and publishes what a fresh full build does."""
    shutil.copytree(first[0].data_dir, tmp_path / "data")
    settings = copy_build(built_data, tmp_path, data_dir=tmp_path / "data")
    statements = json.loads((settings.current_release / "release.json").read_text())["quads"]
    many = statements // LARGE_CHANGE + 10
    (settings.data_dir / TEMPORARY_FILE).write_text(
        "".join(
            f'<{ID}organization/provincia-di-pisa> <http://www.w3.org/2000/01/rdf-schema#comment> "Nota {n} (fittizia, per i test)"@it .\n'
            for n in range(many)
        )
    )
    rebuilt, said = rebuild(settings)
    assert not reused(said), said
    assert any("a full build" in m for m in said), said
    assert published(rebuilt) == published(build(settings_for(tmp_path / "full", data_dir=settings.data_dir)))


def test_counts_moved_by_a_change_are_the_counts_of_the_new_store() -> None:
    """server/stats.py `update` against `compute`, on changes that move every count up and down, including
    two forms of one literal (the store keeps one) and a triple stated in two graphs."""
    base, xsd = "https://w3id.org/parita/", "http://www.w3.org/2001/XMLSchema#"
    a, label, count = (
        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
        ox.NamedNode(base + "ontology#count"),
    )
    org, network, membership = (ox.NamedNode(f"{ID}{k}/prova") for k in ("organization", "network", "membership"))
    kind = ox.NamedNode("http://www.w3.org/ns/org#Organization")
    g1, g2 = ox.NamedNode(base + "graph/uno"), ox.NamedNode(base + "graph/due")
    node = ox.BlankNode("f1b0")

    def quads(*rows: tuple[object, ...]) -> set[ox.Quad]:
        return {ox.Quad(*row) for row in rows}  # type: ignore[arg-type]

    shared = quads((org, label, ox.Literal("Prova", language="it"), g1), (network, a, kind, g2))
    old = shared | quads(
        (org, a, kind, g1),
        (org, a, kind, g2),
        (org, count, ox.Literal("01", datatype=ox.NamedNode(xsd + "integer")), g1),
        (org, count, ox.Literal("1", datatype=ox.NamedNode(xsd + "integer")), g1),
        (membership, a, kind, g1),
        (node, label, ox.Literal("vuoto"), g1),
    )
    new = shared | quads(
        (org, a, kind, g2),
        (org, count, ox.Literal("1", datatype=ox.NamedNode(xsd + "integer")), g1),
        (network, a, ox.NamedNode("http://www.w3.org/ns/org#OrganizationalCollaboration"), g1),
        (network, label, ox.Literal("Rete di prova", language="it"), g2),
    )
    stores = []
    for statements in (old, new):
        store = ox.Store()
        store.extend(statements)
        stores.append(store)
    before, after = (compute(DataStore(store), base) for store in stores)
    assert before != after
    assert update(before, stores[0], stores[1], old ^ new, base) == after
    assert update(after, stores[1], stores[0], old ^ new, base) == before


def test_a_store_moved_by_a_difference_holds_what_a_new_store_would(tmp_path: Path) -> None:
    """Two forms of one literal: the store keeps one, so removing "01" must not take the kept "1" with it."""
    graph = ox.NamedNode("https://w3id.org/parita/graph/uno")
    thing, count = ox.NamedNode(f"{ID}organization/prova"), ox.NamedNode("https://w3id.org/parita/ontology#count")
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    one, zero_one, two = (ox.Literal(v, datatype=integer) for v in ("1", "01", "2"))
    old = [ox.Quad(thing, count, one, graph), ox.Quad(thing, count, zero_one, graph)]
    new = [ox.Quad(thing, count, one, graph), ox.Quad(thing, count, two, graph)]
    previous = tmp_path / "previous"
    previous.mkdir()
    write_store(previous / "store", old)
    _, pieces = write_dumps(previous / "dumps", old, [])
    dump = build_module.PreviousDump(previous, pieces)
    added, removed = build_module.graph_changes(dump, {graph.value}, new)
    assert removed == {old[1]} and added == {new[1]}
    changed, alike, really_added, really_removed = build_module.real_changes(dump, added, removed)
    assert changed == [graph.value] and alike == {old[0]}  # "1" is put back: removing "01" takes it with it
    assert (really_added, really_removed) == (added, removed)
    delta = build_module.Delta(previous, added, removed, set(), alike, changed, pieces)
    write_store_from(tmp_path / "store", previous, delta)
    fresh = ox.Store()
    fresh.extend(new)
    assert set(ox.Store.read_only(str(tmp_path / "store"))) == set(fresh)


def test_a_rebuild_after_a_rollback_starts_from_the_rolled_back_release(
    first: tuple[Settings, Path], tmp_path: Path, built_data: Settings
) -> None:
    shutil.copytree(first[0].data_dir, tmp_path / "data")
    settings = copy_build(built_data, tmp_path, data_dir=tmp_path / "data")  # a build of data/
    change(settings.data_dir)
    changed = build(settings)
    roll_back(settings)  # the first release's content again, the inputs still changed
    again, said = rebuild(settings)
    assert reused(said) and again != changed, said
    assert published(again) == published(changed)
    assert store_quads(again) == store_quads(changed)


def test_a_dump_of_many_gzip_members_is_read_whole_by_the_harvester(first: tuple[Settings, Path]) -> None:
    """The gzipped dumps are a series of members; `parita harvest` must read them all, not the first graph."""
    for name in ("parita.nq.gz", "parita.nt.gz"):
        data = (first[1] / "dumps" / name).read_bytes()
        whole = gzip.decompress(data)
        assert data.count(b"\x1f\x8b\x08") > 1  # several members
        assert _gunzip(data, len(whole), name) == whole
        with pytest.raises(Refused):
            _gunzip(data, len(whole) - 1, name)


CONTRIBUTION = "test-righe"  # a fictitious publisher's contribution (build/contributions/<ID>.nq)
NODE = f"{ID}organization/test-righe"
LABEL_P, COMMENT_P = "http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2000/01/rdf-schema#comment"
SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"


def contribution_lines(graph: str) -> list[str]:
    """A contribution of a fictitious organization: one IRI, two blank nodes it points at."""
    return [
        f'<{NODE}> <{LABEL_P}> "Ente delle righe (fittizio, per i test)"@it <{graph}> .',
        f'<{NODE}> <{COMMENT_P}> "Prima riga"@it <{graph}> .',
        f'<{NODE}> <{COMMENT_P}> "Seconda riga"@it <{graph}> .',
        f"<{NODE}> <{SEE_ALSO}> _:uno <{graph}> .",
        f'_:uno <{LABEL_P}> "Nodo uno"@it <{graph}> .',
        f"<{NODE}> <{SEE_ALSO}> _:due <{graph}> .",
        f'_:due <{LABEL_P}> "Nodo due"@it <{graph}> .',
    ]


def test_changed_contribution_lines_blank_nodes_and_literal_forms_rebuild_as_a_full_build(
    first: tuple[Settings, Path], tmp_path: Path, built_data: Settings
) -> None:
    """A contribution changed by a few lines is read by those lines only; a change to a line with a blank node
    reads it whole; blank nodes renamed by an insertion in a data file, and a typed literal in a form the store
    does not keep ("01"^^xsd:integer), give what a full build gives too."""
    shutil.copytree(first[0].data_dir, tmp_path / "data")
    settings = copy_build(built_data, tmp_path, data_dir=tmp_path / "data")
    contribution = settings.build_dir / "contributions" / f"{CONTRIBUTION}.nq"
    contribution.parent.mkdir(exist_ok=True)
    graph = f"https://w3id.org/parita/graph/publisher/{CONTRIBUTION}"
    lines = contribution_lines(graph)
    steps = 0

    def step(expect_read: int | None) -> Path:
        """A rebuild, checked against a full build of the same inputs and a full changelog and LDES."""
        nonlocal steps
        steps += 1
        previous = settings.current_release.resolve()
        rebuilt, said = rebuild(settings)
        assert reused(said), said
        if expect_read is not None:
            assert any(m.startswith(f"read {expect_read} statements") for m in said), said
        full_settings = settings_for(tmp_path / f"full{steps}", data_dir=settings.data_dir)
        shutil.copytree(contribution.parent, full_settings.build_dir / "contributions")
        full = build(full_settings)
        assert published(rebuilt) == published(full)
        assert store_quads(rebuilt) == store_quads(full)
        assert_same_as_a_full_computation(rebuilt, previous, tmp_path / f"computed{steps}")
        return rebuilt

    contribution.write_text("\n".join(lines) + "\n")
    step(None)  # a new graph: read whole
    assert (settings.current_release / "contributions" / f"{CONTRIBUTION}.nq").read_text() == contribution.read_text()

    lines[0] = lines[0].replace("Ente delle righe", "Ente delle righe cambiate")  # one statement changed
    del lines[2]  # one removed
    lines.insert(1, f'<{NODE}> <{COMMENT_P}> "Riga aggiunta"@it <{graph}> .')  # one added
    contribution.write_text("\n".join(lines) + "\n")
    log = json.loads((step(4) / "changelog.json").read_text())  # 2 lines gone, 2 new: only those are read
    assert log["triples"] == {"added": 2, "removed": 2}
    assert [e["iri"] for e in log["entities"]["changed"]] == [NODE]

    lines.insert(0, f'_:zero <{LABEL_P}> "Nodo zero"@it <{graph}> .')  # a blank node first: every name moves
    lines.insert(0, f"<{NODE}> <{SEE_ALSO}> _:zero <{graph}> .")
    contribution.write_text("\n".join(lines) + "\n")
    step(len(lines))  # a changed line names a blank node: the file is read whole

    data_file = settings.data_dir / "zz-test-nodi.ttl"
    data_file.write_text(
        f'<{TEMPORARY}> <{LABEL_P}> "Ente dei nodi (fittizio, per i test)"@it ;\n'
        f'  <{SEE_ALSO}> [ <{LABEL_P}> "Nodo A"@it ], [ <{LABEL_P}> "Nodo B"@it ] ;\n'
        f'  <https://w3id.org/parita/ontology#test> "01"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    )
    step(None)
    assert '"as_stored": false' in (settings.current_release / PIECES_FILE).read_text()
    data_file.write_text(
        f'<{TEMPORARY}> <{SEE_ALSO}> [ <{LABEL_P}> "Nodo primo"@it ] .\n'
        f'<{TEMPORARY}> <{LABEL_P}> "Ente dei nodi (fittizio, per i test)"@it ;\n'
        f'  <{SEE_ALSO}> [ <{LABEL_P}> "Nodo A"@it ], [ <{LABEL_P}> "Nodo B, cambiato"@it ] ;\n'
        f'  <https://w3id.org/parita/ontology#test> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    )
    step(None)  # the blank nodes' names moved, "01" removed and "1" added: one statement in the store
    assert '"as_stored": true' in (settings.current_release / PIECES_FILE).read_text()
