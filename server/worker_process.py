"""The body of a SPARQL worker process (see `workers.py`), in a module of its own.

A spawned worker imports only this module and what it needs (pyoxigraph, the release, the query runner),
not the web stack: each worker then starts faster and costs less memory.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from .query import run_job
from .release import Release
from .sandbox import deny_network, limit_memory


def worker_main(
    release_dir: str, conn: Connection, mode: str = "memory", memory_mb: int = 0, network: bool = False
) -> None:
    """Entry point of a worker process: take the network away, load the release (or open its store
    read-only), cap memory at what the release took plus `memory_mb`, then answer jobs. The first message
    says whether the network could be taken away (None) or why not. Only the federation worker keeps it
    (`network`), for allow-listed SERVICE calls."""
    no_sandbox = "federation worker: network kept for allow-listed SERVICE" if network else deny_network()
    store = Release.open(Path(release_dir)).open_store(mode)
    if memory_mb > 0:
        limit_memory(_data_megabytes() + memory_mb)
    conn.send(("ready", no_sandbox))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        conn.send(run_job(store, job))


def _data_megabytes() -> int:
    """This process's data segment now (VmData), in MB; 0 where /proc is not there."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("VmData:"))
    except (OSError, StopIteration):
        return 0
    return int(line.split()[1]) // 1024


def _leave_stopping_to_the_parent() -> None:
    """Ignore SIGINT and SIGTERM: a terminal's Ctrl-C or systemd's stop reaches the whole process group,
    and a worker that died at once would fail the queries the server is still finishing while it shuts
    down. The server stops its workers itself (closing their socket or killing them), after its last
    answer; if it dies, the kernel kills them on Linux (below); elsewhere a busy worker finishes its
    query, finds its socket closed and exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _die_with_parent(parent: int) -> None:
    """Linux: get SIGKILL when the web process dies, even by kill -9, instead of finishing a runaway query.
    The signal only covers a death after this call: a parent already gone by now means exit at once."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        sys.exit(0)


if (
    __name__ == "__main__"
):  # python -m server.worker_process RELEASE_DIR MODE FD PARENT_PID MEMORY_MB NETWORK (workers.py)
    _leave_stopping_to_the_parent()
    _die_with_parent(int(sys.argv[4]))
    worker_main(sys.argv[1], Connection(int(sys.argv[3])), sys.argv[2], int(sys.argv[5]), sys.argv[6] == "network")
