"""Store backends behind one small interface, chosen by the `PARITA_STORE` setting.

- `memory` (default): each process loads the release's N-Quads dump into an in-memory pyoxigraph store;
  user SPARQL runs in worker processes that can be killed (`server/workers.py`).
- `disk`: the release's own on-disk pyoxigraph store, opened read-only by the web process and the workers
  (less memory, slower scans).
- `http(s)://…`: a remote SPARQL 1.1 query endpoint (Oxigraph server `…/query`, Virtuoso `…/sparql`) loaded
  by `parita publish` (`server/backends/remote.py`).

Both halves of the interface are the same for every backend: a `DataStore` (the server's own look-ups for
pages, documents, VoID and DCAT) and a `QueryRunner` (`run(job) -> Outcome` for user SPARQL).
"""

from __future__ import annotations

import logging

from ..config import Settings
from ..errors import PublisherError, StoreError
from ..release import Release
from ..store import DataStore, QueryRunner
from ..workers import QueryPool
from .cache import CachedRunner
from .remote import RemoteDataStore, RemoteRunner, SparqlClient, is_remote, published_release

log = logging.getLogger("parita.backends")
MODES = ("memory", "disk")


def check_spec(spec: str) -> str:
    """The store setting, validated: `memory`, `disk` or an http(s) URL."""
    if spec in MODES or is_remote(spec):
        return spec
    raise StoreError(f"PARITA_STORE must be 'memory', 'disk' or an http(s):// SPARQL endpoint URL, not {spec!r}.")


def remote_graphs(settings: Settings, release: Release) -> tuple[str | None, tuple[str, ...]]:
    """(published release id, graphs) from the store's control graph, else `release.json`'s graphs."""
    client = SparqlClient(settings.store, timeout=min(5.0, settings.sparql_timeout))
    try:
        published, graphs = published_release(client)
    except PublisherError as exc:
        log.warning('{"event": "store-unreachable", "store": "%s", "error": "%s"}', settings.store, exc.message)
        published, graphs = None, ()
    except Exception as exc:  # noqa: BLE001 - an odd answer must not stop the server from starting
        log.warning('{"event": "store-control-unreadable", "error": "%r"}', exc)
        published, graphs = None, ()
    finally:
        client.close()
    return published, graphs or tuple(sorted(release.graphs))


def open_backend(settings: Settings, release: Release, graphs: tuple[str, ...] = ()) -> tuple[DataStore, QueryRunner]:
    """The DataStore and QueryRunner for `settings.store` (blocking: call it from a thread)."""
    spec = check_spec(settings.store)
    query_cache_bytes = settings.cache_mb * (1 << 20) // 4  # the response cache has the other 3/4 (server/app.py)
    if is_remote(spec):
        graphs = graphs or tuple(sorted(release.graphs))
        client = SparqlClient(spec, timeout=settings.sparql_timeout, graphs=graphs)
        runner: QueryRunner = RemoteRunner(spec, graphs, timeout=settings.sparql_timeout)
        return RemoteDataStore(client), CachedRunner(runner, max_bytes=query_cache_bytes)
    data = DataStore(release.open_store(spec), order=spec)
    pool = QueryPool(
        release.path,
        size=settings.sparql_workers,
        timeout=settings.sparql_timeout,
        mode=spec,
        memory_mb=settings.sparql_worker_memory_mb,
        fast_lane=settings.sparql_fast_lane > 0,
        fast_timeout=settings.sparql_fast_lane,
        federation=bool(settings.service_allowlist.strip()),
    )
    return data, CachedRunner(pool, max_bytes=query_cache_bytes)
