"""Masking what narrows down who wrote a card: email addresses, @mentions and the names of
the team's members. Pure; applied to every card text that is shown or exported.

A card that names a colleague ("paired with Sam on the flaky test") says who its writer
works with; one pass masks every match, so a mask is never masked again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

EMAIL_MASK = "[email]"
MENTION_MASK = "[@mention]"
NAME_MASK = "[name]"
# Shorter tokens (initials) would mask half of every sentence.
NAME_MIN_LENGTH = 2

EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
MENTION = r"(?<![\w@])@\w+(?:[.-]\w+)*"


def _name_alternatives(names: Iterable[str]) -> list[str]:
    """Each distinct name as a pattern, longest first so a full name wins over its parts;
    the spaces inside a full name match any run of whitespace."""
    words = {" ".join(name.split()) for name in names}
    words = {word for word in words if len(word) >= NAME_MIN_LENGTH}
    ordered = sorted(words, key=lambda word: (-len(word), word.lower()))
    return [r"\s+".join(re.escape(part) for part in word.split(" ")) for word in ordered]


@dataclass(frozen=True)
class Scrubber:
    """Compiled once for a team's names, then applied to each card."""

    pattern: re.Pattern[str]

    @classmethod
    def for_names(cls, names: Iterable[str]) -> Scrubber:
        alternatives = [rf"(?P<email>{EMAIL})", rf"(?P<mention>{MENTION})"]
        names_found = _name_alternatives(names)
        if names_found:
            alternatives.append(rf"(?P<name>(?<!\w)(?:{'|'.join(names_found)})(?!\w))")
        return cls(re.compile("|".join(alternatives), re.IGNORECASE))

    def __call__(self, text: str) -> str:
        return self.pattern.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    if match.group("email"):
        return EMAIL_MASK
    if match.group("mention"):
        return MENTION_MASK
    return NAME_MASK


def text_scrub(text: str, *, names: Iterable[str]) -> str:
    """`text` with emails, @mentions and any of `names` (whole words, any case) masked."""
    return Scrubber.for_names(names)(text)
