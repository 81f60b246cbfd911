"""Uploads, removals and `serve --watch` on a real full or read-only disk (tests/disks.py): a JSON error or a message
in the page, nothing half-written left, and the chat answers as before."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from disks import fill, leftovers, remount, write_big_docs
from fakes import HashingEmbedder, hashing_settings, write_docs
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot import Bot
from bot.library import Library
from index.pipeline import index_paths
from ui.api.routes import api_router

QUESTION = "Which planet is the largest in the solar system?"
DOCS = {
    "animals.txt": "Cats are small domesticated carnivores. Cats sleep for most of the day.",
    "planets.md": "Mars is called the red planet. Jupiter is the largest planet in the solar system.",
}


def serve(docs: Path, index_dir: Path) -> tuple[Library, TestClient]:
    """The library and the HTTP API over an index of DOCS in `docs` (as `citebot serve` mounts them)."""
    write_docs(docs, DOCS)
    settings = hashing_settings(index_dir, docs_dir=docs, max_upload_mb=1)
    index_paths([docs], settings, embedder=HashingEmbedder())
    bot = Bot.load(index_dir, embedder=HashingEmbedder(), settings=settings)
    library = Library(settings, bot=bot)
    app = FastAPI()
    app.include_router(api_router(bot, library, credentials=None, max_upload_mb=1))
    return library, TestClient(app)


def ask(client: TestClient) -> tuple[str, list[Any]]:
    data = client.post("/api/ask", json={"question": QUESTION}).json()
    return data["answer"], data["citations"]


def upload(client: TestClient, path: Path) -> Any:
    with open(path, "rb") as fh:
        return client.post("/api/documents", files=[("files", (path.name, fh, "text/plain"))])


def storage_error(response: Any, *words: str) -> str:
    """The message of a 507 JSON error naming each of `words`."""
    assert response.status_code == 507, response.text
    error = response.json()["error"]
    assert error["type"] == "storage_error" and error["code"] == 507
    assert all(w in error["message"] for w in words) and "\n" not in error["message"], error["message"]
    return str(error["message"])


def test_an_upload_on_a_full_disk_is_refused_in_the_api_and_the_page(small_disk: Path, tmp_path: Path) -> None:
    from ui.page.app import _upload

    docs, index_dir = small_disk / "docs", small_disk / "ix"
    library, client = serve(docs, index_dir)
    before = ask(client)
    fill(small_disk, leave=48 * 1024)  # room for the file, not for its segment
    (new,) = write_big_docs(tmp_path / "new", files=1).iterdir()
    storage_error(upload(client, new), str(index_dir), "out of space", "nothing was changed")
    message = _upload(library)([str(new)])
    assert message.startswith("Not added: ") and "out of space" in message
    assert not (docs / "uploads").exists() or not list((docs / "uploads").iterdir())  # not kept, not indexed
    replacement = write_docs(tmp_path / "again", {"animals.txt": new.read_text(encoding="utf-8")}) / "animals.txt"
    storage_error(upload(client, replacement), str(index_dir), "out of space")
    assert (docs / "animals.txt").read_text(encoding="utf-8") == DOCS["animals.txt"]  # put back as it was
    assert leftovers(small_disk) == [] and ask(client) == before


@pytest.mark.parametrize("docs_where", ["elsewhere", "same disk"])
def test_uploads_and_removals_on_a_read_only_index_say_so(small_disk: Path, tmp_path: Path, docs_where: str) -> None:
    docs = tmp_path / "docs" if docs_where == "elsewhere" else small_disk / "docs"
    index_dir = small_disk / "ix"
    library, client = serve(docs, index_dir)
    before = ask(client)
    remount(small_disk, "ro")
    new = write_docs(tmp_path / "new", {"owls.txt": "Owls hunt at night with silent feathers."}) / "owls.txt"
    folder = index_dir if docs_where == "elsewhere" else docs / "uploads"
    storage_error(upload(client, new), str(folder), "is read-only", "remount it read-write")
    assert not (docs / "uploads" / "owls.txt").exists()
    storage_error(client.delete("/api/documents/animals.txt"), str(index_dir), "is read-only")
    assert (docs / "animals.txt").exists()
    assert [d["name"] for d in client.get("/api/documents").json()["documents"]] == sorted(DOCS)
    assert leftovers(tmp_path) == [] and ask(client) == before


def test_serve_watch_on_a_read_only_index_warns_and_answers(
    small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The watcher's re-index fails with one warning line; the index in memory and on disk answer as before."""
    from ui.serve_cli import start_watching

    docs, index_dir = tmp_path / "docs", small_disk / "ix"
    library, client = serve(docs, index_dir)
    before = ask(client)
    remount(small_disk, "ro")
    stop = start_watching(library)
    try:
        err, deadline = "", time.monotonic() + 30
        while "read-only" not in err and time.monotonic() < deadline:  # again until the watcher has started
            (docs / "owls.txt").write_text(f"Owls hunt at night ({time.monotonic()}).", encoding="utf-8")
            time.sleep(1.0)
            err += capsys.readouterr().err
    finally:
        stop.set()
    assert err.startswith("citebot: warning: ") and "Traceback" not in err, err
    assert f"{index_dir} is read-only, so the index cannot be written" in err
    assert ask(client) == before
    bot = Bot.load(index_dir, embedder=HashingEmbedder())
    assert bot.answer(QUESTION).text == before[0]


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_saving_an_answer_as_a_test_on_a_stuck_disk_says_why(small_disk: Path, fault: str) -> None:
    from bot.checks.saved import Turn
    from ui.page.app import save_answer

    docs = small_disk / "docs"
    library, client = serve(docs, small_disk / "ix")
    assert library.bot is not None
    answer = library.bot.answer(QUESTION)
    if fault == "full":
        fill(small_disk, leave=0)
    else:
        remount(small_disk, "ro")
    status = save_answer(library.bot, Turn((QUESTION,), answer), verdict="good", essential="")
    assert ("a test case into saved" if fault == "full" else "so a test case into saved") in status, status
    assert ("is out of space for" if fault == "full" else "is read\\-only") in status, status
    assert "CITEBOT\\_SAVED\\_QUESTIONS" in status, status
    assert not (docs / "questions" / "saved.yaml").exists() and leftovers(small_disk) == []


def test_an_upload_through_the_running_page_on_a_full_disk_shows_a_message_and_the_chat_answers(
    small_disk: Path, tmp_path: Path
) -> None:
    """The real server (tests/served.py) with its documents and index on the full disk, driven by gradio_client."""
    from gradio_client import Client, handle_file
    from served import close
    from served import serve as serve_page

    server = serve_page(small_disk)
    try:
        client = Client(server["url"], verbose=False)
        question = "When was the new lens installed?"
        before = client.predict(question, [], api_name="/ask")
        fill(small_disk, leave=48 * 1024)
        (new,) = write_big_docs(tmp_path / "new", files=1).iterdir()
        status = client.predict([handle_file(str(new))], api_name="/upload")
        assert status.startswith("Not added: ") and "out of space" in status and "Traceback" not in status
        after = client.predict(question, [], api_name="/ask")
        assert (after["answer"], after["citations"]) == (before["answer"], before["citations"])
        assert leftovers(small_disk) == [] and not (server["docs"] / "uploads" / new.name).exists()
    finally:
        close(server)
