"""The `parita reliability` checks, each as a test with small sizes, against `parita serve` (the production
path: guarded h11 protocol, limits) on loopback over the fixture release. Speed figures are printed by
`parita reliability`; here only bounds (configured timeout + a generous margin) are asserted."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import write_release

from server.config import Settings
from tools import reliability
from tools import reliability_checks as checks
from tools import reliability_faults as faults
from tools import reliability_load as load
from tools.engines import EngineUnavailable, start_oxigraph
from tools.reliability_kit import Check, Listener, Server

pytestmark = pytest.mark.server
TIMEOUT = 2.0
ENV = {
    "PARITA_SPARQL_TIMEOUT": str(TIMEOUT),
    "PARITA_REQUEST_TIMEOUT": "3",
    "PARITA_SPARQL_WORKERS": "2",
    "PARITA_SPARQL_ROW_LIMIT": "50",
    "PARITA_SPARQL_PER_CLIENT": "1000",
    "PARITA_MAX_CLIENT_CONNECTIONS": "2000",
}
# (the flood checks come from one client on purpose, as in `parita reliability`)


def passed(found: Check | list[Check]) -> None:
    for check in found if isinstance(found, list) else [found]:
        assert check.ok, check.line() + " | " + check.detail


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    build_dir = tmp_path_factory.mktemp("reliability-build")
    write_release(build_dir)
    with Server(build_dir, build_dir.parent / "serve.log", dict(ENV)) as server:
        yield server


def test_secure_defaults(served: Server) -> None:
    passed(checks.secure_defaults(served))


def test_load_mixes_hold_without_errors(served: Server) -> None:
    passed(load.load_check(served, "dereference", load.dereference_mix(served), connections=8, seconds=1.5))
    passed(load.load_check(served, "SPARQL", load.sparql_mix(served), connections=8, seconds=1.5))


@pytest.mark.parametrize(
    "name",
    [
        "cartesian product",
        "unbounded property path",
        "huge OFFSET",
        "OFFSET past 2^64",
        "catastrophic regex",
        "10,000 nested subqueries",
        "10,000 nested groups",
    ],
)
def test_hostile_query_ends_clearly_within_the_bound(served: Server, name: str) -> None:
    passed(checks.hostile_queries(served, TIMEOUT, [name]))


def test_big_query_text_is_413(served: Server) -> None:
    passed(checks.big_query_text(served, size=3_000_000))


def test_parallel_slow_queries_end_and_the_server_stays_up(served: Server) -> None:
    passed(checks.parallel_slow_queries(served, TIMEOUT, n=300))


def test_service_and_load_never_connect(served: Server) -> None:
    passed(checks.ssrf_queries(served))


def test_hostile_files_to_validate_and_ingest(tmp_path: Path, served: Server) -> None:
    passed(checks.hostile_files(tmp_path / "hostile", tmp_path / "build"))


def test_odd_uris_never_reach_a_file(served: Server) -> None:
    passed(checks.odd_uris(served))


def test_body_limit(served: Server) -> None:
    passed(checks.body_limits(served, Settings().max_body_bytes))


def test_slow_clients_are_dropped(served: Server) -> None:
    passed(checks.slow_clients(served, request_timeout=3.0))


def test_service_allowlist_on_the_server(tmp_path: Path) -> None:
    """Federation with a named endpoint only: SERVICE to it goes out; to anything else it is refused."""
    write_release(tmp_path / "build")
    with Listener() as allowed, Listener() as other:
        env = {**ENV, "PARITA_SERVICE_ALLOWLIST": allowed.url}
        with Server(tmp_path / "build", tmp_path / "serve.log", env) as server:
            post = lambda q: httpx.post(server.url + "/sparql", data={"query": q}, timeout=30)  # noqa: E731
            refused = post(f"SELECT * {{ SERVICE <{other.url}> {{ ?s ?p ?o }} }}")
            post(f"SELECT * {{ SERVICE SILENT <{allowed.url}> {{ ?s ?p ?o }} }}")
    assert refused.status_code == 403
    assert other.connections == 0
    assert allowed.connections >= 1


@pytest.fixture(scope="module")
def real_build(tmp_path_factory: pytest.TempPathFactory, built_data: Settings) -> Iterator[tuple[Path, Server]]:
    """A release built from data/ by `scripts.build` (a copy of the session's build: the faults rebuild it),
    served by `parita serve`."""
    from tests.release_helpers import copy_build

    build_dir = copy_build(built_data, tmp_path_factory.mktemp("faults")).build_dir
    with Server(build_dir, build_dir.parent / "serve.log", dict(ENV)) as server:
        yield build_dir, server


def test_kill_9_during_build_keeps_the_previous_release(real_build: tuple[Path, Server]) -> None:
    build_dir, server = real_build
    cmd = [sys.executable, "-m", "scripts.cli", "build"]
    passed(faults.kill_during("build", cmd, build_dir, server, (0.3, 0.8)))


def test_kill_9_during_ingest_keeps_the_previous_release(real_build: tuple[Path, Server]) -> None:
    build_dir, server = real_build
    cmd = [sys.executable, "-m", "scripts.cli", "ingest", "--publisher", "reliability-test", *map(str, faults.CUNEO)]
    passed(faults.kill_during("ingest", cmd, build_dir, server, (0.4, 0.9)))
    assert faults.contributions_consistent(build_dir, "reliability-test")
    assert not list(build_dir.glob(".tmp-ingest-*")), "a killed ingest's candidate folder was left behind"


def test_remote_store_away_and_publish_killed(real_build: tuple[Path, Server], tmp_path: Path) -> None:
    build_dir, _ = real_build
    try:
        engine = start_oxigraph(tmp_path / "oxigraph")
    except EngineUnavailable as exc:
        pytest.skip(f"OXIGRAPH NOT AVAILABLE, remote-store checks skipped: {exc}")
    try:
        args = reliability._args(["--kills", "2"])
        found = reliability._remote_store_checks_on(engine, args, tmp_path, build_dir)
    finally:
        engine.stop()
    passed(found)


def test_cli_is_registered() -> None:
    from scripts.cli import COMMANDS

    assert "reliability" in COMMANDS
