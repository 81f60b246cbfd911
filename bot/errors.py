"""Domain errors. Raised in the core; only the CLI and UI turn them into messages."""


class CitebotError(Exception):
    """Base class: the message says what failed and what to do next."""


class IndexNotFound(CitebotError):
    """No usable index at the given path."""


class IndexMismatch(CitebotError):
    """The index was built with other settings or a newer format."""


class EmptyQuestion(CitebotError):
    """The question has no words to search for."""


class NoDocuments(CitebotError):
    """Nothing indexable was found at the given paths."""


class UnknownDocument(CitebotError):
    """No indexed document has the given name."""
