"""Load documents from folders: .txt, .md, .pdf, .html, .docx. I/O lives here."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from stat import S_ISDIR
from typing import Any

from index.documents.locations import (
    PAGE_BREAK,
    Locations,
    find_in_order,
    heading_paths,
    markdown_headings,
    page_starts,
)

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

    def load(self) -> Document:
        """Itself: a Document is already loaded (as a Pending one is when its batch is written)."""
        return self


@dataclass(frozen=True)
class Pending:
    """A file to index, hashed but not parsed yet: its text is read when its batch is written (index/store/build.py), so
    an update holds one batch of text at a time, not every new file's."""

    source: str
    path: str
    sha256: str  # of its bytes when hashed
    stat: tuple[int, int]

    def load(self) -> Document:
        """Read and parse the file now (raises UnreadableDocument or OSError)."""
        return load_file(Path(self.path), self.source)


@dataclass(frozen=True)
class Skipped:
    """A file that could not be loaded, and why."""

    source: str
    reason: str


class UnreadableDocument(Exception):
    """Raised by a reader; the loader turns it into a `Skipped` entry."""


@dataclass(frozen=True)
class Scan:
    """The supported files under some folders, in walk order, with their size and mtime_ns (nothing read yet)."""

    sources: list[str] = field(default_factory=list)  # relative to the indexed root, with "/"
    paths: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    mtimes: list[int] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # files that could not be stat-ed


def hash_scanned(scan: Scan, which: Iterable[int]) -> tuple[list[Pending], list[Skipped]]:
    """Hash the files `which` (positions in `scan`) without parsing them; the scan's skipped files come first."""
    pending: list[Pending] = []
    skipped = list(scan.skipped)
    for i in which:
        try:
            _check_size(scan.sizes[i])
            digest = file_sha256(scan.paths[i])
            pending.append(Pending(scan.sources[i], scan.paths[i], digest, (scan.sizes[i], scan.mtimes[i])))
        except (UnreadableDocument, OSError) as exc:
            skipped.append(Skipped(scan.sources[i], str(exc) or type(exc).__name__))
    return pending, skipped


def file_sha256(path: str) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def load_documents(paths: Iterable[Path]) -> tuple[list[Document], list[Skipped]]:
    """Load every supported file under `paths` (folders recursively); bad files are skipped, not fatal."""
    scan = scan_files(paths)
    return load_scanned(scan, range(len(scan.sources)))


def load_scanned(scan: Scan, which: Iterable[int]) -> tuple[list[Document], list[Skipped]]:
    """Read the files `which` (positions in `scan`), in order; the scan's skipped files come first among the skipped."""
    docs: list[Document] = []
    skipped = list(scan.skipped)
    for i in which:
        try:
            docs.append(load_file(Path(scan.paths[i]), scan.sources[i]))
        except (UnreadableDocument, OSError) as exc:
            skipped.append(Skipped(scan.sources[i], str(exc) or type(exc).__name__))
    return docs, skipped


def scan_files(paths: Iterable[Path]) -> Scan:
    """List the supported files under `paths` with one stat each, in os.walk's order (see _scan_folder)."""
    scan = Scan()
    for root in paths:
        if root.is_file():
            _stat_into(scan, root.name, str(root))
        else:
            _scan_folder(scan, str(root))
    return scan


def _scan_folder(scan: Scan, top: str) -> None:
    """Depth first, each folder's files (by name) before its subfolders (by name); hidden names, symlinked folders and
    unreadable folders are left out. One listing per folder and one stat per document, plain strings, no Path: a large
    folder is scanned on every update (its cost at 1M chunks: docs/large-corpora.md)."""
    stack = [(top, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        base = folder + os.sep
        visible = [n for n in names if n[:1] != "."]
        wanted = [n for n in visible if n.endswith(SUFFIXES) or n.lower().endswith(SUFFIXES)]  # as splitext, lowered
        files, subfolders = _stat_folder(scan, base, prefix, wanted)
        scan.sources.extend([prefix + n for n in files] if prefix else files)
        scan.paths.extend([base + n for n in files])
        folders = sorted({*subfolders, *(_folders(folder) if len(wanted) < len(visible) else ())})
        stack += [(base + n, prefix + n + "/") for n in reversed(folders) if not os.path.islink(base + n)]


def _stat_folder(scan: Scan, base: str, prefix: str, names: list[str]) -> tuple[list[str], list[str]]:
    """Stat `names` in the folder `base` (following symlinks), each file's size and mtime into `scan`: returns the
    files and the names that are folders. Relative to the open folder (no path walked per file: 10% of a scan); if a
    stat fails, the folder again by path, one name at a time (_stat_each)."""
    try:
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY) if os.stat in os.supports_dir_fd else -1
    except OSError:
        fd = -1
    if fd < 0:
        return _stat_each(scan, base, prefix, names)
    files, folders, sizes, mtimes, done, stat = [], [], scan.sizes, scan.mtimes, len(scan.sizes), os.stat
    try:
        for name in names:
            st = stat(name, dir_fd=fd)
            if S_ISDIR(st.st_mode):
                folders.append(name)
                continue
            files.append(name)
            sizes.append(st.st_size)
            mtimes.append(st.st_mtime_ns)
    except OSError:
        del sizes[done:], mtimes[done:]
        return _stat_each(scan, base, prefix, names)
    finally:
        os.close(fd)
    return files, folders


def _stat_each(scan: Scan, base: str, prefix: str, names: list[str]) -> tuple[list[str], list[str]]:
    """_stat_folder by path, one name at a time, each name that cannot be stat-ed in `scan.skipped` with why."""
    files, folders = [], []
    for name in names:
        try:
            st = os.stat(base + name)
        except OSError as exc:
            scan.skipped.append(Skipped(prefix + name, str(exc) or type(exc).__name__))
            continue
        if S_ISDIR(st.st_mode):
            folders.append(name)
            continue
        files.append(name)
        scan.sizes.append(st.st_size)
        scan.mtimes.append(st.st_mtime_ns)
    return files, folders


def _folders(folder: str) -> list[str]:
    """The names of the folders in `folder`, hidden ones left out (from the listing's file types: no stat each)."""
    try:
        with os.scandir(folder) as found:
            return [e.name for e in found if not e.name.startswith(".") and _is_folder(e)]
    except OSError:
        return []


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _stat_into(scan: Scan, source: str, path: str) -> None:
    """Stat one file (following a symlink) into `scan`, or record why it could not be."""
    try:
        st = os.stat(path)
    except OSError as exc:
        scan.skipped.append(Skipped(source, str(exc) or type(exc).__name__))
        return
    scan.sources.append(source)
    scan.paths.append(path)
    scan.sizes.append(st.st_size)
    scan.mtimes.append(st.st_mtime_ns)


def load_file(path: Path, source: str) -> Document:
    """Read one file with the reader for its suffix."""
    st = path.stat()
    _check_size(st.st_size)
    document = parse_document(path.read_bytes(), path.suffix, source)
    return replace(document, stat=(st.st_size, st.st_mtime_ns))


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise UnreadableDocument(f"larger than {MAX_BYTES // 2**20} MB (split it, or convert it to text)")


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
