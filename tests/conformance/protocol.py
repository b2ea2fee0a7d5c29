"""SPARQL 1.1 Protocol conformance of a read-only public endpoint, over HTTP only.

* `run_protocol_manifest`: the W3C protocol manifest, every request sent as written (the `/sparql/`
  prefix replaced by the endpoint's path). Query and `bad_*` tests must get what the manifest says; the
  `update_*` tests, read for a read-only public endpoint, must be refused (403 here) and change nothing.
* `check_sparql_endpoint`: what the manifest leaves open: exact 400 for syntax errors, every results
  format by negotiation, charset parameters, updates refused by every binding, conditional GET, CORS.
* `check_service_description`: the W3C Service Description tests, on a GET of the endpoint without a query.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import rdflib
from rdflib.namespace import RDF

from .core import (
    BOOLEAN_TYPES,
    CSV,
    GRAPH_TYPES,
    HTML_TYPES,
    ORIGIN,
    RDF_ACCEPT,
    RESULT_TYPES,
    SPARQL_JSON,
    SPARQL_XML,
    TSV,
    Answer,
    Failed,
    Result,
    client,
    cors_allowed,
    media_type,
    parse_answer,
    parse_rdf,
    require,
    response_graph,
    run_check,
    same_graph,
    seen,
    tokens,
)
from .manifest import MANIFEST, ProtocolTest, Request, graph_names, load_manifest, service_description_tests

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
QUERY_LANGUAGES = {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
FORM = "application/x-www-form-urlencoded"


class Endpoint:
    """The endpoint at `base_url + path`, with the three ways the protocol lets a client send an operation."""

    def __init__(self, http: httpx.Client, base_url: str, path: str) -> None:
        self.http, self.base, self.path = http, base_url.rstrip("/"), path
        self.url = self.base + path

    def get(self, params: dict[str, str], accept: str | None = None, **headers: str) -> httpx.Response:
        query = urlencode(params, quote_via=quote)
        return self.http.get(f"{self.url}?{query}", headers=_headers(accept, headers))

    def form(self, params: dict[str, str], accept: str | None = None, ctype: str = FORM) -> httpx.Response:
        body = urlencode(params, quote_via=quote).encode("ascii")
        return self.http.post(self.url, content=body, headers=_headers(accept, {"Content-Type": ctype}))

    def direct(self, text: str, accept: str | None = None, ctype: str = "application/sparql-query") -> httpx.Response:
        return self.http.post(self.url, content=text.encode("utf-8"), headers=_headers(accept, {"Content-Type": ctype}))

    def answer(self, query: str) -> Answer:
        r = self.direct(query, accept=SPARQL_JSON)
        require(r.status_code == 200, f"{query!r}: {seen(r)}")
        return parse_answer(r)

    def fingerprint(self) -> tuple[int, int, int]:
        """(triples in the default graph, quads in named graphs, named graphs): what an update would change."""
        default = self.answer("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").rows
        named = self.answer("SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?g) AS ?g_n) { GRAPH ?g { ?s ?p ?o } }").rows
        require(default and named, "count queries gave no row")
        return int(default[0]["n"]), int(named[0]["n"]), int(named[0]["g_n"])

    def send(self, request: Request) -> httpx.Response:
        """A manifest request exactly as written: method, path and query string, headers, encoded body."""
        url = self.base + request.target(self.path)
        return self.http.request(request.method, url, content=request.content(), headers=dict(request.headers))


def _headers(accept: str | None, extra: dict[str, str]) -> dict[str, str]:
    return {**extra, **({"Accept": accept} if accept else {})}


def _refused(r: httpx.Response, refusal_status: int | None) -> str:
    if refusal_status is None:
        require(400 <= r.status_code < 500, f"update not refused with a 4xx: {seen(r)}")
    else:
        require(r.status_code == refusal_status, f"update not refused with {refusal_status}: {seen(r)}")
    return f"refused: HTTP {r.status_code}"


def _sentinel(ep: Endpoint) -> tuple[str, str]:
    """A harmless INSERT DATA and the ASK that tells whether it got in."""
    graph = f"urn:uuid:{uuid.uuid4()}"
    triple = f'<{graph}#s> <{graph}#p> "conformance sentinel"'
    return (
        f"INSERT DATA {{ GRAPH <{graph}> {{ {triple} }} }}",
        f"ASK {{ {{ {triple} }} UNION {{ GRAPH ?g {{ {triple} }} }} }}",
    )


# --------------------------------------------------------------------------- the W3C manifest


def expect(r: httpx.Response, request: Request, base: str) -> str:
    """Check a response against the manifest's ht:Response: status class, then result format and boolean."""
    wanted = request.status_classes
    require(r.status_code // 100 in wanted, f"expected {'/'.join(f'{c}xx' for c in sorted(wanted))}, got {seen(r)}")
    fmt, mime = request.result_format, media_type(r)
    if fmt == "boolean":
        require(mime in BOOLEAN_TYPES, f"a boolean result as {mime!r}: {seen(r)}")
        answer = parse_answer(r)
        require(answer.kind == "boolean", f"expected a boolean result, got {answer}")
        if request.boolean is not None:
            require(answer.boolean is request.boolean, f"boolean {answer.boolean}, expected {request.boolean}")
    elif fmt == "tabular":
        require(mime in RESULT_TYPES, f"SELECT results as {mime!r}: {seen(r)}")
        require(parse_answer(r).kind == "tabular", "expected variable bindings")
    elif fmt == "RDF":
        # the tests name RDF/XML, Turtle, N-Triples, RDFa; JSON-LD (a later REC) is a graph syntax too,
        # a dataset syntax (TriG, N-Quads) is not a graph result
        require(mime in GRAPH_TYPES, f"a graph result as {mime!r}: {seen(r)}")
        parse_rdf(r.content, mime, base)
    elif fmt is not None:
        raise Failed(f"unknown mf:expectedFormat {fmt!r}")
    return f"HTTP {r.status_code} {mime}".strip()


def _as_written(ep: Endpoint, test: ProtocolTest) -> str:
    detail = ""
    for i, request in enumerate(test.requests, 1):
        try:
            detail = expect(ep.send(request), request, ep.url)
        except Failed as failure:
            raise Failed(f"request {i}/{len(test.requests)} ({request.method}): {failure}") from None
    return detail


def _read_only_update(ep: Endpoint, test: ProtocolTest, refusal_status: int | None) -> str:
    """The update (first request) is refused; the ASKs that follow see none of its effects."""
    update, *checks = test.requests
    detail = _refused(ep.send(update), refusal_status)
    for request in checks:
        r = ep.send(request)
        flipped = None if request.boolean is None else not request.boolean  # no effect: the ASK is false
        expect(r, replace(request, boolean=flipped), ep.url)
    return detail + (f"; {len(checks)} follow-up ASK(s) see no change" if checks else "")


def run_protocol_manifest(
    base_url: str,
    sparql_path: str = "/sparql",
    *,
    dataset_tests: bool = False,
    refusal_status: int | None = 403,
    manifest: Path = MANIFEST,
    timeout: float = 30.0,
) -> list[Result]:
    """Run the W3C SPARQL 1.1 Protocol manifest against the endpoint at `base_url + sparql_path`.

    `dataset_tests`: also run the tests that need data1-3.nt loaded as named graphs (ut:graphData), with a
    check first that they are. `refusal_status`: the status every update must be refused with (None: any
    4xx). The updates (they hold CLEAR ALL) are sent only after a sentinel INSERT DATA was refused."""
    results: list[Result] = []
    tests = load_manifest(manifest)
    with client(timeout, follow_redirects=True) as http:
        ep = Endpoint(http, base_url, sparql_path)
        before, fingerprint_error = _fingerprint(ep)
        if dataset_tests:
            run_check(results, "w3c:graph_data_loaded", partial(_graph_data_loaded, ep, graph_names(tests)))
        insert, ask = _sentinel(ep)

        def sentinel_refused() -> str:
            detail = _refused(ep.direct(insert, ctype="application/sparql-update"), refusal_status)
            require(ep.answer(ask).boolean is False, "the sentinel triple is in the store after its INSERT DATA")
            return detail + ", sentinel absent"

        safe = run_check(results, "w3c:read_only_sentinel", sentinel_refused)
        for test in tests:
            name = f"w3c:{test.id}"
            if test.graph_data and not dataset_tests:
                continue
            if test.sends_update and not safe:
                results.append(Result(name, False, "not sent: the endpoint did not refuse a sentinel INSERT DATA"))
            elif test.kind == "update":
                run_check(results, name, partial(_read_only_update, ep, test, refusal_status))
            else:
                run_check(results, name, partial(_as_written, ep, test))

        def unchanged() -> str:
            require(before is not None, f"no store fingerprint before the updates: {fingerprint_error}")
            after = ep.fingerprint()
            require(after == before, f"(default triples, quads, graphs) before {before}, after {after}")
            return f"(default triples, quads, graphs) = {after} before and after"

        run_check(results, "w3c:store_unchanged", unchanged)
    return results


def _fingerprint(ep: Endpoint) -> tuple[tuple[int, int, int] | None, str]:
    try:
        return ep.fingerprint(), ""
    except Exception as error:  # noqa: BLE001 - reported by the check that compares before and after
        return None, f"{type(error).__name__}: {error}"


def _graph_data_loaded(ep: Endpoint, graphs: dict[str, str]) -> str:
    missing = [iri for iri in graphs.values() if not ep.answer(f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}").boolean]
    require(not missing, f"named graphs not loaded: {missing} (load {sorted(graphs)} as those graphs)")
    return f"{len(graphs)} named graphs loaded"


# --------------------------------------------------------------------------- beyond the manifest


def check_sparql_endpoint(
    base_url: str, sparql_path: str = "/sparql", *, refusal_status: int | None = 403, timeout: float = 30.0
) -> list[Result]:
    """Protocol behaviour the W3C manifest does not pin down, for a read-only public endpoint."""
    results: list[Result] = []
    with client(timeout) as http:
        ep = Endpoint(http, base_url, sparql_path)
        check = partial(run_check, results)
        bad = "SELECT * WHERE { ?s ?p "
        check("sparql:syntax_error_400_get", lambda: _status(ep.get({"query": bad}), 400))
        check("sparql:syntax_error_400_post_form", lambda: _status(ep.form({"query": bad}), 400))
        check("sparql:syntax_error_400_post_direct", lambda: _status(ep.direct(bad), 400))
        update_as_query = "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }"
        check("sparql:update_as_query_400", lambda: _status(ep.get({"query": update_as_query}), 400))

        for label, mime in (("json", SPARQL_JSON), ("xml", SPARQL_XML), ("csv", CSV), ("tsv", TSV)):
            check(f"sparql:select_{label}", partial(_select_in, ep, mime))
        for label, mime in (("json", SPARQL_JSON), ("xml", SPARQL_XML)):
            check(f"sparql:ask_{label}", partial(_ask_in, ep, mime))
        for label, mime in (
            ("turtle", "text/turtle"),
            ("jsonld", "application/ld+json"),
            ("rdfxml", "application/rdf+xml"),
            ("ntriples", "application/n-triples"),
        ):
            check(f"sparql:construct_{label}", partial(_construct_in, ep, mime))

        def q_values() -> str:
            r = ep.get({"query": "ASK {}"}, accept=f"{SPARQL_XML};q=0.5, {SPARQL_JSON}")
            require(r.status_code == 200 and media_type(r) == SPARQL_JSON, f"q=0.5 XML vs q=1 JSON: {seen(r)}")
            return "the higher q-value wins"

        check("sparql:accept_q_values", q_values)
        check("sparql:unacceptable_406", lambda: _status(ep.get({"query": "ASK {}"}, accept="image/png"), 406))

        def unicode() -> str:
            text = "parità ♀ 日本 \U0001f30d"
            r = ep.get({"query": f'SELECT ?x {{ BIND("{text}" AS ?x) }}'}, accept=SPARQL_JSON)
            got = parse_answer(r).rows
            require(got and got[0].get("x") == text, f"sent {text!r}, got {got}")
            return "non-ASCII literal round-trips"

        check("sparql:unicode_roundtrip", unicode)

        def plus_as_space() -> str:
            r = http.post(ep.url, content=b"query=ASK+%7B+%7D", headers={"Content-Type": FORM, "Accept": SPARQL_JSON})
            require(r.status_code == 200 and parse_answer(r).boolean is True, seen(r))
            return "`+` decoded as a space"

        check("sparql:form_plus_is_space", plus_as_space)
        check(
            "sparql:form_with_charset",
            lambda: _true(ep.form({"query": "ASK {}"}, SPARQL_JSON, ctype=f"{FORM}; charset=UTF-8")),
        )
        check(
            "sparql:direct_with_charset",
            lambda: _true(ep.direct("ASK {}", SPARQL_JSON, ctype="application/sparql-query; charset=utf-8")),
        )

        def conditional_get() -> str:
            r = ep.get({"query": "ASK {}"}, accept=SPARQL_JSON)
            etag = r.headers.get("etag")
            require(r.status_code == 200 and etag, f"no ETag on a GET query: {seen(r)}")
            again = ep.get({"query": "ASK {}"}, accept=SPARQL_JSON, **{"If-None-Match": etag})
            require(again.status_code == 304 and not again.content, f"If-None-Match {etag}: {seen(again)}")
            return f"ETag {etag} -> 304"

        check("sparql:conditional_get_304", conditional_get)

        before, fingerprint_error = _fingerprint(ep)
        insert, ask = _sentinel(ep)
        check("sparql:update_post_form_refused", lambda: _refused(ep.form({"update": insert}), refusal_status))
        check(
            "sparql:update_post_direct_refused",
            lambda: _refused(ep.direct(insert, ctype="application/sparql-update"), refusal_status),
        )
        check("sparql:update_get_refused", lambda: _refused(ep.get({"update": insert}), refusal_status))

        def sentinel_absent() -> str:
            require(before is not None, f"no store fingerprint before the updates: {fingerprint_error}")
            require(ep.answer(ask).boolean is False, "the refused INSERT DATA got into the store")
            after = ep.fingerprint()
            require(after == before, f"(default triples, quads, graphs) before {before}, after {after}")
            return f"sentinel absent, store unchanged {after}"

        check("sparql:updates_change_nothing", sentinel_absent)

        def cors_get() -> str:
            r = ep.get({"query": "ASK {}"}, accept=SPARQL_JSON, Origin=ORIGIN)
            require(cors_allowed(r), f"Access-Control-Allow-Origin: {r.headers.get('access-control-allow-origin')}")
            require("access-control-allow-credentials" not in r.headers, "a public endpoint allows credentials")
            return f"Access-Control-Allow-Origin: {r.headers['access-control-allow-origin']}"

        def cors_preflight() -> str:
            r = http.options(
                ep.url,
                headers={
                    "Origin": ORIGIN,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            allowed = tokens(r, "access-control-allow-headers")
            require(r.status_code in (200, 204) and cors_allowed(r), f"preflight: {seen(r)}")
            require("content-type" in allowed or "*" in allowed, f"Access-Control-Allow-Headers: {allowed}")
            methods = tokens(r, "access-control-allow-methods")
            require("post" in methods or "*" in methods, f"Access-Control-Allow-Methods: {methods}")
            return f"HTTP {r.status_code}, POST with Content-Type allowed"

        check("sparql:cors_get", cors_get)
        check("sparql:cors_preflight_post", cors_preflight)
    return results


def _status(r: httpx.Response, status: int) -> str:
    require(r.status_code == status, f"expected {status}, got {seen(r)}")
    return seen(r)[:120]


def _true(r: httpx.Response) -> str:
    require(r.status_code == 200 and parse_answer(r).boolean is True, seen(r))
    return "ASK {} is true"


def _select_in(ep: Endpoint, mime: str) -> str:
    r = ep.get({"query": 'SELECT ?value ?n WHERE { BIND ("a b" AS ?value) BIND (7 AS ?n) }'}, accept=mime)
    require(r.status_code == 200 and media_type(r) == mime, f"Accept {mime}: {seen(r)}")
    answer = parse_answer(r)
    require(answer.variables == ("value", "n"), f"variables {answer.variables}")
    require([dict(row) for row in answer.rows] == [{"value": "a b", "n": "7"}], f"rows {answer.rows}")
    return f"{mime}: 1 row"


def _ask_in(ep: Endpoint, mime: str) -> str:
    for query, value in (("ASK {}", True), ("ASK { FILTER(false) }", False)):
        r = ep.direct(query, accept=mime)
        require(r.status_code == 200 and media_type(r) == mime, f"Accept {mime}: {seen(r)}")
        require(parse_answer(r).boolean is value, f"{query} gave {parse_answer(r)}")
    return f"{mime}: true and false"


def _construct_in(ep: Endpoint, mime: str) -> str:
    query = 'CONSTRUCT { <http://example.org/s> <http://example.org/p> "é", 1 } WHERE {}'
    r = ep.get({"query": query}, accept=mime)
    require(r.status_code == 200 and media_type(r) == mime, f"Accept {mime}: {seen(r)}")
    got = response_graph(r)
    s, p = rdflib.URIRef("http://example.org/s"), rdflib.URIRef("http://example.org/p")
    want = {(s, p, rdflib.Literal("é")), (s, p, rdflib.Literal(1))}
    require(set(got) == want, f"got {sorted(map(str, got))}")
    return f"{mime}: {len(got)} triples"


# --------------------------------------------------------------------------- Service Description


def check_service_description(
    base_url: str, sparql_path: str = "/sparql", *, public_endpoint: str | None = None, timeout: float = 30.0
) -> list[Result]:
    """The W3C Service Description tests (ids from the vendored manifest) plus: every RDF syntax gives the
    same description, and a read-only service does not advertise SPARQL 1.1 Update."""
    results: list[Result] = []
    url = base_url.rstrip("/") + sparql_path
    endpoints = {rdflib.URIRef(url)} | ({rdflib.URIRef(public_endpoint)} if public_endpoint else set())
    state: dict[str, rdflib.Graph] = {}

    def description() -> rdflib.Graph:
        require("sd" in state, "no service description (see returns-rdf)")
        return state["sd"]

    with client(timeout) as http:

        def returns_rdf() -> str:
            r = http.get(url, headers={"Accept": RDF_ACCEPT})
            mime = media_type(r)
            require(r.status_code == 200, seen(r))
            require(mime in GRAPH_TYPES, f"not an RDF graph media type: {seen(r)}")
            state["sd"] = response_graph(r)
            return f"{mime}, {len(state['sd'])} triples"

        def has_endpoint_triple() -> str:
            found = set(description().objects(None, SD.endpoint))
            require(
                found & endpoints,
                f"sd:endpoint {sorted(map(str, found))}, expected one of {sorted(map(str, endpoints))}",
            )
            return f"sd:endpoint {sorted(map(str, found))}"

        def conforms_to_schema() -> str:
            g = description()
            services = set(g.subjects(RDF.type, SD.Service)) | set(g.subjects(SD.endpoint, None))
            require(services, "no sd:Service")
            problems = []
            for svc in services:
                if (svc, RDF.type, SD.Service) not in g:
                    problems.append(f"{svc} is not typed sd:Service")
                if g.value(svc, SD.endpoint) is None:
                    problems.append(f"{svc} has no sd:endpoint")
                languages = set(g.objects(svc, SD.supportedLanguage))
                if not languages or languages - QUERY_LANGUAGES:
                    problems.append(f"sd:supportedLanguage {sorted(languages)}")
                for prop in (SD.resultFormat, SD.inputFormat, SD.feature, SD.extensionFunction):
                    problems += [f"{prop} {o!r} is not an IRI" for o in g.objects(svc, prop) if not _iri(o)]
                for dataset in g.objects(svc, SD.defaultDataset):
                    if (dataset, RDF.type, SD.Dataset) not in g:
                        problems.append("sd:defaultDataset is not an sd:Dataset")
                    for graph in g.objects(dataset, SD.defaultGraph):
                        if (graph, RDF.type, SD.Graph) not in g:
                            problems.append("sd:defaultGraph is not an sd:Graph")
                    for named in g.objects(dataset, SD.namedGraph):
                        if not _iri(g.value(named, SD.name)):
                            problems.append(f"sd:namedGraph {named} has no IRI sd:name")
            require(not problems, "; ".join(problems[:5]))
            return f"{len(services)} sd:Service, {len(g)} triples"

        implemented: dict[str, Callable[[], str]] = {
            "returns-rdf": returns_rdf,
            "has-endpoint-triple": has_endpoint_triple,
            "conforms-to-schema": conforms_to_schema,
        }
        order = ["returns-rdf"] + [t for t in service_description_tests() if t != "returns-rdf"]
        for test_id in order:
            run_check(results, f"w3c-sd:{test_id}", implemented.get(test_id, partial(_unimplemented, test_id)))

        def read_only() -> str:
            require((None, SD.supportedLanguage, SD.SPARQL11Update) not in description(), "advertises SPARQL11Update")
            return "no sd:SPARQL11Update"

        def every_syntax() -> str:
            first = description()
            for mime in GRAPH_TYPES:
                r = http.get(url, headers={"Accept": mime})
                require(r.status_code == 200 and media_type(r) == mime, f"Accept {mime}: {seen(r)}")
                require(same_graph(response_graph(r), first), f"{mime} differs from the negotiated description")
            r = http.get(url, headers={"Accept": "text/html"})
            require(r.status_code == 200 and media_type(r) in HTML_TYPES, f"browsers get the query page: {seen(r)}")
            return f"{len(GRAPH_TYPES)} RDF syntaxes agree; HTML for browsers"

        run_check(results, "sd:read_only", read_only)
        run_check(results, "sd:every_rdf_syntax", every_syntax)
    return results


def _iri(node: object) -> bool:
    return isinstance(node, rdflib.URIRef)


def _unimplemented(test_id: str) -> str:
    raise Failed(f"the Service Description manifest names {test_id!r}, which this checker does not implement")
