"""/api/conversations and /api/ask with a conversation: appended turns, the saved history answering a follow-up,
export, rename, search, delete, each user's own (another's is a 404), and a store that cannot be used."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.chats.store import ConversationStore, Saving
from bot.types import Answer, Citation
from ui.api.routes import api_router

USERS = [("ann", "s3cret"), ("bob", "hunter2")]
HOSTILE = "<img src=x onerror=alert(1)> **Who** [x](javascript:alert(1))?"


class EchoBot:
    """Answers every question by quoting a.txt, saying how many earlier turns (and how many Answers) it was given."""

    def answer(self, question: str, history: Any = ()) -> Answer:
        whole = sum(isinstance(a, Answer) for _, a in history)
        cite = Citation(1, "a.txt", "Cats sleep.", 0, 11, 0.6, location="p. 1")
        return Answer(question, f"Cats sleep. {len(history)} earlier, {whole} whole. [1]", False, [cite])


def client(saving: Saving, users: list[tuple[str, str]] | None = USERS) -> TestClient:
    app = FastAPI()
    app.include_router(api_router(EchoBot(), None, credentials=users, max_upload_mb=1, saving=saving))
    return TestClient(app)


def as_user(name: str) -> dict[str, str]:
    password = dict(USERS)[name]
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


@pytest.fixture
def api(tmp_path: Path) -> TestClient:
    return client(Saving(ConversationStore.open(tmp_path / "c.sqlite3")))


def ask(api: TestClient, user: str, question: str, conversation: str) -> Any:
    return api.post("/api/ask", json={"question": question, "conversation": conversation}, headers=as_user(user))


def test_ask_appends_and_a_follow_up_reads_the_saved_history(api: TestClient) -> None:
    first = ask(api, "ann", "Do cats sleep?", "new").json()
    cid = first["conversation"]
    assert cid and "0 earlier" in first["answer"] and "not_saved" not in first
    second = ask(api, "ann", "How long?", cid).json()
    assert second["conversation"] == cid and "1 earlier, 1 whole" in second["answer"]  # the stored Answer itself
    listed = api.get("/api/conversations", headers=as_user("ann")).json()["conversations"]
    assert [(c["id"], c["title"], c["turns"]) for c in listed] == [(cid, "Do cats sleep?", 2)]
    got = api.get(f"/api/conversations/{cid}", headers=as_user("ann")).json()
    assert [a["question"] for a in got["answers"]] == ["Do cats sleep?", "How long?"]
    assert got["answers"][1]["citations"][0]["quote"] == "Cats sleep."
    plain = api.post("/api/ask", json={"question": "Do cats sleep?"}, headers=as_user("ann")).json()
    assert "conversation" not in plain  # without one, as stateless as before


def test_each_user_sees_only_their_own(api: TestClient) -> None:
    cid = ask(api, "ann", "Do cats sleep?", "new").json()["conversation"]
    bob = as_user("bob")
    assert api.get("/api/conversations", headers=bob).json() == {"conversations": []}
    assert api.get("/api/conversations", params={"q": "cats"}, headers=bob).json() == {"conversations": []}
    for response in (
        api.get(f"/api/conversations/{cid}", headers=bob),
        api.get(f"/api/conversations/{cid}/export", headers=bob),
        api.patch(f"/api/conversations/{cid}", json={"title": "mine"}, headers=bob),
        api.delete(f"/api/conversations/{cid}", headers=bob),
        ask(api, "bob", "And dogs?", cid),
    ):
        assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error", response.text
    assert api.get(f"/api/conversations/{cid}", headers=as_user("ann")).json()["turns"] == 1
    assert api.get("/api/conversations").status_code == 401
    bearer = {"Authorization": "Bearer bob:hunter2"}
    assert api.get("/api/conversations", headers=bearer).json() == {"conversations": []}


def test_rename_search_export_and_delete(api: TestClient) -> None:
    ann = as_user("ann")
    cats = ask(api, "ann", "Do cats sleep?", "new").json()["conversation"]
    odd = ask(api, "ann", HOSTILE, "new").json()["conversation"]
    assert [c["id"] for c in api.get("/api/conversations", headers=ann).json()["conversations"]] == [odd, cats]
    search = api.get("/api/conversations", params={"q": "onerror"}, headers=ann).json()["conversations"]
    assert [c["id"] for c in search] == [odd]
    renamed = api.patch(f"/api/conversations/{cats}", json={"title": "Sleepy"}, headers=ann).json()
    assert renamed["title"] == "Sleepy"
    md = api.get(f"/api/conversations/{odd}/export", headers=ann)
    assert md.headers["content-type"].startswith("text/markdown")
    assert re.search(r"(?<!\\)<img", md.text) is None and "\\<img src=x onerror=alert\\(1\\)\\>" in md.text
    assert f"(<http://testserver/?c={odd}#cb-open?source=a.txt&start=0&end=11&location=p.%201>)" in md.text
    data = api.get(f"/api/conversations/{odd}/export", params={"format": "json"}, headers=ann).json()
    assert data["answers"][0]["question"] == HOSTILE and data["id"] == odd
    assert api.delete(f"/api/conversations/{odd}", headers=ann).json() == {"deleted": odd}
    assert api.get(f"/api/conversations/{odd}", headers=ann).status_code == 404


def test_without_a_store_the_api_answers_and_says_nothing_was_saved(tmp_path: Path) -> None:
    api = client(Saving(None, "Conversations are not being saved: x is not a readable conversation store"), None)
    reply = api.post("/api/ask", json={"question": "Do cats sleep?", "conversation": "new"}).json()
    assert reply["answer"].startswith("Cats sleep.") and "not a readable" in reply["not_saved"]
    listed = api.get("/api/conversations")
    assert listed.status_code == 503 and "not a readable" in listed.json()["error"]["message"]
