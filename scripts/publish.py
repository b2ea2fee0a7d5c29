"""`parita publish --to URL`: load the current release into a remote SPARQL store, switching atomically.

1. Every named graph of the release is written into a staging graph `urn:parita:staging:<release>:<n>` with
   SPARQL 1.1 Update (`INSERT { GRAPH … { … } } WHERE {}`; each request holds whole blank-node groups,
   since blank node labels are scoped to one request; a request the store refuses is split in two).
   Readers do not see staging graphs: the server names the release's graphs in every request, and the
   staging names are not among them.
2. The staging graphs are counted and compared with the release; a difference stops the publish.
3. One Update request, one transaction, switches: `MOVE` each staging graph onto its real name, `DROP`
   the graphs the previous release had and this one has not, and rewrite the control graph
   (`urn:parita:control`: release id, graph list and a fresh switch nonce), which servers poll to follow
   the switch. The switch is bracketed by a "switching" mark, renewed while it runs, so that parita's
   readers, which follow the protocol of `server/backends/switching.py`, never see part of it, even on
   Virtuoso (whose readers otherwise can: it has no snapshot reads).

Until step 3 the previous data serves unchanged; a failure drops the staging graphs and exits non-zero.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox

from server.backends.remote import (
    RemoteQueryError,
    SparqlClient,
    StoreUnavailable,
    read_control,
    retryable,
)
from server.backends.switching import MARK, POLL, STALE_AFTER, UNMARK, Renewal, switch_request
from server.config import Settings
from server.errors import PublisherError
from server.formats import NQ_DUMP
from server.release import Release

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
STAGING = "urn:parita:staging:"
CHUNK = 2000  # triples per Update request
UPDATE_RETRIES = 5
Progress = Callable[[str], None]


class PublishError(Exception):
    """The publish stopped; the store still serves what it served before."""


class Rejected(PublishError):
    """The store refused an Update request (a 4xx answer): a mistake in it, or more than the store takes at once."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    """A remote store: where to query, where to update, and how to authenticate updates."""

    query_url: str
    update_url: str
    user: str = ""
    password: str = ""
    timeout: float = 300.0

    def auth(self) -> httpx.Auth | None:
        return httpx.DigestAuth(self.user, self.password) if self.user else None


def update_url_for(query_url: str) -> str:
    """The Update endpoint next to a query endpoint: Oxigraph `/query` → `/update`, Virtuoso `/sparql` → `/sparql-auth`."""
    if query_url.endswith("/query"):
        return query_url[: -len("query")] + "update"
    if query_url.endswith("/sparql"):
        return query_url + "-auth"
    raise PublishError(f"Cannot guess the Update endpoint of {query_url}: give --update URL (or PARITA_STORE_UPDATE).")


def blank_groups(quads: list[ox.Quad]) -> list[list[ox.Quad]]:
    """Quads grouped so that every blank node's statements travel in one request."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for q in quads:
        ends = [t.value for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)]
        if len(ends) == 2:
            parent[find(ends[0])] = find(ends[1])
    groups: dict[str, list[ox.Quad]] = {}
    plain: list[list[ox.Quad]] = []
    for q in quads:
        node = (
            q.subject
            if isinstance(q.subject, ox.BlankNode)
            else q.object
            if isinstance(q.object, ox.BlankNode)
            else None
        )
        if node is None:
            plain.append([q])
        else:
            groups.setdefault(find(node.value), []).append(q)
    return plain + list(groups.values())


def chunks(quads: list[ox.Quad], size: int) -> Iterator[list[ox.Quad]]:
    batch: list[ox.Quad] = []
    for group in blank_groups(quads):
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def insert_request(graph: str, quads: list[ox.Quad]) -> str:
    triples = (
        ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES) or b""
    ).decode()
    return f"INSERT {{ GRAPH <{graph}> {{\n{triples}}} }} WHERE {{}}"


class Publisher:
    def __init__(self, target: Target, say: Progress) -> None:
        self.target, self.say = target, say
        self.http = httpx.Client(timeout=target.timeout, auth=target.auth())
        self.reader = SparqlClient(target.query_url, timeout=target.timeout)

    def close(self) -> None:
        self.http.close()
        self.reader.close()

    def update(self, text: str) -> None:
        """One Update request (one transaction); one the store gave up to a concurrent reader
        (SQLSTATE 40001, a deadlock victim: rolled back, nothing applied) is sent again."""
        for attempt in range(UPDATE_RETRIES + 1):
            try:
                r = self.http.post(self.target.update_url, data={"update": text})
            except httpx.TransportError as exc:
                raise PublishError(f"{self.target.update_url} cannot be reached: {exc!r}") from exc
            if not (attempt < UPDATE_RETRIES and retryable(r)):
                break
            time.sleep(0.1 * (attempt + 1))
        if r.status_code >= 300:
            message = f"{self.target.update_url} answered {r.status_code}: {r.text[:600]}"
            raise Rejected(message, r.status_code) if 400 <= r.status_code < 500 else PublishError(message)

    def stage(self, graph: str, quads: list[ox.Quad], size: int) -> int:
        """Insert `quads` into `graph` in requests of at most `size` triples; a request the store refuses is
        split in two and sent again (Virtuoso turns each request into SQL and refuses one that makes over
        10,000 lines with a 400, which 2,000 triples with many literals do), and the smaller size is kept
        for the rest. Other refusals (401, 403, …), and a 400 for one indivisible request, are real
        mistakes and stop the publish. Returns the size that worked."""
        pending = deque(chunks(quads, size))
        while pending:
            batch = pending.popleft()
            try:
                self.update(insert_request(graph, batch))
            except Rejected as refusal:
                smaller = max(1, len(batch) // 2)
                if refusal.status not in (400, 413) or len(halves := list(chunks(batch, smaller))) == 1:
                    raise
                size = smaller  # the rest of this graph too: each request would be refused once more
                rest = [q for b in pending for q in b]
                pending = deque([*halves, *chunks(rest, size)])
        return size

    def wait_for_stale_marks(self) -> None:
        """A publisher killed seconds ago may have left its switch running in the store: wait until its
        marks are stale, as readers do, before removing them. Marks still fresh after longer than that
        are being renewed: another publish is switching, and this one must not touch its graphs."""
        deadline = time.monotonic() + 2 * STALE_AFTER
        while self.reader.switch_state().busy:
            if time.monotonic() > deadline:
                raise PublishError(
                    "Another publish is switching releases in this store (its mark keeps being "
                    "renewed); try again when it has finished."
                )
            time.sleep(POLL)

    def count(self, graph: str) -> int:
        rows = self.reader.select(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", dataset=False)
        return int(rows[0]["n"].value) if rows else 0

    def leftovers(self) -> list[str]:
        rows = self.reader.select(
            f'SELECT DISTINCT ?g {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{STAGING}")) }}', dataset=False
        )
        return [str(r["g"].value) for r in rows]

    def publish(self, release: Release, chunk: int = CHUNK) -> dict[str, int]:
        started = time.monotonic()
        self.wait_for_stale_marks()  # first: a killed publish's switch may still be changing the control graph
        previous, old_graphs = read_control(self.reader)
        self.update(UNMARK)  # a killed publish's marks, no longer renewed
        for stale in self.leftovers():  # from a publish that was killed half-way
            self.update(f"DROP SILENT GRAPH <{stale}>")
        by_graph: dict[str, list[ox.Quad]] = {}
        with gzip.open(release.dumps_dir / NQ_DUMP, "rb") as fh:
            for q in ox.parse(fh, format=ox.RdfFormat.N_QUADS):  # type: ignore[arg-type]  # GzipFile is an IO[bytes]
                assert not isinstance(q.graph_name, ox.DefaultGraph), "a release states everything in named graphs"
                by_graph.setdefault(q.graph_name.value, []).append(q)
        staging = {g: f"{STAGING}{release.id}:{n}" for n, g in enumerate(sorted(by_graph))}
        self.say(f"staging {sum(map(len, by_graph.values()))} quads in {len(by_graph)} graphs (previous: {previous})")
        try:
            for graph, quads in by_graph.items():
                chunk = self.stage(staging[graph], quads, chunk)
            counts = {g: self.count(staging[g]) for g in by_graph}
            wrong = {g: (n, len(set(by_graph[g]))) for g, n in counts.items() if n != len(set(by_graph[g]))}
            if wrong:
                raise PublishError(f"staged counts differ from the release (store, release): {wrong}")
            drop = sorted(set(old_graphs) - set(by_graph))
            staged = time.monotonic() - started
            self.update(MARK)  # readers wait from here ...
            try:
                with Renewal(self.target.update_url, self.target.auth()) as renewal:
                    self.update(switch_request(release.id, staging, drop, uuid.uuid4().hex))
                switched = time.monotonic() - started - staged
            finally:
                self.update(UNMARK)  # ... to here, and redo any read that overlapped
            if renewal.longest_gap >= STALE_AFTER:
                self.say(
                    f"warning: the switching mark went {renewal.longest_gap:.1f} s without renewal, so readers "
                    f"may have stopped waiting for the switch (they wait {STALE_AFTER:.0f} s)"
                )
        except BaseException:
            self.say("publish failed: dropping the staging graphs; the previous data still serves")
            for s in staging.values():
                try:
                    self.update(f"DROP SILENT GRAPH <{s}>")
                except PublishError:
                    pass
            raise
        self.say(
            f"release {release.id} published in {time.monotonic() - started:.1f} s "
            f"(staged in {staged:.2f} s, switched in {switched:.2f} s)"
        )
        return counts


def publish(release: Release, target: Target, say: Progress | None = None, chunk: int = CHUNK) -> dict[str, int]:
    """Load `release` into `target` and switch to it atomically; returns triples per graph."""
    publisher = Publisher(target, say or (lambda message: None))
    try:
        return publisher.publish(release, chunk)
    finally:
        publisher.close()


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parita publish", description=__doc__.splitlines()[0])
    parser.add_argument("--to", help="SPARQL query URL of the store (default: PARITA_STORE when it is a URL)")
    parser.add_argument("--update", help="SPARQL Update URL (default: PARITA_STORE_UPDATE, else derived from --to)")
    parser.add_argument(
        "--user",
        help="user for digest authentication (default: PARITA_STORE_USER; "
        "the password comes from PARITA_STORE_PASSWORD)",
    )
    parser.add_argument("--release", type=Path, help="release folder (default: build/current)")
    parser.add_argument("--chunk", type=int, default=CHUNK, help=f"triples per Update request (default {CHUNK})")
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    to = args.to or (settings.store if settings.store.startswith(("http://", "https://")) else "")
    if not to:
        parser.print_usage(sys.stderr)
        print("parita publish: give --to URL (or set PARITA_STORE to the store's query URL)", file=sys.stderr)
        return EXIT_ERROR
    say = (lambda message: None) if args.quiet else (lambda message: print(f"[publish] {message}", file=sys.stderr))
    try:
        release = Release.open(args.release or settings.current_release)
        target = Target(
            to,
            args.update or settings.store_update or update_url_for(to),
            args.user or settings.store_user,
            settings.store_password,
        )
        counts = publish(release, target, say, args.chunk)
    except (PublishError, RemoteQueryError) as error:
        print(f"publish failed: {error}\nThe store still serves its previous data.", file=sys.stderr)
        return EXIT_FAILED
    except (PublisherError, StoreUnavailable, OSError) as error:
        print(f"publish failed: {getattr(error, 'message', error)}", file=sys.stderr)
        return EXIT_ERROR
    print(f"published {release.id} to {to}: {sum(counts.values())} triples in {len(counts)} graphs")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
