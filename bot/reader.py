"""The reader: a MiniLM cross-encoder trained in this repo (benchmarks/train_reader.py; models/reader/MODEL_CARD.md)
that reads a question (and the conversation before it) with a candidate sentence, and says how likely the sentence
answers it and where in it the short answer is. Run by ONNX Runtime: no torch on the ask path."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import default_reader_dir
from bot.errors import ReaderUnavailable
from bot.reader_format import MAX_TOKENS, fitted, question_text, sentence_text

MODEL_DIR = default_reader_dir()
FILES = ("model.onnx", "tokenizer.json")
FORMAT = "format.json"  # how the model reads a pair ({"before_chars": n}); optional, checked when SHA256SUMS lists it
MAX_SPAN_TOKENS = 24  # the longest short answer, in word pieces


@dataclass(frozen=True)
class Reading:
    """What the reader made of one sentence: P(it answers), and the short answer's characters in it (if any)."""

    score: float
    start: int = -1
    end: int = -1
    span_score: float = 0.0

    @property
    def log_odds(self) -> float:
        """The score on a log-odds scale, where it is added to other evidence."""
        return log_odds(self.score)


def log_odds(p: float) -> float:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


class Reader:
    """Scores (question, sentence) pairs, each pair alone, `workers` pairs at once. Thread-safe."""

    def __init__(self, session: Any, tokenizer: Any, workers: int = 1, *, before_chars: int = 0) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.before_chars = before_chars  # characters of the sentence before a candidate read in front of it
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="reader") if workers > 1 else None

    def read(
        self, question: str, history: Sequence[str], sentences: Sequence[tuple[str, str] | tuple[str, str, str]]
    ) -> list[Reading]:
        """One Reading per (title, sentence[, the sentence before it]), for `question` asked after `history`
        (question, answer, ...)."""
        if not sentences:
            return []
        first = question_text(question, history)
        with self._lock:
            pairs = [self._encode(first, *item) for item in sentences]
        feeds = [_feed(encoding) for encoding, _ in pairs]
        runs = self._pool.map(self._run, feeds) if self._pool and len(feeds) > 1 else map(self._run, feeds)
        return [
            _reading(float(1 / (1 + np.exp(-score[0]))), start[0], end[0], encoding, offset)
            for (score, start, end), (encoding, offset) in zip(runs, pairs, strict=True)
        ]

    def _encode(self, first: str, title: str, text: str, before: str = "") -> tuple[Any, int]:
        """The pair's tokens (with the sentence before only where it fits) and where the sentence starts."""
        plain = sentence_text(title, text)[0]
        second = sentence_text(title, text, before, self.before_chars)[0]
        encoding, used = fitted(self.tokenizer.encode, first, second, plain)
        return encoding, len(used) - len(text)

    def _run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        """One pair through the model (ONNX Runtime runs sessions concurrently and releases the GIL)."""
        return list(self.session.run(None, feed))


def _feed(encoding: Any) -> dict[str, np.ndarray]:
    """The model's inputs for one pair. Pairs run one at a time: batched, they would be padded to the longest, and
    the int8 model's activation scale would depend on the other pairs in the batch."""
    ids = np.array([encoding.ids], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.array([encoding.type_ids])}


def _reading(probability: float, start: np.ndarray, end: np.ndarray, encoding: Any, offset: int) -> Reading:
    """The best span inside the sentence (not its title), as characters of the sentence."""
    inside = [
        i
        for i, (seq, (a, _)) in enumerate(zip(encoding.sequence_ids, encoding.offsets, strict=True))
        if seq == 1 and a >= offset
    ]
    if not inside:
        return Reading(probability)
    lo, hi = inside[0], inside[-1] + 1
    s = _softmax(start[lo:hi])
    e = _softmax(end[lo:hi])
    joint = np.triu(np.outer(s, e)) - np.triu(np.outer(s, e), MAX_SPAN_TOKENS)
    i, j = np.unravel_index(int(np.argmax(joint)), joint.shape)
    a, b = encoding.offsets[lo + int(i)][0], encoding.offsets[lo + int(j)][1]
    return Reading(probability, a - offset, b - offset, float(joint[i, j]))


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max())
    return np.asarray(z / z.sum())


_loaded: dict[tuple[Path, int, int], Reader] = {}
_load_lock = threading.Lock()


def load_reader(directory: Path = MODEL_DIR, *, threads: int = 1, workers: int = 1) -> Reader:
    """The reader in `directory`, its files checked against SHA256SUMS there (loaded once per folder, threads and
    workers). `threads` run each pair; `workers` pairs are read at once."""
    with _load_lock:
        key = (directory, threads, workers)
        if key not in _loaded:
            _loaded[key] = _load(directory, threads, workers)
        return _loaded[key]


def _load(directory: Path, threads: int, workers: int) -> Reader:
    checked = _verify(directory)
    import onnxruntime as ort
    from tokenizers import Tokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
    tokenizer.no_padding()
    form = json.loads((directory / FORMAT).read_text(encoding="utf-8")) if FORMAT in checked else {}
    return Reader(session, tokenizer, workers, before_chars=int(form.get("before_chars", 0)))


def _verify(directory: Path) -> tuple[str, ...]:
    """The files checked: FILES, and FORMAT when SHA256SUMS lists it. Raise ReaderUnavailable unless each is there
    with the sha256 that SHA256SUMS gives."""
    restore = f"restore it with `git checkout -- {directory}` or retrain it with `make reader`"
    sums = directory / "SHA256SUMS"
    try:
        rows = [line.split() for line in sums.read_text(encoding="utf-8").splitlines() if line.strip()]
        expected = {name: digest for digest, name in rows}
    except (OSError, ValueError) as exc:
        raise ReaderUnavailable(f"The reader model's checksums ({sums}) cannot be read: {restore}") from exc
    names = (*FILES, FORMAT) if FORMAT in expected else FILES
    for name in names:
        try:
            digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        except OSError as exc:
            raise ReaderUnavailable(f"The reader model file {directory / name} is missing: {restore}") from exc
        if digest != expected.get(name):
            raise ReaderUnavailable(f"The reader model file {directory / name} is damaged (sha256 differs): {restore}")
    return names


def write_checksums(directory: Path) -> None:
    """SHA256SUMS for the reader's files, FORMAT included when there (written by the export)."""
    names = (*FILES, FORMAT) if (directory / FORMAT).exists() else FILES
    lines = [f"{hashlib.sha256((directory / n).read_bytes()).hexdigest()}  {n}" for n in names]
    (directory / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")
