"""`revalidate.validate_changes` against the oracle, a full validation of the changed data: on the real data and
on synthetic scale 0.1, under the default base and another one, after many random changes in a row (each
continuing from the state the previous incremental report saved), the findings are the same, field by field.

The store is built as a release's is (every statement rebased, plus graph/entailed and graph/derived, which the
incremental validation must not read: they are left as they were before the changes). The engine is the
configured one (parita's); one run uses pySHACL, the reference.
"""

from __future__ import annotations

import random
import shutil
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from scripts import derive, revalidate
from scripts.build import rebase, validate_release
from scripts.rdfio import SourceFile, graph_of
from scripts.sources import meta_graphs, read_sources, release_sources
from scripts.validate import Report
from server.config import DEFAULT_BASE_URI, PROJECT_ROOT, Settings
from tools.synth import synthesize

ID = DEFAULT_BASE_URI + "id/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
ORG = "http://www.w3.org/ns/org#"
OTHER_BASE = "https://example.org/parita/"


def facts(report: Report) -> Counter[tuple[object, ...]]:
    """Every field of every finding (the order of equal keys is the engine's)."""
    return Counter(
        tuple(sorted(f.messages.items())) + tuple(str(v) for k, v in vars(f).items() if k != "messages")
        for f in report.findings
    )


class Release:
    """A release's statements (as read, under the default base), its store (rebased) and its validation cache."""

    def __init__(self, data_dir: Path, tmp: Path, base: str, engine: str = "parita") -> None:
        self.settings = Settings(data_dir=data_dir, build_dir=tmp / "build", base_uri=base, validation_engine=engine)
        self.sources = release_sources(self.settings)
        self.quads = read_sources(self.sources)
        self.folder = tmp / "build" / "validation"
        self.number, self.seconds = 0, list[float]()
        self.first = validate_release(self.quads, self.settings)
        revalidate.save(self.folder, self.settings, self.release, self.first)
        self.store = ox.Store()
        derived = derive.derive(self.quads, meta_graphs())
        self.store.extend(rebase([*self.quads, *derived], base))
        meta = meta_graphs()
        self.graphs = sorted({graph_of(q) for q in self.quads} - meta)
        self.position = {s.graph: n for n, s in reversed(list(enumerate(self.sources)))}

    @property
    def release(self) -> str:
        return f"r{self.number}"

    def change(
        self, new: list[ox.Quad], sources: list[SourceFile] | None = None
    ) -> tuple[revalidate.Checked | None, Report]:
        """Move to the statements `new` (of `sources`, when they changed): the incremental report (saved as the
        next release's) and the full one."""
        if sources is not None:
            self.sources = sources
            self.position = {s.graph: n for n, s in reversed(list(enumerate(self.sources)))}
        # in reading order, as read_sources gives them: a finding's `files` are in that order
        new = sorted(new, key=lambda q: self.position[graph_of(q)])
        old, now = set(self.quads), set(new)
        base = self.settings.base_uri
        added, removed = rebase(sorted(now - old, key=str), base), rebase(sorted(old - now, key=str), base)
        for q in removed:
            self.store.remove(q)
        self.store.extend(added)
        said: list[str] = []
        started = time.perf_counter()
        report = revalidate.validate_changes(
            self.store, added, removed, self.settings, self.folder, self.release, self.sources, said.append
        )
        self.seconds.append(time.perf_counter() - started)
        full = validate_release(new, self.settings)
        self.quads = new
        self.number += 1
        if report is not None:
            assert any("incrementally" in m for m in said), said
            revalidate.save(self.folder, self.settings, self.release, report)
        else:
            revalidate.save(self.folder, self.settings, self.release, full)
        return report, full


def random_change(rng: random.Random, quads: list[ox.Quad], graphs: list[str]) -> tuple[str, list[ox.Quad]]:
    """One of the changes a source can make, at random places: what it is, and the statements after it."""
    meta = meta_graphs()
    data = [q for q in quads if graph_of(q) not in meta]
    q = rng.choice(data)
    subjects = [x.subject for x in data]
    kind = rng.choice(
        [
            "drop statements",
            "drop a subject",
            "restate in another graph",
            "move to another graph",
            "relink",
            "retype",
            "untype",
            "change a literal",
            "drop labels",
            "link a secret facility",
            "add a membership",
            "add a blank node",
            "drop a link target",
        ]
    )
    other = ox.NamedNode(rng.choice(graphs))
    new = list(quads)
    if kind == "drop statements":
        gone = set(rng.sample(data, 5))
        new = [x for x in quads if x not in gone]
    elif kind == "drop a subject":
        new = [x for x in quads if not (x.subject == q.subject and x.graph_name == q.graph_name)]
    elif kind == "restate in another graph":
        new.append(ox.Quad(q.subject, q.predicate, q.object, other))
    elif kind == "move to another graph":
        new = [x for x in quads if x != q] + [ox.Quad(q.subject, q.predicate, q.object, other)]
    elif kind == "relink":  # a link of this predicate to another node that is some value of it
        values = [x.object for x in data if x.predicate == q.predicate and x.object != q.object]
        if values:
            new.append(ox.Quad(q.subject, q.predicate, rng.choice(values), q.graph_name))
    elif kind == "retype":
        kinds = sorted({x.object.value for x in data if x.predicate == RDF_TYPE})
        new.append(ox.Quad(q.subject, RDF_TYPE, ox.NamedNode(rng.choice(kinds)), other))
    elif kind == "untype":
        new = [x for x in quads if not (x.subject == q.subject and x.predicate == RDF_TYPE)]
    elif kind == "change a literal":
        literals = [x for x in data if isinstance(x.object, ox.Literal)]
        x = rng.choice(literals)
        value = rng.choice(
            [
                ox.Literal(x.object.value + " (modificato)", language="it"),
                ox.Literal(x.object.value, language="fr"),
                ox.Literal("2019-02-30", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
                ox.Literal(x.object.value),
            ]
        )
        new = [y for y in quads if y != x] + [ox.Quad(x.subject, x.predicate, value, x.graph_name)]
    elif kind == "drop labels":
        named = [x.subject for x in data if x.predicate == LABEL]
        target = rng.choice(named)
        new = [x for x in quads if not (x.subject == target and x.predicate == LABEL)]
    elif kind == "link a secret facility":
        secret = [x.subject for x in data if "posto-letto-segreto" in x.subject.value] or [q.subject]
        new.append(ox.Quad(rng.choice(subjects), ox.NamedNode(ORG + "hasSite"), rng.choice(secret), other))
    elif kind == "add a membership":
        networks = [x.subject for x in data if x.predicate == RDF_TYPE and "Collaboration" in x.object.value]
        roles = [x.object for x in data if x.predicate.value == ORG + "role"]
        if networks and roles:
            node = ox.NamedNode(f"{ID}membership/prova-{rng.randrange(10**6)}")
            new += [
                ox.Quad(node, RDF_TYPE, ox.NamedNode(ORG + "Membership"), other),
                ox.Quad(node, ox.NamedNode(ORG + "organization"), rng.choice(networks), other),
                ox.Quad(node, ox.NamedNode(ORG + "member"), rng.choice(subjects), other),
                ox.Quad(node, ox.NamedNode(ORG + "role"), rng.choice(roles), other),
            ]
    elif kind == "add a blank node":
        blank = ox.BlankNode(f"f99b{rng.randrange(10**6)}")
        new += [
            ox.Quad(q.subject, q.predicate, blank, q.graph_name),
            ox.Quad(blank, RDF_TYPE, rng.choice([x.object for x in data if x.predicate == RDF_TYPE]), q.graph_name),
        ]
    elif kind == "drop a link target":  # every statement about a node other statements point at
        targets = [x.object for x in data if isinstance(x.object, ox.NamedNode) and x.predicate != RDF_TYPE]
        target = rng.choice(targets)
        new = [x for x in quads if x.subject != target]
    return kind, new


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic") / "data"
    synthesize(0.1, folder, Settings())
    return folder


def run(release: Release, seed: int, steps: int) -> None:
    rng = random.Random(seed)
    moved, last = 0, facts(release.first)
    for step in range(steps):
        kinds, new = [], release.quads
        for _ in range(rng.choice((1, 1, 2, 3))):  # several changes at once, each to what the previous one left
            kind, new = random_change(rng, new, release.graphs)
            kinds.append(kind)
        report, full = release.change(new)
        assert report is not None, f"step {step} ({kinds}) fell back to a full validation"
        assert facts(report) == facts(full), f"step {step}: {kinds}"
        assert report.conforms == full.conforms
        moved += facts(full) != last
        last = facts(full)
    assert moved >= steps // 3, "the changes must change the findings, or the comparison proves little"


@pytest.mark.parametrize("base", [DEFAULT_BASE_URI, OTHER_BASE])
def test_incremental_equals_full_on_the_real_data(tmp_path: Path, base: str) -> None:
    run(Release(PROJECT_ROOT / "data", tmp_path, base), seed=1 if base == DEFAULT_BASE_URI else 2, steps=10)


@pytest.mark.parametrize("base", [DEFAULT_BASE_URI, OTHER_BASE])
def test_incremental_equals_full_on_synthetic_data(tmp_path: Path, synthetic: Path, base: str) -> None:
    run(Release(synthetic, tmp_path, base), seed=7 if base == DEFAULT_BASE_URI else 8, steps=8)


def test_incremental_equals_full_with_pyshacl(tmp_path: Path) -> None:
    run(Release(PROJECT_ROOT / "data", tmp_path, OTHER_BASE, engine="pyshacl"), seed=3, steps=2)


def test_a_graph_whose_source_is_gone(tmp_path: Path) -> None:
    """A source file removed: its statements are removed from a graph the release no longer has, and what other
    graphs state about the same nodes is validated again (its organization loses the label it gave it)."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    (data / "zz-temporanea.ttl").write_text(
        f'<{ID}organization/provincia-di-pisa> <{LABEL.value}> "Provincia di Pisa (fittizia)"@it .\n'
        f'<{ID}organization/temporanea> <{LABEL.value}> "Ente temporaneo (fittizio)"@it ; a <{ORG}Organization> .\n'
    )
    release = Release(data, tmp_path, OTHER_BASE)
    (data / "zz-temporanea.ttl").unlink()
    sources = release_sources(release.settings)
    report, full = release.change(read_sources(sources), sources)
    assert report is not None
    assert facts(report) == facts(full) and facts(full) != facts(release.first)
