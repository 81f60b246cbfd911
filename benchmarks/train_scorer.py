"""Fit the sentence scorer (bot/extractive.py WEIGHTS) and its thresholds on the dev split of the training files,
cross-validated; never on the calibration sets, whose numbers are then test numbers.

    python benchmarks/train_scorer.py [--split dev] [--sets squad,tydi,nq] [--limit 400] [--cached]

The split is the one benchmarks/train_reader.py holds back (`--splits-only` writes it). For up to `--limit` questions
of each set (a seeded sample; each paragraph a document, indexes cached as in benchmarks/quality.py), the sentences
of the top 5 passages get the features of bot.extractive.Candidate; a sentence is right when it comes from the gold
paragraph and contains a gold answer. The weights are a conditional logit (a softmax over one question's sentences,
L2-regularised) fitted on the answerable questions of all sets, each set weighing the same whatever its size, SQuAD
twice (SQUAD_WEIGHT: on the dev split that fit picks the right sentence at least as often as the earlier weights on
every set; equal weights gave up SQuAD answers for NQ ones).

Cross-validation: 5 folds by paragraph (a paragraph's questions stay in one fold): fit on four, pick the top sentence
on the fifth; printed per set beside today's weights. Leave-one-set-out is printed too: it shows how far the sets
differ (SQuAD's questions reuse the paragraph's words, TyDi's and NQ's don't), which is why all three kinds are in
the fit.

Then, with the weights fitted on everything: the refusal thresholds (the best sentence's score) for off-topic
questions (data/off_topic.txt on the SQuAD index), answerable and unanswerable ones, and the second-sentence margin.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from common import ROOT, read_squad, seeded_sample  # noqa: I001
from quality import QA_FILES, Runner, prepare, split_folder
from quality_metrics import normalize
from quality_systems import OUT
from scipy.optimize import minimize

from bot import Bot, extractive
from bot.retrieval import Query

FITTED = ("cosine", "lexical", "passage", "passage_lexical", "dense", "window", "lead", "typed", "title")
SQUAD_WEIGHT = 2.0
L2 = 0.01
FOLDS = 5


@dataclass
class Group:
    """One question's candidate sentences: features (n x d), which are right, their word counts."""

    set: str
    source: str
    answerable: bool
    features: np.ndarray
    right: np.ndarray
    words: np.ndarray


def candidates(bot: Bot, question: str) -> tuple[np.ndarray, list[extractive.Candidate]]:
    evidence = bot.engine.gather(question, [Query(question)], top_k=bot.settings.top_k)
    rows = [[c.features()[k] for k in FITTED] for c in evidence.candidates]
    return np.array(rows, dtype=np.float64).reshape(-1, len(FITTED)), evidence.candidates


def groups(name: str, bot: Bot, path: object, limit: int) -> list[Group]:
    out = []
    for q in seeded_sample(read_squad(path)[1], limit):  # type: ignore[arg-type]
        x, cands = candidates(bot, q.text)
        right = [c.sentence.source == q.source and any(normalize(a) in normalize(c.sentence.text) for a in q.answers)
                 for c in cands]  # fmt: skip
        words = [len(c.sentence.text.split()) for c in cands]
        out.append(Group(name, q.source, not q.impossible, x, np.array(right, dtype=bool), np.array(words)))
    return out


def _unanswerable(x: np.ndarray) -> Group:
    return Group("off-topic", "", False, x, np.zeros(len(x), dtype=bool), np.zeros(len(x)))


def fit(train: Sequence[Group]) -> np.ndarray:
    """Weights maximising the log-probability of the right sentences under a softmax over each question's."""
    usable = [g for g in train if g.right.any()]
    sizes = {name: sum(g.set == name for g in usable) for name in {g.set for g in usable}}
    weight = np.array([len(usable) / (len(sizes) * sizes[g.set]) * (SQUAD_WEIGHT if g.set == "squad" else 1.0)
                       for g in usable])  # fmt: skip

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = L2 * float(w @ w), 2 * L2 * w
        for g, wt in zip(usable, weight, strict=True):
            s = g.features @ w
            p = np.exp(s - s.max())
            total -= wt * float(np.log((p * g.right).sum() / p.sum()))
            grad += wt * (g.features.T @ (p / p.sum() - p * g.right / (p * g.right).sum()))
        return total / weight.sum(), grad / weight.sum()

    bounds = [(0.0, None)] * len(FITTED)  # evidence never counts against a sentence
    return minimize(loss, np.zeros(len(FITTED)), jac=True, method="L-BFGS-B", bounds=bounds).x  # type: ignore[no-any-return]


def top1(data: Sequence[Group], w: np.ndarray) -> float:
    """Share of answerable questions whose best-scored sentence is right."""
    return float(np.mean([g.right[int(np.argmax(g.features @ w))] for g in data if g.answerable and len(g.right)]))


def today() -> np.ndarray:
    return np.array([extractive.WEIGHTS.get(k, 0.0) for k in FITTED])


def cross_validate(data: dict[str, list[Group]]) -> None:
    everything = [g for gs in data.values() for g in gs if len(g.right)]
    rng = np.random.default_rng(0)
    fold_of = {src: int(rng.integers(FOLDS)) for src in sorted({g.source for g in everything})}
    picked: dict[int, bool] = {}
    for k in range(FOLDS):
        w = fit([g for g in everything if fold_of[g.source] != k and g.answerable])
        picked.update(
            {id(g): bool(g.right[int(np.argmax(g.features @ w))]) for g in everything if fold_of[g.source] == k}
        )
    print(f"{'set':<8}{'today':>8}{'5-fold':>8}{'left out':>10}   (top sentence right, answerable questions)")
    for name, gs in data.items():
        held = fit([g for n, other in data.items() if n != name for g in other if g.answerable])
        cv = np.mean([picked[id(g)] for g in gs if g.answerable and len(g.right)])
        print(f"{name:<8}{top1(gs, today()):>8.3f}{cv:>8.3f}{top1(gs, held):>10.3f}")


def best_scores(data: Sequence[Group], w: np.ndarray) -> np.ndarray:
    return np.array([float((g.features @ w).max()) if len(g.right) else -99.0 for g in data])


def thresholds(data: dict[str, list[Group]], off_topic: list[Group], w: np.ndarray) -> None:
    off = best_scores(off_topic, w)
    print(f"\noff-topic best scores: max {off.max():.2f}, 90th pct {np.percentile(off, 90):.2f}")
    for name, gs in data.items():
        ans = best_scores([g for g in gs if g.answerable], w)
        print(f"{name}: answerable 1st/3rd/10th pct {np.percentile(ans, 1):.2f} / {np.percentile(ans, 3):.2f} / "
              f"{np.percentile(ans, 10):.2f}", end="")  # fmt: skip
        impossible = best_scores([g for g in gs if not g.answerable], w)
        if len(impossible):
            print(f"; unanswerable refused at the 10th-pct bar: {np.mean(impossible < np.percentile(ans, 10)):.3f}")
        else:
            print()
    for margin in (0.25, 0.5, 1.0, 1.5, 2.0):
        cells = []
        for name, gs in data.items():
            hit, words = [], []
            for g in (g for g in gs if g.answerable and len(g.right)):
                s = g.features @ w
                order = np.argsort(-s)[:2]
                keep = [order[0]] + [i for i in order[1:] if s[i] >= s[order[0]] - margin]
                hit.append(bool(g.right[keep].any()))
                words.append(int(g.words[keep].sum()))
            cells.append(f"{name} {np.mean(hit):.3f} @ {np.median(words):.0f} words")
        print(f"second sentence within {margin}: " + "; ".join(cells))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="dev", choices=("dev",), help="the training files' split to fit on")
    parser.add_argument("--sets", default="squad,tydi,nq")
    parser.add_argument("--limit", type=int, default=400, help="questions per set (a seeded sample)")
    parser.add_argument("--cached", action="store_true", help="reuse the features of the last run")
    args = parser.parse_args(argv)
    names = [n for n in args.sets.split(",") if n in QA_FILES]
    cache = OUT / f"train-groups-{args.split}.pkl"
    if args.cached and cache.exists():
        data, off_topic = pickle.loads(cache.read_bytes())
    else:
        runs, runner = prepare(names, split_folder(args.split, names)), Runner()
        bots = {n: runner.bot(runs[n][1]) for n in names}
        data = {n: groups(n, bots[n], runs[n][0], args.limit) for n in names}
        lines = (ROOT / "data" / "off_topic.txt").read_text(encoding="utf-8").splitlines()
        off_topic = [_unanswerable(candidates(bots[names[0]], q)[0]) for q in lines if q.strip()]
        cache.write_bytes(pickle.dumps((data, off_topic)))
    cross_validate(data)
    w = fit([g for gs in data.values() for g in gs if g.answerable])
    print("\nWEIGHTS (all sets) = {" + ", ".join(f'"{k}": {v:.3f}' for k, v in zip(FITTED, w, strict=True)) + "}")
    print("top sentence right with them: " + ", ".join(f"{n} {top1(gs, w):.3f}" for n, gs in data.items()))
    thresholds(data, off_topic, w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
