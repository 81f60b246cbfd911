"""Choose the follow-up weights (bot/extractive.py WEIGHTS: context, same_doc, near) on conversations.

    python benchmarks/tune_followups.py [--data DIR]

Every CoQA story of ../shared/data/coqa-calibration.json is one file in one index (cached as in
benchmarks/quality.py); each dialogue is asked in order with citebot's own answers as history, for every point of a
small grid. A follow-up turn is right when a citation from the story's file overlaps the gold span. The grid point
is chosen by leave-one-dialogue-out: for each dialogue, the best point on the other five is scored on it; the
printed "held-out" number is the mean of those, and the weights to keep are the best point on all six.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence

from quality import DATA, Runner, Turn, coqa_documents, prepare  # noqa: I001
from quality_metrics import cites_span
from quality_systems import ask

from bot import Answer, Bot, extractive

GRID = {"context": (3.0, 4.0, 6.0), "same_doc": (1.0, 2.0, 3.0), "near": (0.5, 1.0, 2.0)}


def run(bot: Bot, dialogues: Sequence[Sequence[Turn]]) -> list[list[tuple[bool, bool, bool]]]:
    """Per dialogue, per follow-up turn with a span: (right, refused, short)."""
    out = []
    for turns in dialogues:
        history: list[tuple[str, Answer]] = []
        rows = []
        for t in turns:
            answer, reply = ask(bot.answer, t.question, list(history))
            history.append((t.question, answer))
            if t.index >= 1 and t.kind == "span":
                rows.append((cites_span(reply, t.source, t.start, t.end), reply.refused, len(t.question.split()) <= 3))
        out.append(rows)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DATA)
    args = parser.parse_args(argv)
    path, settings, _ = prepare(["coqa"], args.data)["coqa"]
    dialogues = coqa_documents(path)[1]
    bot = Runner().bot(settings)
    results = {}
    for point in itertools.product(*GRID.values()):
        extractive.WEIGHTS.update(dict(zip(GRID, point, strict=True)))
        results[point] = run(bot, dialogues)
        rows = [r for d in results[point] for r in d]
        short = [r for r in rows if r[2]]
        print(f"{dict(zip(GRID, point, strict=True))}: cite-hit {sum(r[0] for r in rows) / len(rows):.3f}, "
              f"short {sum(r[0] for r in short) / max(len(short), 1):.3f}, "
              f"refused {sum(r[1] for r in rows) / len(rows):.3f}", flush=True)  # fmt: skip

    def hits(point: tuple[float, ...], keep: Sequence[int]) -> float:
        rows = [r for i in keep for r in results[point][i]]
        return sum(r[0] for r in rows) / max(len(rows), 1)

    n = len(dialogues)
    held = []
    for i in range(n):
        best = max(results, key=lambda p: hits(p, [j for j in range(n) if j != i]))
        held.append(hits(best, [i]))
    best = max(results, key=lambda p: hits(p, range(n)))
    print(f"leave-one-dialogue-out cite-hit: {sum(held) / n:.3f}; best on all: {dict(zip(GRID, best, strict=True))} "
          f"({hits(best, range(n)):.3f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
