"""`POST /-/submissions/{publisher}`: the `parita ingest` pipeline over HTTP, off unless a token is set.

Authentication: `Authorization: Bearer <token>`, compared with `hmac.compare_digest` against the
`submission_token` setting; with no token configured the route answers 404. The body (multipart,
field `files`, one or more CSV/RDF files) is cut off at `submission_max_bytes` (413). The report
is JSON, HTML or Turtle (sh:ValidationReport) by Accept; 201 when a release was published, 422
when refused. `?dry_run=true` runs every check and publishes nothing (`parita ingest --dry-run`): 200 when
the files would be accepted. It never touches the served store: a release is a new folder switched to atomically.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import sys
import tempfile
from pathlib import Path

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from ..config import PROJECT_ROOT, Settings, settings_env
from ..errors import BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable, StoreError, Unauthorized
from ..formats import REPORT_FORMATS, content_type
from ..negotiation import negotiate_or_first
from ..web import runtime

router = APIRouter()
MAX_FILES = 20


@router.post("/-/submissions/{publisher}")
async def submit(request: Request, publisher: str, dry_run: bool = False) -> Response:
    settings = runtime(request).settings
    if not settings.submission_token:  # `create_app` leaves the route out then; this guards any other wiring
        raise NotFound("Submissions over HTTP are off: set PARITA_SUBMISSION_TOKEN to turn them on.")
    _authenticate(request, settings.submission_token)
    files = await _read_uploads(request, settings.submission_max_bytes)
    kind, media_type = _report_format(request.headers.get("accept"))
    body, ok = await _ingest_elsewhere(settings, publisher, files, kind, dry_run)
    status = (200 if dry_run else 201) if ok else 422
    return Response(body, status_code=status, media_type=media_type, headers={"Vary": "Accept"})


async def _ingest_elsewhere(
    settings: Settings, publisher: str, files: list[tuple[str, bytes]], kind: str, dry_run: bool = False
) -> tuple[bytes, bool]:
    """`parita ingest` in a process of its own, so that validating a large submission neither blocks this
    process's event loop nor takes its memory; stopped after `submission_timeout` seconds."""
    with tempfile.TemporaryDirectory(prefix="parita-submission-") as folder:
        paths = []
        for i, (name, data) in enumerate(files):
            safe = Path(name).name or f"file-{i}"  # the template is chosen by the file name, never its path
            if safe.startswith("."):
                raise BadRequest(f"File name {name!r} is not accepted: name it as in data/templates/.")
            path = Path(folder) / safe
            path.write_bytes(data)
            paths.append(str(path))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARITA_")} | settings_env(settings)
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "scripts.ingest",
            "--quiet",
            "--publisher",
            publisher,
            "--format",
            kind,
            *(["--dry-run"] if dry_run else []),
            "--",
            *paths,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(child.communicate(), settings.submission_timeout)
        except TimeoutError:
            child.kill()
            await child.wait()
            raise ServiceUnavailable(
                f"Checking the submission took longer than {settings.submission_timeout:g} s; "
                "nothing was published. Send smaller files.",
                headers={"Retry-After": "60"},
            ) from None
    if child.returncode not in (0, 1):
        raise StoreError(f"The ingest process failed ({child.returncode}): {err.decode(errors='replace')[-500:]}")
    return out, child.returncode == 0


def _authenticate(request: Request, token: str) -> None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Unauthorized(
            "A valid `Authorization: Bearer <token>` header is required.", headers={"WWW-Authenticate": "Bearer"}
        )


async def _read_uploads(request: Request, limit: int) -> list[tuple[str, bytes]]:
    """The multipart files, refusing a body over `limit` bytes before it is parsed."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The submission is larger than {limit} bytes.")
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The submission is larger than {limit} bytes.")
        chunks.append(chunk)
    request._body = b"".join(chunks)  # starlette re-reads a consumed stream from _body
    form = await request.form(max_files=MAX_FILES, max_part_size=limit)
    try:
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise BadRequest(
                "Send one or more files in the multipart field `files` (CSV named as in data/templates/, or RDF)."
            )
        return [(f.filename or "file", await f.read()) for f in files]
    finally:
        await form.close()  # the spooled temporary files behind each part


def _report_format(accept: str | None) -> tuple[str, str]:
    """The report's format (by content negotiation; JSON by default) and its Content-Type."""
    fmt = negotiate_or_first(accept, REPORT_FORMATS)
    return fmt.name, content_type(fmt)
