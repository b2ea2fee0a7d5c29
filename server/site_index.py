"""The site's in-memory index of one release: every thing under `B id/` with its labels, classes, links,
dates, province and facets. Built once per release from the store on first use (`site_index(served)`),
then read by the lists, the search, the timeline, the help-desk finder and the network explorer.
Releases are immutable, so the index never changes while its release is served."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from . import labels, terms
from .labels import LABEL_PROPERTIES
from .rendering import local_name
from .store import DataStore
from .vocab import DCT, ORG, PROV, SKOS, TYPE, parita_namespace, parita_term

__all__ = ["DCT", "ORG", "Entity", "Index"]  # DCT and ORG re-exported for the explorer and the timeline

COV = "https://w3id.org/italia/onto/COV/"
CLV = "https://w3id.org/italia/onto/CLV/"
SCHEMA = "https://schema.org/"
TERRITORY_ROOT = "https://w3id.org/italia/controlled-vocabulary/territorial-classifications/"
DATE_PROPERTIES = (DCT + "date", DCT + "dateAccepted", DCT + "issued", COV + "foundationDate")
#: "Its organisation": the body a thing belongs to, is run, hosted, issued, published or carried by, in this
#: order; a thing without a stated territory takes the first such body's
PARENT_PROPERTIES = (
    ORG + "unitOf",
    ORG + "subOrganizationOf",
    ORG + "postIn",
    terms.operatedBy,
    terms.hostedBy,
    terms.regulates,
    ORG + "resultingOrganization",
    ORG + "originalOrganization",
    terms.conferredBy,
    DCT + "creator",
    DCT + "publisher",
    PROV + "wasAssociatedWith",
)
CATEGORIES = ("bodies", "offices", "equality-bodies", "networks", "acts", "help-desks", "themes")


@dataclass
class Entity:
    """One thing under `B id/`, as the site shows it."""

    iri: str
    kind: str  # the `id/{kind}/` segment
    labels: dict[str, str]  # language ("" untagged) → label
    alt: list[str] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)
    category: str | None = None
    province: str | None = None  # province IRI (OntoPiA)
    region: str | None = None  # region IRI (OntoPiA): the province's, or a region stated as the territory
    facets: set[str] = field(default_factory=set)  # IRIs of kinds: classification, act type, legal status …
    themes: set[str] = field(default_factory=set)  # thematic areas and lines of intervention
    dates: dict[str, str] = field(default_factory=dict)  # date property → lexical value

    def label(self, lang: str) -> str:
        return labels.pick(self.labels, lang) or local_name(self.iri)


@dataclass
class Index:
    base: str
    entities: dict[str, Entity]
    out: dict[str, dict[str, list[str]]]  # subject → property → IRI objects
    inc: dict[str, dict[str, list[str]]]  # object → property → subjects
    names: dict[str, dict[str, str]]  # labels of IRIs outside `B id/` (territories, concepts …)
    classes_of: dict[str, set[str]]

    @property
    def ns(self) -> str:
        return parita_namespace(self.base)

    def term(self, iri: str) -> str:
        """`iri` as this release names it: one of parita's own terms (server/terms.py) under the site's base,
        any other IRI as it is."""
        return parita_term(iri, self.base) if iri.startswith(terms.NAMESPACE) else iri

    def objects(self, iri: str, prop: str) -> list[str]:
        return self.out.get(iri, {}).get(prop, [])

    def subjects(self, prop: str, iri: str) -> list[str]:
        return self.inc.get(iri, {}).get(prop, [])

    def label(self, iri: str, lang: str) -> str:
        if iri in self.entities:
            return self.entities[iri].label(lang)
        return labels.pick(self.names.get(iri, {}), lang) or local_name(iri)

    def category(self, name: str) -> list[Entity]:
        return [e for e in self.entities.values() if e.category == name]

    def provinces(self) -> list[str]:
        """Province IRIs some thing belongs to, by label."""
        return sorted({e.province for e in self.entities.values() if e.province}, key=lambda p: self.label(p, "it"))

    def notation(self, iri: str) -> str:
        return iri.rstrip("/").rsplit("/", 1)[-1]

    def province_by_notation(self, code: str) -> str | None:
        return next((p for p in self.provinces() if self.notation(p) == code), None)

    def regions(self) -> list[str]:
        """Region IRIs some thing belongs to, by label."""
        return sorted({e.region for e in self.entities.values() if e.region}, key=lambda r: self.label(r, "it"))

    def region_by_notation(self, code: str) -> str | None:
        return next((r for r in self.regions() if self.notation(r) == code), None)


def build(data: DataStore, base: str) -> Index:
    """Read the release once and classify every thing."""
    space = base + "id/"
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    inc: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in data.select("SELECT DISTINCT ?s ?p ?o { ?s ?p ?o FILTER(isIRI(?s) && isIRI(?o)) }"):
        s, p, o = row["s"].value, row["p"].value, row["o"].value
        out[s][p].append(o)
        inc[o][p].append(s)
    literals: dict[str, dict[str, list[ox.Literal]]] = defaultdict(lambda: defaultdict(list))
    wanted = (*LABEL_PROPERTIES, SKOS + "altLabel", *DATE_PROPERTIES, parita_term(terms.startDate, base))
    for row in data.select(
        "SELECT DISTINCT ?s ?p ?o { ?s ?p ?o FILTER(isIRI(?s) && isLiteral(?o)) "
        f"VALUES ?p {{ {' '.join(f'<{w}>' for w in wanted)} }} }}"
    ):
        literals[row["s"].value][row["p"].value].append(row["o"])  # type: ignore[arg-type]
    classes_of = {s: set(props.get(TYPE, [])) for s, props in out.items()}
    names = {s: _labels(props) for s, props in literals.items()}
    index = Index(base, {}, out, inc, names, classes_of)
    for s in sorted(out.keys() | literals.keys()):
        if s.startswith(space) and s[len(space) :].count("/") >= 1:
            index.entities[s] = _entity(index, s, s[len(space) :].split("/", 1)[0], literals.get(s, {}))
    for entity in index.entities.values():
        entity.province = province_of(index, entity.iri, set())
        entity.region = region_of(index, entity)
    return index


def _labels(props: dict[str, list[ox.Literal]]) -> dict[str, str]:
    """Language ("" untagged) → label, from the first label property of the fallback chain that has some."""
    return labels.by_language(
        (prop, lit.value, lit.language or "")
        for prop in LABEL_PROPERTIES
        for lit in sorted(props.get(prop, ()), key=str)
    )


def _entity(index: Index, iri: str, kind: str, literals: dict[str, list[ox.Literal]]) -> Entity:
    entity = Entity(
        iri,
        kind,
        index.names.get(iri) or {},
        sorted({lit.value for lit in literals.get(SKOS + "altLabel", [])}),
        index.classes_of.get(iri, set()),
    )
    entity.dates = {
        p: lits[0].value for p in (*DATE_PROPERTIES, index.term(terms.startDate)) if (lits := literals.get(p))
    }
    entity.category = categorize(index, entity)
    entity.facets = set(
        index.objects(iri, ORG + "classification")
        + index.objects(iri, DCT + "type")
        + index.objects(iri, COV + "hasLegalStatus")
        + index.objects(iri, SKOS + "inScheme")
    )
    if entity.category == "acts":
        entity.facets |= {c for c in entity.classes if c.startswith(index.ns)}
    entity.themes = set(
        index.objects(iri, index.term(terms.thematicArea)) + index.objects(iri, index.term(terms.lineOfIntervention))
    )
    return entity


def categorize(index: Index, entity: Entity) -> str | None:
    """Which list a thing belongs to (None: only reachable by its kind, search and links)."""
    c = entity.classes
    if ORG + "OrganizationalCollaboration" in c or entity.kind == "network":
        return "networks"
    if index.term(terms.HelpDesk) in c:
        return "help-desks"
    if c & {index.term(terms.Act), index.term(terms.Protocol), index.term(terms.Plan)}:
        return "acts"
    if index.term(terms.EqualityBody) in c or ORG + "Post" in c:
        return "equality-bodies"
    if COV + "Office" in c or (ORG + "OrganizationalUnit" in c and COV + "PublicOrganization" not in c):
        return "offices"
    if c & {ORG + "Organization", ORG + "FormalOrganization", COV + "PublicOrganization", COV + "PrivateOrganization"}:
        return "bodies"
    if SKOS + "Concept" in c and any(
        s.endswith(("/thematic-area", "/line-of-intervention")) for s in index.objects(entity.iri, SKOS + "inScheme")
    ):
        return "themes"
    return None


def territory_province(index: Index, territory: str) -> str | None:
    """The province of a territory: itself, or the province a comune belongs to (OntoPiA's, or one of the
    comuni data/territories.ttl names `{base}id/city/{ISTAT code}` because OntoPiA's IRI is not known)."""
    classes = index.classes_of.get(territory, set())
    if CLV + "Province" in classes or (territory.startswith(TERRITORY_ROOT) and "/provinces/" in territory):
        return territory
    if CLV + "City" in classes or (territory.startswith(TERRITORY_ROOT) and "/cities/" in territory):
        return next(iter(index.objects(territory, CLV + "hasDirectHigherRank")), None)
    return None


def province_of(index: Index, iri: str, seen: set[str]) -> str | None:
    """The thing's own stated territory, else that of the body it belongs to (unit of, post in, run by,
    hosted by …). Never the province of the page that mentions it: a regional forum or a national body is
    in no province unless the data says so (issue 14); such things are listed as having no stated territory."""
    return _stated(index, iri, lambda territory: territory_province(index, territory), seen)


def region_of(index: Index, entity: Entity) -> str | None:
    """The region of the thing's province, else a region the data states as its (or its body's) territory."""
    if entity.province is not None:
        return next(iter(index.objects(entity.province, CLV + "hasDirectHigherRank")), None)
    return _stated(index, entity.iri, _region, set())


def _region(territory: str) -> str | None:
    return territory if territory.startswith(TERRITORY_ROOT) and "/regions/" in territory else None


def _stated(index: Index, iri: str, pick: Callable[[str], str | None], seen: set[str]) -> str | None:
    """The first of the thing's own stated territories that `pick` maps to a place; when it states none, the
    same for each body it belongs to (PARENT_PROPERTIES, in order). A thing that states territories `pick`
    maps to nothing (a region, for a province) is in none: its bodies' are not asked."""
    if iri in seen:
        return None
    seen.add(iri)
    if stated := index.objects(iri, index.term(terms.territory)):
        return next((found for territory in stated if (found := pick(territory)) is not None), None)
    for prop in PARENT_PROPERTIES:
        for parent in index.objects(iri, index.term(prop)):
            if (found := _stated(index, parent, pick, seen)) is not None:
                return found
    return None
