"""A pool of worker processes that run SPARQL queries, so that a query can be really stopped.

pyoxigraph cannot cancel a running query, so each query runs in a separate process; when it overruns
`timeout` the process is killed and a fresh one (loading the same release) takes its place.

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

from .errors import QueryTimeout, StoreError
from .query import Job, Outcome

log = logging.getLogger("parita.workers")
STARTUP_TIMEOUT = 120.0


@dataclass(eq=False)
class _Worker:
    """A worker process and the web process's end of its socket."""

    process: subprocess.Popen[bytes]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

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
        self._closed = False

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the release."""
        workers = await asyncio.gather(*(self._spawn() for _ in range(max(1, self.size))))
        for w in workers:
            self._idle.put_nowait(w)

    async def _spawn(self) -> _Worker:
        mine, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen([sys.executable, "-m", "server.worker_process", str(self.release_dir), self.mode,
                                     str(theirs.fileno()), str(os.getpid())],
                                    pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=mine)
        worker = _Worker(proc, reader, writer)
        self._all.add(worker)
        try:
            ready = await asyncio.wait_for(worker.recv(), STARTUP_TIMEOUT)
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
            await worker.send(job)
            outcome = await asyncio.wait_for(worker.recv(), max(0.0, deadline - loop.time()))
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
        task = asyncio.get_running_loop().create_task(self._respawn())
        task.add_done_callback(lambda t: t.exception() and log.error("worker restart failed: %r", t.exception()))

    async def _respawn(self) -> None:
        self._idle.put_nowait(await self._spawn())

    async def close(self) -> None:
        """Stop every worker process."""
        self._closed = True
        for worker in list(self._all):
            self._kill(worker)
