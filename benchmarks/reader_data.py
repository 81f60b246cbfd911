"""Training pairs for the reader, made from ../shared/data/train (never from the calibration sets).

Each question gives one positive pair (the sentence holding its answer, with the answer's character span) and
negatives: the most word-sharing and a random other sentence of its paragraph, the most word-sharing sentence of
another paragraph of its article (same topic, no answer: SQuAD 2.0's unanswerables are like that), and a
word-sharing sentence of another article ("not in the documents"). Some questions become follow-ups: a second
question on the same paragraph, its subject turned into a pronoun, with the first question and its answer sentence
as history; some keep an unrelated conversation before them, which they must not lean on. Some questions also come
with a name or number swapped for another from the same article, paired with the sentence that answered the original:
the same words, no answer (how SQuAD 2.0's adversarial unanswerables are written).

Articles are split before anything is made: `dev` (choose hyperparameters and the refusal threshold) and `fresh`
(measured once, never looked at while choosing) are written as SQuAD-format files for benchmarks/quality.py.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.reader_format import question_text, sentence_text
from index.documents.chunking import split_sentences

SHA256 = {
    "squad": ("squad-v1.1-train-rebuilt.json.gz", "2f12ac39645a01fb05db22b8e9df8dda34bc2de315a8a433fe217be092c5b720"),
    "tydi": (
        "tydiqa-goldp-v1.1-train-english.json.gz",
        "df49eb375c9a192505964be44afcfa6d5609b3db4d75ac9b1488e7b1019235ef",
    ),
    "nq": ("nq-open-oracle-train.json.gz", "bd58c2c943d7f8e229bdf412fc41b5039ce7ba6108912b3ea283b173acc50238"),
}
HELD_OUT = {"squad": 16, "tydi": 250, "nq": 150}  # articles drawn for each of dev and fresh, per set
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of in on at to for from by with and or is are was were be been do does did what which who whom whose "
    "when where why how that this these those it its as into than then there their they he she his her".split()
)
PRONOUNS = ("it", "they", "he", "she")
_NAME = re.compile(r"\b(?:[A-Z][a-z]+|\d{2,4})\b")


class BadTrainingFile(Exception):
    """A training file is missing or is not the one the README describes."""


@dataclass(frozen=True)
class Pair:
    """One training example: the two texts, whether the sentence answers, the answer's characters in `second`."""

    first: str
    second: str
    label: float
    start: int = -1
    end: int = -1
    kind: str = ""
    group: int = -1  # the question it was made for: its answer sentence and negatives share it (-1: none)
    plain: str = ""  # `second` without the sentence before: read where the pair overflows (reader_format.fitted)


def read(folder: Path, name: str) -> list[dict]:
    """A training set's articles, after checking its sha256 against the README's."""
    file, digest = SHA256[name]
    path = folder / file
    if not path.is_file():
        raise BadTrainingFile(f"{path} is missing: the training sets live in ../shared/data/train")
    raw = gzip.decompress(path.read_bytes())
    if hashlib.sha256(raw).hexdigest() != digest:
        raise BadTrainingFile(f"{path}: sha256 differs from ../shared/data/train/README.md")
    return list(json.loads(raw)["data"])


def split_articles(articles: list[dict], held: int, seed: int) -> tuple[list[dict], list[dict], list[dict]]:
    """train, dev, fresh: `held` articles each drawn for dev and fresh with `seed`, less any whose title another
    split also has (TyDi's file gives each question its own entry, so one Wikipedia article can be several)."""
    order = list(range(len(articles)))
    random.Random(seed).shuffle(order)
    train = [articles[i] for i in order[2 * held :]]
    dev, fresh = [articles[i] for i in order[:held]], [articles[i] for i in order[held : 2 * held]]
    titles = [{a["title"] for a in split} for split in (train, dev, fresh)]
    dev = [a for a in dev if a["title"] not in titles[0] | titles[2]]
    fresh = [a for a in fresh if a["title"] not in titles[0] | titles[1]]
    return train, dev, fresh


def write_squad_file(path: Path, articles: list[dict]) -> None:
    """Articles as a SQuAD 2.0-style file (every question answerable) that benchmarks/quality.py reads."""
    for article in articles:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                qa["is_impossible"] = False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "v2.0", "data": articles}), encoding="utf-8")


def words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


@dataclass
class _Sentence:
    text: str
    start: int
    end: int
    words: set[str]
    before: str = ""  # the sentence before it in its paragraph


def _sentences(context: str) -> list[_Sentence]:
    spans = split_sentences("", context)
    befores = ["", *(s.text for s in spans[:-1])]
    return [_Sentence(s.text, s.start, s.end, words(s.text), b) for s, b in zip(spans, befores, strict=True)]


def _best(sentences: list[_Sentence], q: set[str], exclude: str) -> _Sentence | None:
    ranked = [s for s in sentences if exclude.lower() not in s.text.lower()]
    return max(ranked, key=lambda s: len(q & s.words), default=None)


def pronoun_version(question: str, title: str, earlier: str, rng: random.Random) -> str | None:
    """The question with the subject it shares with its title or an earlier question turned into a pronoun.

    Example: ("When was Beyonce born?", "Beyoncé", "Who is Beyonce?") -> "When was she born?" (pronoun at random)
    """
    tokens = question.rstrip("?").split()
    known = words(title) | words(earlier)
    for n in (4, 3, 2, 1):
        for i in range(1, len(tokens) - n + 1):
            span = tokens[i : i + n]
            if not all(words(t) <= known and words(t) for t in span) or not span[0][:1].isupper():
                continue
            start = i - 1 if i > 1 and tokens[i - 1].lower() == "the" else i
            rest = tokens[:start] + [rng.choice(PRONOUNS)] + tokens[i + n :]
            return " ".join(rest) + "?"
    return None


def swapped(question: str, sentence: str, names: list[str], rng: random.Random) -> str | None:
    """The question with a name or number it shares with `sentence` replaced by one of `names` that the sentence
    does not contain (None when there is none to swap).

    Example: ("When did Chopin leave Warsaw?", "Chopin left Warsaw.", ["Paris"]) -> "When did Chopin leave Paris?"
    """
    shared = [m for m in _NAME.finditer(question) if m.start() > 0 and m.group() in sentence]
    others = [n for n in names if n not in sentence and n not in question]
    if not shared or not others:
        return None
    m = rng.choice(shared)
    same_kind = [n for n in others if n.isdigit() == m.group().isdigit()]
    if not same_kind:
        return None
    return question[: m.start()] + rng.choice(same_kind) + question[m.end() :]


class Lexical:
    """The sentences of every article, searchable by the IDF-weighted words they share with a question: another
    article's best match is the "not in the documents" negative retrieval meets in a many-article index (far="lexical").
    """

    MAX_DF = 0.02  # words in more of the sentences than this share (and than 100) are too common to match by

    def __init__(self, pool: list[tuple[str, _Sentence]]) -> None:
        postings: dict[str, list[int]] = {}
        for i, (_, s) in enumerate(pool):
            for w in s.words:
                postings.setdefault(w, []).append(i)
        cap = max(100, int(self.MAX_DF * len(pool)))
        self.pool = pool
        self.postings = {w: np.array(ids, np.int64) for w, ids in postings.items() if len(ids) <= cap}
        self.idf = {w: math.log(len(pool) / len(ids)) for w, ids in self.postings.items()}

    def best(self, q_words: set[str], title: str, answer: str) -> tuple[str, _Sentence] | None:
        """The other article's sentence sharing most IDF weight with `q_words` and lacking `answer` (first on ties)."""
        found = [w for w in sorted(q_words) if w in self.postings]
        if not found:
            return None
        ids = np.concatenate([self.postings[w] for w in found])
        weights = np.concatenate([np.full(len(self.postings[w]), self.idf[w]) for w in found])
        rows, inverse = np.unique(ids, return_inverse=True)
        scores = np.bincount(inverse, weights=weights)
        for k in np.lexsort((rows, -scores))[:64]:
            other, sentence = self.pool[int(rows[k])]
            if other != title and answer.lower() not in sentence.text.lower():
                return other, sentence
        return None


def pairs(
    articles: list[dict],
    *,
    rng: random.Random,
    per_article: int | None,
    follow_share: float,
    swap_share: float = 0.0,
    far: str = "sample",
    first_group: int = 0,
    before_chars: int = 0,
) -> Iterator[Pair]:
    """Positive and negative pairs for up to `per_article` questions of each article (all when None); `swap_share`
    of them also give a swapped question (see `swapped`) paired, as a negative, with the answer sentence. The
    other-article negative is the best word match among 64 random sentences (far="sample") or among all of them
    (far="lexical", see `Lexical`). A question's answer sentence and negatives share a `group`, numbered from
    `first_group` (a swapped question has none). Each sentence is read after the last `before_chars` characters of
    the one before it (bot/reader_format.py `sentence_text`)."""
    parsed = [(a["title"], [(p, _sentences(p["context"])) for p in a["paragraphs"]]) for a in articles]
    pool = [(t, s) for t, ps in parsed for _, ss in ps for s in ss]
    lexical = Lexical(pool) if far == "lexical" else None
    group = itertools.count(first_group)
    for title, paragraphs in parsed:
        names = sorted({m.group() for p, _ in paragraphs for m in _NAME.finditer(p["context"]) if m.start() > 0})
        questions = [(p, ss, qa) for p, ss in paragraphs for qa in p["qas"]]
        rng.shuffle(questions)
        for paragraph, sentences, qa in questions[:per_article]:
            answer = qa["answers"][0]
            at, text = answer["answer_start"], answer["text"]
            gold = next((s for s in sentences if s.start <= at and at + len(text) <= s.end), None)
            if gold is None or not text.strip():
                continue
            history: list[str] = []
            question = qa["question"]
            kind = "alone"
            others = [q for q in paragraph["qas"] if q is not qa]
            roll = rng.random()
            if roll < follow_share and others:
                first = rng.choice(others)
                first_at = first["answers"][0]["answer_start"]
                said = next((s.text for s in sentences if s.start <= first_at < s.end), "")
                turned = pronoun_version(question, title, first["question"], rng)
                if turned:
                    question, kind = turned, "follow-up"
                    history = [first["question"], said]
            elif roll < follow_share * 1.5:
                other_title, other = next(ts for ts in iter(lambda: rng.choice(pool), None) if ts[0] != title)
                history, kind = [f"What about {other_title.replace('_', ' ')}?", other.text], "new topic"
            first_text = question_text(question, history)
            q_words = words(question) | (words(" ".join(history)) if kind == "follow-up" else set())
            second, offset = sentence_text(title, gold.text, gold.before, before_chars)
            start = offset + at - gold.start
            mine = next(group)
            plain = sentence_text(title, gold.text)[0]
            yield Pair(first_text, second, 1.0, start, start + len(text), kind, mine, plain)
            if kind == "alone" and rng.random() < swap_share:
                changed = swapped(question, gold.text, names, rng)
                if changed:
                    yield Pair(question_text(changed), second, 0.0, kind="swapped")
            elsewhere = [s for p, ss in paragraphs if p is not paragraph for s in ss]
            negatives = _negatives(title, sentences, elsewhere, pool, gold, text, q_words, rng, lexical)
            for other_title, sentence in negatives:
                second = sentence_text(other_title, sentence.text, sentence.before, before_chars)[0]
                plain = sentence_text(other_title, sentence.text)[0]
                yield Pair(first_text, second, 0.0, kind=kind, group=mine, plain=plain)


def _negatives(
    title: str,
    sentences: list[_Sentence],
    elsewhere: list[_Sentence],
    pool: list[tuple[str, _Sentence]],
    gold: _Sentence,
    answer: str,
    q_words: set[str],
    rng: random.Random,
    lexical: Lexical | None = None,
) -> list[tuple[str, _Sentence]]:
    """(title, sentence) pairs without the answer: from another article (the best match among 64 random sentences, or
    with `lexical` among all), from the paragraph, from the article."""
    same = [s for s in sentences if s is not gold and answer.lower() not in s.text.lower()]
    mine = [max(same, key=lambda s: len(q_words & s.words)), rng.choice(same)] if same else []
    neighbour = _best(elsewhere, q_words, answer)
    mine += [neighbour] if neighbour is not None else []
    sample = [pool[rng.randrange(len(pool))] for _ in range(64)]
    sample = [(t, s) for t, s in sample if t != title]  # drawn either way: the same pairs otherwise, for either kind
    if lexical is not None:
        best = lexical.best(q_words, title, answer)
        far = [best] if best else []
    else:
        far = [max(sample, key=lambda ts: len(q_words & ts[1].words))] if sample else []
    return far + [(title, s) for s in {id(s): s for s in mine}.values()]
