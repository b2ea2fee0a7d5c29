"""`parita serve`: run the app under uvicorn on the configured host and port."""

from __future__ import annotations

import uvicorn

from .app import create_app
from .config import Settings


def serve(settings: Settings) -> None:
    """Serve the current release until interrupted (blocking)."""
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False,
                proxy_headers=True, log_level="info")
