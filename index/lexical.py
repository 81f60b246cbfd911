"""Words and BM25: the tokenizer shared by lexical search and sentence scoring, and a BM25 index saved with the index.

The BM25 index is built when the index is written and loaded as three arrays (memory-mapped), so answering never
rebuilds it: loading a 50k-chunk index reads it in milliseconds, where rebuilding took seconds per start (issue 11).
Scoring is Lucene's BM25 (k1 1.5, b 0.75), as in bm25s, which llama-index's BM25Retriever wraps; tokens are the same
(lower-case words of two or more characters, English stop words removed, Snowball-stemmed).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

K1 = 1.5
B = 0.75

# bm25s's English list (what llama-index's BM25Retriever removes), plus question words and pronouns, which carry
# no evidence in a question.
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with why what when where who whom whose which how can could would should does did do many "
    "much its them he she his her him we our you your those".split()
)
_WORD = re.compile(r"\w\w+")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def tokens(text: str) -> list[str]:
    """Stemmed content words, in order, repeats kept.

    Example: tokens("Why can't Ukraine join NATO? Ukraine!") -> ["ukrain", "join", "nato", "ukrain"]
    """
    return stems(words(text))


def terms(text: str) -> set[str]:
    """Stemmed content words as a set.

    Example: terms("Why can't Ukraine join NATO?") -> {"ukrain", "join", "nato"}
    """
    return set(tokens(text))


@lru_cache(maxsize=100_000)
def term_set(text: str) -> frozenset[str]:
    """terms(), remembered: the sentences and passages of an index are scored again and again."""
    return frozenset(tokens(text))


def words(text: str) -> list[str]:
    """Lower-case content words, unstemmed: tokens() before stemming.

    Example: words("The Grapes of Wrath") -> ["grapes", "wrath"]
    """
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def stems(words: list[str]) -> list[str]:
    """The Snowball stem of each word, as tokens() makes them.

    Example: stems(["grapes", "wrath"]) -> ["grape", "wrath"]
    """
    return list(_stemmer().stemWords(words))


class BM25:
    """A BM25 index over numbered texts: per term, the texts containing it and their precomputed scores."""

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, rows: np.ndarray, scores: np.ndarray) -> None:
        self.vocab, self.indptr, self.rows, self.scores = vocab, indptr, rows, scores
        self.size = int(rows.max()) + 1 if len(rows) else 0

    @classmethod
    def build(cls, texts: Iterable[str]) -> BM25:
        """Index `texts`; row i of a result is texts[i]."""
        counts = [Counter(tokens(t)) for t in texts]
        vocab: dict[str, int] = {}
        for c in counts:
            for term in c:
                vocab.setdefault(term, len(vocab))
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float32)
        triples = [(vocab[term], row, tf) for row, c in enumerate(counts) for term, tf in c.items()]
        return cls._from_triples(vocab, triples, lengths)

    @classmethod
    def _from_triples(cls, vocab: dict[str, int], triples: list[tuple[int, int, int]], lengths: np.ndarray) -> BM25:
        table = np.array(triples, dtype=np.int64).reshape(-1, 3)
        table = table[np.lexsort((table[:, 1], table[:, 0]))]
        term, row, tf = table[:, 0], table[:, 1], table[:, 2].astype(np.float32)
        df = np.bincount(term, minlength=len(vocab))
        n = max(len(lengths), 1)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = K1 * (1 - B + B * lengths[row] / max(float(lengths.mean()) if len(lengths) else 1.0, 1e-9))
        scores = (idf[term] * tf * (K1 + 1) / (tf + norm)).astype(np.float32)
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return cls(vocab, indptr, row.astype(np.int32), scores)

    def search(self, text: str, *, k: int) -> list[tuple[int, float]]:
        """The top `k` rows by BM25 score for `text`, best first; rows sharing no term with it are left out."""
        ids = {self.vocab[t] for t in tokens(text) if t in self.vocab}
        if not ids:
            return []
        total = np.zeros(self.size, dtype=np.float32)
        for t in ids:
            a, b = self.indptr[t], self.indptr[t + 1]
            total[self.rows[a:b]] += self.scores[a:b]
        hits = np.flatnonzero(total)
        top = hits[np.argsort(-total[hits], kind="stable")[:k]]
        return [(int(r), float(total[r])) for r in top]

    def save(self, folder: Path) -> None:
        """Write the vocabulary (`bm25.json`) and the three arrays (`bm25-*.npy`) into `folder`."""
        (folder / "bm25.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        for name in ("indptr", "rows", "scores"):
            np.save(folder / f"bm25-{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path) -> BM25:
        """Read an index written by `save`; the arrays are memory-mapped."""
        vocab = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        arrays = [np.load(folder / f"bm25-{n}.npy", mmap_mode="r") for n in ("indptr", "rows", "scores")]
        return cls(vocab, *arrays)


class Vocabulary:
    """Inverse document frequencies of terms over the indexed sentences."""

    def __init__(self, counts: dict[str, int], size: int) -> None:
        self.counts, self.size = counts, size
        self._weights: dict[frozenset[str], tuple[dict[str, float], float]] = {}  # a question's IDFs and their sum

    @classmethod
    def build(cls, sentences: Iterable[str]) -> Vocabulary:
        """Count in how many of `sentences` each term occurs."""
        counts: Counter[str] = Counter()
        size = 0
        for text in sentences:
            counts.update(terms(text))
            size += 1
        return cls(dict(counts), size)

    def idf(self, term: str) -> float:
        """BM25-style IDF; unseen terms get the highest weight."""
        df = self.counts.get(term, 0)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def coverage(self, question_terms: set[str], *texts: str) -> float:
        """IDF-weighted share of the question's terms that the texts, together, contain.

        Example: question {"ukrain", "nato"}, sentence "Ukraine ..." -> idf(ukrain) / (idf(ukrain) + idf(nato))
        """
        weights, total = self._weighed(frozenset(question_terms))
        if total == 0:
            return 0.0
        found = term_set(texts[0]) if len(texts) == 1 else frozenset().union(*(term_set(t) for t in texts))
        return sum(w for t, w in weights.items() if t in found) / total

    def _weighed(self, question_terms: frozenset[str]) -> tuple[dict[str, float], float]:
        """The question's IDFs, remembered: one question scores dozens of sentences."""
        if question_terms not in self._weights:
            if len(self._weights) > 1000:
                self._weights.clear()
            weights = {t: self.idf(t) for t in question_terms}
            self._weights[question_terms] = weights, sum(weights.values())
        return self._weights[question_terms]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"size": self.size, "counts": self.counts}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["counts"], data["size"])
