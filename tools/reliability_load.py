"""Load at a fixed concurrency: keep-alive connections on a small asyncio HTTP/1.1 client (cheaper than a
general client, so the figures are the server's, not the load generator's), for a bounded time."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from tools.reliability_kit import Check, Server

ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    examples: list[str] = field(default_factory=list)

    def pct(self, p: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(p * len(data)))] * 1000 if data else 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if m := _LENGTH.search(head):
        await reader.readexactly(int(m.group(1)))
    elif b"chunked" in head.lower():
        while (size := int((await reader.readline()).strip() or b"0", 16)) > 0:
            await reader.readexactly(size + 2)
        await reader.readline()
    return status


async def _connection(port: int, requests: itertools.cycle[bytes], deadline: float, tally: Tally) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            request = next(requests)
            started = time.monotonic()
            writer.write(request)
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
                tally.errors += 1
                tally.examples.append(f"{request[:60]!r}: {exc!r}")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            tally.latencies.append(time.monotonic() - started)
            if status >= 400:
                tally.errors += 1
                if len(tally.examples) < 5:
                    tally.examples.append(f"{request[:80]!r} -> {status}")
    finally:
        writer.close()


def run_load(port: int, requests: list[bytes], connections: int, seconds: float) -> tuple[Tally, float]:
    """`connections` keep-alive connections cycling through `requests` for `seconds`."""
    tally = Tally()

    async def main() -> float:
        deadline = time.monotonic() + seconds
        started = time.monotonic()
        await asyncio.gather(
            *(
                _connection(port, itertools.cycle(requests[i:] + requests[:i]), deadline, tally)
                for i in range(connections)
            )
        )
        return time.monotonic() - started

    return tally, asyncio.run(main())


def _get(path: str, accept: str = "*/*") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n\r\n".encode()


def _post_query(query: str) -> bytes:
    body = query.encode()
    return (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + ACCEPT.encode() + b"\r\n"
        b"Content-Type: application/sparql-query\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


def dereference_mix(server: Server, things: int = 40) -> list[bytes]:
    """303s, documents in four formats, VoID and the catalog, over things listed in the sitemap."""
    sitemap = httpx.get(server.url + "/sitemap.xml", timeout=30).text
    docs = [p for p in re.findall(r"<loc>https?://[^/]+(/doc/[^<]+)</loc>", sitemap)][:things]
    mix = []
    for doc in docs:
        mix += [
            _get("/id/" + doc[len("/doc/") :]),
            _get(doc, "text/turtle"),
            _get(doc, "application/ld+json"),
            _get(doc + ".html"),
            _get(doc + ".nt"),
        ]
    return mix + [_get("/.well-known/void", "text/turtle"), _get("/catalog", "application/rdf+xml"), _get("/health")]


def sparql_mix(server: Server, things: int = 40) -> list[bytes]:
    """Label look-ups, counts, ASK and CONSTRUCT: half by POST (never cached), half by GET."""
    sitemap = httpx.get(server.url + "/sitemap.xml", timeout=30).text
    iris = [server_iri(p) for p in re.findall(r"<loc>https?://[^/]+/doc/([^<]+)</loc>", sitemap)][:things]
    queries = []
    for iri in iris:
        queries += [
            f"SELECT ?l WHERE {{ <{iri}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}",
            f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}",
        ]
    queries += [
        "SELECT ?c (COUNT(*) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n) LIMIT 10",
        "ASK { ?s ?p ?o }",
    ]
    mix = []
    for i, q in enumerate(queries):
        mix.append(_post_query(q) if i % 2 == 0 else _get("/sparql?query=" + quote(q), ACCEPT))
    return mix


def server_iri(doc_tail: str, base: str = "https://w3id.org/parita/") -> str:
    return base + "id/" + doc_tail


def load_check(server: Server, name: str, requests: list[bytes], connections: int, seconds: float) -> Check:
    tally, elapsed = run_load(server.port, requests, connections, seconds)
    n = len(tally.latencies)
    ok = n > 0 and tally.errors == 0
    return Check(
        "load",
        f"{name} mix, {connections} connections, {seconds:g} s",
        ok,
        f"{n} requests, {tally.errors} errors, p50 {tally.pct(0.5):.1f} ms, p99 {tally.pct(0.99):.1f} ms, "
        f"{n / elapsed:.0f} req/s",
        "; ".join(tally.examples[:5]),
    )
