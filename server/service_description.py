"""SPARQL 1.1 Service Description of the endpoint. https://www.w3.org/TR/sparql11-service-description/"""

from __future__ import annotations

import pyoxigraph as ox

from .config import Settings
from .formats import CONSTRUCT_FORMATS, RESULT_FORMATS
from .rdfbuild import Builder, iri, lit
from .release import Release
from .stats import Stats
from .vocab import DCT, RDFS, SD, VOID


def service_description(
    endpoint_url: str, settings: Settings, release: Release, stats: Stats | None = None
) -> list[ox.Triple]:
    """The service at `endpoint_url` (the URL it was reached at): language, formats, features, dataset."""
    b = Builder()
    svc = iri(endpoint_url)
    b.types(svc, SD + "Service")
    b.add(svc, SD + "endpoint", svc)
    b.add(svc, SD + "supportedLanguage", iri(SD + "SPARQL11Query"))
    b.add(svc, SD + "feature", iri(SD + "UnionDefaultGraph"))
    for fmt in RESULT_FORMATS + CONSTRUCT_FORMATS:
        b.add(svc, SD + "resultFormat", iri(fmt.sd_iri))
    b.add(svc, DCT + "title", lit("parita SPARQL endpoint (read-only)", "en"))
    b.add(
        svc,
        RDFS + "comment",
        lit(
            f"Read-only SPARQL 1.1 Query endpoint. The default graph is the union of all named graphs, the derived "
            f"{settings.base_uri}graph/entailed, graph/derived and graph/reconciled included, unless default-graph-uri/named-graph-uri "
            f"or FROM say otherwise; default-graph-uri={settings.base_uri}graph/asserted means every graph but the "
            f"derived ones. Queries stop after {settings.sparql_timeout:g} s; "
            f"at most {settings.sparql_row_limit} rows are returned (the X-Parita-Truncated header says when results "
            f"were cut). SERVICE, LOAD and every update are refused.",
            "en",
        ),
    )
    dataset = b.bnode()
    b.add(svc, SD + "defaultDataset", dataset)
    b.types(dataset, SD + "Dataset")
    b.add(dataset, DCT + "source", iri(settings.base_uri + ".well-known/void#parita"))
    default = b.bnode()
    b.add(dataset, SD + "defaultGraph", default)
    b.types(default, SD + "Graph")
    if stats is not None:
        b.add(default, VOID + "triples", lit(stats.triples))
    counts = stats.graphs if stats is not None else {g: int(i.get("triples", 0)) for g, i in release.graphs.items()}
    for name, n in sorted(counts.items()):
        named, graph = b.bnode(), b.bnode()
        b.add(dataset, SD + "namedGraph", named)
        b.types(named, SD + "NamedGraph")
        b.add(named, SD + "name", iri(name))
        b.add(named, SD + "graph", graph)
        b.types(graph, SD + "Graph")
        b.add(graph, VOID + "triples", lit(n))
    return b.triples
