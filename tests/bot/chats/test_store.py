"""The conversation store: turns whole or not at all (SIGKILL, a full disk), per-owner isolation, schema, corruption,
search, export, and 20 concurrent sessions x 25 turns."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from disks import remount

from bot.chats.export import to_json, to_markdown
from bot.chats.store import SCHEMA, ConversationStore, make_title, match_query, open_for_chat, store_path
from bot.config import Settings
from bot.errors import CitebotError, ConversationNotFound, ConversationsUnavailable, DiskFull, ReadOnly
from bot.types import Answer, Citation, Passage, Short

ROOT = Path(__file__).resolve().parents[3]
HOSTILE = "<script>alert(1)</script> **bold** [x](javascript:alert(1)) # heading"


def answer(question: str, text: str = "Cats sleep. [1]", *, pad: int = 0) -> Answer:
    quote = "Cats sleep."
    cite = Citation(1, "a.txt", quote, 0, 11, 0.7, page=2, location="p. 2")
    return Answer(
        question,
        text,
        refused=False,
        citations=[cite],
        passages=[Passage("a.txt", quote + " x" * pad, 0, 11 + 2 * pad, 0.7)],
        searched=[question],
        short=Short(1, "sleep", "a.txt", 5, 10, 0.9),
    )


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore.open(tmp_path / "c.sqlite3")


def test_a_turn_round_trips_with_the_whole_answer(store: ConversationStore) -> None:
    first = answer("Do cats sleep?")
    cid = store.append("ann", None, first)
    store.append("ann", cid, answer("How long?", "Most of the day. [1]"))
    got = store.get("ann", cid)
    assert got.answers[0] == first and got.answers[0].to_dict() == first.to_dict()
    assert [q for q, _ in got.history] == ["Do cats sleep?", "How long?"]
    assert got.summary.title == "Do cats sleep?" and got.summary.turns == 2


def test_each_owner_sees_only_their_own(store: ConversationStore) -> None:
    cid = store.append("ann", None, answer("Do cats sleep?"))
    assert store.list("bob") == [] and store.list("bob", search="cats") == []
    for attempt in (
        lambda: store.get("bob", cid),
        lambda: store.append("bob", cid, answer("x?")),
        lambda: store.rename("bob", cid, "mine"),
        lambda: store.delete("bob", cid),
    ):
        with pytest.raises(ConversationNotFound, match="No conversation"):
            attempt()
    assert store.get("ann", cid).summary.turns == 1 and store.get("ann", cid).summary.title == "Do cats sleep?"


def test_listed_newest_first_renamed_searched_and_deleted(store: ConversationStore) -> None:
    old = store.append("ann", None, answer("Do cats sleep?"))
    new = store.append("ann", None, answer("Where is the brigade?", "In Lithuania. [1]"))
    assert [s.id for s in store.list("ann")] == [new, old]
    store.append("ann", old, answer("And dogs?"))
    assert [s.id for s in store.list("ann")] == [old, new]
    assert [s.id for s in store.list("ann", search="lithuan")] == [new]  # words of answers, as prefixes
    assert [s.id for s in store.list("ann", search="DOGS cats")] == [old]
    assert store.list("ann", search='"unbalanced OR *') == []
    store.rename("ann", new, "  The   brigade\n")
    assert store.get("ann", new).summary.title == "The brigade"
    with pytest.raises(CitebotError, match="cannot be empty"):
        store.rename("ann", new, "  ")
    store.delete("ann", new)
    assert [s.id for s in store.list("ann")] == [old] and store.list("ann", search="lithuania") == []
    with pytest.raises(ConversationNotFound):
        store.get("ann", new)


@pytest.mark.parametrize(
    "question,title",
    [
        ("", "(empty question)"),
        ("?", "?"),
        ("  Sí,\n¿cuándo? 🐱 ", "Sí, ¿cuándo? 🐱"),
        ("word " * 40, "word " * 15 + "word…"),
    ],
)
def test_titles_come_from_the_first_question(question: str, title: str) -> None:
    assert make_title(question) == title


def test_search_words_are_never_fts_syntax() -> None:
    assert match_query('brigade "NATO" OR x*') == '"brigade"* "nato"* "or"* "x"*'
    assert match_query("?!") == ""


def test_where_it_is_kept_and_turned_off(tmp_path: Path) -> None:
    settings = Settings.from_env({}, index_dir=tmp_path / "ix")
    assert store_path(settings) == tmp_path / "conversations.sqlite3"
    assert store_path(Settings.from_env({"CITEBOT_CONVERSATIONS": str(tmp_path / "x.db")})) == tmp_path / "x.db"
    off = Settings.from_env({"CITEBOT_CONVERSATIONS": "off"})
    saving = open_for_chat(off)
    assert store_path(off) is None and saving.store is None and "CITEBOT_CONVERSATIONS=off" in saving.notice


def test_a_newer_schema_is_refused_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    ConversationStore.open(path)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA + 1}")
    with pytest.raises(ConversationsUnavailable, match="written by a newer citebot .*upgrade citebot"):
        ConversationStore.open(path)


@pytest.mark.parametrize("content", [b"not a database at all " * 100, b"SQLite format 3\x00" + b"\xff" * 5000])
def test_a_corrupt_file_is_a_clear_message_and_the_chat_goes_on(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(content)
    with pytest.raises(ConversationsUnavailable, match="not a readable conversation store.*move it aside"):
        ConversationStore.open(path)
    saving = open_for_chat(Settings.from_env({}, index_dir=tmp_path / "index"))
    assert saving.store is None and saving.notice.startswith("Conversations are not being saved: ")
    assert path.read_bytes() == content  # left as it was, for whoever wants to look at it


def test_export_shows_hostile_text_as_text(store: ConversationStore) -> None:
    cid = store.append("ann", None, answer(HOSTILE, f"{HOSTILE} [1]"))
    got = store.get("ann", cid)
    md = to_markdown(got, link=lambda c: f"http://h/?c={cid}#cb-open?source={c.source}&start={c.start}")
    assert "<script>" not in md and "\\<script\\>" in md and "\\*\\*bold\\*\\*" in md
    assert (
        "> Cats sleep\\." in md and f"[`a.txt` (p\\. 2, 0-11)](<http://h/?c={cid}#cb-open?source=a.txt&start=0>)" in md
    )
    assert "In short: **sleep**" in md and "\n# " not in md.split("\n", 1)[1]  # no heading made by the question
    data = json.loads(to_json(got))
    assert data["title"] == make_title(HOSTILE) and data["answers"][0] == got.answers[0].to_dict()


WRITER = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from bot.chats.store import ConversationStore
from bot.types import Answer, Passage
store = ConversationStore.open(Path({path!r}))
cid = None
for i in range(100000):
    a = Answer(f"question {{i}}?", f"answer {{i}}", False, passages=[Passage("a.txt", "x" * 20000, 0, 20000, 0.5)])
    cid = store.append("ann", cid, a)
    print(cid, i, flush=True)
"""


def test_sigkill_during_writes_loses_no_earlier_turn(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    code = WRITER.format(root=str(ROOT), path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(40)]  # 40 turns committed, and it is writing more
    proc.kill()
    proc.wait()
    cid, done = lines[-1].split()
    answers = ConversationStore.open(path).get("ann", cid).answers
    assert len(answers) >= int(done) + 1  # every reported turn, and perhaps the next one, whole
    assert [a.question for a in answers] == [f"question {i}?" for i in range(len(answers))]
    assert all(a.passages[0].text == "x" * 20000 for a in answers)


def test_a_full_disk_mid_write_keeps_earlier_conversations(small_disk: Path) -> None:
    store = ConversationStore.open(small_disk / "c.sqlite3")
    kept, cid = [], None
    with pytest.raises(DiskFull, match="out of space for the conversation store"):
        for i in range(1000):
            cid = store.append("ann", cid if i % 5 else None, answer(f"Question {i}?", pad=20_000))
            kept.append(cid)
    listed = {s.id: s.turns for s in store.list("ann", limit=1000)}
    assert listed == {c: kept.count(c) for c in kept}  # every turn stored before the disk filled, none half
    assert store.get("ann", kept[-1]).answers[-1].question == f"Question {len(kept) - 1}?"
    remount(small_disk, "size=4m")  # room again: the store goes on
    store.append("ann", kept[-1], answer("After?"))
    assert store.get("ann", kept[-1]).answers[-1].question == "After?"


def test_20_concurrent_sessions_of_25_turns_lose_nothing_and_leak_nothing(store: ConversationStore) -> None:
    ids: dict[int, str] = {}
    errors: list[BaseException] = []

    def session(s: int) -> None:
        try:
            cid = None
            for t in range(25):
                cid = store.append(f"user{s % 4}", cid, answer(f"session {s} turn {t}?"))
            ids[s] = cid  # type: ignore[assignment]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(s,)) for s in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for s, cid in ids.items():
        got = store.get(f"user{s % 4}", cid)
        assert [a.question for a in got.answers] == [f"session {s} turn {t}?" for t in range(25)]
        assert {x.id for x in store.list(f"user{s % 4}")} == {ids[o] for o in ids if o % 4 == s % 4}


SESSIONS = """
import sys, threading
sys.path.insert(0, {root!r})
from pathlib import Path
from bot.chats.store import ConversationStore
from bot.types import Answer
store = ConversationStore.open(Path({path!r}))

def session(s):
    cid = None
    for t in range(25):
        cid = store.append(f"user{{s}}", cid, Answer(f"session {{s}} turn {{t}}?", "x", False))
    print(s, cid, flush=True)

threads = [threading.Thread(target=session, args=(s,)) for s in range({first}, {first} + 5)]
[t.start() for t in threads]
[t.join() for t in threads]
"""


def test_20_sessions_in_4_processes_lose_nothing_and_leak_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    procs = [subprocess.Popen([sys.executable, "-c", SESSIONS.format(root=str(ROOT), path=str(path), first=first)],
                              stdout=subprocess.PIPE, text=True) for first in range(0, 20, 5)]  # fmt: skip
    ids = dict(line.split() for p in procs for line in p.communicate(timeout=300)[0].splitlines())
    assert all(p.returncode == 0 for p in procs) and len(ids) == 20
    store = ConversationStore.open(path)
    for s, cid in ids.items():
        assert [a.question for a in store.get(f"user{s}", cid).answers] == [f"session {s} turn {t}?" for t in range(25)]
        assert [x.id for x in store.list(f"user{s}")] == [cid]


def test_a_read_only_disk_says_so_and_keeps_what_was_saved(small_disk: Path) -> None:
    store = ConversationStore.open(small_disk / "c.sqlite3")
    cid = store.append("ann", None, answer("Do cats sleep?"))
    store.close()
    remount(small_disk, "ro")
    with pytest.raises(ReadOnly, match="disk is read-only, so the conversation store .* remount it read-write"):
        ConversationStore.open(small_disk / "c.sqlite3").append("ann", cid, answer("And dogs?"))
    remount(small_disk, "rw")
    assert [a.question for a in ConversationStore.open(small_disk / "c.sqlite3").get("ann", cid).answers] == [
        "Do cats sleep?"
    ]
