"""HEAD wherever GET is: the GET answer with its status and headers, without the body (RFC 9110 §9.3.2).

FastAPI routes declared with `@router.get` answer only GET, so link checkers and uptime monitors that
send HEAD got 404/405 on pages that exist. This middleware runs HEAD as GET and drops the body on the
way out; Content-Length stays the GET body's length, as the RFC allows.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: a HEAD request is served by the GET handler, its body discarded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the client gets one empty final body message
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
