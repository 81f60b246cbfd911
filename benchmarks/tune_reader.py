"""Choose the reader's constants (bot/engine.py PRESELECT, PRIOR, SECOND_SENTENCE, SHORT_SCORE; the refusal
thresholds in bot/config.py) on the dev split held back from the training files, never on the calibration sets.

    python benchmarks/tune_reader.py [--split dev|fresh] [--limit 500]

The split's files are written by benchmarks/train_reader.py (benchmarks/out/reader/<split>/). Each set is indexed as
benchmarks/quality.py indexes a calibration set (each paragraph a document). For every question the retrieved
sentences are read once, then every choice is replayed from those readings: how often the top sentence holds the
answer, answers' median words, refusals of answerable questions, and refusals of the same question with its gold
paragraph taken out of the candidates (same topic, no answer: how SQuAD 2.0's unanswerables look), and of
data/off_topic.txt on the squad split's index.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, read_squad  # noqa: I001
from quality import OFF_TOPIC, QA_FILES, Runner, prepare
from quality_metrics import normalize, token_f1

from bot import Bot
from bot.retrieval import Query
from bot.titles import title

SPLITS = ROOT / "benchmarks" / "out" / "reader"
READ = 20  # sentences read per question (PRESELECT is chosen among the first READ)


@dataclass
class Read:
    """One question's read sentences, in fitted-score order."""

    set: str
    fitted: list[float]
    reader: list[float]
    right: list[bool]
    gold_source: list[bool]
    words: list[int]
    span_f1: float | None  # the top reader sentence's span against the gold answers, when that sentence is right
    span_score: float


def read_question(bot: Bot, name: str, question: str, source: str, answers: list[str]) -> Read:
    engine = bot.engine
    evidence = engine.gather(question, [Query(question)], top_k=bot.settings.top_k)
    distinct = {c.sentence.text: c for c in sorted(evidence.candidates, key=lambda c: c.score)}  # best kept
    top = sorted(distinct.values(), key=lambda c: -c.score)[:READ]
    readings = engine.reader.read(question, [], [(title(c.sentence.source), c.sentence.text) for c in top])
    golds = [normalize(a) for a in answers if normalize(a)]
    right = [any(g in normalize(c.sentence.text) for g in golds) for c in top]
    span_f1, span_score = None, 0.0
    if readings:
        i = max(range(len(top)), key=lambda k: readings[k].score)
        r = readings[i]
        if right[i] and r.end > r.start:
            span_f1, span_score = token_f1(top[i].sentence.text[r.start : r.end], answers), r.span_score
    return Read(name, [c.score for c in top], [r.score for r in readings], right,
                [c.sentence.source == source for c in top], [len(c.sentence.text.split()) for c in top],
                span_f1, span_score)  # fmt: skip


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def choose(r: Read, preselect: int, prior: float, *, without_gold: bool = False) -> list[int]:
    """Indexes of the read sentences, best first, under these constants."""
    keep = [i for i in range(min(preselect, len(r.reader))) if not (without_gold and r.gold_source[i])]
    return sorted(keep, key=lambda i: -(logit(r.reader[i]) + prior * r.fitted[i]))


def report(reads: list[Read], off_topic: list[Read]) -> dict:
    sets = sorted({r.set for r in reads})
    out: dict = {"top-1 holds the answer": {}, "refused": {}, "second sentence": {}, "short": {}}
    for preselect in (4, 8, 12, 16, 20):
        for prior in (0.0, 0.1, 0.2, 0.3, 0.5, 1.0):
            row = {}
            for s in sets:
                rs = [r for r in reads if r.set == s]
                row[s] = round(statistics.mean(bool(o) and r.right[o[0]] for r in rs
                                               for o in [choose(r, preselect, prior)]), 3)  # fmt: skip
            out["top-1 holds the answer"][f"preselect {preselect} prior {prior}"] = row
    best = [r.reader[choose(r, 12, 0.0)[0]] if r.reader else 0.0 for r in reads]
    gone = [max((r.reader[i] for i in choose(r, 12, 0.0, without_gold=True)), default=0.0) for r in reads]
    away = [max(r.reader[:12], default=0.0) for r in off_topic]
    for t in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        row = {s: round(statistics.mean(b < t for b, r in zip(best, reads, strict=True) if r.set == s), 3)
               for s in sets}  # fmt: skip
        row["gold paragraph removed"] = round(statistics.mean(g < t for g in gone), 3)
        row["off-topic"] = round(statistics.mean(a < t for a in away), 3) if away else None
        out["refused"][f"threshold {t}"] = row
    for second in (0.3, 0.5, 0.7, 0.8, 0.9, 1.01):
        row = {}
        for s in sets:
            hits, words = [], []
            for r in (r for r in reads if r.set == s):
                order = choose(r, 12, 0.0)
                if not order:
                    continue
                chosen = order[:1] + [i for i in order[1:2] if r.reader[i] >= second]
                hits.append(any(r.right[i] for i in chosen))
                words.append(sum(r.words[i] for i in chosen))
            row[s] = f"{statistics.mean(hits):.3f} @ {statistics.median(words):.0f} words"
        out["second sentence"][f"at {second}"] = row
    for cut in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
        row = {}
        for s in sets:
            scored = [r for r in reads if r.set == s and r.span_f1 is not None]
            kept = [r.span_f1 for r in scored if r.span_score >= cut]
            row[s] = f"F1 {statistics.mean(kept) if kept else 0:.3f} on {len(kept)}/{len(scored)}"
        out["short"][f"span score >= {cut}"] = row
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="dev", choices=("dev", "fresh"))
    parser.add_argument("--sets", default="squad,tydi,nq")
    parser.add_argument("--limit", type=int, default=500, help="questions per set (a seeded sample)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    folder = SPLITS / args.split / "named"
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [s for s in args.sets.split(",") if s]
    for name in chosen:
        link = folder / QA_FILES[name]
        if not link.exists():
            link.symlink_to(SPLITS / args.split / f"{name}.json")
    runs = prepare(chosen, folder)
    run = Runner()
    reads: list[Read] = []
    off_topic: list[Read] = []
    for name, (path, settings, _) in runs.items():
        bot = run.bot(settings)
        questions = [q for q in read_squad(path)[1] if not q.impossible]
        random.Random(0).shuffle(questions)
        for q in questions[: args.limit]:
            reads.append(read_question(bot, name, q.text, q.source, list(q.answers)))
        if name == "squad":
            lines = OFF_TOPIC[0].read_text(encoding="utf-8").splitlines()
            off_topic = [read_question(bot, "off", t, "", ["\0"]) for t in lines if t.strip()]
        print(f"{name}: {len(questions[: args.limit])} questions read", file=sys.stderr)
    result = report(reads, off_topic)
    for section, rows in result.items():
        print(f"\n## {section}")
        for key, row in rows.items():
            print(f"{key:32} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
