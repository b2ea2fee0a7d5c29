"""Settings, read once into a frozen object and passed explicitly (never read inside handlers)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URI = "https://w3id.org/parita/"
ENV_PREFIX = "PARITA_"



@dataclass(frozen=True)
class Settings:
    """Every setting, with its default; `PARITA_<NAME>` in the environment overrides it."""

    base_uri: str = field(default=DEFAULT_BASE_URI, metadata={"help": "Canonical base URI of every parita thing; data files are written against the default and rebased at build time."})
    ontology_dir: Path = field(default=PROJECT_ROOT / "ontology", metadata={"help": "Folder with the OWL ontology (*.ttl)."})
    data_dir: Path = field(default=PROJECT_ROOT / "data", metadata={"help": "Folder with the instance data, one file per source document."})
    shapes_dir: Path = field(default=PROJECT_ROOT / "shapes", metadata={"help": "Folder with the SHACL shapes (*-recommended.ttl hold warnings)."})
    build_dir: Path = field(default=PROJECT_ROOT / "build", metadata={"help": "Where releases are written; `current` points at the one being served."})
    host: str = field(default="127.0.0.1", metadata={"help": "Address `parita serve` listens on."})
    port: int = field(default=8000, metadata={"help": "Port `parita serve` listens on."})
    sparql_timeout: float = field(default=10.0, metadata={"help": "Seconds after which a SPARQL query is cancelled (its worker process is killed)."})
    sparql_row_limit: int = field(default=10000, metadata={"help": "Most result rows a SELECT returns; cut results say so in a header."})
    sparql_workers: int = field(default=2, metadata={"help": "Worker processes that run SPARQL queries, so a slow query never blocks the server."})
    license_uri: str = field(default="https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40", metadata={"help": "Licence of the data (OntoPiA licence URI; CC BY 4.0 by default)."})
    publisher_name: str = field(default="Editore non configurato (segnaposto) / Publisher not configured (placeholder)", metadata={"help": "Official name of the publishing body, for the DCAT catalog. The default is a placeholder."})
    publisher_ipa: str = field(default="", metadata={"help": "IPA code of the publishing body. Empty by default: parita never invents one."})
    submission_token: str = field(default="", metadata={"help": "Bearer token for POST /-/submissions/{publisher}; empty (the default) turns HTTP submission off."})
    submission_max_bytes: int = field(default=5_000_000, metadata={"help": "Largest submission body accepted over HTTP, in bytes; larger ones get 413."})
    contact_email: str = field(default="", metadata={"help": "E-mail of the equal-opportunity office, the catalog's contact point. Empty by default (placeholder)."})

    @property
    def current_release(self) -> Path:
        """The release being served: `build/current`, a symlink switched atomically by `parita build`."""
        return self.build_dir / "current"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> "Settings":
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
            default = default.relative_to(PROJECT_ROOT).as_posix() if default.is_relative_to(PROJECT_ROOT) else str(default)
        rows.append((ENV_PREFIX + f.name.upper(), str(default), f.metadata["help"]))
    return rows
