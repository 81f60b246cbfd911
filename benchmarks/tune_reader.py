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
import random
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import ROOT, read_squad  # noqa: I001
from quality import OFF_TOPIC, QA_FILES, Runner, prepare
from quality_metrics import normalize, token_f1

from bot import Bot
from bot.engine import PRESELECT, PRIOR
from bot.question.titles import title
from bot.reader import log_odds as logit
from bot.retrieval import Query

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
    evidence: list[float]  # each sentence's evidence (bot/extractive.py Candidate.evidence)
    sources: list[str]


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
                span_f1, span_score, [c.evidence for c in top], [c.sentence.source for c in top])  # fmt: skip


def choose(r: Read, preselect: int, prior: float, *, without_gold: bool = False) -> list[int]:
    """Indexes of the read sentences, best first, under these constants."""
    keep = [i for i in range(min(preselect, len(r.reader))) if not (without_gold and r.gold_source[i])]
    return sorted(keep, key=lambda i: -(logit(r.reader[i]) + prior * r.fitted[i]))


def refusal_features(r: Read, *, without_gold: bool = False) -> list[float]:
    """What the refusal sees: the reader's log-odds for the first sentence and the best evidence."""
    order = choose(r, PRESELECT, PRIOR, without_gold=without_gold)
    if not order:
        return [logit(0.0), -1.0]
    return [logit(r.reader[order[0]]), max(r.evidence[i] for i in order)]


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 50) -> np.ndarray:
    """Weights (bias last) of a logistic regression by Newton's method, lightly regularised."""
    x = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - y) + 1e-3 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w


def refusal(reads: list[Read], off_topic: list[Read], elsewhere: list[Read]) -> dict:
    """One probability that the documents answer, fitted on answerable questions against the same questions with
    their gold paragraph taken out and questions from the other sets; refusals at each threshold."""
    sets = sorted({r.set for r in reads})
    yes = np.array([refusal_features(r) for r in reads])
    gone = np.array([refusal_features(r, without_gold=True) for r in reads])
    away = np.array([refusal_features(r) for r in elsewhere])
    w = fit_logistic(np.vstack([yes, gone, away]), np.r_[np.ones(len(yes)), np.zeros(len(gone) + len(away))])

    def p(x: np.ndarray) -> np.ndarray:
        return np.asarray(1 / (1 + np.exp(-(x @ w[:-1] + w[-1]))))

    off = np.array([refusal_features(r) for r in off_topic]) if off_topic else np.zeros((0, 2))
    out: dict = {"weights (reader log-odds, evidence, bias)": {"w": [round(float(v), 3) for v in w]}}
    for t in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        row = {s: round(float(np.mean([q < t for q, r in zip(p(yes), reads, strict=True) if r.set == s])), 3)
               for s in sets}  # fmt: skip
        row["gold paragraph removed"] = round(float(np.mean(p(gone) < t)), 3)
        row["other sets' questions"] = round(float(np.mean(p(away) < t)), 3) if len(away) else None
        row["off-topic"] = round(float(np.mean(p(off) < t)), 3) if len(off) else None
        out[f"p < {t}"] = row
    return out


def report(reads: list[Read], off_topic: list[Read], elsewhere: list[Read]) -> dict:
    sets = sorted({r.set for r in reads})
    out: dict = {"top-1 holds the answer": {}, "refused": {}, "second sentence": {}, "short": {}}
    out["refusal, fitted"] = refusal(reads, off_topic, elsewhere)
    for preselect in (4, 8, 12, 16, 20):
        for prior in (0.0, 0.1, 0.2, 0.3, 0.5, 1.0):
            row = {}
            for s in sets:
                rs = [r for r in reads if r.set == s]
                row[s] = round(statistics.mean(bool(o) and r.right[o[0]] for r in rs
                                               for o in [choose(r, preselect, prior)]), 3)  # fmt: skip
            out["top-1 holds the answer"][f"preselect {preselect} prior {prior}"] = row
    best = [r.reader[choose(r, PRESELECT, PRIOR)[0]] if r.reader else 0.0 for r in reads]
    gone = [max((r.reader[i] for i in choose(r, PRESELECT, PRIOR, without_gold=True)), default=0.0) for r in reads]
    away = [max(r.reader[:PRESELECT], default=0.0) for r in off_topic]
    for t in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        row = {s: round(statistics.mean(b < t for b, r in zip(best, reads, strict=True) if r.set == s), 3)
               for s in sets}  # fmt: skip
        row["gold paragraph removed"] = round(statistics.mean(g < t for g in gone), 3)
        row["off-topic"] = round(statistics.mean(a < t for a in away), 3) if away else None
        out["refused"][f"threshold {t}"] = row
    for margin, same in [(m, same) for same in (False, True) for m in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)]:
        row = {}
        for s in sets:
            hits, words = [], []
            for r in (r for r in reads if r.set == s):
                order = choose(r, PRESELECT, PRIOR)
                if not order:
                    continue
                rank = {i: logit(r.reader[i]) + PRIOR * r.fitted[i] for i in order}
                runners = [i for i in order[1:] if not same or r.sources[i] == r.sources[order[0]]]
                chosen = order[:1] + [i for i in runners[:1] if rank[i] >= rank[order[0]] - margin]
                hits.append(any(r.right[i] for i in chosen))
                words.append(sum(r.words[i] for i in chosen))
            row[s] = f"{statistics.mean(hits):.3f} @ {statistics.median(words):.0f} words"
        out["second sentence"][f"margin {margin}{' same document' if same else ''}"] = row
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
    elsewhere: list[Read] = []  # each set's questions asked on the next set's index: not in those documents
    asked = {}
    for name, (path, _, _) in runs.items():
        questions = [q for q in read_squad(path)[1] if not q.impossible]
        random.Random(0).shuffle(questions)
        asked[name] = questions[: args.limit]
    names = list(runs)
    for k, (name, (_, settings, _)) in enumerate(runs.items()):
        bot = run.bot(settings)
        for q in asked[name]:
            reads.append(read_question(bot, name, q.text, q.source, list(q.answers)))
        for q in asked[names[k - 1]][: args.limit // 3] if len(names) > 1 else []:
            elsewhere.append(read_question(bot, "elsewhere", q.text, "", ["\0"]))
        if name == "squad":
            lines = OFF_TOPIC[0].read_text(encoding="utf-8").splitlines()
            off_topic = [read_question(bot, "off", t, "", ["\0"]) for t in lines if t.strip()]
        print(f"{name}: {len(asked[name])} questions read", file=sys.stderr)
    result = report(reads, off_topic, elsewhere)
    for section, rows in result.items():
        print(f"\n## {section}")
        for key, row in rows.items():
            print(f"{key:32} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
