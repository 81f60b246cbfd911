"""Fit the sentence scorer's weights (bot/extractive.py WEIGHTS) on the calibration sets, cross-validated by set.

    python benchmarks/train_scorer.py [--sets squad,tydi,nq] [--data DIR]

For every answerable question of each set (each paragraph a document, indexes cached as in benchmarks/quality.py),
the sentences of the top 5 passages are scored with the features of bot.extractive.Candidate; a sentence is right
when it comes from the gold paragraph and contains a gold answer. The weights are a conditional logit (softmax over
one question's sentences, L2-regularised), fitted on all sets but one and measured on the one left out, then on all.
The follow-up weights (context, same_doc, next) are fitted by benchmarks/quality.py runs on conversations, not here.
Prints per held-out set: the share of questions whose top sentence is right, with today's weights and the fitted
ones, and the final weights to paste into bot/extractive.py.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from common import read_squad  # noqa: I001
from quality import DATA, QA_FILES, Loader, prepare
from quality_metrics import normalize
from quality_systems import OUT
from scipy.optimize import minimize

from bot import extractive
from bot.retrieval import Query

FITTED = ("cosine", "lexical", "passage", "window", "lead", "typed", "plex", "fused", "length")
EXTRA = 3  # experimental features computed here, after "typed"
L2 = 0.01


@dataclass
class Group:
    """One question's candidate sentences: features (n x d) and which are right."""

    features: np.ndarray
    right: np.ndarray


def groups(name: str, loader: Loader, runs: dict) -> list[Group]:  # type: ignore[type-arg]
    path, settings, _ = runs[name]
    bot = loader(settings)
    out = []
    for q in read_squad(path)[1]:
        if q.impossible:
            continue
        evidence = bot.engine.gather(q.text, [Query(q.text)], top_k=bot.settings.top_k)
        wanted = extractive.terms(q.text)
        fused = {h.chunk: h.fused for h in evidence.hits}
        top = max(fused.values())
        rows, right = [], []
        for c in evidence.candidates:
            f = c.features()
            plex = bot.engine.vocabulary.coverage(wanted, bot.stored.chunks[c.chunk].text)
            extra = [plex, fused.get(c.chunk, 0.0) / top, np.log1p(len(c.sentence.text.split()))]
            rows.append([f[k] for k in FITTED[: -EXTRA - 1]] + [float(c.typed)] + extra)
            text = normalize(c.sentence.text)
            right.append(c.sentence.source == q.source and any(normalize(a) in text for a in q.answers))
        if rows:
            out.append(Group(np.array(rows, dtype=np.float64), np.array(right)))
    return out


def fit(train: Sequence[Group]) -> np.ndarray:
    """Weights maximising the log-probability of the right sentences under a softmax over each question's."""
    usable = [g for g in train if g.right.any()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = L2 * float(w @ w), 2 * L2 * w
        for g in usable:
            s = g.features @ w
            p = np.exp(s - s.max())
            p_all = p / p.sum()
            p_right = p * g.right / (p * g.right).sum()
            total -= float(np.log((p * g.right).sum() / p.sum()))
            grad += g.features.T @ (p_all - p_right)
        return total / len(usable), grad / len(usable)

    return minimize(loss, np.zeros(len(FITTED)), jac=True, method="L-BFGS-B").x  # type: ignore[no-any-return]


def top1(data: Sequence[Group], w: np.ndarray) -> float:
    """Share of questions whose best-scored sentence is right."""
    return float(np.mean([g.right[int(np.argmax(g.features @ w))] for g in data]))


def current() -> np.ndarray:
    """Today's weights in FITTED order (the type penalty as a bonus for a typed sentence)."""
    return np.array([extractive.WEIGHTS.get(k, 0.0) for k in FITTED[: -EXTRA - 1]] + [extractive.TYPE_PENALTY] + [0] * EXTRA)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="squad,tydi,nq")
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--cached", action="store_true", help="reuse the features of the last run")
    args = parser.parse_args(argv)
    names = [n for n in args.sets.split(",") if n in QA_FILES]
    runs = prepare(names, args.data)
    loader = Loader()
    cache = OUT / "train-groups.pkl"
    if cache.exists() and args.cached:
        data = pickle.loads(cache.read_bytes())
    else:
        data = {n: groups(n, loader, runs) for n in names}
        cache.write_bytes(pickle.dumps(data))
    print(f"{'held out':<10}{'questions':>10}{'today':>10}{'fitted':>10}   weights fitted on the other sets")
    for held in names:
        w = fit([g for n in names if n != held for g in data[n]])
        row = f"{held:<10}{len(data[held]):>10}{top1(data[held], current()):>10.3f}{top1(data[held], w):>10.3f}"
        print(row + "   " + " ".join(f"{k}={v:.3f}" for k, v in zip(FITTED, w, strict=True)))
    w = fit([g for n in names for g in data[n]])
    print("all sets: " + " ".join(f"{n} {top1(data[n], w):.3f}" for n in names))
    print("WEIGHTS = {" + ", ".join(f'"{k}": {v:.3f}' for k, v in zip(FITTED, w, strict=True)) + "}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
