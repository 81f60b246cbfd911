"""Saved conversations: answer latency with saving on against off (same run), and a store of 10,000 conversations.

Saving on is what the page does per question: read the conversation's turns from the store as the history, answer,
append the turn (one transaction, fsync'd). Off answers with the same history kept in memory. The two alternate
question by question over distinct SQuAD questions, so a busy machine slows both alike. Target: on within 5% of off.
Then a store of `--conversations` conversations of `--turns` turns each (one user): the newest 100 listed, and a
search by words of questions and answers (FTS5). Targets: list <= 100 ms, search <= 200 ms.

    python benchmarks/conversations.py                       # hash embedder: answering without the embedding model
    python benchmarks/conversations.py --model minilm        # the real query model
    python benchmarks/conversations.py --questions 40 --conversations 1000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from common import median, percentile, write_squad  # noqa: I001

from bot import Bot, Settings
from bot.chats.store import ConversationStore
from bot.types import Answer, Citation, Passage
from index.pipeline import index_paths

TURNS_PER_CONVERSATION = 5  # the latency run's conversations: a follow-up reads up to 4 earlier turns
WORDS = "brigade lithuania reactor harbour glacier violin copper treaty orchard comet tundra falcon".split()


def latency(bot: Bot, store: ConversationStore, questions: list[str]) -> dict[str, list[float]]:
    """Milliseconds per question with saving off and on, alternating."""
    times: dict[str, list[float]] = {"off": [], "on": []}
    memory: list[tuple[str, Answer | str]] = []
    cid: str | None = None
    for i, q in enumerate(questions):
        if i % (2 * TURNS_PER_CONVERSATION) == 0:
            memory, cid = [], None
        started = time.perf_counter()
        if i % 2:
            history = store.get("bench", cid).history if cid else []
            cid = store.append("bench", cid, bot.answer(q, history))
            times["on"].append((time.perf_counter() - started) * 1000)
        else:
            answer = bot.answer(q, memory[-4:])
            memory.append((q, answer))
            times["off"].append((time.perf_counter() - started) * 1000)
    return times


def fill(store: ConversationStore, conversations: int, turns: int, seed: int = 0) -> float:
    """Seconds to store `conversations` made-up conversations of `turns` turns (1 kB passages) for user "bench"."""
    rng = random.Random(seed)
    started = time.perf_counter()
    for _ in range(conversations):
        cid = None
        for _ in range(turns):
            words = " ".join(rng.choice(WORDS) for _ in range(8))
            quote = f"The {words} was recorded in {rng.randint(1800, 2025)}."
            answer = Answer(f"What about the {words}?", quote + " [1]", False,
                            [Citation(1, "doc.txt", quote, 0, len(quote), 0.7)],
                            [Passage("doc.txt", quote + " filler" * 150, 0, len(quote) + 1050, 0.7)])  # fmt: skip
            cid = store.append("bench", cid, answer)
    return time.perf_counter() - started


def timed(call: object, repeats: int = 20) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["hash", "minilm"], default="hash", help="query embedder (default hash)")
    parser.add_argument("--questions", type=int, default=200, help="questions, half with saving on (default 200)")
    parser.add_argument("--conversations", type=int, default=10_000, help="conversations in the large store")
    parser.add_argument("--turns", type=int, default=2, help="turns per conversation in the large store")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results: dict[str, object] = {"model": args.model}
    with tempfile.TemporaryDirectory(prefix="citebot-conv-bench-") as tmp:
        base = Path(tmp)
        questions = write_squad(base / "docs")[: args.questions]
        model = "hash" if args.model == "hash" else Settings().embed_model
        settings = Settings.from_env({}, index_dir=base / "index", docs_dir=base / "docs", embed_model=model)
        index_paths([base / "docs"], settings)
        bot = Bot.load(settings=settings)
        for q in questions[:5]:
            bot.answer(q)  # warm
        times = latency(bot, ConversationStore.open(base / "latency.sqlite3"), questions)
        for mode, values in times.items():
            results[f"answer_{mode}_p50_ms"], results[f"answer_{mode}_p95_ms"] = median(values), percentile(values, 95)
            results[f"answer_{mode}_mean_ms"] = sum(values) / len(values)
        results["on_over_off_mean"] = results["answer_on_mean_ms"] / results["answer_off_mean_ms"]  # type: ignore[operator]
        store = ConversationStore.open(base / "large.sqlite3")
        results["fill_s"] = fill(store, args.conversations, args.turns)
        results["store_mb"] = sum(p.stat().st_size for p in base.glob("large.sqlite3*")) / 2**20
        results["list_100_ms"] = median(timed(lambda: store.list("bench")))
        results["list_all_ms"] = median(timed(lambda: store.list("bench", limit=args.conversations), repeats=5))
        results["search_rare_ms"] = median(timed(lambda: store.list("bench", search="comet falcon 1999")))
        results["search_common_ms"] = median(timed(lambda: store.list("bench", search="brigade")))
        results["search_prefix_ms"] = median(timed(lambda: store.list("bench", search="lith")))
    report(results, args)


def report(results: dict[str, object], args: argparse.Namespace) -> None:
    print(f"{args.questions} questions ({args.model}), saving off and on alternating:")
    for mode in ("off", "on"):
        p50, p95, mean = (results[f"answer_{mode}_{k}_ms"] for k in ("p50", "p95", "mean"))
        print(f"  {mode:>3}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, mean {mean:.1f} ms")
    print(f"  on / off (mean): {results['on_over_off_mean']:.3f}  (target <= 1.05)")
    print(f"{args.conversations} conversations x {args.turns} turns: filled in {results['fill_s']:.0f} s, "
          f"{results['store_mb']:.0f} MB")  # fmt: skip
    print(f"  list newest 100: {results['list_100_ms']:.1f} ms (target <= 100); all: {results['list_all_ms']:.1f} ms")
    print(f"  search: rare words {results['search_rare_ms']:.1f} ms, a common word {results['search_common_ms']:.1f} "
          f"ms, a prefix {results['search_prefix_ms']:.1f} ms (target <= 200)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
