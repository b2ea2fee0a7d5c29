"""The application factory: `uvicorn --factory server.app:create_app`. Nothing happens at import time."""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response

from . import __version__, openapi
from .accesslog import AccessLog, configure_logging
from .backends.cache import ResponseCache
from .config import Settings
from .errors import MethodNotAllowed, NotFound, PublisherError, public
from .explorer import GROUPS, RELATIONS, shape_path
from .head import HeadAsGet
from .routes import dataset, ldes, pages, releases, resources, site, sparql, submissions
from .runtime import Runtime
from .security import SecurityMiddleware
from .urls import Urls
from .web import error_response, make_templates

STATIC_DIR = Path(__file__).resolve().parent / "static"
log = logging.getLogger("parita.errors")
EXPOSED = [
    "ETag",
    "Last-Modified",
    "Link",
    "Content-Location",
    "X-Parita-Truncated",
    "X-Parita-Row-Limit",
    "X-Parita-Rows",
    "Retry-After",
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Wire settings, runtime, routers, the one error handler and middleware into an app."""
    settings = settings or Settings.from_env()
    configure_logging()
    runtime = Runtime(settings, Urls(settings.base_uri))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        settle_heap()
        yield
        await runtime.stop()

    app = FastAPI(
        title="parita", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.runtime = runtime
    app.state.templates = make_templates(groups=GROUPS, relations=RELATIONS, shape_path=shape_path)  # the explorer's
    app.add_exception_handler(PublisherError, handle_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, handle_unexpected)  # a bug: logged, answered without details
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(resources.router)  # first: most requests are /id/ and /doc/, and no other route starts so
    for module in (sparql, dataset, pages, site, ldes, releases):
        app.include_router(module.router)
    if settings.submission_token:  # off by default: without a token the route does not exist
        app.include_router(submissions.router)
    app.include_router(openapi.router)  # /-/openapi.json: the public routes only
    app.include_router(resources.fallback)  # last: it answers every other path under the base
    # Outermost last. A cache hit is replayed right inside the access log: the stored answer already
    # carries the CORS and security headers those layers added, and its path already passed their checks.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=EXPOSED,
        max_age=86400,
    )
    app.add_middleware(SecurityMiddleware, settings=settings)  # limits, odd paths, security headers
    app.add_middleware(ResponseCache, runtime=runtime, max_bytes=settings.cache_mb * (3 << 20) // 4)
    app.add_middleware(HeadAsGet)  # HEAD = GET without the body, everywhere; logged as HEAD
    app.add_middleware(AccessLog, metrics=runtime.metrics)
    return app


def settle_heap() -> None:
    """Move what startup built (modules, templates, the release's look-up state) out of the garbage
    collector's generations: full collections walking it were the slow tail of every request (deref
    cold at scale 1, three runs: p99 53-65 ms before, 17-21 ms after). Nearly all of it lives as long as
    the process; what a later release switch retires is freed by reference counting, and only cycles
    among it stay (once per process: nothing is frozen after startup)."""
    gc.collect()
    gc.freeze()


async def handle_http_exception(request: Request, exc: StarletteHTTPException) -> Response:
    """Framework errors (unknown route, wrong method) get the same negotiated shape as ours."""
    if exc.status_code == 405:
        headers = dict(exc.headers or {})
        allowed = [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
        if "GET" in allowed and "HEAD" not in allowed:  # HEAD is served wherever GET is (server/head.py)
            headers["Allow"] = ", ".join([*allowed, "HEAD"])
        return await handle_error(
            request, MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.", headers=headers)
        )
    if exc.status_code == 404:
        return await handle_error(request, NotFound(f"Nothing is published at {request.url.path}."))
    err = PublisherError(str(exc.detail))
    err.status = exc.status_code
    return await handle_error(request, err)


async def handle_error(request: Request, exc: PublisherError) -> Response:
    """The one error handler: logs a server error, then answers through the one error renderer (web.py)."""
    if exc.status >= 500:
        if exc.status != 503:  # timeouts and busy refusals are in the access log already
            log.error(
                '{"event": "error", "status": %d, "path": %s, "error": %s}',
                exc.status,
                json.dumps(request.url.path),
                json.dumps(exc.message),
            )
        exc = public(exc)  # no file paths, hosts or internal state in a response
    return error_response(request, exc)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Any exception that is not ours is a bug: log its traceback, answer a plain 500 with no details."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return await handle_error(request, PublisherError("unexpected " + type(exc).__name__))
