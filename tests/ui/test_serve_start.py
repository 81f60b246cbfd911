"""`citebot serve` starts serving while the index and model load: the pending bot, and failing fast without an index."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.errors import CitebotError
from ui.cli import main
from ui.serve_cli import PendingBot


class Loaded:
    def answer(self, question: str) -> str:
        return f"answer to {question}"


def test_uses_wait_for_the_load() -> None:
    release = threading.Event()

    def load() -> Loaded:
        release.wait(5)
        return Loaded()

    bot = PendingBot(load)
    got: list[str] = []
    asker = threading.Thread(target=lambda: got.append(bot.answer("q")))
    asker.start()
    asker.join(0.2)
    assert asker.is_alive() and not got  # waiting, not failing
    release.set()
    asker.join(5)
    assert got == ["answer to q"]


def test_a_failed_load_is_a_message_on_every_use() -> None:
    def load() -> Loaded:
        raise OSError("disk on fire")

    bot = PendingBot(load)
    for _ in range(2):
        with pytest.raises(CitebotError, match="could not be loaded: disk on fire"):
            bot.answer("q")


def test_no_index_fails_before_serving(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--index-dir", str(tmp_path / "none"), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "No index at" in err and "citebot index" in err
