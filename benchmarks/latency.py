"""Answer latency against the retrieval floor, measured side by side in one run.

The floor is what no answerer can avoid: MiniLM encoding the question and one dense (FAISS) search. citebot adds BM25,
fusion, sentence scoring, the reader model reading the best sentences, and citation. Target: warm `bot.answer()` p50
<= 8x the floor (issue 25; 1.5x before the reader). Each question is asked once, as users ask. A second table reads
the reader's pairs one after another and two at once (CITEBOT_READER_WORKERS), a third shows the thread setting for
single queries with the machine idle and with the other core busy.

    python benchmarks/latency.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, busy_neighbour, median, percentile, seed_questions, write_squad  # noqa: I001

from bot import Bot, Settings
from index.pipeline import index_paths


def measure(bot: Bot, questions: list[str], rounds: int = 1) -> tuple[list[float], list[float]]:
    """Per question: floor (encode + the index's dense search) and full answer times in ms, interleaved, best of
    `rounds` (1: each question asked once)."""
    embedder = bot.engine.retriever.embedder
    dense = bot.stored.dense  # FAISS over every segment (index/store/views.py)
    import numpy as np

    floor, full = [], []
    for q in questions:
        f, a = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            vector = np.asarray(embedder.get_query_embedding(q), dtype=np.float32)
            dense.search(vector, k=20)
            f.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            bot.answer(q)
            a.append((time.perf_counter() - started) * 1000)
        floor.append(min(f))
        full.append(min(a))
    return floor, full


HEADER = "".join(f"{h:>12}" for h in ("floor p50 ms", "floor p95", "answer p50", "answer p95", "ratio p50"))


def row(name: str, floor: list[float], full: list[float]) -> str:
    ratio = median(full) / median(floor)
    cells = [median(floor), percentile(floor, 95), median(full), percentile(full, 95)]
    return f"{name:<22}" + "".join(f"{c:>12.1f}" for c in cells) + f"{ratio:>11.2f}x"  # fmt: skip


def main() -> int:
    import torch

    with tempfile.TemporaryDirectory(prefix="citebot-latency-") as tmp:
        squad_questions = write_squad(Path(tmp) / "squad")[::3]
        corpora = {"seed": (ROOT / "seeds", seed_questions()), "squad sample": (Path(tmp) / "squad", squad_questions)}
        bots = {}
        for name, (docs, _) in corpora.items():
            settings = Settings.from_env({}, index_dir=Path(tmp) / f"ix-{name}")
            index_paths([docs], settings)
            bots[name] = Bot.load(settings=settings)
            bots[name].answer("warm up")
        print(f"{'corpus (1 thread)':<22}{HEADER}")
        for name, (_, questions) in corpora.items():
            print(row(f"{name} ({len(questions)} q)", *measure(bots[name], questions)))
        print(f"\n{'reader workers, squad':<22}{HEADER}")
        halves = squad_questions[::2], squad_questions[1::2]  # each question asked once: a half per setting
        for workers, questions in zip((1, 2), halves, strict=True):
            settings = Settings.from_env({}, index_dir=Path(tmp) / "ix-squad sample", reader_workers=workers)
            bot = Bot.load(settings=settings)
            bot.answer("warm up")
            print(row(f"{workers} ({len(questions)} q)", *measure(bot, questions)))
        print(f"\n{'threads, neighbour':<22}{HEADER}")
        questions = corpora["seed"][1]
        for busy in (False, True):
            for threads in (1, 2):
                torch.set_num_threads(threads)
                with busy_neighbour(busy):
                    print(row(f"{threads}, {'busy' if busy else 'idle'}", *measure(bots["seed"], questions)))
        torch.set_num_threads(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
