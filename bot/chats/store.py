"""Conversations that last: each user's chats and their turns (the whole `Answer`) in one SQLite file.

A turn is written in one transaction (WAL, synchronous=FULL), so a crash, a SIGKILL or a full disk loses at most the
turn being written, never an earlier one. The schema's version is SQLite's `user_version`: a store written by a newer
citebot is refused with a message. Search is FTS5 over questions and answers. Every call names its owner: another
user's conversation is "not found", as one that does not exist.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import CitebotError, ConversationNotFound, ConversationsUnavailable
from bot.types import Answer
from index.diskspace import guard_writes, no_space, read_only

SCHEMA = 1  # PRAGMA user_version of the store this citebot writes
LOCAL_USER = "local"  # the one user when the server has no --auth
OFF = frozenset({"off", "none", "no", "false", "0"})
FILE_NAME = "conversations.sqlite3"
TITLE_CHARS = 80
LIST_LIMIT = 100
_TABLES = (
    "CREATE TABLE conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, "
    "created REAL NOT NULL, updated REAL NOT NULL)",
    "CREATE INDEX conversations_by_owner ON conversations (owner, updated DESC)",
    "CREATE TABLE turns (conversation TEXT NOT NULL, n INTEGER NOT NULL, question TEXT NOT NULL, "
    "answer TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (conversation, n))",
    "CREATE VIRTUAL TABLE turn_words USING fts5(words)",  # rowid = the turn's rowid
)
_FULL, _READONLY, _CANTOPEN, _NOTADB, _CORRUPT = 13, 8, 14, 26, 11  # SQLite's primary result codes
_WORD = re.compile(r"\w+")
_SUMMARIES = (
    "SELECT id, title, created, updated, (SELECT COUNT(*) FROM turns WHERE conversation = id) FROM conversations"
)
_MATCHING = "SELECT t.conversation FROM turn_words w JOIN turns t ON t.rowid = w.rowid WHERE turn_words MATCH ?"


@dataclass(frozen=True)
class Summary:
    """A conversation as listed: id, title (from the first question unless renamed), times, number of turns."""

    id: str
    title: str
    created: float
    updated: float
    turns: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Conversation:
    """A conversation and its answers, oldest first."""

    summary: Summary
    answers: list[Answer] = field(default_factory=list)

    @property
    def history(self) -> list[tuple[str, Answer | str]]:
        """The turns as the History that Bot.answer takes for a follow-up."""
        return [(a.question, a) for a in self.answers]

    def to_dict(self) -> dict[str, Any]:
        """The JSON export: the summary and `Answer.to_dict()` per turn."""
        return {**self.summary.to_dict(), "answers": [a.to_dict() for a in self.answers]}


def store_path(settings: Settings) -> Path | None:
    """Where conversations are kept: CITEBOT_CONVERSATIONS, else beside the index folder; None when saving is off.

    Example: index_dir .citebot/index -> .citebot/conversations.sqlite3; conversations "off" -> None
    """
    value = settings.conversations.strip()
    if value.lower() in OFF:
        return None
    return Path(value) if value else settings.index_dir.parent / FILE_NAME


@dataclass(frozen=True)
class Saving:
    """The page's and the API's store, or None and why nothing is saved (`notice`, shown to the user)."""

    store: ConversationStore | None
    notice: str = ""


def open_for_chat(settings: Settings) -> Saving:
    """The store for the page and the API; when it cannot be used, none and a message saying so (no traceback)."""
    path = store_path(settings)
    if path is None:
        return Saving(None, "Conversations are not saved (CITEBOT_CONVERSATIONS=off).")
    try:
        return Saving(ConversationStore.open(path))
    except CitebotError as exc:
        return Saving(None, f"Conversations are not being saved: {exc}")


def make_title(question: str) -> str:
    """A conversation's title from its first question: one line, cut at a word near TITLE_CHARS.

    Example: make_title("  Why can't\\nUkraine join NATO? ") -> "Why can't Ukraine join NATO?"
    """
    flat = " ".join(question.split()) or "(empty question)"
    if len(flat) <= TITLE_CHARS:
        return flat
    cut = flat[:TITLE_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def match_query(words: str) -> str:
    """An FTS5 query matching every word (as a prefix) of what the user typed, with no FTS5 syntax of theirs.

    Example: match_query('brigade "NATO" OR x*') -> '"brigade"* "nato"* "or"* "x"*'
    """
    return " ".join(f'"{w.lower()}"*' for w in _WORD.findall(words))


class ConversationStore:
    """The conversations in one SQLite file, shared by threads (a connection each) and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    @classmethod
    def open(cls, path: Path) -> ConversationStore:
        """Open the store at `path`, creating it if missing; ConversationsUnavailable if it is unusable or newer."""
        store = cls(path)
        with guard_writes(path.parent, what="the conversation store", other="set CITEBOT_CONVERSATIONS=off"):
            path.parent.mkdir(parents=True, exist_ok=True)
        with store._guard("open"):
            store._prepare()
        return store

    def _prepare(self) -> None:
        """Check the schema version; create the tables in a new file (WAL mode, kept in the file)."""
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA:
                raise ConversationsUnavailable(
                    f"{self.path} was written by a newer citebot (conversation schema {version}; this one reads up "
                    f"to {SCHEMA}): upgrade citebot, or set CITEBOT_CONVERSATIONS to another file"
                )
            if version == SCHEMA:
                return
            db.execute("PRAGMA journal_mode=WAL")
            with _transaction(db):
                if db.execute("PRAGMA user_version").fetchone()[0] == 0:  # another process may have just made it
                    for statement in _TABLES:
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version={SCHEMA}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, kept open: closing the last one to a WAL file checkpoints it (~15 ms a call)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # transactions are explicit
            db.execute("PRAGMA synchronous=FULL")  # a committed turn survives a power cut too (~4 ms a turn)
            self._local.db = db
        yield db

    def close(self) -> None:
        """Close this thread's connection (another thread's closes when that thread ends)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """SQLite's failures as citebot's: DiskFull, ReadOnly, or ConversationsUnavailable naming the file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(exc, doing) from exc

    def _error(self, exc: sqlite3.Error, doing: str) -> CitebotError:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        what, other = f"the conversation store ({doing})", "set CITEBOT_CONVERSATIONS to a file elsewhere"
        if code == _FULL:
            return no_space(self.path.parent, what=what, needed=None, other=other)
        if code == _READONLY or (code == _CANTOPEN and not os.access(self.path.parent, os.W_OK)):
            mounted = bool(os.statvfs(self.path.parent).f_flag & os.ST_RDONLY)
            return read_only(self.path.parent, what=what, other=other, mounted=mounted)
        if code in (_NOTADB, _CORRUPT):
            return ConversationsUnavailable(
                f"{self.path} is not a readable conversation store ({exc}): move it aside to start a new one, or "
                "set CITEBOT_CONVERSATIONS to another file"
            )
        return ConversationsUnavailable(
            f"{self.path} could not be used ({doing}: {exc}): check that it can be read and written, or set "
            "CITEBOT_CONVERSATIONS to another file"
        )

    def append(self, owner: str, conversation: str | None, answer: Answer) -> str:
        """Store `answer` as the next turn of `conversation` (a new one when None), whole or not at all; its id."""
        now, payload = time.time(), json.dumps(answer.to_dict(), ensure_ascii=False)
        with self._guard("saving a turn"), self._connect() as db, _transaction(db):
            if conversation is None:
                conversation = secrets.token_urlsafe(9)
                db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                           (conversation, owner, make_title(answer.question), now, now))  # fmt: skip
            else:
                _check_owner(db, owner, conversation)
                db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))
            n = db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM turns WHERE conversation = ?", (conversation,))
            row = db.execute("INSERT INTO turns VALUES (?, ?, ?, ?, ?)",
                             (conversation, n.fetchone()[0], answer.question, payload, now))  # fmt: skip
            db.execute("INSERT INTO turn_words (rowid, words) VALUES (?, ?)",
                       (row.lastrowid, f"{answer.question}\n{answer.text}"))  # fmt: skip
        return conversation

    def list(self, owner: str, *, search: str = "", limit: int = LIST_LIMIT) -> list[Summary]:
        """The owner's conversations, newest first; with `search`, those whose questions or answers hold its words."""
        sql = _SUMMARIES + " WHERE owner = ?"
        args: list[Any] = [owner]
        if search.strip():
            sql += f" AND id IN ({_MATCHING})"
            args.append(match_query(search) or '""')
        with self._guard("listing"), self._connect() as db:
            rows = db.execute(sql + " ORDER BY updated DESC LIMIT ?", (*args, limit)).fetchall()
        return [Summary(*row) for row in rows]

    def get(self, owner: str, conversation: str) -> Conversation:
        """The conversation and its answers; ConversationNotFound if it is not the owner's."""
        with self._guard("reading"), self._connect() as db:
            row = db.execute(_SUMMARIES + " WHERE id = ? AND owner = ?", (conversation, owner)).fetchone()
            if row is None:
                raise not_found(conversation)
            turns = db.execute("SELECT answer FROM turns WHERE conversation = ? ORDER BY n", (conversation,))
            answers = [Answer.from_dict(json.loads(text)) for (text,) in turns]
        return Conversation(Summary(*row), answers)

    def rename(self, owner: str, conversation: str, title: str) -> None:
        """Give the conversation a title of the owner's choosing (one line)."""
        title = " ".join(title.split())[:200]
        if not title:
            raise CitebotError("A conversation's title cannot be empty")
        with self._guard("renaming"), self._connect() as db, _transaction(db):
            _check_owner(db, owner, conversation)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation))

    def delete(self, owner: str, conversation: str) -> None:
        """Delete the conversation and all its turns."""
        with self._guard("deleting"), self._connect() as db, _transaction(db):
            _check_owner(db, owner, conversation)
            db.execute("DELETE FROM turn_words WHERE rowid IN (SELECT rowid FROM turns WHERE conversation = ?)",
                       (conversation,))  # fmt: skip
            db.execute("DELETE FROM turns WHERE conversation = ?", (conversation,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))


def not_found(conversation: str) -> ConversationNotFound:
    return ConversationNotFound(
        f"No conversation {conversation!r} (list yours with `citebot history` or GET /api/conversations)"
    )


def _check_owner(db: sqlite3.Connection, owner: str, conversation: str) -> None:
    row = db.execute("SELECT 1 FROM conversations WHERE id = ? AND owner = ?", (conversation, owner)).fetchone()
    if row is None:
        raise not_found(conversation)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (taken at once, so writers queue on SQLite's lock): committed whole or rolled back."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled back already (a full disk)
            db.execute("ROLLBACK")
        raise
