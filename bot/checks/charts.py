"""Inline SVG bar charts for the HTML eval report: no script, no external file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

ROW, LABEL_W, BAR_W, VALUE_W = 20, 220, 360, 180


@dataclass(frozen=True)
class Bar:
    """One row of a chart: a label, its value, the value before (drawn as a thin grey bar) and a CSS class."""

    label: str
    value: float
    before: float | None = None
    kind: str = "pass"  # pass | fail | unchecked | none


def bar_chart(title: str, bars: Sequence[Bar], *, unit: str, top: float | None = None) -> str:
    """A horizontal bar chart as an inline <svg>, scaled to `top` (default: the largest value).

    Example: bar_chart("Latency", [Bar("a", 10.0)], unit="ms") -> '<figure ...><svg ...>...10 ms...</svg></figure>'
    """
    scale = top or max([b.value for b in bars] + [b.before or 0.0 for b in bars] + [1e-9])
    height = ROW * len(bars) + 8
    width = LABEL_W + BAR_W + VALUE_W
    rows = "".join(_row(i, bar, scale, unit) for i, bar in enumerate(bars))
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">{rows}</svg>'
    )
    return f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{svg}</figure>'


def _row(i: int, bar: Bar, scale: float, unit: str) -> str:
    y = i * ROW + 4
    label = bar.label if len(bar.label) <= 34 else bar.label[:33] + "…"
    parts = [
        f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end" class="lbl">{escape(label)}'
        f"<title>{escape(bar.label)}</title></text>",
        f'<rect x="{LABEL_W}" y="{y + 2}" width="{_width(bar.value, scale):.1f}" height="{ROW - 8}" '
        f'class="bar {escape(bar.kind)}"/>',
    ]
    if bar.before is not None:
        parts.append(
            f'<rect x="{LABEL_W}" y="{y + ROW - 6}" width="{_width(bar.before, scale):.1f}" height="3" class="was"/>'
        )
    value = f"{bar.value:g} {unit}" + (f" (was {bar.before:g})" if bar.before is not None else "")
    parts.append(f'<text x="{LABEL_W + BAR_W + 6}" y="{y + 13}" class="val">{escape(value)}</text>')
    return "".join(parts)


def _width(value: float, scale: float) -> float:
    return max(0.0, min(1.0, value / scale)) * BAR_W
