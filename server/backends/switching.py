"""How readers of a remote store never see a mix of two releases, even on a store without snapshot reads: both
halves of the protocol, the readers' (`consistent_read`) and the publisher's (`switch_request`, `Renewal`).

`parita publish` switches releases with one SPARQL Update transaction. Oxigraph server shows a
transaction to readers all at once; Virtuoso 7 does not: it has no snapshot reads, so a query that runs
while the switch commits can count part of each release (measured at every isolation level: 6 to 48
answers in a few thousand, see the README). So the publisher and the readers follow a protocol, like a
seqlock:

- publisher: mark `urn:parita:switching` (a triple with the store's clock), run the switch
  transaction, which also writes a fresh nonce into the control graph, then remove the mark; while the
  switch runs, it renews the mark every `HEARTBEAT` seconds (adds one);
- reader: read the state (mark, nonce) before and after each read; a read that began during a switch,
  or whose state changed meanwhile, is thrown away and done again, for a bounded time.

A read that saw part of a switch necessarily overlapped the switch transaction, which lies entirely
inside the time the mark was present and ends with a new nonce, so its "after" state differs from its
"before" state. Marks not renewed for `STALE_AFTER` seconds are a killed publisher's, and readers ignore
them (the next publish removes them): a killed publish costs readers a wait of seconds, not an outage. The
renewal is what lets a live switch last as long as it needs (13 s for 180,000 triples on Virtuoso 7 here);
renewals went through within 2 s while Virtuoso switched. Oxigraph holds them until its switch commits
(up to 14 s), which is harmless there: its readers never see a mix anyway. What stays open: a
publisher killed while Virtuoso still runs its switch stops renewing, so after `STALE_AFTER` readers
no longer wait for that switch to commit.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from ..errors import PublisherError

T = TypeVar("T")
CONTROL_GRAPH = "urn:parita:control"
DATASET = "urn:parita:dataset"
SWITCH_GRAPH = "urn:parita:switching"
SWITCHING_SINCE = "urn:parita:switchingSince"
HAS_SWITCH = "urn:parita:switch"
HAS_GRAPH = "urn:parita:graph"
HAS_RELEASE = "urn:parita:release"
HEARTBEAT = 1.0
RENEWAL_TIMEOUT = 30.0
STALE_AFTER = 8.0  # several missed renewals: Virtuoso answered them in at most 2 s while it switched
POLL = 0.1
STATE_QUERY = f"""SELECT ?since ?switch (NOW() AS ?now) {{
  {{ GRAPH <{SWITCH_GRAPH}> {{ <{DATASET}> <{SWITCHING_SINCE}> ?since }} }}
  UNION {{ GRAPH <{CONTROL_GRAPH}> {{ <{DATASET}> <{HAS_SWITCH}> ?switch }} }}
}}"""
# A renewal adds a mark and removes none, so a reader never catches the mark half-replaced.
MARK = f"INSERT {{ GRAPH <{SWITCH_GRAPH}> {{ <{DATASET}> <{SWITCHING_SINCE}> ?now }} }} WHERE {{ BIND(NOW() AS ?now) }}"
UNMARK = f"DROP SILENT GRAPH <{SWITCH_GRAPH}>"


class Switching(PublisherError):
    """The store stayed in the middle of a release switch for longer than the read could wait."""

    status = 503
    title = "Store switching releases"


@dataclass(frozen=True)
class SwitchState:
    """What a reader compares before and after a read."""

    busy: bool  # a switch is under way
    token: tuple[str, ...]  # the marks and nonces seen: any switch since changes it


def state_of(rows: list[dict[str, Any]]) -> SwitchState:
    """The state from `STATE_QUERY`'s rows (terms with a `.value`)."""
    marks = sorted(str(r["since"].value) for r in rows if "since" in r)
    nonces = sorted(str(r["switch"].value) for r in rows if "switch" in r)
    now = next((str(r["now"].value) for r in rows if "now" in r), None)
    busy = any(_age(mark, now) < STALE_AFTER for mark in marks)  # the newest mark decides
    return SwitchState(busy, tuple(f"mark {m}" for m in marks) + tuple(f"switch {n}" for n in nonces))


def _age(mark: str, now: str | None) -> float:
    """Seconds between two xsd:dateTime values of the store's clock; 0 (fresh) when unreadable."""
    try:
        start, end = _utc(mark), _utc(now or "")
    except ValueError:
        return 0.0
    return (end - start).total_seconds()


def _utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _give_up_after(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise Switching(
            "The store is switching to another release; try again in a moment.", headers={"Retry-After": "2"}
        )


def consistent_read(state: Callable[[], SwitchState], read: Callable[[], T], wait: float) -> T:
    """`read()` once no switch is under way and none happened during it; Switching after `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        before = state()
        if not before.busy:
            result = read()
            if state() == before:
                return result
        _give_up_after(deadline)
        time.sleep(POLL)


async def consistent_aread(
    state: Callable[[], Awaitable[SwitchState]], read: Callable[[], Awaitable[T]], wait: float
) -> T:
    """`consistent_read` for the event loop (the same loop: the two differ only in how they wait)."""
    deadline = time.monotonic() + wait
    while True:
        before = await state()
        if not before.busy:
            result = await read()
            if await state() == before:
                return result
        _give_up_after(deadline)
        await asyncio.sleep(POLL)


# --- The publisher's half (`parita publish`): the switch transaction and the mark's renewal. ------------------


def switch_request(release_id: str, moves: dict[str, str], drop: list[str], nonce: str) -> str:
    """One Update request (one transaction) that makes the staged release the served one."""
    ops = [f"DROP SILENT GRAPH <{g}>" for g in drop]
    ops += [f"MOVE SILENT <{staging}> TO <{graph}>" for graph, staging in moves.items()]
    control = " ".join(f"<{DATASET}> <{HAS_GRAPH}> <{g}> ." for g in sorted(moves))
    ops.append(f"DROP SILENT GRAPH <{CONTROL_GRAPH}>")
    ops.append(
        f'INSERT DATA {{ GRAPH <{CONTROL_GRAPH}> {{ <{DATASET}> <{HAS_RELEASE}> "{release_id}" ; '
        f'<{HAS_SWITCH}> "{nonce}" . {control} }} }}'
    )
    return " ;\n".join(ops)


class Renewal:
    """Renews the switching mark every `HEARTBEAT` seconds from a thread, on its own connection, while
    the switch request runs; notes the longest time between two renewals (the first starts at the mark)."""

    def __init__(self, update_url: str, auth: httpx.Auth | None = None) -> None:
        self.update_url, self.auth = update_url, auth
        self.stop = threading.Event()
        self.longest_gap = 0.0
        self.thread = threading.Thread(target=self.renew, name="parita-switch-renewal", daemon=True)

    def renew(self) -> None:
        last = time.monotonic()
        try:
            # A renewal later than STALE_AFTER is worth nothing; a short timeout also bounds the wait in __exit__.
            with httpx.Client(timeout=RENEWAL_TIMEOUT, auth=self.auth) as http:
                while not self.stop.wait(HEARTBEAT):
                    try:
                        ok = http.post(self.update_url, data={"update": MARK}).status_code < 300
                    except httpx.HTTPError:
                        ok = False
                    now = time.monotonic()
                    if ok:
                        self.longest_gap, last = max(self.longest_gap, now - last), now
        finally:  # whatever stopped the renewals, the gap since the last one counts
            self.longest_gap = max(self.longest_gap, time.monotonic() - last)

    def __enter__(self) -> Renewal:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
