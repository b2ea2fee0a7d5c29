"""One SPARQL query run to the end inside a worker process: execute, cap, serialise to bytes.

The default graph is the union of all named graphs unless the request names a dataset
(`default-graph-uri` / `named-graph-uri` parameters, which override FROM / FROM NAMED, or FROM in the query).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pyoxigraph as ox

from .formats import BY_NAME, Format
from .results import write_boolean, write_rows, write_triples

#: Functions whose value changes between runs: such results get no validators and are never cached.
VOLATILE = re.compile(r"\b(NOW|RAND|UUID|STRUUID|BNODE)\s*\(", re.I)


@dataclass(frozen=True)
class Job:
    """What the web process asks a worker to do; plain data so it pickles cheaply."""

    query: str
    format: str
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    union_default: bool = True
    row_limit: int = 10000
    base_iri: str | None = None
    prefixes: tuple[tuple[str, str], ...] = ()
    #: (form, format name) for each form the client would accept: the worker answers in the one that fits
    #: the form the engine actually ran, whatever form the guard expected (`format` when empty).
    formats: tuple[tuple[str, str], ...] = ()
    federated: bool = False  # calls an allow-listed SERVICE: runs on the pool's federation worker


@dataclass(frozen=True)
class Outcome:
    """Serialised result (or an error kind and message) sent back to the web process."""

    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    error: str | None = None  # "syntax", "evaluation", "form", "memory", "store" or "internal"
    message: str = ""
    format: str = ""  # the format name the body is in


def run_job(store: ox.Store, job: Job) -> Outcome:
    """Execute `job` against `store`. Every exception becomes an error outcome: a worker never dies of a
    request (it would be restarted, and every other query in flight would wait)."""
    try:
        return _run(store, job)
    except SyntaxError as exc:
        return Outcome(error="syntax", message=str(exc))
    except MemoryError:
        return Outcome(error="memory", message="The query needed more memory than a SPARQL worker may use.")
    except OSError as exc:
        return Outcome(error="store", message=f"{type(exc).__name__}: {exc}")
    except (RuntimeError, ValueError, TypeError) as exc:
        return Outcome(error="evaluation", message=str(exc))
    except Exception as exc:  # noqa: BLE001 - anything else is a bug, answered as one instead of a crash
        return Outcome(error="internal", message=f"{type(exc).__name__}: {exc}")


_FORM_NAMES = {"SELECT": "a SELECT", "ASK": "an ASK", "CONSTRUCT": "a CONSTRUCT or DESCRIBE"}
_KINDS = {"SELECT": ("results",), "ASK": ("results",), "CONSTRUCT": ("graph", "dataset")}


def _format_for(job: Job, form: str) -> Format:
    """The format to answer a `form` query in, or FormMismatch when the client accepts none for it."""
    wanted = dict(job.formats)
    name = wanted.get(form, wanted.get("DESCRIBE") if form == "CONSTRUCT" else None) if wanted else job.format
    fmt = BY_NAME.get(name or "")
    if fmt is None or fmt.kind not in _KINDS[form] or (form == "ASK" and fmt.name not in ("json", "xml")):
        asked = BY_NAME[job.format].label if job.format in BY_NAME else job.format
        raise FormMismatch(
            f"The query is {_FORM_NAMES[form]} query, and {asked} cannot carry its result: "
            "ask for a format that fits it (`format=` or Accept)."
        )
    return fmt


class FormMismatch(Exception):
    """The requested format does not fit the query form the engine ran."""


def _dataset_kwargs(job: Job, store: ox.Store) -> dict[str, object]:
    if job.default_graphs is None and job.named_graphs is None:
        return {"use_default_graph_as_union": job.union_default}
    kwargs: dict[str, object] = {"default_graph": _graphs(job.default_graphs or (), store, job.base_iri)}
    kwargs["named_graphs"] = _graphs(job.named_graphs or (), store, job.base_iri)
    return kwargs


def _graphs(names: tuple[str, ...], store: ox.Store, base: str | None) -> list[ox.NamedNode]:
    """The named graphs a dataset IRI list means: `{base}graph/asserted` stands for every graph but the derived
    ones (`graph/entailed`, `graph/derived`, `graph/reconciled`; ontology/README.md), any other IRI for itself."""
    graphs: list[ox.NamedNode] = []
    for name in names:
        if base and name == f"{base}graph/asserted":
            derived = {f"{base}graph/{name}" for name in ("entailed", "derived", "reconciled")}
            graphs += sorted(
                (g for g in store.named_graphs() if isinstance(g, ox.NamedNode) and g.value not in derived), key=str
            )
        else:
            graphs.append(ox.NamedNode(name))
    return graphs


#: `SELECT *` (possibly DISTINCT/REDUCED): its columns follow the order the variables first appear in the query.
_SELECT_STAR = re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", re.I)


def _column_order(query: str, variables: list[str]) -> list[int]:
    """Indexes of `variables` in the order a person reads them in `query` (SELECT * has no order of its own,
    and the engine's is unrelated to the query); an explicit projection keeps the engine's order, which is it."""
    star = _SELECT_STAR.search(query)
    if star is None:
        return list(range(len(variables)))
    text = query[star.end() :]

    def first_use(i: int) -> int:
        found = re.search(r"[?$]" + re.escape(variables[i]) + r"\b", text)
        return found.start() if found else len(text)

    return sorted(range(len(variables)), key=first_use)


def _run(store: ox.Store, job: Job) -> Outcome:
    result = store.query(job.query, base_iri=job.base_iri, **_dataset_kwargs(job, store))  # type: ignore[arg-type]
    form = (
        "ASK"
        if isinstance(result, ox.QueryBoolean)
        else "SELECT"
        if isinstance(result, ox.QuerySolutions)
        else "CONSTRUCT"
    )
    try:
        fmt = _format_for(job, form)
    except FormMismatch as exc:
        return Outcome(error="form", message=str(exc))
    if isinstance(result, ox.QueryBoolean):
        return Outcome(body=write_boolean(bool(result), fmt), rows=1, format=fmt.name)
    if isinstance(result, ox.QuerySolutions):
        order = _column_order(job.query, [v.value for v in result.variables])
        variables = [result.variables[i].value for i in order]
        rows = [tuple(s[i] for i in order) for s in itertools.islice(result, job.row_limit + 1)]
        cut = len(rows) > job.row_limit
        rows = rows[: job.row_limit]
        return Outcome(body=write_rows(variables, rows, fmt), rows=len(rows), truncated=cut, format=fmt.name)
    triples = list(itertools.islice(result, job.row_limit + 1))
    cut = len(triples) > job.row_limit
    triples = triples[: job.row_limit]
    try:
        body = write_triples(triples, fmt, dict(job.prefixes))
    except OSError as exc:  # the serializer refuses what its syntax cannot say (triple terms in JSON-LD)
        return Outcome(
            error="form", message=f"{fmt.label} cannot carry this result ({exc}); ask for Turtle or N-Triples."
        )
    return Outcome(body=body, rows=len(triples), truncated=cut, format=fmt.name)
