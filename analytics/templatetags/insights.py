"""Filters for the insight pages."""

from __future__ import annotations

from typing import Any

from django import template

from analytics.insights import selectors as insights

register = template.Library()


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def signed(value: float | None, digits: int = 0) -> str:
    """+12, −3 (a real minus sign), or an em dash for no value."""
    if value is None:
        return "—"
    text = f"{abs(value):.{int(digits)}f}"
    if float(text) == 0:
        return text
    return ("+" if value > 0 else "−") + text


@register.filter
def share_interval(share: float | None, n: int | None) -> str:
    """A shown share's 95 % Wilson interval, "24–76 %", from the share and its n (both
    released: the count is share × n)."""
    low, high = insights.share_interval(share, n)
    return "" if low is None or high is None else f"{low:.0f}–{high:.0f} %"


@register.filter
def split_words(text: str) -> list[str]:
    return text.split()
