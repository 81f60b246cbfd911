"""citebot: ask questions about a folder of documents and get answers that cite their sources.

Examples:
  citebot index seeds/                       # index (or update the index of) a folder
  citebot ask "Why can't Ukraine join NATO?"  # answer with [n] citations
  citebot ask "Why can't Ukraine join NATO?" --json
  citebot chat                               # multi-turn chat in the terminal
  citebot eval tests/questions/seed.yaml     # check a question set

Settings come from CITEBOT_* environment variables (e.g. CITEBOT_INDEX_DIR) and these options.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import CHOICES, Settings
from bot.errors import CannotWrite, CitebotError, ReaderUnavailable

if TYPE_CHECKING:
    from bot.answerer import Bot
    from bot.checks.saved import Verdict
    from bot.types import Answer

CHAT_HELP = (
    "Ask about the documents ('quit' or Ctrl-D to leave). "
    "/save [essential words] keeps the last answer as a test; /wrong saves it marked wrong."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `citebot` command; returns the exit code (0 ok, 1 failure, 2 usage or input error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env(
            index_dir=args.index_dir, strict=getattr(args, "strict", None) or None, llm=getattr(args, "llm", None)
        )
        return int(args.run(args, settings))
    except (CannotWrite, ReaderUnavailable) as exc:  # a full disk, a read-only folder, a damaged install: a failure
        print(f"citebot: error: {exc}", file=sys.stderr)
        return 1
    except CitebotError as exc:
        print(f"citebot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("citebot: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citebot", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, help="index folder (default: .citebot/index or $CITEBOT_INDEX_DIR)")
    common.add_argument(
        "--llm",
        choices=CHOICES["llm"],
        help="write answers with an LLM, citations still verified (default: none, or $CITEBOT_LLM; "
        "CITEBOT_LLM_BASE_URL, CITEBOT_LLM_MODEL, CITEBOT_LLM_MODEL_PATH configure it)",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = _command(
        sub,
        "index",
        cmd_index,
        common,
        "Index documents (only new or changed files are embedded).",
        "citebot index seeds/ docs/handbook.pdf --index-dir /tmp/ix",
    )
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: seeds/ or $CITEBOT_DOCS_DIR)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything instead of updating")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")

    p = _command(
        sub,
        "ask",
        cmd_ask,
        common,
        "Answer one question with cited passages.",
        'citebot ask "Why can\'t Ukraine join NATO?" --json',
    )
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (Answer.to_dict())")
    p.add_argument("--stream", action="store_true", help="print the answer as it is written")
    p.add_argument("--strict", action="store_true", help="refuse more readily when evidence is weak")

    p = _command(
        sub,
        "chat",
        cmd_chat,
        common,
        "Chat in the terminal; follow-up questions use the conversation.",
        "citebot chat   (/save [essential words] keeps the last answer as a test; 'quit' or Ctrl-D to leave)",
    )
    p.add_argument("--strict", action="store_true", help="refuse more readily when evidence is weak")

    _add_extra_commands(sub, common)
    return parser


def _command(
    sub: Any, name: str, run: Callable[..., int], common: argparse.ArgumentParser, help: str, example: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        parents=[common],
        help=help,
        description=f"{help}\n\nExample:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser


def _add_extra_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Commands defined in their own modules: eval; docs and rm; serve; history."""
    from ui import docs_cli, eval_cli, history_cli, serve_cli

    for module in (eval_cli, docs_cli, serve_cli, history_cli):
        module.register(sub, common, _command)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from index.pipeline import index_paths

    paths = args.paths or [settings.docs_dir]
    progress = not args.quiet and sys.stderr.isatty()
    report, skipped = index_paths(paths, settings, progress=progress, rebuild=args.rebuild)
    for item in skipped:
        print(f"citebot: warning: skipped {item.source}: {item.reason}", file=sys.stderr)
    if not args.quiet:
        files = len(report.added) + len(report.changed) + len(report.unchanged)
        counts = f"{len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
        counts += f"{len(report.unchanged)} unchanged; {report.embedded} texts embedded"
        print(
            f"Indexed {report.chunks} chunks from {files} file{'s' * (files != 1)} ({counts}) into {settings.index_dir}"
        )
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answerer import clean_question
    from bot.types import Answer

    question = clean_question(args.question)  # fail fast, before the model loads
    bot = _load_bot(settings)
    result = None
    for event in bot.stream(question):
        if isinstance(event, Answer):
            result = event
        elif args.stream and not args.json:
            print(event, end="", flush=True)
    assert result is not None
    _warn(result)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n" + render(result, with_text=False) if args.stream else render(result))
    return 0


def _warn(answer: Answer) -> None:
    for warning in answer.warnings:
        print(f"citebot: warning: {warning}", file=sys.stderr)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.checks.saved import parse_command
    from bot.errors import EmptyQuestion

    bot = _load_bot(settings)
    history: list[tuple[str, Answer]] = []
    print(CHAT_HELP)
    while True:
        try:
            question = input("you> ")
        except EOFError:
            print()
            return 0
        if question.strip().lower() in {"quit", "exit", ":q"}:
            return 0
        command = parse_command(question)
        try:
            if command is not None:
                print(_save(bot, history, *command))
                continue
            result = bot.answer(question, history)
        except EmptyQuestion as exc:
            print(exc)
            continue
        _warn(result)
        print(render(result) + "\n")
        history.append((question, result))


def _save(bot: Bot, history: list[tuple[str, Answer]], verdict: Verdict, words: list[str]) -> str:
    """Save the last turn as a test case (`/save [essential words]`, or `/wrong`); say where it went."""
    from bot.checks.saved import Turn, save_turn

    if not history:
        return "Nothing to save yet: ask a question first, then /save."
    turn = Turn(tuple(a.question for _, a in history), history[-1][1])
    roots = bot.stored.manifest.get("roots", [])
    try:
        saved = save_turn(turn, roots=roots, settings=bot.settings, verdict=verdict, essential=words)
    except CitebotError as exc:
        return str(exc)
    kind = "marked wrong (add `expect:` to check it)" if verdict == "wrong" else "saved"
    kind += "" if saved.added else " already"
    return f"Case {saved.id!r} {kind} in {saved.path}. Run it: citebot eval {saved.path}"


def _load_bot(settings: Settings) -> Bot:
    from bot.answerer import Bot

    return Bot.load(settings=settings)


def render(answer: Answer, *, with_text: bool = True) -> str:
    """The answer for a terminal: text, then each citation with its source and offsets.

    Example: "X. [1]\\n\\n[1] a.txt:0-2 (score 0.70)"; a PDF: "[1] report.pdf p. 12 (2748-2977, score 0.72)"; with a
    short answer, "In short: 997 [1]" comes first.
    """
    lines = [answer.text, ""] if with_text else []
    if answer.short is not None:
        lines.insert(0, f"In short: {answer.short.text} [{answer.short.n}]")
    if answer.refused:
        lines += ["Closest passages (related, not an answer):"]
        lines += [
            f"  - {p.source}:{p.start}-{p.end} (score {p.score:.2f}) {_short(p.text)}" for p in answer.passages[:3]
        ]
    for c in answer.citations:
        where = f"{c.source} {c.location} ({c.start}-{c.end}, " if c.location else f"{c.source}:{c.start}-{c.end} ("
        lines.append(f"[{c.n}] {where}score {c.score:.2f})")
    lines += [f"(searched for: {_short(q, 160)})" for q in answer.searched if q != answer.question]
    return "\n".join(lines).rstrip()


def _short(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
