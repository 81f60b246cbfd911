"""Document titles from file names: a question that names a document finds it even where its passages never do.

"where does the grapes of wrath take place" names `The_Grapes_of_Wrath.txt`, whose text says "the novel" and "the
Joads", not the title; dense and BM25 retrieval both missed it. llama-index embeds the file name with every chunk
by default; citebot keeps chunk vectors to the text (offsets stay verbatim) and uses the name here instead: as a
sentence feature (`Candidate.title`) and to add the named documents' nearest passages to the ones scored.
Measured in bot/extractive.py's docstring.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from index.search.lexical import stems, term_set, words

# A document is named when the question says this share of its title's words (IDF-weighted over all titles).
NAMED_SHARE = 0.5
# A title word shared by more documents than this ("report" in report-001 ... report-9999) finds none by itself:
# reading every such title on every question would grow with the corpus.
COMMON = 1000
_SEPARATORS = re.compile(r"[_\-.+]+")


def title(source: str) -> str:
    """The words of a file's name.

    Example: title("docs/The_Grapes_of_Wrath-000.txt") -> "The Grapes of Wrath 000"
    """
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return _SEPARATORS.sub(" ", stem).strip()


class Titles:
    """The titles of an index's documents, to find the ones a question names.

    Built on the first question in one pass over the file names (each distinct word stemmed once): 1.7 s for 100k
    made-up names with 105k distinct words on this 2-core machine under load (7 runnable processes). A document's
    own title terms are read again only when a question shares one of them.
    """

    def __init__(self, sources: Iterable[str]) -> None:
        self.sources = list(sources)
        by_word: dict[str, list[int]] = {}
        for i, source in enumerate(self.sources):
            for word in set(words(title(source))):
                by_word.setdefault(word, []).append(i)
        self.by_term: dict[str, list[int]] = {}
        for word, stem in zip(by_word, stems(list(by_word)), strict=True):
            self.by_term.setdefault(stem, []).extend(by_word[word])
        self.idf = {t: math.log(1 + len(self.sources) / len(set(docs))) for t, docs in self.by_term.items()}

    def named(self, question_terms: set[str], *, limit: int) -> list[str]:
        """The documents whose titles the question says (at least NAMED_SHARE of each title), best first.

        Example: {"grape", "wrath", "take", "place"} -> ["The_Grapes_of_Wrath.txt"]
        """
        found = [self.by_term.get(t, []) for t in question_terms]
        docs = {i for rows in found if len(rows) <= COMMON for i in rows}
        shares = {i: self._share(question_terms, i) for i in docs}
        named = sorted((i for i, share in shares.items() if share >= NAMED_SHARE), key=lambda i: (-shares[i], i))
        return [self.sources[i] for i in named[:limit]]

    def _share(self, question_terms: set[str], doc: int) -> float:
        ts = term_set(title(self.sources[doc]))
        total = sum(self.idf[t] for t in ts)
        return sum(self.idf[t] for t in ts & question_terms) / total if total else 0.0
