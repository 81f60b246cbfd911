"""`citebot history`: list, search and export the conversations saved by `citebot serve`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.chats.store import LIST_LIMIT, LOCAL_USER, ConversationStore, store_path
from bot.config import Settings
from bot.errors import CitebotError

EXAMPLE = """citebot history                         # your conversations, newest first
  citebot history --search brigade        # those whose questions or answers hold these words
  citebot history ID > chat.md            # one as Markdown: answers, quotes, sources
  citebot history ID --json               # one as JSON: Answer.to_dict() per turn
  citebot history --user ann              # a user of `citebot serve --auth ann:...`"""


def register(sub: Any, common: argparse.ArgumentParser, command: Any) -> None:
    """Add the `history` command to the CLI."""
    p = command(sub, "history", cmd_history, common, "List, search or export saved conversations.", EXAMPLE)
    p.add_argument("conversation", nargs="?", help="a conversation's id (from the list): print it")
    p.add_argument("--search", default="", help="only conversations whose questions or answers hold these words")
    p.add_argument("--json", action="store_true", help="JSON instead of Markdown (or of the list)")
    p.add_argument("--user", default=LOCAL_USER, help=f"whose conversations (default {LOCAL_USER}: no --auth)")
    p.add_argument("--limit", type=int, default=LIST_LIMIT, help=f"list at most this many (default {LIST_LIMIT})")
    p.add_argument("--link", metavar="URL", help="with Markdown, link each source to the viewer of the server at URL")


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from bot.chats.export import to_json, to_markdown

    store = _existing_store(settings)
    if store is None:
        return 0
    if args.conversation:
        conversation = store.get(args.user, args.conversation)
        link = _link(args.link, args.conversation) if args.link else None
        print(to_json(conversation) if args.json else to_markdown(conversation, link=link), end="")
        return 0
    found = store.list(args.user, search=args.search, limit=args.limit)
    if args.json:
        print(json.dumps([s.to_dict() for s in found], ensure_ascii=False, indent=2))
        return 0
    for s in found:
        print(f"{s.id}  {_when(s.updated)}  {s.turns:>3} turn{'s' * (s.turns != 1)}  {_one_line(s.title)}")
    if not found:
        print("No conversations" + (f" with {args.search!r}" if args.search.strip() else "") + f" for {args.user}.")
    return 0


def _existing_store(settings: Settings) -> ConversationStore | None:
    """The store, without making one: None (saying so) when saving is off or nothing was saved yet."""
    path = store_path(settings)
    if path is None:
        raise CitebotError("Conversations are not saved (CITEBOT_CONVERSATIONS=off): unset it to keep them")
    if not Path(path).exists():
        print(f"No conversations yet: `citebot serve` keeps them in {path}", file=sys.stderr)
        return None
    return ConversationStore.open(path)


def _link(base: str, cid: str) -> Any:
    from ui.api.conversation_routes import viewer_link

    return viewer_link(base, cid)


def _when(stamp: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")


def _one_line(text: str) -> str:
    """A title for a terminal: control characters (escape sequences) shown as '?'.

    Example: _one_line("a\\x1b[31mb") -> "a?[31mb"
    """
    return "".join(ch if ch.isprintable() else "?" for ch in text)
