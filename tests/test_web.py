"""The request layer (server/web.py): one release per request, and the error renderer's formats."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.requests import Request

from server.config import Settings
from server.errors import NotFound
from server.runtime import Runtime
from server.urls import Urls
from server.web import error_response, served_for


def request_to(app: FastAPI, accept: str = "*/*") -> Request:
    return Request({"type": "http", "app": app, "headers": [(b"accept", accept.encode())], "state": {}})


def test_a_request_reads_one_release_however_the_runtime_switches(tmp_path: Path) -> None:
    settings = Settings(build_dir=tmp_path)
    runtime = Runtime(settings, Urls(settings.base_uri))
    app = FastAPI()
    app.state.runtime = runtime
    first, second = object(), object()  # stand-ins: served_for only hands the runtime's release on
    runtime.served_, runtime._checked = first, time.monotonic()  # type: ignore[assignment]
    request = request_to(app)

    async def both() -> tuple[Any, Any, Any]:
        before = await served_for(request)
        runtime.served_ = second  # type: ignore[assignment]  # a build switched meanwhile
        return before, await served_for(request), await served_for(request_to(app))

    before, after, next_request = asyncio.run(both())
    assert before is first and after is first and next_request is second


@pytest.mark.parametrize(
    ("accept", "page", "media"),
    [
        ("application/json", True, "application/json"),
        ("text/html", False, "text/plain"),  # refused before routing: no page
        ("text/html", True, "text/plain"),  # no release to lay a page out with yet
        ("*/*", True, "text/plain"),
    ],
)
def test_the_error_renderer_answers_in_the_clients_format(accept: str, page: bool, media: str, tmp_path: Path) -> None:
    settings = Settings(build_dir=tmp_path)
    app = FastAPI()
    app.state.runtime = Runtime(settings, Urls(settings.base_uri))
    response = error_response(request_to(app, accept), NotFound("no such thing"), page=page)
    assert response.status_code == 404 and response.headers["content-type"].split(";")[0] == media
    assert b"no such thing" in response.body and response.headers["cache-control"] == "no-store"
