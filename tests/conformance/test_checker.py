"""The checker itself: it reads the vendored W3C manifests as they are, and it reports failures when the
server, the path or the expectation is wrong (a checker that always passes would prove nothing)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import rdflib
from conftest import BASE, LiveServer

from .core import Result, failures, report
from .descriptions import check_catalog, check_void
from .linked_data import check_resource
from .manifest import HT, MANIFEST, MANIFEST_IRI, MF, graph_names, load_manifest, service_description_tests
from .protocol import check_service_description, check_sparql_endpoint, run_protocol_manifest

NET = "/id/network/rete-antiviolenza-asti"


def failed(results: list[Result]) -> set[str]:
    return {r.name for r in failures(results)}


def test_manifests_are_read_whole() -> None:
    tests = load_manifest()
    kinds = [t.kind for t in tests]
    assert (len(tests), kinds.count("query"), kinds.count("update"), kinds.count("bad")) == (34, 13, 7, 14)
    assert sum(bool(t.graph_data) for t in tests) == 6
    assert graph_names(tests) == {f"data{i}.nt": f"http://kasei.us/2009/09/sparql/data/data{i}.rdf" for i in (1, 2, 3)}
    assert all(r.path.startswith("/sparql/") and r.status_classes for t in tests for r in t.requests)
    non_utf8 = next(t for t in tests if t.id == "bad_query_non_utf8").requests[0]
    assert non_utf8.content() == "ASK {}".encode("utf-16") and non_utf8.status_classes == {4}
    assert sorted(service_description_tests()) == ["conforms-to-schema", "has-endpoint-triple", "returns-rdf"]


@pytest.mark.server
def test_a_wrong_endpoint_path_fails(live_server: LiveServer) -> None:
    results = run_protocol_manifest(live_server.url, "/no-such-endpoint")
    assert {"w3c:query_get", "w3c:query_post_form", "w3c:store_unchanged"} <= failed(results), report(results)
    assert failed(check_sparql_endpoint(live_server.url, "/no-such-endpoint"))
    assert "w3c-sd:returns-rdf" in failed(check_service_description(live_server.url, "/no-such-endpoint"))


@pytest.mark.server
def test_wrong_expectations_fail(live_server: LiveServer, tmp_path: Path) -> None:
    """The same server, a manifest whose query_get expects `false`, and a refusal status it does not send."""
    graph = rdflib.Graph().parse(MANIFEST, format="turtle", publicID=MANIFEST_IRI)
    entry = rdflib.URIRef(MANIFEST_IRI + "#query_get")
    request = next(graph.items(graph.value(graph.value(entry, MF.action), HT.requests)))
    response = graph.value(request, HT.resp)
    graph.set((response, MF.expectedBoolean, rdflib.Literal(False)))
    wrong = tmp_path / "manifest.ttl"
    graph.serialize(wrong, format="turtle")
    results = run_protocol_manifest(live_server.url, manifest=wrong)
    assert failed(results) == {"w3c:query_get"}, report(results)
    assert "expected False" in failures(results)[0].detail
    refused_with = run_protocol_manifest(live_server.url, refusal_status=405)
    assert "w3c:read_only_sentinel" in failed(refused_with)
    assert "w3c:update_post_form" in failed(refused_with)  # not sent: the sentinel was not "refused"


@pytest.mark.server
def test_missing_resources_and_wrong_policy_fail(live_server: LiveServer) -> None:
    results = check_resource(live_server.url, "/id/network/no-such-network", public_base=BASE)
    assert {f"ld:/id/network/no-such-network:{c}" for c in ("303_or_200_policy", "conneg_turtle", "head")} <= failed(
        results
    )
    assert failed(check_resource(live_server.url, NET, public_base=BASE)) == set()
    wrong_iri = check_resource(live_server.url, NET, public_base="https://elsewhere.example")  # no triple about it
    assert f"ld:{NET}:conneg_turtle" in failed(wrong_iri)
    redirects_expected = check_resource(live_server.url, "/ontology", public_base=BASE, document_of=lambda p: "/doc/x")
    assert failed(redirects_expected) == {"ld:/ontology:303_or_200_policy"}, report(redirects_expected)
    assert "void:loads" in failed(check_void(live_server.url, "/no-such-void", public_base=BASE))
    assert "dcat:catalog" in failed(check_catalog(live_server.url, "/.well-known/void", public_base=BASE))


class Careless(BaseHTTPRequestHandler):
    """Turtle for every path and every Accept: no Vary, validators or CORS, and a body even after HEAD."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        host = f"http://{self.headers['Host']}"
        body = f'<{host}{self.path}> <http://www.w3.org/2000/01/rdf-schema#label> "x" .\n'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/turtle")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


@pytest.fixture
def careless() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Careless)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_careless_server_fails_what_it_gets_wrong(careless: str) -> None:
    results = check_resource(careless, "/doc/alice")
    tag = "ld:/doc/alice:"
    assert f"{tag}conneg_turtle" not in failed(results)  # what it does right passes
    for check in ("conneg_jsonld", "conneg_html", "vary_accept", "head", "etag_and_last_modified", "cors"):
        assert tag + check in failed(results), report(results)
    assert tag + "unknown_404" in failed(results)  # it serves every path
