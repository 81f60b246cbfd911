"""`citebot docs` and `citebot rm NAME`: list and remove indexed documents."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.config import Settings


def register(sub: Any, common: argparse.ArgumentParser, command: Any) -> None:
    """Add the `docs` and `rm` commands to the CLI."""
    p = command(sub, "docs", cmd_docs, common, "List the indexed documents.", "citebot docs --json")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p = command(
        sub,
        "rm",
        cmd_rm,
        common,
        "Remove a document: deleted from the documents folder and the index.",
        "citebot rm uploads/old-report.pdf   (names as `citebot docs` lists them)",
    )
    p.add_argument("name", help="the document's name, as `citebot docs` lists it")


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    from bot.library import Library

    docs = Library(settings).documents()
    if args.json:
        print(json.dumps([d.to_dict() for d in docs], ensure_ascii=False, indent=2))
        return 0
    width = max((len(d.name) for d in docs), default=4)
    print(f"{'name':<{width}}  type  {'size':>9}  chunks  indexed at")
    for d in docs:
        print(f"{d.name:<{width}}  {d.type:<4}  {human_size(d.size):>9}  {d.chunks:>6}  {d.indexed_at or '-'}")
    return 0


def cmd_rm(args: argparse.Namespace, settings: Settings) -> int:
    from bot.library import Library

    Library(settings).remove(args.name)
    print(f"Removed {args.name} from the documents folder and the index")
    return 0


def human_size(size: int) -> str:
    """Bytes for people.

    Example: human_size(512) -> "512 B"; human_size(2_500_000) -> "2.4 MB"
    """
    if size < 1024:
        return f"{size} B"
    return f"{size / 1024:.1f} KB" if size < 2**20 else f"{size / 2**20:.1f} MB"
