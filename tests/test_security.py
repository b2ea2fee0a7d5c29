"""Secure defaults (issue 6), in process: security headers, CORS, error bodies without internals, the OpenAPI
schema, odd request targets, body limits, SERVICE allow-list and nesting limit, hostile RDF screening."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from scripts.rdfio import UnreadableInput, read_quads
from scripts.rdfscreen import MAX_DEPTH, HostileInput, screen
from server.app import create_app
from server.config import Settings
from server.errors import Forbidden, PublisherError, QueryTimeout, ServiceUnavailable, StoreError, public
from server.guard import MAX_NESTING, BadRequest, inspect_query, parse_allowlist
from server.security import odd_target


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("secret detail /home/someone/build/releases/x")

    async def store_boom() -> None:
        raise StoreError("Cannot load /srv/parita/build/releases/x/dumps/parita.nq.gz: disk on fire")

    app.add_api_route("/-/test-boom", boom, methods=["POST"])
    app.add_api_route("/-/test-store-boom", store_boom, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_html_has_a_local_only_csp_and_the_other_headers(client: TestClient) -> None:
    r = client.get("/", headers={"Accept": "text/html"})
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp and "*" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"


def test_data_responses_are_nosniff_and_sandboxed(client: TestClient) -> None:
    r = client.get("/catalog", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]


def test_cors_never_allows_credentials(client: TestClient) -> None:
    r = client.get("/catalog", headers={"Origin": "https://attacker.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    pre = client.options(
        "/sparql", headers={"Origin": "https://attacker.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-credentials" not in pre.headers


def test_cached_answers_carry_the_same_security_and_cors_headers(client: TestClient) -> None:
    # The response cache replays answers outside the CORS and security middleware: a hit must carry
    # what those layers added to the miss, and an answer stored for a CORS request must not be replayed
    # to a request without Origin (and the other way round).
    path = "/doc/network/rete-antiviolenza-asti"
    for origin in ({"Origin": "https://portal.example"}, {}):
        first, second = (client.get(path, headers={"Accept": "text/html", **origin}) for _ in range(2))
        assert first.status_code == second.status_code == 200
        for name in ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options", "etag"):
            assert second.headers[name] == first.headers[name], name
        assert ("access-control-allow-origin" in second.headers) == bool(origin)
        assert second.headers.get("access-control-allow-origin") == first.headers.get("access-control-allow-origin")


@pytest.mark.parametrize("accept", ["application/json", "text/plain", "text/html"])
def test_a_bug_answers_500_without_trace_or_path(client: TestClient, accept: str) -> None:
    for path in ("/-/test-boom", "/-/test-store-boom"):
        r = client.post(path, headers={"Accept": accept})
        assert r.status_code == 500
        for leak in ("Traceback", "/home/", "/srv/", "secret", "disk on fire", "RuntimeError", ".py"):
            assert leak not in r.text, (path, leak)


def test_public_keeps_4xx_and_503_messages_but_blanks_addresses() -> None:
    assert public(Forbidden("no SERVICE")).message == "no SERVICE"
    assert public(QueryTimeout("ran longer than 3 s")).message == "ran longer than 3 s"
    away = public(ServiceUnavailable("The store at http://10.1.2.3:7878/query is away (see /var/log/x.log)."))
    assert "10.1.2.3" not in away.message and "/var/log" not in away.message and away.status == 503
    assert "/srv" not in public(StoreError("Cannot load /srv/x")).message


def test_openapi_describes_the_public_routes_only(client: TestClient) -> None:
    spec = client.get("/-/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert {"/sparql", "/id/{path}", "/doc/{path}", "/catalog", "/.well-known/void", "/dumps/", "/health"} <= set(
        spec["paths"]
    )
    assert not any("submission" in p or "admin" in p or "metrics" in p for p in spec["paths"])
    assert {"get", "post"} <= set(spec["paths"]["/sparql"])


def test_submission_route_is_absent_without_a_token(client: TestClient) -> None:
    r = client.post("/-/submissions/someone", files={"files": ("a.ttl", b"")})
    assert r.status_code in (404, 405)


def test_submission_route_needs_the_token_when_set(settings: Settings) -> None:
    from dataclasses import replace

    with TestClient(create_app(replace(settings, submission_token="s3cret-token"))) as c:
        assert c.post("/-/submissions/someone", files={"files": ("a.ttl", b"")}).status_code == 401
        wrong = c.post(
            "/-/submissions/someone", files={"files": ("a.ttl", b"")}, headers={"Authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        assert not any("submission" in p for p in c.get("/-/openapi.json").json()["paths"])


@pytest.mark.parametrize(
    "raw",
    [
        b"/dumps/../release.json",
        b"/dumps/..%2Frelease.json",
        b"/static/%2e%2e/app.py",
        b"/id/%00",
        b"/doc/a%0d%0aX: y",
        b"/id/%FF%FE",
        b"/doc/a%20b",
        b"/doc/a%C2%8D",
        b"/static/..%5Capp.css",
        b"/id/" + b"a" * 3000,
    ],
)
def test_odd_targets_are_refused_before_routing(raw: bytes) -> None:
    refusal = odd_target({"raw_path": raw, "path": ""})
    assert refusal is not None and refusal.status in (400, 414)


@pytest.mark.parametrize(
    "raw",
    [
        b"/doc/organization/provincia-di-asti",
        b"/sparql",
        b"/doc/caf%C3%A9",
        b"/dumps/parita.ttl",
        b"/doc/x%2Fy",
        b"/static/app.css",
    ],
)
def test_ordinary_targets_pass(raw: bytes) -> None:
    assert odd_target({"raw_path": raw, "path": ""}) is None


def test_body_over_the_limit_is_413_in_the_error_shape(client: TestClient, settings: Settings) -> None:
    big = b"#" * (settings.max_body_bytes + 1)
    r = client.post(
        "/sparql", content=big, headers={"Content-Type": "application/sparql-query", "Accept": "application/json"}
    )
    assert r.status_code == 413 and r.json()["status"] == 413
    chunked = client.post(
        "/sparql",
        content=iter([big[:1000], big[1000:]]),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/json"},
    )
    assert chunked.status_code == 413


def test_service_allowlist_admits_exactly_the_named_endpoints() -> None:
    allowed = parse_allowlist("https://query.wikidata.org/sparql, <https://example.org/sparql>")
    assert allowed == {"https://query.wikidata.org/sparql", "https://example.org/sparql"}
    assert (
        inspect_query("SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }", allowed).form == "SELECT"
    )
    refused = [
        "SELECT * { SERVICE <https://query.wikidata.org/sparql2> { ?s ?p ?o } }",
        "SELECT * { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }",
        "PREFIX w: <https://query.wikidata.org/> SELECT * { SERVICE w:sparql { ?s ?p ?o } }",
        "SELECT * { BIND(<https://query.wikidata.org/sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        "SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } SERVICE <http://10.0.0.1/> {} }",
        "SELECT * { SERVICE <https://query.wikidata.org/\\u0073parql> { ?s ?p ?o } }",
    ]
    for query in refused:
        with pytest.raises(Forbidden):
            inspect_query(query, allowed)
    with pytest.raises(Forbidden):  # the default: nothing allowed
        inspect_query("SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }", "")


def test_nesting_limit_refuses_what_would_overflow_the_parser() -> None:
    ok = "SELECT * WHERE " + "{ " * MAX_NESTING + "?s ?p ?o" + " }" * MAX_NESTING
    assert inspect_query(ok).form == "SELECT"
    list(ox.Store().query(ok))  # pyoxigraph parses what the guard lets through
    for text in (
        "SELECT * WHERE " + "{ SELECT * WHERE " * 5000 + "{ ?s ?p ?o }" + " }" * 5000,
        "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }",
    ):
        with pytest.raises(BadRequest):
            inspect_query(text)
    assert inspect_query('SELECT * { ?s ?p "' + "{" * 5000 + '" }').form == "SELECT"  # brackets in strings


def _rdfxml(dtd: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [{dtd}]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        f' xmlns:ex="http://example.org/"><rdf:Description rdf:about="http://example.org/a"><ex:p>{body}</ex:p>'
        f"</rdf:Description></rdf:RDF>"
    ).encode()


LAUGHS = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
HOSTILE_RDF = {
    "billion laughs": (_rdfxml(LAUGHS, "&l9;"), ox.RdfFormat.RDF_XML),
    "external file": (_rdfxml('<!ENTITY x SYSTEM "file:///etc/passwd">', "&x;"), ox.RdfFormat.RDF_XML),
    "parameter entity": (_rdfxml('<!ENTITY % x SYSTEM "http://127.0.0.1:1/x"> %x;', ""), ox.RdfFormat.RDF_XML),
    "quadratic blowup": (_rdfxml(f'<!ENTITY a "{"x" * 50_000}">', "&a;" * 100), ox.RdfFormat.RDF_XML),
    "deep XML": (b"<r>" * (MAX_DEPTH + 1) + b"</r>" * (MAX_DEPTH + 1), ox.RdfFormat.RDF_XML),
    "deep JSON-LD": (b'{"http://example.org/p": ' * 20_000 + b"1" + b"}" * 20_000, ox.RdfFormat.JSON_LD),
}


@pytest.mark.parametrize("name", list(HOSTILE_RDF))
def test_hostile_rdf_is_refused_quickly(name: str) -> None:
    data, syntax = HOSTILE_RDF[name]
    started = time.monotonic()
    with pytest.raises(HostileInput):
        screen(data, syntax)
    assert time.monotonic() - started < 5  # bound, generous: the unscreened billion laughs took 53 s


def test_plain_entities_and_ordinary_json_ld_pass() -> None:
    screen(_rdfxml('<!ENTITY owl "http://www.w3.org/2002/07/owl#">', "&owl;Thing"), ox.RdfFormat.RDF_XML)
    screen(
        json.dumps({"@id": "http://example.org/a", "http://example.org/p": [{"@value": "[{"}]}).encode(),
        ox.RdfFormat.JSON_LD,
    )


def test_read_quads_reports_the_refusal_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "laughs.rdf"
    path.write_bytes(HOSTILE_RDF["billion laughs"][0])
    with pytest.raises(UnreadableInput, match="nested entities"):
        read_quads(path)


def test_http_errors_outside_routes_keep_the_error_shape(client: TestClient) -> None:
    r = client.get("/doc/a%20b", headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.json()["ok"] is False
    assert r.headers["x-content-type-options"] == "nosniff"


def test_publisher_error_subclasses_keep_their_status() -> None:
    assert public(PublisherError("x")).status == 500
