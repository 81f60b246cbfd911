"""`citebot history`: list, search, export as Markdown or JSON, per user; off, missing, corrupt and unknown ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.chats.store import LOCAL_USER, ConversationStore
from bot.types import Answer, Citation
from ui.cli import main


def _answer(question: str) -> Answer:
    return Answer(question, "Cats sleep. [1]", False, [Citation(1, "a.txt", "Cats sleep.", 0, 11, 0.6)])


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, str]:
    """An index folder (not built: history needs none) and a conversation of the local user beside it."""
    store = ConversationStore.open(tmp_path / "conversations.sqlite3")
    cid = store.append(LOCAL_USER, None, _answer("Do cats sleep?\x1b[31m"))
    store.append(LOCAL_USER, cid, _answer("<b>How</b> long?"))
    store.append("ann", None, _answer("Ann's question about dogs?"))
    return tmp_path / "index", cid


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_lists_searches_and_exports(saved: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    index, cid = saved
    code, out, _ = run(capsys, "history", "--index-dir", str(index))
    assert code == 0 and out.startswith(cid) and "2 turns  Do cats sleep??[31m" in out and "Ann" not in out
    assert (
        run(capsys, "history", "--search", "dogs", "--index-dir", str(index))[1]
        == "No conversations with 'dogs' for local.\n"
    )
    assert run(capsys, "history", "--user", "ann", "--search", "dogs", "--index-dir", str(index))[1].count("\n") == 1
    code, md, _ = run(capsys, "history", cid, "--index-dir", str(index), "--link", "http://127.0.0.1:7860")
    assert code == 0 and "## 2. \\<b\\>How\\</b\\> long?" in md and "> Cats sleep\\." in md
    assert f"(<http://127.0.0.1:7860/?c={cid}#cb-open?source=a.txt&start=0&end=11>)" in md
    data = json.loads(run(capsys, "history", cid, "--json", "--index-dir", str(index))[1])
    assert [a["question"] for a in data["answers"]] == ["Do cats sleep?\x1b[31m", "<b>How</b> long?"]


def test_unknown_off_missing_and_corrupt(saved: tuple[Path, str], capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    index, cid = saved
    code, _, err = run(capsys, "history", "nope", "--index-dir", str(index))
    assert code == 2 and err.startswith("citebot: error: No conversation 'nope'")
    assert run(capsys, "history", cid, "--user", "ann", "--index-dir", str(index))[0] == 2  # not ann's
    code, out, err = run(capsys, "history", "--index-dir", str(tmp_path / "elsewhere" / "index"))
    assert code == 0 and out == "" and "No conversations yet" in err
    (tmp_path / "bad.sqlite3").write_bytes(b"garbage" * 1000)
    monkeypatch.setenv("CITEBOT_CONVERSATIONS", str(tmp_path / "bad.sqlite3"))
    code, _, err = run(capsys, "history")
    assert code == 2 and "not a readable conversation store" in err and "Traceback" not in err
    monkeypatch.setenv("CITEBOT_CONVERSATIONS", "off")
    assert "CITEBOT_CONVERSATIONS=off" in run(capsys, "history")[2]


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["history", "--help"])
    out = capsys.readouterr().out
    assert "citebot history --search brigade" in out and "--json" in out and "--user" in out
