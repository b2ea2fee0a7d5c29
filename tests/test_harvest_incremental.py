"""An incremental LDES harvest works on the entities whose versions it applied, and publishes what a harvest
starting afresh (no state) publishes from the same stream: the same contribution file, line for line and in
the same order, the same reconcile decisions, the same graph/reconciled. A refusal met on the way (a removed
entity still referred to, a subject outside the base URIs) leaves the last good data published.

The stream is a fixture publisher's (tests/harvest_fixtures.py): every statement in it is FICTITIOUS, made up
for these tests (each entity says so in its rdfs:comment). Two aggregators hold the project's data: `live`
harvests incrementally, `fresh` forgets its harvest state before each harvest.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from scripts import reconcile
from scripts.build import build
from scripts.harvest import Source, SourcesFile, entities_path, harvest
from server.config import PROJECT_ROOT, Settings
from server.sources import state_path
from tests.harvest_fixtures import Publishers

NAME, OTHER = "stream", "other"
PREFIXES = """@prefix dct: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix as: <https://www.w3.org/ns/activitystreams#> .
"""
TIME_LINE = "<http://www.w3.org/ns/prov#generatedAtTime>"


def org(label: str, *more: str) -> str:
    """The statements of a fictitious organisation (a Turtle predicate-object list)."""
    return "; ".join(
        (
            "a foaf:Organization",
            f'rdfs:label "{label}"@it , "{label} (en)"@en',
            'rdfs:comment "Ente fittizio: dati inventati per i test."@it',
            *more,
        )
    )


@dataclass
class Stream:
    publishers: Publishers
    live: Settings
    fresh: Settings

    @property
    def sources(self) -> SourcesFile:
        """The stream, after the other source once it has pages (its bodies are published ones to the stream's)."""
        names = [OTHER] * (OTHER in self.publishers.streams) + [NAME]
        root = f"{self.publishers.url}/"
        listed = (Source(n, (f"{root}{n}/",), ldes=f"{root}{n}/ldes") for n in names)
        return SourcesFile(tuple(listed), ("https://w3id.org/italia/",))

    def page(self, *versions: tuple[str, str | None], name: str = NAME) -> None:
        """A new page of source `name`: for each (entity path under its id/ or a full IRI, statements or None
        for a tombstone), a version stamped with the page's day."""
        pages = self.publishers.streams.setdefault(name, [])
        n, root, text = len(pages) + 1, f"{self.publishers.url}/{name}", PREFIXES
        for path, body in versions:
            entity = path if "://" in path else f"{root}/id/{path}"
            head = f'<{root}/ldes/{n}/v{len(text)}> dct:isVersionOf <{entity}> ; prov:generatedAtTime "2026-01-{n:02d}T00:00:00Z"^^xsd:dateTime'
            text += f"{head} ; a as:Tombstone .\n" if body is None else f"{head} ; {body} .\n"
        pages.append(text)

    def id(self, path: str, name: str = NAME) -> str:
        return f"{self.publishers.url}/{name}/id/{path}"

    def harvest(self, settings: Settings) -> dict[str, Any]:
        """The stream's summary of a harvest of every source."""
        if settings is self.fresh:  # the stream afresh: no state, no entities, no decisions
            state = json.loads(state_path(settings).read_text()) if state_path(settings).exists() else {}
            state.pop(NAME, None)
            state_path(settings).parent.mkdir(parents=True, exist_ok=True)
            state_path(settings).write_text(json.dumps(state))
            for path in (entities_path(settings, NAME), reconcile.decisions_path(settings, NAME)):
                path.unlink(missing_ok=True)
        summaries = {s["source"]: s for s in harvest(settings, self.sources)}
        assert summaries.pop(OTHER, {"status": "ok"})["status"] in ("ok", "unchanged"), summaries
        return summaries[NAME]

    def both(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.harvest(self.live), self.harvest(self.fresh)


def contribution(settings: Settings) -> list[str]:
    """The source's contribution file, without the line saying when it was retrieved."""
    lines = (settings.build_dir / "contributions" / f"{NAME}.nq").read_text().splitlines()
    return [line for line in lines if TIME_LINE not in line]


def published(settings: Settings) -> dict[str, Any]:
    """What a harvest leaves that the next release is built from."""
    reconciled = settings.build_dir / "contributions" / "_reconciled.nq"
    return {
        "lines": contribution(settings),
        "decisions": reconcile.load_decisions(settings, NAME),
        "reconciled": sorted(reconciled.read_text().splitlines()) if reconciled.exists() else None,
        "release": settings.current_release.resolve().name,
    }


def about(lines: list[str], *iris: str) -> list[str]:
    return [line for line in lines if line.startswith(tuple(f"<{iri}> " for iri in iris))]


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stream]:
    tmp = tmp_path_factory.mktemp("incremental")
    publishers = Publishers("http://127.0.0.1:9/", big_bytes=0, slow_seconds=0.0)
    live, fresh = (
        Settings(build_dir=tmp / name, data_dir=PROJECT_ROOT / "data", harvest_timeout=30.0)
        for name in ("live", "fresh")
    )
    build(live)
    shutil.copytree(live.build_dir, fresh.build_dir, symlinks=True)
    yield Stream(publishers, live, fresh)
    publishers.stop()


def same(stream: Stream) -> dict[str, Any]:
    """What the live aggregator published, asserted equal to what the fresh one did (releases aside)."""
    live, fresh = published(stream.live), published(stream.fresh)
    assert live["lines"] == fresh["lines"]
    assert live["decisions"] == fresh["decisions"]
    assert live["reconciled"] == fresh["reconciled"]
    return live


def test_an_incremental_harvest_publishes_what_a_fresh_one_does(stream: Stream) -> None:
    questura = "https://w3id.org/parita/id/organization/questura-di-asti"  # published by the project
    b, c, d, e = (stream.id(p) for p in ("organization/b", "office/c", "organization/d", "office/e"))
    stream.page(
        ("organization/questura", org("Questura di Asti")),  # same label and kind, no territory: certain
        ("organization/b", org("Questura di Asti B")),  # labels alike: a candidate for a person to confirm
        ("office/c", org("Ufficio C", f"rdfs:seeAlso <{b}>", 'foaf:based_near [ rdfs:label "Luogo fittizio"@it ]')),
        ("organization/d", org("Ente D")),
    )
    live, fresh = stream.both()
    assert live["status"] == fresh["status"] == "ok", (live, fresh)
    assert live["members_applied"] == 4 and live["same_as"] == 1
    first = same(stream)
    assert first["decisions"]["certain"] == [[stream.id("organization/questura"), questura]]
    assert {x["submitted"] for x in first["decisions"]["candidates"]} == {b}

    # d changes (its label now like the questura's: a candidate), e arrives referring to d
    stream.page(("organization/d", org("Questura di Asti D")), ("office/e", org("Ufficio E", f"rdfs:seeAlso <{d}>")))
    live, fresh = stream.both()
    assert live["status"] == fresh["status"] == "ok" and live["members_applied"] == 2, (live, fresh)
    assert live["requests"] == 2  # the root and the new page
    second = same(stream)
    assert {x["submitted"] for x in second["decisions"]["candidates"]} == {b, d}
    # every other entity's lines are the same bytes in the same order
    assert [x for x in first["lines"] if x not in about(first["lines"], d, e)] == [
        x for x in second["lines"] if x not in about(second["lines"], d, e)
    ]
    assert about(second["lines"], e) and about(first["lines"], d) != about(second["lines"], d)

    # b is removed while c still refers to it: refused, the last good data stays published
    stream.page(("organization/b", None))
    live, fresh = stream.both()
    for summary in (live, fresh):
        assert summary["status"] == "refused" and summary["reason"] == "unknown-reference", summary
        assert b in summary["error"]
    assert published(stream.live) == second
    assert json.loads(state_path(stream.live).read_text())[NAME]["status"] == "refused"
    assert live["triples"] == len([x for x in second["lines"] if not x.startswith("<https://w3id.org/parita/graph/")])

    # c goes too: both pages are applied, and neither is left
    stream.page(("office/c", None))
    live, fresh = stream.both()
    assert live["status"] == fresh["status"] == "ok" and live["members_applied"] == 2, (live, fresh)
    third = same(stream)
    assert not about(third["lines"], b, c) and not [x for x in third["lines"] if x.startswith("_:")]
    assert {x["submitted"] for x in third["decisions"]["candidates"]} == {d}

    # a version of something outside the source's base URIs: refused; its removal next makes the stream good
    elsewhere = "http://elsewhere.invalid/id/organization/x"
    stream.page((elsewhere, org("Ente altrove")))
    live, fresh = stream.both()
    for summary in (live, fresh):
        assert summary["status"] == "refused" and summary["reason"] == "outside-base", summary
    assert published(stream.live) == third
    stream.page((elsewhere, None), ("organization/questura", org("Questura di Asti", 'rdfs:comment "Cambiato."@it')))
    live, fresh = stream.both()
    assert live["status"] == fresh["status"] == "ok", (live, fresh)
    same(stream)


def test_a_state_written_before_the_entities_had_their_own_file_is_taken_over(stream: Stream) -> None:
    """The entities inside state.json (as harvests wrote them before) move to their file on the next harvest."""
    db = sqlite3.connect(entities_path(stream.live, NAME))
    rows = db.execute("SELECT iri, time, nt FROM entity").fetchall()
    db.close()
    state = json.loads(state_path(stream.live).read_text())
    state[NAME]["entities"] = {iri: {"time": time, "nt": nt} for iri, time, nt in rows}
    del state[NAME]["entity_count"]
    state_path(stream.live).write_text(json.dumps(state))
    entities_path(stream.live, NAME).unlink()
    stream.page(("organization/d", org("Ente D di nuovo")))
    live, fresh = stream.both()
    assert live["status"] == fresh["status"] == "ok" and live["members_applied"] == 1, (live, fresh)
    same(stream)
    assert "entities" not in json.loads(state_path(stream.live).read_text())[NAME]


def test_a_body_another_source_publishes_reaches_the_decisions_it_changes(stream: Stream) -> None:
    """The stream's body d is not harvested again, but another source now publishes a body like it (same label
    and kind, no territory): d's decision is made again (a certain match), and again when that body leaves."""
    d, twin = stream.id("organization/d"), stream.id("organization/twin", OTHER)
    stream.page(("organization/twin", org("Ente D di nuovo")), name=OTHER)
    stream.page(("office/e", org("Ufficio E", f"rdfs:seeAlso <{d}>", 'rdfs:comment "Cambiato."@it')))
    live, fresh = stream.both()
    assert live["status"] == fresh["status"] == "ok" and live["members_applied"] == 1, (live, fresh)
    assert [d, twin] in same(stream)["decisions"]["certain"]

    stream.page(("organization/twin", None), name=OTHER)
    stream.page(("office/e", org("Ufficio E", f"rdfs:seeAlso <{d}>")))
    live, fresh = stream.both()
    assert live["status"] == fresh["status"] == "ok", (live, fresh)
    assert [d, twin] not in same(stream)["decisions"]["certain"]
