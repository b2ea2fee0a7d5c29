"""The W3C SPARQL 1.1 Protocol test manifest (tests/data/w3c-sparql-protocol/), read with rdflib."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib.namespace import RDF, RDFS

DATA = Path(__file__).resolve().parents[1] / "data" / "w3c-sparql-protocol"
MANIFEST = DATA / "manifest.ttl"
SD_MANIFEST = DATA / "service-description-manifest.ttl"
MANIFEST_IRI = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest"
SD_MANIFEST_IRI = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/service-description/manifest"

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
PATH_PREFIX = "/sparql/"  # every ht:absolutePath starts with it; a runner puts the endpoint's path instead


@dataclass(frozen=True)
class Request:
    """One ht:Request of a test and what its ht:Response must be."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: str | None
    encoding: str
    status_classes: frozenset[int]  # 2 for hts:StatusCode2xx …
    result_format: str | None  # "boolean", "tabular", "RDF" or None
    boolean: bool | None

    def target(self, endpoint_path: str) -> str:
        """The request path on a server whose endpoint is at `endpoint_path`."""
        if not self.path.startswith(PATH_PREFIX):
            raise ValueError(f"manifest path {self.path!r} does not start with {PATH_PREFIX}")
        return endpoint_path + self.path[len(PATH_PREFIX) :]

    def content(self) -> bytes | None:
        return None if self.body is None else self.body.encode(self.encoding.lower())


@dataclass(frozen=True)
class ProtocolTest:
    id: str
    name: str
    requests: tuple[Request, ...]
    graph_data: tuple[tuple[str, str], ...]  # (file name, graph IRI) the test needs loaded

    @property
    def kind(self) -> str:
        """`query`, `update` (must succeed on a writable service) or `bad` (must get a 4xx)."""
        return self.id.split("_", 1)[0]

    @property
    def sends_update(self) -> bool:
        return self.id.startswith(("update_", "bad_update"))


def _items(graph: rdflib.Graph, node: rdflib.term.Node | None) -> list[rdflib.term.Node]:
    return [] if node is None else list(graph.items(node))


def _request(graph: rdflib.Graph, node: rdflib.term.Node) -> Request:
    body = graph.value(node, HT.body)
    headers = tuple(
        (str(graph.value(h, HT.fieldName)).lower(), str(graph.value(h, HT.fieldValue)))
        for h in _items(graph, graph.value(node, HT.headers))
    )
    response = graph.value(node, HT.resp)
    classes = set()
    for status in graph.objects(response, MF.expectedStatus):
        match = re.search(r"StatusCode(\d)xx$", str(status))
        if match is None:
            raise ValueError(f"unknown expected status {status}")
        classes.add(int(match.group(1)))
    fmt = graph.value(response, MF.expectedFormat)
    boolean = graph.value(response, MF.expectedBoolean)
    return Request(
        method=str(graph.value(node, HT.methodName)),
        path=str(graph.value(node, HT.absolutePath)),
        headers=headers,
        body=None if body is None else str(graph.value(body, CNT.chars)),
        encoding="UTF-8" if body is None else str(graph.value(body, CNT.characterEncoding) or "UTF-8"),
        status_classes=frozenset(classes),
        result_format=None if fmt is None else str(fmt),
        boolean=None if boolean is None else bool(boolean.toPython()),
    )


def load_manifest(path: Path = MANIFEST) -> list[ProtocolTest]:
    """Every mf:ProtocolTest of the manifest, in its mf:entries order."""
    graph = rdflib.Graph().parse(path, format="turtle", publicID=MANIFEST_IRI)
    manifest = graph.value(None, RDF.type, MF.Manifest, any=False)
    tests = []
    for entry in _items(graph, graph.value(manifest, MF.entries)):
        action = graph.value(entry, MF.action)
        requests = tuple(_request(graph, r) for r in _items(graph, graph.value(action, HT.requests)))
        data = tuple(
            sorted(
                (str(graph.value(d, UT.graph)).rsplit("/", 1)[-1], str(graph.value(d, RDFS.label)))
                for d in graph.objects(entry, UT.graphData)
            )
        )
        name = str(graph.value(entry, MF.name))
        tests.append(ProtocolTest(str(entry).rpartition("#")[2], name, requests, data))
    return tests


def service_description_tests(path: Path = SD_MANIFEST) -> dict[str, str]:
    """The W3C Service Description tests: id -> name (they carry no data; the checks implement them)."""
    graph = rdflib.Graph().parse(path, format="turtle", publicID=SD_MANIFEST_IRI)
    manifest = graph.value(None, RDF.type, MF.Manifest, any=False)
    return {
        str(e).rpartition("#")[2]: str(graph.value(e, MF.name))
        for e in _items(graph, graph.value(manifest, MF.entries))
    }


def graph_names(tests: list[ProtocolTest]) -> dict[str, str]:
    """file name -> graph IRI of every data file the manifest's tests load (data1.nt -> …/data1.rdf)."""
    return {file: iri for t in tests for file, iri in t.graph_data}
