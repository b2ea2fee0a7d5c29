"""The VoID description of the served data, generated from it. https://www.w3.org/TR/void/"""

from __future__ import annotations

import pyoxigraph as ox

from .config import Settings
from .rdfbuild import Builder, iri, lit
from .release import Release
from .stats import Stats
from .vocab import DCT, FOAF, RDFS, VOID

VOID_PATH = ".well-known/void"
CATALOG_PATH = "catalog"


def void_iri(base: str) -> str:
    return base + VOID_PATH + "#parita"


def void_description(
    settings: Settings, release: Release, stats: Stats, source_titles: dict[str, str], sources: dict[str, str]
) -> list[ox.Triple]:
    """`source_titles`: graph → title of its source; `sources`: graph → source document IRI."""
    """Dataset with counts, class and property partitions, SPARQL endpoint, dumps, URI space, subsets."""
    base = settings.base_uri
    b = Builder()
    ds = iri(void_iri(base))
    doc = iri(base + VOID_PATH)
    b.types(doc, VOID + "DatasetDescription")
    b.add(doc, DCT + "title", lit("Descrizione VoID di parita", "it"))
    b.add(doc, FOAF + "primaryTopic", ds)
    b.types(ds, VOID + "Dataset")
    b.add(ds, DCT + "title", lit("parita: pari opportunità nella PA italiana", "it"))
    b.add(ds, DCT + "title", lit("parita: equal opportunities in Italy's public sector", "en"))
    b.add(
        ds,
        DCT + "description",
        lit("Enti, reti, protocolli e sportelli per le pari opportunità, con la fonte di ogni affermazione.", "it"),
    )
    b.add(ds, DCT + "license", iri(settings.license_uri))
    b.add(ds, DCT + "modified", lit(release.created))
    b.add(ds, FOAF + "homepage", iri(base))
    # VoID -> catalog (the catalog's whole dataset says rdfs:seeAlso back to this one)
    b.add(ds, RDFS + "seeAlso", iri(base + CATALOG_PATH + "#dataset"))
    b.add(doc, RDFS + "seeAlso", iri(base + CATALOG_PATH))
    b.add(ds, VOID + "sparqlEndpoint", iri(base + "sparql"))
    b.add(ds, RDFS + "seeAlso", iri(base + "ldes"))  # the change feed (server/ldes.py)
    b.add(ds, VOID + "rootResource", iri(base + "id/"))
    b.add(ds, VOID + "uriSpace", lit(base))
    b.add(ds, VOID + "feature", iri("http://www.w3.org/ns/formats/Turtle"))
    b.add(ds, VOID + "feature", iri("http://www.w3.org/ns/formats/JSON-LD"))
    b.add(ds, VOID + "feature", iri("http://www.w3.org/ns/formats/RDF_XML"))
    for name in sorted(release.dumps):
        b.add(ds, VOID + "dataDump", iri(base + "dumps/" + name))
    for ns in stats.vocabularies:
        b.add(ds, VOID + "vocabulary", iri(ns))
    b.add(ds, VOID + "triples", lit(stats.triples))
    b.add(ds, VOID + "entities", lit(stats.entities))
    b.add(ds, VOID + "distinctSubjects", lit(stats.distinct_subjects))
    b.add(ds, VOID + "distinctObjects", lit(stats.distinct_objects))
    b.add(ds, VOID + "classes", lit(len(stats.classes)))
    b.add(ds, VOID + "properties", lit(len(stats.properties)))
    for cls, n in sorted(stats.classes.items()):
        part = b.bnode()
        b.add(ds, VOID + "classPartition", part)
        b.add(part, VOID + "class", iri(cls))
        b.add(part, VOID + "entities", lit(n))
    for prop, n in sorted(stats.properties.items()):
        part = b.bnode()
        b.add(ds, VOID + "propertyPartition", part)
        b.add(part, VOID + "property", iri(prop))
        b.add(part, VOID + "triples", lit(n))
    for graph, n in sorted(stats.graphs.items()):
        sub = iri(graph)
        b.add(ds, VOID + "subset", sub)
        b.types(sub, VOID + "Dataset")
        b.add(sub, VOID + "triples", lit(n))
        b.add(sub, DCT + "title", lit(source_titles.get(graph) or graph.rsplit("/", 1)[-1], "it"))
        b.add(sub, VOID + "dataDump", iri(graph + ".ttl"))
        if graph in sources:
            b.add(sub, DCT + "source", iri(sources[graph]))
    return b.triples


def graph_document(quads: list[ox.Quad]) -> list[ox.Triple]:
    """What `/graph/<name>` serves as RDF: exactly the graph's triples, blank nodes labelled by RDFC-1.0 and
    sorted, so every process (and every restart) serves the same bytes, which the catalog's checksum covers."""
    if any(isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) for q in quads):
        dataset = ox.Dataset(quads)  # canonicalising costs seconds on a national-size graph: only when needed
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        quads = list(dataset)
    return sorted((ox.Triple(q.subject, q.predicate, q.object) for q in quads), key=str)


def about_graph(
    base: str, doc_iri: str, graph_iri: str, triples: int | None = None, source: str | None = None
) -> list[ox.Triple]:
    """What a graph's document says about itself: the dataset it belongs to, its size and its source."""
    b = Builder()
    b.add(doc_iri, VOID + "inDataset", iri(void_iri(base)))
    if doc_iri == graph_iri:
        b.types(doc_iri, VOID + "Dataset")
    else:
        b.add(doc_iri, RDFS + "seeAlso", iri(graph_iri))
    if triples is not None:
        b.add(doc_iri, VOID + "triples", lit(triples))
    if source:
        b.add(doc_iri, DCT + "source", iri(source))
    return b.triples
