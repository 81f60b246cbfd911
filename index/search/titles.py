"""Documents by the words of their file names, written with each segment, so no question reads every name.

A question that names a document finds it by title (bot/question/titles.py). Its terms were found by stemming the
title of every indexed file on the first question (docs/large-corpora.md). Each segment
now keeps, per title term, its documents (`title-terms.json`, `title-indptr.npy`, `title-docs.npy`: one entry per
distinct word of a title, so a title whose two words share a stem lists its document twice), written with its file
table; a segment written before has them computed from its sources when first asked for, the same arrays.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.search.lexical import stems, words

TERMS_FILE, INDPTR_FILE, DOCS_FILE = "title-terms.json", "title-indptr.npy", "title-docs.npy"
_SEPARATORS = re.compile(r"[_\-.+]+")


def title(source: str) -> str:
    """The words of a file's name.

    Example: title("docs/The_Grapes_of_Wrath-000.txt") -> "The Grapes of Wrath 000"
    """
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return _SEPARATORS.sub(" ", stem).strip()


@dataclass(frozen=True)
class TitleTable:
    """One segment's title terms: per term (row `i` of `terms`), its documents, ascending, `docs[indptr[i]:...]`."""

    terms: dict[str, int]
    indptr: np.ndarray
    docs: np.ndarray

    @classmethod
    def build(cls, sources: Sequence[str]) -> TitleTable:
        """The table of documents named `sources` (document d is sources[d]), each distinct word stemmed once."""
        by_word: dict[str, list[int]] = {}
        for d, source in enumerate(sources):
            for word in set(words(title(source))):
                by_word.setdefault(word, []).append(d)
        by_term: dict[str, list[int]] = {}
        for word, stem in zip(by_word, stems(list(by_word)), strict=True):
            by_term.setdefault(stem, []).extend(by_word[word])
        ordered = sorted(by_term)
        lists = [sorted(by_term[t]) for t in ordered]
        indptr = np.concatenate([[0], np.cumsum([len(x) for x in lists], dtype=np.int64)]).astype(np.int64)
        docs = np.array([d for x in lists for d in x], dtype=np.int32)
        return cls({t: i for i, t in enumerate(ordered)}, indptr, docs)

    def save(self, folder: Path) -> None:
        """Write the table into a segment folder (flushed with the segment's other files)."""
        ordered = sorted(self.terms, key=self.terms.__getitem__)
        (folder / TERMS_FILE).write_text(json.dumps(ordered, ensure_ascii=False), encoding="utf-8")
        np.save(folder / INDPTR_FILE, self.indptr)
        np.save(folder / DOCS_FILE, self.docs)

    @classmethod
    def load(cls, folder: Path, sources: Sequence[str]) -> TitleTable:
        """A segment's table, or (written before these files) the table of its `sources`."""
        try:
            ordered = json.loads((folder / TERMS_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls.build(sources)
        indptr, docs = (np.load(folder / name) for name in (INDPTR_FILE, DOCS_FILE))
        return cls({t: i for i, t in enumerate(ordered)}, indptr, docs)

    def docs_of(self, term: str) -> np.ndarray:
        at = self.terms.get(term)
        return self.docs[:0] if at is None else self.docs[int(self.indptr[at]) : int(self.indptr[at + 1])]


class TitleIndex:
    """The title terms of a version's live documents, over its segments' tables.

    A document is known by its key, segment * 2**32 + number: keys sort as the documents do in the version.
    """

    def __init__(self, tables: Sequence[TitleTable], sources: Sequence[Sequence[str]], dead: Sequence[Sequence[int]]):
        self.tables, self.sources = list(tables), list(sources)
        self.dead = [np.asarray(sorted(d), dtype=np.int32) for d in dead]
        self.size = sum(len(s) - len(d) for s, d in zip(self.sources, self.dead, strict=True))  # live documents
        self._df: dict[str, int] = {}

    @classmethod
    def of(cls, sources: Sequence[str]) -> TitleIndex:
        """One table of `sources`, in memory."""
        return cls([TitleTable.build(sources)], [sources], [[]])

    def keys(self, term: str) -> list[int]:
        """The keys of the live documents whose titles say `term`, once per distinct word that stems to it."""
        out: list[int] = []
        for seg, table in enumerate(self.tables):
            docs = table.docs_of(term)
            if len(self.dead[seg]) and len(docs):
                docs = docs[~np.isin(docs, self.dead[seg])]
            out += (docs.astype(np.int64) + (seg << 32)).tolist()
        return out

    def count(self, term: str) -> int:
        """len(self.keys(term)), without listing them."""
        total = 0
        for seg, table in enumerate(self.tables):
            docs = table.docs_of(term)
            total += len(docs) - (int(np.isin(docs, self.dead[seg]).sum()) if len(self.dead[seg]) else 0)
        return total

    def df(self, term: str) -> int:
        """How many live documents' titles say `term`."""
        if term not in self._df:
            keys = np.array(self.keys(term), dtype=np.int64)
            self._df[term] = int(np.count_nonzero(np.diff(keys)) + 1) if len(keys) else 0
        return self._df[term]

    def source(self, key: int) -> str:
        return self.sources[key >> 32][key & 0xFFFFFFFF]

    def live(self, i: int) -> str:
        """The `i`-th live document's source, in the version's order."""
        for sources, dead in zip(self.sources, self.dead, strict=True):
            n = len(sources) - len(dead)
            if i < n:
                alive = np.setdiff1d(np.arange(len(sources)), dead) if len(dead) else None
                return sources[i if alive is None else int(alive[i])]
            i -= n
        raise IndexError(i)
