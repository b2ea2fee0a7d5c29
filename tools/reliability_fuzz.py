"""Fuzzing a running server: schemathesis from its OpenAPI schema (`/-/openapi.json`), and hypothesis-made
Accept headers, URIs and query parameters. Needs the test extra (`pip install -e '.[test]'`)."""

from __future__ import annotations

import functools
import string
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx

from tools.reliability_kit import Check, Server

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy
    from schemathesis import Case

T = TypeVar("T")

SECRETS = ("Traceback", 'File "/', "site-packages", "PROJECT_ROOT")


def available() -> str | None:
    """None when schemathesis and hypothesis are installed, else why not."""
    try:
        import hypothesis  # noqa: F401
        import schemathesis  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[test]')"
    return None


def _run_examples(strategy: SearchStrategy[T], examples: int, each: Callable[[T], None]) -> None:
    from hypothesis import HealthCheck, given, settings

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def run(value: T) -> None:
        each(value)

    run()


def schemathesis_check(server: Server, examples: int) -> Check:
    """Every described operation, `examples` generated requests each: no 5xx, status codes, content types,
    headers and JSON bodies as the schema says."""
    import schemathesis
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )
    from schemathesis.core.result import Err

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        response_headers_conformance,
    ]
    schema = schemathesis.openapi.from_url(server.url + "/-/openapi.json")
    tried, failures, operations = 0, list[str](), 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        operations += 1

        def each(case: Case[Any], operation: Any = operation) -> None:
            nonlocal tried
            tried += 1
            response = case.call(base_url=server.url, timeout=60)
            try:
                case.validate_response(response, checks=checks)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - schemathesis raises a group of failures
                if len(failures) < 5:
                    failures.append(f"{operation.method.upper()} {operation.path}: {str(exc).splitlines()[0][:160]}")
                else:
                    failures.append("")

        _run_examples(operation.as_strategy(), examples, each)
    ok = tried > 0 and not failures
    return Check(
        "fuzz",
        "schemathesis (OpenAPI schema)",
        ok,
        f"{operations} operations, {tried} requests, {len(failures)} failing",
        "; ".join(f for f in failures if f),
    )


def _accepts() -> SearchStrategy[str]:
    from hypothesis import strategies as st

    types = st.sampled_from(
        [
            "*/*",
            "text/*",
            "text/turtle",
            "application/ld+json",
            "application/rdf+xml",
            "text/html",
            "application/json",
            "application/xml",
            "image/png",
            "",
            "*",
            ";",
            "/",
        ]
    )
    param = st.tuples(
        st.sampled_from(["q", "charset", "profile", "level", ""]),
        st.one_of(
            st.floats(-2, 3).map(lambda f: f"{f:.3f}"),
            st.text(string.ascii_letters + string.digits + string.punctuation + " ", max_size=8),
        ),
    )
    item = st.tuples(types, st.lists(param, max_size=3)).map(lambda t: t[0] + "".join(f";{k}={v}" for k, v in t[1]))
    junk = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200)
    return st.one_of(st.lists(item, max_size=6).map(", ".join), junk)


def _uris() -> SearchStrategy[str]:
    from hypothesis import strategies as st

    prefix = st.sampled_from(
        [
            "/id/",
            "/doc/",
            "/graph/",
            "/dumps/",
            "/static/",
            "/",
            "/sparql/",
            "/-/",
            "/catalog.",
            "/.well-known/void.",
            "/ontology.",
            "/releases/",
        ]
    )
    tail = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120)
    return st.tuples(prefix, tail).map(lambda t: t[0] + quote(t[1], safe="/:@!$&'()*+,;=~.-_"))


def _params() -> SearchStrategy[tuple[str, list[tuple[str, str]]]]:
    from hypothesis import strategies as st

    keys = st.sampled_from(
        [
            "query",
            "format",
            "default-graph-uri",
            "named-graph-uri",
            "incoming",
            "lang",
            "page",
            "update",
            "using-graph-uri",
            "q",
            "output",
        ]
    )
    values = st.one_of(
        st.text(max_size=80),
        st.sampled_from(
            ["SELECT * { ?s ?p ?o } LIMIT 1", "ASK {}", "json", "turtle", "-1", "99999999999999999999", "", "html"]
        ),
    )
    return st.tuples(
        st.sampled_from(
            [
                "/sparql",
                "/doc/organization/provincia-di-asti",
                "/catalog",
                "/-/kind/network",
                "/.well-known/void",
                "/",
                "/releases",
            ]
        ),
        st.lists(st.tuples(keys, values), max_size=4),
    )


def hypothesis_check(server: Server, examples: int) -> Check:
    """Generated Accept headers, URIs and query parameters: never a 5xx, never a stack trace."""
    seen: dict[str, int] = {"accept": 0, "uri": 0, "params": 0}
    failures: list[str] = []
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=False) as client:

        def judge(kind: str, send: Callable[[], httpx.Response], what: str) -> None:
            try:
                response = send()
            except httpx.LocalProtocolError:
                return  # a value the HTTP client itself refuses to send
            seen[kind] += 1
            if response.status_code >= 500 or any(s in response.text for s in SECRETS):
                failures.append(f"{kind} {what[:80]!r} -> {response.status_code}")

        def accept(value: str) -> None:
            for path in ("/doc/organization/provincia-di-asti", "/sparql?query=ASK%7B%7D", "/catalog"):
                judge(
                    "accept",
                    functools.partial(client.get, path, headers={"Accept": str(value).strip()}),
                    f"{path} {value}",
                )

        def uri(value: str) -> None:
            judge("uri", lambda: client.get(str(value)), str(value))

        def params(value: tuple[str, list[tuple[str, str]]]) -> None:
            path, pairs = value
            judge("params", lambda: client.get(path, params=tuple(pairs)), f"{path} {pairs}")

        _run_examples(_accepts(), examples, accept)
        _run_examples(_uris(), examples, uri)
        _run_examples(_params(), examples, params)
    total = sum(seen.values())
    return Check(
        "fuzz",
        "hypothesis: Accept headers, URIs, query parameters",
        not failures,
        f"{total} requests ({seen['accept']} Accept, {seen['uri']} URIs, {seen['params']} parameter sets), "
        f"{len(failures)} failing",
        "; ".join(failures[:5]),
    )
