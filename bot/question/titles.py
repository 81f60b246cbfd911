"""Document titles from file names: a question that names a document finds it even where its passages never do.

"where does the grapes of wrath take place" names `The_Grapes_of_Wrath.txt`, whose text says "the novel" and "the
Joads", not the title; dense and BM25 retrieval both missed it. llama-index embeds the file name with every chunk
by default; citebot keeps chunk vectors to the text (offsets stay verbatim) and uses the name here instead: as a
sentence feature (`Candidate.title`) and to add the named documents' nearest passages to the ones scored.
Measured in bot/extractive.py's docstring.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import overload

from index.search.lexical import term_set
from index.search.titles import TitleIndex, title

__all__ = ["COMMON", "NAMED_SHARE", "Titles", "title"]

# A document is named when the question says this share of its title's words (IDF-weighted over all titles).
NAMED_SHARE = 0.5
# A title word shared by more documents than this ("report" in report-001 ... report-9999) finds none by itself:
# reading every such title on every question would grow with the corpus.
COMMON = 1000


class Titles:
    """The titles of an index's documents, to find the ones a question names.

    An index's `files` mapping carries its title terms, written with its segments (index/search/titles.py), so no
    question reads every file name; any other list of sources is read in one pass here (each distinct word stemmed
    once: 1.7 s for 100k made-up names with 105k distinct words on this 2-core machine under load, and 5 s of the
    first answer at 1M chunks before the segments kept them). A document's own title terms are read again only when
    a question shares one of them.
    """

    def __init__(self, sources: Iterable[str]) -> None:
        index = getattr(sources, "titles", None)
        self.index: TitleIndex = index if isinstance(index, TitleIndex) else TitleIndex.of(list(sources))
        self.sources: Sequence[str] = _Sources(self.index)
        self._idf: dict[str, float] = {}

    def named(self, question_terms: set[str], *, limit: int) -> list[str]:
        """The documents whose titles the question says (at least NAMED_SHARE of each title), best first.

        Example: {"grape", "wrath", "take", "place"} -> ["The_Grapes_of_Wrath.txt"]
        """
        docs = {key for t in question_terms if self.index.count(t) <= COMMON for key in self.index.keys(t)}
        shares = {key: self._share(question_terms, key) for key in docs}
        named = sorted((k for k, share in shares.items() if share >= NAMED_SHARE), key=lambda k: (-shares[k], k))
        return [self.index.source(k) for k in named[:limit]]

    def idf(self, term: str) -> float:
        """log(1 + titles / titles saying `term`), for a term of some title."""
        if term not in self._idf:
            self._idf[term] = math.log(1 + self.index.size / self.index.df(term))
        return self._idf[term]

    def _share(self, question_terms: set[str], key: int) -> float:
        ts = term_set(title(self.index.source(key)))
        total = sum(self.idf(t) for t in ts)
        return sum(self.idf(t) for t in ts & question_terms) / total if total else 0.0


class _Sources(Sequence[str]):
    """The documents' sources, in the index's order, read one at a time."""

    def __init__(self, index: TitleIndex) -> None:
        self.titles = index

    def __len__(self) -> int:
        return self.titles.size

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.titles.live(i + len(self) if i < 0 else i)
