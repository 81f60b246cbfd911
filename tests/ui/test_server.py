"""The HTTP API of a running server, called with gradio_client as users would."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import ANSWER_KEYS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_ask_returns_the_answer_json(client) -> None:  # type: ignore[no-untyped-def]
    data = client.predict("Why can't Ukraine join NATO?", [], api_name="/ask")
    assert list(data) == ANSWER_KEYS
    first = data["citations"][0]
    text = (ROOT / "seeds" / first["source"]).read_text(encoding="utf-8")
    assert "territorial integrity" in first["quote"] and text[first["start"] : first["end"]] == first["quote"]
    assert data["answer"].endswith("[1]") or "[1]" in data["answer"]


def test_follow_up_uses_history(client) -> None:  # type: ignore[no-untyped-def]
    first = client.predict("Which country is sending a brigade to Lithuania?", [], api_name="/ask")
    history = [["Which country is sending a brigade to Lithuania?", first["answer"]]]
    data = client.predict("And when will it be fully operational?", history, api_name="/ask")
    assert "2027" in data["answer"] and not data["refused"]


def test_refusal(client) -> None:  # type: ignore[no-untyped-def]
    data = client.predict("Who wrote the play Hamlet?", [], api_name="/ask")
    assert data["refused"] and data["citations"] == [] and data["passages"]


def test_empty_question_is_a_clear_error(client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="The question is empty"):
        client.predict("  \x00 ", [], api_name="/ask")


def test_upload_is_answerable_at_once_and_bad_files_are_rejected(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import handle_file

    good = tmp_path / "owls.txt"
    good.write_text("Owls hunt at night. Their soft feathers make their flight almost silent.", encoding="utf-8")
    binary = tmp_path / "junk.txt"
    binary.write_bytes(b"\x00\x01" * 100)
    status = client.predict([handle_file(str(good)), handle_file(str(binary))], api_name="/upload")
    assert "Added `uploads/owls\\.txt`" in status and "Rejected: junk\\.txt" in status and "binary" in status
    data = client.predict("Why is the flight of owls silent?", [], api_name="/ask")
    assert data["citations"][0]["source"] == "uploads/owls.txt" and "soft feathers" in data["answer"]
    big = tmp_path / "big.txt"
    big.write_text("word " * 300_000, encoding="utf-8")  # 1.5 MB, over the 1 MB limit of this server
    with pytest.raises(Exception):  # noqa: B017 - Gradio refuses it before our code runs
        client.predict([handle_file(str(big))], api_name="/upload")
