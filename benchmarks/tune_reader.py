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
import hashlib
import itertools
import json
import pickle
import random
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, document_name, read_squad, seeded_sample  # noqa: I001
from quality import OFF_TOPIC, SPLITS, Runner, prepare, split_folder
from quality_metrics import normalize, token_f1
from reader_data import pronoun_version

from bot import Bot, Settings, extractive
from bot.conversation import queries_for
from bot.engine import PRESELECT, PRIOR, Evidence, reader_input
from bot.reader import log_odds as logit
from bot.retrieval import Query

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
    repeats: list[bool] | None = None  # a follow-up's sentences: quoted by the answer before it
    features: list[dict[str, float]] | None = None  # a follow-up's sentences: bot/extractive.py Candidate.features


def read_followup(bot: Bot, name: str, first: str, second: str, source: str, answers: list[str]) -> Read | None:
    """A follow-up asked after `first` (answered by the bot) as bot/answerer.py asks it: the sentences its evidence
    gives, in fitted order, read with the conversation. None when the first question was refused."""
    engine = bot.engine
    opener = bot.answer(first)
    if opener.refused:
        return None
    context = engine.context([(first, opener)])
    assert context is not None
    follows = engine.follows(second, context) and not engine.moves_on(second, context, top_k=bot.settings.top_k)
    kept = context if follows else None
    evidence = engine.gather(second, queries_for(second, kept), top_k=bot.settings.top_k, context=kept)
    said = [context.question, context.answer] if kept else []
    quoted = {c.quote for c in opener.citations}
    return _read(bot, f"{name} follow-up", second, said, evidence, source, answers, quoted=quoted)


def followup_questions(path: Path, limit: int) -> list[tuple[str, str, str, list[str]]]:
    """(first, follow-up, source, answers): a paragraph's second question with its subject turned into a pronoun
    (benchmarks/reader_data.py, as in training), after its first question."""
    out = []
    rng = random.Random(0)
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for k, paragraph in enumerate(article["paragraphs"]):
            qas = paragraph["qas"]
            for a, b in itertools.pairwise(qas):
                second = pronoun_version(b["question"], article["title"].replace("_", " "), a["question"], rng)
                if second:
                    source = document_name(article["title"], k)
                    out.append((a["question"], second, source, [x["text"] for x in b["answers"]]))
    return seeded_sample(out, limit)


def read_question(bot: Bot, name: str, question: str, source: str, answers: list[str]) -> Read:
    evidence = bot.engine.gather(question, [Query(question)], top_k=bot.settings.top_k)
    return _read(bot, name, question, [], evidence, source, answers)


def _read(bot: Bot, name: str, question: str, history: list[str], evidence: Evidence, source: str,
          answers: list[str], *, quoted: set[str] | None = None) -> Read:  # fmt: skip
    """The READ best-scored distinct sentences of `evidence`, read after `history`; for a follow-up (`quoted`: the
    answer before it), which of them that answer quoted and their features."""
    distinct = {c.sentence.text: c for c in sorted(evidence.candidates, key=lambda c: c.score)}  # best kept
    top = sorted(distinct.values(), key=lambda c: -c.score)[:READ]
    readings = bot.engine.reader.read(question, history, [reader_input(c) for c in top])
    golds = [normalize(a) for a in answers if normalize(a)]
    right = [any(g in normalize(c.sentence.text) for g in golds) for c in top]
    span_f1, span_score = None, 0.0
    if readings and quoted is None:
        i = max(range(len(top)), key=lambda k: readings[k].score)
        r = readings[i]
        if right[i] and r.end > r.start:
            span_f1, span_score = token_f1(top[i].sentence.text[r.start : r.end], answers), r.span_score
    follow_up = quoted is not None
    return Read(name, [c.score for c in top], [r.score for r in readings], right,
                [c.sentence.source == source for c in top], [len(c.sentence.text.split()) for c in top],
                span_f1, span_score, [c.evidence for c in top], [c.sentence.source for c in top],
                [c.sentence.text in quoted for c in top] if follow_up else None,
                [c.features() for c in top] if follow_up else None)  # fmt: skip


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


FOLLOW_GRID = {"context": (0.0, 2.0, 4.0, 6.0), "same_doc": (0.0, 1.5, 3.0), "near": (-1.0, 0.0, 0.5, 1.0)}


def followup_report(follow: list[Read]) -> dict[str, Any]:
    """Top-1 of follow-ups: the fitted order under each point of FOLLOW_GRID (bot/extractive.py's follow-up weights),
    or the reader's log-odds plus `prior` times the fitted score over the `preselect` best, with or without the
    sentences the answer before quoted."""
    out: dict[str, Any] = {}
    if not follow:
        return out
    out["today's order"] = {"hit": round(statistics.mean(r.right[0] for r in follow), 3), "n": len(follow)}
    points = []
    for point in itertools.product(*FOLLOW_GRID.values()):
        weights = extractive.WEIGHTS | dict(zip(FOLLOW_GRID, point, strict=True))
        scores = [[sum(weights[k] * v for k, v in f.items()) for f in r.features or []] for r in follow]
        fitted = statistics.mean(
            r.right[max(range(len(s)), key=s.__getitem__)] for r, s in zip(follow, scores, strict=True)
        )
        row = {"fitted": round(fitted, 3)}
        for prior in (0.3, 1.0):
            for fresh_only in (False, True):
                hits = []
                for r, s in zip(follow, scores, strict=True):
                    order = sorted(range(len(s)), key=lambda i: -s[i])[:PRESELECT]
                    keep = [i for i in order if not (fresh_only and r.repeats and r.repeats[i])] or order
                    hits.append(r.right[max(keep, key=lambda i: logit(r.reader[i]) + prior * s[i])])
                row[f"reader+{prior}{' unquoted' if fresh_only else ''}"] = round(statistics.mean(hits), 3)
        points.append((dict(zip(FOLLOW_GRID, point, strict=True)), row))
    for column in points[0][1]:
        for weights, row in sorted(points, key=lambda p: -p[1][column])[:3]:
            out[f"best by {column}: {weights}"] = row
    today = {k: extractive.WEIGHTS[k] for k in FOLLOW_GRID}
    out[f"today {today}"] = next((row for w, row in points if w == today), {})
    return out


def report(reads: list[Read], off_topic: list[Read], elsewhere: list[Read], follow: list[Read]) -> dict:
    sets = sorted({r.set for r in reads})
    out: dict = {"top-1 holds the answer": {}, "refused": {}, "second sentence": {}, "short": {}}
    out["follow-ups"] = followup_report([r for r in follow if r.features])
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
    options = [(m, same, 1.0) for same in (False, True) for m in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)]
    options += [(m, True, gate) for m in (1.5, 2.0, 3.0) for gate in (0.5, 0.7, 0.8, 0.9, 0.95)]
    for margin, same, gate in options:
        row = {}
        for s in sets:
            hits, words = [], []
            for r in (r for r in reads if r.set == s):
                order = choose(r, PRESELECT, PRIOR)
                if not order:
                    continue
                rank = {i: logit(r.reader[i]) + PRIOR * r.fitted[i] for i in order}
                runners = [i for i in order[1:] if not same or r.sources[i] == r.sources[order[0]]]
                sure = r.reader[order[0]] >= gate  # the reader is sure of the first: no runner-up
                chosen = order[:1] + [i for i in runners[:1] if rank[i] >= rank[order[0]] - margin and not sure]
                hits.append(any(r.right[i] for i in chosen))
                words.append(sum(r.words[i] for i in chosen))
            row[s] = f"{statistics.mean(hits):.3f} @ {statistics.median(words):.0f} words"
        gated = f" first below {gate}" if gate < 1 else ""
        out["second sentence"][f"margin {margin}{' same document' if same else ''}{gated}"] = row
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
    parser.add_argument("--followups", type=int, default=300, help="pronoun follow-ups made from the squad split")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cache = SPLITS / args.split / f"reads-{_version(args)}.pickle"  # replaying new choices needs no new reading
    if cache.exists():
        result = report(*pickle.loads(cache.read_bytes()))
        _print(result, args.json)
        return 0
    chosen = [s for s in args.sets.split(",") if s]
    runs = prepare(chosen, split_folder(args.split, chosen))
    run = Runner()
    reads: list[Read] = []
    off_topic: list[Read] = []
    elsewhere: list[Read] = []  # each set's questions asked on the next set's index: not in those documents
    asked = {}
    for name, (path, _, _) in runs.items():
        questions = [q for q in read_squad(path)[1] if not q.impossible]
        asked[name] = seeded_sample(questions, args.limit)
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
    follow: list[Read] = []
    if "squad" in runs and args.followups:
        bot = run.bot(runs["squad"][1])
        for first, second, source, answers in followup_questions(runs["squad"][0], args.followups):
            read = read_followup(bot, "squad", first, second, source, answers)
            follow += [read] if read else []
        print(f"squad: {len(follow)} follow-ups read", file=sys.stderr)
    cache.write_bytes(pickle.dumps((reads, off_topic, elsewhere, follow)))
    _print(report(reads, off_topic, elsewhere, follow), args.json)
    return 0


def _version(args: argparse.Namespace) -> str:
    """What the readings depend on: the options, the model (CITEBOT_READER_DIR's, if set) and the code that scores
    and reads."""
    digest = hashlib.sha256(f"{args.sets} {args.limit} {args.followups}".encode())
    code = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "index").rglob("*.py")]
    for path in [*sorted(code), Settings.from_env().reader_dir / "model.onnx"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _print(result: dict[str, Any], json_path: Path | None) -> None:
    for section, rows in result.items():
        print(f"\n## {section}")
        for key, row in rows.items():
            print(f"{key:32} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    if json_path:
        json_path.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
