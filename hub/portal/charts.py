"""Charts drawn on the server as inline SVG: no script, no library, no CDN.

The portal's CSP forbids style attributes (`style-src 'self'`), so colours are
SVG presentation attributes (fill=) and sizes come from the viewBox; the
stylesheet only scales the figure to its column. Every text is escaped; every
bar carries a <title> with its number, and the page prints the same numbers
in a table beside the chart.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 600
FONT = 13
INK, MUTED, GRID = "#1d2733", "#5b6775", "#d5dbe2"
LEFT, BAR, GAP = 90, 22, 8  # horizontal bars: room for a district's name, sizes


@dataclass(frozen=True, slots=True)
class Series:
    """One kind of value: a grade, a category, downgrades."""

    label: str
    colour: str


@dataclass(frozen=True, slots=True)
class Group:
    """One bar or column: a district or a month, a value per series."""

    label: str
    values: Sequence[int]


def nice_ticks(top: int, *, count: int = 4) -> list[int]:
    """0 and round steps up to at least `top` (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return list(range(0, step * math.ceil(top / step) + 1, step))


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}" '
        f'font-size="{FONT}" font-family="sans-serif">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">'
        f"{escape(text)}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, colour: str, tip: str) -> str:
    return (
        f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'fill="{colour}"><title>{escape(tip)}</title></rect>'
    )


def _legend(series: Sequence[Series]) -> tuple[list[str], int]:
    """Swatches and labels in rows across the width; the height they take."""
    parts: list[str] = []
    x, row = 0, 0
    for s in series:
        width = 30 + FONT * len(s.label)
        if x and x + width > WIDTH:
            x, row = 0, row + 1
        top = row * 20
        parts.append(
            f'<rect x="{x}" y="{top}" width="12" height="12" fill="{s.colour}"/>'
        )
        parts.append(_text(x + 16, top + 11, s.label))
        x += width
    return parts, (row + 1) * 20 + 6


def _across(
    groups: Sequence[Group], top: int, most: int, room: int
) -> tuple[list[str], float, int]:
    """The value axis of horizontal bars: grid lines, their numbers, the
    scale (pixels per unit) and the chart's height."""
    ticks = nice_ticks(most)
    scale = (WIDTH - LEFT - room) / ticks[-1]
    height = top + len(groups) * (BAR + GAP) + 24
    parts = []
    for t in ticks:
        x = LEFT + t * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 20}" '
            f'stroke="{GRID}"/>'
        )
        parts.append(_text(x, height - 6, f"{t}", anchor="middle", fill=MUTED))
    return parts, scale, height


def stacked_bars(
    groups: Sequence[Group], series: Sequence[Series], *, label: str
) -> Markup:
    """Horizontal bars, one per group, stacked by series (grades by district)."""
    body, top = _legend(series)
    most = max((sum(g.values) for g in groups), default=0)
    axis, scale, height = _across(groups, top, most, room=40)
    body += axis
    for i, g in enumerate(groups):
        y = top + i * (BAR + GAP)
        body.append(_text(LEFT - 6, y + BAR * 0.7, g.label, anchor="end"))
        x = float(LEFT)
        for s, value in zip(series, g.values, strict=True):
            if value:
                tip = f"{g.label} {s.label} {value}"
                body.append(_rect(x, y, value * scale, BAR, s.colour, tip))
                x += value * scale
        body.append(_text(x + 4, y + BAR * 0.7, f"{sum(g.values)}", fill=MUTED))
    return _svg(WIDTH, height, label, body)


def columns(
    groups: Sequence[Group],
    series: Sequence[Series],
    *,
    label: str,
    stacked: bool,
) -> Markup:
    """Vertical columns per group (a month): stacked, or side by side.

    Many groups widen the chart (at least 8 units each); labels are written
    for every n-th group only, so that they never overlap.
    """
    body, top = _legend(series)
    left, plot = 40, 200
    slot = max(8.0, (WIDTH - left) / max(len(groups), 1))
    width = max(WIDTH, int(left + slot * len(groups)))
    tallest = max(
        (sum(g.values) if stacked else max(g.values, default=0) for g in groups),
        default=0,
    )
    ticks = nice_ticks(tallest)
    scale = plot / ticks[-1]
    base = top + plot
    for t in ticks:
        y = base - t * scale
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(_text(left - 6, y + 4, f"{t}", anchor="end", fill=MUTED))
    widest = max((len(g.label) for g in groups), default=0) * FONT * 0.6 + 8
    every = max(1, math.ceil(widest / slot))
    inner = slot * 0.7
    each = inner if stacked else inner / max(len(series), 1)
    for i, g in enumerate(groups):
        x = left + i * slot + (slot - inner) / 2
        y = float(base)
        for j, (s, value) in enumerate(zip(series, g.values, strict=True)):
            h = value * scale
            if stacked:
                y -= h
            at, bottom = (x, y) if stacked else (x + j * each, base - h)
            if value:
                tip = f"{g.label} {s.label} {value}"
                body.append(_rect(at, bottom, each, h, s.colour, tip))
        if i % every == 0:
            body.append(
                _text(x + inner / 2, base + 16, g.label, anchor="middle", fill=MUTED)
            )
    return _svg(width, base + 24, label, body)


def coverage_bars(
    groups: Sequence[Group], *, label: str, covered: Series, uncovered: Series
) -> Markup:
    """One bar per group, as long as its compulsory list, filled where insured.

    Each group's values are (insured, compulsory); the share is written beside.
    """
    body, top = _legend([covered, uncovered])
    most = max((g.values[1] for g in groups), default=0)
    axis, scale, height = _across(groups, top, most, room=90)
    body += axis
    for i, g in enumerate(groups):
        insured, listed = g.values
        y = top + i * (BAR + GAP)
        body.append(_text(LEFT - 6, y + BAR * 0.7, g.label, anchor="end"))
        for value, s, tip in (
            (listed, uncovered, listed - insured),
            (insured, covered, insured),
        ):
            if value:
                text = f"{g.label} {s.label} {tip}"
                body.append(_rect(LEFT, y, value * scale, BAR, s.colour, text))
        share = f"{insured}/{listed} {percent(insured, listed)}"
        body.append(_text(LEFT + listed * scale + 4, y + BAR * 0.7, share, fill=MUTED))
    return _svg(WIDTH, height, label, body)


def percent(part: int, whole: int) -> str:
    """A share as 62.5%, or — for nothing to share."""
    return f"{100 * part / whole:.1f}%" if whole else "—"
