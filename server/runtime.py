"""What the running app holds: settings, the served release (store + SPARQL workers) and its caches.

`build/current` is a symlink that `parita build` switches atomically; the runtime notices a new target
(checked at most every `RELOAD_CHECK` seconds) and swaps to the new release without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from .config import Settings
from .metrics import Metrics
from .release import Release
from .store import DataStore
from .urls import Urls
from .workers import QueryPool

log = logging.getLogger("parita.runtime")
RELOAD_CHECK = 2.0


@dataclass
class Served:
    """One release being served: its metadata, the in-process store, the SPARQL worker pool, caches."""

    release: Release
    data: DataStore
    pool: QueryPool
    cache: dict[str, Any] = field(default_factory=dict)


async def open_served(settings: Settings) -> Served:
    """Load the current release into memory and start its SPARQL workers."""
    release = await run_in_threadpool(Release.open, settings.current_release)
    store = await run_in_threadpool(release.load_store)
    pool = QueryPool(release.path, size=settings.sparql_workers, timeout=settings.sparql_timeout)
    await pool.start()
    return Served(release, DataStore(store), pool)


@dataclass
class Runtime:
    settings: Settings
    urls: Urls
    metrics: Metrics = field(default_factory=Metrics)
    served_: Served | None = None
    _checked: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _retiring: set[asyncio.Task[None]] = field(default_factory=set)

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
        target = os.path.realpath(self.settings.current_release)
        if target == str(self.served_.release.path) or not os.path.exists(target):
            return self.served_
        async with self._lock:
            if target != str(self.served_.release.path):
                old, self.served_ = self.served_, await open_served(self.settings)
                log.info('{"event": "release-switched", "from": "%s", "to": "%s"}', old.release.id,
                         self.served_.release.id)
                # queries already running on the old workers may finish: close them after the time limit
                self._retiring.add(asyncio.get_running_loop().create_task(
                    _close_later(old.pool, self.settings.sparql_timeout + 1.0)))
        return self.served_


async def _close_later(pool: QueryPool, delay: float) -> None:
    try:
        await asyncio.sleep(delay)
    finally:
        await pool.close()
