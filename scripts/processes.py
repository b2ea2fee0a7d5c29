"""Waiting for and stopping the server processes we start (engines, replicas, bench targets).

Servers such as `oxigraph` (a wrapper around the real binary) and uvicorn with worker processes
leave children behind if only the parent is signalled, so every helper that starts one with
`start_new_session=True` stops it here: SIGTERM, then SIGKILL, bounded waits, until the group is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


class NotAnswering(RuntimeError):
    """A server we started exited, or did not answer within its time limit."""


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-1500:] if log.exists() else ""


def wait_for_http(
    url: str,
    proc: subprocess.Popen[bytes],
    log: Path,
    limit: float,
    *,
    ready: Callable[[httpx.Response], bool] = lambda r: r.status_code < 500,
    timeout: float = 2.0,
    interval: float = 0.2,
    **request: Any,
) -> None:
    """Poll `url` (bounded by `limit` s) until `ready(response)`; raise NotAnswering with the log's tail."""
    deadline = time.monotonic() + limit
    last: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotAnswering(f"{url}: process exited {proc.returncode}: {_tail(log)}")
        try:
            response = httpx.get(url, timeout=timeout, **request)
            if ready(response):
                return
            last = response.status_code
        except httpx.TransportError as exc:
            last = exc
        time.sleep(interval)
    raise NotAnswering(f"{url} did not answer within {limit:g} s (last: {last!r}): {_tail(log)}")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop `proc` and its process group: SIGTERM, wait up to `grace` s, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None and not group_alive(proc.pid):
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while (proc.poll() is None or group_alive(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
    if proc.poll() is None:
        proc.wait(timeout=5)
