"""Validation of submitted retro cards against the prompts a session asks.

Pure: takes raw values (from the API's JSON or the page's form) and returns clean cards,
or raises a ValidationError whose keys name the field (`cards[2].category`), so every
client can point at what was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from surveys.retros.models import CARD_TEXT_MAX, CardEffect, TaskCategory

CARDS_MAX = 30
CARD_FIELDS = ("prompt", "text", "category", "effect", "shared")
# Control characters other than tab and newline: PostgreSQL refuses NUL outright, and the
# rest only ever arrive by accident.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Lone UTF-16 surrogates (JSON's "\ud800"): no database stores them, nor does the seal.
SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class CardInput:
    prompt_id: int
    text: str
    category: str
    effect: str
    shared: bool


def _prompt(raw: Any, prompt_ids: Collection[int]) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValidationError("Give the prompt's id.")
    if isinstance(raw, str):
        if not raw.strip().isdigit():
            raise ValidationError("Give the prompt's id.")
        raw = int(raw.strip())
    if raw not in prompt_ids:
        raise ValidationError("This prompt is not part of this retro.")
    return raw


def _text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValidationError("Write the card's text.")
    text = CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise ValidationError("Write something on the card, or leave the card out.")
    if SURROGATE.search(text):
        raise ValidationError("The text holds characters that are not valid Unicode.")
    if len(text) > CARD_TEXT_MAX:
        raise ValidationError(
            f"Keep a card to {CARD_TEXT_MAX} characters (this one has {len(text)})."
        )
    return text


def _choice(raw: Any, choices: type[TaskCategory] | type[CardEffect], what: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise ValidationError(f"Choose {what}.")
    if raw not in choices.values:
        noun = what.split(" ", 1)[1]
        raise ValidationError(f"Unknown {noun} “{raw}”: use one of {', '.join(choices.values)}.")
    return raw


def _shared(raw: Any) -> bool:
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise ValidationError("Give true or false.")
    return raw


def _card_clean(item: Mapping[str, Any], prompt_ids: Collection[int]) -> CardInput:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key in sorted(set(item) - set(CARD_FIELDS)):
        errors[key] = ["This is not a field of a card."]
    cleaners = {
        "prompt": lambda raw: _prompt(raw, prompt_ids),
        "text": _text,
        "category": lambda raw: _choice(raw, TaskCategory, "a task category"),
        "effect": lambda raw: _choice(raw, CardEffect, "an effect"),
        "shared": _shared,
    }
    for field, clean in cleaners.items():
        try:
            values[field] = clean(item.get(field))
        except ValidationError as error:
            errors[field] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    return CardInput(
        prompt_id=values["prompt"],
        text=values["text"],
        category=values["category"],
        effect=values["effect"],
        shared=values["shared"],
    )


def cards_clean(raw: Any, *, prompt_ids: Collection[int]) -> list[CardInput]:
    """At least one card and at most CARDS_MAX, each complete and valid; all or nothing."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"cards": ["Write at least one card."]})
    if len(raw) > CARDS_MAX:
        raise ValidationError({"cards": [f"At most {CARDS_MAX} cards in one submission."]})
    errors: dict[str, list[str]] = {}
    clean: list[CardInput] = []
    for index, item in enumerate(raw):
        prefix = f"cards[{index}]"
        if not isinstance(item, Mapping):
            errors[prefix] = ["A card is an object with prompt, text, category and effect."]
            continue
        try:
            clean.append(_card_clean(item, prompt_ids))
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"{prefix}.{field}"] = messages
    if errors:
        raise ValidationError(errors)
    return clean
