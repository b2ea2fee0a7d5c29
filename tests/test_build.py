"""`parita build`: a validated release switched to atomically; bad input changes nothing."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from scripts import build as build_module
from scripts.build import BuildError, build
from scripts.rdfio import UnreadableInput
from server.config import Settings
from tests.release_helpers import copy_build, copy_data, settings_for, tree_digest

BAD_ACT = """
@prefix parita: <https://w3id.org/parita/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<https://w3id.org/parita/id/act/broken> a parita:Act ;
    rdfs:label "Atto senza numero, data ed ente"@it ;
    prov:wasDerivedFrom <https://w3id.org/parita/id/source/asti-pari-opportunita> .
"""


@pytest.fixture(scope="module")
def release(built_data: Settings) -> Path:
    """The session's build of data/ (tests/conftest.py), read only."""
    return built_data.current_release.resolve()


def test_release_holds_store_dumps_checksums_and_manifest(release: Path) -> None:
    manifest = json.loads((release / "release.json").read_text())
    assert manifest["id"] == release.name
    assert (release.parent.parent / "current").resolve() == release.resolve()
    for name, info in manifest["dumps"].items():
        data = (release / "dumps" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"]
        assert f"{info['sha256']}  {name}" in (release / "dumps" / "SHA256SUMS").read_text()


def test_every_source_is_its_own_named_graph(release: Path) -> None:
    manifest = json.loads((release / "release.json").read_text())
    graphs = manifest["graphs"]
    data_files = sorted(p.name for p in (Path(__file__).parents[1] / "data").glob("*.ttl"))
    assert sorted(Path(g["file"]).name for g in graphs.values() if g["file"].startswith("data/")) == data_files
    assert all(info["triples"] > 0 for info in graphs.values())


def test_dumps_hold_every_statement_of_the_store(release: Path) -> None:
    store = ox.Store.read_only(str(release / "store"))
    in_store = len(store)
    nquads = gzip.decompress((release / "dumps" / "parita.nq.gz").read_bytes()).decode().splitlines()
    assert len(nquads) == in_store
    reparsed = list(ox.parse((release / "dumps" / "parita.ttl").read_bytes(), format=ox.RdfFormat.TURTLE))
    ntriples = gzip.decompress((release / "dumps" / "parita.nt.gz").read_bytes()).decode().splitlines()
    assert len(reparsed) == len(ntriples) <= in_store
    assert not list(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), "the default graph must stay empty"


def test_manifest_counts_match_the_store(release: Path) -> None:
    manifest = json.loads((release / "release.json").read_text())
    stats = json.loads((release / "stats.json").read_text())
    store = ox.Store.read_only(str(release / "store"))
    assert manifest["quads"] == stats["quads"] == len(store) == sum(stats["graphs"].values())
    assert manifest["triples"] == stats["triples"] <= len(store)  # distinct triples of the merge
    assert manifest["entities"] == stats["entities"] > 0


def test_dumps_are_reproducible(tmp_path: Path, release: Path) -> None:
    again = build(settings_for(tmp_path))
    manifest_a = json.loads((release / "release.json").read_text())["dumps"]
    manifest_b = json.loads((again / "release.json").read_text())["dumps"]
    assert manifest_a == manifest_b


def test_invalid_data_is_refused_and_the_release_stays_byte_identical(tmp_path: Path, built_data: Settings) -> None:
    data = copy_data(tmp_path)
    settings = copy_build(built_data, tmp_path, data_dir=data)  # a build of data/, as `build(settings)` makes
    before = tree_digest(settings.build_dir)
    (data / "broken.ttl").write_text(BAD_ACT)
    with pytest.raises(BuildError) as refused:
        build(settings)
    assert tree_digest(settings.build_dir) == before
    broken = [f for f in refused.value.report.violations if f.focus_node.endswith("/act/broken")]
    assert broken and all(f.messages.get("it") and f.messages.get("en") for f in broken)
    assert build_module.main([], settings=settings) == 1
    assert tree_digest(settings.build_dir) == before


def test_unreadable_data_is_refused_with_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], built_data: Settings
) -> None:
    data = copy_data(tmp_path)
    settings = copy_build(built_data, tmp_path, data_dir=data)
    before = tree_digest(settings.build_dir)
    text = (data / "asti-pari-opportunita.ttl").read_text()
    (data / "asti-pari-opportunita.ttl").write_text(text[: len(text) // 2])
    with pytest.raises(UnreadableInput) as error:
        build(settings)
    assert error.value.line is not None and error.value.column is not None
    assert build_module.main([], settings=settings) == 2
    assert "asti-pari-opportunita.ttl:" in capsys.readouterr().err
    assert tree_digest(settings.build_dir) == before


def test_a_build_killed_half_way_leaves_nothing_served(tmp_path: Path, built_data: Settings) -> None:
    settings = copy_build(built_data, tmp_path)
    first = settings.current_release.resolve()
    abandoned = settings.build_dir / "releases" / ".tmp-20000101T000000Z"
    (abandoned / "store").mkdir(parents=True)
    half_switched = settings.build_dir / ".tmp-current-99999"
    half_switched.symlink_to(abandoned)
    second = build(settings, force=True)
    assert not abandoned.exists()
    assert not half_switched.is_symlink()
    assert settings.current_release.resolve() == second.resolve() != first.resolve()


def test_current_switches_with_a_rename_not_a_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built_data: Settings
) -> None:
    settings = copy_build(built_data, tmp_path)
    calls = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append((Path(a).name, Path(b).name)), real_replace(a, b)))
    build(settings, force=True)
    assert calls and calls[-1][1] == "current"


def test_canonical_base_is_a_setting(tmp_path: Path) -> None:
    release = build(settings_for(tmp_path, base_uri="http://data.example.org/po/"))
    store = ox.Store.read_only(str(release / "store"))
    iris = {q.subject.value for q in store if isinstance(q.subject, ox.NamedNode)}
    assert "http://data.example.org/po/id/organization/provincia-di-asti" in iris
    assert not any(iri.startswith("https://w3id.org/parita/") for iri in iris)
    assert json.loads((release / "release.json").read_text())["base_uri"] == "http://data.example.org/po/"


def test_old_releases_are_pruned_but_current_kept(tmp_path: Path, built_data: Settings) -> None:
    settings = copy_build(built_data, tmp_path, keep_releases=2)  # PARITA_KEEP_RELEASES; one release already
    built = [settings.current_release.resolve()] + [build(settings, force=True) for _ in range(2)]
    kept = sorted((settings.build_dir / "releases").iterdir())
    assert kept == built[1:]


def test_a_full_disk_is_its_own_exit_code_and_changes_nothing(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes every write past 8 kB fail with EFBIG, as a full disk would fail with ENOSPC."""
    import resource
    import signal
    import subprocess
    import sys

    from tests.release_helpers import PROJECT_ROOT, tree_digest
    from tools.processes import clean_env

    build_dir = tmp_path / "build"
    env = clean_env({"PARITA_BUILD_DIR": str(build_dir)})
    first = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "build", "--quiet"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == 0, first.stderr
    before = tree_digest(build_dir)

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024, 8 * 1024))

    second = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "build", "--quiet", "--full-validation", "--force"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=small_files,
    )
    assert second.returncode == 3, (second.returncode, second.stderr[-2000:])
    assert "COULD NOT WRITE" in second.stderr
    assert tree_digest(build_dir) == before
