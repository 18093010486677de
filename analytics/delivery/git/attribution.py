"""Which AI tool, if any, a commit credits (pure). A lower bound: trailers can be off."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\s]*\)")


@dataclass(frozen=True)
class Rule:
    kind: str  # "trailer", "message" or "author"
    pattern: str
    tool: str


def ai_tool(
    rules: Sequence[Rule],
    *,
    author_name: str,
    author_email: str,
    trailers: Iterable[tuple[str, str]],
    message: str,
) -> str:
    """The tool of the first matching rule, or "" — every comparison case-insensitive.

    Trailer rules also look at every message line: a co-author line outside git's trailer
    block (a squash-merge body, say) still credits the tool.
    """
    # Tools write their names as Markdown links: "Generated with [Claude Code](https://…)".
    lowered = MARKDOWN_LINK.sub(r"\1", message).lower()
    lines = [f"{key}: {value}".lower() for key, value in trailers] + lowered.splitlines()
    author = f"{author_name} <{author_email}>".lower()
    for rule in rules:
        pattern = rule.pattern.lower()
        if rule.kind == "trailer" and any(pattern in line for line in lines):
            return rule.tool
        if rule.kind == "message" and pattern in lowered:
            return rule.tool
        if rule.kind == "author" and pattern in author:
            return rule.tool
    return ""


def is_bot(name: str, email: str) -> bool:
    return "[bot]" in name.lower() or "[bot]" in email.lower()
