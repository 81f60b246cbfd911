"""The REST and OpenAI-compatible API of a running server, driven by real clients (httpx, requests, openai)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from fakes import ANSWER_KEYS
from served import close, serve


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = serve(tmp_path_factory.mktemp("api"))
    yield server["url"]
    close(server)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = serve(tmp_path_factory.mktemp("locked"), auth=("ann", "s3cret"))
    yield server["url"]
    close(server)


def test_ask_returns_the_answer_with_page_and_location(api: str) -> None:
    r = httpx.post(f"{api}/api/ask", json={"question": "When was the new lens installed?"})
    assert r.status_code == 200
    data = r.json()
    assert list(data) == ANSWER_KEYS
    first = data["citations"][0]
    assert (first["source"], first["page"], first["location"]) == ("report.pdf", 2, "p. 2")
    assert first["quote"] == "The new lens was installed in March." and data["answer"].endswith("[1]")


def test_ask_with_history_and_a_heading_location(api: str) -> None:
    history = [["How do I install on Linux?", "Run apt to install the lighthouse tools. [1]"]]
    r = requests.post(f"{api}/api/ask", json={"question": "And with apt?", "history": history}, timeout=30)
    first = r.json()["citations"][0]
    assert r.status_code == 200 and first["location"] == "Guide › Installation › Linux" and first["page"] is None


@pytest.mark.parametrize(
    "body,headers,message",
    [
        (b'{"question": "   "}', {"content-type": "application/json"}, "The question is empty"),
        (b'{"question": ', {"content-type": "application/json"}, "not valid JSON"),
        (b'{"history": []}', {"content-type": "application/json"}, "question: Field required"),
        (b'{"question": "x", "history": "nope"}', {"content-type": "application/json"}, "history"),
    ],
)
def test_bad_requests_are_clear_json_400s(api: str, body: bytes, headers: dict[str, str], message: str) -> None:
    r = httpx.post(f"{api}/api/ask", content=body, headers=headers)
    assert r.status_code == 400 and message in r.json()["error"]["message"], r.text
    assert r.json()["error"]["code"] == 400


def test_documents_list_upload_replace_and_delete(api: str, tmp_path: Path) -> None:
    names = {d["name"]: d for d in httpx.get(f"{api}/api/documents").json()["documents"]}
    assert {"animals.txt", "guide.md", "report.pdf"} <= set(names)
    assert names["report.pdf"]["type"] == "pdf" and names["report.pdf"]["chunks"] >= 1
    assert names["report.pdf"]["size"] > 500 and names["report.pdf"]["indexed_at"]

    files = [("files", ("owls.txt", b"Owls hunt at night with silent feathers.", "text/plain"))]
    r = requests.post(f"{api}/api/documents", files=files, timeout=60)
    assert r.status_code == 200 and r.json()["saved"] == ["uploads/owls.txt"]
    ask = httpx.post(f"{api}/api/ask", json={"question": "When do owls hunt?"}).json()
    assert ask["citations"][0]["source"] == "uploads/owls.txt"

    files = [("files", ("animals.txt", b"Horses gallop across the open plains.", "text/plain"))]
    r = requests.post(f"{api}/api/documents", files=files, timeout=60)
    assert r.status_code == 200 and r.json()["replaced"] == ["animals.txt"]

    r = httpx.delete(f"{api}/api/documents/uploads/owls.txt")
    assert r.status_code == 200 and r.json() == {"removed": "uploads/owls.txt"}
    ask = httpx.post(f"{api}/api/ask", json={"question": "When do owls hunt with silent feathers?"}).json()
    assert all(c["source"] != "uploads/owls.txt" for c in ask["citations"])
    assert "uploads/owls.txt" not in {d["name"] for d in httpx.get(f"{api}/api/documents").json()["documents"]}


def test_document_errors(api: str) -> None:
    r = httpx.delete(f"{api}/api/documents/nope.txt")
    assert r.status_code == 404 and "No indexed document named 'nope.txt'" in r.json()["error"]["message"]
    big = [("files", ("big.txt", b"word " * 300_000, "text/plain"))]  # 1.5 MB, over this server's 1 MB
    r = requests.post(f"{api}/api/documents", files=big, timeout=60)
    assert r.status_code == 413 and "1 MB" in r.json()["error"]["message"]
    bad = [("files", ("run.exe", b"MZ", "application/octet-stream"))]
    r = requests.post(f"{api}/api/documents", files=bad, timeout=60)
    assert r.status_code == 400 and "unsupported type .exe" in r.json()["error"]["message"]
    r = httpx.post(f"{api}/api/documents")
    assert r.status_code == 400 and "files" in r.json()["error"]["message"]


def test_openai_client_non_streaming_and_streaming(api: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{api}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["citebot"]
    messages = [{"role": "user", "content": "When was the new lens installed?"}]
    done = client.chat.completions.create(model="citebot", messages=messages)  # type: ignore[arg-type]
    content = done.choices[0].message.content or ""
    assert content.startswith("The new lens was installed in March. [1]")
    assert '\n\nSources:\n[1] report.pdf p. 2: "The new lens was installed in March."' in content
    extra = done.model_extra or {}
    assert extra["citations"][0]["page"] == 2 and extra["refused"] is False

    stream = client.chat.completions.create(model="citebot", messages=messages, stream=True)  # type: ignore[arg-type]
    pieces, last = [], None
    for chunk in stream:
        pieces.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert "".join(pieces) == content and len(pieces) > 2
    assert last is not None and last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"][0]["location"] == "p. 2"


def test_openai_history_is_the_earlier_turns(api: str) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{api}/v1", api_key="unused", max_retries=0)
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "How do I install on Linux?"},
        {"role": "assistant", "content": "Run apt to install the lighthouse tools. [1]"},
        {"role": "user", "content": [{"type": "text", "text": "With apt?"}]},
    ]
    done = client.chat.completions.create(model="citebot", messages=messages)  # type: ignore[arg-type]
    assert (done.model_extra or {})["citations"][0]["source"] == "guide.md"


def test_openai_errors_are_raised_by_the_client(api: str) -> None:
    import openai

    client = openai.OpenAI(base_url=f"{api}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="No user message"):
        client.chat.completions.create(model="citebot", messages=[{"role": "system", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="The question is empty"):
        client.chat.completions.create(model="citebot", messages=[{"role": "user", "content": " ?! "}])


def test_docs_are_served_offline(api: str) -> None:
    page = httpx.get(f"{api}/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page.text), "no asset from another host"
    for asset in re.findall(r"['\"](/api/docs-assets/[^'\"]+)['\"]", page.text):
        assert httpx.get(api + asset).status_code == 200
    spec = httpx.get(f"{api}/api/openapi.json").json()
    assert {"/api/ask", "/api/documents", "/v1/chat/completions", "/v1/models"} <= set(spec["paths"])
    assert httpx.get(f"{api}/api/docs-assets/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert httpx.get(api).status_code == 200, "the page is still served"


def test_auth_off_loopback_bearer_or_basic(locked: str) -> None:
    from openai import AuthenticationError, OpenAI

    r = httpx.post(f"{locked}/api/ask", json={"question": "When do dogs bark?"})
    assert r.status_code == 401 and "Authorization" in r.json()["error"]["message"]
    assert httpx.get(f"{locked}/api/documents", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(f"{locked}/api/documents", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    basic = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    assert httpx.get(f"{locked}/api/documents", headers={"Authorization": basic}).status_code == 200
    assert httpx.get(f"{locked}/api/documents", auth=("ann", "nope")).status_code == 401
    assert httpx.get(f"{locked}/docs").status_code == 401
    good = OpenAI(base_url=f"{locked}/v1", api_key="s3cret", max_retries=0)
    assert [m.id for m in good.models.list()] == ["citebot"]
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=f"{locked}/v1", api_key="guess", max_retries=0).models.list()


def test_conversation_pairs_turns_and_reply_lists_sources() -> None:
    from bot.types import Answer, Citation
    from ui.api.openai_routes import Message, conversation, reply_text

    turns = [Message(role=r, content=c) for r, c in
             [("system", "s"), ("user", "A"), ("assistant", "a"), ("user", "B"), ("user", "C")]]  # fmt: skip
    assert conversation(turns) == ("C", [("A", "a")])
    replied = [Message(role="user", content="A"), Message(role="assistant", content='a [1]\n\nSources:\n[1] x: "a"'),
               Message(role="user", content="B")]  # fmt: skip
    assert conversation(replied) == ("B", [("A", "a [1]")])
    cited = Answer("q", "It rains. [1]", False, [Citation(1, "r.pdf", "It rains.", 0, 9, 0.5, 3, "p. 3")])
    assert reply_text(cited) == 'It rains. [1]\n\nSources:\n[1] r.pdf p. 3: "It rains."'
    assert reply_text(Answer("q", "Not there.", True)) == "Not there."


def test_the_pages_login_cookie_opens_the_api_for_the_viewer(locked: str) -> None:
    with httpx.Client(base_url=locked) as browser_like:
        assert browser_like.get("/api/documents/report.pdf/text").status_code == 401
        assert browser_like.post("/login", data={"username": "ann", "password": "s3cret"}).status_code == 200
        assert browser_like.get("/api/documents/report.pdf/text").json()["type"] == "pdf"
    with httpx.Client(base_url=locked) as stranger:
        stranger.post("/login", data={"username": "ann", "password": "wrong"})
        assert stranger.get("/api/documents").status_code == 401


def test_the_pages_login_is_the_conversations_user(locked: str) -> None:
    with httpx.Client(base_url=locked) as browser_like:
        browser_like.post("/login", data={"username": "ann", "password": "s3cret"})
        made = browser_like.post("/api/ask", json={"question": "When do dogs bark?", "conversation": "new"}).json()
        listed = browser_like.get("/api/conversations").json()["conversations"]
    assert [c["id"] for c in listed] == [made["conversation"]]
    basic = httpx.get(f"{locked}/api/conversations", auth=("ann", "s3cret")).json()["conversations"]
    assert basic == listed


def test_document_text_and_pdf_file_for_the_viewer(api: str) -> None:
    info = httpx.get(f"{api}/api/documents/report.pdf/text").json()
    assert info["type"] == "pdf" and len(info["locations"]["pages"]) == 3
    assert info["text"][info["locations"]["pages"][1] :].startswith("The new lens")
    pdf = httpx.get(f"{api}/api/documents/report.pdf/file")
    assert (
        pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    )
    assert "sandbox" in pdf.headers["content-security-policy"]
    guide = httpx.get(f"{api}/api/documents/guide.md/text").json()
    assert guide["locations"]["headings"][-1][1] == "Guide › Installation › Linux"
    assert httpx.get(f"{api}/api/documents/guide.md/file").status_code == 400, "only PDFs are served as files"
    for name in ("nope.pdf", "../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd"):
        assert httpx.get(f"{api}/api/documents/{name}/text").status_code == 404
    assert httpx.get(f"{api}/viewer/viewer.js").status_code == 200
    assert httpx.get(f"{api}/viewer/pdfjs/pdf.worker.min.mjs").status_code == 200
    assert httpx.get(f"{api}/viewer/../api.py").status_code == 404


@pytest.mark.slow
def test_citebot_serve_watch_picks_up_folder_changes(tmp_path: Path) -> None:
    """The real command, in its own process with the real model: files added and deleted show in the API.

    owls.txt is added while the server loads, before the folder is watched (no event): the first sync must catch it.
    """
    import os
    import subprocess
    import sys
    import time

    from served import free_port

    from bot import Settings
    from index.pipeline import index_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "cats.txt").write_text("Cats sleep for most of the day.", encoding="utf-8")
    index_paths([docs], Settings.from_env({}, index_dir=tmp_path / "ix"))
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "ui.cli",
        "serve",
        "--watch",
        "--index-dir",
        str(tmp_path / "ix"),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(argv, cwd=Path(__file__).resolve().parents[3], env=dict(os.environ))
    (docs / "owls.txt").write_text("Owls hunt at night with silent feathers.", encoding="utf-8")  # before the watch
    url = f"http://127.0.0.1:{port}"

    def names() -> set[str]:
        try:
            return {d["name"] for d in httpx.get(f"{url}/api/documents", timeout=5).json()["documents"]}
        except httpx.HTTPError:
            return set()

    def until(check: Any) -> None:
        deadline = time.monotonic() + 90
        while not check() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.3)
        assert check()

    try:
        until(lambda: names() == {"cats.txt", "owls.txt"})
        answer = httpx.post(f"{url}/api/ask", json={"question": "When do owls hunt?"}, timeout=30).json()
        assert answer["citations"][0]["source"] == "owls.txt"
        (docs / "owls.txt").unlink()
        until(lambda: names() == {"cats.txt"})
    finally:
        proc.terminate()
        proc.wait(timeout=30)
