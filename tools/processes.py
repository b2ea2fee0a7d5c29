"""The one process helper: free loopback ports, a clean environment, launching parita (or any server) in its
own process group, waiting for it over HTTP, and stopping the group by its id.

Used by tests/conftest.py, the benchmark, the reliability checks, the replicas and the engines. Servers such
as `oxigraph` (a wrapper around the real binary) and uvicorn with worker processes leave children behind if
only the parent is signalled, so everything is started with `start_new_session=True` and stopped here:
SIGTERM, then SIGKILL, bounded waits, until the group is gone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class NotAnswering(RuntimeError):
    """A server we started exited, or did not answer within its time limit."""


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without any PARITA_* (the caller's settings must not leak into a server we start),
    with the checkout importable, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARITA_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(settings or {})
    return env


def launch(
    cmd: list[str], log: Path, env: Mapping[str, str] | None = None, cwd: Path = PROJECT_ROOT, append: bool = False
) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own process group, its output to `log`."""
    with log.open("ab" if append else "wb") as out:
        return subprocess.Popen(
            cmd, cwd=cwd, env=dict(env) if env is not None else None, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def tail(log: Path, chars: int = 1500) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


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
            raise NotAnswering(f"{url}: process exited {proc.returncode}: {tail(log)}")
        try:
            response = httpx.get(url, timeout=timeout, **request)
            if ready(response):
                return
            last = response.status_code
        except httpx.TransportError as exc:
            last = exc
        time.sleep(interval)
    raise NotAnswering(f"{url} did not answer within {limit:g} s (last: {last!r}): {tail(log)}")


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


def parita_command(port: int, how: Literal["serve", "uvicorn"] = "serve") -> list[str]:
    """`parita serve` (the production path: guarded h11 protocol, connection limits) or plain
    `uvicorn --factory server.app:create_app` (the app alone), on 127.0.0.1:`port`."""
    if how == "serve":
        return [sys.executable, "-m", "scripts.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return [
        sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
    ]  # fmt: skip


@dataclass
class Parita:
    """A parita server we started on a loopback port."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        stop_group(self.process)


def start_parita(
    settings: Mapping[str, str],
    log: Path,
    *,
    how: Literal["serve", "uvicorn"] = "serve",
    port: int = 0,
    limit: float = 60.0,
    append: bool = False,
) -> Parita:
    """Start parita with exactly `settings` (PARITA_* variables) on a free loopback port and wait (bounded)
    until /health answers 200; stop it and raise NotAnswering if it does not."""
    port = port or free_port()
    proc = launch(parita_command(port, how), log, clean_env(settings), append=append)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(
            url + "/health", proc, log, limit, ready=lambda r: r.status_code == 200, timeout=1.0, interval=0.1
        )
    except NotAnswering:
        stop_group(proc)
        raise
    return Parita(url, port, proc, log)
