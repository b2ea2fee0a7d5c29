"""The DCAT-AP_IT catalog of the served data, generated from it.

DCAT-AP_IT classes are typed together with their DCAT ones (dcatapit:Dataset + dcat:Dataset, …), as AgID's
guide asks; EU authority concepts are typed (skos:Concept, dct:Frequency …) so the DCAT-AP 3.0.1 range
shapes hold without fetching the vocabularies. The publisher's identity comes from Settings; when it is
not configured the catalog says so instead of inventing an IPA code.
https://docs.italia.it/italia/daf/linee-guida-cataloghi-dati-dcat-ap-it/
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from .config import PLACEHOLDER_PUBLISHER_NAME, Settings
from .formats import DOCUMENT_RDF_FORMATS, EU_FILE_TYPES
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
    XSD,
)
from .void import CATALOG_PATH, VOID_PATH, void_iri

SPDX = "http://spdx.org/rdf/terms#"
EU_COUNTRY = "http://publications.europa.eu/resource/authority/country/"
THEMES = {
    "SOCI": ("Popolazione e società", "Population and society"),
    "JUST": ("Giustizia, sistema giuridico e sicurezza pubblica", "Justice, legal system and public safety"),
    "GOVE": ("Governo e settore pubblico", "Government and public sector"),
}
FILE_TYPES = EU_FILE_TYPES  # media type → EU file-type code (the registry: server/formats.py)
FREQUENCY = "IRREG"
AVAILABILITY = "http://publications.europa.eu/resource/authority/planned-availability/"
AVAILABILITIES = {"STABLE": ("stabile", "stable"), "TEMPORARY": ("temporanea", "temporary")}
DCATAP = "http://data.europa.eu/r5r/"
ADMS_LICENCE_TYPE = "http://purl.org/adms/licencetype/"
#: Names (as OntoPiA's licences vocabulary gives them) and ADMS licence type of the licences parita knows.
LICENCES = {
    "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40": (
        "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)",
        "Creative Commons Attribution 4.0 International (CC BY 4.0)",
        ADMS_LICENCE_TYPE + "Attribution",
    ),
}


def catalog_iri(base: str) -> str:
    return base + CATALOG_PATH


@dataclass(frozen=True)
class HarvestBlocker:
    """A publisher setting still at its placeholder, and why dati.gov.it's harvester refuses the catalog then."""

    setting: str
    reason: str
    reason_it: str


def harvest_blockers(settings: Settings) -> list[HarvestBlocker]:
    """What keeps dati.gov.it from harvesting the catalog: publisher settings left at their placeholders.
    DCAT-AP_IT makes the agent's foaf:name and dct:identifier (IPA code) and the contact point's
    vcard:hasEmail mandatory, and parita never invents them."""
    out = []
    if settings.publisher_name == PLACEHOLDER_PUBLISHER_NAME:
        out.append(
            HarvestBlocker(
                "PARITA_PUBLISHER_NAME",
                "the publisher's name (foaf:name) is a placeholder",
                "il nome dell'editore (foaf:name) è un segnaposto",
            )
        )
    if not settings.publisher_ipa:
        out.append(
            HarvestBlocker(
                "PARITA_PUBLISHER_IPA",
                "the publisher has no IPA code (dct:identifier, mandatory for a DCAT-AP_IT agent)",
                "l'editore non ha un codice IPA (dct:identifier, obbligatorio per un soggetto DCAT-AP_IT)",
            )
        )
    if not settings.contact_email:
        out.append(
            HarvestBlocker(
                "PARITA_CONTACT_EMAIL",
                "the contact point has no e-mail (vcard:hasEmail, mandatory in DCAT-AP_IT)",
                "il punto di contatto non ha un'e-mail (vcard:hasEmail, obbligatoria in DCAT-AP_IT)",
            )
        )
    return out


def harvest_warning(settings: Settings) -> str:
    """The loud message `parita build` and `parita up` print while the catalog cannot be harvested ("" if it can)."""
    blockers = harvest_blockers(settings)
    if not blockers:
        return ""
    return "\n".join(
        [
            "WARNING: the DCAT-AP_IT catalog (/catalog) is NOT HARVESTABLE by dati.gov.it until these are set:",
            *(f"  - {b.setting}: {b.reason}" for b in blockers),
            "Set them in the environment (README, Deployment); parita never invents an IPA code or an e-mail.",
        ]
    )


def announcements() -> list[dict[str, str]]:
    """How the home page announces the catalog and VoID to machines: `<link rel="alternate">` tags and the
    same links in its `Link` header (https://www.w3.org/TR/void/#discovery-links for VoID)."""
    catalog = [
        {"href": f"/{CATALOG_PATH}.{f.extension}", "rel": "alternate", "type": f.media_type, "label": "DCAT-AP_IT"}
        for f in DOCUMENT_RDF_FORMATS
    ]
    return catalog + [{"href": f"/{VOID_PATH}", "rel": "describedby", "type": "text/turtle", "label": "VoID"}]


def link_header(links: list[dict[str, str]]) -> str:
    return ", ".join(f'<{x["href"]}>; rel="{x["rel"]}"; type="{x["type"]}"; title="{x["label"]}"' for x in links)


def _publisher(b: Builder, settings: Settings) -> ox.NamedNode:
    agent = iri(catalog_iri(settings.base_uri) + "#publisher")
    b.types(agent, FOAF + "Agent", DCATAPIT + "Agent")
    if settings.publisher_name == PLACEHOLDER_PUBLISHER_NAME:
        b.add(agent, FOAF + "name", lit("Editore non configurato (segnaposto)", "it"))
        b.add(agent, FOAF + "name", lit("Publisher not configured (placeholder)", "en"))
    else:
        b.add(agent, FOAF + "name", lit(settings.publisher_name, "it"))
    if settings.publisher_ipa:
        b.add(agent, DCT + "identifier", lit(settings.publisher_ipa))
    else:
        b.add(
            agent,
            RDFS + "comment",
            lit("Segnaposto: codice IPA dell'editore non configurato (PARITA_PUBLISHER_IPA).", "it"),
        )
        b.add(
            agent,
            RDFS + "comment",
            lit("Placeholder: the publisher's IPA code is not set (PARITA_PUBLISHER_IPA).", "en"),
        )
    return agent


def _contact(b: Builder, settings: Settings) -> ox.NamedNode:
    contact = iri(catalog_iri(settings.base_uri) + "#contact")
    b.types(contact, VCARD + "Kind", VCARD + "Organization", DCATAPIT + "Organization")
    b.add(contact, VCARD + "fn", lit("Ufficio per le pari opportunità", "it"))
    b.add(contact, VCARD + "fn", lit("Equal opportunities office", "en"))
    if settings.contact_email:
        b.add(contact, VCARD + "hasEmail", iri("mailto:" + settings.contact_email))
    else:
        b.add(
            contact,
            RDFS + "comment",
            lit("Segnaposto: e-mail di contatto non configurata (PARITA_CONTACT_EMAIL).", "it"),
        )
        b.add(contact, RDFS + "comment", lit("Placeholder: no contact e-mail set (PARITA_CONTACT_EMAIL).", "en"))
    return contact


def _shared(b: Builder, settings: Settings) -> None:
    """Type the controlled-vocabulary concepts the catalog points at."""
    _licence(b, settings)
    scheme = EU_THEME[:-1]
    b.types(scheme, SKOS + "ConceptScheme")
    b.add(scheme, DCT + "title", lit("Data theme", "en"))
    for code, (it, en) in THEMES.items():
        _eu_concept(b, EU_THEME + code, SKOS + "Concept", it, en)
    _eu_concept(b, EU_FREQ + FREQUENCY, DCT + "Frequency", "irregolare", "irregular")
    _eu_concept(b, EU_LANG + "ITA", DCT + "LinguisticSystem", "italiano", "Italian")
    _eu_concept(b, EU_COUNTRY + "ITA", DCT + "Location", "Italia", "Italy")


def _licence(b: Builder, settings: Settings) -> None:
    b.types(settings.license_uri, DCT + "LicenseDocument", DCATAPIT + "LicenseDocument")
    if settings.license_uri in LICENCES:  # a licence we do not know gets no name or type: never guessed
        name_it, name_en, licence_type = LICENCES[settings.license_uri]
        b.add(settings.license_uri, FOAF + "name", lit(name_it, "it"))
        b.add(settings.license_uri, FOAF + "name", lit(name_en, "en"))
        b.add(settings.license_uri, DCT + "type", iri(licence_type))
        b.types(licence_type, SKOS + "Concept")
        b.add(licence_type, SKOS + "inScheme", iri(ADMS_LICENCE_TYPE + "1.1"))
        b.add(licence_type, SKOS + "prefLabel", lit("Attribuzione", "it"))
        b.add(licence_type, SKOS + "prefLabel", lit("Attribution", "en"))


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


def add_distribution(
    b: Builder,
    node: Node,
    url: str,
    media_type: str,
    settings: Settings,
    title: str,
    title_en: str,
    availability: str = "STABLE",
) -> None:
    """A DCAT-AP_IT distribution of the file at `url`, with every concept it points at typed (DCAT-AP 3.0.1
    range shapes hold without fetching the vocabularies); `availability`: an EU planned-availability code."""
    b.types(node, DCAT + "Distribution", DCATAPIT + "Distribution")
    b.add(node, DCAT + "accessURL", iri(url))
    b.add(node, DCAT + "downloadURL", iri(url))
    b.add(node, DCAT + "mediaType", iri(IANA_MEDIA + media_type))
    b.types(IANA_MEDIA + media_type, DCT + "MediaType", DCT + "MediaTypeOrExtent")
    if media_type in FILE_TYPES:
        b.add(node, DCT + "format", iri(EU_FILETYPE + FILE_TYPES[media_type]))
        code = FILE_TYPES[media_type]
        _eu_concept(b, EU_FILETYPE + code, DCT + "MediaTypeOrExtent", code, code)
    if url.endswith(".gz"):
        b.add(node, DCAT + "compressFormat", iri(IANA_MEDIA + "application/gzip"))
        b.types(IANA_MEDIA + "application/gzip", DCT + "MediaType", DCT + "MediaTypeOrExtent")
    b.add(node, DCT + "license", iri(settings.license_uri))
    _licence(b, settings)
    b.add(node, DCT + "title", lit(title, "it"))
    b.add(node, DCT + "description", lit(f"{title}, in formato {media_type}.", "it"))
    b.add(node, DCT + "title", lit(title_en, "en"))
    b.add(node, DCT + "description", lit(f"{title_en}, as {media_type}.", "en"))
    b.add(node, DCATAP + "availability", iri(AVAILABILITY + availability))
    it, en = AVAILABILITIES[availability]
    _eu_concept(b, AVAILABILITY + availability, SKOS + "Concept", it, en)


@dataclass(frozen=True)
class GraphFile:
    """The bytes `/graph/<name>.ttl` serves, measured: what its distribution's size and checksum state."""

    bytes: int
    sha256: str


def catalog_description(
    settings: Settings,
    release: Release,
    stats: Stats,
    sources: list[dict[str, str]],
    graph_files: dict[str, GraphFile] | None = None,
    periods: dict[str, Period] | None = None,
) -> list[ox.Triple]:
    """Catalog → whole dataset (dumps) + one dataset per source publisher (its graphs) + the SPARQL service.

    `sources` rows: graph, source, title, publisher, publisher_label, publisher_label_en, publisher_ipa;
    `graph_files`: graph → its Turtle document measured; `periods`: graph → the dates it states."""
    graph_files, periods = graph_files or {}, periods or {}
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
    b.add(whole, RDFS + "seeAlso", iri(void_iri(base)))  # catalog -> VoID (VoID says rdfs:seeAlso back)
    _temporal(b, whole, [periods[row["graph"]] for row in sources if row["graph"] in periods])
    b.add(whole, VOID + "sparqlEndpoint", iri(base + "sparql"))
    for name, info in sorted(release.dumps.items()):
        dist = iri(f"{base}catalog#dump-{_slug(name)}")
        b.add(whole, DCAT + "distribution", dist)
        add_distribution(
            b,
            dist,
            f"{base}dumps/{name}",
            info.get("media_type", "application/octet-stream"),
            settings,
            f"Dump completo {name}",
            f"Full dump {name}",
        )
        if "bytes" in info:
            _size_and_checksum(b, dist, int(info["bytes"]), str(info.get("sha256", "")))

    datasets = [whole] + _publisher_datasets(b, cat, settings, release, agent, contact, sources, graph_files, periods)
    svc = _data_service(
        b, "sparql", base + "sparql", "https://www.w3.org/TR/sparql11-protocol/", settings, agent, contact, datasets
    )
    b.add(svc, DCT + "title", lit("Endpoint SPARQL di parita", "it"))
    b.add(svc, DCT + "description", lit("SPARQL 1.1 in sola lettura sui dati parità.", "it"))
    b.add(svc, DCAT + "endpointDescription", iri(base + "sparql"))
    for code in THEMES:
        b.add(svc, DCAT + "theme", iri(EU_THEME + code))
    b.add(svc, DCAT + "keyword", lit("SPARQL", "it"))
    _event_stream(b, whole, datasets, settings, agent, contact)
    return list(dict.fromkeys(b.triples))  # shared nodes (media types, concepts) are typed once


def _size_and_checksum(b: Builder, dist: Node, size: int, sha256: str) -> None:
    b.add(dist, DCAT + "byteSize", ox.Literal(str(size), datatype=iri(XSD + "nonNegativeInteger")))
    if sha256:
        checksum = b.bnode()
        b.add(dist, SPDX + "checksum", checksum)
        b.types(checksum, SPDX + "Checksum")
        b.add(checksum, SPDX + "algorithm", iri(SPDX + "checksumAlgorithm_sha256"))
        b.add(checksum, SPDX + "checksumValue", ox.Literal(sha256, datatype=iri(XSD + "hexBinary")))


#: The datatypes of the dates a graph states; dct:temporal spans the earliest to the latest of them.
DATE_TYPES = ("date", "dateTime", "gYear", "gYearMonth")
_LEXICAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


@dataclass(frozen=True)
class Period:
    """The earliest and the latest date literal a graph states (kept as written: a year stays a year)."""

    start: ox.Literal
    end: ox.Literal


def _bounds(value: ox.Literal) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The first and last day a date literal covers, for ordering only ("1994" covers 1994-01-01..1994-12-31)."""
    match = _LEXICAL_DATE.match(value.value)
    if match is None:
        raise ValueError(value.value)
    year, month, day = match.group(1), match.group(2), match.group(3)
    first = (int(year), int(month or 1), int(day or 1))
    last = (int(year), int(month or 12), int(day or 31))
    return first, last


def graph_periods(rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]) -> dict[str, Period]:
    """Rows of (g, first, last) date literals, per datatype, into each graph's overall period."""
    out: dict[str, Period] = {}
    for row in rows:
        graph, first, last = row["g"].value, row["first"], row["last"]
        if not isinstance(first, ox.Literal) or not isinstance(last, ox.Literal):
            continue
        try:
            first_bounds, last_bounds = _bounds(first), _bounds(last)
        except ValueError:
            continue  # not an ISO date (a malformed literal the shapes let through): no period from it
        known = out.get(graph)
        start = first if known is None or first_bounds[0] < _bounds(known.start)[0] else known.start
        end = last if known is None or last_bounds[1] > _bounds(known.end)[1] else known.end
        out[graph] = Period(start, end)
    return out


def dates_query() -> str:
    """Per graph and date datatype, the first and last date stated (ISO lexical forms sort as dates)."""
    types = ", ".join(f"xsd:{t}" for t in DATE_TYPES)
    return (
        f"PREFIX xsd: <{XSD}>\n"
        "SELECT ?g (SAMPLE(?dt) AS ?type) (MIN(STR(?d)) AS ?firstText) (MAX(STR(?d)) AS ?lastText) WHERE {\n"
        f"  GRAPH ?g {{ ?s ?p ?d FILTER(isLiteral(?d) && DATATYPE(?d) IN ({types})) BIND(DATATYPE(?d) AS ?dt) }}\n"
        "} GROUP BY ?g ?dt"
    )


def period_rows(
    rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]],
) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
    """`dates_query` rows with their texts typed back into literals of their datatype."""
    out: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]] = []
    for row in rows:
        datatype = row.get("type")
        if not isinstance(datatype, ox.NamedNode) or "firstText" not in row or "lastText" not in row:
            continue
        out.append(
            {
                "g": row["g"],
                "first": ox.Literal(row["firstText"].value, datatype=datatype),
                "last": ox.Literal(row["lastText"].value, datatype=datatype),
            }
        )
    return out


def _temporal(b: Builder, ds: Node, periods: list[Period]) -> None:
    """dct:temporal: from the earliest to the latest date the dataset's graphs state (none: no dct:temporal).
    dcat:startDate for DCAT-AP 3 (ckanext-dcat reads it), dcatapit:startDate for DCAT-AP_IT."""
    if not periods:
        return
    start = min((p.start for p in periods), key=lambda v: _bounds(v)[0])
    end = max((p.end for p in periods), key=lambda v: _bounds(v)[1])
    period = iri(str(ds.value if isinstance(ds, ox.NamedNode) else ds) + "-period")
    b.add(ds, DCT + "temporal", period)
    b.types(period, DCT + "PeriodOfTime")
    for prefix in (DCAT, DCATAPIT):
        b.add(period, prefix + "startDate", start)
        b.add(period, prefix + "endDate", end)


def _data_service(
    b: Builder,
    fragment: str,
    endpoint: str,
    standard: str,
    settings: Settings,
    agent: Node,
    contact: Node,
    datasets: list[Node],
) -> Node:
    """A service of the catalog (`catalog#{fragment}`) at `endpoint`, conforming to `standard`, serving
    `datasets` under the publisher's licence and contact; the caller adds its titles."""
    base = settings.base_uri
    svc = iri(f"{base}catalog#{fragment}")
    b.add(iri(catalog_iri(base)), DCAT + "service", svc)
    b.types(svc, DCAT + "DataService")
    b.add(svc, DCAT + "endpointURL", iri(endpoint))
    b.add(svc, DCT + "conformsTo", iri(standard))
    b.types(standard, DCT + "Standard")
    b.add(svc, DCT + "license", iri(settings.license_uri))
    b.add(svc, DCT + "publisher", agent)
    b.add(svc, DCAT + "contactPoint", contact)
    for ds in datasets:
        b.add(svc, DCAT + "servesDataset", ds)
    return svc


def _event_stream(
    b: Builder, whole: Node, datasets: list[Node], settings: Settings, agent: Node, contact: Node
) -> None:
    """The change feed (`/ldes`, server/ldes.py) as a service and as a distribution of the whole dataset."""
    base = settings.base_uri
    stream = base + "ldes"
    svc = _data_service(b, "ldes", stream, "https://w3id.org/ldes/specification", settings, agent, contact, datasets)
    b.add(svc, DCT + "title", lit("Flusso delle modifiche (Linked Data Event Stream)", "it"))
    b.add(svc, DCT + "title", lit("Change feed (Linked Data Event Stream)", "en"))
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
    graph_files: dict[str, GraphFile],
    periods: dict[str, Period],
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
        documents_it, documents_en = tn("documents", len(rows), "it"), tn("documents", len(rows), "en")
        published = "pubblicato" if len(rows) == 1 else "pubblicati"
        b.add(ds, DCT + "description", lit(f"Dati tratti da {documents_it} {published} da {name}.", "it"))
        b.add(ds, DCT + "description", lit(f"Data taken from {documents_en} published by {name_en}.", "en"))
        ipa = rows[0].get("publisher_ipa", "")
        if ipa:  # DCAT-AP_IT's agent needs its IPA code: a creator the data gives none is not stated
            b.add(ds, DCT + "creator", iri(publisher))
            b.types(publisher, FOAF + "Agent", DCATAPIT + "Agent")
            b.add(publisher, FOAF + "name", lit(name, "it"))
            b.add(publisher, DCT + "identifier", lit(ipa))
        _temporal(b, ds, [periods[r["graph"]] for r in rows if r["graph"] in periods])
        b.add(ds, DCT + "isPartOf", iri(base + "catalog#dataset"))
        for row in sorted(rows, key=lambda r: r["graph"]):
            b.add(ds, PROV + "wasDerivedFrom", iri(row["source"]))
            dist = iri(f"{base}catalog#graph-{_slug(row['graph'].rsplit('/', 1)[-1])}")
            b.add(ds, DCAT + "distribution", dist)
            add_distribution(
                b,
                dist,
                row["graph"] + ".ttl",
                "text/turtle",
                settings,
                f"Grafo: {row.get('title') or row['graph']}",
                f"Graph: {row.get('title') or row['graph']}",
            )
            if row["graph"] in graph_files:
                measured = graph_files[row["graph"]]
                _size_and_checksum(b, dist, measured.bytes, measured.sha256)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
