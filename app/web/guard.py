"""What the server accepts and what every response carries: one ASGI layer around the whole app
(the REST API, the reader view and Gradio's own routes alike).

- **No uploads.** The app has no upload feature, so Gradio's upload routes answer 403 (before this,
  anyone could store files of any size on the server and have them served back).
- **Bodies capped** before the app reads them: 64 KiB for the REST API (a question, its history and
  document ids fit a few KiB), 2 MiB for the web page's own calls (the chat sends its conversation
  back with each question: about 200 replies). Larger: 413 with the limit, whether the size is
  declared (Content-Length) or only counted as the body streams in.
- **Headers on every response:** a Content-Security-Policy that lets the page load, connect to and
  frame nothing but this server, `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, no
  referrer. Gradio's page needs inline scripts and styles and `eval` for its event handlers; all of
  them come from this server.
- **A failure stays one request's.** An exception the app did not handle becomes a 500 naming a
  request id; the log gets one line per failed request, and the traceback once per distinct place
  of failure, instead of ~90 lines a request.
"""

from __future__ import annotations

import json
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_BODY_LIMIT = 64 * 1024  # bytes, for /api/...
PAGE_BODY_LIMIT = 2 * 1024 * 1024  # bytes, for the page's own calls (Gradio's queue)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_OURS = {name for name, _ in SECURITY_HEADERS}
LOG = logging.getLogger("verbatim.serve")


def is_upload(path: str) -> bool:
    """Gradio's upload routes (`/gradio_api/upload`, `/upload`, `/gradio_api/upload_progress`)."""
    return path.rstrip("/").rsplit("/", 1)[-1] in ("upload", "upload_progress")


def body_limit(path: str) -> int:
    return API_BODY_LIMIT if path.startswith("/api/") else PAGE_BODY_LIMIT


async def send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """The ASGI layer described above, around `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._seen_failures: set[tuple[str, str, int]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS]
                message = {**message, "headers": kept + SECURITY_HEADERS}
            await send(message)

        path = scope.get("path", "")
        if is_upload(path):
            await send_json(send_with_headers, 403, "this server takes no uploads: the app has no upload feature")
            return
        if scope.get("method") in ("POST", "PUT", "PATCH"):
            body = await self._read_body(scope, receive, send_with_headers)
            if body is None:
                return
            receive = _replay(body, receive)
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # the app's own handlers answered what they could; this is the rest
            request_id = scope.get("state", {}).get("failure_id") or uuid.uuid4().hex[:12]
            self.log_failure(request_id, scope, exc)
            if not started:
                await send_json(send_with_headers, 500, f"the server failed on this request (id {request_id}); "
                                "the failure is logged, and other requests are not affected")

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole request body, or None after answering 413 (or when the client went away)."""
        limit = body_limit(scope.get("path", ""))
        declared = dict(scope.get("headers", [])).get(b"content-length")
        refusal = (f"the request body is over this route's limit of {limit // 1024:,} KiB; "
                   "send a shorter question, history or document list")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, refusal)
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_json(send, 413, refusal)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def log_failure(self, request_id: str, scope: Scope, exc: BaseException) -> None:
        """One line a failed request; the traceback the first time a failure comes from its place."""
        frames = traceback.extract_tb(exc.__traceback__)
        place = (type(exc).__name__, frames[-1].filename if frames else "", frames[-1].lineno or 0 if frames else 0)
        LOG.error("request %s failed: %s %s: %s: %s", request_id, scope.get("method"), scope.get("path"),
                  type(exc).__name__, str(exc)[:200])
        if place not in self._seen_failures:
            self._seen_failures.add(place)
            LOG.error("first failure of this kind (request %s):\n%s", request_id,
                      "".join(traceback.format_exception(exc)).rstrip())


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the already-read body once, then defers to the client's (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
