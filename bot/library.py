"""The documents behind a Bot: list, add or replace, remove, and re-sync with the folder; the Bot reloads after each."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import CannotWrite, CitebotError, UnknownDocument

if TYPE_CHECKING:
    from bot.answerer import Bot
    from bot.config import Settings
    from index.store import StoredIndex
    from index.store.build import BuildReport


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed file: its source name, type (suffix), size in bytes, chunk count and when it was indexed."""

    name: str
    type: str
    size: int
    chunks: int
    indexed_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AddReport:
    """What `Library.add` did: sources added or replaced, and a reason per rejected file."""

    saved: list[str]
    rejected: list[str]
    replaced: list[str]


class Library:
    """Manages the documents folder and its index, and reloads `bot` after each change. One change at a time."""

    def __init__(self, settings: Settings, *, bot: Bot | None = None) -> None:
        self.settings = settings
        self.bot = bot
        self._stored: StoredIndex | None = None  # without a bot: the index, loaded when first needed
        self._lock = threading.Lock()

    @property
    def stored(self) -> StoredIndex:
        """The live index (the bot's, if there is one)."""
        from index.access import load_index
        from index.pipeline import index_config

        if self.bot is not None:
            return self.bot.stored
        if self._stored is None:
            self._stored = load_index(self.settings.index_dir, remote=index_config(self.settings))
        return self._stored

    @property
    def roots(self) -> list[Path]:
        """The indexed files and folders, as given to `citebot index`."""
        return [Path(r) for r in self.stored.manifest.get("roots", [])]

    @property
    def docs_dir(self) -> Path:
        """Where uploads go: the first indexed folder, else the configured documents folder."""
        return next((r for r in self.roots if r.is_dir()), self.settings.docs_dir.resolve())

    def documents(self) -> list[DocumentInfo]:
        """Every indexed file, by name (a running bot first follows a newer version written elsewhere)."""
        if self.bot is not None:
            self.bot.follow_current()
        stored = self.stored
        chunks = stored.chunk_counts
        out = []
        for name in sorted(stored.manifest.get("files", {})):
            path = self.path_of(name)
            size = path.stat().st_size if path and path.exists() else 0
            out.append(DocumentInfo(name, Path(name).suffix.lstrip(".").lower(), size, chunks[name],
                                    stored.indexed_at.get(name, "")))  # fmt: skip
        return out

    def path_of(self, name: str) -> Path | None:
        """The file an indexed source name comes from, inside its root; None if unknown."""
        if name not in self.stored.manifest.get("files", {}):
            return None
        for root in self.roots:
            path = root if root.is_file() else root / name
            inside = root.is_file() or root.resolve() in path.resolve().parents
            if inside and (path.name == name if root.is_file() else path.is_file()):
                return path
        return None

    def add(self, files: Sequence[tuple[Path, str]]) -> AddReport:
        """Store uploaded files (temporary path, original name) and index them; a known name replaces that file.

        If the index cannot be written (DiskFull, ReadOnly), the folder is put back as it was: new files deleted,
        replaced ones restored."""
        docs_dir = self.docs_dir
        report = AddReport([], [], [])
        previous: dict[Path, Path | None] = {}  # a replaced file -> a hard link to its old bytes until indexed
        with self._lock:
            try:
                for path, name in files:
                    self._store(path, name, docs_dir, report, previous)
                if report.saved or report.replaced:
                    self._reindex([*self.roots, docs_dir] if docs_dir not in self.roots else self.roots)
            except CannotWrite:
                _put_back([docs_dir / s for s in report.saved], previous)
                raise
            finally:
                for link in previous.values():
                    if link is not None:
                        with contextlib.suppress(OSError):
                            link.unlink(missing_ok=True)
        return report

    def _store(
        self, path: Path, name: str, docs_dir: Path, report: AddReport, previous: dict[Path, Path | None]
    ) -> None:
        """Save one upload into `report` (saved, replaced or rejected), linking a file it replaces in `previous`."""
        from index.documents.uploads import UploadRejected, safe_name, save_upload

        existing = self._same_name(safe_name(name), docs_dir)
        if existing is not None and existing not in previous:  # its bytes before this batch
            previous[existing] = _linked(existing)
        limit, into = self.settings.max_upload_mb * 2**20, existing.parent if existing else None
        try:
            target = save_upload(path, name, docs_dir, max_bytes=limit, into=into, replace=existing is not None)
        except UploadRejected as exc:
            report.rejected.append(str(exc))
            return
        (report.replaced if existing else report.saved).append(target.relative_to(docs_dir).as_posix())

    def remove(self, name: str) -> None:
        """Delete a document from its folder and the index: it is never cited again."""
        from index.diskspace import guard_writes
        from index.store.locking import write_lock

        with self._lock:
            path = self.path_of(name)
            if path is None:
                known = ", ".join(sorted(self.stored.manifest.get("files", {}))[:10])
                raise UnknownDocument(f"No indexed document named {name!r} (see `citebot docs`; indexed: {known})")
            if len(self.stored.manifest["files"]) == 1:
                raise CitebotError(f"{name} is the only document: add another before removing it")
            with write_lock(self.settings.index_dir):  # not deleted while another citebot indexes the folder
                with guard_writes(path.parent, what=f"the removal of {name}"):
                    path.unlink()
                self._reindex([r for r in self.roots if r.exists()])

    def sync(self) -> BuildReport:
        """Re-index the folders as they are now (files added, changed or deleted outside citebot)."""
        with self._lock:
            return self._reindex([r for r in self.roots if r.exists()])

    def _same_name(self, name: str, docs_dir: Path) -> Path | None:
        """The indexed file under docs_dir with this file name (an upload of it replaces it), if any."""
        for source in self.stored.manifest.get("files", {}):
            path = self.path_of(source)
            if path and path.name == name and docs_dir.resolve() in path.resolve().parents:
                return path
        return None

    def _reindex(self, roots: Sequence[Path]) -> BuildReport:
        from index.pipeline import index_paths

        embedder = self.bot.engine.retriever.embedder if self.bot else None  # removals embed nothing
        report, _ = index_paths(list(roots), self.settings, embedder=embedder)
        if self.bot is not None:
            self.bot.reload()
        self._stored = None
        return report


def watch(library: Library, stop: threading.Event, *, on_sync: Callable[[BuildReport], None] | None = None) -> None:
    """Re-sync the index whenever documents in the indexed folders are added, changed or deleted, until `stop`.

    Once the folders are watched, one sync catches what changed before: a file added while `serve` was loading (after
    the index was read, before the watch began) raises no event of its own.
    """
    from watchfiles import watch as changes

    from index.documents.loader import SUFFIXES

    folders = [str(r) for r in library.roots if r.is_dir()]
    if not folders:
        return

    def relevant(_: Any, path: str) -> bool:
        name = Path(path).name
        return Path(path).suffix.lower() in SUFFIXES and not name.startswith(".")

    caught_up = False  # the first yield (a change, or 1 s without one) comes after the watch began
    events = changes(
        *folders, watch_filter=relevant, stop_event=stop, debounce=500, rust_timeout=1000, yield_on_timeout=True
    )
    for changed in events:
        if changed or not caught_up:
            caught_up = True
            _sync(library, on_sync)


def _sync(library: Library, on_sync: Callable[[BuildReport], None] | None) -> None:
    """One re-sync for `watch`: a CitebotError (e.g. every document deleted) keeps the last index and is printed."""
    try:
        report = library.sync()
    except CitebotError as exc:
        print(f"citebot: warning: {exc}", file=sys.stderr)
        return
    if on_sync is not None:
        on_sync(report)


def _linked(path: Path) -> Path | None:
    """A hidden hard link to `path`'s bytes (no space taken), to put it back if its replacement cannot be indexed."""
    link = path.with_name(f".{path.name}.previous")
    try:
        link.unlink(missing_ok=True)
        os.link(path, link)
    except OSError:  # a read-only folder (the upload fails too) or no hard links here
        return None
    return link


def _put_back(added: Sequence[Path], previous: dict[Path, Path | None]) -> None:
    """Undo uploads that could not be indexed: delete the new files, restore the replaced ones."""
    for path in added:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
    for path, link in previous.items():
        if link is not None:
            with contextlib.suppress(OSError):
                os.replace(link, path)
