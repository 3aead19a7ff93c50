"""Charts as inline SVG drawn on the server: they render offline, print, and need no script.

Each chart is an `<svg role="img">` with a `<title>` and a table-like `<desc>` of its
values, so a screen reader gets the numbers a sighted reader sees. Colours are presentation
attributes (the pages' Content-Security-Policy forbids inline styles).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from markupsafe import Markup, escape

__all__ = ["Number", "bar_chart", "funnel_chart"]

#: How a count is written in the page's language (`3 019`, `3,019`).
Number = Callable[[int], str]

_INK = "#1f2933"  # text: 14.7:1 on white
_BAR = "#1d5fa8"  # bars: 6.4:1 on white
_SHADE = "#e4e7eb"  # quiet hours behind the bars
_GRID = "#9aa5b1"


def _num(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _text_width(text: str, size: int) -> int:
    """A generous width of `text` at font `size`: digits and letters at 0.62 em."""
    return round(len(text) * size * 0.62) + 2


def funnel_chart(
    stages: Sequence[tuple[str, int]],
    *,
    title: str,
    width: int = 520,
    number: Number | None = None,
) -> Markup:
    """Horizontal bars, one per stage, each as wide as its share of the first stage."""
    number = number or _num
    row, label_w = 34, 150
    height = row * len(stages) + 8
    top = max((count for _, count in stages), default=0) or 1
    desc = "; ".join(f"{label}: {number(count)}" for label, count in stages)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="t-{id(stages)}">',
        f'<title id="t-{id(stages)}">{escape(title)}</title><desc>{escape(desc)}</desc>',
    ]
    # room on the right for the longest "count (share)" written after a full bar
    widest = max((number(c) + " (100 %)" for _, c in stages), key=len, default="")
    bar_space = width - label_w - _text_width(widest, 13) - 8
    for index, (label, count) in enumerate(stages):
        y = 4 + index * row
        bar = max(round(bar_space * count / top), 1 if count else 0)
        share = f" ({count * 100 / top:.0f} %)" if index else ""
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end" fill="{_INK}" '
            f'font-size="13">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{bar}" height="{row - 10}" fill="{_BAR}"/>'
            f'<text x="{label_w + bar + 6}" y="{y + 20}" fill="{_INK}" font-size="13">'
            f"{number(count)}{share}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    values: Sequence[tuple[str, int]],
    *,
    title: str,
    shaded: Collection[int] = (),
    shaded_label: str = "",
    width: int = 520,
    height: int = 180,
    label_every: int = 3,
    caption: str = "",
    number: Number | None = None,
) -> Markup:
    """Vertical bars (hours of a day...); the bars at `shaded` indices stand on a grey band.

    A `caption` (the day the bars are of) is shown above the chart as its figure caption.
    """
    number = number or _num
    peak = max((count for _, count in values), default=0)
    # the y axis is labelled with the peak: as wide as it needs ("20 000"), never cut
    left, bottom, top_pad = max(36, _text_width(number(peak), 11) + 8), 22, 10
    plot_w, plot_h = width - left - 6, height - bottom - top_pad
    scale = peak or 1
    step = plot_w / max(len(values), 1)
    desc = "; ".join(f"{label}: {number(count)}" for label, count in values)
    if shaded and shaded_label:
        desc += f". {shaded_label}"
    ident = f"c{id(values)}"
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{ident}">',
        f'<title id="{ident}">{escape(title)}</title><desc>{escape(desc)}</desc>',
    ]
    for index in sorted(shaded):
        if 0 <= index < len(values):
            x = left + index * step
            parts.append(
                f'<rect x="{x:.1f}" y="{top_pad}" width="{step:.1f}" height="{plot_h}" '
                f'fill="{_SHADE}" shape-rendering="crispEdges"/>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 6}" y2="{top_pad + plot_h}" '
        f'stroke="{_GRID}"/>'
        f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end" fill="{_INK}" '
        f'font-size="11">{number(peak)}</text>'
        f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" fill="{_INK}" '
        f'font-size="11">0</text>'
    )
    for index, (label, count) in enumerate(values):
        x = left + index * step
        bar = plot_h * count / scale
        if count:
            parts.append(
                f'<rect x="{x + step * 0.15:.1f}" y="{top_pad + plot_h - bar:.1f}" '
                f'width="{step * 0.7:.1f}" height="{bar:.1f}" fill="{_BAR}">'
                f"<title>{escape(label)}: {number(count)}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                f'fill="{_INK}" font-size="11">{escape(label)}</text>'
            )
    parts.append("</svg>")
    svg = Markup("".join(parts))
    if not caption:
        return svg
    return Markup(f'<figure class="chart"><figcaption>{escape(caption)}</figcaption>{svg}</figure>')
