"""The plain REST API, served by `verbatim serve` beside the Gradio app, for scripts and load balancers.

    POST /api/ask     {"question", "k", "history", "docs"} -> the JSON of `verbatim ask --json`
    GET  /api/docs    the indexed documents, as `verbatim docs --json` prints them (in a list)
    GET  /api/health  200 when the index answers (its generation and size), 503 when it cannot

The OpenAPI description is at /openapi.json and its page at /docs. Bad input gets a 4xx
whose `detail` is the message the CLI prints: 400 for a value the search refuses (an empty
question, text that is not UTF-8, k outside 1-50, an unknown document), 422 for a body of the
wrong shape or types (k must be a JSON integer; unknown fields are refused); 503 when the index
cannot be read (a database that does not answer, damaged index files). Body size, uploads and
security headers: app.web.guard.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import UsageError, VerbatimError, shown
from app.search.ranking import Filters
from app.web.render import answer_to_dict

if TYPE_CHECKING:
    from app.answer.engine import Engine

PREFIX = "/api"


class AskRequest(BaseModel):
    """A question, as `verbatim ask` takes it."""

    model_config = ConfigDict(strict=True, extra="forbid")  # k: true or "3" is refused, not read as a number

    question: str = Field(description="the question (1-1,000 characters)",
                          examples=["How many citizens were killed?"])
    k: int = Field(5, description="how many passages to return (1-50)")
    history: list[str] = Field(default_factory=list,
                               description="the conversation's earlier questions, oldest first (for follow-ups)")
    docs: list[str] = Field(default_factory=list, description="search only these document ids (empty: all)")


def _refused(exc: VerbatimError) -> JSONResponse:
    status = 400 if isinstance(exc, UsageError) else 503
    return JSONResponse({"detail": str(exc)}, status_code=status)


def api_router(engine: Engine) -> APIRouter:
    """The /api routes over one engine (the same one the Gradio app answers with)."""
    router = APIRouter(prefix=PREFIX, tags=["search"])

    @router.post("/ask", summary="Answer a question with verbatim, cited passages",
                 responses={400: {"description": "the question, k or a document id was refused"},
                            503: {"description": "the index cannot be read"}})
    def ask(request: AskRequest) -> Any:
        """The passages that answer the question, quoted exactly, with citations and highlights:
        the JSON `verbatim ask --json` prints (question, abstained, level, confidence,
        searched_as, answerable, passages)."""
        try:
            answer = engine.ask(request.question, request.k, request.history, Filters(frozenset(request.docs)))
        except VerbatimError as exc:
            return _refused(exc)
        return answer_to_dict(answer)

    @router.get("/docs", summary="The indexed documents")
    def documents() -> Any:
        """One object per document, as `verbatim docs --json` prints them: id, title, date,
        format, pages, passages, sha256 and the rest of its citation metadata, and its last
        self-check (`verbatim eval --self-check`; null when none was run since it last changed)."""
        try:
            manifest = engine.index.manifest
            kept = engine.store.self_checks()
        except VerbatimError as exc:
            return _refused(exc)
        return [{**asdict(doc), "passages": doc.chunks,
                 "self_check": check if (check := kept.get(doc.doc_id)) and check.get("sha256") == doc.sha256
                 else None} for doc in manifest.documents]

    @router.api_route("/health", methods=["GET", "HEAD"], summary="Whether this replica can answer",
                      responses={503: {"description": "the index cannot be read, or its files are damaged"}})
    def health() -> Any:
        """200 with the current generation and counts when the index (and its database) answers and
        its files are as verified at load; 503 with the reason otherwise (HEAD: the same status)."""
        try:
            index = engine.index
        except VerbatimError as exc:
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
        from app.store.multilingual import state as multilingual

        state = {"generation": index.manifest.generation, "store": engine.store.location,
                 "documents": len(index.manifest.documents), "passages": len(index.chunks),
                 "multilingual": multilingual(index.manifest)}
        if engine.damage is not None:  # still answering from the verified copy in memory
            detail = f"{engine.damage} (answers come from the copy verified at load, held in memory)"
            return JSONResponse({"status": "damaged", "detail": detail, **state}, status_code=503)
        return {"status": "ok", **state}

    return router


_SHAPE = 'send a JSON object in UTF-8, for example {"question": "How many vehicles were burned?", "k": 5}'


def _field_errors(exc: RequestValidationError) -> str:
    """Pydantic's errors as one line: which field, what was wrong, what was given."""
    parts = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":  # loc is ("body", character position)
            position = next((part for part in error.get("loc", ()) if isinstance(part, int)), None)
            at = f" at character {position}" if position is not None else ""
            parts.append(f"the request body is not valid JSON{at} ({error.get('ctx', {}).get('error', 'invalid')}); "
                         + _SHAPE)
            continue
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "the request body"
        given = f"; got {shown(error['input'])}" if "input" in error and error.get("type") != "missing" else ""
        parts.append(f"{where}: {error.get('msg', 'invalid')}{given}"[:300])
    return "; ".join(parts)


def add_api(server: FastAPI, engine: Engine) -> None:
    """Mount the REST routes on `server`; malformed bodies get one readable 422 message."""
    server.include_router(api_router(engine))

    async def malformed(request: Request, exc: Exception) -> JSONResponse:
        message = _field_errors(exc) if isinstance(exc, RequestValidationError) else str(exc)
        return JSONResponse({"detail": message}, status_code=422)

    server.add_exception_handler(RequestValidationError, malformed)

    async def unreadable(request: Request, exc: Exception) -> Response:
        """FastAPI's own 4xx (a body it cannot decode is "There was an error parsing the body"): said
        in the API's words for /api/ routes, left as it is elsewhere."""
        from fastapi.exception_handlers import http_exception_handler

        if request.url.path.startswith("/api/") and getattr(exc, "status_code", None) == 400:
            return JSONResponse({"detail": f"the request body could not be read as UTF-8 JSON; {_SHAPE}"},
                                status_code=400)
        return await http_exception_handler(request, exc)  # type: ignore[arg-type]

    server.add_exception_handler(StarletteHTTPException, unreadable)

    async def failed(request: Request, exc: Exception) -> JSONResponse:
        """An exception no route handled: a 500 naming an id; app.web.guard logs it under that id."""
        request.state.failure_id = failure_id = uuid.uuid4().hex[:12]
        return JSONResponse({"detail": f"the server failed on this request (id {failure_id}); the failure is "
                                       "logged, and other requests are not affected"}, status_code=500)

    server.add_exception_handler(Exception, failed)
