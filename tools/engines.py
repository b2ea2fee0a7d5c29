"""Real SPARQL engines for the tests and the benchmark: install them, start them on loopback, stop them by PID.

- Oxigraph server: the `oxigraph` command from PyPI (`pip install oxigraph`, in the test extras). It is a
  wrapper that starts the real binary as a child, so each engine runs in its own process group and is
  stopped with `killpg`.
- Virtuoso Open Source 7 (Debian `virtuoso-opensource`): installed with apt-get when we are root, started
  with its own ini in a temporary folder on two free loopback ports (see shared/reference/engine-facts.md).

`ensure_*` return the command path or raise `EngineUnavailable` with the install error, so a test can skip
loudly with that reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools.processes import NotAnswering, free_port, launch, stop_group, wait_for_http

VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
VIRTUOSO_USER, VIRTUOSO_PASSWORD = "dba", "dba"  # a fresh database's administrator; loopback only


class EngineUnavailable(RuntimeError):
    """The engine cannot be installed or started here; the message says why (the install error)."""


def _run(cmd: list[str], timeout: float) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineUnavailable(f"`{' '.join(cmd)}` failed: {exc!r}") from exc
    if done.returncode != 0:
        raise EngineUnavailable(f"`{' '.join(cmd)}` exited {done.returncode}: {(done.stderr or done.stdout)[-800:]}")
    return done.stdout


def ensure_oxigraph() -> str:
    """The `oxigraph` server command (next to this Python, else on PATH), pip-installed when missing."""
    local = Path(sys.executable).parent / "oxigraph"
    found = str(local) if local.exists() else shutil.which("oxigraph")
    if found:
        return found
    _run([sys.executable, "-m", "pip", "install", "-q", "oxigraph"], timeout=300)
    if local.exists():
        return str(local)
    raise EngineUnavailable("pip installed oxigraph but no `oxigraph` command appeared")


def ensure_virtuoso() -> str:
    """`virtuoso-t`, apt-installed (Debian `virtuoso-opensource`) when missing and we are root."""
    found = shutil.which("virtuoso-t")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise EngineUnavailable("virtuoso-t is not installed and apt-get cannot run here (not root or no apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "virtuoso-opensource"]):
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineUnavailable(f"`{' '.join(cmd)}` failed: {exc!r}") from exc
        if done.returncode != 0:
            raise EngineUnavailable(
                f"`{' '.join(cmd)}` exited {done.returncode}: {(done.stderr or done.stdout)[-800:]}"
            )
    found = shutil.which("virtuoso-t")
    if not found:
        raise EngineUnavailable("apt-get installed virtuoso-opensource but virtuoso-t is not on PATH")
    return found


@dataclass
class Engine:
    """A running engine: its SPARQL query and update URLs, credentials for updates, and its process."""

    name: str
    query_url: str
    update_url: str
    process: subprocess.Popen[bytes]
    folder: Path
    log: Path
    user: str = ""
    password: str = ""
    restart_cmd: list[str] = field(default_factory=list)

    def stop(self) -> None:
        stop_group(self.process)

    def start_again(self) -> None:
        """Start the same engine on the same port and folder (for tests of a store that comes back)."""
        self.process = launch(self.restart_cmd, self.log, cwd=self.folder, append=True)
        wait_for_sparql(self.query_url, self.process, self.log, 60.0)


def wait_for_sparql(url: str, proc: subprocess.Popen[bytes], log: Path, limit: float) -> None:
    """Poll (bounded) until `url` answers an ASK query; stop the engine and say why if it does not."""
    try:
        wait_for_http(
            url,
            proc,
            log,
            limit,
            ready=lambda r: r.status_code == 200,
            params={"query": "ASK {}"},
            headers={"Accept": "application/sparql-results+json"},
        )
    except NotAnswering as error:
        stop_group(proc)
        raise EngineUnavailable(f"engine did not answer: {error}") from None


def start_oxigraph(folder: Path, read_only: bool = False) -> Engine:
    """`oxigraph serve --location FOLDER/db --bind 127.0.0.1:PORT` in its own process group."""
    exe = ensure_oxigraph()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [
        exe,
        "serve-read-only" if read_only else "serve",
        "--location",
        str(folder / "db"),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    log = folder / "oxigraph.log"
    proc = launch(cmd, log, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    engine = Engine("oxigraph", base + "/query", base + "/update", proc, folder, log, restart_cmd=cmd)
    wait_for_sparql(engine.query_url, proc, log, 60.0)
    return engine


def virtuoso_ini(template: str, folder: Path, sql_port: int, http_port: int) -> str:
    """The Debian ini with its files in `folder`, loopback ports, `folder` allowed, and small buffers."""
    wanted: dict[str, dict[str, object]] = {
        "Database": {
            "DatabaseFile": folder / "virtuoso.db",
            "ErrorLogFile": folder / "virtuoso.log",
            "LockFile": folder / "virtuoso.lck",
            "TransactionFile": folder / "virtuoso.trx",
            "xa_persistent_file": folder / "virtuoso.pxa",
        },
        "TempDatabase": {"DatabaseFile": folder / "virtuoso-temp.db", "TransactionFile": folder / "virtuoso-temp.trx"},
        "Parameters": {
            "ServerPort": f"127.0.0.1:{sql_port}",
            "DirsAllowed": f"., {folder}, /usr/share/virtuoso-opensource-7/vad",
        },
        "HTTPServer": {"ServerPort": f"127.0.0.1:{http_port}"},
    }
    section, out = "", []
    todo = {name: dict(keys) for name, keys in wanted.items()}
    for line in template.splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            out += [f"{k} = {v}" for k, v in todo.get(section, {}).items()]  # keys the template lacks
            todo.pop(section, None)
            section = header.group(1)
        key = re.match(r"\s*([A-Za-z_]+)\s*=", line)
        if key and key.group(1) in todo.get(section, {}):
            line = f"{key.group(1)} = {todo[section].pop(key.group(1))}"
        out.append(line)
    out += [f"{k} = {v}" for k, v in todo.get(section, {}).items()]
    return "\n".join(out) + "\n"


def start_virtuoso(folder: Path) -> Engine:
    """`virtuoso-t +foreground +configfile INI` with its own database in `folder` on loopback ports."""
    exe = ensure_virtuoso()
    if not VIRTUOSO_INI.exists():
        raise EngineUnavailable(f"{VIRTUOSO_INI} is missing: virtuoso-opensource is not fully installed")
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(virtuoso_ini(VIRTUOSO_INI.read_text(), folder, sql_port, http_port))
    cmd = [exe, "+foreground", "+configfile", str(ini)]
    log = folder / "virtuoso-stdout.log"
    proc = launch(cmd, log, cwd=folder)
    base = f"http://127.0.0.1:{http_port}"
    engine = Engine(
        "virtuoso",
        base + "/sparql",
        base + "/sparql-auth",
        proc,
        folder,
        log,
        VIRTUOSO_USER,
        VIRTUOSO_PASSWORD,
        restart_cmd=cmd,
    )
    wait_for_sparql(engine.query_url, proc, log, 120.0)
    return engine
