"""parita's own black-box conformance checker: it talks HTTP to a live server and returns one `Result`
(name, passed, detail) per check, for the tests to assert that none failed.

* `protocol`: the W3C SPARQL 1.1 Protocol manifest (tests/data/w3c-sparql-protocol/) as a read-only public
  endpoint, further protocol checks, and the W3C Service Description tests.
* `linked_data`: dereferencing of resource paths (303/200 policy, content negotiation, Vary, Link
  alternates, validators and 304, HEAD, CORS, 404).
* `descriptions`: the VoID description and the DCAT catalog.

`check_publisher` runs them all. Import as `from conformance import …` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

from collections.abc import Iterable

from .core import Result, failures, report
from .descriptions import check_catalog, check_void
from .linked_data import check_resource, check_resources, parita_document
from .manifest import load_manifest
from .protocol import check_service_description, check_sparql_endpoint, run_protocol_manifest

__all__ = [
    "Result",
    "check_catalog",
    "check_publisher",
    "check_resource",
    "check_resources",
    "check_service_description",
    "check_sparql_endpoint",
    "check_void",
    "failures",
    "load_manifest",
    "parita_document",
    "report",
    "run_protocol_manifest",
]


def check_publisher(
    base_url: str,
    *,
    public_base: str | None = None,
    sparql_path: str | None = "/sparql",
    resources: Iterable[str] = (),
    void_path: str | None = "/.well-known/void",
    dcat_path: str | None = "/catalog",
    dataset_tests: bool = False,
    refusal_status: int | None = 403,
) -> list[Result]:
    """Every check against the server at `base_url` whose IRIs start with `public_base`: the SPARQL endpoint
    (W3C manifest, further protocol checks, Service Description), each resource path, VoID and DCAT."""
    base_url = base_url.rstrip("/")
    paths = list(resources)
    public_endpoint = (public_base or base_url).rstrip("/") + sparql_path if sparql_path else None
    results: list[Result] = []
    if sparql_path:
        results += run_protocol_manifest(
            base_url, sparql_path, dataset_tests=dataset_tests, refusal_status=refusal_status
        )
        results += check_sparql_endpoint(base_url, sparql_path, refusal_status=refusal_status)
        results += check_service_description(base_url, sparql_path, public_endpoint=public_endpoint)
    for path in paths:
        results += check_resource(base_url, path, public_base=public_base)
    if void_path:
        results += check_void(base_url, void_path, public_base=public_base, sparql_path=sparql_path, resources=paths)
    if dcat_path:
        results += check_catalog(base_url, dcat_path, public_base=public_base, sparql_path=sparql_path)
    return results
