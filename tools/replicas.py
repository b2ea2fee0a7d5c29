"""`python -m tools.replicas`: N `parita serve` replicas of the current release behind an nginx cache.

Releases are immutable, so any number of server processes can serve one release. This starts `--replicas`
uvicorn processes on loopback ports, nginx (Debian's; installed with apt-get when missing and we are root)
in front of them with proxy caching (tools/nginx-replicas.conf.template), then dereferences a few
documents several times and prints each answer's `X-Cache-Status` (MISS, then HIT from the cache) and the
replica that answered. With `--serve SECONDS` it keeps everything running that long. Everything it starts
is stopped by PID (process group) on exit.

Exit codes: 0 the cache answered repeats (HIT seen), 1 it did not, 2 nginx or a replica could not start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from server.config import Settings
from tools.processes import NotAnswering, free_port, launch, start_parita, stop_group, wait_for_http

TEMPLATE = Path(__file__).resolve().parent / "nginx-replicas.conf.template"
EXIT_OK, EXIT_NO_HITS, EXIT_ERROR = 0, 1, 2
DEFAULT_PATHS = ("/ontology", "/.well-known/void", "/catalog")


class ReplicaError(RuntimeError):
    """nginx or a replica could not be installed or started."""


def ensure_nginx() -> str:
    """Debian's nginx, apt-installed (`nginx-light`) when missing and we are root."""
    found = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
    if found:
        return str(found)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ReplicaError("nginx is not installed and apt-get cannot run here (not root or no apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "nginx-light"]):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, check=False)
        if done.returncode != 0:
            raise ReplicaError(f"`{' '.join(cmd)}` exited {done.returncode}: {(done.stderr or done.stdout)[-800:]}")
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(found):
        raise ReplicaError("apt-get installed nginx-light but there is no nginx binary")
    return found


@dataclass
class Cluster:
    url: str
    replicas: list[str]
    folder: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)


def nginx_config(prefix: Path, port: int, upstreams: list[str]) -> str:
    lines = "\n".join(f"        server {u};" for u in upstreams)
    return TEMPLATE.read_text().format(prefix=prefix, port=port, upstreams=lines)


@contextmanager
def cluster(settings: Settings, replicas: int = 2, folder: Path | None = None) -> Iterator[Cluster]:
    """Start `replicas` servers over `settings.build_dir` and nginx in front; stop them all on exit."""
    nginx = ensure_nginx()
    own = folder is None
    folder = Path(tempfile.mkdtemp(prefix="parita-replicas-")) if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        env = {
            "PARITA_BUILD_DIR": str(settings.build_dir),
            "PARITA_BASE_URI": settings.base_uri,
            "PARITA_STORE": settings.store,
            "PARITA_SPARQL_WORKERS": str(settings.sparql_workers),
        }
        upstreams = []
        for n in range(replicas):
            replica = start_parita(env, folder / f"replica-{n}.log", how="uvicorn")
            procs.append(replica.process)
            upstreams.append(f"127.0.0.1:{replica.port}")
        for sub in ("cache", "tmp"):
            (folder / sub).mkdir(exist_ok=True)
            os.chmod(folder / sub, 0o777)  # nginx's worker drops root for `nobody`
        os.chmod(folder, 0o755)
        port = free_port()
        conf = folder / "nginx.conf"
        conf.write_text(nginx_config(folder, port, upstreams))
        log = folder / "nginx-stdout.log"
        procs.append(launch([nginx, "-p", str(folder), "-c", str(conf)], log, cwd=folder))
        url = f"http://127.0.0.1:{port}"
        wait_for_http(
            url + "/health",
            procs[-1],
            folder / "error.log" if (folder / "error.log").exists() else log,
            60.0,
            timeout=1.0,
            interval=0.1,
        )
        yield Cluster(url, [f"http://{u}" for u in upstreams], folder, procs)
    finally:
        for proc in reversed(procs):
            stop_group(proc)
        if own:
            shutil.rmtree(folder, ignore_errors=True)


def demo(
    url: str,
    paths: tuple[str, ...] = DEFAULT_PATHS,
    repeats: int = 4,
    accepts: tuple[str, ...] = ("text/turtle", "text/html"),
) -> list[tuple[str, str, int, str, str]]:
    """(path, Accept, status, X-Cache-Status, replica) for each request: each path and Accept `repeats` times."""
    rows = []
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for path in paths:
            for accept in accepts:
                for _ in range(repeats):
                    r = client.get(path, headers={"Accept": accept})
                    rows.append(
                        (
                            path,
                            accept,
                            r.status_code,
                            r.headers.get("X-Cache-Status", "-"),
                            r.headers.get("X-Upstream", "-"),
                        )
                    )
    return rows


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.replicas", description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2, help="number of `parita serve` processes (default 2)")
    parser.add_argument(
        "--path", action="append", help=f"document path to dereference (default: {', '.join(DEFAULT_PATHS)})"
    )
    parser.add_argument("--repeats", type=int, default=4, help="requests per path and Accept (default 4)")
    parser.add_argument("--serve", type=float, default=0.0, help="keep the cluster running this many seconds")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    try:
        with cluster(settings, max(1, args.replicas)) as c:
            print(f"nginx on {c.url} in front of {', '.join(c.replicas)}")
            rows = demo(c.url, tuple(args.path or DEFAULT_PATHS), args.repeats)
            print("| path | Accept | status | X-Cache-Status | replica |\n|---|---|---|---|---|")
            for row in rows:
                print("| " + " | ".join(map(str, row)) + " |")
            if args.serve > 0:
                print(f"serving for {args.serve:g} s (Ctrl-C stops)")
                try:
                    time.sleep(args.serve)
                except KeyboardInterrupt:
                    pass
    except (ReplicaError, NotAnswering) as error:
        print(f"replicas: {error}", file=sys.stderr)
        return EXIT_ERROR
    hits = sum(1 for row in rows if row[3] == "HIT")
    print(f"{hits} of {len(rows)} answers came from the nginx cache")
    return EXIT_OK if hits else EXIT_NO_HITS


if __name__ == "__main__":
    sys.exit(main())
