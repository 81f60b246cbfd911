"""Shared helpers for the benchmarks: corpora in temporary folders, percentiles, a busy neighbour process."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SQUAD = ROOT / "data" / "squad2-dev-sample.json"
SEED_QUESTIONS = ROOT / "tests" / "questions" / "seed.yaml"


@dataclass(frozen=True)
class Question:
    """One SQuAD-format question: its gold document (`<title>-<nnn>.txt`) and gold answers."""

    id: str
    text: str
    source: str
    answers: tuple[str, ...]
    impossible: bool


def read_squad(path: Path = SQUAD) -> tuple[dict[str, str], list[Question]]:
    """A SQuAD-format file as documents (one per paragraph, by file name) and its questions."""
    documents: dict[str, str] = {}
    questions = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for i, paragraph in enumerate(article["paragraphs"]):
            name = document_name(article["title"], i)
            documents[name] = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa["answers"])
                questions.append(Question(str(qa["id"]), qa["question"], name, answers, bool(qa.get("is_impossible"))))
    return documents, questions


T = TypeVar("T")


def document_name(title: str, i: int) -> str:
    """The file name of an article's i-th paragraph as a document.

    Example: document_name("Sky (United Kingdom)", 3) -> "Sky_United_Kingdom_-003.txt"
    """
    return f"{re.sub(r'[^A-Za-z0-9]+', '_', title)}-{i:03d}.txt"


def seeded_sample(items: Sequence[T], limit: int) -> list[T]:
    """The first `limit` of `items` shuffled with seed 0: the same sample for every script that asks a split."""
    out = list(items)
    random.Random(0).shuffle(out)
    return out[:limit]


def write_documents(folder: Path, documents: dict[str, str]) -> None:
    """Write each document as `folder/<name>` (the name is a file name, not a path)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        (folder / name).write_text(text, encoding="utf-8")


def write_squad(folder: Path, path: Path = SQUAD) -> list[str]:
    """Each SQuAD paragraph as a document in `folder`; returns every question."""
    documents, questions = read_squad(path)
    write_documents(folder, documents)
    return [q.text for q in questions]


def seed_questions() -> list[str]:
    from bot.checks.eval import load_question_set

    return [case.turns[0] for case in load_question_set(SEED_QUESTIONS)]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def encode_times(encode, questions: Sequence[str], *, warm: int = 5) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds of one `encode(question)` per question, after `warm` untimed calls."""
    for q in questions[:warm]:
        encode(q)
    times = []
    for q in questions:
        started = time.perf_counter()
        encode(q)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _spin() -> None:
    while True:
        pass


@contextmanager
def busy_neighbour(active: bool = True) -> Iterator[None]:
    """Keep one core busy (as a browser or an editor would) while the block runs."""
    if not active:
        yield
        return
    proc = multiprocessing.Process(target=_spin, daemon=True)
    proc.start()
    try:
        yield
    finally:
        proc.terminate()
        proc.join()


def print_ratios(times: dict[str, list[float]], base: str, width: int = 26) -> None:
    """A table of median seconds per row and its ratio to the `base` row."""
    reference = median(times[base])
    print(f"{'':<{width}}{'seconds':>10}{'ratio':>10}")
    for name, values in times.items():
        print(f"{name:<{width}}{median(values):>10.2f}{median(values) / reference:>9.2f}x")
