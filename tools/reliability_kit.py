"""Tools for `parita reliability` and its tests: a real server on loopback, a listener that records
connections, a health probe that runs beside a check, and raw HTTP requests (no client-side URL cleaning).

Every process started here is stopped by its own id (its process group, since the server spawns SPARQL
workers); every loop is bounded by a deadline.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tools.processes import start_parita, stop_group

MARGIN = 5.0  # seconds allowed on top of a configured bound (process start-up, scheduling on 2 cores)


@dataclass
class Check:
    """One line of the report: what was tried, whether it held, the figures."""

    group: str
    name: str
    ok: bool
    figures: str = ""
    detail: str = ""

    def line(self) -> str:
        return f"[{'PASS' if self.ok else 'FAIL'}] {self.group}: {self.name} — {self.figures}" + (
            f" ({self.detail})" if self.detail and not self.ok else ""
        )


@dataclass
class Server:
    """`parita serve` (the production path: guarded h11 protocol, limits) on a loopback port."""

    build_dir: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        settings = {"PARITA_BUILD_DIR": str(self.build_dir), **self.env}
        started = start_parita(settings, self.log, port=self.port, limit=timeout, append=True)
        self.port, self.process = started.port, started.process
        return self

    def healthy(self, timeout: float = 2.0) -> bool:
        try:
            return httpx.get(self.url + "/health", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL, to the server's own process group (it and its SPARQL workers)."""
        if self.process is None:
            return
        stop_group(self.process)
        self.process = None

    def __enter__(self) -> Server:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def metric(url: str, name: str) -> float:
    """The value of one sample of the server's /metrics (Prometheus text) at `url`."""
    text = httpx.get(url + "/metrics", timeout=10).text
    return float(next(line for line in text.splitlines() if line.startswith(name + " ")).split()[1])


class Listener:
    """A loopback TCP port that records every connection (an SSRF target that must stay silent)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)  # let a late connection arrive before counting stops
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@dataclass
class Probe:
    """Results of a health probe run beside a check."""

    answers: int = 0
    failures: int = 0
    worst: float = 0.0

    @property
    def ok(self) -> bool:
        return self.answers > 0 and self.failures == 0

    def text(self) -> str:
        return f"health {self.answers} answers, {self.failures} failed, worst {self.worst * 1000:.0f} ms"


@contextmanager
def health_probe(url: str, bound: float, every: float = 0.1) -> Iterator[Probe]:
    """GET /health every `every` seconds while the block runs; each must answer 200 within `bound` s."""
    probe, stop = Probe(), threading.Event()

    def run() -> None:
        with httpx.Client(timeout=bound) as client:
            while True:  # at least one probe, however short the check
                started = time.monotonic()
                try:
                    ok = client.get(url + "/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                spent = time.monotonic() - started
                probe.answers += ok
                probe.failures += (not ok) or spent > bound
                probe.worst = max(probe.worst, spent)
                if stop.wait(every):
                    break

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield probe
    finally:
        stop.set()
        thread.join(timeout=bound + 2)


def raw_request(port: int, request: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    """Send bytes as they are (no URL normalisation) and return (status, whole response); 0 if none."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        try:
            while data := s.recv(65536):
                chunks.append(data)
        except (ConnectionResetError, TimeoutError):
            pass
    response = b"".join(chunks)
    try:
        return int(response.split(b" ", 2)[1]), response
    except (IndexError, ValueError):
        return 0, response


def get_raw(port: int, target: bytes, headers: bytes = b"") -> tuple[int, bytes]:
    return raw_request(
        port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n"
    )
