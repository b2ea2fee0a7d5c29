"""Faults: `kill -9` during `build`, `ingest` and `publish`, and a remote store that goes away and returns."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

import httpx

from server.config import PROJECT_ROOT
from tools.processes import clean_env
from tools.reliability_kit import MARGIN, Check, Server

CUNEO = sorted((PROJECT_ROOT / "tests" / "data" / "ingest" / "cuneo").glob("*.csv"))
RELOAD = 2.0 + MARGIN  # the server notices a new `current` within 2 s


def _env(build_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return clean_env({"PARITA_BUILD_DIR": str(build_dir), **(extra or {})})


def release_complete(folder: Path) -> bool:
    """release.json readable and every dump it lists present with its SHA-256."""
    try:
        meta = json.loads((folder / "release.json").read_text())
        return all(
            hashlib.sha256((folder / "dumps" / name).read_bytes()).hexdigest() == info["sha256"]
            for name, info in meta["dumps"].items()
        )
    except (OSError, ValueError, KeyError):
        return False


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode() + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def leftovers(build_dir: Path) -> list[str]:
    return sorted(
        p.relative_to(build_dir).as_posix()
        for p in [*build_dir.glob(".tmp-*"), *(build_dir / "releases").glob(".tmp-*")]
    )


def _run_killed(cmd: list[str], env: dict[str, str], delay: float, after_line: int | None = None) -> int | None:
    """Start `cmd`; SIGKILL its process group `delay` s after it started, or right after it printed its
    progress line number `after_line` (0-based, on stderr). Its exit code if it finished first."""
    proc = subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    assert proc.stderr is not None
    try:
        if after_line is not None:
            for _ in range(after_line + 1):
                if not proc.stderr.readline():
                    break
        else:
            proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        pass
    if proc.poll() is not None:
        proc.stderr.close()
        return proc.wait()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    return None


def _served_release(server: Server) -> str:
    try:
        return str(httpx.get(server.url + "/health", timeout=5).json().get("release"))
    except (httpx.HTTPError, ValueError):
        return "(no answer)"


def _state_holds(build_dir: Path, server: Server, before: tuple[str, str]) -> tuple[bool, str]:
    """Current is the previous release, untouched, or a complete new one; the server serves it."""
    current = (build_dir / "current").resolve()
    if current.name == before[0]:
        intact = digest(current) == before[1]
    else:
        intact = release_complete(current)
    deadline = time.monotonic() + RELOAD
    while _served_release(server) != current.name and time.monotonic() < deadline:
        time.sleep(0.2)
    broken = [
        p.name
        for p in (build_dir / "releases").iterdir()
        if not p.name.startswith(".tmp-") and p.is_dir() and not release_complete(p)
    ]
    ok = intact and _served_release(server) == current.name and not broken
    return ok, "previous" if current.name == before[0] else "new complete"


def kill_during(
    name: str,
    cmd: list[str],
    build_dir: Path,
    server: Server,
    fractions: tuple[float, ...],
    env_extra: dict[str, str] | None = None,
) -> Check:
    """Time one full run, then SIGKILL the command at each fraction of that time and check the state."""
    env = _env(build_dir, env_extra)
    started = time.monotonic()
    full = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=900)
    duration = time.monotonic() - started
    if full.returncode != 0:
        return Check(
            "faults",
            f"kill -9 during {name}",
            False,
            f"a full run failed ({full.returncode})",
            (full.stdout + full.stderr).decode(errors="replace")[-300:],
        )
    stages = len(full.stderr.decode(errors="replace").splitlines())
    points: list[tuple[str, float, int | None]] = [(f"{f:.0%} of the run", duration * f, None) for f in fractions]
    points += [(f"after progress line {k + 1}", 0.0, k) for k in range(stages)]
    outcomes, failures = {"previous": 0, "new complete": 0}, []
    for label, delay, line in points:
        current = (build_dir / "current").resolve()
        before = (current.name, digest(current))
        code = _run_killed(cmd, env, delay, line)
        ok, outcome = _state_holds(build_dir, server, before)
        outcomes[outcome] += 1
        if not ok or code not in (None, 0):
            failures.append(f"{label}: {outcome}, exit {code}")
    final = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=900)
    left = [p for p in leftovers(build_dir) if p.startswith("releases/")]
    ok = not failures and final.returncode == 0 and not left
    return Check(
        "faults",
        f"kill -9 during {name}",
        ok,
        f"{len(points)} kills ({len(fractions)} timed over a {duration:.1f} s run, {stages} right after each "
        f"progress line): previous release kept {outcomes['previous']}, "
        f"new complete release {outcomes['new complete']}; next run exit {final.returncode}, "
        f"unfinished release folders left {len(left)}; other temporary files {leftovers(build_dir)}",
        "; ".join(failures),
    )


def contributions_consistent(build_dir: Path, publisher: str) -> bool:
    """The accepted contribution on disk is the one the current release was built from."""
    installed = build_dir / "contributions" / f"{publisher}.nq"
    snapshot = (build_dir / "current").resolve() / "contributions" / f"{publisher}.nq"
    if not snapshot.exists():
        return not installed.exists()
    return installed.exists() and installed.read_bytes() == snapshot.read_bytes()


class Engine(Protocol):
    """A SPARQL store on loopback, as tools/engines.py starts it."""

    query_url: str
    update_url: str

    def stop(self) -> None: ...

    def start_again(self) -> None: ...


def _ask(server: Server) -> httpx.Response | None:
    try:
        query = f"ASK {{ ?s ?p ?o }} # {time.time_ns()}"  # never a cached answer
        return httpx.post(
            server.url + "/sparql",
            data={"query": query},
            timeout=30,
            headers={"Accept": "application/sparql-results+json"},
        )
    except httpx.HTTPError:
        return None


def remote_store_away(engine: Engine, server: Server, bound: float) -> Check:
    """Stop the remote store: SPARQL answers 503 with Retry-After within `bound`; start it again: parita
    answers 200 again by itself (no restart), and how long that took."""
    before = _ask(server)
    engine.stop()
    started = time.monotonic()
    away = _ask(server)
    away_spent = time.monotonic() - started
    engine.start_again()
    back_at = time.monotonic()
    recovered = None
    while time.monotonic() - back_at < 60:
        r = _ask(server)
        if r is not None and r.status_code == 200:
            recovered = time.monotonic() - back_at
            break
        time.sleep(0.25)
    ok = (
        before is not None
        and before.status_code == 200
        and away is not None
        and away.status_code == 503
        and "retry-after" in away.headers
        and away_spent <= bound
        and recovered is not None
        and "127.0.0.1" not in away.text
    )
    return Check(
        "faults",
        "remote store goes away and returns",
        ok,
        f"before {before.status_code if before else 0}; away {away.status_code if away else 0} "
        f"(Retry-After {away.headers.get('retry-after') if away else '-'}) in {away_spent:.2f} s; "
        f"back to 200 {f'{recovered:.1f} s' if recovered is not None else 'never'} after the store restarted",
        away.text[:200] if away is not None else "no answer",
    )


def publish_cmd(engine: Engine, release: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scripts.cli",
        "publish",
        "--to",
        engine.query_url,
        "--update",
        engine.update_url,
        "--release",
        str(release),
        "--quiet",
    ]


def _count(server: Server) -> int:
    try:
        r = httpx.post(
            server.url + "/sparql",
            data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        return int(r.json()["results"]["bindings"][0]["n"]["value"])
    except (httpx.HTTPError, ValueError, KeyError, IndexError):
        return -1


def _release_triples(build_dir: Path, release_id: str) -> int:
    return int(json.loads((build_dir / "releases" / release_id / "release.json").read_text())["quads"])


def kill_during_publish(
    engine: Engine, server: Server, build_dir: Path, releases: tuple[str, str], fractions: tuple[float, ...]
) -> Check:
    """Publish one release then the other; SIGKILL a publish at each fraction of a full one's time: the
    store keeps serving the previous release or the new one, complete (SPARQL count = release count)."""
    env = _env(build_dir)
    paths = [build_dir / "releases" / r for r in releases]
    subprocess.run(publish_cmd(engine, paths[0]), cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=900)
    started = time.monotonic()
    full = subprocess.run(publish_cmd(engine, paths[1]), cwd=PROJECT_ROOT, env=env, capture_output=True, timeout=900)
    duration = time.monotonic() - started
    failures, kept = [], 0
    for i, fraction in enumerate(fractions):
        target = paths[i % 2]
        before = releases[(i + 1) % 2]
        code = _run_killed(publish_cmd(engine, target), env, duration * fraction)
        time.sleep(RELOAD)
        served = _served_release(server)
        complete = served in releases and _count(server) == _release_triples(build_dir, served)
        kept += served == before
        if not complete or code not in (None, 0):
            failures.append(f"at {fraction:.0%}: serving {served}, count {_count(server)}, exit {code}")
    ok = full.returncode == 0 and not failures
    return Check(
        "faults",
        "kill -9 during publish",
        ok,
        f"{len(fractions)} kills over a {duration:.1f} s publish: previous release kept {kept}, "
        f"new complete {len(fractions) - kept}; every served release complete",
        "; ".join(failures) or full.stderr.decode(errors="replace")[-300:],
    )
