"""`citebot eval`: run question sets against the index; exit 0 if all pass, 1 if any fail, 2 on bad input."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import Settings


def register(sub: Any, common: argparse.ArgumentParser, command: Any) -> None:
    """Add the `eval` command to the CLI."""
    p = command(
        sub,
        "eval",
        cmd_eval,
        common,
        "Check question sets (YAML) against the documents.",
        "citebot eval tests/questions/seed.yaml --docs seeds/ --report report.json",
    )
    p.add_argument("sets", nargs="+", type=Path, help="question-set YAML files")
    p.add_argument("--docs", type=Path, help="index this folder first (into --index-dir or a temporary folder)")
    p.add_argument("--report", type=Path, help="write a JSON report here")
    p.add_argument("--top-k", type=int, help="passages retrieved per question")
    p.add_argument("--strict", action="store_true", help="refuse more readily when evidence is weak")


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.eval import describe, load_question_set, report, run_question_set

    cases = [case for path in args.sets for case in load_question_set(path)]  # validate before loading anything
    if args.top_k:
        settings = replace(settings, top_k=args.top_k)
    with tempfile.TemporaryDirectory(prefix="citebot-eval-") as tmp:
        if args.docs:
            settings = _index_docs(args, settings, Path(tmp))
        results = run_question_set(_answer_fn(settings), cases, on_result=_printer(len(cases), describe))
    full = report(results)
    summary = full["summary"]
    print(
        f"\n{summary['passed']}/{summary['cases']} passed, {summary['failed']} failed "
        f"(p50 {summary['latency_ms_p50']} ms, p95 {summary['latency_ms_p95']} ms)"
    )
    if args.report:
        args.report.write_text(json.dumps(full, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if summary["failed"] == 0 else 1


def _index_docs(args: argparse.Namespace, settings: Settings, tmp: Path) -> Settings:
    from index.pipeline import index_paths

    if args.index_dir is None:
        settings = replace(settings, index_dir=tmp / "index")
    index_paths([args.docs], settings, progress=sys.stderr.isatty())
    return settings


def _answer_fn(settings: Settings) -> Any:
    from bot.answerer import Bot

    return Bot.load(settings=settings).answer


def _printer(total: int, describe: Any) -> Any:
    """Print each result as it comes, with a progress bar on a terminal for long sets."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit="case", disable=total < 20 or not sys.stderr.isatty(), leave=False)

    def on_result(result: Any) -> None:
        bar.update(1)
        bar.write(describe(result), file=sys.stdout)

    return on_result
