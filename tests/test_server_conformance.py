"""The shared black-box checker (`../shared/conformance/protocol_check.py`) against a real uvicorn server:
SPARQL 1.1 Protocol (read-only, `--safe-updates`), Service Description, dereferencing of one resource of
every class plus the ontology, shapes and a named graph, VoID and DCAT. Zero failures allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import BASE, SHARED, LiveServer, start_server, stop_server, write_release

from server.config import Settings

pytestmark = pytest.mark.server
CHECKER = SHARED / "conformance" / "protocol_check.py"
W3C_DATA = SHARED / "conformance" / "sparql-protocol" / "protocol"


def one_resource_per_class(server: LiveServer) -> list[str]:
    """Ask the server itself for one thing (under `B id/`) of every class in the data."""
    query = f"""SELECT ?class (MIN(STR(?s)) AS ?example) WHERE {{
      ?s a ?class FILTER(STRSTARTS(STR(?s), "{BASE}id/")) }} GROUP BY ?class"""
    r = httpx.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    r.raise_for_status()
    rows = r.json()["results"]["bindings"]
    return sorted({"/" + row["example"]["value"][len(BASE) :] for row in rows})


def run_checker(args: list[str], tmp_path: Path) -> tuple[int, str]:
    if not CHECKER.exists():
        pytest.skip(f"shared conformance checker not found at {CHECKER}")
    proc = subprocess.run(
        [sys.executable, str(CHECKER), *args, "--json", str(tmp_path / "results.json")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_protocol_check_passes(live_server: LiveServer, tmp_path: Path) -> None:
    resources = one_resource_per_class(live_server)
    assert len(resources) >= 5, resources
    args = [
        "--base",
        live_server.url,
        "--public-base",
        BASE.rstrip("/"),
        "--sparql-path",
        "/sparql",
        "--void",
        "/.well-known/void",
        "--dcat",
        "/catalog",
        "--safe-updates",
    ]
    for path in [*resources, "/ontology", "/shapes", "/graph/source/asti-rete-antiviolenza"]:
        args += ["--resource", path]
    code, out = run_checker(args, tmp_path)
    last = out.strip().splitlines()[-1]
    failures = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert code == 0 and last.endswith(" 0 failed"), "\n".join(failures) or out[-3000:]


def test_w3c_dataset_tests_pass(tmp_path: Path) -> None:
    """With the W3C protocol data loaded as named graphs, the dataset tests (default-graph-uri,
    named-graph-uri, FROM) pass too."""
    names = {f"data{i}.nt": f"http://kasei.us/2009/09/sparql/data/data{i}.rdf" for i in (1, 2, 3)}
    trig = "".join(f"<{g}> {{\n{(W3C_DATA / f).read_text()}\n}}\n" for f, g in names.items())
    build = tmp_path / "build"
    write_release(build, trig)
    settings = Settings(build_dir=build, sparql_workers=1)
    server = start_server(settings, tmp_path / "uvicorn.log")
    try:
        code, out = run_checker(
            ["--base", server.url, "--sparql-path", "/sparql", "--dataset-tests", "--safe-updates"], tmp_path
        )
    finally:
        stop_server(server)
    failures = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert code == 0, "\n".join(failures) or out[-3000:]
    assert "PASS w3c:query_dataset_full" in out
