"""Where a passage lies in its document: PDF pages and heading paths, as offsets into the loaded text. Pure."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

PAGE_BREAK = "\n\n"  # between the pages of a loaded PDF
SEPARATOR = " › "  # between the levels of a heading path
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_SETEXT = re.compile(r"^ {0,3}(=|-)\1*[ \t]*$")


@dataclass(frozen=True)
class Locations:
    """Offsets in one document's loaded text: where each PDF page starts, and where each section starts."""

    pages: tuple[int, ...] = ()  # pages[k] is where page k+1 starts; pages[0] == 0
    headings: tuple[tuple[int, str], ...] = ()  # (where a section starts, its heading path), in text order

    def __bool__(self) -> bool:
        return bool(self.pages or self.headings)

    def to_json(self) -> dict[str, Any]:
        return {"pages": list(self.pages), "headings": [[o, p] for o, p in self.headings]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Locations:
        return cls(tuple(data.get("pages", ())), tuple((int(o), str(p)) for o, p in data.get("headings", ())))


def page_starts(pages: Sequence[str], separator: str = PAGE_BREAK) -> tuple[int, ...]:
    """Where each page starts in `separator.join(pages)`.

    Example: page_starts(["ab", "cde", "f"]) -> (0, 4, 9)
    """
    starts = [0]
    for page in pages[:-1]:
        starts.append(starts[-1] + len(page) + len(separator))
    return tuple(starts)


def locate(locations: Locations, start: int, end: int) -> tuple[int | None, str | None]:
    """The 1-based page (PDFs) and a label for the passage text[start:end].

    Example: pages (0, 100): (0..10) -> (1, "p. 1"); (90..120) -> (1, "p. 1-2");
    headings ((0, "Install"), (50, "Install › Linux")): (60..70) -> (None, "Install › Linux")
    """
    if locations.pages:
        first = bisect_right(locations.pages, start)
        last = bisect_right(locations.pages, max(start, end - 1))
        return first, f"p. {first}" if first == last else f"p. {first}-{last}"
    i = bisect_right([offset for offset, _ in locations.headings], start) - 1
    return None, locations.headings[i][1] if i >= 0 else None


def heading_paths(headings: Iterable[tuple[int, int, str]]) -> tuple[tuple[int, str], ...]:
    """From (offset, level, title) to (offset, path): each title under the nearest shallower one before it.

    Example: [(0, 1, "A"), (5, 2, "B"), (9, 2, "C")] -> ((0, "A"), (5, "A › B"), (9, "A › C"))
    """
    stack: list[tuple[int, str]] = []
    out = []
    for offset, level, title in headings:
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        out.append((offset, SEPARATOR.join(t for _, t in stack)))
    return tuple(out)


def markdown_headings(text: str) -> list[tuple[int, int, str]]:
    """ATX (`# Title`) and setext (`Title` over `===` or `---`) headings as (offset, level, title); code is skipped.

    Example: "# A\\ntext\\n## B\\n" -> [(0, 1, "A"), (9, 2, "B")]; "A\\n===\\n" -> [(0, 1, "A")]
    """
    out, offset, fenced, previous = [], 0, False, (0, "")
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _ATX.match(bare)) and m.group(2):
            out.append((offset, len(m.group(1)), m.group(2)))
        elif not fenced and (u := _SETEXT.match(bare)) and previous[1].strip() and not _ATX.match(previous[1]):
            out.append((previous[0], 1 if u.group(1) == "=" else 2, previous[1].strip()))
        previous = (offset, "" if fenced else bare)
        offset += len(line)
    return out


def find_in_order(text: str, titles: Iterable[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """Find each (level, title) in `text` after the previous one; titles not found are left out.

    Example: find_in_order("Intro\\nA\\nB", [(1, "A"), (2, "B")]) -> [(6, 1, "A"), (8, 2, "B")]
    """
    out, cursor = [], 0
    for level, title in titles:
        at = text.find(title, cursor) if title else -1
        if at >= 0:
            out.append((at, level, " ".join(title.split())))
            cursor = at + len(title)
    return out
