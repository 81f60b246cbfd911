"""Misspelled questions: citebot with and without respelling (bot/question/spelling.py), plain llama-index and
BM25, one run.

    python benchmarks/typos.py [--sets squad,tydi,nq] [--seed 0]

Every answerable question of each calibration set is asked twice: as written, and with one of its words misspelled
(a word of four letters or more that the documents use, chosen at random; one random edit: a letter dropped, doubled,
replaced by its keyboard neighbour, or swapped with the next one; never the first letter, which people rarely get
wrong, and never an edit that makes another English word). Reports answer-contains-gold and refusals per set.
Indexes are shared with benchmarks/quality.py (benchmarks/out/).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from common import Question, read_squad  # noqa: I001
from quality import DATA, QA_FILES, Runner, prepare
from quality_metrics import Reply, contains_gold, rate
from quality_systems import ask

from bot import Bot
from index.search.lexical import is_english

NEIGHBOURS = dict(zip("qwertyuiopasdfghjklzxcvbnm", "wqrtyuiopoaafghjkklxcvbnmn", strict=True))


def misspell(question: str, known: set[str], rng: random.Random) -> str | None:
    """The question with one word of `known` (the documents' words) misspelled; None if no word qualifies.

    Example: misspell("Who rules Lithuania?", {"lithuania"}, rng) -> "Who rules Lithuaina?"
    """
    spans = [m for m in re.finditer(r"[A-Za-z]{4,}", question) if m.group().lower() in known]
    if not spans:
        return None
    word = rng.choice(spans)
    for _ in range(20):
        typo = _edit(word.group(), rng)
        if not is_english(typo.lower()) and typo.lower() not in known:
            return question[: word.start()] + typo + question[word.end() :]
    return None


def _edit(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "double", "neighbour", "swap"))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "neighbour":
        return word[:i] + NEIGHBOURS.get(word[i].lower(), word[i]) + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="squad,tydi,nq")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    names = [s for s in args.sets.split(",") if s in QA_FILES]
    runs, run = prepare(names, args.data), Runner()
    print(f"{'set':6} {'questions':>9}  {'system':24} {'as written':>10} {'misspelled':>10} {'refused':>8}")
    for name, (path, settings, _) in runs.items():
        documents, questions = read_squad(path)
        questions = [q for q in questions if not q.impossible]
        known = {w.lower() for text in documents.values() for w in re.findall(r"[A-Za-z]{4,}", text)}
        rng = random.Random(args.seed)
        pairs = [(q, misspell(q.text, known, rng)) for q in questions]
        pairs = [(q, typo) for q, typo in pairs if typo is not None]
        bot = run.bot(settings)
        plain = Bot.load(settings=replace(settings, respell=False), embedder=run.embedder)
        systems = {"citebot": bot.answer, "citebot without respelling": plain.answer}
        for system, fn in systems.items():
            clean = [ask(fn, q.text)[1] for q, _ in pairs]
            typos = [ask(fn, typo)[1] for _, typo in pairs]
            _row(name, len(pairs), system, clean, typos, [q.answers for q, _ in pairs])
        for system, replies in _baselines(run, bot, pairs).items():
            _row(name, len(pairs), system, *replies, [q.answers for q, _ in pairs])
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


def _baselines(run: Runner, bot: Bot, pairs: list[tuple[Question, str]]) -> dict[str, tuple[list[Reply], ...]]:
    """Plain llama-index and BM25 on the questions as written and misspelled."""
    clean = run.baselines(bot, bot.settings, [q.text for q, _ in pairs])
    typos = run.baselines(bot, bot.settings, [typo for _, typo in pairs])
    return {n: (clean[n], typos[n]) for n in clean}


def _row(name: str, n: int, system: str, clean: list[Reply], typos: list[Reply], golds: list[Sequence[str]]) -> None:
    right = [rate([contains_gold(r, g) for r, g in zip(replies, golds, strict=True)]) for replies in (clean, typos)]
    refused = rate([r.refused for r in typos])
    print(f"{name:6} {n:9}  {system:24} {right[0]:10.3f} {right[1]:10.3f} {refused:8.3f}")


if __name__ == "__main__":
    sys.exit(main())
