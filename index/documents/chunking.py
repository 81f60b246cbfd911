"""Pure text splitting with character offsets: chunks (llama-index SentenceSplitter) and sentences."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A piece of a source text: `text == source_text[start:end]`."""

    source: str
    text: str
    start: int
    end: int


_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "mt",
    "jr",
    "sr",
    "prof",
    "gen",
    "col",
    "lt",
    "sgt",
    "gov",
    "rev",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "u.s",
    "u.k",
    "c",
    "ca",
    "no",
    "vol",
    "fig",
    "inc",
    "ltd",
    "co",
    "corp",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
}
# A sentence ends at . ! ? before a capital or digit, and at a line break, except where a line was only wrapped
# (PDF text breaks every line and page: breaks between a lower-case letter or comma and a lower-case word join).
_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])|(?<![a-z,;\s])\n\s*+|\n\s*+(?![a-z])""")


def split_sentences(source: str, text: str, offset: int = 0) -> list[Span]:
    """Split text into sentences, keeping offsets (shifted by `offset`).

    Example: split_sentences("a", "Hi there. Dr. Who came.") -> [Span(text="Hi there."), Span(text="Dr. Who came.")]
    """
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _is_abbreviation(text, match.start()):
            continue
        _append_trimmed(spans, source, text, start, match.start() + len(match.group().rstrip()), offset)
        start = match.end()
    _append_trimmed(spans, source, text, start, len(text), offset)
    return spans


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` ends a known abbreviation or a single initial ("J. Smith")."""
    if text[dot] != ".":
        return False
    word = re.search(r"[\w.]+$", text[:dot])
    token = word.group().lower() if word else ""
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _append_trimmed(spans: list[Span], source: str, text: str, start: int, end: int, offset: int) -> None:
    """Append text[start:end] without surrounding white space, if anything is left."""
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    if right > left:
        spans.append(Span(source, piece[left:right], offset + start + left, offset + start + right))


def split_text(source: str, text: str, *, size: int, overlap: int) -> list[Span]:
    """Chunk a document with llama-index's SentenceSplitter (`size`/`overlap` in tokens), locating each chunk.

    Each chunk is re-cut from the source at the located offsets, so `text == source_text[start:end]` always holds.
    """
    from index.documents.splitter import sentence_splitter  # llama-index, imported narrowly, only when a file is split

    pieces = sentence_splitter(size, overlap).split_text(text)
    chunks: list[Span] = []
    cursor = 0
    for piece in pieces:
        start, end = _locate(text, piece, cursor)
        chunks.append(Span(source, text[start:end], start, end))
        cursor = start + 1
    return chunks


def _locate(text: str, piece: str, cursor: int) -> tuple[int, int]:
    """Find `piece` in `text` at or after `cursor`; fall back to matching its first and last words."""
    at = text.find(piece, cursor)
    if at >= 0:
        return at, at + len(piece)
    words = piece.split()
    head, tail = " ".join(words[:3]), " ".join(words[-3:])
    start = text.find(head, cursor)
    start = cursor if start < 0 else start
    end = text.find(tail, start)
    end = min(len(text), start + len(piece)) if end < 0 else end + len(tail)
    return start, max(end, start + 1)


def sentences_of_chunks(chunks: Sequence[Span], sentences: Sequence[Span]) -> list[list[int]]:
    """For each chunk, the sentences that lie mostly inside it (a binary search per chunk: linear in the corpus).

    Example: chunk [0, 100) and sentences [0, 40), [41, 120) -> [[0]] (the second is mostly outside).
    """
    by_source: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        by_source.setdefault(s.source, []).append(i)
    for members in by_source.values():
        members.sort(key=lambda i: sentences[i].start)
    ends = {src: [sentences[i].end for i in members] for src, members in by_source.items()}
    result = []
    for c in chunks:
        members = by_source.get(c.source, [])
        inside = []
        for i in members[bisect.bisect_right(ends.get(c.source, []), c.start) :]:
            s = sentences[i]
            if s.start >= c.end:
                break
            overlap = min(s.end, c.end) - max(s.start, c.start)
            if overlap > 0 and overlap * 2 >= s.end - s.start:
                inside.append(i)
        result.append(inside)
    return result
