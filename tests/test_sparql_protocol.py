"""SPARQL endpoint behaviour beyond the shared checker: formats, errors, row cap, timeout, SD, CORS."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import LiveServer

from server.formats import CONSTRUCT_FORMATS, RESULT_FORMATS
from tools.reliability_kit import metric

pytestmark = pytest.mark.server
JSON = "application/sparql-results+json"
SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n1 ?o . ?q ?r ?t }"
RDFLIB = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
    "application/trig": "trig",
    "application/n-quads": "nquads",
}


def wait_until(condition: Callable[[], bool], limit: float, every: float = 0.05) -> bool:
    """Poll `condition` until it holds or `limit` seconds pass (a bounded wait on an observable event)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def count(http: httpx.Client) -> int:
    r = http.get(
        "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"}, headers={"Accept": JSON}
    )
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_select_every_result_format(http: httpx.Client, fmt: object) -> None:
    r = http.get("/sparql", params={"query": "SELECT ?s { ?s a ?t } LIMIT 3", "format": fmt.name})  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.headers["content-type"].startswith(fmt.media_type)  # type: ignore[attr-defined]
    assert "Accept" in r.headers["vary"].split(", ")


@pytest.mark.parametrize("fmt", CONSTRUCT_FORMATS, ids=lambda f: f.name)
def test_construct_every_graph_format(http: httpx.Client, fmt: object) -> None:
    query = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <https://w3id.org/parita/graph/territories> { ?s ?p ?o } }"
    r = http.get("/sparql", params={"query": query}, headers={"Accept": fmt.media_type})  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.headers["content-type"].startswith(fmt.media_type)  # type: ignore[attr-defined]
    if fmt.kind == "dataset":  # type: ignore[attr-defined]
        oxformat = ox.RdfFormat.from_media_type(fmt.media_type)  # type: ignore[attr-defined]
        assert len(list(ox.parse(r.content, format=oxformat))) == 4
    else:
        assert len(rdflib.Graph().parse(data=r.content, format=RDFLIB[fmt.media_type])) == 4  # type: ignore[attr-defined]


def test_406_lists_offered(http: httpx.Client) -> None:
    r = http.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text and "application/sparql-results+xml" in r.text


def test_syntax_error_has_position(http: httpx.Client) -> None:
    r = http.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"}, headers={"Accept": "application/json"})
    assert r.status_code == 400
    body = r.json()
    assert body["ok"] is False and "1:" in body["error"], body


@pytest.mark.parametrize(
    "kwargs, why",
    [
        ({"params": [("query", "ASK {}"), ("query", "ASK {}")]}, "2 `query` parameters"),
        ({"method": "POST", "content": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, "not accepted"),
        ({"method": "POST", "content": b"query=ASK%20%7B%7D"}, "Content-Type"),
        ({"method": "POST", "data": {"default-graph-uri": "urn:x"}}, "no `query`"),
    ],
)
def test_bad_requests_say_why(http: httpx.Client, kwargs: dict, why: str) -> None:  # type: ignore[type-arg]
    method = kwargs.pop("method", "GET")
    r = http.request(method, "/sparql", **kwargs)
    assert 400 <= r.status_code < 500 and why in r.text, r.text


def test_updates_refused_and_store_unchanged(http: httpx.Client) -> None:
    before = count(http)
    update = "INSERT DATA { GRAPH <urn:g> { <urn:s> <urn:p> <urn:o> } }"
    for r in (
        http.post("/sparql", data={"update": update}),
        http.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}),
        http.get("/sparql", params={"update": update}),
    ):
        assert r.status_code == 403 and "read-only" in r.text
    assert http.get("/sparql", params={"query": update}).status_code == 400
    assert count(http) == before


def test_row_cap_says_results_were_cut(http: httpx.Client, live_server: LiveServer) -> None:
    limit = live_server.settings.sparql_row_limit
    r = http.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, headers={"Accept": JSON})
    assert len(r.json()["results"]["bindings"]) == limit
    assert r.headers["x-parita-truncated"] == "true" and r.headers["x-parita-row-limit"] == str(limit)
    r = http.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 3"}, headers={"Accept": JSON})
    assert "x-parita-truncated" not in r.headers


def test_slow_query_times_out_while_ask_answers(live_server: LiveServer) -> None:
    url = live_server.url
    sent, timeouts = metric(url, "parita_sparql_queries_total"), metric(url, "parita_sparql_timeouts_total")
    restarts = metric(url, "parita_sparql_worker_restarts_total")
    slow: dict[str, httpx.Response] = {}

    def run_slow() -> None:
        slow["response"] = httpx.post(url + "/sparql", data={"query": SLOW}, timeout=60)

    thread = threading.Thread(target=run_slow)
    thread.start()
    # observable: the slow query has gone to a worker (the counter is increased before it is sent)
    assert wait_until(lambda: metric(url, "parita_sparql_queries_total") > sent, limit=30.0)
    ask = httpx.post(url + "/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": JSON}, timeout=60)
    assert ask.status_code == 200 and ask.json()["boolean"] is True
    assert thread.is_alive() and "response" not in slow, "ASK answered while the slow query still ran"
    thread.join(timeout=60)
    response = slow["response"]
    assert response.status_code == 503 and "cancelled" in response.text, response
    assert metric(url, "parita_sparql_timeouts_total") == timeouts + 1
    # the killed worker is replaced (bounded wait)
    assert wait_until(lambda: metric(url, "parita_sparql_worker_restarts_total") > restarts, limit=30.0)
    again = [
        httpx.post(live_server.url + "/sparql", data={"query": "ASK {}"}, headers={"Accept": JSON}) for _ in range(4)
    ]
    assert all(r.status_code == 200 for r in again)


def test_service_description_names_the_real_endpoint(http: httpx.Client, live_server: LiveServer) -> None:
    r = http.get("/sparql", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert set(g.objects(None, sd.endpoint)) == {rdflib.URIRef(live_server.url + "/sparql")}
    assert (None, sd.supportedLanguage, sd.SPARQL11Update) not in g


def test_cors_never_with_credentials(http: httpx.Client) -> None:
    r = http.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "http://evil.example", "Accept": JSON})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers


def test_get_results_are_cacheable(http: httpx.Client) -> None:
    r = http.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": JSON})
    again = http.get(
        "/sparql", params={"query": "ASK {}"}, headers={"Accept": JSON, "If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304


def test_volatile_queries_are_not_cached(http: httpx.Client) -> None:
    r = http.get("/sparql", params={"query": "SELECT (RAND() AS ?r) {}"}, headers={"Accept": JSON})
    assert r.status_code == 200 and "etag" not in r.headers
