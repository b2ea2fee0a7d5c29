"""The catalog for people: `/catalog` in HTML, read from the same triples the RDF catalog serves.

A portal operator opens this page first: it lists each dataset with its distributions (format, size,
checksum, licence), the SPARQL service and the publisher, and says how to harvest the catalog. Every
figure on the page is read from the catalog's triples, so the page cannot say what the RDF does not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from .catalog import SPDX
from .urls import Urls
from .vocab import DCAT, DCT, FOAF, TYPE

Index = dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]]]


@dataclass(frozen=True)
class Distribution:
    title: str
    href: str
    media_type: str
    bytes: int | None
    sha256: str
    license: str


@dataclass(frozen=True)
class Dataset:
    title: str
    description: str
    href: str
    modified: str
    license: str
    distributions: list[Distribution] = field(default_factory=list)


@dataclass(frozen=True)
class CatalogView:
    title: str
    publisher: str
    publisher_ipa: str
    datasets: list[Dataset]
    service_title: str
    service_url: str


def _index(triples: list[ox.Triple]) -> Index:
    out: Index = defaultdict(lambda: defaultdict(list))
    for t in triples:
        if isinstance(t.subject, ox.NamedNode | ox.BlankNode):
            out[str(t.subject)][t.predicate.value].append(t.object)
    return out


class _Reader:
    def __init__(self, triples: list[ox.Triple], lang: str, urls: Urls) -> None:
        self.index, self.lang, self.urls = _index(triples), lang, urls

    def objects(self, node: str, prop: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]:
        return self.index.get(node, {}).get(prop, [])

    def text(self, node: str, prop: str) -> str:
        """The literal in the page's language, else Italian, else any."""
        literals = [o for o in self.objects(node, prop) if isinstance(o, ox.Literal)]
        for wanted in (self.lang, "it", None):
            for o in literals:
                if wanted is None or o.language == wanted:
                    return o.value
        return ""

    def node(self, node: str, prop: str) -> str:
        """The first object as a node key (IRI or blank node), or ""."""
        return next((str(o) for o in self.objects(node, prop) if isinstance(o, ox.NamedNode | ox.BlankNode)), "")

    def iri(self, node: str, prop: str) -> str:
        return next((o.value for o in self.objects(node, prop) if isinstance(o, ox.NamedNode)), "")

    def typed(self, cls: str) -> list[str]:
        return sorted(
            s for s, props in self.index.items() if any(getattr(o, "value", "") == cls for o in props.get(TYPE, []))
        )

    def distribution(self, node: str) -> Distribution:
        size = self.text(node, DCAT + "byteSize")
        media = self.iri(node, DCAT + "mediaType").rsplit("/media-types/", 1)[-1]
        checksum = self.node(node, SPDX + "checksum")
        return Distribution(
            title=self.text(node, DCT + "title"),
            href=self.urls.link(self.iri(node, DCAT + "downloadURL") or self.iri(node, DCAT + "accessURL")),
            media_type=media,
            bytes=int(size) if size.isdigit() else None,
            sha256=self.text(checksum, SPDX + "checksumValue") if checksum else "",
            license=self.iri(node, DCT + "license"),
        )

    def dataset(self, node: str) -> Dataset:
        dists = sorted(
            (self.distribution(str(d)) for d in self.objects(node, DCAT + "distribution")), key=lambda d: d.title
        )
        return Dataset(
            title=self.text(node, DCT + "title"),
            description=self.text(node, DCT + "description"),
            href=self.urls.link(node.strip("<>")) if node.startswith("<") else "",
            modified=self.text(node, DCT + "modified"),
            license=self.iri(node, DCT + "license") or next((d.license for d in dists if d.license), ""),
            distributions=dists,
        )


def catalog_view(triples: list[ox.Triple], lang: str, urls: Urls) -> CatalogView:
    """What the catalog page shows, in `lang`, from the catalog's triples."""
    read = _Reader(triples, lang, urls)
    catalogs = read.typed(DCAT + "Catalog")
    cat = catalogs[0] if catalogs else ""
    publisher = read.node(cat, DCT + "publisher")
    service = read.node(cat, DCAT + "service")
    datasets = [read.dataset(str(d)) for d in read.objects(cat, DCAT + "dataset")]
    datasets.sort(key=lambda d: (not d.distributions, d.title))  # the whole dataset (with its dumps) first
    return CatalogView(
        title=read.text(cat, DCT + "title"),
        publisher=read.text(publisher, FOAF + "name") if publisher else "",
        publisher_ipa=read.text(publisher, DCT + "identifier") if publisher else "",
        datasets=datasets,
        service_title=read.text(service, DCT + "title") if service else "",
        service_url=urls.link(read.iri(service, DCAT + "endpointURL")) if service else "",
    )
