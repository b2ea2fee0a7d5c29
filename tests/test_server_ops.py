"""Operations: /health, Prometheus /metrics, JSON access logs, errors in one negotiated shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import RELEASE_ID, LiveServer
from harvest_fixtures import wait_for

pytestmark = pytest.mark.server


def test_health(http: httpx.Client) -> None:
    body = http.get("/health").json()
    assert body["ok"] is True and body["release"] == RELEASE_ID and body["quads"] > 50


def test_metrics_count_requests_and_cache_hits(http: httpx.Client) -> None:
    r = http.get("/doc/network/rete-antiviolenza-asti.ttl")
    http.get("/doc/network/rete-antiviolenza-asti.ttl", headers={"If-None-Match": r.headers["etag"]})
    text = http.get("/metrics").text
    assert 'parita_http_requests_total{method="GET",route="doc",status="304"}' in text
    assert "parita_http_request_duration_seconds_bucket" in text
    hits = next(line for line in text.splitlines() if line.startswith("parita_http_cache_hits_total "))
    assert float(hits.split()[1]) >= 1
    for name in ("parita_sparql_queries_total", "parita_sparql_timeouts_total", "parita_gc_full_collections_total"):
        assert f"# TYPE {name} counter" in text


def test_startup_heap_is_kept_out_of_garbage_collections(http: httpx.Client) -> None:
    # The server froze its startup heap (server.app.settle_heap): full collections no longer walk it.
    text = http.get("/metrics").text
    frozen = next(line for line in text.splitlines() if line.startswith("parita_gc_frozen_objects "))
    assert float(frozen.split()[1]) > 10_000


def test_access_log_is_json(http: httpx.Client, live_server: LiveServer) -> None:
    http.get("/health", headers={"User-Agent": "parita-test"})

    def logged() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in live_server.log.read_text().splitlines() if line.startswith("{")]
        return [entry for entry in lines if entry["ua"] == "parita-test"]

    wait_for(lambda: bool(logged()), seconds=10)  # the server writes the line after the response has gone out
    mine = logged()
    assert mine and mine[-1]["path"] == "/health" and mine[-1]["status"] == 200 and mine[-1]["ms"] >= 0


@pytest.mark.parametrize(
    "accept, media_type", [("application/json", "application/json"), ("text/html", "text/html"), ("*/*", "text/plain")]
)
def test_error_shape(http: httpx.Client, accept: str, media_type: str) -> None:
    r = http.get("/no/such/page", headers={"Accept": accept})
    assert r.status_code == 404 and r.headers["content-type"].startswith(media_type)
    if media_type == "application/json":
        assert r.json() == {"ok": False, "status": 404, "title": "Not found", "error": r.json()["error"]}
