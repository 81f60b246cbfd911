"""`citebot eval`: run question sets against the index; exit 0 if all pass, 1 if any fail, 2 on bad input.

With `--compare OLD.json` the exit code is 1 only when a case regressed (fails now, did not fail in OLD).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import CitebotError


def register(sub: Any, common: argparse.ArgumentParser, command: Any) -> None:
    """Add the `eval` command to the CLI."""
    p = command(
        sub,
        "eval",
        cmd_eval,
        common,
        "Check question sets (YAML) against the documents.",
        "citebot eval tests/questions/seed.yaml --docs seeds/ --report new.json --compare old.json --html report.html",
    )
    p.add_argument("sets", nargs="+", type=Path, help="question-set YAML files")
    p.add_argument("--docs", type=Path, help="index this folder first (into --index-dir or a temporary folder)")
    p.add_argument("--report", type=Path, help="write a JSON report here")
    p.add_argument(
        "--compare",
        type=Path,
        metavar="OLD.json",
        help="compare with an earlier --report: changes on stderr and in the report; exit 1 only on regressions",
    )
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report here")
    p.add_argument("--top-k", type=int, help="passages retrieved per question")
    p.add_argument("--strict", action="store_true", help="refuse more readily when evidence is weak")


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.checks.eval import describe, load_question_set, report, run_question_set

    cases = [case for path in args.sets for case in load_question_set(path)]  # validate before loading anything
    before = read_report(args.compare) if args.compare else None
    if args.top_k:
        settings = replace(settings, top_k=args.top_k)
    with tempfile.TemporaryDirectory(prefix="citebot-eval-") as tmp:
        if args.docs:
            settings = _index_docs(args, settings, Path(tmp))
        results = run_question_set(_answer_fn(settings), cases, on_result=_printer(len(cases), describe))
    full = report(results)
    print(_summary_line(full["summary"]))
    regressed = _compare(args, full, before) if before is not None else None
    _write_outputs(args, full, before)
    if regressed is not None:
        return 1 if regressed else 0
    return 0 if full["summary"]["failed"] == 0 else 1


def _summary_line(summary: dict[str, Any]) -> str:
    """Example: "\\n24/25 passed, 1 failed (p50 9.3 ms, p95 12.1 ms)" (", 2 unchecked" when there are some)."""
    unchecked = f", {summary['unchecked']} unchecked" if summary["unchecked"] else ""
    return (
        f"\n{summary['passed']}/{summary['cases']} passed, {summary['failed']} failed{unchecked} "
        f"(p50 {summary['latency_ms_p50']} ms, p95 {summary['latency_ms_p95']} ms)"
    )


def read_report(path: Path) -> dict[str, Any]:
    """An earlier JSON report, checked before anything runs."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CitebotError(
            f"Cannot read the report to compare with, {path} ({exc}): "
            f"write one first with `citebot eval SET --report {path}`"
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise CitebotError(f"{path} is not a `citebot eval --report` file (no 'cases' list)")
    return data


def _compare(args: argparse.Namespace, full: dict[str, Any], before: dict[str, Any]) -> list[str]:
    """Add the comparison to the report, print its table on stderr, and return the regressed cases."""
    from bot.checks.compare import compare_reports, format_comparison

    comparison = compare_reports(before, full)
    full["comparison"] = {"against": str(args.compare), **comparison.to_dict()}
    print(f"\nCompared with {args.compare}:\n{format_comparison(comparison)}", file=sys.stderr)
    return [c.key for c in comparison.where("regressed")]


def _write_outputs(args: argparse.Namespace, full: dict[str, Any], before: dict[str, Any] | None) -> None:
    from index.diskspace import guard_writes

    if args.report:
        with guard_writes(args.report.parent, what=f"the report {args.report.name}"):
            args.report.write_text(json.dumps(full, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.html:
        from bot.checks.report import render_html

        with guard_writes(args.html.parent, what=f"the report {args.html.name}"):
            args.html.write_text(render_html(full, before=before), encoding="utf-8")


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
