"""Charts as standalone inline SVG (no scripts, fonts or other external resources)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from assistant.evaluation.metrics import METRICS

FONT = "font-family='system-ui, -apple-system, Segoe UI, sans-serif' font-size='12'"
GROUP_COLOURS = {
    "answers": "#2f6fb0",
    "retrieval": "#2c8c5a",
    "citations": "#8a5cb8",
    "refusals": "#c0702c",
}
OLD_COLOUR = "#222"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title)}' {FONT}>"
        f"<title>{escape(title)}</title><rect width='100%' height='100%' fill='#fff'/>"
        + "".join(body)
        + "</svg>"
    )


def metric_bars(
    values: dict[str, float | None],
    old: dict[str, float | None] | None = None,
    title: str = "Answer quality",
) -> str:
    """Horizontal 0..1 bars per metric, grouped; a black tick marks the compared run's value.
    A metric that is no rate (the median answer length) shows its number alone."""
    label_width, bar_width, row, width = 170, 420, 22, 680
    body: list[str] = []
    y = 30
    body.append(f"<text x='10' y='20' font-size='14' font-weight='600'>{escape(title)}</text>")
    groups = dict.fromkeys(metric.group for metric in METRICS.values())
    for group in groups:
        y += 8
        body.append(
            f"<text x='10' y='{y + 10}' font-weight='600' fill='{GROUP_COLOURS[group]}'>"
            f"{escape(group.capitalize())}</text>"
        )
        y += 18
        for metric in (m for m in METRICS.values() if m.group == group):
            value = values.get(metric.name)
            body.append(f"<g class='metric' data-metric='{metric.name}'>")
            body.append(f"<title>{escape(metric.label)}: {escape(metric.description)}</title>")
            body.append(
                f"<text x='{label_width - 8}' y='{y + 14}' text-anchor='end'>"
                f"{escape(metric.label)}</text>"
            )
            body.append(
                f"<rect x='{label_width}' y='{y + 3}' width='{bar_width}' height='{row - 6}' "
                "fill='#eef0f3'/>"
            )
            if value is not None and metric.rate:  # a length has no 0..1 bar, only its number
                filled = max(0.0, min(1.0, value)) * bar_width
                body.append(
                    f"<rect x='{label_width}' y='{y + 3}' width='{filled:.1f}' "
                    f"height='{row - 6}' fill='{GROUP_COLOURS[group]}'/>"
                )
            number = ".2f" if metric.rate else ".0f"
            shown = "n/a" if value is None else f"{value:{number}}"
            shown += "" if metric.rate or value is None else " characters"
            previous = (old or {}).get(metric.name)
            if previous is not None and not metric.rate:
                shown += f" (was {previous:{number}})"
            elif previous is not None:
                x = label_width + max(0.0, min(1.0, previous)) * bar_width
                body.append(
                    f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{y}' y2='{y + row}' "
                    f"stroke='{OLD_COLOUR}' stroke-width='2'/>"
                )
                shown += f" (was {previous:.2f})"
            body.append(f"<text x='{label_width + bar_width + 8}' y='{y + 14}'>{shown}</text>")
            body.append("</g>")
            y += row
    return _svg(width, y + 10, title, body)


def latency_histogram(
    values_ms: Sequence[float], title: str = "Answer latency", bins: int = 20
) -> str:
    """A histogram of total latencies with the p50 and p95 marked."""
    from assistant.evaluation.metrics import percentile

    width, height, left, bottom, top = 680, 240, 50, 40, 30
    plot_w, plot_h = width - left - 20, height - bottom - top
    body = [f"<text x='10' y='20' font-size='14' font-weight='600'>{escape(title)}</text>"]
    if not values_ms:
        body.append(f"<text x='{left}' y='{top + 40}'>no timings</text>")
        return _svg(width, height, title, body)
    high = _nice_ceiling(max(values_ms))
    counts = [0] * bins
    for value in values_ms:
        counts[min(bins - 1, int(value / high * bins))] += 1
    tallest = max(counts)
    bar = plot_w / bins
    for index, count in enumerate(counts):
        h = count / tallest * plot_h
        x = left + index * bar
        low_ms, high_ms = index * high / bins, (index + 1) * high / bins
        body.append(
            f"<rect class='bin' x='{x + 1:.1f}' y='{top + plot_h - h:.1f}' width='{bar - 2:.1f}' "
            f"height='{h:.1f}' fill='#2f6fb0'><title>{low_ms:.0f}–{high_ms:.0f} ms: {count}"
            "</title></rect>"
        )
    axis_y = top + plot_h
    body.append(
        f"<line x1='{left}' x2='{left + plot_w}' y1='{axis_y}' y2='{axis_y}' stroke='#555'/>"
    )
    for tick in range(5):
        value = high * tick / 4
        x = left + plot_w * tick / 4
        body.append(f"<text x='{x:.1f}' y='{axis_y + 16}' text-anchor='middle'>{value:.0f}</text>")
    body.append(
        f"<text x='{left + plot_w / 2:.1f}' y='{height - 6}' text-anchor='middle'>ms per question "
        f"(total, n={len(values_ms)})</text>"
    )
    body.append(f"<text x='{left - 6}' y='{top + 10}' text-anchor='end'>{tallest}</text>")
    for row, (name, q, colour) in enumerate((("p50", 50, "#2c8c5a"), ("p95", 95, "#c0392b"))):
        value = percentile(values_ms, q) or 0.0
        x = left + min(1.0, value / high) * plot_w
        # A white halo keeps the label readable where it crosses a bar.
        body.append(
            f"<line class='{name}' x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{axis_y}' "
            f"stroke='{colour}' stroke-dasharray='4 3' stroke-width='2'/>"
            f"<text x='{x + 4:.1f}' y='{top + 12 + 14 * row}' fill='{colour}' stroke='#fff' "
            f"stroke-width='3' paint-order='stroke'>{name} {value:.0f} ms</text>"
        )
    return _svg(width, height, title, body)


def stage_bars(latency: dict[str, dict[str, float]], title: str = "Latency per stage") -> str:
    """p50 and p95 per pipeline stage, on one millisecond scale."""
    label_width, bar_width, row = 90, 440, 26
    stages = list(latency)
    height = 50 + row * max(1, len(stages))
    body = [f"<text x='10' y='20' font-size='14' font-weight='600'>{escape(title)}</text>"]
    high = _nice_ceiling(max((latency[s]["p95"] for s in stages), default=1.0))
    y = 34
    for stage in stages:
        p50, p95 = latency[stage]["p50"], latency[stage]["p95"]
        body.append(
            f"<g class='stage' data-stage='{escape(stage)}'>"
            f"<text x='{label_width - 8}' y='{y + 14}' text-anchor='end'>{escape(stage)}</text>"
            f"<rect x='{label_width}' y='{y + 3}' width='{p95 / high * bar_width:.1f}' "
            f"height='{row - 8}' fill='#c9d8ea'/>"
            f"<rect x='{label_width}' y='{y + 3}' width='{p50 / high * bar_width:.1f}' "
            f"height='{row - 8}' fill='#2f6fb0'/>"
            f"<text x='{label_width + bar_width + 8}' y='{y + 14}'>p50 {p50:.1f} · p95 "
            f"{p95:.1f} ms</text></g>"
        )
        y += row
    return _svg(700, height, title, body)


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)
