"""The DCAT-AP_IT catalog of the served data, generated from it.

DCAT-AP_IT classes are typed together with their DCAT ones (dcatapit:Dataset + dcat:Dataset, …), as AgID's
guide asks; EU authority concepts are typed (skos:Concept, dct:Frequency …) so the DCAT-AP 3.0.1 range
shapes hold without fetching the vocabularies. The publisher's identity comes from Settings; when it is
not configured the catalog says so instead of inventing an IPA code.
https://docs.italia.it/italia/daf/linee-guida-cataloghi-dati-dcat-ap-it/
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from .config import Settings
from .i18n import tn
from .rdfbuild import Builder, Node, iri, lit
from .release import Release
from .stats import Stats
from .vocab import (
    DCAT,
    DCATAPIT,
    DCT,
    EU_FILETYPE,
    EU_FREQ,
    EU_LANG,
    EU_THEME,
    FOAF,
    IANA_MEDIA,
    PROV,
    RDFS,
    SKOS,
    VCARD,
    VOID,
)
from .void import void_iri

SPDX = "http://spdx.org/rdf/terms#"
EU_COUNTRY = "http://publications.europa.eu/resource/authority/country/"
THEMES = {
    "SOCI": ("Popolazione e società", "Population and society"),
    "JUST": ("Giustizia, sistema giuridico e sicurezza pubblica", "Justice, legal system and public safety"),
    "GOVE": ("Governo e settore pubblico", "Government and public sector"),
}
FILE_TYPES = {
    "application/n-quads": "RDF_N_QUADS",
    "text/turtle": "RDF_TURTLE",
    "application/n-triples": "RDF_N_TRIPLES",
}
FREQUENCY = "IRREG"
AVAILABILITY = "http://publications.europa.eu/resource/authority/planned-availability/STABLE"
DCATAP = "http://data.europa.eu/r5r/"


def catalog_iri(base: str) -> str:
    return base + "catalog"


def _publisher(b: Builder, settings: Settings) -> ox.NamedNode:
    agent = iri(catalog_iri(settings.base_uri) + "#publisher")
    b.types(agent, FOAF + "Agent", DCATAPIT + "Agent")
    b.add(agent, FOAF + "name", lit(settings.publisher_name, "it"))
    if settings.publisher_ipa:
        b.add(agent, DCT + "identifier", lit(settings.publisher_ipa))
    else:
        b.add(
            agent,
            RDFS + "comment",
            lit("Segnaposto: codice IPA dell'editore non configurato (PARITA_PUBLISHER_IPA).", "it"),
        )
    return agent


def _contact(b: Builder, settings: Settings) -> ox.NamedNode:
    contact = iri(catalog_iri(settings.base_uri) + "#contact")
    b.types(contact, VCARD + "Kind", VCARD + "Organization", DCATAPIT + "Organization")
    b.add(contact, VCARD + "fn", lit("Ufficio per le pari opportunità", "it"))
    if settings.contact_email:
        b.add(contact, VCARD + "hasEmail", iri("mailto:" + settings.contact_email))
    else:
        b.add(
            contact,
            RDFS + "comment",
            lit("Segnaposto: e-mail di contatto non configurata (PARITA_CONTACT_EMAIL).", "it"),
        )
    return contact


def _shared(b: Builder, settings: Settings) -> None:
    """Type the controlled-vocabulary concepts the catalog points at."""
    b.types(settings.license_uri, DCT + "LicenseDocument")
    b.add(settings.license_uri, RDFS + "label", lit("Creative Commons Attribuzione 4.0", "it"))
    scheme = EU_THEME[:-1]
    b.types(scheme, SKOS + "ConceptScheme")
    b.add(scheme, DCT + "title", lit("Data theme", "en"))
    for code, (it, en) in THEMES.items():
        _eu_concept(b, EU_THEME + code, SKOS + "Concept", it, en)
    _eu_concept(b, EU_FREQ + FREQUENCY, DCT + "Frequency", "irregolare", "irregular")
    _eu_concept(b, EU_LANG + "ITA", DCT + "LinguisticSystem", "italiano", "Italian")
    _eu_concept(b, EU_COUNTRY + "ITA", DCT + "Location", "Italia", "Italy")
    _eu_concept(b, AVAILABILITY, SKOS + "Concept", "stabile", "stable")
    for _media_type, code in FILE_TYPES.items():
        _eu_concept(b, EU_FILETYPE + code, DCT + "MediaTypeOrExtent", code, code)
    b.types(IANA_MEDIA + "application/gzip", DCT + "MediaType", DCT + "MediaTypeOrExtent")


def _eu_concept(b: Builder, concept: str, cls: str, it: str, en: str) -> None:
    """An EU authority-table concept, typed, labelled and placed in its table (what the shapes check)."""
    b.types(concept, cls, SKOS + "Concept")
    b.add(concept, SKOS + "inScheme", iri(concept.rsplit("/", 1)[0]))
    b.add(concept, SKOS + "prefLabel", lit(it, "it"))
    b.add(concept, SKOS + "prefLabel", lit(en, "en"))


def _dataset_common(b: Builder, ds: Node, settings: Settings, release: Release, agent: Node, contact: Node) -> None:
    b.types(ds, DCAT + "Dataset", DCATAPIT + "Dataset")
    b.add(ds, DCT + "modified", lit(release.created.date()))
    b.add(ds, DCT + "issued", lit(release.created.date()))
    b.add(ds, DCT + "publisher", agent)
    b.add(ds, DCT + "rightsHolder", agent)
    b.add(ds, DCAT + "contactPoint", contact)
    b.add(ds, DCT + "accrualPeriodicity", iri(EU_FREQ + FREQUENCY))
    b.add(ds, DCT + "language", iri(EU_LANG + "ITA"))
    b.add(ds, DCT + "spatial", iri(EU_COUNTRY + "ITA"))
    for code in THEMES:
        b.add(ds, DCAT + "theme", iri(EU_THEME + code))
    for word in ("pari opportunità", "violenza di genere", "reti antiviolenza", "linked open data"):
        b.add(ds, DCAT + "keyword", lit(word, "it"))


def _identifier(settings: Settings, local: str) -> str:
    """DCAT-AP_IT identifiers are `<IPA code>:<local id>`; without an IPA code, only the local id."""
    return f"{settings.publisher_ipa}:{local}" if settings.publisher_ipa else local


def _distribution(
    b: Builder, node: Node, url: str, media_type: str, settings: Settings, title: str, title_en: str
) -> None:
    b.types(node, DCAT + "Distribution", DCATAPIT + "Distribution")
    b.add(node, DCAT + "accessURL", iri(url))
    b.add(node, DCAT + "downloadURL", iri(url))
    b.add(node, DCAT + "mediaType", iri(IANA_MEDIA + media_type))
    b.types(IANA_MEDIA + media_type, DCT + "MediaType", DCT + "MediaTypeOrExtent")
    if media_type in FILE_TYPES:
        b.add(node, DCT + "format", iri(EU_FILETYPE + FILE_TYPES[media_type]))
    b.add(node, DCT + "license", iri(settings.license_uri))
    b.add(node, DCT + "title", lit(title, "it"))
    b.add(node, DCT + "description", lit(f"{title}, in formato {media_type}.", "it"))
    b.add(node, DCT + "title", lit(title_en, "en"))
    b.add(node, DCT + "description", lit(f"{title_en}, as {media_type}.", "en"))
    b.add(node, DCATAP + "availability", iri(AVAILABILITY))


def catalog_description(
    settings: Settings, release: Release, stats: Stats, sources: list[dict[str, str]]
) -> list[ox.Triple]:
    """Catalog → whole dataset (dumps) + one dataset per source publisher (its graphs) + the SPARQL service.

    `sources` rows: graph, source, title, publisher, publisher_label."""
    base = settings.base_uri
    b = Builder()
    agent, contact = _publisher(b, settings), _contact(b, settings)
    _shared(b, settings)
    cat = iri(catalog_iri(base))
    b.types(cat, DCAT + "Catalog", DCATAPIT + "Catalog")
    b.add(cat, DCT + "title", lit("Catalogo dei dati parità", "it"))
    b.add(cat, DCT + "title", lit("parita data catalog", "en"))
    b.add(
        cat,
        DCT + "description",
        lit(
            "Dati aperti collegati su enti, reti, protocolli e sportelli per le pari "
            "opportunità nella pubblica amministrazione italiana.",
            "it",
        ),
    )
    b.add(cat, DCT + "publisher", agent)
    b.add(cat, DCT + "modified", lit(release.created.date()))
    b.add(cat, DCT + "issued", lit(release.created.date()))
    b.add(cat, DCT + "language", iri(EU_LANG + "ITA"))
    b.add(cat, DCT + "license", iri(settings.license_uri))
    b.add(cat, FOAF + "homepage", iri(base))
    b.types(base, FOAF + "Document")
    b.add(cat, DCAT + "themeTaxonomy", iri(EU_THEME[:-1]))
    b.add(cat, DCT + "spatial", iri(EU_COUNTRY + "ITA"))

    whole = iri(base + "catalog#dataset")
    b.add(cat, DCAT + "dataset", whole)
    _dataset_common(b, whole, settings, release, agent, contact)
    b.add(whole, DCT + "identifier", lit(_identifier(settings, "parita")))
    b.add(whole, DCT + "title", lit("Pari opportunità nella pubblica amministrazione italiana", "it"))
    b.add(whole, DCT + "title", lit("Equal opportunities in Italy's public sector", "en"))
    b.add(
        whole,
        DCT + "description",
        lit(
            f"Tutti i dati parità: {stats.triples} triple, {stats.entities} entità, "
            f"ciascuna con la fonte da cui è tratta.",
            "it",
        ),
    )
    b.add(
        whole,
        DCT + "description",
        lit(f"All parita data: {stats.triples} triples, {stats.entities} entities, each with its source.", "en"),
    )
    b.add(whole, RDFS + "seeAlso", iri(void_iri(base)))
    b.add(whole, VOID + "sparqlEndpoint", iri(base + "sparql"))
    for name, info in sorted(release.dumps.items()):
        dist = iri(f"{base}catalog#dump-{_slug(name)}")
        b.add(whole, DCAT + "distribution", dist)
        _distribution(
            b,
            dist,
            f"{base}dumps/{name}",
            info.get("media_type", "application/octet-stream"),
            settings,
            f"Dump completo {name}",
            f"Full dump {name}",
        )
        if name.endswith(".gz"):
            b.add(dist, DCAT + "compressFormat", iri(IANA_MEDIA + "application/gzip"))
        if "bytes" in info:
            b.add(
                dist,
                DCAT + "byteSize",
                ox.Literal(str(info["bytes"]), datatype=iri("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")),
            )
        if "sha256" in info:
            checksum = b.bnode()
            b.add(dist, SPDX + "checksum", checksum)
            b.types(checksum, SPDX + "Checksum")
            b.add(checksum, SPDX + "algorithm", iri(SPDX + "checksumAlgorithm_sha256"))
            b.add(
                checksum,
                SPDX + "checksumValue",
                ox.Literal(info["sha256"], datatype=iri("http://www.w3.org/2001/XMLSchema#hexBinary")),
            )

    datasets = [whole] + _publisher_datasets(b, cat, settings, release, agent, contact, sources)
    svc = iri(base + "catalog#sparql")
    b.add(cat, DCAT + "service", svc)
    b.types(svc, DCAT + "DataService")
    b.add(svc, DCT + "title", lit("Endpoint SPARQL di parita", "it"))
    b.add(svc, DCT + "description", lit("SPARQL 1.1 in sola lettura sui dati parità.", "it"))
    b.add(svc, DCAT + "endpointURL", iri(base + "sparql"))
    b.add(svc, DCAT + "endpointDescription", iri(base + "sparql"))
    b.add(svc, DCT + "conformsTo", iri("https://www.w3.org/TR/sparql11-protocol/"))
    b.types("https://www.w3.org/TR/sparql11-protocol/", DCT + "Standard")
    b.add(svc, DCT + "license", iri(settings.license_uri))
    b.add(svc, DCT + "publisher", agent)
    b.add(svc, DCAT + "contactPoint", contact)
    for ds in datasets:
        b.add(svc, DCAT + "servesDataset", ds)
    for code in THEMES:
        b.add(svc, DCAT + "theme", iri(EU_THEME + code))
    b.add(svc, DCAT + "keyword", lit("SPARQL", "it"))
    _event_stream(b, whole, datasets, settings, agent, contact)
    return b.triples


def _event_stream(
    b: Builder, whole: Node, datasets: list[Node], settings: Settings, agent: Node, contact: Node
) -> None:
    """The change feed (`/ldes`, server/ldes.py) as a service and as a distribution of the whole dataset."""
    base = settings.base_uri
    stream = base + "ldes"
    svc = iri(base + "catalog#ldes")
    b.add(iri(catalog_iri(base)), DCAT + "service", svc)
    b.types(svc, DCAT + "DataService")
    b.add(svc, DCT + "title", lit("Flusso delle modifiche (Linked Data Event Stream)", "it"))
    b.add(svc, DCT + "title", lit("Change feed (Linked Data Event Stream)", "en"))
    b.add(svc, DCAT + "endpointURL", iri(stream))
    b.add(svc, DCT + "conformsTo", iri("https://w3id.org/ldes/specification"))
    b.types("https://w3id.org/ldes/specification", DCT + "Standard")
    b.add(svc, DCT + "license", iri(settings.license_uri))
    b.add(svc, DCT + "publisher", agent)
    b.add(svc, DCAT + "contactPoint", contact)
    for ds in datasets:
        b.add(svc, DCAT + "servesDataset", ds)
    dist = iri(base + "catalog#ldes-distribution")
    b.add(whole, DCAT + "distribution", dist)
    b.types(dist, DCAT + "Distribution", DCATAPIT + "Distribution")
    b.add(dist, DCAT + "accessURL", iri(stream))
    b.add(dist, DCAT + "accessService", svc)
    b.add(dist, DCAT + "mediaType", iri(IANA_MEDIA + "text/turtle"))
    b.add(dist, DCT + "format", iri(EU_FILETYPE + FILE_TYPES["text/turtle"]))
    b.add(dist, DCT + "conformsTo", iri("https://w3id.org/ldes/specification"))
    b.add(dist, DCT + "license", iri(settings.license_uri))
    b.add(dist, DCT + "title", lit("Flusso delle modifiche (LDES)", "it"))
    b.add(dist, DCT + "title", lit("Change feed (LDES)", "en"))
    b.add(
        dist,
        DCT + "description",
        lit("Una versione di ogni entità aggiunta, modificata o rimossa da ogni rilascio.", "it"),
    )
    b.add(dist, DCT + "description", lit("One version of every entity each release added, changed or removed.", "en"))


def _publisher_datasets(
    b: Builder,
    cat: Node,
    settings: Settings,
    release: Release,
    agent: Node,
    contact: Node,
    sources: list[dict[str, str]],
) -> list[Node]:
    by_publisher: dict[str, list[dict[str, str]]] = {}
    for row in sources:
        by_publisher.setdefault(row["publisher"], []).append(row)
    out: list[Node] = []
    base = settings.base_uri
    for publisher, rows in sorted(by_publisher.items()):
        slug = _slug(publisher.rsplit("/", 1)[-1])
        ds = iri(f"{base}catalog#dataset-{slug}")
        out.append(ds)
        b.add(cat, DCAT + "dataset", ds)
        _dataset_common(b, ds, settings, release, agent, contact)
        name = rows[0].get("publisher_label") or slug  # the Italian label: never an English one tagged @it
        name_en = rows[0].get("publisher_label_en") or name
        b.add(ds, DCT + "identifier", lit(_identifier(settings, f"parita-{slug}")))
        b.add(ds, DCT + "title", lit(f"Pari opportunità: dati pubblicati da {name}", "it"))
        b.add(ds, DCT + "title", lit(f"Equal opportunities: data published by {name_en}", "en"))
        b.add(
            ds,
            DCT + "description",
            lit(f"Quanto dicono {tn('documents', len(rows), 'it')} pubblicati da {name}.", "it"),
        )
        b.add(
            ds, DCT + "description", lit(f"What {tn('documents', len(rows), 'en')} published by {name_en} state.", "en")
        )
        b.add(ds, DCT + "creator", iri(publisher))
        b.types(publisher, FOAF + "Agent")
        b.add(publisher, FOAF + "name", lit(name, "it"))
        b.add(ds, DCT + "isPartOf", iri(base + "catalog#dataset"))
        for row in sorted(rows, key=lambda r: r["graph"]):
            b.add(ds, PROV + "wasDerivedFrom", iri(row["source"]))
            dist = iri(f"{base}catalog#graph-{_slug(row['graph'].rsplit('/', 1)[-1])}")
            b.add(ds, DCAT + "distribution", dist)
            _distribution(
                b,
                dist,
                row["graph"] + ".ttl",
                "text/turtle",
                settings,
                f"Grafo: {row.get('title') or row['graph']}",
                f"Graph: {row.get('title') or row['graph']}",
            )
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
