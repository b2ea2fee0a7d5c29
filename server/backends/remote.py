"""A remote SPARQL 1.1 store (Oxigraph server, Virtuoso, ...) behind the same interface as the embedded one.

Reads go over the SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/). Every request names the
dataset explicitly: `default-graph-uri` and `named-graph-uri` list the release's graphs, so the default graph
is their union (as with the embedded store) and an engine's own system graphs (Virtuoso has some) stay out.
The release's graphs are those `parita publish` recorded in the control graph, else those of `release.json`.

When the store cannot be reached, every read raises `StoreUnavailable` (503 with Retry-After); nothing is
cached from a failed request, so the server recovers by itself when the store comes back.

User queries, document look-ups and the control-graph poll are read with the switch protocol of
`switching.py`, so they never see part of a release switch, on Virtuoso either.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pyoxigraph as ox

from ..errors import PublisherError, QueryTimeout
from ..formats import BY_NAME
from ..guard import inspect_query
from ..labels import LABEL_PROPERTIES
from ..query import Job, Outcome
from ..results import write_boolean, write_rows, write_triples
from ..store import DataStore, Term, sorted_incoming
from ..vocab import OWL, XSD_STRING
from ..workers import PoolStats
from .switching import (
    CONTROL_GRAPH,
    DATASET,
    HAS_GRAPH,
    HAS_RELEASE,
    STATE_QUERY,
    SwitchState,
    consistent_aread,
    consistent_read,
    state_of,
)

RETRY_AFTER = "5"
T = TypeVar("T")
RETRIES = 3
JSON_RESULTS = "application/sparql-results+json"
RDF_RESULTS = "application/n-triples, text/turtle;q=0.9"
_BNODE_OK = re.compile(r"^[A-Za-z0-9_]+$")


class StoreUnavailable(PublisherError):
    """The remote store did not answer: try again shortly."""

    status = 503
    title = "Store unavailable"


def is_remote(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


# --- SPARQL results (JSON, https://www.w3.org/TR/sparql11-results-json/) → pyoxigraph terms -----------------


def _bnode(value: str) -> ox.BlankNode:
    """Blank node labels from another engine (Virtuoso: `nodeID://b1`) made valid, stable within one answer."""
    return ox.BlankNode(value if _BNODE_OK.match(value) else "r" + hashlib.sha1(value.encode()).hexdigest()[:16])


def term_from_json(cell: dict[str, Any]) -> Term:
    kind, value = cell.get("type"), str(cell.get("value", ""))
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return _bnode(value)
    if kind in ("literal", "typed-literal"):
        if cell.get("xml:lang"):
            return ox.Literal(value, language=str(cell["xml:lang"]))
        if cell.get("datatype") and cell["datatype"] != XSD_STRING:
            return ox.Literal(value, datatype=ox.NamedNode(str(cell["datatype"])))
        return ox.Literal(value)
    raise ValueError(f"unsupported term in SPARQL results: {cell!r}")


def parse_json_results(body: bytes) -> tuple[list[str], list[tuple[Term | None, ...]]] | bool:
    """(variables, rows) of a SELECT, or the boolean of an ASK."""
    data = json.loads(body)
    if "boolean" in data:
        return bool(data["boolean"])
    variables = [str(v) for v in data.get("head", {}).get("vars", [])]
    rows = [
        tuple(term_from_json(b[v]) if v in b else None for v in variables)
        for b in data.get("results", {}).get("bindings", [])
    ]
    return variables, rows


def parse_triples(body: bytes, content_type: str) -> list[ox.Triple]:
    fmt = ox.RdfFormat.TURTLE if "turtle" in content_type else ox.RdfFormat.N_TRIPLES
    if "json" in content_type:
        fmt = ox.RdfFormat.JSON_LD
    elif "xml" in content_type:
        fmt = ox.RdfFormat.RDF_XML
    return [ox.Triple(t.subject, t.predicate, t.object) for t in ox.parse(body, format=fmt)]


def sparql_term(term: Term) -> str:
    """A term written in SPARQL (N-Triples syntax); blank nodes cannot be named across requests."""
    if isinstance(term, ox.BlankNode):
        raise ValueError("a blank node cannot be sent to a remote store")
    return str(term)


# --- the HTTP client ------------------------------------------------------------------------------------------


@dataclass
class SparqlClient:
    """Query endpoint of one remote store, with the dataset (graph list) every request names."""

    query_url: str
    timeout: float = 10.0
    graphs: tuple[str, ...] = ()
    _http: httpx.Client | None = field(default=None, repr=False)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout, limits=httpx.Limits(max_connections=32))
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> SparqlClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def form(self, query: str, dataset: bool = True) -> dict[str, str | list[str]]:
        data: dict[str, str | list[str]] = {"query": query}
        if dataset and self.graphs:
            data["default-graph-uri"] = data["named-graph-uri"] = list(self.graphs)
        return data

    def post(self, query: str, accept: str, dataset: bool = True) -> httpx.Response:
        """POST one query; transport failures and 5xx answers become StoreUnavailable.

        A transaction the store gave up to a concurrent writer (SQLSTATE 40001: Virtuoso under REPEATABLE
        READ while `parita publish` switches) is retried a few times, as SQL clients do.
        """
        for attempt in range(RETRIES + 1):
            try:
                response = self.http.post(self.query_url, data=self.form(query, dataset), headers={"Accept": accept})
            except httpx.TimeoutException as exc:
                raise QueryTimeout(
                    f"The store did not answer within {self.timeout:g} s.", headers={"Retry-After": RETRY_AFTER}
                ) from exc
            except httpx.TransportError as exc:
                logging.getLogger("parita.store").warning("remote store %s unreachable: %r", self.query_url, exc)
                raise StoreUnavailable(
                    f"The SPARQL store cannot be reached ({type(exc).__name__}).", headers={"Retry-After": RETRY_AFTER}
                ) from exc
            if not (attempt < RETRIES and retryable(response)):
                break
            time.sleep(0.05 * (attempt + 1))
        check(response)
        return response

    def select(self, query: str, dataset: bool = True) -> list[dict[str, Term]]:
        return rows_of(self.post(query, JSON_RESULTS, dataset).content)

    def switch_state(self) -> SwitchState:
        return state_of(self.select(STATE_QUERY, dataset=False))

    def consistently(self, read: Callable[[], T]) -> T:
        """`read()` (any number of requests) as of one release: never across a `parita publish` switch."""
        return consistent_read(self.switch_state, read, self.timeout)

    def ask(self, query: str) -> bool:
        parsed = parse_json_results(self.post(query, JSON_RESULTS).content)
        return bool(parsed) if isinstance(parsed, bool) else bool(parsed[1])


def rows_of(body: bytes) -> list[dict[str, Term]]:
    """SELECT results (SPARQL JSON) as one dict per row, unbound variables left out."""
    parsed = parse_json_results(body)
    if isinstance(parsed, bool):
        raise StoreUnavailable("The store answered a SELECT with a boolean.")
    variables, rows = parsed
    return [{v: t for v, t in zip(variables, row, strict=False) if t is not None} for row in rows]


def retryable(response: httpx.Response) -> bool:
    """A serialization failure (SQLSTATE 40001, e.g. a deadlock victim): running it again is safe."""
    return response.status_code >= 500 and b"40001" in response.content[:200]


def check(response: httpx.Response) -> None:
    if response.status_code in (502, 503, 504) or response.status_code >= 500 and not response.content:
        raise StoreUnavailable(
            f"The SPARQL store answered {response.status_code}.", headers={"Retry-After": RETRY_AFTER}
        )
    if response.status_code >= 400:
        raise RemoteQueryError(response.status_code, response.text[:2000])


class RemoteQueryError(Exception):
    """The store refused or failed a query (4xx: the query; 5xx: the store)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def published_release(client: SparqlClient) -> tuple[str | None, tuple[str, ...]]:
    """(release id, graphs) recorded by `parita publish` in the control graph; (None, ()) if none."""
    return client.consistently(lambda: read_control(client))


def read_control(client: SparqlClient) -> tuple[str | None, tuple[str, ...]]:
    """`published_release` without the switch protocol: for the publisher, the only writer."""
    rows = client.select(
        f"SELECT ?r ?g {{ GRAPH <{CONTROL_GRAPH}> {{ <{DATASET}> <{HAS_RELEASE}> ?r ; <{HAS_GRAPH}> ?g }} }}",
        dataset=False,
    )
    if not rows:
        return None, ()
    return str(rows[0]["r"].value), tuple(sorted({str(r["g"].value) for r in rows}))


# --- the web process's look-ups -----------------------------------------------------------------------------


class _Patterns:
    """`quads_for_pattern` over SPARQL, for code written against pyoxigraph's Store."""

    def __init__(self, client: SparqlClient) -> None:
        self.client = client

    def quads_for_pattern(
        self, s: Term | None = None, p: Term | None = None, o: Term | None = None, g: Term | None = None
    ) -> Iterator[ox.Quad]:
        names = {"s": s, "p": p, "o": o, "g": g}
        pos = {k: (sparql_term(v) if v is not None else f"?{k}") for k, v in names.items()}
        rows = self.client.select(f"SELECT * {{ GRAPH {pos['g']} {{ {pos['s']} {pos['p']} {pos['o']} }} }}")
        for row in rows:
            yield ox.Quad(*(names[k] if names[k] is not None else row[k] for k in "spog"))  # type: ignore[arg-type]


class RemoteDataStore(DataStore):
    """The same look-ups as the embedded DataStore, each one or two SPARQL requests."""

    remote = True  # every look-up is an HTTP request: keep it off the event loop

    def consistently(self, fn: Callable[..., T], *args: Any) -> T:
        return self.client.consistently(lambda: fn(*args))

    def __init__(self, client: SparqlClient) -> None:
        super().__init__(_Patterns(client), order="sorted")  # type: ignore[arg-type]
        self.client = client

    def count_quads(self) -> int:
        return int(self.select("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")[0]["n"].value)

    def select(self, query: str) -> list[dict[str, Term]]:
        return self.client.select(query)

    def exists(self, iri: str) -> bool:
        return self.client.ask(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?q <{iri}> }} }}")

    def version_of(self, iri: str) -> str | None:
        rows = self.select(f"SELECT ?o {{ ?o <{OWL}versionIRI> <{iri}> FILTER(isIRI(?o)) }} LIMIT 1")
        return str(rows[0]["o"].value) if rows else None

    def graph_exists(self, graph_iri: str) -> bool:
        return self.client.ask(f"ASK {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")

    def graph_quads(self, graph_iri: str) -> list[ox.Quad]:
        g = ox.NamedNode(graph_iri)
        rows = self.select(f"SELECT ?s ?p ?o {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")
        return [ox.Quad(r["s"], r["p"], r["o"], g) for r in rows]  # type: ignore[arg-type]

    def outgoing(self, iri: str) -> list[ox.Quad]:
        """The quads about `iri` and the blank nodes it reaches (3 levels), in one request so labels agree."""
        levels = [f"VALUES ?s {{ <{iri}> }} ?s ?p ?o"]
        path, blank = f"<{iri}>", list[str]()
        for depth in range(1, 4):
            levels.append(f"{path} ?x{depth} ?s . ?s ?p ?o FILTER({' && '.join(blank + ['isBlank(?s)'])})")
            path += f" ?x{depth} ?b{depth} . ?b{depth}"
            blank.append(f"isBlank(?b{depth})")
        union = " UNION ".join(f"{{ {level} }}" for level in levels)
        rows = self.select(f"SELECT DISTINCT ?g ?s ?p ?o {{ GRAPH ?g {{ {union} }} }}")
        return [ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows]  # type: ignore[arg-type]

    def incoming(self, iri: str) -> list[ox.Quad]:
        rows = self.select(f"SELECT ?g ?s ?p {{ GRAPH ?g {{ ?s ?p <{iri}> FILTER(!isBlank(?s)) }} }}")
        node = ox.NamedNode(iri)
        return [ox.Quad(r["s"], r["p"], node, r["g"]) for r in rows]  # type: ignore[arg-type]

    def page_order(self, iri: str) -> str:
        return "sorted"  # always: see incoming_page

    def incoming_page(self, iri: str, offset: int, limit: int) -> tuple[list[ox.Quad], int]:
        everything = sorted_incoming(self.incoming(iri))  # one request: page and total agree
        return everything[offset : offset + limit], len(everything)

    def fetch_labels(self, iris: Sequence[str]) -> dict[str, list[tuple[ox.NamedNode, ox.Literal]]]:
        found: dict[str, dict[str, set[ox.Literal]]] = {}
        props = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
        for chunk in _chunks([i for i in iris if "<" not in i and ">" not in i], 200):
            values = " ".join(f"<{i}>" for i in chunk)
            rows = self.select(
                f"SELECT ?s ?p ?o {{ VALUES ?s {{ {values} }} VALUES ?p {{ {props} }} ?s ?p ?o FILTER(isLiteral(?o)) }}"
            )
            for r in rows:
                found.setdefault(str(r["s"].value), {}).setdefault(str(r["p"].value), set()).add(r["o"])  # type: ignore[arg-type]
        out: dict[str, list[tuple[ox.NamedNode, ox.Literal]]] = {}
        for iri in iris:
            by_prop = found.get(iri, {})
            out[iri] = [(ox.NamedNode(p), lit) for p in LABEL_PROPERTIES for lit in sorted(by_prop.get(p, ()), key=str)]
        return out


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


# --- user SPARQL ----------------------------------------------------------------------------------------------


@dataclass
class RunnerStats(PoolStats):
    """The worker pool's counters, plus answers refused because the store was away."""

    unavailable: int = 0


@dataclass
class RemoteRunner:
    """Runs user queries on the remote store; same `run(job) -> Outcome` contract as the worker pool."""

    query_url: str
    graphs: tuple[str, ...]
    timeout: float = 10.0
    stats: RunnerStats = field(default_factory=RunnerStats)

    def __post_init__(self) -> None:
        self._http = httpx.AsyncClient(timeout=self.timeout, limits=httpx.Limits(max_connections=32))

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        await self._http.aclose()

    def _form(self, job: Job) -> dict[str, str | list[str]]:
        data: dict[str, str | list[str]] = {"query": job.query}
        if job.default_graphs is not None or job.named_graphs is not None:
            data["default-graph-uri"] = list(job.default_graphs or ())
            data["named-graph-uri"] = list(job.named_graphs or ())
        elif job.union_default:
            data["default-graph-uri"] = data["named-graph-uri"] = list(self.graphs)
        return data

    async def _post(self, data: dict[str, str | list[str]], accept: str) -> httpx.Response:
        for attempt in range(RETRIES + 1):
            response = await self._http.post(self.query_url, data=data, headers={"Accept": accept})
            if not (attempt < RETRIES and retryable(response)):
                break
            await asyncio.sleep(0.05 * (attempt + 1))
        return response

    async def _switch_state(self) -> SwitchState:
        response = await self._post({"query": STATE_QUERY}, JSON_RESULTS)
        if response.status_code >= 400:
            raise StoreUnavailable(
                f"The SPARQL store answered {response.status_code} to the release check.",
                headers={"Retry-After": RETRY_AFTER},
            )
        return state_of(rows_of(response.content))

    async def run(self, job: Job) -> Outcome:
        form = inspect_query(job.query).form
        accept = RDF_RESULTS if form in ("CONSTRUCT", "DESCRIBE") else JSON_RESULTS
        self.stats.queries += 1
        try:
            response = await consistent_aread(
                self._switch_state, lambda: self._post(self._form(job), accept), self.timeout
            )
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                self.stats.unavailable += 1
                raise StoreUnavailable(
                    "The SPARQL store cannot be reached.", headers={"Retry-After": RETRY_AFTER}
                ) from exc
            self.stats.timeouts += 1
            raise QueryTimeout(
                f"The query ran longer than the {self.timeout:g} s limit and was cancelled.",
                headers={"Retry-After": RETRY_AFTER},
            ) from None
        except httpx.TransportError as exc:
            self.stats.unavailable += 1
            raise StoreUnavailable(
                f"The SPARQL store cannot be reached ({type(exc).__name__}).", headers={"Retry-After": RETRY_AFTER}
            ) from exc
        try:
            check(response)
        except RemoteQueryError as exc:
            kind = (
                "syntax"
                if exc.status == 400 and "syntax" in exc.message.lower()
                else ("evaluation" if exc.status < 500 else "store")
            )
            return Outcome(error=kind, message=exc.message)
        return to_outcome(response, job)


def to_outcome(response: httpx.Response, job: Job) -> Outcome:
    """Cap the store's answer at the row limit and write it in the requested format, as a worker does."""
    fmt = BY_NAME[job.format]
    ctype = response.headers.get("content-type", "")
    try:
        if "sparql-results+json" in ctype or ctype.startswith("application/json"):
            parsed = parse_json_results(response.content)
            if isinstance(parsed, bool):
                return Outcome(body=write_boolean(parsed, fmt), rows=1)
            variables, rows = parsed
            cut = len(rows) > job.row_limit
            rows = rows[: job.row_limit]
            return Outcome(body=write_rows(variables, rows, fmt), rows=len(rows), truncated=cut)
        triples = parse_triples(response.content, ctype)
    except (ValueError, SyntaxError) as exc:
        return Outcome(error="store", message=f"Unreadable answer from the store ({ctype}): {exc}")
    cut = len(triples) > job.row_limit
    triples = triples[: job.row_limit]
    return Outcome(body=write_triples(triples, fmt, dict(job.prefixes)), rows=len(triples), truncated=cut)
