"""Views: the template context of each page built from the store (resource, named graph, ontology and shapes
reference). A view reads one release (the `Served` it is given) and returns a context; the route hands it
to `web.render` with its template."""

from __future__ import annotations

from urllib.parse import urlencode

import pyoxigraph as ox
from starlette.concurrency import run_in_threadpool

from .rendering import Renderer, label
from .runtime import Served
from .store import Description
from .urls import Urls
from .vocab import OWL, RDFS, SH, SKOS, TYPE, prefixes
from .web import alternates

Context = dict[str, object]


def sparql_link(query: str) -> str:
    return "/sparql?" + urlencode({"query": query})


def describe_query(iri: str) -> str:
    return (
        f"CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> }}\nWHERE {{\n  {{ <{iri}> ?p ?o }}\n"
        f"  UNION\n  {{ ?s ?q <{iri}> }}\n}}"
    )


def resource_context(
    urls: Urls,
    served: Served,
    desc: Description,
    doc_path: str,
    lang: str,
    page: int,
    published_by: dict[str, str] | None = None,
) -> Context:
    """`resource.html`: `desc` with the graph sources of the release it was read from (`served`)."""
    renderer = Renderer(
        urls, desc.labels, lang, prefixes(urls.base), served.data.graph_sources(), served.data.harvested(urls.base)
    )
    view = renderer.view(desc)
    pages = max(1, -(-desc.incoming_total // desc.limit)) if desc.limit else 1
    return {
        "lang": lang,
        "view": view,
        "title": view.title,
        "doc_path": doc_path,
        "alternates": alternates(doc_path),
        "sparql_href": sparql_link(describe_query(desc.iri)),
        "page": page,
        "pages": pages,
        "incoming_total": desc.incoming_total,
        "explore_href": explore_href(urls.base, desc.iri),
        "published_by": published_by,
    }


def explore_href(base: str, iri: str) -> str | None:
    """The network explorer page of a network or table (its IRI is `B id/network/{slug}`)."""
    prefix = base + "id/network/"
    return f"/-/explorer/{iri[len(prefix) :]}" if iri.startswith(prefix) and "/" not in iri[len(prefix) :] else None


async def graph_context(urls: Urls, served: Served, graph_iri: str, doc_path: str, lang: str) -> Context:
    """`graph.html`: the resources a named graph describes, and the source document it was read from."""
    quads = await run_in_threadpool(served.data.graph_quads, graph_iri)
    subjects = sorted({q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)})
    source = await run_in_threadpool(served.data.source_of_graph, graph_iri)
    labels = await run_in_threadpool(served.data.labels, [*subjects, *([source] if source else [])])
    items = sorted(
        ({"href": urls.link(s), "label": label(s, labels, lang), "iri": s} for s in subjects),
        key=lambda x: x["label"].lower(),
    )
    return {
        "lang": lang,
        "title": label(source if source in labels else graph_iri, labels, lang),
        "iri": graph_iri,
        "items": items,
        "triples": len(quads),
        "source": (
            {"href": urls.link(source), "label": label(source, labels, lang)} if source and source in labels else None
        ),
        "alternates": alternates(doc_path),
        "doc_path": doc_path,
        "sparql_href": sparql_link(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}"),
    }


def _terms(served: Served, graph_iri: str, classes: tuple[str, ...]) -> list[str]:
    wanted = {ox.NamedNode(c) for c in classes}
    g = ox.NamedNode(graph_iri)
    return sorted(
        {
            q.subject.value
            for q in served.data.store.quads_for_pattern(None, ox.NamedNode(TYPE), None, g)
            if q.object in wanted and isinstance(q.subject, ox.NamedNode)
        }
    )


CLASS_TYPES = (OWL + "Class", RDFS + "Class")
PROPERTY_TYPES = (OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty", RDFS + "Property")
SHAPE_TYPES = (SH + "NodeShape", SH + "PropertyShape")
DETAIL = {
    "alignments": (
        RDFS + "subClassOf",
        RDFS + "subPropertyOf",
        OWL + "equivalentClass",
        OWL + "equivalentProperty",
        SKOS + "exactMatch",
        SKOS + "closeMatch",
        OWL + "inverseOf",
    ),
    "domain": (RDFS + "domain",),
    "range": (RDFS + "range",),
}


async def vocabulary_context(
    urls: Urls, served: Served, doc_iri: str, graph_iri: str, doc_path: str, lang: str
) -> Context:
    """`vocabulary.html`, a pyLODE-like reference: the header, then each class, property or shape with its own
    `#anchor`."""
    sections = []
    for key, types in (("classes", CLASS_TYPES), ("properties", PROPERTY_TYPES), ("shapes", SHAPE_TYPES)):
        terms = await run_in_threadpool(_terms, served, graph_iri, types)
        if terms:
            descs = [await run_in_threadpool(served.data.describe, t, 0, 0) for t in terms]  # classes can be hubs
            sections.append({"key": key, "terms": [_term_entry(urls, d, lang) for d in descs]})
    header = await run_in_threadpool(served.data.describe, doc_iri, 0, 0)
    renderer = Renderer(urls, header.labels, lang, prefixes(urls.base), served.data.graph_sources())
    return {
        "lang": lang,
        "title": label(doc_iri, header.labels, lang),
        "iri": doc_iri,
        "header": renderer.view(header),
        "sections": sections,
        "alternates": alternates(doc_path),
        "doc_path": doc_path,
        "sparql_href": sparql_link(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}"),
    }


def _term_entry(urls: Urls, desc: Description, lang: str) -> Context:
    renderer = Renderer(urls, desc.labels, lang, prefixes(urls.base))
    view = renderer.view(desc)
    anchor = desc.iri.rsplit("#", 1)[-1] if "#" in desc.iri else desc.iri.rsplit("/", 1)[-1]
    return {
        "anchor": anchor,
        "view": view,
        "details": {k: [r for r in view.rows if r.prop_iri in props] for k, props in DETAIL.items()},
        "rows": [r for r in view.rows if not any(r.prop_iri in p for p in DETAIL.values())],
    }
