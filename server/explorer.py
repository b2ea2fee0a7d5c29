"""The network explorer: for one network (or table) or for the whole dataset, the graph of members and their
roles, protocols with their signatories and approving acts, plans, changes, linked networks and provinces.

`network_graph` and `overview_graph` build the graph from the site index; `layout` places it in layers
(left to right) with a deterministic barycentre ordering, so the server draws it as SVG (no JS library):
every node is a link to its page, and the same edges are given as a table for screen readers."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import terms
from .site_index import CLV, DCT, ORG, Index
from .urls import Urls

GROUPS = {  # group → (shape, Italian, English), in legend order
    "network": ("square", "Rete o tavolo", "Network or table"),
    "body": ("circle", "Ente", "Body"),
    "office": ("circle", "Ufficio", "Office"),
    "equality-body": ("circle", "Organismo di parità", "Equality body"),
    "document": ("diamond", "Protocollo, atto o piano", "Protocol, act or plan"),
    "event": ("triangle", "Evento o cambiamento", "Event or change"),
    "territory": ("hexagon", "Provincia o regione", "Province or region"),
    "other": ("circle", "Altro", "Other"),
}
RELATIONS = {  # relation → (Italian, English): read "source RELATION target"
    "member": ("aderisce a", "is a member of"),
    "signatory": ("firma", "signs"),
    "regulates": ("regola", "regulates"),
    "approvedBy": ("è approvato da", "is approved by"),
    "approvingBody": ("è approvato dall'organo", "is approved by the body"),
    "amendedBy": ("è modificato da", "is amended by"),
    "implements": ("attua", "implements"),
    "linkedTo": ("è collegato a", "is linked to"),
    "hostedBy": ("ha sede presso", "is hosted by"),
    "relation": ("riguarda", "concerns"),
    "original": ("è trasformato da", "is changed by"),
    "resulting": ("dà origine a", "results in"),
    "province": ("opera nella provincia di", "works in the province of"),
    "region": ("è nella regione", "is in the region"),
}
ROW, COLUMN, NODE_R, LABEL_MAX = 38, 320, 9, 36


@dataclass
class Node:
    iri: str
    label: str
    group: str
    layer: int
    href: str
    id: str = ""
    x: float = 0.0
    y: float = 0.0
    center: bool = False

    @property
    def short(self) -> str:
        """The label cut to fit (the template adds "…", hidden from the accessible name, when it is cut)."""
        if len(self.label) <= LABEL_MAX:
            return self.label
        cut = self.label[: LABEL_MAX - 1]
        return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:(")  # whole words only

    @property
    def cut(self) -> bool:
        return len(self.label) > LABEL_MAX


@dataclass
class Edge:
    source: str
    target: str
    relation: str
    role: str = ""  # the member's role, for memberships
    strong: bool = False  # a role other than plain membership (coordination …), drawn apart
    path: str = ""


@dataclass
class Graph:
    title: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    width: int = 0
    height: int = 0


class Builder:
    def __init__(self, index: Index, urls: Urls, lang: str, title: str) -> None:
        self.index, self.urls, self.lang = index, urls, lang
        self.graph = Graph(title)

    def node(self, iri: str, layer: int) -> str:
        if iri not in self.graph.nodes:
            self.graph.nodes[iri] = Node(
                iri,
                self.index.label(iri, self.lang),
                group_of(self.index, iri),
                layer,
                href_of(self.index, self.urls, iri),
            )
        return iri

    def edge(self, source: str, target: str, relation: str, layers: tuple[int, int], role: str = "") -> None:
        self.node(source, layers[0])
        self.node(target, layers[1])
        if not any(e.source == source and e.target == target and e.relation == relation for e in self.graph.edges):
            label = self.index.label(role, self.lang) if role else ""
            self.graph.edges.append(Edge(source, target, relation, label, bool(role) and not role.endswith("/membro")))


def group_of(index: Index, iri: str) -> str:
    entity = index.entities.get(iri)
    if entity is None:
        return "territory" if "/territorial-classifications/" in iri else "other"
    by_category = {
        "networks": "network",
        "bodies": "body",
        "offices": "office",
        "equality-bodies": "equality-body",
        "acts": "document",
        "help-desks": "other",
    }
    if entity.category in by_category:
        return by_category[entity.category]
    return "event" if entity.kind in ("event", "change-event", "conferral") else "other"


def href_of(index: Index, urls: Urls, iri: str) -> str:
    """A node's page: the document for our things, the province or region page for those, else the IRI itself."""
    if "/territorial-classifications/provinces/" in iri:
        return f"/-/province/{index.notation(iri)}"
    if "/territorial-classifications/regions/" in iri:
        return f"/-/region/{index.notation(iri)}"
    return urls.document_path(iri) or iri


def network_graph(index: Index, urls: Urls, network: str, lang: str) -> Graph:
    """Members (with roles) and signatories on the left, the network, then what governs or relates to it."""
    b = Builder(index, urls, lang, index.label(network, lang))
    b.node(network, 1)
    b.graph.nodes[network].center = True
    for membership in index.subjects(ORG + "organization", network):
        role = next(iter(index.objects(membership, ORG + "role")), "")
        for member in index.objects(membership, ORG + "member"):
            b.edge(member, network, "member", (0, 1), role)
    for protocol in index.subjects(index.term(terms.regulates), network):
        b.edge(protocol, network, "regulates", (2, 1))
        for act in index.objects(protocol, index.term(terms.approvedBy)):
            b.edge(protocol, act, "approvedBy", (2, 3))
        for signatory in index.objects(protocol, index.term(terms.signatory)):
            b.edge(signatory, protocol, "signatory", (0, 2))
    for plan in index.objects(network, index.term(terms.implements)):
        b.edge(network, plan, "implements", (1, 2))
        _plan_sources(b, plan)
    for plan in index.subjects(DCT + "relation", network):
        b.edge(plan, network, "relation", (2, 1))
        _plan_sources(b, plan)
    for prop, relation in (
        (index.term(terms.amendedBy), "amendedBy"),
        (index.term(terms.hostedBy), "hostedBy"),
        (ORG + "linkedTo", "linkedTo"),
    ):
        for other in index.objects(network, prop):
            b.edge(network, other, relation, (1, 2))
    for other in index.subjects(ORG + "linkedTo", network):
        b.edge(other, network, "linkedTo", (2, 1))
    for event in {*index.objects(network, ORG + "changedBy"), *index.objects(network, ORG + "resultedFrom")}:
        _change(b, event, (3, 2, 3))
    if (province := index.entities[network].province) is not None:
        b.edge(network, province, "province", (1, 2))
    return layout(b.graph)


def _plan_sources(b: Builder, plan: str) -> None:
    for act in b.index.objects(plan, b.index.term(terms.approvedBy)):
        b.edge(plan, act, "approvedBy", (2, 3))
    for body in b.index.objects(plan, b.index.term(terms.approvingBody)):
        b.edge(plan, body, "approvingBody", (2, 3))


def _change(b: Builder, event: str, layers: tuple[int, int, int]) -> None:
    for original in b.index.objects(event, ORG + "originalOrganization"):
        b.edge(
            original,
            event,
            "original",
            (layers[0] if original not in b.graph.nodes else b.graph.nodes[original].layer, layers[1]),
        )
    for resulting in b.index.objects(event, ORG + "resultingOrganization"):
        b.edge(
            event,
            resulting,
            "resulting",
            (layers[1], layers[2] if resulting not in b.graph.nodes else b.graph.nodes[resulting].layer),
        )


def overview_graph(index: Index, urls: Urls, lang: str, title: str) -> Graph:
    """Regions, provinces, every network and table, and the protocols, plans and changes around them."""
    b = Builder(index, urls, lang, title)
    for province in index.provinces():
        for region in index.objects(province, CLV + "hasDirectHigherRank"):
            b.edge(province, region, "region", (1, 0))
    networks = index.category("networks")
    for net in networks:
        if net.province:
            b.edge(net.iri, net.province, "province", (2, 1))
        else:
            b.node(net.iri, 2)
    for net in networks:
        for other in index.objects(net.iri, ORG + "linkedTo"):
            b.edge(net.iri, other, "linkedTo", (2, 2))
        for protocol in index.subjects(index.term(terms.regulates), net.iri):
            b.edge(protocol, net.iri, "regulates", (3, 2))
        for plan in index.objects(net.iri, index.term(terms.implements)):
            b.edge(net.iri, plan, "implements", (2, 3))
        for plan in index.subjects(DCT + "relation", net.iri):
            b.edge(plan, net.iri, "relation", (3, 2))
        for event in index.objects(net.iri, ORG + "changedBy"):
            _change(b, event, (2, 3, 2))
    return layout(b.graph)


def layout(graph: Graph) -> Graph:
    """Columns by layer, rows by barycentre of already placed neighbours; edges as cubic curves."""
    layers = sorted({n.layer for n in graph.nodes.values()})
    column = {layer: i for i, layer in enumerate(layers)}
    order_key = {g: i for i, g in enumerate(GROUPS)}
    placed: dict[str, float] = {}
    neighbours: dict[str, list[str]] = {}
    for e in graph.edges:
        neighbours.setdefault(e.source, []).append(e.target)
        neighbours.setdefault(e.target, []).append(e.source)
    rows = max((sum(1 for n in graph.nodes.values() if n.layer == layer) for layer in layers), default=1)
    margin_x, margin_y = 300, 40
    graph.width = margin_x * 2 + COLUMN * max(0, len(layers) - 1)
    graph.height = margin_y * 2 + ROW * max(1, rows - 1)
    for layer in layers:
        members = [n for n in graph.nodes.values() if n.layer == layer]

        def key(n: Node) -> tuple[float, int, str]:
            ys = [placed[m] for m in neighbours.get(n.iri, []) if m in placed]
            return (sum(ys) / len(ys) if ys else 0.0, order_key.get(n.group, 99), n.label.casefold())

        members.sort(key=key)
        top = margin_y + (graph.height - 2 * margin_y - ROW * (len(members) - 1)) / 2
        for i, n in enumerate(members):
            n.x, n.y = margin_x + COLUMN * column[layer], top + ROW * i
            placed[n.iri] = n.y
    for i, n in enumerate(sorted(graph.nodes.values(), key=lambda n: (n.x, n.y))):
        n.id = f"n{i}"
    for e in graph.edges:
        e.path = _curve(graph.nodes[e.source], graph.nodes[e.target])
    relation_order = {r: i for i, r in enumerate(RELATIONS)}
    graph.edges.sort(
        key=lambda e: (
            relation_order.get(e.relation, 99),
            graph.nodes[e.source].label.casefold(),
            graph.nodes[e.target].label.casefold(),
        )
    )
    return graph


def _curve(a: Node, b: Node) -> str:
    if abs(a.x - b.x) < 1:  # same column: a bow to the right
        bow = 60 + abs(a.y - b.y) / 4
        return f"M{a.x:.0f},{a.y:.0f} C{a.x + bow:.0f},{a.y:.0f} {b.x + bow:.0f},{b.y:.0f} {b.x:.0f},{b.y:.0f}"
    mid = (a.x + b.x) / 2
    return f"M{a.x:.0f},{a.y:.0f} C{mid:.0f},{a.y:.0f} {mid:.0f},{b.y:.0f} {b.x:.0f},{b.y:.0f}"


def shape_path(shape: str, x: float, y: float, r: float) -> str:
    """SVG path data of a node's shape (shapes, not only colours, tell the groups apart)."""
    if shape == "square":
        return f"M{x - r:.1f},{y - r:.1f}h{2 * r:.1f}v{2 * r:.1f}h{-2 * r:.1f}z"
    if shape == "diamond":
        return f"M{x:.1f},{y - r * 1.25:.1f}L{x + r * 1.25:.1f},{y:.1f}L{x:.1f},{y + r * 1.25:.1f}L{x - r * 1.25:.1f},{y:.1f}z"
    if shape == "triangle":
        return f"M{x:.1f},{y - r * 1.2:.1f}L{x + r * 1.1:.1f},{y + r * 0.8:.1f}L{x - r * 1.1:.1f},{y + r * 0.8:.1f}z"
    if shape == "hexagon":
        h = r * 0.87
        return (
            f"M{x - r:.1f},{y:.1f}L{x - r / 2:.1f},{y - h:.1f}L{x + r / 2:.1f},{y - h:.1f}L{x + r:.1f},{y:.1f}"
            f"L{x + r / 2:.1f},{y + h:.1f}L{x - r / 2:.1f},{y + h:.1f}z"
        )
    return f"M{x - r:.1f},{y:.1f}a{r:.1f},{r:.1f} 0 1,0 {2 * r:.1f},0a{r:.1f},{r:.1f} 0 1,0 {-2 * r:.1f},0"
