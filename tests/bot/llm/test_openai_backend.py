"""The openai-compatible backend end to end against a fake server on loopback: answers, timeouts, no server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeOpenAIServer, HashingEmbedder, hashing_settings

from bot import Answer, Bot
from ui.cli import main


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer(reply="Jupiter is the largest planet in the solar system [1]. It is red [4].")
    yield server
    server.close()


def _bot(index: Path, url: str, timeout: float = 5.0) -> Bot:
    settings = replace(hashing_settings(index), llm="openai-compatible", llm_base_url=url, llm_model="fake",
                       llm_timeout=timeout)  # fmt: skip
    return Bot.load(index, embedder=HashingEmbedder(), settings=settings)


def _answer_within(bot: Bot, question: str, seconds: float = 60) -> Answer:
    """Answer in a thread; fail (instead of hanging the suite) if it never returns."""
    box: list[Answer] = []
    worker = threading.Thread(target=lambda: box.append(bot.answer(question)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert box, "the answer never came back: a backend call has no timeout"
    return box[0]


def test_answers_through_an_openai_compatible_server(tiny_index: Path, fake_server: FakeOpenAIServer) -> None:
    answer = _bot(tiny_index, fake_server.url).answer("Which planet is the largest?")
    assert answer.text == "Jupiter is the largest planet in the solar system. [1] It is red. [unsupported]"
    assert answer.citations[0].quote == "Jupiter is the largest planet in the solar system."
    assert answer.warnings == ["1 sentence(s) without a valid citation were marked [unsupported]"]
    request = fake_server.requests[0]
    assert request["model"] == "fake" and request["stream"] is True and request["temperature"] == 0.0
    assert request["messages"][0]["role"] == "system" and "[1] (space/planets.md)" in request["messages"][1]["content"]


def test_a_stalled_server_times_out_to_the_extractive_answer(tiny_index: Path) -> None:
    server = FakeOpenAIServer(reply="Too late [1].", delay=5)
    try:
        answer = _answer_within(_bot(tiny_index, server.url, timeout=1.0), "Which planet is the largest?")
    finally:
        server.close()
    assert answer.text.startswith("Jupiter is the largest planet") and answer.citations
    assert "failed" in answer.warnings[0] and "showing the extractive answer" in answer.warnings[0]


def test_no_server_gives_one_warning_and_the_extractive_answer(tiny_index: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once we leave: nothing listens there
    answer = _answer_within(_bot(tiny_index, f"http://127.0.0.1:{port}/v1"), "Which planet is the largest?")
    assert answer.text.startswith("Jupiter is the largest planet") and len(answer.warnings) == 1


def test_cli_ask_streams_tokens_and_prints_citations(
    tiny_index: Path, fake_server: FakeOpenAIServer, hashing_model: None, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("CITEBOT_LLM_BASE_URL", fake_server.url)
    monkeypatch.setenv("CITEBOT_LLM_MODEL", "fake")
    argv = ["ask", "Which planet is the largest?", "--index-dir", str(tiny_index), "--llm", "openai-compatible"]
    assert main([*argv, "--stream"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Jupiter is the largest planet in the solar system [1]. It is red [4].")
    assert "[1] space/planets.md:" in out and "citebot: warning: 1 sentence(s)" in err
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["citations"][0]["quote"] == "Jupiter is the largest planet in the solar system."
