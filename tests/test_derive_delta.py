"""`derive_changes` (scripts/derive.py) against its oracle, the full `derive`: after any change to the asserted
statements, a store's graph/entailed and graph/derived with the changes applied hold exactly what `derive` makes
of all the new data, under the default base and under another one. The changes are random but seeded: types,
labels, dates, memberships and their parts, inverse, symmetric and sub- properties, statements both asserted and
entailed (or derived), statements in two graphs at once, whole subjects removed. They are fictitious test data,
never published. And the work follows the change: one change reads a small part of the store.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest

from scripts.build import rebase
from scripts.derive import DATE_PROPERTIES, DERIVED, ENTAILED, derive, derive_changes, graph_name
from scripts.rdfio import graph_of
from scripts.sources import meta_graphs, read_sources, release_sources
from server import terms
from server.config import DEFAULT_BASE_URI, PROJECT_ROOT, Settings
from tools.synth import synthesize

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OTHER_BASE = "http://127.0.0.1:8765/parita/"
TEST_IRI = DEFAULT_BASE_URI + "id/test-derive-delta/"
#: predicates the rules act on (entailed through sub-, inverse or symmetric properties, labels, dates, memberships)
RULED = [
    RDF_TYPE,
    RDFS + "label",
    SKOS + "prefLabel",
    *DATE_PROPERTIES,
    ORG + "member",
    ORG + "organization",
    ORG + "role",
    ORG + "hasMembership",
    ORG + "memberOf",
    ORG + "hasMember",
    ORG + "headOf",
    ORG + "subOrganizationOf",
    ORG + "hasSubOrganization",
    ORG + "unitOf",
    ORG + "hasUnit",
    terms.collaboratesWith,
    terms.earliestDate,
    terms.latestDate,
]
CLASSES = [ORG + "Membership", ORG + "FormalOrganization", ORG + "OrganizationalUnit", terms.EqualityBody]


def data_of(settings: Settings) -> list[ox.Quad]:
    return read_sources(release_sources(settings))


@pytest.fixture(scope="module")
def real_data() -> list[ox.Quad]:
    return data_of(Settings(data_dir=PROJECT_ROOT / "data"))


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> list[ox.Quad]:
    folder = tmp_path_factory.mktemp("synthetic")
    synthesize(0.1, folder, Settings(data_dir=PROJECT_ROOT / "data"))
    return data_of(Settings(data_dir=folder))


def derived_store(quads: list[ox.Quad], base: str) -> ox.Store:
    """What a release's store holds: asserted, meta and derived graphs, rebased."""
    store = ox.Store()
    store.bulk_extend(rebase(quads + derive(quads, meta_graphs()), base))
    return store


def derived_part(store: ox.Store, base: str) -> dict[str, set[ox.Quad]]:
    return {
        name: set(store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name(name, base))))
        for name in (ENTAILED, DERIVED)
    }


class Changes:
    """Random changes to a set of asserted quads (default base, as the files write them)."""

    def __init__(self, quads: list[ox.Quad], seed: int) -> None:
        self.rng = random.Random(seed)
        meta = meta_graphs()
        self.data = {q for q in quads if graph_of(q) not in meta}
        self.meta = [q for q in quads if graph_of(q) in meta]
        self.graphs = sorted({q.graph_name for q in self.data}, key=str) + [
            ox.NamedNode(graph_name("reconciled")),
            ox.NamedNode(graph_name("publisher/test-derive-delta")),
        ]
        self.ruled = [q for q in self.data if q.predicate.value in RULED]
        self.subjects = sorted({q.subject for q in self.data}, key=str)
        memberships = [q.subject for q in self.ruled if q.object == ox.NamedNode(ORG + "Membership")]
        self.memberships = sorted(set(memberships), key=str)
        parts = {ORG + "member", ORG + "organization", ORG + "role"}
        self.named = sorted({q.object for q in self.ruled if q.predicate.value in parts}, key=str)
        self.derived: list[ox.Quad] = []
        self.fresh = 0

    def quads(self) -> list[ox.Quad]:
        return self.meta + sorted(self.data, key=str)

    def pick(self, items: list[Any]) -> Any:
        return items[self.rng.randrange(len(items))]

    def node(self) -> Any:
        pool = self.rng.choice([self.subjects, self.memberships, self.named])
        return self.pick(pool) if pool else self.pick(self.subjects)

    def literal(self) -> ox.Literal:
        kind = self.rng.randrange(6)
        if kind == 0:
            return ox.Literal(str(self.rng.randrange(1990, 2030)), datatype=ox.NamedNode(XSD + "gYear"))
        if kind == 1:
            return ox.Literal(
                f"{self.rng.randrange(1990, 2030)}-{self.rng.randrange(1, 13):02d}",
                datatype=ox.NamedNode(XSD + "gYearMonth"),
            )
        if kind == 2:
            return ox.Literal(
                f"20{self.rng.randrange(10, 30)}-0{self.rng.randrange(1, 10)}-1{self.rng.randrange(10)}",
                datatype=ox.NamedNode(XSD + "date"),
            )
        return ox.Literal(f"Ente di prova {self.rng.randrange(100)} (fittizio)", language=self.rng.choice(["it", "en"]))

    def one(self) -> tuple[set[ox.Quad], set[ox.Quad]]:
        """One random change: (quads added, quads removed), each really a change."""
        rng, graph = self.rng, self.rng.choice(self.graphs)
        kind = rng.randrange(13)
        if kind == 0:  # a statement the rules act on removed
            return set(), {self.pick(self.ruled)} if self.ruled else set()
        if kind == 1:  # any statement removed
            return set(), {self.pick(sorted(self.data, key=str)[:: max(1, len(self.data) // 500)])}
        if kind == 2:  # a type
            return {ox.Quad(self.node(), ox.NamedNode(RDF_TYPE), ox.NamedNode(rng.choice(CLASSES)), graph)}, set()
        if kind == 3:  # a label, a name of something memberships name, or of a membership itself
            predicate = ox.NamedNode(rng.choice([RDFS + "label", SKOS + "prefLabel"]))
            text = f"Nome di prova {rng.randrange(1000)} (fittizio)"
            return {ox.Quad(self.node(), predicate, ox.Literal(text, language=rng.choice(["it", "en"])), graph)}, set()
        if kind == 4:  # a date
            predicate = ox.NamedNode(rng.choice(DATE_PROPERTIES))
            return {ox.Quad(self.node(), predicate, self.literal(), graph)}, set()
        if kind == 5:  # a membership's member, organization or role (a second one, or a new one)
            predicate = ox.NamedNode(ORG + rng.choice(["member", "organization", "role"]))
            return {ox.Quad(self.node(), predicate, self.node(), graph)}, set()
        if kind == 6:  # a whole new membership, labelled or not
            self.fresh += 1
            m = ox.NamedNode(f"{TEST_IRI}membership-{self.fresh}")
            quads = {
                ox.Quad(m, ox.NamedNode(RDF_TYPE), ox.NamedNode(ORG + "Membership"), graph),
                ox.Quad(m, ox.NamedNode(ORG + "member"), self.node(), graph),
                ox.Quad(m, ox.NamedNode(ORG + "organization"), self.node(), graph),
            }
            if rng.random() < 0.5:
                quads.add(ox.Quad(m, ox.NamedNode(ORG + "role"), self.node(), graph))
            if rng.random() < 0.2:
                quads.add(ox.Quad(m, ox.NamedNode(RDFS + "label"), self.literal(), graph))
            return quads, set()
        if kind == 7:  # a property with an inverse, a superproperty or a symmetric one
            predicate = ox.NamedNode(rng.choice(RULED[8:-2]))
            return {ox.Quad(self.node(), predicate, self.node(), graph)}, set()
        if kind == 8 and self.derived:  # asserted what is entailed or derived too
            q = self.pick(self.derived)
            return {ox.Quad(q.subject, q.predicate, q.object, graph)}, set()
        if kind == 9:  # a statement in a second graph (then one of its copies removed, by kind 0/1)
            q = self.pick(self.ruled)
            return {ox.Quad(q.subject, q.predicate, q.object, graph)} - self.data, set()
        if kind == 10:  # everything about a subject removed
            subject = self.node()
            return set(), {q for q in self.data if q.subject == subject}
        if kind == 11 and self.named:  # the names of something memberships name removed
            node = self.pick(self.named)
            labels = {RDFS + "label", SKOS + "prefLabel"}
            return set(), {q for q in self.data if q.subject == node and q.predicate.value in labels}
        return set(), set()

    def change(self, count: int) -> tuple[set[ox.Quad], set[ox.Quad]]:
        """`count` random changes at once: what is added and removed, from and to the data as it was."""
        before = set(self.data)
        for _ in range(count):
            added, removed = self.one()
            self.data = (self.data - removed) | added
        self.ruled = [q for q in self.data if q.predicate.value in RULED]
        self.subjects = sorted({q.subject for q in self.data}, key=str)
        return self.data - before, before - self.data


def check_changes(quads: list[ox.Quad], base: str, seed: int, rounds: int) -> None:
    changes = Changes(quads, seed)
    store = derived_store(changes.quads(), base)
    moved: set[tuple[str, str]] = set()  # which graphs the changes added to or removed from
    for number in range(rounds):
        added, removed = changes.change(changes.rng.choice([1, 1, 2, 5, 12]))
        added_rebased, removed_rebased = rebase(sorted(added, key=str), base), rebase(sorted(removed, key=str), base)
        for q in removed_rebased:
            store.remove(q)
        store.bulk_extend(added_rebased)
        to_add, to_remove = derive_changes(store, added_rebased, removed_rebased, base)
        moved |= {("added", graph_of(q)) for q in to_add} | {("removed", graph_of(q)) for q in to_remove}
        for q in to_remove:
            store.remove(q)
        store.bulk_extend(to_add)
        derived = derive(changes.quads(), meta_graphs())
        expected = ox.Store()  # a store's form of each literal, as in `store`
        expected.bulk_extend(rebase(derived, base))
        assert derived_part(store, base) == derived_part(expected, base), (number, added, removed)
        changes.derived = [q for q in derived if q.subject != q.graph_name]
    graphs = [graph_name(ENTAILED, base), graph_name(DERIVED, base)]
    assert moved == {(way, graph) for way in ("added", "removed") for graph in graphs}, "the changes left a rule out"


@pytest.mark.parametrize("base", [DEFAULT_BASE_URI, OTHER_BASE])
def test_changes_to_the_real_data_match_a_full_derivation(real_data: list[ox.Quad], base: str) -> None:
    check_changes(real_data, base, seed=11, rounds=14)


@pytest.mark.parametrize("base", [DEFAULT_BASE_URI, OTHER_BASE])
def test_changes_to_synthetic_data_match_a_full_derivation(synthetic_data: list[ox.Quad], base: str) -> None:
    check_changes(synthetic_data, base, seed=12, rounds=8)


class CountingStore:
    """A store that counts the statements its lookups return (what `derive_changes` reads)."""

    def __init__(self, store: ox.Store) -> None:
        self.store, self.read = store, 0

    def quads_for_pattern(self, *pattern: object) -> Iterator[ox.Quad]:
        for quad in self.store.quads_for_pattern(*pattern):
            self.read += 1
            yield quad


def test_one_change_reads_what_is_around_it(synthetic_data: list[ox.Quad]) -> None:
    """A new label of an organization that memberships name: its memberships' labels change, and the lookups
    around it read a small part of the store, not every statement."""
    store = derived_store(synthetic_data, DEFAULT_BASE_URI)
    member = ox.NamedNode(ORG + "member")
    memberships = [q for q in store.quads_for_pattern(None, member, None, None)]
    named = memberships[len(memberships) // 2].object
    labels = [q for q in store.quads_for_pattern(named, ox.NamedNode(RDFS + "label"), None, None)]
    old = next(q for q in labels if isinstance(q.object, ox.Literal) and q.object.language == "it")
    new = ox.Quad(named, old.predicate, ox.Literal("Ente rinominato (fittizio)", language="it"), old.graph_name)
    store.remove(old)
    store.add(new)
    counting = CountingStore(store)
    to_add, to_remove = derive_changes(counting, [new], [old])  # type: ignore[arg-type]
    renamed = {q.subject for q in to_add if "Ente rinominato (fittizio)" in str(q.object)}
    assert renamed and renamed == {q.subject for q in store.quads_for_pattern(None, member, named, None)}
    assert {q.subject for q in to_remove} == renamed
    assert counting.read < len(store) // 50, (counting.read, len(store))
