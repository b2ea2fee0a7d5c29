"""`parita bench --harvest-only`: the harvest row. A source instance serves synthetic data of one scale
under its own loopback base URI; an aggregator (the project's data) harvests its LDES in full, then again
after a one-entity change at the source. Also: the throughput of LDES pages against entity documents on
the same server (sequential GETs on one connection, so the figures compare the two, not the machine).
"""

from __future__ import annotations

import itertools
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from scripts.build import build
from scripts.harvest import Source, SourcesFile, harvest
from server.config import PROJECT_ROOT, Settings
from tools.processes import free_port, start_parita, stop_group

THROUGHPUT_SECONDS = 5.0
#: The phases a harvest summary times (scripts/harvest.harvest_source), in order.
PHASES = ("fetch", "check", "reconcile", "write", "build")


def _one_harvest(settings: Settings, sources: SourcesFile) -> dict[str, Any]:
    """`parita harvest` of the one source: its state read, the source harvested, the state saved. The summary
    gets the build's progress messages, each with the seconds since the one before (`build_steps`)."""
    said: list[tuple[float, str]] = []
    started = time.perf_counter()
    (summary,) = harvest(settings, sources, progress=lambda message: said.append((time.perf_counter(), message)))
    summary["seconds"] = time.perf_counter() - started
    summary["build_steps"] = [(at - before, message) for (before, _), (at, message) in itertools.pairwise(said)]
    if summary["status"] != "ok":
        raise RuntimeError(f"the harvest did not publish: {summary}")
    return summary


def _throughput(client: httpx.Client, urls: list[str], accept: str) -> tuple[float, float]:
    """(requests/s, MB/s) of sequential GETs cycling over `urls` for THROUGHPUT_SECONDS."""
    count, size, started = 0, 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < THROUGHPUT_SECONDS:
        answer = client.get(urls[count % len(urls)], headers={"Accept": accept})
        answer.raise_for_status()
        count, size = count + 1, size + len(answer.content)
    return count / elapsed, size / elapsed / 1e6


def harvest_bench(scale: float, folder: Path, say: Callable[[str], None]) -> list[str]:
    """Markdown lines of the harvest section for one scale."""
    from tools.synth import change_one_graph, synthesize

    data = folder / "source-data"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    synthesize(scale, data, Settings.from_env())
    port = free_port()
    source_settings = Settings(build_dir=folder / "source", data_dir=data, base_uri=f"http://127.0.0.1:{port}/")
    say(f"harvest, scale {scale:g}: building the source")
    build(source_settings)
    aggregator = Settings(build_dir=folder / "aggregator", data_dir=PROJECT_ROOT / "data")
    build(aggregator)
    env = {"PARITA_BUILD_DIR": str(source_settings.build_dir), "PARITA_BASE_URI": source_settings.base_uri}
    server = start_parita(env, folder / "source.log", how="uvicorn", port=port, limit=300.0)
    try:
        sources = SourcesFile(
            (Source("synthetic", (source_settings.base_uri,), ldes=f"{server.url}/ldes", name="Fonte sintetica"),),
            ("https://w3id.org/italia/",),
        )
        say(f"harvest, scale {scale:g}: full harvest")
        full = _one_harvest(aggregator, sources)
        change_one_graph(data)
        release = build(source_settings)
        with httpx.Client(timeout=60) as client:
            deadline = time.monotonic() + 60
            while client.get(server.url + "/health").json()["release"] != release.name:
                if time.monotonic() > deadline:
                    raise RuntimeError("the source did not serve its new release within 60 s")
                time.sleep(0.1)
            say(f"harvest, scale {scale:g}: incremental harvest")
            incremental = _one_harvest(aggregator, sources)
            view = client.get(server.url + "/ldes", headers={"Accept": "application/n-triples"}).text
            pages = [line.split()[2][1:-1] for line in view.splitlines() if "<https://w3id.org/tree#node>" in line]
            things = [server.url + "/doc/" + t.split("/id/", 1)[1] for t in _things(client, server.url)]
            page_rate = _throughput(client, pages, "application/n-triples")
            doc_rate = _throughput(client, random.Random(1).sample(things, min(200, len(things))), "text/turtle")
    finally:
        stop_group(server.process)
    ratio_time = incremental["seconds"] / full["seconds"]
    ratio_bytes = incremental["bytes"] / full["bytes"]
    ratio_fetch = incremental["fetch_seconds"] / full["fetch_seconds"]

    def row(name: str, s: dict[str, Any]) -> str:
        phases = [s["phases"].get(p, 0.0) for p in PHASES]
        return (
            f"| {name} | {s['seconds']:.2f} | "
            + " | ".join(f"{x:.2f}" for x in phases)
            + f" | {s['seconds'] - sum(phases):.2f} | {s['requests']} | {s['bytes']:,} | {s['members_applied']:,} | "
            f"{s['triples']:,} |"
        )

    build_share = incremental["phases"].get("build", 0.0) / incremental["seconds"]
    return [
        f"Scale {scale:g}: a source instance serving synthetic data under its own base URI, harvested through "
        "its LDES by an aggregator holding the project's data; then one entity changed at the source, rebuilt, "
        "harvested again. Each harvest is `parita harvest` of that source: its state read and saved, and the "
        "aggregator's release built (validation, store, dumps).",
        "",
        "Phases (seconds): fetch + apply: the requests, parsing, and the versions applied to the source's entities "
        "(build/harvest/ID.entities.sqlite); check: the contribution lines of the entities whose versions were "
        "applied (all of them the first time) made and checked; reconcile: those entities' bodies matched with the "
        "published ones (looked up in the release's store), graph/reconciled; write: the contribution file (the "
        "entities' lines joined in IRI order); build: the aggregator's release; state + rest: the harvest state "
        "read and saved, the rest.",
        "",
        "| harvest | seconds in all | fetch + apply | check | reconcile | write | build | state + rest | requests | "
        "bytes | members applied | triples |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        row("full", full),
        row("incremental (one entity changed)", incremental),
        "",
        f"- incremental ÷ full: {ratio_bytes:.5f}× the bytes, {ratio_fetch:.3f}× the fetch + apply time, "
        f"{ratio_time:.3f}× the time in all (target ≤ 0.05×: bytes {_met(ratio_bytes)}, fetch + apply "
        f"{_met(ratio_fetch)}, in all {_met(ratio_time)}); the aggregator's build is {build_share:.0%} of the "
        "incremental harvest",
        "- the aggregator's build in the incremental harvest, step by step (seconds before each of its progress "
        "messages, from the first): "
        + "; ".join(f"{seconds:.2f} «{message}»" for seconds, message in incremental["build_steps"]),
        f"- LDES pages ({len(pages)}, N-Triples): {page_rate[0]:.1f} req/s, {page_rate[1]:.1f} MB/s; entity documents "
        f"(Turtle): {doc_rate[0]:.1f} req/s, {doc_rate[1]:.2f} MB/s; page ÷ document: {page_rate[0] / doc_rate[0]:.3f}× "
        f"the requests, {page_rate[1] / doc_rate[1]:.1f}× the bytes per second (sequential, one connection, "
        f"{THROUGHPUT_SECONDS:g} s each, cycling over the URLs: one asked again is answered from memory)",
    ]


def _met(ratio: float) -> str:
    return "met" if ratio <= 0.05 else "missed"


def _things(client: httpx.Client, url: str) -> list[str]:
    query = "SELECT DISTINCT ?s WHERE { ?s a ?c FILTER(CONTAINS(STR(?s), '/id/organization/')) } LIMIT 2000"
    answer = client.post(url + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    answer.raise_for_status()
    return [row["s"]["value"] for row in answer.json()["results"]["bindings"]]
