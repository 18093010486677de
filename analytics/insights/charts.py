"""Geometry for small server-drawn SVG trend charts (pure; the template draws them).

Each chart is a line through the points with data, a shaded 95 % CI band, and gaps where
a period was hidden (fewer than k answers). Every chart also has a data table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, PAD_X, PAD_Y = 640, 220, 44, 20


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    low: float | None
    high: float | None


def _scale(value: float, y_min: float, y_max: float) -> float:
    span = (y_max - y_min) or 1.0
    return round(HEIGHT - PAD_Y - (value - y_min) / span * (HEIGHT - 2 * PAD_Y), 1)


def trend_chart(
    points: Sequence[Point], *, y_min: float, y_max: float, ticks: Sequence[float]
) -> dict:
    """SVG coordinates: segments (lists of x,y between gaps), bands, tick lines, x labels."""
    step = (WIDTH - 2 * PAD_X) / max(len(points) - 1, 1)
    segments: list[list[tuple[float, float]]] = [[]]
    bands: list[str] = []
    band_top: list[tuple[float, float]] = []
    band_bottom: list[tuple[float, float]] = []
    markers = []
    for index, point in enumerate(points):
        x = round(PAD_X + index * step, 1)
        if point.value is None:
            if segments[-1]:
                segments.append([])
            if band_top:
                bands.append(_polygon(band_top, band_bottom))
                band_top, band_bottom = [], []
            continue
        y = _scale(point.value, y_min, y_max)
        segments[-1].append((x, y))
        markers.append({"x": x, "y": y, "label": point.label, "value": point.value})
        if point.low is not None and point.high is not None:
            band_top.append((x, _scale(min(point.high, y_max), y_min, y_max)))
            band_bottom.append((x, _scale(max(point.low, y_min), y_min, y_max)))
    if band_top:
        bands.append(_polygon(band_top, band_bottom))
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "lines": [" ".join(f"{x},{y}" for x, y in seg) for seg in segments if seg],
        "bands": bands,
        "markers": markers,
        "ticks": [{"y": _scale(t, y_min, y_max), "label": f"{t:g}"} for t in ticks],
        "x_labels": [
            {"x": round(PAD_X + i * step, 1), "label": p.label}
            for i, p in enumerate(points)
            if i % max(len(points) // 6, 1) == 0
        ],
        "has_data": bool(markers),
    }


def _polygon(top: list[tuple[float, float]], bottom: list[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in [*top, *reversed(bottom)])
