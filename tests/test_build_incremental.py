"""Incremental validation (scripts/revalidate.py): after a change to some graphs, the findings equal a full
validation's, the release is the same, and anything unsure falls back to a full validation. Real pySHACL."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from scripts import build as build_module
from scripts import revalidate
from scripts.build import BuildError, build, rebase, validate_quads, validate_release
from scripts.sources import meta_graphs, read_sources, release_sources
from server.config import Settings
from tests.release_helpers import copy_build, copy_data, settings_for, tree_digest

ID = "https://w3id.org/parita/id/"
RDFS, ORG, PROV = "http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/ns/org#", "http://www.w3.org/ns/prov#"
PISA, ASTI, LUCCA, VOCAB = (
    "pisa-ufficio-pari-opportunita.ttl",
    "asti-pari-opportunita.ttl",
    "lucca-centro-pari-opportunita.ttl",
    "vocabularies.ttl",
)


def append(name: str, text: str):  # type: ignore[no-untyped-def]
    return lambda data: (data / name).write_text((data / name).read_text() + "\n" + text + "\n")


def replace(name: str, old: str, new: str):  # type: ignore[no-untyped-def]
    def change(data: Path) -> None:
        text = (data / name).read_text()
        assert old in text, f"{old!r} not in {name}: the test data moved"
        (data / name).write_text(text.replace(old, new, 1))

    return change


MUTATIONS = {
    "add a valid comment": append(PISA, f'<{ID}organization/provincia-di-pisa> <{RDFS}comment> "Nota di prova."@it .'),
    "change a label": replace(PISA, '"Provincia di Pisa"@it', '"Provincia di Pisa (PI)"@it'),
    "a label loses its Italian": replace(PISA, '"Provincia di Pisa"@it', '"Provincia di Pisa"@fr'),
    "remove a required property": replace(
        PISA,
        '    dct:publisher o:provincia-di-pisa ;\n    dct:identifier "004_9978baed6ea3f07d.txt" .',
        "    dct:publisher o:provincia-di-pisa .",
    ),
    # other graphs' posts and bodies classify themselves with this concept: they break, unchanged
    "retype a concept other graphs use": replace(
        VOCAB,
        f"<{ID}concept/equality-body-kind/consigliera-di-parita> a skos:Concept ;",
        f"<{ID}concept/equality-body-kind/consigliera-di-parita> a skos:Collection ;",
    ),
    "link another graph to a secret facility": append(
        PISA, f"<{ID}organization/provincia-di-pisa> <{ORG}hasSite> <{ID}facility/asl-at-posto-letto-segreto> ."
    ),
    # the office and the post reach the province's territory through org:unitOf / org:postIn
    "remove a territory up a chain": replace(PISA, "    parita:territory prov_:050 ;\n", ""),
    # a network of the (unchanged) Modena graph gains a membership: its warning goes (inverse path)
    "a membership from another graph": append(
        LUCCA,
        " ".join(
            [
                f"<{ID}membership/prova> a <{ORG}Membership> ; <{ORG}organization> <{ID}network/modena-tavolo-istituzionale-contro-la-violenza> ;",
                f"<{ORG}member> <{ID}organization/provincia-di-pisa> ; <{ORG}role> <{ID}concept/network-role/membro> ;",
                f"<{PROV}wasDerivedFrom> <{ID}source/lucca-centro-pari-opportunita> .",
            ]
        ),
    ),
    # the union does not change, but which graphs state the node does (a finding's `files`)
    "restate another graph's triple": append(PISA, f"<{ID}organization/asl-at> a <{ORG}FormalOrganization> ."),
    "describe another graph's node": append(PISA, f'<{ID}organization/provincia-di-asti> <{RDFS}label> "Asti"@fr .'),
}


def keys(findings) -> Counter:  # type: ignore[no-untyped-def]
    return Counter((f.focus_node, f.path, f.shape, f.severity, f.value, tuple(f.files)) for f in findings)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, built_data: Settings) -> Path:
    """A build of a copy of the real data (a copy of the session's build): its validation cache is where every
    mutation starts from."""
    tmp = tmp_path_factory.mktemp("baseline")
    copy_build(built_data, tmp, data_dir=copy_data(tmp))
    return tmp


def fork(baseline: Path, tmp: Path):  # type: ignore[no-untyped-def]
    shutil.copytree(baseline / "data", tmp / "data")
    shutil.copytree(baseline / "build" / "validation", tmp / "build" / "validation")
    return settings_for(tmp, data_dir=tmp / "data")


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_incremental_findings_equal_a_full_validation(baseline: Path, tmp_path: Path, mutation: str) -> None:
    settings = fork(baseline, tmp_path)
    MUTATIONS[mutation](settings.data_dir)
    quads = read_sources(release_sources(settings))
    said: list[str] = []
    report, _ = validate_quads(quads, settings, said.append)
    assert any("incrementally" in m for m in said), said  # not a fallback to a full validation
    full = validate_release(quads, settings)
    assert keys(report.findings) == keys(full.findings)
    assert report.conforms == full.conforms


def test_the_mutations_are_not_all_harmless(baseline: Path, tmp_path: Path) -> None:
    """Guard against a test that cannot fail: the mutations meant to break really break, elsewhere too."""
    settings = fork(baseline, tmp_path)
    MUTATIONS["retype a concept other graphs use"](settings.data_dir)
    report = validate_release(read_sources(release_sources(settings)), settings)
    assert any(PISA.removesuffix(".ttl") in " ".join(f.files) for f in report.violations)
    settings = fork(baseline, tmp_path / "facility")
    MUTATIONS["link another graph to a secret facility"](settings.data_dir)
    report = validate_release(read_sources(release_sources(settings)), settings)
    assert [f.focus_node for f in report.violations] == [f"{ID}facility/asl-at-posto-letto-segreto"]


def test_a_rebuild_is_incremental_and_publishes_what_a_full_build_does(baseline: Path, tmp_path: Path) -> None:
    settings = fork(baseline, tmp_path / "incremental")
    MUTATIONS["add a valid comment"](settings.data_dir)
    said: list[str] = []
    incremental = build(settings, said.append)
    data_graphs = len({s.graph for s in release_sources(settings)} - meta_graphs())
    assert any(m.startswith(f"re-validating 1 changed graph(s) of {data_graphs} incrementally") for m in said), said
    full_settings = settings_for(tmp_path / "full", data_dir=settings.data_dir)
    said.clear()
    full = build(full_settings, said.append, full_validation=True)
    assert any(m.startswith("full validation") for m in said)
    a, b = (json.loads((r / "release.json").read_text()) for r in (incremental, full))
    assert (a["dumps"], a["warnings"], a["triples"]) == (b["dumps"], b["warnings"], b["triples"])
    assert tree_digest(incremental / "dumps") == tree_digest(full / "dumps")
    assert not (incremental / "validation").exists(), "the cache is not part of a release"


def test_changed_shapes_are_never_validated_from_the_cache(baseline: Path, tmp_path: Path) -> None:
    shapes = tmp_path / "shapes"
    shutil.copytree(Path(build_module.__file__).parents[1] / "shapes", shapes)
    settings = fork(baseline, tmp_path)
    settings = settings_for(tmp_path, data_dir=settings.data_dir, shapes_dir=shapes)
    recommended = shapes / "parita-recommended.ttl"
    recommended.write_text(
        recommended.read_text().replace(
            # every plan has an approval date now; the Modena plans name no approving act (the seed cites none)
            "sh:targetClass parita:Protocol ;\n    sh:path dct:dateAccepted ;",
            "sh:targetClass parita:Protocol , parita:Plan ;\n    sh:path parita:approvedBy ;",
        )
    )
    MUTATIONS["add a valid comment"](settings.data_dir)
    said: list[str] = []
    report, _ = validate_quads(read_sources(release_sources(settings)), settings, said.append)
    assert any("full validation" in m and "shapes" in m for m in said), said
    assert any(f.shape.endswith("ProtocolDateAcceptedShape") and "/plan/" in f.focus_node for f in report.warnings)


def test_an_unreadable_cache_means_a_full_validation(baseline: Path, tmp_path: Path) -> None:
    settings = fork(baseline, tmp_path)
    for cached in (settings.build_dir / "validation" / "graphs").iterdir():
        cached.write_text("not n-quads <")
    MUTATIONS["change a label"](settings.data_dir)
    said: list[str] = []
    validate_quads(read_sources(release_sources(settings)), settings, said.append)
    assert any("full validation" in m and "unreadable" in m for m in said), said


def test_an_invalid_change_leaves_the_release_and_the_cache_untouched(
    baseline: Path, tmp_path: Path, built_data: Settings
) -> None:
    settings = copy_build(built_data, tmp_path, data_dir=copy_data(tmp_path))
    before = tree_digest(settings.build_dir)
    MUTATIONS["link another graph to a secret facility"](settings.data_dir)
    said: list[str] = []
    with pytest.raises(BuildError) as refused:
        build(settings, said.append)
    assert any("incrementally" in m for m in said), said
    assert [f.focus_node for f in refused.value.report.violations] == [f"{ID}facility/asl-at-posto-letto-segreto"]
    assert tree_digest(settings.build_dir) == before


@pytest.mark.parametrize("mutation", ["a membership from another graph", "remove a territory up a chain"])
def test_a_builds_cache_continues_on_its_release_store(baseline: Path, tmp_path: Path, mutation: str) -> None:
    """What a build saves (scripts/revalidate.py `save`) is what `validate_changes` continues from: the release's
    own store, copied and moved by the change, gives the findings of a full validation of the changed data."""
    settings = fork(baseline, tmp_path)
    release = (baseline / "build" / "current").resolve()
    before = read_sources(release_sources(settings))
    MUTATIONS[mutation](settings.data_dir)
    sources = release_sources(settings)
    after = read_sources(sources)
    added, removed = (
        rebase(sorted(a - b, key=str), settings.base_uri)
        for a, b in ((set(after), set(before)), (set(before), set(after)))
    )
    shutil.copytree(release / "store", tmp_path / "store")
    store = ox.Store(str(tmp_path / "store"))
    for quad in removed:
        store.remove(quad)
    store.extend(added)
    said: list[str] = []
    report = revalidate.validate_changes(
        store, added, removed, settings, build_module.validation_dir(settings), release.name, sources, said.append
    )
    assert report is not None and any("incrementally" in m for m in said), said
    full = validate_release(after, settings)
    assert keys(report.findings) == keys(full.findings) and report.findings != [] and report.conforms == full.conforms
    other = revalidate.validate_changes(
        store, added, removed, settings, build_module.validation_dir(settings), "another-release", sources, said.append
    )
    assert other is None and "not another-release" in said[-1], "a cache of another release is not continued"
