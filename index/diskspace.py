"""Writes that fail for want of space or permission: one message naming the folder, the space needed and what to do.

A full disk (ENOSPC, EDQUOT) or a folder that is read-only (EROFS) or not ours (EACCES) is for the user to fix, not a
bug: `cannot_write` turns such a failure into DiskFull or ReadOnly (index/errors.py), and `check_space` refuses a large
write before it starts when `shutil.disk_usage` says it cannot fit. numpy and FAISS report a full disk without an
errno ("38400 requested and 16352 written"; "write error ... (No space left on device)"): both are recognised, as is
any error whose message names the cause that way.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import CannotWrite, DiskFull, ReadOnly

FULL = (errno.ENOSPC, errno.EDQUOT)
DENIED = (errno.EROFS, errno.EACCES)
INDEX_ELSEWHERE = "index into a folder elsewhere with --index-dir"  # the other way out when the index folder is stuck
TEXT_SHARE = {".txt": 1.0, ".md": 1.0, ".html": 0.3, ".htm": 0.3, ".docx": 0.5, ".pdf": 0.1}  # of a file's size: low
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")  # numpy's tofile on a full disk
_STRERRORS = {os.strerror(n): n for n in (*FULL, *DENIED)}  # how FAISS's RuntimeError names the cause


def write_errno(exc: BaseException) -> int | None:
    """The errno of a write refused for space or permission (ENOSPC, EDQUOT, EROFS, EACCES), else None.

    Example: write_errno(OSError(28, "No space left on device")) -> 28; write_errno(OSError("1 requested and 0
    written")) -> 28; write_errno(ValueError("x")) -> None
    """
    if isinstance(exc, OSError) and exc.errno in (*FULL, *DENIED):
        return exc.errno
    if isinstance(exc, OSError) and exc.errno is None and _SHORT_WRITE.search(str(exc)):
        return errno.ENOSPC
    if not isinstance(exc, OSError):  # FAISS's RuntimeError, a Milvus Lite error: the cause is in the message
        return next((n for text, n in _STRERRORS.items() if f"({text})" in str(exc)), None)
    return None


def cannot_write(exc: BaseException, folder: Path, *, what: str, needed: int | None = None,
                 other: str = "") -> CannotWrite | None:  # fmt: skip
    """DiskFull or ReadOnly naming `folder`, `what` was being written, the space `needed` (if known) and the next step
    (`other`: the alternative to fixing the folder); None if `exc` is some other failure (to be raised as it is)."""
    number = write_errno(exc)
    if number is None:
        return None
    if number in FULL:
        return no_space(folder, what=what, needed=needed, other=other, quota=number == errno.EDQUOT)
    return read_only(folder, what=what, other=other, mounted=number == errno.EROFS)


def read_only(folder: Path, *, what: str, other: str = "", mounted: bool = True) -> ReadOnly:
    """ReadOnly naming the folder, and the fix: remount it (`mounted` read-only), or give write permission on it."""
    reason, fix = ("read-only", "remount it read-write") if mounted else ("not writable", "give write permission on it")
    return ReadOnly(f"{folder} is {reason}, so {what} cannot be written: {fix}{_or(other)}; nothing was changed")


def no_space(folder: Path, *, what: str, needed: int | None, other: str = "", quota: bool = False) -> DiskFull:
    """DiskFull naming the folder, the space needed (if known) and how much is free."""
    wanted = f"about {human(needed)} needed, " if needed else ""
    short = "over its disk quota" if quota else "out of space"
    return DiskFull(f"{folder} is {short} for {what} ({wanted}{human(free_bytes(folder))} free): free some space "
                    f"there{_or(other)}; nothing was changed")  # fmt: skip


def _or(other: str) -> str:
    return f", or {other}" if other else ""


@contextmanager
def guard_writes(folder: Path, *, what: str, needed: int | None = None, other: str = "") -> Iterator[None]:
    """Turn a write refused for space or permission inside the block into DiskFull or ReadOnly (cannot_write)."""
    try:
        yield
    except Exception as exc:
        error = cannot_write(exc, folder, what=what, needed=needed, other=other)
        if error is None:
            raise
        raise error from exc


def check_space(folder: Path, needed: int, *, what: str, other: str = "") -> None:
    """Raise DiskFull before writing `needed` bytes into `folder` if its disk has less free space than that (ReadOnly
    if it is mounted read-only: its free space means nothing)."""
    if os.statvfs(_existing(folder)).f_flag & os.ST_RDONLY:
        raise read_only(folder, what=what, other=other)
    if needed > free_bytes(folder):
        raise no_space(folder, what=what, needed=needed, other=other)


def free_bytes(folder: Path) -> int:
    """Free bytes on the disk of `folder` (or of its nearest existing parent)."""
    return shutil.disk_usage(_existing(folder)).free


def _existing(folder: Path) -> Path:
    """`folder`, or its nearest parent that exists (a folder not made yet is on its parent's disk)."""
    path = folder.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def used_bytes(folder: Path) -> int:
    """Bytes the files directly in `folder` take on disk (a segment has no subfolders)."""
    return sum(p.stat().st_blocks * 512 for p in folder.iterdir() if p.is_file())


def human(size: int) -> str:
    """A byte count for people. Example: human(1536) -> '1.5 kB'; human(3 * 2**20) -> '3.0 MB'"""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def segment_bytes(text: int, chunks: int, sentences: int, *, dim: int) -> int:
    """A little under what a segment of `text` bytes in `chunks` and `sentences` takes (index/store/segments.py): per
    chunk its vector, exact FAISS index and 8-bit codes; per sentence its float16 vector
    (index/store/sentence_vectors.py); text, postings and IDF counts ~2x text.

    Example: segment_bytes(3000, 4, 17, dim=384) -> 31344 (the seeds/ segment takes 68 kB, in 4 kB blocks)
    """
    return 2 * text + chunks * 8 * dim + sentences * 2 * dim


def build_bytes(files: list[tuple[str, int]], *, dim: int, chunk_size: int) -> int:
    """A low estimate of the segments that files (name, size in bytes) make: their text (a low share of a file's
    size), a sentence per 200 bytes of it and a chunk per 5 * chunk_size bytes.

    Example: build_bytes([("a.txt", 3000), ("b.pdf", 10_000)], dim=384, chunk_size=200) -> 35648
    """
    text = int(sum(size * TEXT_SHARE.get(Path(name).suffix.lower(), 0.1) for name, size in files))
    return segment_bytes(text, text // (5 * chunk_size), text // 200, dim=dim)
