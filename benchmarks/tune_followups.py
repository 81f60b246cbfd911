"""Choose the follow-up weights (bot/extractive.py WEIGHTS: context, same_doc, near) on conversations.

    python benchmarks/tune_followups.py [--sets coqa,dialogues] [--data DIR]

Each set's stories are files in one index (cached as in benchmarks/quality.py): CoQA's
../shared/data/coqa-calibration.json and data/dialogues.json (conversations written for the project;
data/dialogues_unseen.json is never tuned on). Each dialogue is asked in order with citebot's own answers as history,
for every point of a small grid. A follow-up turn is right when a citation from the story's file overlaps the gold
span. A point's score is the mean over the sets of their follow-up cite-hit (each set counts the same, whatever its
size). The point is chosen by leave-one-dialogue-out: for each dialogue, the best point on the others is scored on
it; the printed "held-out" number is the mean of those, and the weights to keep are the best point on all.
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
Row = tuple[bool, bool, bool]  # a follow-up turn with a span: right, refused, short


def run(bot: Bot, dialogues: Sequence[Sequence[Turn]]) -> list[list[Row]]:
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
    parser.add_argument("--sets", default="coqa,dialogues", help="comma-separated: coqa,dialogues")
    parser.add_argument("--data", default=DATA)
    args = parser.parse_args(argv)
    chosen = [s for s in args.sets.split(",") if s in ("coqa", "dialogues")]
    runner = Runner()
    sets = {}  # name -> (bot, dialogues)
    for name, (path, settings, _) in prepare(chosen, args.data).items():
        sets[name] = (runner.bot(settings), coqa_documents(path)[1])
    owner = [name for name, (_, dialogues) in sets.items() for _ in dialogues]  # each dialogue's set, in order
    results: dict[tuple[float, ...], list[list[Row]]] = {}
    for point in itertools.product(*GRID.values()):
        extractive.WEIGHTS.update(dict(zip(GRID, point, strict=True)))
        results[point] = [rows for bot, dialogues in sets.values() for rows in run(bot, dialogues)]
        per_set = []
        for name in sets:
            rows = [r for d, o in zip(results[point], owner, strict=True) if o == name for r in d]
            short = [r for r in rows if r[2]]
            per_set.append(f"{name} {_rate(rows):.3f} (short {_rate(short):.3f}, refused "
                           f"{sum(r[1] for r in rows) / max(len(rows), 1):.3f})")  # fmt: skip
        print(f"{dict(zip(GRID, point, strict=True))}: {'; '.join(per_set)}", flush=True)

    def score(point: tuple[float, ...], keep: Sequence[int]) -> float:
        """Mean over the sets of the cite-hit of the kept dialogues' follow-ups."""
        rates = []
        for name in sets:
            rows = [r for i in keep if owner[i] == name for r in results[point][i]]
            if rows:
                rates.append(_rate(rows))
        return sum(rates) / len(rates)

    n = len(owner)
    held = [score(max(results, key=lambda p: score(p, [j for j in range(n) if j != i])), [i]) for i in range(n)]
    best = max(results, key=lambda p: score(p, range(n)))
    print(f"leave-one-dialogue-out cite-hit: {sum(held) / n:.3f}; best on all: {dict(zip(GRID, best, strict=True))} "
          f"({score(best, range(n)):.3f})")  # fmt: skip
    return 0


def _rate(rows: Sequence[Row]) -> float:
    return sum(r[0] for r in rows) / max(len(rows), 1)


if __name__ == "__main__":
    sys.exit(main())
