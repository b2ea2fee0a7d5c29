"""Settings, read once into a frozen object and passed explicitly (never read inside handlers)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URI = "https://w3id.org/parita/"
ENV_PREFIX = "PARITA_"
PLACEHOLDER_PUBLISHER_NAME = "Editore non configurato (segnaposto) / Publisher not configured (placeholder)"


@dataclass(frozen=True)
class Settings:
    """Every setting, with its default; `PARITA_<NAME>` in the environment overrides it."""

    base_uri: str = field(
        default=DEFAULT_BASE_URI,
        metadata={
            "help": "Canonical base URI of every parita thing; data files are written against the default and rebased at build time."
        },
    )
    ontology_dir: Path = field(
        default=PROJECT_ROOT / "ontology", metadata={"help": "Folder with the OWL ontology (*.ttl)."}
    )
    data_dir: Path = field(
        default=PROJECT_ROOT / "data", metadata={"help": "Folder with the instance data, one file per source document."}
    )
    shapes_dir: Path = field(
        default=PROJECT_ROOT / "shapes",
        metadata={"help": "Folder with the SHACL shapes (*-recommended.ttl hold warnings)."},
    )
    build_dir: Path = field(
        default=PROJECT_ROOT / "build",
        metadata={"help": "Where releases are written; `current` points at the one being served."},
    )
    validation_engine: str = field(
        default="parita",
        metadata={
            "help": "SHACL engine of validate, build and ingest: `parita` (scripts/shacl_engine.py, fast; shapes it cannot evaluate go to pySHACL, said on stderr) or `pyshacl`, the reference it is tested against."
        },
    )
    keep_releases: int = field(
        default=5,
        metadata={
            "help": "Releases kept in the build folder (and at /releases); older ones are removed, except the current one and the ones it was rolled back from and onto."
        },
    )
    host: str = field(default="127.0.0.1", metadata={"help": "Address `parita serve` listens on."})
    port: int = field(default=8000, metadata={"help": "Port `parita serve` listens on."})
    sparql_timeout: float = field(
        default=10.0,
        metadata={"help": "Seconds after which a SPARQL query is cancelled (its worker process is killed)."},
    )
    sparql_row_limit: int = field(
        default=10000, metadata={"help": "Most result rows a SELECT returns; cut results say so in a header."}
    )
    cache_mb: int = field(
        default=64,
        metadata={
            "help": "Memory for the caches of negotiated responses (3/4) and SPARQL results (1/4), in MB per server process; releases are immutable, so cached answers are exact. 0 turns both off."
        },
    )
    sparql_workers: int = field(
        default=2,
        metadata={"help": "Worker processes that run SPARQL queries, so a slow query never blocks the server."},
    )
    store: str = field(
        default="memory",
        metadata={
            "help": "Where the served data lives: `memory` (each process loads the release's dump), `disk` (the release's on-disk store, opened read-only: less memory, slower scans) or the SPARQL query URL of a remote store loaded by `parita publish` (Oxigraph server `http://HOST:PORT/query`, Virtuoso `http://HOST:PORT/sparql`)."
        },
    )
    store_update: str = field(
        default="",
        metadata={
            "help": "SPARQL Update URL `parita publish` writes to; empty derives it from the query URL (`/query` -> `/update`, `/sparql` -> `/sparql-auth`)."
        },
    )
    store_user: str = field(
        default="",
        metadata={
            "help": "User for the remote store's update endpoint (HTTP digest authentication, as Virtuoso's `/sparql-auth` wants); empty sends none."
        },
    )
    store_password: str = field(
        default="",
        metadata={"help": "Password of `PARITA_STORE_USER`; set it in the environment, never on a command line."},
    )
    license_uri: str = field(
        default="https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40",
        metadata={"help": "Licence of the data (OntoPiA licence URI; CC BY 4.0 by default)."},
    )
    publisher_name: str = field(
        default=PLACEHOLDER_PUBLISHER_NAME,
        metadata={
            "help": "Official name of the publishing body (as in IPA), for the DCAT-AP_IT catalog. The default is a placeholder: until this, PARITA_PUBLISHER_IPA and PARITA_CONTACT_EMAIL are set, dati.gov.it cannot harvest the catalog."
        },
    )
    publisher_ipa: str = field(
        default="", metadata={"help": "IPA code of the publishing body. Empty by default: parita never invents one."}
    )
    submission_token: str = field(
        default="",
        metadata={
            "help": "Bearer token for POST /-/submissions/{publisher}; empty (the default) turns HTTP submission off."
        },
    )
    submission_timeout: float = field(
        default=300.0,
        metadata={
            "help": "Seconds a submission over HTTP may take to check and publish (it runs in a process of its own); a slower one is stopped and gets 503, and nothing is published."
        },
    )
    submission_max_bytes: int = field(
        default=5_000_000,
        metadata={"help": "Largest submission body accepted over HTTP, in bytes; larger ones get 413."},
    )
    max_body_bytes: int = field(
        default=1_000_000,
        metadata={
            "help": "Largest request body accepted (a SPARQL POST, its query text included), in bytes; larger ones get 413. Submissions use PARITA_SUBMISSION_MAX_BYTES."
        },
    )
    request_timeout: float = field(
        default=10.0,
        metadata={
            "help": "Seconds a client has to send its request line and headers, and then its body; a slower client is disconnected (headers) or gets 408 (body)."
        },
    )
    sparql_max_pending: int = field(
        default=256,
        metadata={
            "help": "SPARQL queries admitted at once (running or waiting for a worker); more get 503 with Retry-After at once."
        },
    )
    max_connections: int = field(
        default=4096,
        metadata={"help": "Most concurrent connections and requests `parita serve` accepts; more get 503."},
    )
    sparql_worker_memory_mb: int = field(
        default=1024,
        metadata={
            "help": "Memory a SPARQL worker may use for one query, in MB beyond the release it loaded; a query that needs more gets 503 and the worker is replaced. 0 removes the cap."
        },
    )
    sparql_fast_lane: float = field(
        default=1.0,
        metadata={
            "help": "Seconds a query may run in the fast-lane worker, the one extra worker that answers while the others are busy with slow queries; one that overruns waits for a regular worker instead. 0 turns the fast lane off."
        },
    )
    sparql_per_client: int = field(
        default=4,
        metadata={
            "help": "SPARQL queries one client (IP address) may have running or waiting at once; more get 429 with Retry-After."
        },
    )
    max_client_connections: int = field(
        default=256,
        metadata={
            "help": "Most connections one peer address may hold open at once under `parita serve`; more are closed at once. Behind a reverse proxy on the same host every client is that proxy: raise it or set 0 (no cap) and limit clients in the proxy."
        },
    )
    first_byte_timeout: float = field(
        default=3.0,
        metadata={
            "help": "Seconds a new connection has to send the first byte of its request under `parita serve`; an idle one is closed."
        },
    )
    service_allowlist: str = field(
        default="",
        metadata={
            "help": "SPARQL endpoint IRIs that SERVICE may call, separated by spaces (federation with named endpoints only); empty (the default) refuses every SERVICE."
        },
    )
    contact_email: str = field(
        default="",
        metadata={
            "help": "E-mail of the equal-opportunity office, the catalog's contact point. Empty by default (placeholder)."
        },
    )

    ldes_retention_days: int = field(
        default=0,
        metadata={
            "help": "Days of history the event stream at /ldes keeps (older releases' pages are dropped at the next build, and the stream declares an ldes:DurationAgoPolicy); 0 (the default) keeps every version."
        },
    )

    harvest_max_bytes: int = field(
        default=200_000_000,
        metadata={
            "help": "`parita harvest`: largest answer (catalog, dump, LDES page) accepted from a source, in bytes, after decompression; a larger one refuses the source."
        },
    )
    harvest_timeout: float = field(
        default=30.0,
        metadata={
            "help": "`parita harvest`: seconds one request to a source may take, whole answer included; a slower one refuses the source."
        },
    )
    harvest_max_requests: int = field(
        default=10000,
        metadata={
            "help": "`parita harvest`: most requests one source may cost in one harvest (catalog, dump, LDES pages, redirects)."
        },
    )
    harvest_ca_bundle: str = field(
        default="",
        metadata={
            "help": "`parita harvest`: a PEM file of certificate authorities an https source may also be signed by (an administration's private PKI), trusted besides the public ones (certifi's bundle); empty (the default): the public ones only."
        },
    )

    @property
    def current_release(self) -> Path:
        """The release being served: `build/current`, a symlink switched atomically by `parita build`."""
        return self.build_dir / "current"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `PARITA_*` variables, then explicit overrides."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _coerce(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        if not settings.base_uri.endswith(("/", "#")):
            settings = replace(settings, base_uri=settings.base_uri + "/")
        return settings


def settings_env(settings: Settings) -> dict[str, str]:
    """`settings` as `PARITA_*` variables: what a child process needs to see the same settings."""
    return {ENV_PREFIX + f.name.upper(): str(getattr(settings, f.name)) for f in fields(settings)}


def _coerce(type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    if "Path" in kind:
        return Path(raw)
    if "int" in kind:
        return int(raw)
    if "float" in kind:
        return float(raw)
    return raw


def settings_help() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting: the README table is checked against it."""
    rows = []
    for f in fields(Settings):
        default = f.default
        if isinstance(default, Path):
            default = (
                default.relative_to(PROJECT_ROOT).as_posix() if default.is_relative_to(PROJECT_ROOT) else str(default)
            )
        rows.append((ENV_PREFIX + f.name.upper(), str(default), f.metadata["help"]))
    return rows
