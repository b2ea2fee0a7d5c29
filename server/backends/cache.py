"""Caches that are legitimate because a release never changes: SPARQL results and negotiated responses.

Both are bounded (entries and bytes) and forget everything when the served release changes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..query import VOLATILE, Job, Outcome
from ..store import QueryRunner

MAX_BODY = 1 << 20


class LRU:
    """A least-recently-used map bounded by entry count and total size of the values' bodies."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._data: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any:
        item = self._data.get(key)
        if item is None:
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return item[1]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        if size > self.max_bytes:
            return
        old = self._data.pop(key, None)
        if old is not None:
            self.bytes -= old[0]
        self._data[key] = (size, value)
        self.bytes += size
        while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
            _, (gone, _) = self._data.popitem(last=False)
            self.bytes -= gone

    def clear(self) -> None:
        self._data.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)


class CachedRunner:
    """Answers a repeated query from memory; everything else goes to the wrapped runner (one per release)."""

    def __init__(self, inner: QueryRunner, max_entries: int = 2048, max_bytes: int = 64 << 20) -> None:
        self.inner = inner
        self.cache = LRU(max_entries, max_bytes)

    @property
    def stats(self) -> Any:
        return self.inner.stats

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def run(self, job: Job) -> Outcome:
        if VOLATILE.search(job.query):
            return await self.inner.run(job)
        hit = self.cache.get(job)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        outcome = await self.inner.run(job)
        if outcome.error in (None, "syntax") and len(outcome.body) <= MAX_BODY:
            self.cache.put(job, outcome, len(outcome.body) + len(job.query))
        return outcome


@dataclass(slots=True)
class _Stored:
    """A stored answer as flat tuples of bytes, which the garbage collector stops tracking: thousands of
    entries would otherwise be tens of thousands of dicts and lists that every full collection walks."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def start(self) -> Message:
        return {"type": "http.response.start", "status": self.status, "headers": list(self.headers)}


#: Where a request's ASGI state keeps the release it is answered from (read by `web.served_for`): the response
#: cache sets it to the release its entries belong to, so what it stores was made from that very release.
PINNED_RELEASE = "parita.served"


class ResponseCache:
    """ASGI middleware: replays public, cacheable GET/HEAD responses of the current release from memory.

    The key is method, scheme, Host, path, query string, Accept and Accept-Language (the app's `Vary`;
    scheme and Host because a few answers, like the Service Description, name the URL they were asked at),
    and whether the request has an `Origin` (CORS headers answer only those). Conditional and authorised
    requests go through to the app, which answers 304 itself. Placed right inside the access log and outside
    the CORS and security middleware: a stored answer carries their headers, so a hit skips them.
    """

    def __init__(self, app: ASGIApp, runtime: Any, max_entries: int = 20000, max_bytes: int = 128 << 20) -> None:
        self.app = app
        self.runtime = runtime
        self.cache = LRU(max_entries, max_bytes)
        self._release: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        accept = lang = host = b""
        origin = False
        for name, value in scope["headers"]:
            if name in (b"if-none-match", b"if-modified-since", b"authorization", b"range", b"cookie"):
                await self.app(scope, receive, send)
                return
            if name == b"accept":
                accept = value
            elif name == b"accept-language":
                lang = value
            elif name == b"host":
                host = value
            elif name == b"origin":
                origin = True
        try:
            served = await self.runtime.served()
        except Exception:  # noqa: BLE001 - let the app answer (and report) whatever is wrong
            await self.app(scope, receive, send)
            return
        if served.release.id != self._release:
            self.cache.clear()
            self._release = served.release.id
        scope.setdefault("state", {})[PINNED_RELEASE] = served
        key = (scope["method"], scope.get("scheme"), host, scope["path"], scope["query_string"], accept, lang, origin)
        hit: _Stored | None = self.cache.get(key)
        if hit is not None:
            await send(hit.start())
            await send({"type": "http.response.body", "body": hit.body, "more_body": False})
            return
        release = self._release
        state: dict[str, Any] = {"start": None, "chunks": [], "size": 0, "ok": True}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["start"] = message
                state["ok"] = message["status"] in (200, 301, 303) and _public(message)
            elif message["type"] == "http.response.body" and state["ok"]:
                body = message.get("body", b"")
                state["size"] += len(body)
                if state["size"] > MAX_BODY:
                    state["ok"], state["chunks"] = False, []
                else:
                    state["chunks"].append(body)
                if not message.get("more_body", False) and state["ok"] and release == self._release:
                    data = b"".join(state["chunks"])
                    start = state["start"]
                    headers = tuple((bytes(k), bytes(v)) for k, v in start.get("headers", ()))
                    self.cache.put(key, _Stored(start["status"], headers, data), len(data) + 512)
            await send(message)

        await self.app(scope, receive, capture)


def _public(start: Message) -> bool:
    for name, value in start.get("headers", []):
        if name.lower() == b"cache-control":
            text = value.decode("latin-1").lower()
            return "public" in text and "no-store" not in text and "private" not in text
    return False
