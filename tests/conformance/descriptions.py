"""The dataset's descriptions: VoID (https://www.w3.org/TR/void/) and the DCAT catalog
(https://www.w3.org/TR/vocab-dcat-3/). Both must parse as RDF in every syntax with the expected types, name
the SPARQL endpoint, and point at downloads that answer."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import httpx
import rdflib
from rdflib.namespace import DCTERMS, RDF

from .core import (
    GRAPH_TYPES,
    RDF_ACCEPT,
    Result,
    client,
    follow,
    media_type,
    require,
    response_graph,
    run_check,
    same_graph,
    seen,
    statuses,
)

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


class _Site:
    """Maps published IRIs (under `public_base`) to the server under test at `base_url`."""

    def __init__(self, http: httpx.Client, base_url: str, public_base: str | None) -> None:
        self.http, self.base = http, base_url.rstrip("/")
        self.public = (public_base or base_url).rstrip("/")

    def local(self, iri: str) -> str | None:
        return self.base + iri[len(self.public) :] if iri.startswith(self.public + "/") else None

    def endpoints(self, sparql_path: str | None) -> set[str]:
        return {self.public + sparql_path, self.base + sparql_path} if sparql_path else set()

    def load(self, path: str, state: dict[str, rdflib.Graph]) -> str:
        hops = follow(self.http, self.base + path, {"Accept": RDF_ACCEPT})
        final = hops[-1]
        require(final.status_code == 200, f"{path}: {statuses(hops)} {seen(final)}")
        state["g"] = response_graph(final)
        return f"{media_type(final)}, {len(state['g'])} triples"

    def same_in_every_syntax(self, path: str, first: rdflib.Graph) -> str:
        for mime in GRAPH_TYPES:
            final = follow(self.http, self.base + path, {"Accept": mime})[-1]
            require(final.status_code == 200 and media_type(final) == mime, f"{path} as {mime}: {seen(final)}")
            require(same_graph(response_graph(final), first), f"{path} as {mime} is another graph")
        return f"{len(GRAPH_TYPES)} syntaxes, one graph"

    def answer(self, iris: Iterable[str], what: str) -> str:
        """Every IRI under the public base answers 200 (streamed: dumps can be big); others are listed only."""
        local, outside = [], []
        for iri in sorted(set(iris)):
            (local if self.local(iri) else outside).append(iri)
        require(local or outside, f"no {what}")
        for iri in local:
            with self.http.stream("GET", self.local(iri) or "") as r:
                require(r.status_code == 200, f"{what} <{iri}> -> HTTP {r.status_code}")
        return f"{len(local)} {what} answer 200" + (f"; {len(outside)} outside the base not fetched" if outside else "")


def _graph(state: dict[str, rdflib.Graph]) -> rdflib.Graph:
    require("g" in state, "the document did not load")
    return state["g"]


def check_void(
    base_url: str,
    path: str = "/.well-known/void",
    *,
    public_base: str | None = None,
    sparql_path: str | None = "/sparql",
    resources: Iterable[str] = (),
    timeout: float = 30.0,
) -> list[Result]:
    """The VoID description at `path`: void:Dataset with title, SPARQL endpoint, counts, URI space covering
    `resources`, dumps that answer."""
    results: list[Result] = []
    state: dict[str, rdflib.Graph] = {}
    check = partial(run_check, results)
    with client(timeout) as http:
        site = _Site(http, base_url, public_base)
        check("void:loads", partial(site.load, path, state))

        def datasets() -> list[rdflib.term.Node]:
            found = list(_graph(state).subjects(RDF.type, VOID.Dataset))
            require(found, "no void:Dataset")
            return found

        def main() -> list[rdflib.term.Node]:
            """The dataset(s) that are no other dataset's subset."""
            g = _graph(state)
            tops = [d for d in datasets() if (None, VOID.subset, d) not in g]
            require(tops, "every void:Dataset is a subset of another")
            return tops

        def typed() -> str:
            found = datasets()
            return f"{len(found)} void:Dataset ({len(main())} top-level)"

        def titled() -> str:
            untitled = [str(d) for d in datasets() if _graph(state).value(d, DCTERMS.title) is None]
            require(not untitled, f"without dcterms:title: {untitled[:3]}")
            return "every void:Dataset has a dcterms:title"

        def endpoint() -> str:
            found = {str(o) for d in main() for o in _graph(state).objects(d, VOID.sparqlEndpoint)}
            wanted = site.endpoints(sparql_path)
            require(found and (not wanted or found & wanted), f"void:sparqlEndpoint {found}, expected one of {wanted}")
            return f"void:sparqlEndpoint {sorted(found)}"

        def triples() -> str:
            g = _graph(state)
            counts = {str(d): g.value(d, VOID.triples) for d in datasets()}
            bad = {d: n for d, n in counts.items() if not (isinstance(n, rdflib.Literal) and _count(n))}
            require(not bad, f"void:triples missing or not a count: {dict(list(bad.items())[:3])}")
            return f"{len(counts)} datasets with a void:triples count"

        def uri_space() -> str:
            spaces = [str(o) for d in main() for o in _graph(state).objects(d, VOID.uriSpace)]
            require(spaces, "no void:uriSpace")
            outside = [p for p in resources if not any((site.public + p).startswith(s) for s in spaces)]
            require(not outside, f"outside void:uriSpace {spaces}: {outside[:3]}")
            return f"void:uriSpace {spaces} covers the {len(list(resources))} resources checked"

        def dumps() -> str:
            return site.answer(
                (str(o) for d in datasets() for o in _graph(state).objects(d, VOID.dataDump)), "void:dataDump"
            )

        check("void:dataset_typed", typed)
        check("void:title", titled)
        check("void:sparql_endpoint", endpoint)
        check("void:triples_count", triples)
        check("void:uri_space", uri_space)
        check("void:data_dumps_answer", dumps)
        check("void:every_rdf_syntax", lambda: site.same_in_every_syntax(path, _graph(state)))
    return results


def _count(n: rdflib.Literal) -> bool:
    value = n.toPython()
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_catalog(
    base_url: str,
    path: str = "/catalog",
    *,
    public_base: str | None = None,
    sparql_path: str | None = "/sparql",
    timeout: float = 30.0,
) -> list[Result]:
    """The DCAT catalog at `path`: dcat:Catalog with title and datasets, distributions with an access or
    download URL and a media type, a dcat:DataService at the SPARQL endpoint, a licence."""
    results: list[Result] = []
    state: dict[str, rdflib.Graph] = {}
    check = partial(run_check, results)
    with client(timeout) as http:
        site = _Site(http, base_url, public_base)
        check("dcat:loads", partial(site.load, path, state))

        def catalogs() -> list[rdflib.term.Node]:
            found = list(_graph(state).subjects(RDF.type, DCAT.Catalog))
            require(found, "no dcat:Catalog")
            return found

        def datasets() -> set[rdflib.term.Node]:
            found = {d for c in catalogs() for d in _graph(state).objects(c, DCAT.dataset)}
            require(found, "the catalog lists no dcat:dataset")
            return found

        def distributions() -> set[rdflib.term.Node]:
            found = {x for d in datasets() for x in _graph(state).objects(d, DCAT.distribution)}
            require(found, "no dcat:distribution")
            return found

        def catalog() -> str:
            untitled = [str(c) for c in catalogs() if _graph(state).value(c, DCTERMS.title) is None]
            require(not untitled, f"dcat:Catalog without dcterms:title: {untitled}")
            return f"{len(catalogs())} dcat:Catalog with dcterms:title"

        def typed_datasets() -> str:
            g = _graph(state)
            bad = [
                str(d) for d in datasets() if (d, RDF.type, DCAT.Dataset) not in g or g.value(d, DCTERMS.title) is None
            ]
            require(not bad, f"not a dcat:Dataset with dcterms:title: {bad[:3]}")
            return f"{len(datasets())} dcat:Dataset with dcterms:title"

        def complete_distributions() -> str:
            g = _graph(state)
            bad = [
                str(x)
                for x in distributions()
                if (x, RDF.type, DCAT.Distribution) not in g
                or not (g.value(x, DCAT.accessURL) or g.value(x, DCAT.downloadURL))
                or not (g.value(x, DCAT.mediaType) or g.value(x, DCTERMS["format"]))
            ]
            require(not bad, f"without type, access/download URL or media type: {bad[:3]}")
            return f"{len(distributions())} dcat:Distribution, each with a URL and a media type"

        def downloads() -> str:
            g = _graph(state)
            return site.answer(
                (str(o) for x in distributions() for o in g.objects(x, DCAT.downloadURL)), "dcat:downloadURL"
            )

        def service() -> str:
            g = _graph(state)
            services = set(g.subjects(RDF.type, DCAT.DataService))
            require(services, "no dcat:DataService")
            urls = {str(o) for s in services for o in g.objects(s, DCAT.endpointURL)}
            wanted = site.endpoints(sparql_path)
            require(not wanted or urls & wanted, f"dcat:endpointURL {sorted(urls)}, expected one of {sorted(wanted)}")
            served = {d for s in services for d in g.objects(s, DCAT.servesDataset)}
            require(served & datasets(), "no dcat:DataService dcat:servesDataset a dataset of the catalog")
            linked = {s for c in catalogs() for s in g.objects(c, DCAT.service)}
            require(linked & services, "the catalog does not list its dcat:service")
            return f"dcat:DataService at {sorted(urls)} serving {len(served)} dataset(s)"

        def licence() -> str:
            g = _graph(state)
            bare = [str(n) for n in {*datasets(), *distributions()} if g.value(n, DCTERMS.license) is None]
            cat_licence = any(g.value(c, DCTERMS.license) for c in catalogs())
            require(not bare or cat_licence, f"without dcterms:license: {bare[:3]}")
            found = {str(o) for o in g.objects(None, DCTERMS.license)}
            return f"dcterms:license {sorted(found)[:3]}"

        check("dcat:catalog", catalog)
        check("dcat:datasets", typed_datasets)
        check("dcat:distributions", complete_distributions)
        check("dcat:downloads_answer", downloads)
        check("dcat:data_service_endpoint", service)
        check("dcat:license", licence)
        check("dcat:every_rdf_syntax", lambda: site.same_in_every_syntax(path, _graph(state)))
    return results
