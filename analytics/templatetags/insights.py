"""Filters for the insight pages."""

from __future__ import annotations

from typing import Any

from django import template

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
def split_words(text: str) -> list[str]:
    return text.split()
