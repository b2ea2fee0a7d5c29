"""What the running app holds: settings, the served release (store + SPARQL workers) and its caches.

`build/current` is a symlink that `parita build` switches atomically; the runtime notices a new target
(checked at most every `RELOAD_CHECK` seconds) and swaps to the new release without a restart. With a
remote store (`PARITA_STORE=http…`) it also notices when `parita publish` switched the store to another
release, and then serves that release's metadata (`build/releases/<id>`) when it has it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from starlette.concurrency import run_in_threadpool

from .backends import open_backend, remote_graphs
from .backends.remote import is_remote
from .config import Settings
from .metrics import Metrics
from .release import Release
from .store import DataStore, QueryRunner
from .urls import Urls

log = logging.getLogger("parita.runtime")
T = TypeVar("T")
RELOAD_CHECK = 2.0


class Memo(Generic[T]):
    """A typed slot of what one served release remembers (its counts, site index, VoID, …): computed on first
    use and kept with the release, which never changes. The slots are declared where their values are made."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Memo({self.name!r})"

    def get(self, served: Served) -> T | None:
        return cast("T | None", served.memory.get(self))

    def put(self, served: Served, value: T) -> T:
        served.memory[self] = value
        return value

    def of(self, served: Served, compute: Callable[[], T]) -> T:
        """The remembered value, or `compute()`'s, remembered."""
        found = self.get(served)
        return found if found is not None else self.put(served, compute())


@dataclass
class Served:
    """One release being served: its metadata, its data look-ups, where user SPARQL runs, what it remembers."""

    release: Release
    data: DataStore
    pool: QueryRunner
    memory: dict[Memo[Any], object] = field(default_factory=dict)  # keyed by the slot itself: written only through it
    published: str | None = None  # remote store: the release id `parita publish` recorded there

    async def look(self, fn: Callable[..., T], *args: Any, heavy: bool = False) -> T:
        """Run one per-resource look-up: inline on the embedded store, in a thread when `heavy` or remote.

        Embedded look-ups of an ordinary resource take well under a millisecond; sending them to a thread
        cost more than that (the hand-off, then the event loop waiting for the GIL): cold deref went from
        663 to 906 req/s. A hub (`DataStore.is_hub`: the synthetic source at scale 4 has 107,853 incoming
        links, 0.5 s to describe on disk) would stall the event loop, and a remote store blocks on HTTP: those still
        go to the thread pool, where the loop keeps getting the GIL between slices.
        """
        if self.data.remote:
            return await run_in_threadpool(self.data.consistently, fn, *args)
        if heavy:
            return await run_in_threadpool(fn, *args)
        return fn(*args)

    def heavy(self, iri: str) -> bool:
        """Whether describing `iri` belongs in a thread (see `look`)."""
        return self.data.remote or self.data.is_hub(iri)


def _release_for(settings: Settings, published: str | None) -> Release:
    """The published release's metadata when this build folder has it, else `build/current`'s."""
    if published:
        candidate = settings.build_dir / "releases" / published
        if (candidate / "release.json").exists():
            return Release.open(candidate)
    return Release.open(settings.current_release)


async def open_served(settings: Settings) -> Served:
    """Open the current release on the configured backend and start its query runner."""
    published: str | None = None
    graphs: tuple[str, ...] = ()
    if is_remote(settings.store):
        release = await run_in_threadpool(Release.open, settings.current_release)
        published, graphs = await run_in_threadpool(remote_graphs, settings, release)
        release = await run_in_threadpool(_release_for, settings, published)
    else:
        release = await run_in_threadpool(Release.open, settings.current_release)
    data, runner = await run_in_threadpool(open_backend, settings, release, graphs)
    await runner.start()
    return Served(release, data, runner, published=published)


@dataclass
class Runtime:
    settings: Settings
    urls: Urls
    metrics: Metrics = field(default_factory=Metrics)
    served_: Served | None = None
    #: Why `build/current` cannot be served (the last good release keeps serving meanwhile); None when fine.
    broken: str | None = None
    _checked: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _retiring: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def started(self) -> bool:
        """Whether a release is being served (pages can be laid out); views ask `served()` for the release."""
        return self.served_ is not None

    async def start(self) -> None:
        self.served_ = await open_served(self.settings)
        self._checked = time.monotonic()

    async def stop(self) -> None:
        for task in self._retiring:
            task.cancel()
        if self.served_ is not None:
            await self.served_.pool.close()

    async def served(self) -> Served:
        """The release to answer from, switching to a new `current` when the build moved it."""
        assert self.served_ is not None, "runtime not started"
        now = time.monotonic()
        if now - self._checked < RELOAD_CHECK:
            return self.served_
        self._checked = now
        if is_remote(self.settings.store):
            return await self._follow_store()
        target = os.path.realpath(self.settings.current_release)
        if target == str(self.served_.release.path):
            self._mark_broken(None)
            return self.served_
        if not os.path.exists(target):
            self._mark_broken(f"{self.settings.current_release} points at {target}, which does not exist")
            return self.served_
        async with self._lock:
            if target != str(self.served_.release.path):
                try:
                    fresh = await open_served(self.settings)
                except Exception as exc:  # noqa: BLE001 - a broken release must not take the good one down
                    self._mark_broken(f"{target} cannot be opened: {type(exc).__name__}: {exc}")
                    return self.served_
                old, self.served_ = self.served_, fresh
                self._mark_broken(None)
                log.info(
                    '{"event": "release-switched", "from": "%s", "to": "%s"}', old.release.id, self.served_.release.id
                )
                # queries already running on the old workers may finish: close them after the time limit
                self._retiring.add(
                    asyncio.get_running_loop().create_task(_close_later(old.pool, self.settings.sparql_timeout + 1.0))
                )
        return self.served_

    def _mark_broken(self, problem: str | None) -> None:
        if problem != self.broken and problem is not None:
            log.error(
                '{"event": "current-release-broken", "problem": "%s", "serving": "%s"}',
                problem,
                self.served_.release.id if self.served_ else "",
            )
        self.broken = problem

    async def _follow_store(self) -> Served:
        """Reopen (new graph list, empty caches) when the remote store now holds another release."""
        assert self.served_ is not None
        try:
            published, _ = await run_in_threadpool(remote_graphs, self.settings, self.served_.release)
        except Exception:  # noqa: BLE001 - the store is away: keep serving what we have; reads will say 503
            return self.served_
        if published is None or published == self.served_.published:
            return self.served_
        async with self._lock:
            if published != self.served_.published:
                old, self.served_ = self.served_, await open_served(self.settings)
                log.info('{"event": "store-release-switched", "from": "%s", "to": "%s"}', old.published, published)
                self._retiring.add(asyncio.get_running_loop().create_task(_close_later(old.pool, 1.0)))
        return self.served_


async def _close_later(pool: QueryRunner, delay: float) -> None:
    try:
        await asyncio.sleep(delay)
    finally:
        await pool.close()
