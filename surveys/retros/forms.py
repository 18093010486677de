"""The forms of the retro pages: parsing and field errors only; the services decide."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from surveys.anonymity import K_MIN
from surveys.retros.models import (
    CARD_TEXT_MAX,
    PROMPT_TEXT_MAX,
    CardEffect,
    RetroPrompt,
    RetroSessionPrompt,
    TaskCategory,
)

SLOTS_PER_PROMPT = 2
SERVICE_ERROR_KEY = re.compile(r"cards\[(\d+)\]\.(\w+)")
# The browser's date picker reads and writes ISO dates, whatever the locale's format.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RetroSessionForm(forms.Form):
    label = forms.CharField(max_length=100, label="Sprint", help_text="For example “Sprint 42”.")
    sprint_start = forms.DateField(label="Sprint starts", widget=DATE_INPUT)
    sprint_end = forms.DateField(label="Sprint ends", widget=DATE_INPUT)
    closes_at = forms.DateTimeField(
        label="Collect cards until",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    prompts = forms.ModelMultipleChoiceField(
        queryset=RetroPrompt.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Prompts",
    )
    new_prompt_1 = forms.CharField(
        max_length=PROMPT_TEXT_MAX, required=False, label="Your own prompt (optional)"
    )
    new_prompt_2 = forms.CharField(
        max_length=PROMPT_TEXT_MAX, required=False, label="Another prompt of your own (optional)"
    )
    save_as_set = forms.CharField(
        max_length=100,
        required=False,
        label="Save these prompts as a set named (optional)",
    )
    k = forms.IntegerField(
        min_value=K_MIN,
        max_value=50,
        initial=K_MIN,
        label="Show the cards once at least this many people wrote (k)",
    )

    def __init__(self, *args: Any, prompts: QuerySet[RetroPrompt], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prompts"].queryset = prompts  # type: ignore[attr-defined]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "label": data["label"],
            "sprint_start": data["sprint_start"],
            "sprint_end": data["sprint_end"],
            "closes_at": data["closes_at"],
            "prompt_ids": [prompt.pk for prompt in data["prompts"]],
            "new_prompts": [data["new_prompt_1"], data["new_prompt_2"]],
            "save_as_set": data["save_as_set"],
            "k": data["k"],
        }

    def add_service_errors(self, error: ValidationError) -> None:
        fields = {"new_prompts": "new_prompt_1"}
        for key, messages in error.message_dict.items():
            name = fields.get(key, key)
            self.add_error(name if name in self.fields else None, messages)


@dataclass
class CardSlot:
    """One place for a card on the page: a prompt's first card, or its optional second."""

    number: int
    prompt: RetroSessionPrompt
    extra: bool
    text: str = ""
    category: str = ""
    effect: str = ""
    shared: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def filled(self) -> bool:
        # The effect starts pre-selected from the prompt, so it alone does not make a card.
        return bool(self.text.strip() or self.category or self.shared)

    def as_card(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt.prompt_id,
            "text": self.text,
            "category": self.category,
            "effect": self.effect,
            "shared": self.shared,
        }


@dataclass
class CardsForm:
    """The card slots of a session's page, filled from a POST if there was one."""

    slots: list[CardSlot]
    errors: list[str] = field(default_factory=list)
    text_max: int = CARD_TEXT_MAX
    categories: list[tuple[str, str]] = field(default_factory=lambda: TaskCategory.choices)
    effects: list[tuple[str, str]] = field(default_factory=lambda: CardEffect.choices)

    @classmethod
    def for_prompts(
        cls, prompts: list[RetroSessionPrompt], data: QueryDict | None = None
    ) -> CardsForm:
        slots: list[CardSlot] = []
        for prompt in prompts:
            for extra in range(SLOTS_PER_PROMPT):
                slot = CardSlot(len(slots) + 1, prompt, extra > 0, effect=prompt.suggested_effect)
                if data is not None:
                    name = f"c{slot.number}-"
                    slot.text = data.get(name + "text", "")
                    slot.category = data.get(name + "category", "")
                    slot.effect = data.get(name + "effect", "")
                    slot.shared = data.get(name + "shared") == "on"
                slots.append(slot)
        return cls(slots=slots)

    @property
    def filled(self) -> list[CardSlot]:
        return [slot for slot in self.slots if slot.filled]

    def cards(self) -> list[dict[str, Any]]:
        return [slot.as_card() for slot in self.filled]

    def add_service_errors(self, error: ValidationError) -> None:
        """Put each `cards[i].field` error on the slot the i-th card came from."""
        filled = self.filled
        for key, messages in error.message_dict.items():
            match = SERVICE_ERROR_KEY.fullmatch(key)
            if match is None:
                self.errors += messages
                continue
            filled[int(match.group(1))].errors[match.group(2)] = messages

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(slot.errors for slot in self.slots)
