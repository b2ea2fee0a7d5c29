"""`parita bench`: parita side by side with its peers, one run, same machine, same data, same workloads.

For each synthetic scale (`parita synth`): a timed build (parse, validate, index, dumps, total, peak RSS, and a
rebuild after a change to one source graph); then, each in turn on loopback, parita with 1 and 2 uvicorn
workers, `oxigraph serve-read-only` on the release's store, rdflib-endpoint (latest from PyPI, in a
temporary venv) on the release's N-Triples dump, and a bare FastAPI app returning fixed JSON (the floor).
wrk (Debian) drives each workload from a second process at fixed concurrency for a bounded time:
dereference (random things as Turtle and HTML) and a SPARQL mix (label lookup, network members, memberships
per province with GROUP BY, OPTIONAL with a language filter, org:subOrganizationOf*, DESCRIBE, CONSTRUCT,
text FILTER), each without repeats (every request new: cold) and with repeats (a few requests over
and over: warm). Throughput, p50/p95/p99 latency, errors and the server's peak RSS (its process tree)
go into a Markdown table with ratios, printed and written to BENCHMARKS.md.

Exit codes: 0 done, 2 a tool could not be installed or a server did not start.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from server import terms
from server.config import PROJECT_ROOT, Settings
from tools.processes import clean_env, free_port, launch, stop_group, wait_for_http
from tools.synth import change_one_graph

EXIT_OK, EXIT_ERROR = 0, 2
ORG = "http://www.w3.org/ns/org#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PREFIXES = (
    f"PREFIX org: <{ORG}> PREFIX rdfs: <{RDFS}> PREFIX parita: <{terms.NAMESPACE}> "
    "PREFIX clv: <https://w3id.org/italia/onto/CLV/> "
)
FLOOR_APP = """from fastapi import FastAPI
app = FastAPI()
@app.get("/{path:path}")
async def fixed(path: str) -> dict[str, object]:
    return {"ok": True, "path": "fixed"}
"""
#: N uvicorn processes sharing one port (SO_REUSEPORT), each a plain 1-worker server. The listening socket gets
#: TCP_NODELAY: `uvicorn --workers N` shares a socket without it here and every answer then waits ~40 ms for
#: a delayed ACK (Nagle), which measures the kernel, not the app. Parita and the floor run the same way.
LAUNCHER = '''import socket, subprocess, sys
CHILD = """import socket, sys, uvicorn
sys.path.insert(0, sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.bind(("127.0.0.1", int(sys.argv[2])))
uvicorn.Server(uvicorn.Config(sys.argv[1], factory=sys.argv[3] == "1", access_log=False, log_level="warning")).run(sockets=[s])
"""
app, port, factory, n, appdir = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
if n == 1:  # one server process, no supervisor left in the process tree whose memory is measured
    import os
    os.execv(sys.executable, [sys.executable, "-c", CHILD, app, port, factory, appdir])
kids = [subprocess.Popen([sys.executable, "-c", CHILD, app, port, factory, appdir]) for _ in range(n)]
for kid in kids:
    kid.wait()
'''
WRK_LUA = """local paths = {}
local accepts = {}
for line in io.lines("%(list)s") do
  local tab = line:find("\\t")
  paths[#paths + 1] = line:sub(1, tab - 1)
  accepts[#accepts + 1] = line:sub(tab + 1)
end
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function init(args)
  counter = id * 7919
end
function request()
  counter = counter + 1
  local i = (counter %% #paths) + 1
  return wrk.format("GET", paths[i], {["Accept"] = accepts[i]})
end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format("BENCH %%d %%f %%f %%f %%f %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, errors))
end
"""


#: The low-memory configuration: the release's on-disk store opened read-only, one SPARQL worker process.
DISK = "parita (1 worker, disk, 1 SPARQL process)"


@dataclass
class Result:
    system: str
    workload: str
    rps: float
    p50: float
    p95: float
    p99: float
    errors: int
    requests: int
    rss_mb: float


@dataclass
class ScaleReport:
    scale: float
    triples: int = 0
    build: dict[str, float] = field(default_factory=dict)
    engines: dict[str, dict[str, float]] = field(default_factory=dict)  # SHACL engine -> its full build
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- processes -------------------------------------------------------------------------------------------------


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo.extend(int(k) for k in kids)
        except (OSError, ValueError):
            continue
    return total / 1024


class RssWatch:
    """Samples a process tree's RSS every 0.2 s in a thread; `peak` is the largest sample."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, tree_rss_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(timeout=2)
        return self.peak


@contextmanager
def running(
    cmd: list[str], probe: str, log: Path, env: dict[str, str] | None = None, limit: float = 600.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `cmd` in its own process group, wait (bounded) until `probe` answers, stop it on exit."""
    proc = launch(cmd, log, env)
    try:
        wait_for_http(probe, proc, log, limit, timeout=5.0, interval=0.25)
        yield proc
    finally:
        stop_group(proc, grace=15.0)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True, check=False, timeout=600
        )
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and could not be installed with apt-get")
    return found


def ensure_rdflib_endpoint(folder: Path) -> Path:
    """rdflib-endpoint, latest from PyPI, in its own venv under `folder`; returns its command."""
    venv = folder / "rdflib-endpoint-venv"
    exe = venv / "bin" / "rdflib-endpoint"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--upgrade", "rdflib-endpoint", "uvicorn"],
            check=True,
            timeout=900,
            capture_output=True,
        )
    return exe


def oxigraph_command() -> str:
    local = Path(sys.executable).parent / "oxigraph"
    found = str(local) if local.exists() else shutil.which("oxigraph")
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "oxigraph"], check=True, timeout=600)
        found = str(local)
    return found


# --- build --------------------------------------------------------------------------------------------------------

#: The build's peak is its own memory's high-water mark (VmHWM), not getrusage's ru_maxrss: Linux carries
#: ru_maxrss over exec, so a child forked from this process would report this process's size when larger.
BUILD_PROBE = """import json, sys, time
from pathlib import Path
from server.config import Settings
from scripts.build import build
marks = [("start", time.monotonic())]
build(Settings.from_env(), lambda message: marks.append((message, time.monotonic())))
marks.append(("end", time.monotonic()))
hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
print("BUILD " + json.dumps({"marks": marks, "peak_mb": int(hwm.split()[1]) / 1024}))
"""


def timed_build(data_dir: Path, build_dir: Path, engine: str | None = None) -> dict[str, float]:
    """One `parita build` in a process of its own: the time of each phase (from its progress messages) and
    the peak RSS. `engine` picks the SHACL engine (PARITA_VALIDATION_ENGINE)."""
    env = {**os.environ, "PARITA_DATA_DIR": str(data_dir), "PARITA_BUILD_DIR": str(build_dir)}
    if engine:
        env["PARITA_VALIDATION_ENGINE"] = engine
    done = subprocess.run(
        [sys.executable, "-c", BUILD_PROBE],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BUILD ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"build failed: {done.stderr[-2000:]}")
    info = json.loads(line[6:])
    marks: list[tuple[str, float]] = info["marks"]
    at = {m: t for m, t in marks}

    def when(prefix: str, otherwise: float | None = None) -> float:
        found = next((t for m, t in marks if m.startswith(prefix)), otherwise)
        if found is None:
            raise RuntimeError(f"the build no longer says {prefix!r}: {[m for m, _ in marks]}")
        return found

    t0, end = at["start"], at["end"]
    read_end, valid_end, store_end = when("read "), when("valid"), when("store written")
    dumps_end = when("dumps written", end)
    stats_end = when("statistics counted", dumps_end)
    return {
        "parse": read_end - t0,
        "validate": valid_end - read_end,
        "index": store_end - valid_end,
        "dumps": dumps_end - store_end,
        "stats": stats_end - dumps_end,
        "changelog_ldes": end - stats_end,
        "total": end - t0,
        "peak_rss_mb": info["peak_mb"],
    }


#: pySHACL's build memory grows linearly with the data: up to scale 16 it fits a 24 GB machine (BENCHMARKS.md)
PYSHACL_MAX_SCALE = 16.0


BENCHED_ENGINES = ("parita", "pyshacl")
#: A build's phases as `timed_build` names them, in order (the rebuild's are kept as `rebuild_<phase>`).
PHASES = ("parse", "validate", "index", "dumps", "stats", "changelog_ldes", "total")


def engine_builds(
    scale: float,
    data_dir: Path,
    folder: Path,
    say: Callable[[str], None],
    engines: tuple[str, ...] = BENCHED_ENGINES,
) -> dict[str, dict[str, float]]:
    """A full build of the same data with each SHACL engine (pySHACL only up to PYSHACL_MAX_SCALE), and with
    the parita engine a rebuild after a change to one source graph, phase by phase."""
    rows: dict[str, dict[str, float]] = {}
    for engine in engines:
        if engine == "pyshacl" and scale > PYSHACL_MAX_SCALE:
            say(f"scale {scale:g}: pySHACL skipped (would need ~{3.5 * scale / 4:.0f} GB)")
            continue
        build_dir = folder / f"build-{engine}"
        shutil.rmtree(build_dir, ignore_errors=True)
        rows[engine] = timed_build(data_dir, build_dir, engine)
        say(f"scale {scale:g}: {engine} build {json.dumps({k: round(v, 1) for k, v in rows[engine].items()})}")
        if engine == "parita":
            change_one_graph(data_dir)
            rebuild = timed_build(data_dir, build_dir, engine)
            say(f"scale {scale:g}: {engine} rebuild {json.dumps({k: round(v, 1) for k, v in rebuild.items()})}")
            rows[engine]["rebuild_one_graph"] = rebuild["total"]
            rows[engine].update({f"rebuild_{phase}": rebuild[phase] for phase in PHASES})
        shutil.rmtree(build_dir, ignore_errors=True)
    return rows


# --- workloads ----------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    things: list[str]
    labels: list[str]
    networks: list[str]
    provinces: list[str]
    bodies: list[str]


def sample_data(store_dir: Path, base: str, n: int = 20000, seed: int = 1) -> Sample:
    import pyoxigraph as ox

    store = ox.Store.read_only(str(store_dir))

    def column(query: str, store: ox.Store = store) -> list[str]:
        rows = store.query(query, use_default_graph_as_union=True)
        assert isinstance(rows, ox.QuerySolutions), "a SELECT query has solutions"
        return [row[0].value for row in rows]

    rng = random.Random(seed)
    things = column(f'SELECT DISTINCT ?s {{ ?s a ?c FILTER(STRSTARTS(STR(?s), "{base}id/")) }}')
    labels = column(f"SELECT ?l {{ ?s a <{ORG}FormalOrganization> ; <{RDFS}label> ?l }}")
    networks = column(f"SELECT ?n {{ ?n a <{ORG}OrganizationalCollaboration> }}")
    provinces = column("SELECT ?p { ?p a <https://w3id.org/italia/onto/CLV/Province> }")
    bodies = column(f"SELECT DISTINCT ?b {{ ?x <{ORG}subOrganizationOf> ?b }}")
    del store, column

    def pick(xs: list[str]) -> list[str]:
        return rng.sample(xs, min(n, len(xs))) if xs else []

    return Sample(pick(things), pick(labels), pick(networks), pick(provinces), pick(bodies))


def sparql_queries(s: Sample, rng: random.Random) -> list[str]:
    """One query of each kind of the mix, with random parameters."""
    label = rng.choice(s.labels).replace("\\", "\\\\").replace('"', '\\"')
    net, prov, body, thing = rng.choice(s.networks), rng.choice(s.provinces), rng.choice(s.bodies), rng.choice(s.things)
    word = rng.choice(["sintetic", "Asti", "Provincia", "Comune", "Rete", "Sportello"]) + str(rng.randint(0, 9))
    return [
        PREFIXES + f'SELECT ?s {{ ?s rdfs:label "{label}"@it }}',
        PREFIXES
        + f"SELECT ?member ?l {{ ?m org:organization <{net}> ; org:member ?member . OPTIONAL {{ ?member rdfs:label ?l }} }}",
        PREFIXES
        + f"SELECT ?net (COUNT(?m) AS ?n) {{ ?m org:organization ?net ; org:member ?x . ?x parita:territory ?t . "
        f"?t clv:hasDirectHigherRank <{prov}> }} GROUP BY ?net ORDER BY DESC(?n)",
        PREFIXES
        + f'SELECT ?x ?l {{ ?m org:organization <{net}> ; org:member ?x . OPTIONAL {{ ?x rdfs:label ?l FILTER(lang(?l) = "it") }} }}',
        PREFIXES + f"SELECT ?x {{ ?x org:subOrganizationOf* <{body}> }}",
        f"DESCRIBE <{thing}>",
        PREFIXES
        + f"CONSTRUCT {{ <{net}> ?p ?o . ?m org:member ?x }} WHERE {{ {{ <{net}> ?p ?o }} UNION {{ ?m org:organization <{net}> ; org:member ?x }} }}",
        PREFIXES
        + f'SELECT ?s ?l {{ ?s a org:OrganizationalCollaboration ; rdfs:label ?l FILTER(CONTAINS(?l, "{word}")) }} LIMIT 20',
    ]


def accept_for(query: str) -> str:
    return (
        "text/turtle"
        if re.match(r"\s*(PREFIX[^>]*>\s*)*(DESCRIBE|CONSTRUCT)", query)
        else "application/sparql-results+json"
    )


def write_list(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{p}\t{a}\n" for p, a in rows))
    return path


def deref_rows(sample: Sample, base: str, repeats: bool) -> list[tuple[str, str]]:
    things = sample.things[:8] if repeats else sample.things
    rows = []
    for i, iri in enumerate(things):
        path = "/doc/" + iri[len(base) + 3 :]
        rows.append((path, "text/turtle" if i % 2 == 0 else "text/html"))
        rows.append(("/id/" + iri[len(base) + 3 :], "text/turtle"))
    return rows


def sparql_rows(sample: Sample, path: str, repeats: bool, count: int = 40000, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    queries = (
        sparql_queries(sample, rng) if repeats else [q for _ in range(count // 8) for q in sparql_queries(sample, rng)]
    )
    return [(path + "?" + urllib.parse.urlencode({"query": q}), accept_for(q)) for q in queries]


def wrk_run(
    wrk: str, url: str, rows_file: Path, seconds: float, connections: int, folder: Path
) -> tuple[int, float, float, float, float, int]:
    script = folder / "bench.lua"
    script.write_text(WRK_LUA % {"list": str(rows_file)})
    done = subprocess.run(
        [wrk, "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "30s", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout[-800:]} {done.stderr[-800:]}")
    n, dur, p50, p95, p99, errors = line.split()[1:]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    return int(n), float(dur), float(p50), float(p95), float(p99), int(errors) + (int(non2xx.group(1)) if non2xx else 0)


# --- one scale --------------------------------------------------------------------------------------------------


def bench_scale(
    scale: float, folder: Path, seconds: float, connections: int, say: Callable[[str], None]
) -> ScaleReport:
    from tools.synth import synthesize

    report = ScaleReport(scale)
    settings = Settings.from_env()
    base = settings.base_uri
    data_dir, build_dir = folder / f"data-{scale:g}", folder / f"build-{scale:g}"
    say(f"scale {scale:g}: synthesising and building")
    synthesize(scale, data_dir, settings)
    report.engines = engine_builds(scale, data_dir, folder, say)
    report.build = timed_build(data_dir, build_dir)
    change_one_graph(data_dir)
    rebuild = timed_build(data_dir, build_dir)
    report.build["rebuild_one_graph"] = rebuild["total"]
    release = (build_dir / "current").resolve()
    meta = json.loads((release / "release.json").read_text())
    report.triples = int(meta["triples"])
    sample = sample_data(release / "store", base)
    wrk = ensure_wrk()
    lists = folder / f"lists-{scale:g}"
    lists.mkdir(exist_ok=True)
    workloads = {
        "deref cold": write_list(lists / "deref-cold.tsv", deref_rows(sample, base, False)),
        "deref warm": write_list(lists / "deref-warm.tsv", deref_rows(sample, base, True)),
        "sparql cold": write_list(lists / "sparql-cold.tsv", sparql_rows(sample, "/sparql", False)),
        "sparql warm": write_list(lists / "sparql-warm.tsv", sparql_rows(sample, "/sparql", True)),
        "oxi cold": write_list(lists / "oxi-cold.tsv", sparql_rows(sample, "/query", False)),
        "oxi warm": write_list(lists / "oxi-warm.tsv", sparql_rows(sample, "/query", True)),
        "rdflib cold": write_list(lists / "rdflib-cold.tsv", sparql_rows(sample, "/", False)),
        "rdflib warm": write_list(lists / "rdflib-warm.tsv", sparql_rows(sample, "/", True)),
    }
    env = clean_env({"PARITA_BUILD_DIR": str(build_dir), "PARITA_SPARQL_TIMEOUT": "30"})

    ask = "?query=ASK%7B%7D"  # the probe of a SPARQL server

    def measure(system: str, proc: subprocess.Popen[bytes], url: str, runs: dict[str, str]) -> None:
        watch = RssWatch(proc.pid)
        try:
            for workload, key in runs.items():
                if "warm" in workload:  # a cold workload must meet every request for the first time
                    wrk_run(wrk, url, workloads[key], min(3.0, seconds), connections, folder)
                n, dur, p50, p95, p99, errors = wrk_run(wrk, url, workloads[key], seconds, connections, folder)
                ok = max(0, n - errors) / dur  # only answered requests count as throughput
                report.results.append(Result(system, workload, ok, p50, p95, p99, errors, n, 0.0))
                say(f"  {system:<26} {workload:<12} {ok:9.1f} ok req/s  p99 {p99:8.1f} ms  errors {errors}")
        finally:
            peak = watch.stop()
        for r in report.results:
            if r.system == system:
                r.rss_mb = peak

    def measure_served(
        system: str,
        command: list[str],
        port: int,
        probe: str,
        log: str,
        runs: dict[str, str],
        env: dict[str, str] | None = None,
        limit: float = 600.0,
    ) -> None:
        """Start `command` (serving on `port`), wait until `probe` answers, measure `runs` against it, stop it."""
        with running(command, f"http://127.0.0.1:{port}{probe}", folder / log, env, limit) as proc:
            measure(system, proc, f"http://127.0.0.1:{port}", runs)

    def uvicorn(app: str, factory: bool, workers: int, port: int) -> list[str]:
        return [sys.executable, "-c", LAUNCHER, app, str(port), "1" if factory else "0", str(workers), str(folder)]

    def workers_named(workers: int) -> str:
        return f"{workers} worker{'s' if workers > 1 else ''}"

    parita = "server.app:create_app"
    every = {w: w for w in ("deref warm", "deref cold", "sparql warm", "sparql cold")}
    for workers in (1, 2):
        port = free_port()
        command = uvicorn(parita, True, workers, port)
        name = f"parita ({workers_named(workers)})"
        measure_served(name, command, port, "/health", f"parita-{workers}.log", every, env=env)
    port = free_port()
    disk_env = {**env, "PARITA_STORE": "disk", "PARITA_SPARQL_WORKERS": "1"}
    cold = {"deref cold": "deref cold", "sparql cold": "sparql cold"}
    measure_served(DISK, uvicorn(parita, True, 1, port), port, "/health", "parita-disk.log", cold, env=disk_env)
    (folder / "floor_app.py").write_text(FLOOR_APP)
    for workers in (1, 2):
        port = free_port()
        command = uvicorn("floor_app:app", False, workers, port)
        name = f"bare FastAPI ({workers_named(workers)})"
        measure_served(name, command, port, "/health", f"floor-{workers}.log", {"deref warm": "deref warm"}, env=env)
    port = free_port()
    command = [oxigraph_command(), "serve-read-only", "--location", str(release / "store"), "--union-default-graph"]
    oxi = {"sparql cold": "oxi cold", "sparql warm": "oxi warm"}
    oxi_command = [*command, "--bind", f"127.0.0.1:{port}"]
    measure_served("oxigraph serve-read-only", oxi_command, port, "/query" + ask, "oxigraph.log", oxi)
    try:
        exe = ensure_rdflib_endpoint(folder.parent if folder.name.startswith("scale") else folder)
        nt = folder / f"union-{scale:g}.nt"
        import gzip

        with gzip.open(release / "dumps" / "parita.nt.gz", "rb") as src, nt.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        port = free_port()
        command = [str(exe), "serve", str(nt), "--host", "127.0.0.1", "--port", str(port)]
        runs = {"sparql cold": "rdflib cold", "sparql warm": "rdflib warm"}
        measure_served("rdflib-endpoint", command, port, "/" + ask, "rdflib.log", runs, limit=1800)
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        report.notes.append(f"rdflib-endpoint not measured: {exc}")
    return report


# --- report -------------------------------------------------------------------------------------------------------


def find(report: ScaleReport, system: str, workload: str) -> Result | None:
    return next((r for r in report.results if r.system == system and r.workload == workload), None)


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "—"


def markdown(reports: list[ScaleReport], seconds: float, connections: int, machine: str) -> str:
    out = [
        "# Benchmarks",
        "",
        f"One run of `parita bench` on {machine}: same machine, same data (`parita synth`), wrk with "
        f"{connections} connections for {seconds:g} s per cell after a short warm-up, from a second process. "
        "`cold` = every request different (no cache can help); `warm` = a few requests repeated. "
        "Peak RSS is the server's whole process tree (uvicorn workers and SPARQL worker processes).",
        "",
    ]
    out += [
        "## Build",
        "",
        "| scale | triples | parse s | validate s | index s | dumps s | total s | peak RSS MB | "
        "rebuild after one-graph change s | non-validation / validation |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        b = r.build
        other = b["total"] - b["validate"]
        out.append(
            f"| {r.scale:g} | {r.triples:,} | {b['parse']:.1f} | {b['validate']:.1f} | {b['index']:.1f} | "
            f"{b['dumps']:.1f} | {b['total']:.1f} | {b['peak_rss_mb']:.0f} | {b['rebuild_one_graph']:.1f} "
            f"({b['rebuild_one_graph'] / b['total']:.2f}× full) | {other / b['validate']:.2f}× |"
        )
    out += engines_markdown(reports)
    for r in reports:
        if not r.results:
            continue
        out += [
            "",
            f"## Serving, scale {r.scale:g} ({r.triples:,} triples)",
            "",
            "| system | workload | answered req/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MB |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for x in r.results:
            out.append(
                f"| {x.system} | {x.workload} | {x.rps:,.0f} | {x.p50:.1f} | {x.p95:.1f} | {x.p99:.1f} | "
                f"{x.errors} | {x.rss_mb:,.0f} |"
            )
        out += ["", "Ratios (parita ÷ peer, same run):", ""]
        for w in (1, 2):
            name = f"parita ({w} worker{'s' if w > 1 else ''})"
            floor = find(r, f"bare FastAPI ({w} worker{'s' if w > 1 else ''})", "deref warm")
            for wl in ("deref warm", "deref cold"):
                p = find(r, name, wl)
                if p and floor:
                    out.append(
                        f"- {name}, {wl}: throughput {ratio(p.rps, floor.rps)} the floor; "
                        f"p99 {ratio(p.p99, floor.p99)} the floor's"
                    )
            for wl in ("sparql cold", "sparql warm"):
                p = find(r, name, wl)
                ox_ = find(r, "oxigraph serve-read-only", wl)
                rd = find(r, "rdflib-endpoint", wl)
                out.append(
                    f"- {name}, {wl}: {ratio(p.rps if p else None, ox_.rps if ox_ else None)} oxigraph, "
                    f"{ratio(p.rps if p else None, rd.rps if rd else None)} rdflib-endpoint"
                )
        rd = find(r, "rdflib-endpoint", "sparql cold")
        for name in ("parita (1 worker)", DISK):
            p1 = find(r, name, "sparql cold")
            if p1 and rd:
                out.append(f"- peak RSS {name} ÷ rdflib-endpoint: {ratio(p1.rss_mb, rd.rss_mb)}")
        disk, ox_ = find(r, DISK, "sparql cold"), find(r, "oxigraph serve-read-only", "sparql cold")
        if disk and ox_:
            out.append(f"- {DISK}, sparql cold: {ratio(disk.rps, ox_.rps)} oxigraph")
        out += [f"- note: {n}" for n in r.notes]
    if len(reports) > 1:
        one = next((r for r in reports if r.scale == 1), None)
        four = next((r for r in reports if r.scale == 4), None)
        if one and four:
            out += ["", f"Build time scale 4 ÷ scale 1: {four.build['total'] / one.build['total']:.2f}×"]
    out += targets(reports)
    return "\n".join(out) + "\n"


def builds_only(
    scale: float, folder: Path, say: Callable[[str], None], engines: tuple[str, ...] = BENCHED_ENGINES
) -> ScaleReport:
    from tools.synth import synthesize

    report = ScaleReport(scale)
    data_dir = folder / f"data-{scale:g}"
    say(f"scale {scale:g}: synthesising")
    synthesize(scale, data_dir, Settings.from_env())
    report.engines = engine_builds(scale, data_dir, folder, say, engines)
    return report


def replace_section(path: Path, heading: str, body: str) -> None:
    """Write `heading` + `body` into `path` in place of the section of that heading (to the next `## `)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"{heading}\n{body}"
    if heading in text:
        start = text.index(heading)
        following = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[following + 1 :] if following >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def engines_markdown(reports: list[ScaleReport]) -> list[str]:
    """The build with each SHACL engine, phase by phase, and the ratios the issue sets targets on."""
    measured = [r for r in reports if r.engines]
    if not measured:
        return []
    out = [
        "",
        "## Build by SHACL engine",
        "",
        "A full build (fresh build folder, so a full validation) of the same data with each engine; pySHACL only "
        f"up to scale {PYSHACL_MAX_SCALE:g} (its memory grows linearly with the data). `dumps` = N-Quads, "
        "N-Triples and Turtle dumps; `stats` = the VoID statistics (SPARQL on the written store); `changelog+LDES` "
        "= the changelog and the LDES stream.",
        "",
        "| scale | engine | parse s | validate s | index s | dumps s | stats s | changelog+LDES s | total s | "
        "peak RSS MB | rebuild after one-graph change s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in measured:
        for engine, b in r.engines.items():
            rebuild = b.get("rebuild_one_graph")
            out.append(
                f"| {r.scale:g} | {engine} | {b['parse']:.1f} | {b['validate']:.1f} | {b['index']:.1f} | "
                f"{b['dumps']:.1f} | {b['stats']:.1f} | {b['changelog_ldes']:.1f} | {b['total']:.1f} | "
                f"{b['peak_rss_mb']:.0f} | "
                + (f"{rebuild:.1f} ({rebuild / b['total']:.2f}× full)" if rebuild else "—")
                + " |"
            )
    rebuilt = [(r.scale, b) for r in measured for b in r.engines.values() if "rebuild_total" in b]
    if rebuilt:
        out += [
            "",
            "The parita engine's rebuild after a one-graph change (`tools.synth.change_one_graph`), phase by phase, "
            "beside the full build of the same run:",
            "",
            "| scale | build | " + " | ".join(f"{phase.replace('_', '+')} s" for phase in PHASES) + " |",
            "|---|---|" + "---|" * len(PHASES),
        ]
        for scale, b in rebuilt:
            for label, prefix in (("full", ""), ("rebuild", "rebuild_")):
                out.append(f"| {scale:g} | {label} | " + " | ".join(f"{b[prefix + p]:.1f}" for p in PHASES) + " |")
            out.append(
                f"| {scale:g} | rebuild ÷ full | "
                + " | ".join(f"{b['rebuild_' + p] / b[p]:.2f}×" if b[p] else "—" for p in PHASES)
                + " |"
            )
    rows: list[tuple[str, float, float]] = []
    for r in measured:
        ours, ref = r.engines.get("parita"), r.engines.get("pyshacl")
        if ours and ref:
            rows.append((f"scale {r.scale:g}: validation, parita ÷ pySHACL", ours["validate"] / ref["validate"], 0.1))
        if ours and ref and r.scale == 4:
            rows.append(
                ("scale 4: build peak RSS, parita ÷ pySHACL (same run)", ours["peak_rss_mb"] / ref["peak_rss_mb"], 0.3)
            )
            rows.append(("scale 4: whole build, parita ÷ pySHACL (same run)", ours["total"] / ref["total"], 0.25))
        if ours and r.scale == 4:
            rows.append(
                ("scale 4: build peak RSS ÷ 3.5 GB (issue 12's pySHACL figure)", ours["peak_rss_mb"] / 3584, 0.3)
            )
            rows.append(
                ("scale 4: whole build ÷ 313 s (issue 12's pySHACL figure, idle machine)", ours["total"] / 313, 0.25)
            )
        if ours and "rebuild_one_graph" in ours:
            rows.append(
                (
                    f"scale {r.scale:g}: rebuild after a one-graph change ÷ full build",
                    ours["rebuild_one_graph"] / ours["total"],
                    0.2,
                )
            )
    by_scale = {r.scale: r.engines.get("parita") for r in measured}
    for big, small in ((16.0, 4.0), (8.0, 4.0), (4.0, 1.0)):
        if by_scale.get(big) and by_scale.get(small):
            rows.append(
                (
                    f"build time scale {big:g} ÷ scale {small:g}",
                    by_scale[big]["total"] / by_scale[small]["total"],  # type: ignore[index]
                    4.5 / 4 * big / small,  # linear, as the issue sets 4.5× for 16 ÷ 4
                )
            )
    out += ["", "| target | measured | bound | met |", "|---|---|---|---|"]
    out += [
        f"| {what} | {value:.2f}× | ≤ {bound:g}× | {'yes' if value <= bound else 'no'} |" for what, value, bound in rows
    ]
    return out


def targets(reports: list[ScaleReport]) -> list[str]:
    """The issue's targets, each with the ratio this run measured (scale 1 unless it says otherwise)."""
    one = next((r for r in reports if r.scale == 1), None)
    four = next((r for r in reports if r.scale == 4), None)
    rows: list[tuple[str, float | None, float, bool]] = []  # (what, measured, bound, at least?)
    if one:
        for w in (1, 2):
            name, floor_name = (
                f"parita ({w} worker{'s' if w > 1 else ''})",
                f"bare FastAPI ({w} worker{'s' if w > 1 else ''})",
            )
            floor = find(one, floor_name, "deref warm")
            for wl in ("deref warm", "deref cold"):
                p = find(one, name, wl)
                if p and floor:
                    rows.append((f"{name}, {wl}: throughput ÷ floor", p.rps / floor.rps, 0.7, True))
                    rows.append(
                        (f"{name}, {wl}: p99 ÷ floor's p99", p.p99 / floor.p99 if floor.p99 else None, 3.0, False)
                    )
            ox_c, rd_c, ox_w = (
                find(one, "oxigraph serve-read-only", "sparql cold"),
                find(one, "rdflib-endpoint", "sparql cold"),
                find(one, "oxigraph serve-read-only", "sparql warm"),
            )
            cold, warm = find(one, name, "sparql cold"), find(one, name, "sparql warm")
            if cold and ox_c:
                rows.append((f"{name}, sparql cold ÷ oxigraph", cold.rps / ox_c.rps, 0.8, True))
            if cold and rd_c:
                rows.append((f"{name}, sparql cold ÷ rdflib-endpoint", cold.rps / rd_c.rps, 20.0, True))
            if warm and ox_w:
                rows.append((f"{name}, sparql warm ÷ oxigraph", warm.rps / ox_w.rps, 1.0, True))
        b = one.build
        rows.append(
            ("build: everything but validation ÷ validation", (b["total"] - b["validate"]) / b["validate"], 0.5, False)
        )
        rows.append(("rebuild after a one-graph change ÷ full build", b["rebuild_one_graph"] / b["total"], 0.2, False))
    if one and four:
        rows.append(("build time scale 4 ÷ scale 1", four.build["total"] / one.build["total"], 4.5, False))
    if four:
        rd = find(four, "rdflib-endpoint", "sparql cold")
        for name in ("parita (1 worker)", DISK):
            p = find(four, name, "sparql cold")
            if p and rd:
                rows.append((f"scale 4: peak RSS {name} ÷ rdflib-endpoint", p.rss_mb / rd.rss_mb, 0.25, False))
    if not rows:
        return []
    out = ["", "## Targets", "", "| target | measured | bound | met |", "|---|---|---|---|"]
    for what, value, bound, at_least in rows:
        met = value is not None and (value >= bound if at_least else value <= bound)
        shown = f"{value:.2f}×" if value is not None else "—"
        out.append(f"| {what} | {shown} | {'≥' if at_least else '≤'} {bound:g}× | {'yes' if met else 'no'} |")
    return out


def machine_line() -> str:
    cpus = os.cpu_count() or 0
    try:
        mem = (
            int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
            // 1024
            // 1024
        )
    except (OSError, StopIteration, ValueError):
        mem = 0
    return f"{cpus} CPUs, {mem} GB RAM, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parita bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,1,4", help="comma-separated synthetic scales (default 0.1,1,4)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per cell (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "BENCHMARKS.md", help="Markdown file to write")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    parser.add_argument(
        "--builds-only",
        action="store_true",
        help="only the builds by SHACL engine (no serving workloads); replaces that section of --out",
    )
    parser.add_argument(
        "--harvest-only",
        action="store_true",
        help="only the harvest row (full vs incremental LDES harvest, page vs document throughput); replaces that section of --out",
    )
    parser.add_argument(
        "--engines",
        default=",".join(BENCHED_ENGINES),
        help="with --builds-only: comma-separated SHACL engines to build with (default parita,pyshacl; "
        "`--engines parita` leaves out pySHACL's long build)",
    )
    args = parser.parse_args(argv)
    scales = [float(s) for s in args.scales.split(",") if s.strip()]
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    if unknown := set(engines) - set(BENCHED_ENGINES):
        parser.error(f"unknown engine(s) {', '.join(sorted(unknown))}; known: {', '.join(BENCHED_ENGINES)}")
    work = args.work or Path(tempfile.mkdtemp(prefix="parita-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    def say(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    reports = []
    try:
        for scale in scales:
            folder = work / f"scale-{scale:g}"
            folder.mkdir(exist_ok=True)
            if args.harvest_only:
                from tools.bench_harvest import harvest_bench

                lines = harvest_bench(scale, folder / "harvest", say)
                text = "\n".join(lines) + f"\n\nMachine: {machine_line()}.\n"
                replace_section(args.out, "## Harvest", text)
                continue
            if args.builds_only:
                reports.append(builds_only(scale, folder, say, engines))
                text = "\n".join(engines_markdown(reports)[2:]) + f"\n\nMachine: {machine_line()}.\n"
                replace_section(args.out, "## Build by SHACL engine", text)
                continue
            reports.append(bench_scale(scale, folder, args.seconds, args.connections, say))
            text = markdown(reports, args.seconds, args.connections, machine_line())
            args.out.write_text(text)  # after each scale, so a long run leaves what it measured
    except (RuntimeError, subprocess.SubprocessError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(text)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
