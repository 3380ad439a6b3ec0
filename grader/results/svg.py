"""Geometry for the inline SVG loss curve (the drawing itself is in the HTML template)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 600, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 34
MAX_POINTS = 400  # longer series are thinned (evenly) so the report stays small


@dataclass(frozen=True)
class Line:
    """One series as an SVG polyline."""

    label: str
    points: str  # "x,y x,y ..." in viewBox coordinates
    css: str  # class name: the colour and dash pattern live in the template's CSS
    count: int
    dropped: int  # non-finite values left out
    last: float | None


@dataclass(frozen=True)
class Plot:
    """A line chart: its viewBox, axis labels and series."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    y_min: float
    y_max: float
    x_max: int
    lines: tuple[Line, ...]

    @property
    def y_ticks(self) -> list[tuple[float, float]]:
        """(value, y coordinate) for five horizontal grid lines."""
        span = self.y_max - self.y_min
        return [(self.y_min + span * i / 4, self.bottom - (self.bottom - self.top) * i / 4) for i in range(5)]


def _floats(raw: Any) -> list[float]:
    if not isinstance(raw, (list, tuple)):
        return []
    out = []
    for v in raw[:100_000]:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(math.nan)
    return out


def loss_plot(curves: Any) -> Plot | None:
    """A Plot of `{"student": [...], "reference": [...]}` losses per batch, or None if nothing to draw."""
    if not isinstance(curves, dict):
        return None
    series = [(label, css, _floats(curves.get(key))) for key, label, css in
              (("reference", "reference", "ref"), ("student", "your loop", "stu"))]
    series = [s for s in series if s[2]]
    finite = [v for _, _, vals in series for v in vals if math.isfinite(v)]
    if not finite:
        return None
    lo, hi = min(finite), max(finite)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    n = max(len(vals) for _, _, vals in series)
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM

    def xy(i: int, v: float) -> str:
        x = x0 + (x1 - x0) * (i / max(n - 1, 1))
        y = y1 - (y1 - y0) * ((v - lo) / (hi - lo))
        return f"{x:.1f},{y:.1f}"

    lines = []
    for label, css, vals in series:
        step = max(1, math.ceil(len(vals) / MAX_POINTS))
        pts = " ".join(xy(i, v) for i, v in enumerate(vals) if i % step == 0 and math.isfinite(v))
        last = next((v for v in reversed(vals) if math.isfinite(v)), None)
        lines.append(Line(label, pts, css, len(vals), sum(not math.isfinite(v) for v in vals), last))
    return Plot(WIDTH, HEIGHT, x0, y0, x1, y1, lo, hi, n, tuple(lines))
