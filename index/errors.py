"""The index layer's errors: raised here, re-exported by bot.errors, turned into messages only by the CLI and UI."""


class CitebotError(Exception):
    """Base class: the message says what failed and what to do next."""


class IndexNotFound(CitebotError):
    """No usable index at the given path."""


class IndexMismatch(CitebotError):
    """The index was built with other settings or a newer format."""


class NoDocuments(CitebotError):
    """Nothing indexable was found at the given paths."""


class IndexBusy(CitebotError):
    """Another process holds the index's write lock."""


class CannotWrite(CitebotError):
    """A folder could not be written: the disk is full or over quota, or it is read-only or not ours to write."""


class DiskFull(CannotWrite):
    """Not enough free space (or quota) for a write; the message gives the folder and the space needed."""


class ReadOnly(CannotWrite):
    """The folder is read-only or may not be written by this user."""
