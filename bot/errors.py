"""Domain errors. Raised in the core; only the CLI and UI turn them into messages."""

from index.errors import (
    CannotWrite,
    CitebotError,
    DiskFull,
    IndexBusy,
    IndexMismatch,
    IndexNotFound,
    NoDocuments,
    ReadOnly,
)

__all__ = [
    "BadHistory",
    "CannotWrite",
    "CitebotError",
    "ConversationNotFound",
    "ConversationsUnavailable",
    "DiskFull",
    "EmptyQuestion",
    "IndexBusy",
    "IndexMismatch",
    "IndexNotFound",
    "NoDocuments",
    "ReaderUnavailable",
    "ReadOnly",
    "UnknownDocument",
]


class EmptyQuestion(CitebotError):
    """The question has no words to search for."""


class BadHistory(CitebotError):
    """A conversation history that is not [question, answer] string pairs."""


class UnknownDocument(CitebotError):
    """No indexed document has the given name."""


class ReaderUnavailable(CitebotError):
    """The reader model's files are missing or not the ones shipped (bot/reader.py)."""


class ConversationNotFound(CitebotError):
    """No conversation of this user has the given id (another user's is not found either)."""


class ConversationsUnavailable(CitebotError):
    """The conversation store cannot be used: unreadable, corrupt, or written by a newer citebot."""
