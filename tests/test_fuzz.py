"""Fuzzing (issue 6): schemathesis from the server's own OpenAPI schema, and hypothesis-made Accept headers,
URIs and query parameters, against `parita serve` on loopback. No 5xx, no stack trace, answers as described.
Examples are derandomised so a run is repeatable; `parita reliability --examples N` runs more."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import write_release

from tools import reliability_fuzz as fuzz
from tools.reliability_kit import Check, Server

pytestmark = pytest.mark.server
pytest.importorskip("schemathesis", reason="schemathesis is in the test extra: pip install -e '.[test]'")
pytest.importorskip("hypothesis", reason="hypothesis is in the test extra: pip install -e '.[test]'")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    build_dir = tmp_path_factory.mktemp("fuzz-build")
    write_release(build_dir)
    env = {"PARITA_SPARQL_TIMEOUT": "3", "PARITA_SPARQL_ROW_LIMIT": "50"}
    with Server(build_dir, build_dir.parent / "serve.log", env) as server:
        yield server


def passed(check: Check) -> None:
    assert check.ok, check.line() + " | " + check.detail


def test_schemathesis_against_the_openapi_schema(served: Server) -> None:
    passed(fuzz.schemathesis_check(served, examples=25))


def test_hypothesis_accept_headers_uris_and_parameters(served: Server) -> None:
    passed(fuzz.hypothesis_check(served, examples=60))
