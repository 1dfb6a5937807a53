"""Inline SVG charts: a resident's score history, and the regulator's bar charts.

Pure and dependency-free: the output is a self-contained ``<svg>`` element with
no JavaScript, no external assets and no ``style`` attributes (colours are SVG
presentation attributes, so a strict Content-Security-Policy does not need
``style-src 'unsafe-inline'``). All text is XML-escaped, so the string can be
marked safe and embedded in a page as is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from numbers import Real
from xml.sax.saxutils import escape

from compliance.law import DISPLAY_ZONE, MAX_SCORE, MIN_SCORE, STARTING_SCORE

__all__ = ["MAX_VERTICES", "bar_chart_svg", "score_history_svg"]

#: Upper bound on the vertices of the score line, whatever the number of points.
MAX_VERTICES = 200
# A step line needs two vertices per point after the first, plus possibly one
# more to carry the last score to the right edge.
_MAX_POINTS = MAX_VERTICES // 2

_FONT_SIZE = 11
_MARGIN_LEFT = 30
_MARGIN_RIGHT = 8
_MARGIN_TOP = 8
_MARGIN_BOTTOM = 18
_MIN_WIDTH = 160  # room for two date labels side by side
_MIN_HEIGHT = 80

_LINE_COLOUR = "#1a5fb4"
_BASELINE_COLOUR = "#77767b"
_THRESHOLD_COLOUR = "#c01c28"
_FRAME_COLOUR = "#deddda"
_TEXT_COLOUR = "#3d3846"

# Characters that XML 1.0 does not allow at all, even escaped.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return escape(_INVALID_XML.sub("", value))


def _num(value: float) -> str:
    """Compact coordinate: one decimal, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _score_label(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return f"{value:g}"


def _local_date(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(DISPLAY_ZONE)
    return moment.strftime("%Y-%m-%d")


def _check_points(points: Sequence[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    checked: list[tuple[datetime, float]] = []
    aware: bool | None = None
    for moment, score in points:
        if not isinstance(moment, datetime):
            raise TypeError(f"timestamps must be datetimes, got {type(moment).__name__}")
        if isinstance(score, bool) or not isinstance(score, Real):
            raise TypeError(f"scores must be numbers, got {type(score).__name__}")
        if not math.isfinite(score):
            raise ValueError(f"scores must be finite, got {score!r}")
        is_aware = moment.utcoffset() is not None
        if aware is None:
            aware = is_aware
        elif aware != is_aware:
            raise ValueError("cannot mix naive and aware timestamps")
        checked.append((moment, score))
    # Stable: points sharing a timestamp keep their order, the last one wins.
    checked.sort(key=lambda point: point[0])
    return checked


def _downsample(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Reduce to at most ``_MAX_POINTS`` points, keeping the first and last
    points and the lowest and highest score of every bucket (hence the overall
    extremes)."""
    # Lossless first: a repeated score does not move a step line.
    kept = [points[0]]
    for point in points[1:]:
        if point[1] != kept[-1][1]:
            kept.append(point)
    if kept[-1] is not points[-1]:
        kept.append(points[-1])
    if len(kept) <= _MAX_POINTS:
        return kept

    first, inner, last = kept[0], kept[1:-1], kept[-1]
    buckets = (_MAX_POINTS - 2) // 2
    result = [first]
    for b in range(buckets):
        chunk = inner[b * len(inner) // buckets : (b + 1) * len(inner) // buckets]
        if not chunk:
            continue
        low = min(range(len(chunk)), key=lambda i: chunk[i][1])
        high = max(range(len(chunk)), key=lambda i: chunk[i][1])
        for i in sorted({low, high}):
            result.append(chunk[i])
    result.append(last)
    return result


def score_history_svg(
    points: Sequence[tuple[datetime, int]],
    *,
    width: int = 360,
    height: int = 180,
    title: str,
    lo: int = MIN_SCORE,
    hi: int = MAX_SCORE,
    baseline: int = STARTING_SCORE,
    threshold: int | None = None,
) -> str:
    """Draw a score history as an inline, accessible SVG string.

    ``points`` are ``(timestamp, score)`` pairs in any order; timestamps must be
    all aware or all naive (aware ones are labelled with their Asia/Shanghai
    date). The score is drawn as a step line (a score holds until the next
    change), clamped to ``lo..hi``; more than ``MAX_VERTICES / 2`` changes are
    down-sampled, keeping the highest and lowest scores. ``baseline`` is drawn
    dashed, ``threshold`` (e.g. loan eligibility) dotted, when inside
    ``lo..hi``. ``title`` is the accessible name, already translated.
    The axes are labelled with the first and last dates and the lowest and
    highest score. The image scales to its container through ``viewBox``.
    """
    if not (isinstance(width, Real) and isinstance(height, Real)):
        raise TypeError("width and height must be numbers")
    if width < _MIN_WIDTH or height < _MIN_HEIGHT:
        raise ValueError(f"chart must be at least {_MIN_WIDTH}x{_MIN_HEIGHT}")
    if not lo < hi:
        raise ValueError(f"lo must be below hi, got lo={lo} hi={hi}")

    data = _check_points(points)

    left, right = _MARGIN_LEFT, width - _MARGIN_RIGHT
    top, bottom = _MARGIN_TOP, height - _MARGIN_BOTTOM

    def y_of(score: float) -> float:
        clamped = min(max(score, lo), hi)
        return bottom - (clamped - lo) / (hi - lo) * (bottom - top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        f'font-family="sans-serif" font-size="{_FONT_SIZE}" fill="{_TEXT_COLOUR}">',
        f"<title>{_text(title)}</title>",
        f'<rect class="frame" x="{_num(left)}" y="{_num(top)}" width="{_num(right - left)}" '
        f'height="{_num(bottom - top)}" fill="none" stroke="{_FRAME_COLOUR}"/>',
    ]

    # Reference lines go first so that the score line is drawn over them.
    reference_labels: list[float] = []
    for name, value, dash, colour in (
        ("baseline", baseline, "4 3", _BASELINE_COLOUR),
        ("threshold", threshold, "2 2", _THRESHOLD_COLOUR),
    ):
        if value is None or not lo <= value <= hi:
            continue
        y = _num(y_of(value))
        parts.append(
            f'<line class="{name}" x1="{_num(left)}" y1="{y}" x2="{_num(right)}" y2="{y}" '
            f'stroke="{colour}" stroke-width="1" stroke-dasharray="{dash}"/>'
        )
        reference_labels.append(value)

    # Candidate y-axis labels, most important first; later ones are dropped
    # when they would overlap.
    y_labels: list[float] = []

    if data:
        start = data[0][0]
        span = (data[-1][0] - start).total_seconds()

        def x_of(moment: datetime) -> float:
            if span <= 0:
                return left
            return left + (moment - start).total_seconds() / span * (right - left)

        scaled = _downsample([(x_of(moment), score) for moment, score in data])
        vertices = [(scaled[0][0], y_of(scaled[0][1]))]
        for x, score in scaled[1:]:
            vertices.append((x, vertices[-1][1]))
            vertices.append((x, y_of(score)))
        last_y = vertices[-1][1]
        if span <= 0:
            # A single instant: show the score as a level across the chart.
            vertices.append((right, last_y))
        # Collapse consecutive duplicates (e.g. from equal timestamps).
        unique = [vertices[0]]
        for vertex in vertices[1:]:
            if vertex != unique[-1]:
                unique.append(vertex)
        coords = " ".join(f"{_num(x)},{_num(y)}" for x, y in unique)
        parts.append(
            f'<polyline class="score" points="{coords}" fill="none" stroke="{_LINE_COLOUR}" '
            f'stroke-width="2" stroke-linejoin="round"/>'
        )
        parts.append(
            f'<circle class="current" cx="{_num(unique[-1][0])}" cy="{_num(last_y)}" r="3" '
            f'fill="{_LINE_COLOUR}"/>'
        )

        scores = [score for _, score in data]
        y_labels += [min(scores), max(scores)]

        first_label = _local_date(data[0][0])
        last_label = _local_date(data[-1][0])
        label_y = _num(height - 5)
        parts.append(
            f'<text class="x-label" x="{_num(left)}" y="{label_y}" text-anchor="start">'
            f"{_text(first_label)}</text>"
        )
        if last_label != first_label:
            parts.append(
                f'<text class="x-label" x="{_num(right)}" y="{label_y}" text-anchor="end">'
                f"{_text(last_label)}</text>"
            )

    placed: list[float] = []
    for value in y_labels + reference_labels:
        y = y_of(value)
        if any(abs(y - other) < _FONT_SIZE for other in placed):
            continue
        placed.append(y)
        # Keep the text (about 0.35em above and below its centre) inside the view.
        text_y = min(max(y + _FONT_SIZE * 0.35, _FONT_SIZE * 0.8), height - 1)
        parts.append(
            f'<text class="y-label" x="{_num(left - 4)}" y="{_num(text_y)}" '
            f'text-anchor="end">{_text(_score_label(value))}</text>'
        )

    parts.append("</svg>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- bar charts

_BAR_COLOUR = "#1a5fb4"
_BAR_HEIGHT = 18
_BAR_GAP = 6
_LABEL_WIDTH = 180
_VALUE_WIDTH = 48
_BAR_AREA = 300


def _text_width(text: str) -> float:
    """A label's width at the chart's font size: wide (CJK) characters count double."""
    return sum(_FONT_SIZE if ord(c) > 0x2E7F else _FONT_SIZE * 0.6 for c in text)


def _fit(label: str, width: float) -> str:
    """The label, cut with an ellipsis to fit WIDTH (each chart's table has it whole)."""
    if _text_width(label) <= width:
        return label
    while label and _text_width(label + "…") > width:
        label = label[:-1]
    return label + "…"


def bar_chart_svg(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    marker: tuple[float, str] | None = None,
    colour: str = _BAR_COLOUR,
) -> str:
    """Horizontal bars, one per ``(label, value)`` row, values of 0 or more.

    ``title`` is the accessible name, already translated. ``marker`` draws a dashed
    vertical line at a value with its label (a deadline, say). The chart scales to its
    container's width; its text stays in the page's language because callers pass
    translated labels.
    """
    checked: list[tuple[str, float]] = []
    for label, value in rows:
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise TypeError(f"bar values must be finite numbers, got {value!r}")
        if value < 0:
            raise ValueError(f"bar values must be 0 or more, got {value!r}")
        checked.append((str(label), value))
    top = _MARGIN_TOP + (_FONT_SIZE + 6 if marker else 0)
    height = top + max(1, len(checked)) * (_BAR_HEIGHT + _BAR_GAP) + _MARGIN_BOTTOM
    width = _LABEL_WIDTH + _BAR_AREA + _VALUE_WIDTH
    largest = max([v for _, v in checked] + [marker[0] if marker else 0, 1])

    def x_of(value: float) -> float:
        return _LABEL_WIDTH + value / largest * _BAR_AREA

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {_num(height)}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" role="img" class="chart" '
        f'font-family="sans-serif" font-size="{_FONT_SIZE}">',
        f"<title>{_text(title)}</title>",
    ]
    for n, (label, value) in enumerate(checked):
        y = top + n * (_BAR_HEIGHT + _BAR_GAP)
        shown = _fit(label, _LABEL_WIDTH - 10)
        middle = _num(y + _BAR_HEIGHT / 2 + _FONT_SIZE / 3)
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{middle}" text-anchor="end" '
            f'fill="{_TEXT_COLOUR}">{_text(shown)}</text>'
        )
        bar = max(value / largest * _BAR_AREA, 1 if value else 0)
        parts.append(
            f'<rect x="{_LABEL_WIDTH}" y="{_num(y)}" width="{_num(bar)}" '
            f'height="{_BAR_HEIGHT}" fill="{colour}"><title>{_text(label)}: '
            f"{_score_label(value)}</title></rect>"
        )
        parts.append(
            f'<text x="{_num(_LABEL_WIDTH + bar + 4)}" y="{middle}" '
            f'fill="{_TEXT_COLOUR}">{_score_label(value)}</text>'
        )
    if not checked:
        parts.append(
            f'<text x="{_LABEL_WIDTH}" y="{top + _BAR_HEIGHT}" fill="{_TEXT_COLOUR}">—</text>'
        )
    if marker is not None:
        x = _num(x_of(marker[0]))
        parts.append(
            f'<line x1="{x}" y1="{_MARGIN_TOP + _FONT_SIZE}" x2="{x}" '
            f'y2="{_num(height - _MARGIN_BOTTOM)}" stroke="{_THRESHOLD_COLOUR}" '
            f'stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{x}" y="{_MARGIN_TOP + _FONT_SIZE}" text-anchor="middle" '
            f'fill="{_THRESHOLD_COLOUR}">{_text(marker[1])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
