"""What every check shares: results, the HTTP client, and parsers for RDF and SPARQL results documents."""

from __future__ import annotations

import csv
import io
import json
import socket
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pyoxigraph as ox
import rdflib

SPARQL_JSON = "application/sparql-results+json"
SPARQL_XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
RESULT_TYPES = (SPARQL_JSON, SPARQL_XML, CSV, TSV)
BOOLEAN_TYPES = (SPARQL_JSON, SPARQL_XML)

#: RDF media type -> rdflib parser name. Graph syntaxes first; the dataset ones are not graph results.
RDF_PARSERS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
    "application/trig": "trig",
    "application/n-quads": "nquads",
}
GRAPH_TYPES = ("text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples")
HTML_TYPES = ("text/html", "application/xhtml+xml")
RDF_ACCEPT = "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8, application/n-triples;q=0.7"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
ORIGIN = "https://conformance.example"
_SR = "{http://www.w3.org/2005/sparql-results#}"


@dataclass(frozen=True)
class Result:
    """One check: its name, whether it passed, and what was seen."""

    name: str
    passed: bool
    detail: str = ""

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}" + (f" -- {self.detail}" if self.detail else "")


class Failed(Exception):
    """Raised by a check that found the server wrong; the message is the detail."""


def require(condition: object, message: str) -> None:
    if not condition:
        raise Failed(message)


def run_check(results: list[Result], name: str, check: Callable[[], str | None]) -> bool:
    """Run `check` (returns a detail, or raises Failed) and record it; any other exception fails it too."""
    try:
        detail = check() or ""
    except Failed as failure:
        results.append(Result(name, False, str(failure)))
        return False
    except Exception as error:  # noqa: BLE001 - a check that crashes on the server's answer has failed
        results.append(Result(name, False, f"{type(error).__name__}: {error}"))
        return False
    results.append(Result(name, True, detail))
    return True


def failures(results: Iterable[Result]) -> list[Result]:
    return [r for r in results if not r.passed]


def report(results: Iterable[Result], limit: int = 300) -> str:
    """Failing checks first (details shortened to `limit` characters), then the count line."""
    rows = list(results)
    bad = failures(rows)
    lines = [str(Result(r.name, r.passed, " ".join(r.detail.split())[:limit])) for r in bad]
    lines.append(f"{len(rows) - len(bad)} passed, {len(bad)} failed")
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTTP


def client(timeout: float = 30.0, follow_redirects: bool = False) -> httpx.Client:
    """An HTTP client that sends an Accept header only when a check gives one (httpx sends */* otherwise)."""
    c = httpx.Client(timeout=timeout, follow_redirects=follow_redirects)
    del c.headers["accept"]
    return c


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").partition(";")[0].strip().lower()


def tokens(response: httpx.Response, header: str) -> set[str]:
    """The comma-separated values of every `header` field, lower-cased."""
    return {t.strip().lower() for value in response.headers.get_list(header) for t in value.split(",") if t.strip()}


def varies_on_accept(response: httpx.Response) -> bool:
    return bool({"accept", "*"} & tokens(response, "vary"))


def cors_allowed(response: httpx.Response) -> bool:
    return response.headers.get("access-control-allow-origin", "").strip() in ("*", ORIGIN)


def seen(response: httpx.Response) -> str:
    """A short description of a response for failure details."""
    text = response.text[:160] if response.content else ""
    ct = response.headers.get("content-type", "-")
    return f"HTTP {response.status_code} {ct}" + (f" {' '.join(text.split())!r}" if text else "")


def follow(
    c: httpx.Client, url: str, headers: dict[str, str] | None = None, method: str = "GET", limit: int = 5
) -> list[httpx.Response]:
    """The responses to `method url`, following redirects one at a time (303 turns into GET, HEAD stays)."""
    hops: list[httpx.Response] = []
    for _ in range(limit + 1):
        r = c.request(method, url, headers=headers or {})
        hops.append(r)
        if r.status_code not in (301, 302, 303, 307, 308) or "location" not in r.headers:
            break
        url = urljoin(str(r.url), r.headers["location"])
        if r.status_code == 303 and method != "HEAD":
            method = "GET"
    return hops


def statuses(hops: list[httpx.Response]) -> str:
    return " -> ".join(str(r.status_code) for r in hops)


def raw_head(url: str, accept: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send HEAD on a fresh socket and read until the server closes it: (status, bytes after the headers).
    httpx never reads a body after HEAD, so only this shows a server that wrongly sends one."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = f"HEAD {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    received = bytearray()
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout) as sock:
        sock.sendall(request.encode("ascii"))
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass  # a server that keeps the connection open: what came so far is what we judge
    head, _, rest = bytes(received).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    require(len(status_line) >= 2 and status_line[1].isdigit(), f"no HTTP status line in {head[:80]!r}")
    return int(status_line[1]), rest


# --------------------------------------------------------------------------- RDF


def _context_urls(node: Any) -> list[str]:
    """Every remote @context (a URL string) anywhere in a JSON-LD document."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                for ctx in value if isinstance(value, list) else [value]:
                    found.extend([ctx] if isinstance(ctx, str) else _context_urls(ctx))
            else:
                found.extend(_context_urls(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_context_urls(item))
    return found


def parse_rdf(body: bytes, mime: str, base: str) -> rdflib.Graph:
    """Parse an RDF document (a Dataset for TriG/N-Quads). JSON-LD with a remote @context is refused:
    the tests never go to the network, and a publisher should not make every client fetch its context."""
    fmt = RDF_PARSERS.get(mime)
    require(fmt is not None, f"{mime!r} is not an RDF media type")
    if fmt == "json-ld":
        remote = _context_urls(json.loads(body.decode("utf-8")))
        require(not remote, f"JSON-LD uses the remote @context {remote[:1]}")
    graph: rdflib.Graph = rdflib.Dataset() if fmt in ("trig", "nquads") else rdflib.Graph()
    with warnings.catch_warnings():  # rdflib's own JSON-LD parser builds a ConjunctiveGraph (deprecated)
        warnings.simplefilter("ignore", DeprecationWarning)
        graph.parse(data=body, format=fmt, publicID=base)
    return graph


def response_graph(response: httpx.Response) -> rdflib.Graph:
    return parse_rdf(response.content, media_type(response), str(response.url))


def canonical(graph: rdflib.Graph) -> frozenset[str]:
    """The graph with its blank nodes canonically relabelled, as N-Triples lines: two graphs are isomorphic
    exactly when these are equal. (Oxigraph's canonicalization; rdflib's `isomorphic` takes seconds on the
    shapes graph's blank nodes.)"""
    triples = ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return frozenset(str(q) for q in dataset)


def same_graph(a: rdflib.Graph, b: rdflib.Graph) -> bool:
    return len(a) == len(b) and canonical(a) == canonical(b)


# --------------------------------------------------------------------------- SPARQL results


@dataclass(frozen=True)
class Answer:
    """A parsed SPARQL results document: a boolean, or variables and rows of lexical values."""

    boolean: bool | None = None
    variables: tuple[str, ...] = ()
    rows: tuple[dict[str, str], ...] = ()

    @property
    def kind(self) -> str:
        return "boolean" if self.boolean is not None else "tabular"


def _tsv_term(cell: str) -> str:
    """The lexical value of a TSV-encoded RDF term (`<iri>`, `"lit"@en`, `"1"^^<dt>`, `_:b`, or bare)."""
    if cell.startswith("<") and cell.endswith(">"):
        return cell[1:-1]
    if cell.startswith('"'):
        end = cell.rfind('"')
        require(end > 0, f"unterminated TSV literal {cell!r}")
        return cell[1:end].replace('\\"', '"').replace("\\t", "\t").replace("\\n", "\n").replace("\\\\", "\\")
    return cell


def parse_answer(response: httpx.Response) -> Answer:
    """Parse SPARQL results in JSON, XML, CSV or TSV; a malformed document raises Failed."""
    mime, body = media_type(response), response.content
    if mime == SPARQL_JSON:
        doc = json.loads(body.decode("utf-8"))
        require(isinstance(doc, dict) and "head" in doc, "JSON results without `head`")
        if "boolean" in doc:
            require(isinstance(doc["boolean"], bool), f"JSON `boolean` is {doc['boolean']!r}")
            return Answer(boolean=doc["boolean"])
        rows = []
        for binding in doc["results"]["bindings"]:
            row = {}
            for var, term in binding.items():
                require(term.get("type") in ("uri", "literal", "bnode", "typed-literal", "triple"), f"bad {term}")
                row[var] = term["value"] if isinstance(term["value"], str) else json.dumps(term["value"])
            rows.append(row)
        return Answer(variables=tuple(doc["head"].get("vars", [])), rows=tuple(rows))
    if mime == SPARQL_XML:
        root = ET.fromstring(body)
        require(root.tag == _SR + "sparql", f"XML results root is {root.tag}")
        boolean = root.find(_SR + "boolean")
        if boolean is not None:
            text = (boolean.text or "").strip()
            require(text in ("true", "false"), f"XML boolean {text!r}")
            return Answer(boolean=text == "true")
        head = root.find(_SR + "head")
        variables = tuple(v.get("name", "") for v in head.findall(_SR + "variable")) if head is not None else ()
        results = root.find(_SR + "results")
        require(results is not None, "XML results with neither <results> nor <boolean>")
        rows = []
        for result in results.findall(_SR + "result"):  # type: ignore[union-attr]
            rows.append({b.get("name", ""): "".join(b.itertext()) for b in result.findall(_SR + "binding")})
        return Answer(variables=variables, rows=tuple(rows))
    if mime == CSV:
        table = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        require(table, "empty CSV results")
        return Answer(variables=tuple(table[0]), rows=tuple(dict(zip(table[0], r, strict=False)) for r in table[1:]))
    if mime == TSV:
        lines = [line.rstrip("\r") for line in body.decode("utf-8").split("\n") if line.strip("\r")]
        require(lines, "empty TSV results")
        header = lines[0].split("\t")
        require(all(h.startswith("?") for h in header if h), f"TSV header variables lack '?': {lines[0]!r}")
        variables = tuple(h[1:] for h in header)
        rows = tuple(
            {v: _tsv_term(cell) for v, cell in zip(variables, line.split("\t"), strict=False) if cell}
            for line in lines[1:]
        )
        return Answer(variables=variables, rows=rows)
    raise Failed(f"{mime!r} is not a SPARQL results media type")
