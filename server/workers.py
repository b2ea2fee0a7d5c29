"""A pool of worker processes that run SPARQL queries, so that a query can be really stopped.

pyoxigraph cannot cancel a running query, so each query runs in a separate process; when it overruns
`timeout` the process is killed and a fresh one (loading the same release) takes its place. The web
process only waits on a pipe from a small thread pool, so its event loop keeps answering other requests.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from .errors import QueryTimeout, StoreError
from .query import Job, Outcome, run_job

log = logging.getLogger("parita.workers")
_CTX = multiprocessing.get_context("spawn")  # never fork a process that runs an event loop and threads
STARTUP_TIMEOUT = 120.0


def worker_main(release_dir: str, conn: Connection, mode: str = "memory") -> None:
    """Entry point of a worker process: load the release (or open its store read-only), then answer jobs."""
    from .backends import open_local
    from .release import Release

    store = open_local(Release.open(Path(release_dir)), mode)
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        conn.send(run_job(store, job))


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection


@dataclass
class PoolStats:
    """Counters exported on /metrics."""

    queries: int = 0
    timeouts: int = 0
    restarts: int = 0
    busy_refusals: int = 0


@dataclass
class QueryPool:
    """`size` worker processes over the release at `release_dir`; `run` enforces `timeout` seconds."""

    release_dir: Path
    size: int = 2
    timeout: float = 10.0
    mode: str = "memory"  # or "disk": each worker opens the release's on-disk store read-only
    stats: PoolStats = field(default_factory=PoolStats)

    def __post_init__(self) -> None:
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._executor = ThreadPoolExecutor(max_workers=max(4, self.size * 3), thread_name_prefix="sparql-pipe")
        self._closed = False

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the release."""
        workers = await asyncio.gather(*(self._spawn() for _ in range(max(1, self.size))))
        for w in workers:
            self._idle.put_nowait(w)

    async def _spawn(self) -> _Worker:
        parent, child = _CTX.Pipe()
        proc = _CTX.Process(target=worker_main, args=(str(self.release_dir), child, self.mode), daemon=True,
                            name="parita-sparql-worker")
        proc.start()
        child.close()
        worker = _Worker(proc, parent)
        self._all.add(worker)
        loop = asyncio.get_running_loop()
        try:
            ready = await asyncio.wait_for(loop.run_in_executor(self._executor, parent.recv), STARTUP_TIMEOUT)
        except (EOFError, OSError, TimeoutError) as exc:
            self._kill(worker)
            raise StoreError(f"A SPARQL worker failed to load {self.release_dir}: {exc!r}") from exc
        if ready != "ready":
            raise StoreError(f"A SPARQL worker sent {ready!r} instead of 'ready'.")
        return worker

    async def run(self, job: Job) -> Outcome:
        """Run `job` on a free worker; kill and replace the worker if it overruns the timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            worker = await asyncio.wait_for(self._idle.get(), self.timeout)
        except TimeoutError:
            self.stats.busy_refusals += 1
            raise QueryTimeout(f"Every SPARQL worker stayed busy for {self.timeout:g} s; try again later.",
                               headers={"Retry-After": "5"}) from None
        self.stats.queries += 1
        try:
            worker.conn.send(job)
            outcome = await asyncio.wait_for(loop.run_in_executor(self._executor, worker.conn.recv),
                                             max(0.0, deadline - loop.time()))
        except TimeoutError:
            self.stats.timeouts += 1
            self._replace(worker)
            raise QueryTimeout(f"The query ran longer than the {self.timeout:g} s limit and was cancelled.",
                               headers={"Retry-After": "5"}) from None
        except (EOFError, OSError, asyncio.CancelledError) as exc:
            self._replace(worker)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise StoreError(f"The SPARQL worker stopped unexpectedly ({exc!r}).") from exc
        self._idle.put_nowait(worker)
        return outcome

    def _kill(self, worker: _Worker) -> None:
        self._all.discard(worker)
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()

    def _replace(self, worker: _Worker) -> None:
        self._kill(worker)
        if self._closed:
            return
        self.stats.restarts += 1
        task = asyncio.get_running_loop().create_task(self._respawn())
        task.add_done_callback(lambda t: t.exception() and log.error("worker restart failed: %r", t.exception()))

    async def _respawn(self) -> None:
        self._idle.put_nowait(await self._spawn())

    async def close(self) -> None:
        """Stop every worker process."""
        self._closed = True
        for worker in list(self._all):
            self._kill(worker)
        self._executor.shutdown(wait=False, cancel_futures=True)
