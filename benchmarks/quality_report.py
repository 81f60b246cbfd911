"""Printing and writing benchmarks/quality.py's results: one table per set, a summary, JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quality_metrics import Metrics, percent


@dataclass
class SetReport:
    """One set's metric columns (system -> metric -> value), per-question records and a line on what was asked."""

    name: str
    procedure: str
    columns: dict[str, Metrics]
    records: list[dict[str, Any]] = field(default_factory=list)


SYSTEMS = ("citebot", "llama-index", "BM25")
CONVERSATIONS = ("coqa", "dialogues", "dialogues-unseen")  # sets of dialogues, scored by follow-up cite-hit
ANSWER_KEY = {n: "follow-up cite-hit" for n in CONVERSATIONS}
ANSWER_KEY.update({"seed": "pass rate", "library": "pass rate", "off-topic": "refused"})


def print_table(report: SetReport) -> None:
    """Metric rows × system columns."""
    names = list(report.columns)
    width = max(len(n) for n in names) + 2
    keys = [k for k in dict.fromkeys(k for c in report.columns.values() for k in c)
            if any(c.get(k) is not None for c in report.columns.values())]  # fmt: skip
    print(f"\n{report.procedure}\n{'metric':<40}" + "".join(f"{n:>{width}}" for n in names))
    for key in keys:
        cells = [report.columns[n].get(key) for n in names]
        print(f"{key:<40}" + "".join(f"{_cell(key, c):>{width}}" for c in cells))


def _cell(key: str, value: float | None) -> str:
    if value is not None and ("ms" in key or "words" in key):
        return f"{value:.1f}"
    return percent(value)


def summary_rows(reports: Sequence[SetReport]) -> list[list[str]]:
    """Per set: hit@1, hit@5 and the answer metric for citebot / llama-index / BM25, then citebot's own numbers."""
    rows = [["set", "hit@1 cb/li/bm25", "hit@5 cb/li/bm25", "answer cb/li/bm25", "words", "refused", "p50 ms", "notes"]]
    for r in reports:
        cols, cb = r.columns, r.columns["citebot"]
        refused = cb.get("refused (answerable)", cb.get("refused (span turns)"))
        answer = _trio(cols, ANSWER_KEY.get(r.name.split()[0], "answer contains gold"))
        rows.append([r.name, _trio(cols, "hit@1"), _trio(cols, "hit@5"), answer,
                     _cell("words", cb.get("median words")), percent(refused),
                     _cell("ms", cb.get("latency p50 ms")), _notes(r)])  # fmt: skip
    return rows


def _trio(columns: dict[str, Metrics], key: str) -> str:
    return "/".join(percent(columns.get(n, {}).get(key)) for n in SYSTEMS)


def _notes(report: SetReport) -> str:
    cols = report.columns
    if report.name in CONVERSATIONS:
        alone, cb = cols["citebot (no history)"], cols["citebot"]
        short = (
            f"short {percent(cb['short follow-up cite-hit'])} (no history {percent(alone['short follow-up cite-hit'])})"
        )
        return f"follow-ups no history {percent(alone['follow-up cite-hit'])}; {short}"
    if report.name.startswith("off-topic"):
        return f"after a turn {percent(cols['citebot']['refused after a turn'])}"
    notes = []
    if "citebot in turn" in cols:  # the set asked as one conversation
        notes.append(f"in turn {percent(cols['citebot in turn']['answer contains gold'])}")
    if "citebot --strict" in cols:
        cb, strict = cols["citebot"], cols["citebot --strict"]
        notes.append(
            f"unanswerable refused {percent(cb['refused (unanswerable)'])}; strict "
            f"{percent(strict['refused (unanswerable)'])} at {percent(strict['refused (answerable)'])} answerable"
        )
    return "; ".join(notes)


def print_summary(reports: Sequence[SetReport]) -> None:
    rows = summary_rows(reports)
    widths = [max(len(row[i]) for row in rows) + 2 for i in range(len(rows[0]) - 1)]
    print(
        "\nsummary (cb = citebot, li = plain llama-index; answer = contains gold, dialogues' follow-up cite-hit, seed"
        " and library pass rate, off-topic refused)"
    )
    for row in rows:
        print("".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=False)) + row[-1])


def write_json(path: Path, reports: Sequence[SetReport]) -> None:
    sets = {r.name: {"procedure": r.procedure, "metrics": r.columns} for r in reports}
    records = [record for r in reports for record in r.records]
    path.write_text(json.dumps({"sets": sets, "records": records}, indent=1), encoding="utf-8")
    print(f"wrote {path} ({len(records)} records)")
