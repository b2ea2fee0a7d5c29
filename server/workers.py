"""A pool of worker processes that run SPARQL queries, so that a query can be really stopped.

pyoxigraph cannot cancel a running query, so each query runs in a separate process; when it overruns
`timeout` the process is killed and a fresh one (loading the same release) takes its place. Workers have
no network (`sandbox.py`) and a memory cap.

Workers are plain child processes (`python -m server.worker_process`) on a socket pair, framed as
`multiprocessing.connection` frames them (4-byte length, pickle). The web process reads and writes its end
with asyncio streams on its own event loop: an earlier version waited on each pipe from a thread pool, and
the thread hand-offs and GIL contention cost a third of the web process's time under SPARQL load. Not
`multiprocessing` spawn children either: spawning also starts a resource-tracker process and re-imports
the parent's main module, ~12 MB and a slower start for nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import socket
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import QueryTimeout, ServiceUnavailable, StoreError
from .query import Job, Outcome

log = logging.getLogger("parita.workers")
STARTUP_TIMEOUT = 120.0
SLOW_MEMORY = 1024  # query texts remembered as too slow for the fast lane


@dataclass(eq=False)
class _Worker:
    """A worker process and the web process's end of its socket."""

    process: subprocess.Popen[bytes]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    fast: bool = False  # the fast-lane worker (see QueryPool)
    federation: bool = False  # the one worker with network, for allow-listed SERVICE (see QueryPool)

    async def send(self, message: Any) -> None:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        header = struct.pack("!i", len(data)) if len(data) < 0x7FFFFFFF else struct.pack("!iQ", -1, len(data))
        self.writer.write(header + data)
        await self.writer.drain()

    async def recv(self) -> Any:
        """The next message; EOFError when the worker is gone."""
        try:
            (size,) = struct.unpack("!i", await self.reader.readexactly(4))
            if size == -1:
                (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
            return pickle.loads(await self.reader.readexactly(size))
        except asyncio.IncompleteReadError as exc:
            raise EOFError("the worker closed its end") from exc


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("worker restart failed: %r", task.exception())


@dataclass
class PoolStats:
    """Counters exported on /metrics."""

    queries: int = 0
    timeouts: int = 0
    restarts: int = 0
    busy_refusals: int = 0
    memory_kills: int = 0  # workers that died running a query (over the memory limit, or a crash)
    fast_lane_evictions: int = 0  # queries moved out of the fast lane for overrunning it
    unsandboxed: int = 0  # workers started with network access (seccomp unavailable)


@dataclass
class QueryPool:
    """`size` worker processes over the release at `release_dir`, and one more for the fast lane.

    Fairness: a query's `timeout` counts from the moment a worker takes it, not while it waits. When every
    regular worker is busy, a query may take the fast-lane worker, which gives it only `fast_timeout`
    seconds; one that overruns is moved back to wait for a regular worker (its time starts again) and is
    remembered, so its repeats never take the fast lane. Two slow queries therefore cannot make an ASK
    wait for them. Each worker may use `memory_mb` beyond the loaded release; a query that needs more
    kills its worker, gets 503 and the worker is replaced, as after a timeout.

    Every worker runs without network, except, when `federation` is on (a SERVICE allow-list is set), one
    more worker that keeps it and takes only the queries the guard found calling an allowed endpoint;
    no other query ever reaches it."""

    release_dir: Path
    size: int = 2
    timeout: float = 10.0
    mode: str = "memory"  # or "disk": each worker opens the release's on-disk store read-only
    memory_mb: int = 0
    fast_lane: bool = True
    fast_timeout: float = 1.0
    federation: bool = False
    stats: PoolStats = field(default_factory=PoolStats)

    def __post_init__(self) -> None:
        self._idle: list[_Worker] = []
        self._cond = asyncio.Condition()
        self._all: set[_Worker] = set()
        self._slow: dict[str, None] = {}  # query texts that overran the fast lane, oldest first
        self._closed = False

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the release."""
        regular = [self._spawn() for _ in range(max(1, self.size))]
        extra = [
            *([self._spawn(fast=True)] if self.fast_lane else []),
            *([self._spawn(federation=True)] if self.federation else []),
        ]
        workers = await asyncio.gather(*regular, *extra)
        self._idle.extend(workers)

    async def _spawn(self, fast: bool = False, federation: bool = False) -> _Worker:
        mine, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "server.worker_process",
                    str(self.release_dir),
                    self.mode,
                    str(theirs.fileno()),
                    str(os.getpid()),
                    str(self.memory_mb),
                    "network" if federation else "none",
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=mine)
        worker = _Worker(proc, reader, writer, fast, federation)
        self._all.add(worker)
        try:
            ready = await asyncio.wait_for(worker.recv(), STARTUP_TIMEOUT)
        except (EOFError, OSError, TimeoutError) as exc:
            self._kill(worker)
            raise StoreError(f"A SPARQL worker failed to load {self.release_dir}: {exc!r}") from exc
        if not (isinstance(ready, tuple) and ready[0] == "ready"):
            raise StoreError(f"A SPARQL worker sent {ready!r} instead of 'ready'.")
        if ready[1] is not None and not federation:
            self.stats.unsandboxed += 1
            log.warning('{"event": "worker-has-network", "reason": "%s"}', ready[1])
        return worker

    def _pick(self, may_use_fast_lane: bool, federated: bool = False) -> _Worker | None:
        if federated:
            return next((w for w in self._idle if w.federation), None)
        regular = next((w for w in self._idle if not w.fast and not w.federation), None)
        if regular is not None or not may_use_fast_lane:
            return regular
        return next((w for w in self._idle if w.fast), None)

    async def _acquire(self, may_use_fast_lane: bool, federated: bool = False) -> _Worker:
        if federated and not self.federation:
            raise StoreError("A federated query reached a pool without a federation worker.")
        async with self._cond:
            try:
                await asyncio.wait_for(
                    self._cond.wait_for(lambda: self._pick(may_use_fast_lane, federated) is not None), self.timeout
                )
            except TimeoutError:
                self.stats.busy_refusals += 1
                raise QueryTimeout(
                    f"Every SPARQL worker stayed busy for {self.timeout:g} s; try again later.",
                    headers={"Retry-After": "5"},
                ) from None
            worker = self._pick(may_use_fast_lane, federated)
            assert worker is not None
            self._idle.remove(worker)
            return worker

    async def _release(self, worker: _Worker) -> None:
        async with self._cond:
            self._idle.append(worker)
            self._cond.notify_all()

    async def run(self, job: Job) -> Outcome:
        """Run `job` on a free worker; kill and replace the worker if it overruns its time."""
        self.stats.queries += 1
        while True:
            worker = await self._acquire(job.query not in self._slow and not job.federated, job.federated)
            budget = self.fast_timeout if worker.fast else self.timeout
            try:
                await worker.send(job)
                outcome: Outcome = await asyncio.wait_for(worker.recv(), budget)
            except TimeoutError:
                self._replace(worker)
                if worker.fast:
                    self.stats.fast_lane_evictions += 1
                    self._remember_slow(job.query)
                    continue
                self.stats.timeouts += 1
                raise QueryTimeout(
                    f"The query ran longer than the {self.timeout:g} s limit and was cancelled.",
                    headers={"Retry-After": "5"},
                ) from None
            except (EOFError, OSError, asyncio.CancelledError) as exc:
                self._replace(worker)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                self.stats.memory_kills += 1
                raise ServiceUnavailable(
                    "The query stopped its SPARQL worker: it needed more than the "
                    f"{self.memory_mb} MB a worker may use"
                    + ("" if self.memory_mb else " (or crashed it)")
                    + ". The worker was replaced; simplify the query (fewer rows before ORDER BY or GROUP BY, "
                    "shorter strings).",
                    headers={"Retry-After": "5"},
                ) from exc
            await self._release(worker)
            return outcome

    def _remember_slow(self, query: str) -> None:
        self._slow[query] = None
        while len(self._slow) > SLOW_MEMORY:
            del self._slow[next(iter(self._slow))]

    def _kill(self, worker: _Worker) -> None:
        self._all.discard(worker)
        if worker.process.poll() is None:
            worker.process.kill()
        try:
            worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.error("SPARQL worker %s did not exit after SIGKILL", worker.process.pid)
        worker.writer.close()

    def _replace(self, worker: _Worker) -> None:
        self._kill(worker)
        if self._closed:
            return
        self.stats.restarts += 1
        task = asyncio.get_running_loop().create_task(self._respawn(worker.fast, worker.federation))
        task.add_done_callback(_log_failure)

    async def _respawn(self, fast: bool, federation: bool) -> None:
        await self._release(await self._spawn(fast, federation))

    async def close(self) -> None:
        """Stop every worker process."""
        self._closed = True
        for worker in list(self._all):
            self._kill(worker)
