"""The caches a release's immutability allows: replayed responses and SPARQL results, bounded, per release."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from server.backends.cache import LRU, CachedRunner, ResponseCache
from server.query import Job, Outcome


@dataclass
class FakeRelease:
    id: str


@dataclass
class FakeServed:
    release: FakeRelease


class FakeRuntime:
    def __init__(self) -> None:
        self.served_ = FakeServed(FakeRelease("r1"))

    async def served(self) -> FakeServed:
        return self.served_


def counting_app(calls: list[str]) -> Starlette:
    async def doc(request: Request) -> Response:
        calls.append(request.headers.get("accept", ""))
        return PlainTextResponse(
            f"body for {request.headers.get('accept')} #{len(calls)}",
            headers={"Cache-Control": "public, max-age=60", "ETag": '"e1"'},
        )

    async def private(request: Request) -> Response:
        calls.append("private")
        return PlainTextResponse("no", headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route("/doc", doc), Route("/private", private)])


def test_response_cache_replays_by_accept_and_forgets_on_a_new_release() -> None:
    calls: list[str] = []
    runtime = FakeRuntime()
    app = ResponseCache(counting_app(calls), runtime)
    with TestClient(app) as client:  # type: ignore[arg-type]
        first = client.get("/doc", headers={"Accept": "text/turtle"})
        again = client.get("/doc", headers={"Accept": "text/turtle"})
        assert again.text == first.text and again.headers["ETag"] == '"e1"' and calls == ["text/turtle"]
        client.get("/doc", headers={"Accept": "text/html"})
        assert calls == ["text/turtle", "text/html"]  # another representation is another entry
        client.get("/doc", headers={"Accept": "text/turtle", "If-None-Match": '"e1"'})
        assert len(calls) == 3  # conditional requests go to the app
        client.get("/private")
        client.get("/private")
        assert calls.count("private") == 2  # no-store is never replayed
        runtime.served_ = FakeServed(FakeRelease("r2"))
        client.get("/doc", headers={"Accept": "text/turtle"})
        assert len(calls) == 6  # a new release starts empty


def test_lru_is_bounded_by_entries_and_bytes() -> None:
    lru = LRU(max_entries=2, max_bytes=10)
    lru.put("a", 1, 4)
    lru.put("b", 2, 4)
    lru.put("c", 3, 4)
    assert lru.get("a") is None and lru.get("c") == 3 and lru.bytes <= 10
    lru.put("huge", 4, 11)
    assert lru.get("huge") is None


class CountingRunner:
    def __init__(self) -> None:
        self.calls = 0
        self.stats: Any = None

    async def start(self) -> None: ...
    async def close(self) -> None: ...

    async def run(self, job: Job) -> Outcome:
        self.calls += 1
        return Outcome(body=b"x", rows=1)


def test_result_cache_skips_volatile_queries() -> None:
    inner = CountingRunner()
    runner = CachedRunner(inner)

    async def go() -> None:
        for _ in range(3):
            await runner.run(Job(query="SELECT * { ?s ?p ?o }", format="json"))
        for _ in range(2):
            await runner.run(Job(query="SELECT (NOW() AS ?t) {}", format="json"))

    asyncio.run(go())
    assert inner.calls == 1 + 2


def test_label_cache_is_bounded_and_still_answers(monkeypatch: Any) -> None:
    import pyoxigraph as ox

    from server import store as store_module
    from server.store import DataStore

    monkeypatch.setattr(store_module, "LABEL_CACHE_ENTRIES", 5)
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    raw = ox.Store()
    iris = [f"urn:x:{i}" for i in range(12)]
    raw.extend(
        [ox.Quad(ox.NamedNode(i), label, ox.Literal(f"L{i}", language="it"), ox.NamedNode("urn:g")) for i in iris]
    )
    data = DataStore(raw)
    got = data.labels(iris)  # more than the cache holds, in one call
    assert [got[i][0][1].value for i in iris] == [f"L{i}" for i in iris]
    assert len(data._label_cache) == 5
    assert data.label_pairs(iris[0])[0][1].value == f"L{iris[0]}"  # evicted, looked up again


def test_the_app_answers_from_the_release_the_response_cache_read() -> None:
    """The cache files an answer under the release it read; the views read that same release (web.served_for),
    even when the runtime has switched by the time they ask."""
    from server.web import served_for

    class SwitchingRuntime(FakeRuntime):
        async def served(self) -> FakeServed:  # each call finds a newer release
            self.served_ = FakeServed(FakeRelease(self.served_.release.id + "+"))
            return self.served_

    runtime = SwitchingRuntime()

    async def doc(request: Request) -> Response:
        served: Any = await served_for(request)
        return PlainTextResponse(served.release.id, headers={"Cache-Control": "no-store"})

    inner = Starlette(routes=[Route("/doc", doc)])
    inner.state.runtime = runtime
    with TestClient(ResponseCache(inner, runtime)) as client:  # type: ignore[arg-type]
        assert client.get("/doc").text == "r1+"  # the cache's read, not a second one ("r1++")
        assert client.get("/doc", headers={"If-None-Match": '"x"'}).text == "r1++"  # not cached: the view's own read
