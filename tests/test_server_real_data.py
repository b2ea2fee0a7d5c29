"""The server over a release built by `scripts.build` from the project's real data/: the project's own
conformance checker (tests/conformance/) passes for one resource of every class, and every internal link of
every HTML page resolves."""

from __future__ import annotations

import httpx
import pytest
from conformance import check_publisher, failures, report
from conftest import BASE, LiveServer
from test_server_conformance import one_resource_per_class

pytestmark = pytest.mark.server


@pytest.fixture
def real_server(site_server: LiveServer) -> LiveServer:
    """The session's server over the real data (conftest.site_server): read-only, so shared with the site tests."""
    return site_server


def test_checker_on_every_class(real_server: LiveServer) -> None:
    resources = one_resource_per_class(real_server)
    graphs = httpx.post(
        real_server.url + "/sparql",
        data={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"]
    paths = resources + ["/ontology", "/shapes"] + ["/" + g["g"]["value"][len(BASE) :] for g in graphs][:2]
    results = check_publisher(real_server.url, public_base=BASE, resources=paths)
    assert not failures(results), report(results)
    assert all(f"ld:{p}:conneg_turtle" in {r.name for r in results} for p in paths)


def test_crawl_real_data(site_crawl: tuple[int, list[str]]) -> None:
    """The crawl of the real-data site (conftest.site_crawl): the site `real_server` serves."""
    pages, broken = site_crawl
    assert not broken, broken[:20]
    assert pages > 100


def test_every_example_query_answers(real_server: LiveServer) -> None:
    """The query page's examples answer real questions: each returns something on the real data."""
    from server.examples import examples

    for example in examples(BASE):
        r = httpx.post(
            real_server.url + "/sparql",
            data={"query": example["query"]},
            headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"},
        )
        assert r.status_code == 200, (example["title"], r.text)
        if r.headers["content-type"].startswith("application/sparql-results+json"):
            assert r.json()["results"]["bindings"], example["title"]
        else:
            assert r.text.strip(), example["title"]
