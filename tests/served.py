"""A real citebot server on a free loopback port over small documents and a PDF, with the hashing embedder."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

from fakes import HashingEmbedder, hashing_settings, write_docs
from pdfs import make_pdf

DOCS = {
    "animals.txt": "Cats sleep for most of the day. Dogs bark at strangers at night.",
    "guide.md": "# Guide\n\n## Installation\n\n### Linux\n\nRun apt to install the lighthouse tools.\n",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(base: Path, *, auth: tuple[str, str] | None = None, watch: bool = False) -> dict[str, Any]:
    """Index DOCS and report.pdf under base/docs and serve them; returns url, app, library, docs and stop (watch)."""
    from bot import Bot
    from bot.library import Library
    from index.pipeline import index_paths
    from ui.serve_cli import launch, start_watching

    docs = write_docs(base / "docs", DOCS)
    make_pdf(docs / "report.pdf")
    settings = hashing_settings(base / "index", docs_dir=docs, max_upload_mb=1)
    index_paths([docs], settings, embedder=HashingEmbedder())
    bot = Bot.load(settings.index_dir, embedder=HashingEmbedder(), settings=settings)
    library = Library(settings, bot=bot)
    app = launch(bot, host="127.0.0.1", port=free_port(), auth=auth, block=False, settings=settings,
                 library=library, watch=watch)  # fmt: skip
    stop = start_watching(library) if watch else threading.Event()
    return {"url": f"http://127.0.0.1:{app.server_port}", "app": app, "library": library, "docs": docs, "stop": stop}


def close(server: dict[str, Any]) -> None:
    server["stop"].set()
    server["app"].close()
