"""Checks against a running server: hostile queries, SSRF, odd URIs, body limits and slow clients."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server.config import PROJECT_ROOT
from tools.processes import clean_env
from tools.reliability_kit import (
    MARGIN,
    Check,
    Listener,
    Server,
    get_raw,
    health_probe,
    metric,
    raw_request,
)

JSON = {"Accept": "application/sparql-results+json"}
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
HOSTILE = {
    "cartesian product": CARTESIAN,
    "unbounded property path": "SELECT (COUNT(*) AS ?n) WHERE { ?a (<urn:x:p>|!<urn:x:p>)* ?b . ?c (!<urn:x:q>)+ ?d }",
    "huge OFFSET": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } OFFSET 1000000000000",
    "OFFSET past 2^64": "SELECT * WHERE { ?s ?p ?o } OFFSET 99999999999999999999999999",
    "catastrophic regex": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
    'FILTER(REGEX(CONCAT(STR(?c), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), "^(a+)+$")) }',
    "regex size bomb": 'SELECT * WHERE { ?s ?p ?o FILTER(REGEX(STR(?o), "((a{1000}){1000}){1000}")) } LIMIT 1',
    "10,000 nested subqueries": "SELECT * WHERE " + "{ SELECT * WHERE " * 10_000 + "{ ?s ?p ?o }" + " }" * 10_000,
    "10,000 nested groups": "SELECT * WHERE " + "{ " * 10_000 + "?s ?p ?o" + " }" * 10_000,
}


def _post(url: str, query: str, timeout: float) -> tuple[int, float, httpx.Response | None]:
    started = time.monotonic()
    try:
        r = httpx.post(
            url + "/sparql",
            content=query.encode(),
            timeout=timeout,
            headers={**JSON, "Content-Type": "application/sparql-query"},
        )
    except httpx.HTTPError:
        return 0, time.monotonic() - started, None
    return r.status_code, time.monotonic() - started, r


def hostile_queries(server: Server, sparql_timeout: float, names: list[str] | None = None) -> list[Check]:
    """Each hostile query ends within the bound, as a timeout (503 + Retry-After), a limit (400/413) or a
    (cut) answer, while /health keeps answering; the server is still up afterwards."""
    bound = sparql_timeout + MARGIN
    checks = []
    for name in names or list(HOSTILE):
        with health_probe(server.url, bound=2.0) as probe:
            status, spent, r = _post(server.url, HOSTILE[name], bound + 30)
        clear = status in (200, 400, 413) or (status == 503 and r is not None and "retry-after" in r.headers)
        ok = clear and spent <= bound and probe.ok and server.alive()
        checks.append(
            Check(
                "hostile query",
                name,
                ok,
                f"{status} in {spent:.2f} s (bound {bound:g} s); {probe.text()}",
                (r.text[:200] if r is not None else "no answer"),
            )
        )
    return checks


def big_query_text(server: Server, size: int = 10_000_000) -> Check:
    """A query text of `size` bytes, posted directly and as a form: 413 each, health unaffected."""
    text = "SELECT * WHERE { ?s ?p ?o } #" + "x" * size
    with health_probe(server.url, bound=2.0) as probe:
        started = time.monotonic()
        direct, _, _ = _post(server.url, text, 60)
        try:
            form = httpx.post(server.url + "/sparql", data={"query": text}, timeout=60).status_code
        except httpx.HTTPError:
            form = 0
        spent = time.monotonic() - started
    ok = direct == 413 and form == 413 and probe.ok
    return Check(
        "hostile query",
        f"{size / 1e6:g} MB query text",
        ok,
        f"direct {direct}, form {form} in {spent:.2f} s; {probe.text()}",
    )


async def _flood(url: str, n: int, timeout: float, errors: list[str]) -> list[tuple[int, float, bool]]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:

        async def one() -> tuple[int, float, bool]:
            started = time.monotonic()
            try:
                r = await client.post(
                    url + "/sparql",
                    content=CARTESIAN.encode(),
                    headers={**JSON, "Content-Type": "application/sparql-query"},
                )
                return r.status_code, time.monotonic() - started, "retry-after" in r.headers
            except httpx.HTTPError as exc:
                errors.append(repr(exc)[:160])
                return 0, time.monotonic() - started, False

        return await asyncio.gather(*(one() for _ in range(n)))


def parallel_slow_queries(server: Server, sparql_timeout: float, n: int = 1000) -> Check:
    """`n` slow queries at once: each gets 503 with Retry-After (timed out, or refused as busy) within the
    bound, /health answers throughout, and a normal query works afterwards."""
    bound = sparql_timeout + MARGIN
    with health_probe(server.url, bound=2.0) as probe:
        errors: list[str] = []
        results = asyncio.run(_flood(server.url, n, bound + 30, errors))
    statuses: dict[int, int] = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    worst = max(spent for _, spent, _ in results)
    clear = all(s == 503 and retry for s, _, retry in results)
    after, _, _ = _post(server.url, "ASK { ?s ?p ?o }", bound + 30)
    ok = clear and worst <= bound and probe.ok and after == 200
    return Check(
        "hostile query",
        f"{n} parallel slow queries",
        ok,
        f"statuses {dict(sorted(statuses.items()))}, slowest {worst:.2f} s (bound {bound:g} s); "
        f"{probe.text()}; next query {after}",
        "; ".join(sorted(set(errors))[:3]),
    )


SSRF_TARGETS = [
    "{listener}",
    "http://localhost:{port}/",
    "http://[::1]:{port}/",
    "http://2130706433:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/sparql",
    "http://192.168.1.1/sparql",
    "http://172.16.0.1/sparql",
    "file:///etc/passwd",
]


def ssrf_queries(server: Server) -> Check:
    """SERVICE (plain, SILENT, via a variable) and LOAD to loopback, link-local and private addresses: each
    refused with 403, and the listening socket saw no connection."""
    tried, refused = 0, 0
    with Listener() as listener:
        for target in SSRF_TARGETS:
            iri = target.format(listener=listener.url, port=listener.port)
            for query in (
                f"SELECT * {{ SERVICE <{iri}> {{ ?s ?p ?o }} }}",
                f"SELECT * {{ SERVICE SILENT <{iri}> {{ ?s ?p ?o }} }}",
                f"SELECT * {{ BIND(<{iri}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
            ):
                tried += 1
                refused += _post(server.url, query, 30)[0] == 403
            for body, ctype in (
                (f"LOAD <{iri}>", "application/sparql-update"),
                (f"update=LOAD%20%3C{iri}%3E", "application/x-www-form-urlencoded"),
            ):
                tried += 1
                refused += (
                    httpx.post(
                        server.url + "/sparql", content=body.encode(), timeout=30, headers={"Content-Type": ctype}
                    ).status_code
                    == 403
                )
    ok = refused == tried and listener.connections == 0
    return Check(
        "ssrf",
        "SERVICE and LOAD to loopback, link-local, private",
        ok,
        f"{refused}/{tried} refused with 403; {listener.connections} connections to the listener",
    )


def _hostile_files(folder: Path, listener: Listener, canary: Path) -> dict[str, tuple[str, str]]:
    lol = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    rdf = (
        '<?xml version="1.0"?><!DOCTYPE rdf:RDF [{}]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:ex="http://example.org/"><rdf:Description rdf:about="http://example.org/a"><ex:p>{}</ex:p>'
        "</rdf:Description></rdf:RDF>"
    )
    return {
        "billion laughs (RDF/XML)": ("laughs.rdf", rdf.format(lol, "&l9;")),
        "external entity, local file (RDF/XML)": (
            "xxe-file.rdf",
            rdf.format(f'<!ENTITY x SYSTEM "{canary.as_uri()}">', "&x;"),
        ),
        "external entity, URL (RDF/XML)": ("xxe-url.rdf", rdf.format(f'<!ENTITY x SYSTEM "{listener.url}x">', "&x;")),
        "parameter entity, URL (RDF/XML)": (
            "xxe-param.rdf",
            rdf.format(f'<!ENTITY % x SYSTEM "{listener.url}p"> %x;', ""),
        ),
        "remote @context (JSON-LD)": (
            "ctx.jsonld",
            f'{{"@context": "{listener.url}ctx", "@id": "http://example.org/a", "name": "x"}}',
        ),
        "remote @import (JSON-LD)": (
            "import.jsonld",
            f'{{"@context": {{"@version": 1.1, "@import": "{listener.url}ctx"}}, '
            '"@id": "http://example.org/a", "http://example.org/p": "x"}',
        ),
        "20,000-deep nesting (JSON-LD)": (
            "deep.jsonld",
            '{"@id": "http://example.org/a", "http://example.org/p": '
            + '{"http://example.org/p": ' * 20_000
            + "1"
            + "}" * 20_001,
        ),
    }


def hostile_files(work: Path, build_dir: Path) -> list[Check]:
    """Each hostile file given to `parita validate` and `parita ingest`: refused (exit 2 / 1) within seconds,
    no connection to the listener, the canary file's content never in the output."""
    work.mkdir(parents=True, exist_ok=True)
    canary = work / "canary.txt"
    canary.write_text("CANARY-7f3a-local-file-was-read\n")
    checks = []
    with Listener() as listener:
        for name, (file_name, text) in _hostile_files(work, listener, canary).items():
            path = work / file_name
            path.write_text(text)
            results = []
            for argv, refused_code in (
                (["validate", str(path)], 2),
                (["ingest", "--publisher", "hostile-test", "--quiet", str(path)], 1),
            ):
                started = time.monotonic()
                proc = subprocess.run(
                    [sys.executable, "-m", "scripts.cli", *argv],
                    cwd=PROJECT_ROOT,
                    capture_output=True,
                    timeout=120,
                    env=_env(build_dir),
                )
                spent = time.monotonic() - started
                leaked = b"CANARY" in proc.stdout + proc.stderr
                results.append((argv[0], proc.returncode, spent, proc.returncode == refused_code and not leaked))
            ok = all(r[3] for r in results) and listener.connections == 0
            figures = ", ".join(f"{cmd} exit {code} in {spent:.1f} s" for cmd, code, spent, _ in results)
            checks.append(
                Check(
                    "ssrf",
                    name,
                    ok,
                    f"{figures}; {listener.connections} connections; canary not read" if ok else figures,
                )
            )
    return checks


def _env(build_dir: Path) -> dict[str, str]:
    return clean_env({"PARITA_BUILD_DIR": str(build_dir)})


ODD_TARGETS = [
    b"/dumps/../release.json",
    b"/dumps/..%2Frelease.json",
    b"/dumps/%2e%2e/release.json",
    b"/dumps/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    b"/dumps/%2E%2E%2F%2E%2E%2Fserver%2Fconfig.py",
    b"/static/../config.py",
    b"/static/..%2Fconfig.py",
    b"/static/%2e%2e/%2e%2e/pyproject.toml",
    b"/static/..%5Cconfig.py",
    b"/id/../../etc/passwd",
    b"/doc/..%2F..%2Fetc%2Fpasswd",
    b"/graph/%2e%2e%2f%2e%2e%2frelease.json",
    b"/dumps/parita.ttl%00.html",
    b"/id/%00",
    b"/doc/a%0d%0aX-Injected:%201",
    b"/id/%FF%FE%FD",
    b"/doc/\xff\xfe",
    b"/doc/a%20b%3Cc%3E",
    b"/id/" + b"a" * 5000,
    b"/doc/" + b"%2F" * 3000,
    b"//etc/passwd",
    b"/.well-known/../../etc/passwd",
    b"/releases/..%2F..%2Fcurrent",
    b"/dumps/SHA256SUMS/..",
    b"/dumps/.%2Fparita.ttl",
    b"/static/app.css/..%2F..%2F..%2Fscripts%2Fbuild.py",
]
SECRETS = (b"root:", b"base_uri", b"PROJECT_ROOT", b"[build-system]", b"def ", b"Traceback", b"X-Injected")


def odd_uris(server: Server) -> Check:
    """Traversal and odd URIs on resource, dump and static routes: 400, 404 or 414, never a file outside the
    release, never a stack trace; the real dump still answers."""
    bad = []
    counts: dict[int, int] = {}
    for target in ODD_TARGETS:
        status, response = get_raw(server.port, target)
        head, _, body = response.partition(b"\r\n\r\n")
        counts[status] = counts.get(status, 0) + 1
        if status not in (400, 404, 414) or any(s in body for s in SECRETS) or b"X-Injected" in head:
            bad.append(f"{target[:60]!r} -> {status}")
    control, _ = get_raw(server.port, b"/dumps/parita.ttl")
    ok = not bad and control == 200
    return Check(
        "odd uris",
        "traversal, encoded slashes, NUL, long, non-UTF-8",
        ok,
        f"{len(ODD_TARGETS)} targets: statuses {dict(sorted(counts.items()))}; real dump {control}",
        "; ".join(bad),
    )


def body_limits(server: Server, limit: int) -> Check:
    """A declared body over the limit and a chunked one: 413 each, in the JSON error shape."""
    big = b"x" * (limit + 1)
    declared = httpx.post(
        server.url + "/sparql",
        content=big,
        timeout=60,
        headers={"Content-Type": "application/sparql-query", "Accept": "application/json"},
    )
    chunked = httpx.post(
        server.url + "/sparql",
        content=iter([big[: limit // 2], big[limit // 2 :]]),
        timeout=60,
        headers={"Content-Type": "application/sparql-query", "Accept": "application/json"},
    )
    ok = declared.status_code == chunked.status_code == 413 and declared.json().get("status") == 413
    return Check(
        "limits", f"body over {limit} bytes", ok, f"declared {declared.status_code}, chunked {chunked.status_code}"
    )


def _closed_within(port: int, first: bytes, trickle: bytes, every: float, limit: float) -> tuple[float, bytes]:
    """Send `first`, then one byte of `trickle` every `every` s; seconds until the server answered or closed."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as s:
        s.sendall(first)
        s.settimeout(every)
        for i in range(int(limit / every) + 1):
            try:
                data = s.recv(4096)
                return time.monotonic() - started, data
            except TimeoutError:
                pass
            except ConnectionResetError:
                return time.monotonic() - started, b""
            try:
                s.send(trickle[i % len(trickle) : i % len(trickle) + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started, b""
    return time.monotonic() - started, b"still open"


def slow_clients(server: Server, request_timeout: float) -> list[Check]:
    """Slowloris headers and a trickled body: the server drops or answers (408) within the timeout + margin,
    and keeps answering /health meanwhile."""
    bound = request_timeout + MARGIN
    with health_probe(server.url, bound=2.0) as probe:
        head_spent, head_data = _closed_within(
            server.port, b"GET /health HTTP/1.1\r\nHost: x\r\n", b"X-a: b\r\n", 0.5, bound + 10
        )
        body_spent, body_data = _closed_within(
            server.port,
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 100000\r\n\r\n",
            b"ASK{}",
            0.5,
            bound + 10,
        )
    return [
        Check(
            "limits",
            "slow headers (slowloris)",
            head_spent <= bound and head_data != b"still open" and probe.ok,
            f"dropped after {head_spent:.1f} s (timeout {request_timeout:g} s); {probe.text()}",
        ),
        Check(
            "limits",
            "slow body",
            body_spent <= bound and body_data.startswith(b"HTTP/1.1 408"),
            f"{body_data[:12].decode(errors='replace') or 'dropped'} after {body_spent:.1f} s "
            f"(timeout {request_timeout:g} s)",
        ),
    ]


def raw_ok(server: Server) -> bool:
    return raw_request(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 200


REQUIRED_PATHS = {"/sparql", "/id/{path}", "/doc/{path}", "/catalog", "/.well-known/void", "/dumps/", "/health"}


def secure_defaults(server: Server) -> Check:
    """CSP (local assets only), nosniff and Referrer-Policy on HTML; CORS without credentials; the OpenAPI
    schema describes the public routes and no admin or submission route, which is absent without a token."""
    home = httpx.get(server.url + "/", timeout=30)
    csp = home.headers.get("content-security-policy", "")
    cors = httpx.get(server.url + "/catalog", headers={"Origin": "https://attacker.example"}, timeout=30)
    paths = set(httpx.get(server.url + "/-/openapi.json", timeout=30).json()["paths"])
    submission = httpx.post(server.url + "/-/submissions/someone", content=b"x", timeout=30).status_code
    problems = []
    if "script-src 'self'" not in csp or "http" in csp or "frame-ancestors 'none'" not in csp:
        problems.append(f"CSP {csp!r}")
    if home.headers.get("x-content-type-options") != "nosniff" or not home.headers.get("referrer-policy"):
        problems.append("nosniff / Referrer-Policy missing")
    if cors.headers.get("access-control-allow-origin") != "*" or "access-control-allow-credentials" in cors.headers:
        problems.append(f"CORS {dict(cors.headers)}")
    if not REQUIRED_PATHS <= paths or any(p.startswith("/-/submissions") or "admin" in p for p in paths):
        problems.append(f"OpenAPI paths {sorted(paths)}")
    if submission not in (404, 405):
        problems.append(f"submission route answered {submission} without a token")
    return Check(
        "secure defaults",
        "headers, CORS, OpenAPI, no submission route",
        not problems,
        f"CSP local only, nosniff, Referrer-Policy {home.headers.get('referrer-policy')}, CORS * without "
        f"credentials, {len(paths)} public paths described, POST /-/submissions/… {submission}",
        "; ".join(problems),
    )


def ssrf_variants(server: Server, count: int = 300) -> Check:
    """Generated lexical variants of SERVICE (tools/sparql_variants.py): none may reach the listener."""
    from tools.sparql_variants import variants

    statuses: dict[int, int] = {}
    with Listener() as listener:
        queries = variants(listener.url, count)
        for query in queries:
            status = _post(server.url, query, 30)[0]
            statuses[status] = statuses.get(status, 0) + 1
    ok = listener.connections == 0 and not any(s >= 500 or s == 0 for s in statuses)
    return Check(
        "ssrf",
        "generated SERVICE lexical variants",
        ok,
        f"{len(queries)} variants: statuses {dict(sorted(statuses.items()))}; "
        f"{listener.connections} connections to the listener",
    )


CRASH_FORMS = [
    "SELECT * { ?s ?p ?o } LIMIT 2",
    "ASK { ?s ?p ?o }",
    "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2",
    "DESCRIBE ?s { ?s ?p ?o } LIMIT 1",
    "CONSTRUCT { << ?s ?p ?o >> ?p ?o } WHERE { ?s ?p ?o } LIMIT 1",
]
CRASH_FORMATS = ["json", "xml", "csv", "tsv", "turtle", "jsonld", "rdfxml", "ntriples", "trig", "nquads"]


def forms_times_formats(server: Server) -> Check:
    """Every query form in every format: answers below 500, and no worker restarted."""
    restarts = metric(server.url, "parita_sparql_worker_restarts_total")
    statuses: dict[int, int] = {}
    for query in CRASH_FORMS:
        for fmt in CRASH_FORMATS:
            status = httpx.get(server.url + "/sparql", params={"query": query, "format": fmt}, timeout=30).status_code
            statuses[status] = statuses.get(status, 0) + 1
    restarted = metric(server.url, "parita_sparql_worker_restarts_total") - restarts
    ok = restarted == 0 and all(s < 500 for s in statuses)
    return Check(
        "hostile query",
        "every form in every format",
        ok,
        f"{sum(statuses.values())} requests: statuses {dict(sorted(statuses.items()))}; {restarted:g} worker restarts",
    )


MEMORY_BOMB = (
    'SELECT (STRLEN(?x29) AS ?n) { BIND("0123456789abcdef0123456789abcdef" AS ?x0) '
    + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(29))
    + " }"
)


def memory_bomb(server: Server, sparql_timeout: float) -> Check:
    """A doubling CONCAT chain (16 GB if it ran to the end): cut at the worker's memory limit with 503."""
    with health_probe(server.url, bound=2.0) as probe:
        status, spent, response = _post(server.url, MEMORY_BOMB, sparql_timeout + 30)
    deaths = metric(server.url, "parita_sparql_worker_deaths_total")
    after, _, _ = _post(server.url, "ASK { ?s ?p ?o }", 30)
    ok = status == 503 and deaths >= 1 and probe.ok and after == 200
    message = response.json().get("error", "")[:120] if response is not None and status == 503 else ""
    return Check(
        "limits",
        "memory bomb (doubling CONCAT)",
        ok,
        f"{status} in {spent:.2f} s ({message}); workers replaced {deaths:g}; {probe.text()}; next ASK {after}",
    )


def ask_beside_slow_queries(server: Server, slow: int = 8, asks: int = 20) -> Check:
    """`slow` cartesian queries from as many clients hold the regular workers; ASKs from another client
    still answer through the fast lane. Reports the ASK latencies (a measure, not a bound)."""
    import statistics
    import threading

    def one(i: int) -> None:
        try:
            httpx.post(
                server.url + "/sparql",
                content=CARTESIAN.encode(),
                timeout=60,
                headers={**JSON, "Content-Type": "application/sparql-query", "X-Forwarded-For": f"192.0.2.{i}"},
            )
        except httpx.HTTPError:
            pass

    sent = metric(server.url, "parita_sparql_queries_total")
    threads = [threading.Thread(target=one, args=(i + 1,), daemon=True) for i in range(slow)]
    for t in threads:
        t.start()
    for _ in range(300):  # until two slow queries reached the workers (bounded)
        if metric(server.url, "parita_sparql_queries_total") >= sent + 2:
            break
        time.sleep(0.05)
    latencies, statuses = [], []
    for _ in range(asks):
        started = time.monotonic()
        r = httpx.get(
            server.url + "/sparql",
            params={"query": "ASK { ?s ?p ?o }"},
            timeout=60,
            headers={**JSON, "X-Forwarded-For": "198.51.100.1"},
        )
        latencies.append(time.monotonic() - started)
        statuses.append(r.status_code)
    for t in threads:
        t.join(timeout=90)
    ok = all(s == 200 for s in statuses)
    return Check(
        "fairness",
        f"ASK while {slow} slow queries run",
        ok,
        f"{asks} ASKs: statuses {sorted(set(statuses))}, median {statistics.median(latencies) * 1000:.0f} ms, "
        f"worst {max(latencies) * 1000:.0f} ms",
    )


def idle_connections(server: Server, count: int = 4200, source: str = "127.0.0.2") -> Check:
    """`count` idle TCP connections from one client (another loopback address): the per-client cap closes
    those over it at once, the first-byte timeout the rest, and /health from elsewhere keeps answering."""
    opened: list[socket.socket] = []
    refused = 0
    with health_probe(server.url, bound=2.0) as probe:
        started = time.monotonic()
        for _ in range(count):
            conn = socket.socket()
            conn.bind((source, 0))
            try:
                conn.connect(("127.0.0.1", server.port))
            except OSError:
                refused += 1
                conn.close()
                continue
            opened.append(conn)
        health = httpx.get(server.url + "/health", timeout=10).status_code
        closed_at_once = sum(_closed(c, 0.0) for c in opened)
        remaining = list(opened)
        deadline = time.monotonic() + 30
        while remaining and time.monotonic() < deadline:
            remaining = [c for c in remaining if not _closed(c, 0.05)]
        spent = time.monotonic() - started
    for c in opened:
        c.close()
    ok = health == 200 and probe.ok and not remaining
    return Check(
        "limits",
        f"{count} idle connections from one client",
        ok,
        f"{closed_at_once + refused} closed at once (per-client cap), the rest closed by {spent:.1f} s; "
        f"/health meanwhile {health}; {probe.text()}",
    )


def _closed(conn: socket.socket, wait: float) -> bool:
    conn.settimeout(wait)
    try:
        return conn.recv(1) == b""
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True
