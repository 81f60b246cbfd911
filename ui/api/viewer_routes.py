"""Serve the document viewer: its script and the bundled pdf.js, and each indexed document's text and PDF file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

STATIC = Path(__file__).parent.parent / "static"
ASSETS = {
    "viewer.js": "text/javascript",
    "viewer.css": "text/css",
    "pdfjs/pdf.min.mjs": "text/javascript",
    "pdfjs/pdf.worker.min.mjs": "text/javascript",
}
HEAD = '<link rel="stylesheet" href="/viewer/viewer.css"><script type="module" src="/viewer/viewer.js"></script>'
SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"}


def add_viewer_routes(router: APIRouter, library: Any) -> None:
    """GET /viewer/<asset>, /api/documents/<name>/text (loaded text and locations), /api/documents/<name>/file (PDF)."""
    from ui.api.errors import ApiError

    @router.get("/viewer/{name:path}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise ApiError(404, f"No such viewer file {name}", "not_found_error")
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})

    @router.get("/api/documents/{name:path}/text", tags=["documents"], summary="A document's loaded text")
    def text(name: str) -> dict[str, Any]:
        """The text citations' offsets refer to, its type, and where its pages or sections start."""
        from index.documents.loader import load_file

        path = _path(library, name)
        document = load_file(path, name)
        return {"name": name, "type": path.suffix.lstrip(".").lower(), "text": document.text,
                "locations": document.locations.to_json()}  # fmt: skip

    @router.get("/api/documents/{name:path}/file", tags=["documents"], summary="A PDF document's file")
    def file(name: str) -> Response:
        path = _path(library, name)
        if path.suffix.lower() != ".pdf":
            raise ApiError(400, f"{name} is not a PDF: read its text at /api/documents/{name}/text")
        return FileResponse(path, media_type="application/pdf", headers=SAFE_HEADERS)


def _path(library: Any, name: str) -> Path:
    from bot.errors import UnknownDocument

    path: Path | None = library.path_of(name)
    if path is None or not path.is_file():
        raise UnknownDocument(f"No indexed document named {name!r} (see GET /api/documents)")
    return path
