"""`parita publish`: a concurrent reader never sees a mix of two releases; a failed publish changes nothing.

Two releases, A and B, put every one of their triples under a version tag in six named graphs (A: 200 per
graph, B: 250). While A and B are published in turn, readers keep counting the tagged triples of the
release's graphs: every answer must be all-A (1,200) or all-B (1,500), on the real Virtuoso and Oxigraph
servers. The readers are parita's own (the remote runner that answers user SPARQL, following the switch
protocol of server/backends/switching.py): Virtuoso has no snapshot reads, so a client that reads it
directly can catch a switch half done (README); on Oxigraph even direct readers cannot.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from scripts import publish as publish_module
from scripts.publish import PublishError, Target, main, publish
from server.backends import switching
from server.backends.remote import RemoteRunner, SparqlClient, published_release
from server.backends.switching import Switching
from server.config import Settings
from server.query import Job, Outcome
from server.release import Release
from tests.conftest import write_release

BASE = "https://w3id.org/parita/"
GRAPHS = 6
SIZES = {"A": 200, "B": 250}
COUNT_VERSIONS = f"""SELECT ?v (COUNT(*) AS ?n) {{ GRAPH ?g {{ ?s <urn:test:version> ?v }}
  FILTER(STRSTARTS(STR(?g), "{BASE}graph/")) }} GROUP BY ?v"""


def release_trig(version: str) -> str:
    parts = []
    for g in range(GRAPHS):
        body = " ".join(f'<urn:test:{version}:{g}:{i}> <urn:test:version> "{version}" .' for i in range(SIZES[version]))
        parts.append(
            f"<{BASE}graph/part-{g}> {{ {body} <urn:test:{version}:{g}:0> <urn:test:node> [ <urn:test:b> {g} ] }}"
        )
    return "\n".join(parts)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Release]:
    folder = tmp_path_factory.mktemp("publish")
    out = {}
    for version, rid in (("A", "20261123T100000Z"), ("B", "20261123T110000Z")):
        out[version] = Release.open(write_release(folder / version, release_trig(version), rid))
    return out


@pytest.fixture(scope="module", params=["virtuoso", "oxigraph"])
def engine(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_engine")


def target(engine: Any) -> Target:
    return Target(engine.query_url, engine.update_url, engine.user, engine.password)


def versions(engine: Any) -> dict[str, int]:
    with SparqlClient(engine.query_url, timeout=30.0) as client:
        rows = client.select(COUNT_VERSIONS, dataset=False)
    return {str(r["v"].value): int(r["n"].value) for r in rows}


def graph_names() -> tuple[str, ...]:
    return tuple(f"{BASE}graph/part-{g}" for g in range(GRAPHS))


def counts_of(outcome: Outcome) -> dict[str, int]:
    """Version → tagged triples, from the SPARQL JSON answer parita's runner gave."""
    assert outcome.error is None, outcome.message
    return {r["v"]["value"]: int(r["n"]["value"]) for r in json.loads(outcome.body)["results"]["bindings"]}


def parita_counts(engine: Any) -> Callable[[], dict[str, int]]:
    """A reader that counts as parita's server does for a user query (RemoteRunner, switch protocol)."""
    runner = RemoteRunner(engine.query_url, graph_names(), timeout=30.0)
    loop = asyncio.new_event_loop()

    def read() -> dict[str, int]:
        return counts_of(loop.run_until_complete(runner.run(Job(COUNT_VERSIONS, "json"))))

    read.close = lambda: (loop.run_until_complete(runner.close()), loop.close())  # type: ignore[attr-defined]
    return read


async def count_once(engine: Any, timeout: float = 30.0) -> dict[str, int]:
    runner = RemoteRunner(engine.query_url, graph_names(), timeout=timeout)
    try:
        return counts_of(await runner.run(Job(COUNT_VERSIONS, "json")))
    finally:
        await runner.close()


def direct_counts(engine: Any) -> Callable[[], dict[str, int]]:
    """A reader that queries the store directly, with no protocol."""
    client = SparqlClient(engine.query_url, timeout=30.0)

    def read() -> dict[str, int]:
        return {str(r["v"].value): int(r["n"].value) for r in client.select(COUNT_VERSIONS, dataset=False)}

    read.close = client.close  # type: ignore[attr-defined]
    return read


def publish_while_reading(
    engine: Any, releases: dict[str, Release], reader: Callable[[Any], Callable[[], dict[str, int]]], readers: int = 3
) -> list[dict[str, int]]:
    publish(releases["A"], target(engine))
    assert versions(engine) == {"A": GRAPHS * SIZES["A"]}
    seen: list[dict[str, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read_until_stopped() -> None:
        read = reader(engine)
        deadline = time.monotonic() + 180
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                seen.append(read())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            read.close()  # type: ignore[attr-defined]

    threads = [threading.Thread(target=read_until_stopped) for _ in range(readers)]
    for thread in threads:
        thread.start()
    try:
        for version in ("B", "A", "B", "A", "B", "A", "B"):
            publish(releases[version], target(engine))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    assert not errors, errors[:3]
    return seen


def assert_never_mixed(seen: list[dict[str, int]]) -> None:
    allowed = [{"A": GRAPHS * SIZES["A"]}, {"B": GRAPHS * SIZES["B"]}]
    mixed = [s for s in seen if s not in allowed]
    assert not mixed, f"{len(mixed)} of {len(seen)} answers mixed two releases, e.g. {mixed[:3]}"
    assert len(seen) >= 30 and allowed[0] in seen and allowed[1] in seen, seen[:5]


def test_parita_readers_never_see_a_mix(engine: Any, releases: dict[str, Release]) -> None:
    seen = publish_while_reading(engine, releases, parita_counts)
    assert_never_mixed(seen)
    assert versions(engine) == {"B": GRAPHS * SIZES["B"]}
    with SparqlClient(engine.query_url) as client:
        assert published_release(client)[0] == releases["B"].id


def test_direct_readers_never_see_a_mix_on_oxigraph(oxigraph_engine: Any, releases: dict[str, Release]) -> None:
    # Oxigraph server shows a transaction all at once: even readers that know nothing of the protocol.
    assert_never_mixed(publish_while_reading(oxigraph_engine, releases, direct_counts))


STALE = 3.0  # the staleness window in these tests: shorter than the default, still above the store clock's precision


@pytest.fixture()
def short_staleness(monkeypatch: pytest.MonkeyPatch) -> float:
    """Readers and publishers treat a mark as stale after STALE seconds (instead of sleeping through the default)."""
    monkeypatch.setattr(switching, "STALE_AFTER", STALE)
    monkeypatch.setattr(publish_module, "STALE_AFTER", STALE)
    return STALE


def test_reads_wait_for_a_switch_and_ignore_a_dead_publishers_mark(
    engine: Any, releases: dict[str, Release], short_staleness: float
) -> None:
    publish(releases["A"], target(engine))
    publisher = publish_module.Publisher(target(engine), lambda message: None)
    try:
        publisher.update(switching.MARK)  # a switch under way, or a publisher killed mid-switch: no renewal follows
        marked = time.monotonic()
        with pytest.raises(Switching):
            asyncio.run(count_once(engine, timeout=1.0))
        assert 1.0 <= time.monotonic() - marked < switching.STALE_AFTER  # it waited for the switch, then said so (503)
        # a read with the whole query timeout outlasts the unrenewed mark: it waits, then answers
        assert asyncio.run(count_once(engine, timeout=switching.STALE_AFTER + 2.0)) == {"A": GRAPHS * SIZES["A"]}
        assert time.monotonic() - marked >= switching.STALE_AFTER - 2.0  # by the store's clock, to its precision
        publish(releases["B"], target(engine))  # the next publish clears the dead publisher's mark
        assert asyncio.run(count_once(engine)) == {"B": GRAPHS * SIZES["B"]}
        assert not any("since" in row for row in publisher.reader.select(switching.STATE_QUERY, dataset=False))
    finally:
        publisher.update(switching.UNMARK)
        publisher.close()


def test_publisher_renews_the_mark_while_the_switch_runs(
    engine: Any, releases: dict[str, Release], monkeypatch: pytest.MonkeyPatch, short_staleness: float
) -> None:
    # A switch that lasts longer than STALE_AFTER (slowed here): readers keep waiting because the mark is renewed.
    publish(releases["A"], target(engine))
    real_update = publish_module.Publisher.update
    switching_started = threading.Event()

    def slow_switch(self: Any, text: str) -> None:
        if "MOVE SILENT" in text:
            switching_started.set()  # the first mark is in the store; renewals begin
            time.sleep(switching.STALE_AFTER + 3.0)
        real_update(self, text)

    monkeypatch.setattr(publish_module.Publisher, "update", slow_switch)
    seen: list[Any] = []
    publishing = threading.Thread(target=lambda: seen.append(publish(releases["B"], target(engine))))
    publishing.start()
    try:
        assert switching_started.wait(timeout=120)
        time.sleep(switching.STALE_AFTER + 1.0)  # the first mark is stale by now; the renewals are not
        with SparqlClient(engine.query_url) as client:
            rows = client.select(switching.STATE_QUERY, dataset=False)
        assert switching.state_of(rows).busy
        assert sum("since" in row for row in rows) > 1  # renewed: more marks than the first
    finally:
        publishing.join(timeout=120)
    assert seen and asyncio.run(count_once(engine)) == {"B": GRAPHS * SIZES["B"]}
    with SparqlClient(engine.query_url) as client:
        assert not switching.state_of(client.select(switching.STATE_QUERY, dataset=False)).busy


def test_a_publish_waits_for_marks_that_are_still_renewed_then_gives_up(
    engine: Any, releases: dict[str, Release], short_staleness: float
) -> None:
    # Marks still fresh after 2 × STALE_AFTER are another publish's, switching: stay out of its way.
    publish(releases["A"], target(engine))
    publisher = publish_module.Publisher(target(engine), lambda message: None)
    stop = threading.Event()

    def other_publish() -> None:
        while not stop.wait(0.3):
            publisher.update(switching.MARK)

    renewing = threading.Thread(target=other_publish)
    publisher.update(switching.MARK)
    renewing.start()
    try:
        with pytest.raises(PublishError, match="Another publish"):
            publish(releases["B"], target(engine))
    finally:
        stop.set()
        renewing.join()
        publisher.update(switching.UNMARK)
        publisher.close()
    assert versions(engine) == {"A": GRAPHS * SIZES["A"]}


def test_failed_publish_leaves_previous_data(
    engine: Any, releases: dict[str, Release], monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(releases["A"], target(engine))
    monkeypatch.setattr(publish_module.Publisher, "count", lambda self, graph: -1)
    with pytest.raises(PublishError, match="staged counts differ"):
        publish(releases["B"], target(engine))
    assert versions(engine) == {"A": GRAPHS * SIZES["A"]}
    monkeypatch.undo()
    with SparqlClient(engine.query_url) as client:
        leftovers = client.select(
            'SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), "urn:parita:staging:")) }',
            dataset=False,
        )
    assert leftovers == []


def test_cli_publishes_and_reports(
    engine: Any, releases: dict[str, Release], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(store_user=engine.user, store_password=engine.password)
    code = main(
        ["--to", engine.query_url, "--update", engine.update_url, "--release", str(releases["B"].path), "--quiet"],
        settings=settings,
    )
    assert code == 0, capsys.readouterr()
    assert f"published {releases['B'].id}" in capsys.readouterr().out
    assert versions(engine) == {"B": GRAPHS * SIZES["B"]}


def test_cli_unreachable_store_is_an_error(
    releases: dict[str, Release], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools.processes import free_port

    url = f"http://127.0.0.1:{free_port()}/sparql"
    assert main(["--to", url, "--release", str(releases["A"].path), "--quiet"], settings=Settings()) == 2
    assert "cannot be reached" in capsys.readouterr().err


def test_update_url_is_derived() -> None:
    assert publish_module.update_url_for("http://127.0.0.1:7878/query") == "http://127.0.0.1:7878/update"
    assert publish_module.update_url_for("http://127.0.0.1:8890/sparql") == "http://127.0.0.1:8890/sparql-auth"
    with pytest.raises(PublishError):
        publish_module.update_url_for("http://127.0.0.1:8890/endpoint")


def test_blank_node_groups_stay_in_one_request() -> None:
    import pyoxigraph as ox

    b1, b2 = ox.BlankNode("x1"), ox.BlankNode("x2")
    s, p, g = ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.NamedNode("urn:g")
    quads = [ox.Quad(s, p, b1, g), ox.Quad(b1, p, b2, g), ox.Quad(b2, p, ox.Literal("v"), g)]
    quads += [ox.Quad(ox.NamedNode(f"urn:s{i}"), p, ox.Literal(str(i)), g) for i in range(5)]
    batches = list(publish_module.chunks(quads, 2))
    assert sum(map(len, batches)) == len(quads)
    holding = [b for b in batches if any(isinstance(t, ox.BlankNode) for q in b for t in (q.subject, q.object))]
    assert len(holding) == 1 and len(holding[0]) == 3


def test_a_request_too_big_for_the_store_is_split(engine: Any) -> None:
    # 3,000 typed literals in one request: Virtuoso refuses it (its SQL translation passes 10,000 lines,
    # SP031), so the publisher halves it until the store takes it; Oxigraph takes it whole.
    graph = "urn:parita:staging:test-split"
    quads = [
        ox.Quad(
            ox.NamedNode(f"{BASE}id/act/test-{n}"),
            ox.NamedNode("http://purl.org/dc/terms/date"),
            ox.Literal(f"2020-01-{n % 28 + 1:02d}", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
            ox.NamedNode(graph),
        )
        for n in range(3000)
    ]
    publisher = publish_module.Publisher(target(engine), lambda message: None)
    try:
        size = publisher.stage(graph, quads, 3000)
        assert publisher.count(graph) == 3000
        assert size == 3000 if engine.name == "oxigraph" else size < 3000
    finally:
        publisher.update(f"DROP SILENT GRAPH <{graph}>")
        publisher.close()
