"""Prompt templates: plain `$name` files in prompts/, rendered by one function that fails on a missing variable."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from bot.errors import CitebotError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
FENCE = '"""'


class MissingVariables(CitebotError):
    """A template needs variables that were not given."""


@cache
def load_template(name: str) -> string.Template:
    """The template prompts/<name>.md."""
    path = PROMPTS_DIR / f"{name}.md"
    try:
        return string.Template(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CitebotError(f"No prompt template {name!r} at {path}") from exc


def render(name: str, **variables: str) -> str:
    """Fill a template; every `$variable` in it must be given.

    Example: render("answer", question="Why?") raises MissingVariables("Missing variables for 'answer': passages")
    """
    template = load_template(name)
    needed = {m.group("named") or m.group("braced") for m in template.pattern.finditer(template.template)} - {None}
    missing = sorted(needed - set(variables))
    if missing:
        raise MissingVariables(f"Missing variables for {name!r}: {', '.join(missing)}")
    return template.substitute(variables).strip()


def number_passages(texts: list[tuple[str, str]]) -> str:
    """Number (source, text) passages for the model, each fenced so its content reads as a quotation.

    Example: [("a.txt", "It rains.")] -> the text [1] (a.txt), then It rains. between triple-quote fences
    """
    fenced = [(source, text.replace(FENCE, "'''")) for source, text in texts]  # a passage cannot close its fence
    return "\n\n".join(f"[{n}] ({source})\n{FENCE}\n{text}\n{FENCE}" for n, (source, text) in enumerate(fenced, 1))
