"""Load documents from folders: .txt, .md, .pdf, .html, .docx. I/O lives here."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from index.locations import PAGE_BREAK, Locations, find_in_order, heading_paths, markdown_headings, page_starts

SUFFIXES = (".txt", ".md", ".pdf", ".html", ".htm", ".docx")
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """A loaded file: `source` is its path relative to the indexed root, `text` exactly as loaded."""

    source: str
    text: str
    sha256: str
    locations: Locations = Locations()  # PDF page starts or heading paths, as offsets into `text`
    stat: tuple[int, int] = (0, 0)  # size and mtime_ns when read
    read: bool = True  # False: unchanged since indexed (same size and mtime), so not read: `text` is empty


@dataclass(frozen=True)
class Skipped:
    """A file that could not be loaded, and why."""

    source: str
    reason: str


class UnreadableDocument(Exception):
    """Raised by a reader; the loader turns it into a `Skipped` entry."""


def load_documents(
    paths: Iterable[Path], *, known: Mapping[str, tuple[int, int, str]] | None = None
) -> tuple[list[Document], list[Skipped]]:
    """Load every supported file under `paths` (folders recursively); bad files are skipped, not fatal.

    `known` maps sources already indexed to their (size, mtime_ns, sha256): a file with the same size and mtime is
    not read (a Document with `read=False` and that sha256), so an update of a large folder reads only what changed.
    """
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for source, path in _walk(paths):
        try:
            st = os.stat(path)
            seen = (known or {}).get(source)
            if seen is not None and seen[:2] == (st.st_size, st.st_mtime_ns):
                docs.append(Document(source, "", seen[2], stat=(st.st_size, st.st_mtime_ns), read=False))
                continue
            docs.append(load_file(Path(path), source))
        except (UnreadableDocument, OSError) as exc:
            skipped.append(Skipped(source, str(exc) or type(exc).__name__))
    return docs, skipped


def load_file(path: Path, source: str) -> Document:
    """Read one file with the reader for its suffix."""
    st = path.stat()
    if st.st_size > MAX_BYTES:
        raise UnreadableDocument(f"larger than {MAX_BYTES // 2**20} MB (split it, or convert it to text)")
    document = parse_document(path.read_bytes(), path.suffix, source)
    return replace(document, stat=(st.st_size, st.st_mtime_ns))


def parse_document(data: bytes, suffix: str, source: str) -> Document:
    """Turn a file's bytes into a Document with the reader for `suffix`; raise UnreadableDocument if no text."""
    text, locations = read_located(data, suffix.lower())
    if not text.strip():
        raise UnreadableDocument("no text in file")
    return Document(source, text, hashlib.sha256(data).hexdigest(), locations)


def read_located(data: bytes, suffix: str) -> tuple[str, Locations]:
    """The text of a file and where its pages (PDF) or sections (.md, .html, .docx) start in it."""
    if suffix == ".pdf":
        pages = read_pdf_pages(data)
        return PAGE_BREAK.join(pages), Locations(pages=page_starts(pages))
    text = READERS[suffix](data)
    titles = HEADINGS.get(suffix)
    return text, Locations(headings=heading_paths(titles(data, text))) if titles else Locations()


def _walk(paths: Iterable[Path]) -> Iterator[tuple[str, str]]:
    """Yield (source, file path) for supported files, following no symlinked folders (no loops); `source` is the path
    relative to its root, with "/" (plain strings: a large folder is walked on every update)."""
    for root in paths:
        if root.is_file():
            yield root.name, str(root)
            continue
        top = str(root)
        for folder, dirs, files in os.walk(top, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            prefix = os.path.relpath(folder, top).replace(os.sep, "/") + "/" if folder != top else ""
            for name in sorted(files):
                if os.path.splitext(name)[1].lower() in SUFFIXES and not name.startswith("."):
                    yield prefix + name, os.path.join(folder, name)


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
    """Extract the text of every page of a PDF with pypdf, pages separated by a blank line."""
    return PAGE_BREAK.join(read_pdf_pages(data))


def read_pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF, with pypdf."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pages = PdfReader(io.BytesIO(data)).pages
        return [page.extract_text() or "" for page in pages]
    except (PyPdfError, ValueError, KeyError) as exc:
        raise UnreadableDocument(f"corrupt PDF ({exc})") from exc


def read_html(data: bytes) -> str:
    """Visible text of an HTML page (scripts and styles dropped)."""
    return str(_visible_html(data).get_text("\n", strip=True))


def html_headings(data: bytes, text: str) -> list[tuple[int, int, str]]:
    """The h1-h6 headings of an HTML page as (offset in `text`, level, title)."""
    soup = _visible_html(data)
    titles = [(int(tag.name[1]), tag.get_text("\n", strip=True)) for tag in soup(["h1", "h2", "h3", "h4", "h5", "h6"])]
    return find_in_order(text, titles)


@functools.lru_cache(maxsize=1)  # read_html and html_headings parse the same page once
def _visible_html(data: bytes) -> Any:
    """The parsed page without scripts and styles."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(read_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    return soup


def read_docx(data: bytes) -> str:
    """Text of a Word document via docx2txt."""
    import io
    import zipfile

    import docx2txt

    try:
        return str(docx2txt.process(io.BytesIO(data)))
    except (zipfile.BadZipFile, KeyError) as exc:
        raise UnreadableDocument(f"corrupt .docx ({exc})") from exc


def docx_headings(data: bytes, text: str) -> list[tuple[int, int, str]]:
    """Paragraphs styled "Heading N" (or "Title", level 1) in a .docx, as (offset in `text`, level, title)."""
    import io
    import zipfile
    from xml.etree import ElementTree

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    try:
        root = ElementTree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return []
    titles = []
    for para in root.iter(f"{w}p"):
        style = para.find(f"{w}pPr/{w}pStyle")
        name = style.get(f"{w}val", "") if style is not None else ""
        level = (
            1 if name.lower() == "title" else int(m.group(1)) if (m := re.match(r"heading ?(\d)", name, re.I)) else 0
        )
        if level:
            titles.append((level, "".join(t.text or "" for t in para.iter(f"{w}t")).strip()))
    return find_in_order(text, titles)


def _markdown(data: bytes, text: str) -> list[tuple[int, int, str]]:
    return markdown_headings(text)


HEADINGS: dict[str, Callable[[bytes, str], list[tuple[int, int, str]]]] = {
    ".md": _markdown,
    ".html": html_headings,
    ".htm": html_headings,
    ".docx": docx_headings,
}

READERS: dict[str, Callable[[bytes], str]] = {
    ".txt": read_text,
    ".md": read_text,
    ".pdf": read_pdf,
    ".html": read_html,
    ".htm": read_html,
    ".docx": read_docx,
}
