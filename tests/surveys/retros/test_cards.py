"""Validation of submitted retro cards: pure, every error names its field."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from surveys.retros.cards import CARDS_MAX, CardInput, cards_clean
from surveys.retros.models import CARD_TEXT_MAX

PROMPTS = {11, 12}


def card(**change: Any) -> dict[str, Any]:
    return {"prompt": 11, "text": "Wrote the fixtures", "category": "tests", "effect": "helped"} | (
        change
    )


def errors_of(raw: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        cards_clean(raw, prompt_ids=PROMPTS)
    return caught.value.message_dict


def test_it_returns_clean_cards_with_sharing_off_unless_asked() -> None:
    clean = cards_clean([card(), card(prompt="12", shared=True)], prompt_ids=PROMPTS)
    assert clean == [
        CardInput(11, "Wrote the fixtures", "tests", "helped", False),
        CardInput(12, "Wrote the fixtures", "tests", "helped", True),
    ]


def test_it_trims_text_and_drops_control_characters() -> None:
    [clean] = cards_clean([card(text="  line one\r\nline\x00 two\x07 \n")], prompt_ids=PROMPTS)
    assert clean.text == "line one\nline two"


@pytest.mark.parametrize("raw", [None, [], {}, "cards"])
def test_it_rejects_an_empty_submission(raw: Any) -> None:
    assert errors_of(raw) == {"cards": ["Write at least one card."]}


def test_it_rejects_too_many_cards() -> None:
    assert "cards" in errors_of([card()] * (CARDS_MAX + 1))


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None, 12])
def test_it_rejects_empty_text(text: Any) -> None:
    assert set(errors_of([card(text=text)])) == {"cards[0].text"}


def test_it_rejects_oversized_text_and_says_how_long_it_was() -> None:
    errors = errors_of([card(), card(text="x" * (CARD_TEXT_MAX + 1))])
    assert errors == {
        "cards[1].text": [f"Keep a card to {CARD_TEXT_MAX} characters (this one has 1001)."]
    }


def test_it_accepts_text_of_exactly_the_limit() -> None:
    assert cards_clean([card(text="x" * CARD_TEXT_MAX)], prompt_ids=PROMPTS)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "vibes"}, "category"),
        ({"category": ""}, "category"),
        ({"effect": "meh"}, "effect"),
        ({"prompt": 99}, "prompt"),
        ({"prompt": True}, "prompt"),
        ({"prompt": "eleven"}, "prompt"),
        ({"shared": "yes"}, "shared"),
        ({"author": "me"}, "author"),
    ],
)
def test_it_names_the_field_that_is_wrong(change: dict[str, Any], field: str) -> None:
    assert set(errors_of([card(), card(**change)])) == {f"cards[1].{field}"}


def test_an_unknown_category_lists_the_known_ones() -> None:
    [message] = errors_of([card(category="vibes")])["cards[0].category"]
    for word in ("vibes", "business_logic", "other"):
        assert word in message


def test_a_card_that_is_not_an_object_is_named_by_its_position() -> None:
    assert errors_of([card(), "just text"]) == {
        "cards[1]": ["A card is an object with prompt, text, category and effect."]
    }


def test_every_bad_card_is_reported_at_once() -> None:
    errors = errors_of([card(text=""), card(), card(effect="x", category="y")])
    assert set(errors) == {"cards[0].text", "cards[2].effect", "cards[2].category"}
