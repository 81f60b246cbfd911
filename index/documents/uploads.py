"""Accept uploaded documents: check type, size and readability, then store them under a safe name."""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from pathlib import Path

from index.diskspace import guard_writes
from index.documents.loader import SUFFIXES, UnreadableDocument, parse_document
from index.errors import CitebotError

UPLOAD_FOLDER = "uploads"


class UploadRejected(CitebotError):
    """An uploaded file was not accepted; the message says why."""


def safe_name(name: str) -> str:
    """A file name that cannot escape its folder or hide: no path parts, no leading dots, plain characters.

    Example: safe_name("../../etc/pass wd.txt") -> "pass_wd.txt"; safe_name("..") -> "upload"
    """
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    base = re.sub(r"[^\w.\-]+", "_", base).lstrip("._-")[:120]
    return base or "upload"


def save_upload(
    data_path: Path,
    original_name: str,
    docs_dir: Path,
    *,
    max_bytes: int,
    into: Path | None = None,
    replace: bool = False,
) -> Path:
    """Validate an uploaded file and store it as docs_dir/uploads/<safe name>; return its path.

    `into` stores it in another folder under docs_dir; `replace` overwrites a file of that name instead of
    choosing a free name.
    """
    name = safe_name(original_name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        allowed = ", ".join(SUFFIXES)
        raise UploadRejected(f"{original_name}: unsupported type {suffix or '(none)'} (allowed: {allowed})")
    size = data_path.stat().st_size
    if size > max_bytes:
        raise UploadRejected(f"{original_name}: {size / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB limit")
    try:
        data = data_path.read_bytes()
        parse_document(data, suffix, name)
    except (UnreadableDocument, OSError) as exc:
        raise UploadRejected(f"{original_name}: cannot be read ({exc})") from exc
    folder = into or docs_dir / UPLOAD_FOLDER
    with guard_writes(folder, what=f"the upload {original_name}", needed=len(data)):
        folder.mkdir(parents=True, exist_ok=True)
    target = folder / name if replace else _free_path(folder, name)
    if docs_dir.resolve() not in target.resolve().parents:
        raise UploadRejected(f"{original_name}: unsafe file name")
    _write(folder / f".{target.name}.part", target, data, what=f"the upload {original_name}")
    return target


def _write(tmp: Path, target: Path, data: bytes, *, what: str) -> None:
    """Write `data` to `tmp`, then rename it `target`: complete or absent, so an interrupted upload never leaves half
    a document; a write refused for space or permission removes `tmp` and raises DiskFull or ReadOnly."""
    try:
        with guard_writes(target.parent, what=what, needed=len(data)):
            tmp.write_bytes(data)
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):  # never written (a read-only folder)
            tmp.unlink()
        raise


def _free_path(folder: Path, name: str) -> Path:
    """folder/name, or folder/stem-2.suffix etc. if taken."""
    path = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path
