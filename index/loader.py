"""Load documents from folders: .txt, .md, .pdf, .html, .docx. I/O lives here."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".txt", ".md", ".pdf", ".html", ".htm", ".docx")
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """A loaded file: `source` is its path relative to the indexed root, `text` exactly as loaded."""

    source: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Skipped:
    """A file that could not be loaded, and why."""

    source: str
    reason: str


class UnreadableDocument(Exception):
    """Raised by a reader; the loader turns it into a `Skipped` entry."""


def load_documents(paths: Iterable[Path]) -> tuple[list[Document], list[Skipped]]:
    """Load every supported file under `paths` (folders recursively); bad files are skipped, not fatal."""
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for root, path in _walk(paths):
        source = path.relative_to(root).as_posix() if path != root else path.name
        try:
            docs.append(load_file(path, source))
        except (UnreadableDocument, OSError) as exc:
            skipped.append(Skipped(source, str(exc) or type(exc).__name__))
    return docs, skipped


def load_file(path: Path, source: str) -> Document:
    """Read one file with the reader for its suffix."""
    if path.stat().st_size > MAX_BYTES:
        raise UnreadableDocument(f"larger than {MAX_BYTES // 2**20} MB (split it, or convert it to text)")
    return parse_document(path.read_bytes(), path.suffix, source)


def parse_document(data: bytes, suffix: str, source: str) -> Document:
    """Turn a file's bytes into a Document with the reader for `suffix`; raise UnreadableDocument if no text."""
    text = READERS[suffix.lower()](data)
    if not text.strip():
        raise UnreadableDocument("no text in file")
    return Document(source, text, hashlib.sha256(data).hexdigest())


def _walk(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield (root, file) for supported files, following no symlinked folders (no loops)."""
    for root in paths:
        if root.is_file():
            yield root, root
            continue
        for folder, dirs, files in os.walk(root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if path.suffix.lower() in SUFFIXES and not name.startswith("."):
                    yield root, path


def read_text(data: bytes) -> str:
    """Decode plain text: UTF-8 (with or without BOM), else UTF-16 with BOM, else cp1252; binary is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise UnreadableDocument("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_pdf(data: bytes) -> str:
    """Extract the text of every page of a PDF with pypdf."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pages = PdfReader(io.BytesIO(data)).pages
        return "\n\n".join(page.extract_text() or "" for page in pages)
    except (PyPdfError, ValueError, KeyError) as exc:
        raise UnreadableDocument(f"corrupt PDF ({exc})") from exc


def read_html(data: bytes) -> str:
    """Visible text of an HTML page (scripts and styles dropped)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(read_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    return soup.get_text("\n", strip=True)


def read_docx(data: bytes) -> str:
    """Text of a Word document via docx2txt."""
    import io
    import zipfile

    import docx2txt

    try:
        return str(docx2txt.process(io.BytesIO(data)))
    except (zipfile.BadZipFile, KeyError) as exc:
        raise UnreadableDocument(f"corrupt .docx ({exc})") from exc


READERS: dict[str, Callable[[bytes], str]] = {
    ".txt": read_text,
    ".md": read_text,
    ".pdf": read_pdf,
    ".html": read_html,
    ".htm": read_html,
    ".docx": read_docx,
}
