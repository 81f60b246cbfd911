"""Domain errors. Raised in the core; only the CLI and UI turn them into messages."""

from index.errors import CitebotError, IndexBusy, IndexMismatch, IndexNotFound, NoDocuments

__all__ = [
    "CitebotError",
    "EmptyQuestion",
    "IndexBusy",
    "IndexMismatch",
    "IndexNotFound",
    "NoDocuments",
    "UnknownDocument",
]


class EmptyQuestion(CitebotError):
    """The question has no words to search for."""


class UnknownDocument(CitebotError):
    """No indexed document has the given name."""
