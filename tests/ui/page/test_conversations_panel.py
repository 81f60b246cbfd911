"""The page's side of the store, without a browser: restored chats, history from the store, and saving that fails
(a full disk, a deleted conversation, no store) saying so while the chat goes on."""

from __future__ import annotations

from pathlib import Path

from disks import fill

from bot.chats.store import LOCAL_USER, ConversationStore, Saving
from bot.types import Answer, Citation
from ui.page.conversations_panel import Memory, restore


def _answer(question: str) -> Answer:
    return Answer(question, "Cats sleep. [1]", False, [Citation(1, "a.txt", "Cats sleep.", 0, 11, 0.6)])


def test_a_restored_chat_is_the_one_the_page_made_and_can_be_saved_as_tests(tmp_path: Path) -> None:
    store = ConversationStore.open(tmp_path / "c.sqlite3")
    cid = store.append(LOCAL_USER, None, _answer("<b>Do</b> cats sleep?"))
    store.append(LOCAL_USER, cid, _answer("How long?"))
    chat, pairs, kept = restore(store.get(LOCAL_USER, cid))
    assert chat[0] == {"role": "user", "content": "\\<b\\>Do\\</b\\> cats sleep?"}  # as text, as when asked
    assert "[\\[1\\]](#cb-open?source=a.txt&start=0&end=11)" in chat[1]["content"]
    assert pairs == [["<b>Do</b> cats sleep?", "Cats sleep. [1]"], ["How long?", "Cats sleep. [1]"]]
    assert sorted(kept) == [1, 3] and kept[3].questions == ("<b>Do</b> cats sleep?", "How long?")
    memory = Memory(Saving(store))
    assert all(isinstance(a, Answer) for _, a in memory.history(LOCAL_USER, cid, []))
    assert memory.history("someone else", cid, [["q", "a"]]) == [("q", "a")]  # not theirs: the page's own pairs


def test_saving_that_fails_says_so_and_a_deleted_conversation_starts_anew(small_disk: Path) -> None:
    store = ConversationStore.open(small_disk / "c.sqlite3")
    memory = Memory(Saving(store))
    cid, note = memory.save(LOCAL_USER, "", _answer("Do cats sleep?"))
    assert (
        cid
        and note
        == f"Export: [Markdown](/api/conversations/{cid}/export) · [JSON](/api/conversations/{cid}/export?format=json)"
    )
    store.delete(LOCAL_USER, cid)  # in another tab
    again, note = memory.save(LOCAL_USER, cid, _answer("And dogs?"))
    assert again != cid and again in note and store.get(LOCAL_USER, again).summary.title == "And dogs?"
    fill(small_disk, leave=0)
    big = Answer("Long?", "x " * 400_000, False)
    same, note = memory.save(LOCAL_USER, again, big)
    assert same == again and note.startswith("This answer was not saved: ") and "out of space" in note
    assert store.get(LOCAL_USER, again).summary.turns == 1
    assert Memory(Saving(None, "Conversations are not saved (x).")).save(LOCAL_USER, "", big) == (
        "",
        "Conversations are not saved \\(x\\)\\.",
    )
