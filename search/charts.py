"""The trends chart as SVG drawn on the server: readable without JavaScript, each term a line
of its own colour and dash (told apart without colour too), each year with occurrences a link.
Every text in it is escaped here."""

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 48, 56
# The chart's words are drawn for the eye: a screen reader reads its <title>, its links'
# labels and the table beside it, not stray numbers.
_QUIET = ' aria-hidden="true"'
# Told apart by colour and by dash; the colours keep 4.5:1 against the page's paper.
STYLES = [
    ("#8b1a1a", ""),
    ("#1f5fa8", "8 4"),
    ("#2e6b30", "2 3"),
    ("#9a4a00", "10 3 2 3"),
    ("#6a3d9a", "4 2 1 2"),
]


@dataclass
class Series:
    label: str
    points: list  # (year, value, text, url or ""): one per year, in year order


def trend_chart(series, *, title, x_label, y_label, chart_id="trend-chart"):
    """An <svg> of `series` over their years, with `title` and a legend."""
    years = sorted({p[0] for s in series for p in s.points})
    top = _nice(max((p[1] for s in series for p in s.points), default=0))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    first, last = (years[0], years[-1]) if years else (0, 1)
    span = max(1, last - first)

    def x(year):
        return LEFT + (inner_w / 2 if first == last else (year - first) * inner_w / span)

    def y(value):
        return TOP + inner_h - value * inner_h / top

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="trend-chart" aria-labelledby="{chart_id}-title">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    out += _axes(years, top, x, y, x_label, y_label)
    for n, s in enumerate(series):
        colour, dash = STYLES[n % len(STYLES)]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{x(p[0]):.1f},{y(p[1]):.1f}" for p in s.points)
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{dashes}/>'
        )
        for year, value, text, url in s.points:
            if not url:
                continue
            dot = (
                f'<circle cx="{x(year):.1f}" cy="{y(value):.1f}" r="4" fill="{colour}">'
                f"<title>{escape(text)}</title></circle>"
            )
            out.append(f'<a href="{escape(url)}" aria-label="{escape(text)}">{dot}</a>')
    out += _legend(series)
    out.append("</svg>")
    return "".join(out)


def _axes(years, top, x, y, x_label, y_label):
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    out = [
        f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#5f6368"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#5f6368"/>',
    ]
    for tick in _ticks(top):
        out.append(
            f'<line x1="{LEFT}" y1="{y(tick):.1f}" x2="{right}" y2="{y(tick):.1f}" '
            f'stroke="#e4e0d8"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="#1d1d1f"{_QUIET}>{_number(tick)}</text>'
        )
    step = max(1, math.ceil(len(years) / 10))
    for year in years[::step]:
        out.append(
            f'<text x="{x(year):.1f}" y="{bottom + 18}" text-anchor="middle" font-size="12" '
            f'fill="#1d1d1f"{_QUIET}>{year:d}</text>'
        )
    out.append(
        f'<text x="{(LEFT + right) / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="13" '
        f'fill="#1d1d1f"{_QUIET}>{escape(x_label)}</text>'
    )
    out.append(
        f'<text x="14" y="{(TOP + bottom) / 2:.0f}" text-anchor="middle" font-size="13" '
        f'fill="#1d1d1f"{_QUIET} transform="rotate(-90 14 {(TOP + bottom) / 2:.0f})">'
        f"{escape(y_label)}</text>"
    )
    return out


def _legend(series):
    out, at = [], LEFT
    for n, s in enumerate(series):
        colour, dash = STYLES[n % len(STYLES)]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        label = s.label if len(s.label) <= 16 else s.label[:15] + "…"
        out.append(
            f'<line x1="{at}" y1="20" x2="{at + 28}" y2="20" stroke="{colour}" '
            f'stroke-width="3"{dashes}/><text x="{at + 34}" y="25" font-size="13" '
            f'fill="#1d1d1f"{_QUIET}>{escape(label)}</text>'
        )
        at += 48 + 14 * len(label)
    return out


def _nice(value):
    """A round top for the axis, at least `value`."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def _ticks(top):
    return [top * i / 5 for i in range(1, 6)]


def _number(value):
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2g}"
