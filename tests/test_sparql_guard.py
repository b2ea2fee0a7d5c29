"""SERVICE and updates never reach the store. Unit tests of the guard (checked against pyoxigraph's own
parser, which does run SERVICE), then the live server with a loopback listener that must see nothing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest
from conftest import LiveServer

from server.errors import BadRequest, Forbidden
from server.guard import bare_syntax, inspect_query


@pytest.fixture()
def listener() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback TCP port that records every connection made to it."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            seen.append(b"connection")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/sparql", seen
    stop.set()
    thread.join(timeout=2)
    srv.close()


def evasions(url: str) -> list[str]:
    """SERVICE spellings that pyoxigraph's parser accepts (checked in test_evasions_parse)."""
    return [
        f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"select * {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ ?s ?p true\nSeRvIcE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ ?s ?p 1SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f'SELECT * {{ ?s ?p "x"SERVICE<{url}>{{ ?s ?p ?o }} }}',
        f"# comment\nSELECT * {{ BIND(<{url}> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
        f"SELECT * {{ {{ SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
    ]


def test_evasions_parse_and_are_refused(listener: tuple[str, list[bytes]]) -> None:
    url, _ = listener
    for query in evasions(url):
        try:
            ox.Store().query(query)
        except SyntaxError as exc:  # pragma: no cover - the list must only hold valid queries
            pytest.fail(f"pyoxigraph does not parse {query!r}: {exc}")
        except (OSError, RuntimeError):
            pass  # it tried the network: exactly why the guard exists
        with pytest.raises(Forbidden):
            inspect_query(query)


def test_codepoint_escapes_are_decoded_first() -> None:
    """SPARQL 1.1 §19.2 lets \\u escapes appear anywhere; pyoxigraph 0.5 rejects this one, but a parser
    that follows the spec would read SERVICE, so the guard refuses it too."""
    with pytest.raises(Forbidden):
        inspect_query("SELECT * { \\u0053ERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * { BIND("SERVICE <http://127.0.0.1:1/>" AS ?x) }',
        "SELECT * { ?s ?p ?o } # SERVICE <http://127.0.0.1:1/>",
        "SELECT ?service { ?service ?p ?o }",
        "SELECT * { ?s ?p <http://example.org/SERVICE> }",
    ],
)
def test_harmless_mentions_pass(query: str) -> None:
    assert inspect_query(query).form == "SELECT"


@pytest.mark.parametrize(
    "query",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "LOAD <http://127.0.0.1:1/x>",
        "PREFIX ex: <urn:x#> DELETE WHERE { ?s ?p ?o }",
        "CLEAR ALL",
        "DROP GRAPH <urn:g>",
    ],
)
def test_updates_in_query_are_400(query: str) -> None:
    with pytest.raises(BadRequest):
        inspect_query(query)


def test_forms_and_from() -> None:
    assert inspect_query("PREFIX select: <urn:x#> ASK { ?s ?p select:a }").form == "ASK"
    assert inspect_query('CONSTRUCT WHERE { ?s ?p "SELECT" }').form == "CONSTRUCT"
    assert inspect_query("SELECT * FROM <urn:g> { ?s ?p ?o }").has_from
    assert not inspect_query("SELECT ?from { ?from ?p ?o }").has_from
    assert bare_syntax('a "b # c" <d> # e\nf').split() == ["a", "f"]


@pytest.mark.server
def test_service_refused_by_server_and_nothing_connects(
    live_server: LiveServer, listener: tuple[str, list[bytes]]
) -> None:
    url, seen = listener
    for query in evasions(url):
        r = httpx.post(live_server.url + "/sparql", data={"query": query}, headers={"Accept": "application/json"})
        assert r.status_code == 403, (query, r.text)
        assert "SERVICE" in r.json()["error"]
    r = httpx.post(
        live_server.url + "/sparql", content=f"LOAD <{url}>", headers={"Content-Type": "application/sparql-update"}
    )
    assert r.status_code == 403 and "read-only" in r.text
    assert seen == [], "the server opened a connection to the SERVICE/LOAD target"


@pytest.mark.parametrize(
    "text, has_service",
    [
        ('"abc\\', False),
        ("'''x\\", False),
        ('SELECT "a\\"b" SERVICE', True),
        ('"""a""""b" c', False),
        ("'x\n SERVICE", True),
        ("# c\nSERVICE <u>", True),
        ('"""\n"\n"""SERVICE', True),
        ('"""SERVICE', True),
    ],
)
def test_bare_syntax_keeps_every_position(text: str, has_service: bool) -> None:
    # A SERVICE is found in the bare text and its target read at the same position of the original text.
    bare = bare_syntax(text)
    assert len(bare) == len(text)
    assert all(b in (" ", t) for b, t in zip(bare, text, strict=False))
    assert ("SERVICE" in bare) == has_service
