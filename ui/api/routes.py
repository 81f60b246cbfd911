"""The HTTP API served beside the page: /api/ask, /api/documents, offline /docs, and (ui/api/openai_routes.py) /v1.

Errors are JSON (ui/api/errors.py), the shape OpenAI clients read. Off loopback every route needs --auth.
"""

from __future__ import annotations

import base64
import hmac
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field

from bot.chats.store import LOCAL_USER, Saving
from bot.errors import EmptyQuestion
from ui.api.errors import ApiError, JsonErrorRoute

Credentials = tuple[str, str] | list[tuple[str, str]] | None  # the users of --auth
DOCS_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")


def check_auth(credentials: Credentials) -> Callable[[Request], None]:
    """A dependency: with users set, require `Authorization: Bearer <password>` (or `user:password`), HTTP Basic
    user:password, or the page's login (Gradio's session cookie, so the page's document viewer can read the
    documents); `request.state.user` is then who it is (LOCAL_USER without auth)."""
    users = [credentials] if isinstance(credentials, tuple) else list(credentials or [])

    def check(request: Request) -> None:
        request.state.user = _authenticated(request, users) if users else LOCAL_USER

    return check


def _authenticated(request: Request, users: list[tuple[str, str]]) -> str:
    """The user the request is from, by page login, bearer or basic credentials; 401 for anyone else."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    offered = value.strip()
    if scheme.lower() == "basic":
        try:
            offered = base64.b64decode(offered).decode("utf-8")
        except ValueError:
            offered = ""
    page = _page_user(request)
    if page in {user for user, _ in users}:
        return str(page)
    kind = scheme.lower()
    for user, password in users:
        if kind in ("bearer", "basic") and _same(offered, f"{user}:{password}"):
            return user
    for user, password in users:  # a bare password after: "user:password" names the user when two share one
        if kind == "bearer" and _same(offered, password):
            return user
    raise ApiError(401, "Authentication required: send Authorization: Bearer <password>, or HTTP Basic "
                   "user:password (the server's --auth)", "authentication_error")  # fmt: skip


def _page_user(request: Request) -> str | None:
    """The user whose page login (session cookie) the request carries, if any."""
    app = request.app
    cookie_id, tokens = getattr(app, "cookie_id", None), getattr(app, "tokens", None) or {}
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
        f"access-token-unsecure-{cookie_id}"
    )
    return tokens.get(token) if cookie_id is not None and token is not None else None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class AskRequest(BaseModel):
    question: str = Field(description="the question")
    history: list[tuple[str, str]] = Field(default=[], description="earlier [question, answer] pairs, oldest first")
    conversation: str | None = Field(
        default=None,
        description='a saved conversation to append this turn to, its turns the history ("new" starts one)',
    )


def api_router(
    bot: Any, library: Any, *, credentials: Credentials, max_upload_mb: int, saving: Saving | None = None
) -> APIRouter:
    """The /api routes and /docs; `bot` answers, `library` manages the documents, `saving` keeps conversations."""
    from ui.api.conversation_routes import add_conversation_routes, answer_in_conversation
    from ui.api.openai_routes import add_openai_routes
    from ui.api.viewer_routes import add_viewer_routes

    saving = saving or Saving(None, "Conversations are not saved by this server.")
    router = APIRouter(route_class=JsonErrorRoute, dependencies=[Depends(check_auth(credentials))])

    @router.post("/api/ask", tags=["citebot"], summary="Answer a question with cited quotes")
    def ask(request: Request, body: AskRequest) -> dict[str, Any]:
        """Answer.to_dict(): answer text with [n] markers, citations (quote, offsets, page, location), passages; with
        `conversation`, also its id (`not_saved` says why when the turn could not be saved)."""
        try:
            if body.conversation is not None:
                return answer_in_conversation(bot, saving, request.state.user, body.question, body.conversation)
            return dict(bot.answer(body.question, list(body.history)).to_dict())
        except EmptyQuestion as exc:
            raise ApiError(400, str(exc)) from None

    @router.get("/api/documents", tags=["documents"], summary="List the indexed documents")
    def documents() -> dict[str, Any]:
        return {"documents": [d.to_dict() for d in library.documents()]}

    @router.post("/api/documents", tags=["documents"], summary="Add or replace documents (multipart, field files)")
    def upload(request: Request, files: list[UploadFile] = File(...)) -> dict[str, Any]:  # noqa: B008
        return add_uploads(library, files, request.headers.get("content-length"), max_upload_mb)

    @router.delete("/api/documents/{name:path}", tags=["documents"], summary="Remove a document")
    def remove(name: str) -> dict[str, Any]:
        library.remove(name)
        return {"removed": name}

    add_openai_routes(router, bot)
    add_conversation_routes(router, saving)
    add_viewer_routes(router, library)
    add_docs_routes(router)
    return router


def add_uploads(library: Any, files: list[UploadFile], length: str | None, max_upload_mb: int) -> dict[str, Any]:
    """Check sizes, then store and index the files as the page does; 413 when one is too large."""
    limit = max_upload_mb * 2**20
    if length and length.isdigit() and int(length) > limit * len(files) + 2**20:
        raise ApiError(413, f"The upload is over the {max_upload_mb} MB limit per file", "too_large")
    with tempfile.TemporaryDirectory(prefix="citebot-upload-") as tmp:
        batch = [_received(f, Path(tmp) / f"{i}", max_upload_mb) for i, f in enumerate(files)]
        report = library.add(batch)
    if report.rejected and not (report.saved or report.replaced):
        raise ApiError(400, "; ".join(report.rejected))
    return {"saved": report.saved, "replaced": report.replaced, "rejected": report.rejected}


def _received(f: UploadFile, path: Path, max_upload_mb: int) -> tuple[Path, str]:
    """An uploaded file written to `path` (a temporary folder) and its name; 413 when it is too large."""
    from index.diskspace import guard_writes

    limit = max_upload_mb * 2**20
    data = f.file.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, f"{f.filename}: over the {max_upload_mb} MB limit", "too_large")
    with guard_writes(path.parent, what=f"the upload {f.filename}", needed=len(data)):
        path.write_bytes(data)
    return path, f.filename or "upload"


def add_docs_routes(router: APIRouter) -> None:
    """OpenAPI at /api/openapi.json and Swagger UI at /docs, its assets served from here (no CDN)."""

    @router.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return get_openapi(title="citebot API", version="1", routes=router.routes)

    @router.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="citebot API",
            swagger_js_url="/api/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs-assets/swagger-ui.css",
            swagger_favicon_url="/api/docs-assets/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @router.get("/api/docs-assets/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        import fastapi_offline

        if name not in DOCS_ASSETS:
            raise ApiError(404, f"No such asset {name}", "not_found_error")
        return FileResponse(Path(fastapi_offline.__file__).parent / "static" / name)
