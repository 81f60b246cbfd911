"""Save a chat turn as a question-set case: the case from an answer (pure), and an atomic, locked append to YAML."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.config import Settings
from bot.errors import CitebotError
from bot.types import Answer
from index.diskspace import guard_writes

Verdict = Literal["good", "wrong"]
HEADER = "# Cases saved from the chat (citebot). Edit freely; run: citebot eval <this file>\n"
STOPWORDS = frozenset(
    "a about above after again against all also an and any are as at be because been before being below between both "
    "but by can could did do does doing down during each few for from further had has have having he her here hers "
    "him his how i if in into is it its itself just may me might more most must my no nor not now of off on once only "
    "or other our ours out over own same shall she should so some such than that the their theirs them then there "
    "these they this those through to too under until up upon very was we were what when where which while who whom "
    "why will with would you your yours".split()
)
_WORD = re.compile(r"[^\W_]+(?:[-,.'’][^\W_]+)*")


class SaveError(CitebotError):
    """The question-set file cannot take a new case; the message names the file and what to do."""


@dataclass(frozen=True)
class Turn:
    """One answered turn of a conversation: the questions asked so far (this one last) and its answer."""

    questions: tuple[str, ...]
    answer: Answer


def distinctive_words(quote: str, *, within: str = "", limit: int = 3) -> list[str]:
    """A few words of `quote` that identify it: numbers first, then the longest non-stop-words, in quote order.

    Only words that also occur in `within` (case-insensitive) are chosen, when it is given.
    Example: "The unit is ready in 2027 after long planning." -> ["2027", "planning", "ready"]
    """
    words = _WORD.findall(quote)
    candidates = [w for w in dict.fromkeys(words) if _usable(w) and (not within or w.lower() in within.lower())]
    ranked = sorted(candidates, key=lambda w: (not _has_digit(w), -len(w), words.index(w)))
    return ranked[:limit]


def _usable(word: str) -> bool:
    if _has_digit(word):
        return len(word) >= 3  # "2027", "5,000", "300"; not "32", which turns up in too many answers
    return len(word) >= 4 and word.lower() not in STOPWORDS


def _has_digit(word: str) -> bool:
    return any(ch.isdigit() for ch in word)


def case_from_turn(turn: Turn, *, verdict: Verdict = "good", essential: Sequence[str] = ()) -> dict[str, Any]:
    """The YAML mapping of a case reproducing `turn`: expectations from its citations, or a note if marked wrong.

    Example: a cited answer to "Why?" -> {"id": "why", "question": "Why?", "expect": {"contains_any": [...],
    "sources": ["a.txt"], "refusal": False}}
    """
    questions = list(turn.questions)
    case: dict[str, Any] = {"id": slug(questions[-1])}
    case.update({"question": questions[0]} if len(questions) == 1 else {"turns": questions})
    if verdict == "wrong":
        case["note"] = wrong_note(turn.answer)
    else:
        case["expect"] = expectations(turn.answer, essential=essential)
    return case


def expectations(answer: Answer, *, essential: Sequence[str] = ()) -> dict[str, Any]:
    """What the answer showed: a refusal, or its cited sources and essential words (default: distinctive ones)."""
    if answer.refused:
        return {"refusal": True}
    words = [w.strip() for w in essential if w.strip()]
    if not words and answer.citations:
        words = distinctive_words(answer.citations[0].quote, within=answer.text)
    expect: dict[str, Any] = {"contains_any": words} if words else {}
    sources = list(dict.fromkeys(c.source for c in answer.citations))
    if sources:
        expect["sources"] = sources
    expect["refusal"] = False
    return expect


def wrong_note(answer: Answer) -> str:
    """The note of a case marked 👎: what the answer said, and what to do next."""
    text = " ".join(answer.text.split())
    said = "refused" if answer.refused else f'answered "{text[:200]}{"…" * (len(text) > 200)}"'
    return f"Marked wrong in the chat: the bot {said}. Add `expect:` to say what a right answer holds."


def slug(question: str, *, words: int = 6) -> str:
    """A readable case id from a question.

    Example: "Why can't Ukraine join NATO?" -> "why-can-t-ukraine-join-nato"
    """
    parts = re.findall(r"[^\W_]+", question.lower())[:words]
    return "-".join(parts) or "case"


def unique_id(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`... whichever is free."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def parse_words(text: str) -> list[str]:
    """Essential words as typed: comma-separated, or space-separated with quotes around phrases.

    Example: 'territorial integrity, unanimous' -> ["territorial integrity", "unanimous"];
    '2027 "full operational"' -> ["2027", "full operational"]
    """
    import shlex

    if "," in text:
        return [w.strip() for w in text.split(",") if w.strip()]
    try:
        return shlex.split(text)
    except ValueError:  # an unclosed quote: take the words as they are
        return text.split()


def parse_command(line: str) -> tuple[Verdict, list[str]] | None:
    """A chat command that saves the last turn, or None for a question.

    Example: "/save 2027 Pistorius" -> ("good", ["2027", "Pistorius"]); "/wrong" -> ("wrong", []); "Why?" -> None
    """
    head, _, rest = line.strip().partition(" ")
    if head == "/save":
        return "good", parse_words(rest)
    if head == "/wrong":
        return "wrong", []
    return None


def questions_file(roots: Sequence[str], docs_dir: Path, setting: str) -> Path:
    """Where saved cases go: `setting` under the indexed documents folder (first folder root), unless absolute."""
    target = Path(setting)
    if target.is_absolute():
        return target
    folder = next((Path(r) for r in roots if Path(r).is_dir()), docs_dir)
    return folder / target


@dataclass(frozen=True)
class SavedCase:
    """Where a case went: its id in the file, and whether it was added (False: the same case was already there)."""

    id: str
    path: Path
    added: bool


def save_turn(
    turn: Turn, *, roots: Sequence[str], settings: Settings, verdict: Verdict = "good", essential: Sequence[str] = ()
) -> SavedCase:
    """Append the case of `turn` to the saved-questions file of these documents."""
    path = questions_file(roots, settings.docs_dir, settings.saved_questions)
    other = "set CITEBOT_SAVED_QUESTIONS to a file elsewhere"
    with guard_writes(path.parent, what=f"a test case into {path.name}", other=other):
        case_id, added = append_case(path, case_from_turn(turn, verdict=verdict, essential=essential))
    return SavedCase(case_id, path, added)


def append_case(path: Path, case: dict[str, Any]) -> tuple[str, bool]:
    """Append `case` to the question set at `path` (created if missing); return its id (made unique) and True.

    A case equal to one already in the file (ids aside) is not added again: that one's id and False are returned.
    Saves are serialised by a lock file, and the file is replaced atomically: readers see the old or the new file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        old = path.read_text(encoding="utf-8") if path.exists() else HEADER
        cases = _existing_cases(path, old)
        same = next((c for c in cases if _without_id(c) == _without_id(case)), None)
        if same is not None:
            return str(same.get("id")), False
        case = {**case, "id": unique_id(str(case["id"]), {str(c.get("id")) for c in cases})}
        _replace(path, _appended(old, cases, case))
    return str(case["id"]), True


def _without_id(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k != "id"}


def _appended(old: str, cases: list[dict[str, Any]], case: dict[str, Any]) -> str:
    """The file's text with `case` added at the end, comments kept; rewritten whole if that would not parse."""
    import yaml

    new = old.rstrip("\n") + "\n" + _dump([case])
    try:
        if yaml.safe_load(new) == [*cases, case]:
            return new
    except yaml.YAMLError:
        pass
    return HEADER + _dump([*cases, case])


def _dump(cases: list[dict[str, Any]]) -> str:
    """Cases as block YAML, lists of words inline, keys in the order written.

    Example: [{"id": "a", "turns": ["Q?", "R?"]}] -> "- id: a\n  turns: ['Q?', 'R?']\n"
    """
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def inline_lists(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
        flow = all(isinstance(item, str | int | float | bool) for item in data)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)

    Dumper.add_representer(list, inline_lists)
    return yaml.dump(cases, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)


def _existing_cases(path: Path, text: str) -> list[dict[str, Any]]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SaveError(f"{path}: not valid YAML ({exc}); fix it or move it away, then save again") from exc
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise SaveError(f"{path}: expected a list of cases; fix it or set CITEBOT_SAVED_QUESTIONS to another file")
    return data


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `.<name>.lock` beside `path` (other threads and processes wait)."""
    import fcntl

    lock = path.with_name(f".{path.name}.lock")
    with open(lock, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)  # mkstemp's 0600 would stick
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
