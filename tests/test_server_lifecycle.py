"""How `parita serve` stops: a stop signal to the whole process group (Ctrl-C, systemd) lets the query in
flight finish; kill -9 of the server takes its SPARQL worker processes with it, even a busy one."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import write_release
from tools.reliability_kit import Server, metric

SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f }"  # 9 million rows to count: about a second
MANY = "".join(
    f'<https://w3id.org/parita/id/thing/t{n}> <http://www.w3.org/2000/01/rdf-schema#label> "t{n}" .\n'
    for n in range(3000)
)


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(condition, limit: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def queries_sent(server: Server) -> int:
    return int(metric(server.url, "parita_sparql_queries_total"))


def wait_until_sent_to_a_worker(server: Server) -> None:
    assert wait_until(lambda: queries_sent(server) >= 1, limit=30.0), "the query never reached a worker"


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    build_dir = tmp_path / "build"
    write_release(build_dir, "GRAPH <https://w3id.org/parita/graph/test> {\n" + MANY + "}\n")
    env = {"PARITA_SPARQL_WORKERS": "1", "PARITA_SPARQL_TIMEOUT": "120"}  # a loaded machine must not time them out
    with Server(build_dir, tmp_path / "serve.log", env) as server:
        yield server


def test_a_group_stop_lets_the_query_in_flight_finish(server: Server) -> None:
    answers: list[httpx.Response] = []
    asking = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                server.url + "/sparql",
                data={"query": SLOW},
                headers={"Accept": "application/sparql-results+json"},
                timeout=60,
            )
        )
    )
    asking.start()
    wait_until_sent_to_a_worker(server)
    assert asking.is_alive(), "the query ended before the stop: it proves nothing"
    assert server.process is not None
    os.killpg(server.process.pid, signal.SIGTERM)  # what a terminal's Ctrl-C or systemd's stop does
    asking.join(timeout=60)
    assert answers and answers[0].status_code == 200, answers[0].text if answers else "no answer"
    assert int(answers[0].json()["results"]["bindings"][0]["n"]["value"]) > 0
    assert wait_until(lambda: server.process is not None and server.process.poll() is not None)


def test_kill_9_of_the_server_takes_its_busy_workers_along(server: Server) -> None:
    assert server.process is not None
    workers = children(server.process.pid)
    assert workers, "the server has SPARQL worker processes"
    endless = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 27 billion rows: minutes

    def ask() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under it: no answer is expected
            httpx.post(server.url + "/sparql", data={"query": endless}, timeout=60)

    threading.Thread(target=ask, daemon=True).start()
    wait_until_sent_to_a_worker(server)  # busy: it would not notice its server is gone until the query ends
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    assert wait_until(lambda: not any(running(pid) for pid in workers), limit=5.0)


def test_a_worker_whose_server_is_already_gone_exits_at_once(tmp_path: Path) -> None:
    # The kernel's parent-death signal only covers a death after the worker asked for it: a worker that
    # starts after its server died must notice by itself, before loading the release.
    build_dir = tmp_path / "build"
    write_release(build_dir)
    mine, theirs = socket.socketpair()
    with mine:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.worker_process",
                str(build_dir / "current"),
                "memory",
                str(theirs.fileno()),
                "1",
            ],  # "my server is pid 1": not its real parent
            pass_fds=(theirs.fileno(),),
            cwd=Path(__file__).resolve().parent.parent,
        )
        theirs.close()
        assert proc.wait(timeout=30) == 0
        mine.settimeout(5)
        assert mine.recv(16) == b""  # closed without a word: it never said "ready"
