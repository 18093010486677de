"""Input and output serializers of the retro API, one pair per operation.

Cards are parsed by the service (surveys.retros.cards), so every client gets the same
errors keyed `cards[i].field`; `RetroCardSchema` only documents their shape.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config.api.inputs import StrictInput
from surveys.anonymity import K_MIN
from surveys.retros.exports import SCHEMA
from surveys.retros.models import (
    CARD_TEXT_MAX,
    PROMPT_TEXT_MAX,
    CardEffect,
    RetroStatus,
    TaskCategory,
)
from surveys.retros.selectors import retro_participation

SUBMISSIONS_HELP = (
    "How many people's cards are published (in batches of at least k). null when fewer "
    "than k have written, or when the invited who are not among them are 1 to k − 1: a "
    "count of fewer than k people. How many have written so far, or since the last batch, "
    "is never given: it would single out whoever wrote last."
)


class ChoiceOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


def choices(enum: type[TaskCategory] | type[CardEffect]) -> list[dict[str, str]]:
    return [{"key": value, "label": str(label)} for value, label in enum.choices]


class RetroPromptOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    suggested_effect = serializers.CharField(help_text="Pre-selected effect; empty for none.")
    built_in = serializers.SerializerMethodField()

    def get_built_in(self, prompt: Any) -> bool:
        return prompt.organisation_id is None


class RetroPromptCreateInput(StrictInput):
    team = serializers.SlugField(
        help_text="A team whose retros you run; the prompt joins its organisation's library."
    )
    text = serializers.CharField(max_length=PROMPT_TEXT_MAX)
    suggested_effect = serializers.ChoiceField(
        choices=[("", "None"), *CardEffect.choices],
        required=False,
        default="",
        help_text="The effect pre-selected on cards for this prompt.",
    )


class RetroPromptSetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prompts = serializers.SerializerMethodField(help_text="Prompt ids, in order.")

    def get_prompts(self, prompt_set: Any) -> list[int]:
        return [item.prompt_id for item in prompt_set.items.all()]


class RetroPromptSetCreateInput(StrictInput):
    team = serializers.SlugField()
    name = serializers.CharField(max_length=100)
    prompts = serializers.ListField(child=serializers.IntegerField(), max_length=20)


class SessionPromptOutput(serializers.Serializer):
    id = serializers.IntegerField(source="prompt_id", help_text="Give this as a card's prompt.")
    number = serializers.IntegerField(source="position")
    text = serializers.CharField()
    suggested_effect = serializers.CharField()


class RetroSessionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.SlugField(source="team.slug")
    label = serializers.CharField()  # type: ignore[assignment]
    sprint_start = serializers.DateField()
    sprint_end = serializers.DateField()
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=RetroStatus.choices)
    k = serializers.IntegerField()
    submissions = serializers.SerializerMethodField(help_text=SUBMISSIONS_HELP)
    k_reached = serializers.SerializerMethodField(
        help_text="Whether at least k people have written: the board shows their cards (or "
        "will, the next time it is read)."
    )
    prompts = SessionPromptOutput(many=True, source="prompts.all")

    def get_submissions(self, session: Any) -> int | None:
        return retro_participation(session).people

    def get_k_reached(self, session: Any) -> bool:
        return retro_participation(session).k_reached


class RetroSessionCreateInput(StrictInput):
    label = serializers.CharField(max_length=100)  # type: ignore[assignment]
    sprint_start = serializers.DateField()
    sprint_end = serializers.DateField()
    closes_at = serializers.DateTimeField()
    opens_at = serializers.DateTimeField(required=False, default=None, allow_null=True)
    prompts = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        max_length=20,
        help_text="Library prompt ids, in the order to ask them.",
    )
    new_prompts = serializers.ListField(
        child=serializers.CharField(max_length=PROMPT_TEXT_MAX),
        required=False,
        default=list,
        max_length=10,
        help_text="Your own prompts, asked after the library ones and added to the library.",
    )
    save_as_set = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )
    k = serializers.IntegerField(min_value=K_MIN, max_value=50, default=K_MIN)
    send = serializers.BooleanField(default=True, help_text="Email the links (default).")


class RetroFormOutput(serializers.Serializer):
    team = serializers.CharField(source="session.team.name")
    label = serializers.CharField(source="session.label")  # type: ignore[assignment]
    closes_at = serializers.DateTimeField(source="session.closes_at")
    k = serializers.IntegerField(source="session.k")
    prompts = SessionPromptOutput(many=True)
    categories = ChoiceOutput(many=True)
    effects = ChoiceOutput(many=True)


class RetroCardSchema(serializers.Serializer):
    prompt = serializers.IntegerField(help_text="The prompt's id from the form.")
    text = serializers.CharField(max_length=CARD_TEXT_MAX)
    category = serializers.ChoiceField(choices=TaskCategory.choices)
    effect = serializers.ChoiceField(choices=CardEffect.choices)
    shared = serializers.BooleanField(
        default=False, help_text="May be shown in the retro (anonymously). Opt-in."
    )


class RetroSubmissionSchema(serializers.Serializer):
    cards = RetroCardSchema(many=True, help_text="One to 30 cards.")


class RetroSubmissionInput(StrictInput):
    cards = serializers.JSONField()


class RetroSubmissionOutput(serializers.Serializer):
    status = serializers.CharField()
    cards = serializers.IntegerField()


class RetroExportQuery(StrictInput):
    prompts = serializers.ChoiceField(
        choices=["only"],
        required=False,
        help_text="`only`: the prompts alone, to paste before the retro.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A form-style serializer reads `?prompts=` as absent; the schema calls it invalid.
        if "prompts" in self.initial_data and "prompts" not in attrs:
            raise serializers.ValidationError({"prompts": ['Leave it out, or say "only".']})
        return attrs


class ExportCardOutput(serializers.Serializer):
    category = serializers.ChoiceField(choices=TaskCategory.choices)
    category_label = serializers.CharField()
    effect = serializers.ChoiceField(choices=CardEffect.choices)
    effect_label = serializers.CharField()
    text = serializers.CharField(help_text="Scrubbed: emails, @mentions, members' names masked.")


class ExportPromptOutput(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()
    cards = ExportCardOutput(many=True)


class SprintOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class RetroExportOutput(serializers.Serializer):
    """The documented JSON export (`candor-retro-export/1`); see the README."""

    schema = serializers.CharField(default=SCHEMA)
    team = serializers.CharField()
    session = serializers.CharField()
    sprint = SprintOutput()
    k = serializers.IntegerField()
    submissions = serializers.IntegerField(
        allow_null=True,
        help_text="How many people's cards are included; null for the prompts alone, and "
        "when the invited who are not among them are 1 to k − 1.",
    )
    shared_cards_included = serializers.BooleanField()
    prompts = ExportPromptOutput(many=True)


def _effect_count() -> serializers.IntegerField:
    return serializers.IntegerField(
        allow_null=True, help_text="null: reported, or not reported, by 1 to k − 1 of the people"
    )


class RetroCountsOutput(serializers.Serializer):
    people = serializers.IntegerField()
    helped = _effect_count()
    hurt = _effect_count()
    chose_not = _effect_count()
    lean = serializers.CharField(
        allow_null=True,
        help_text="helped, hurt, chose_not or mixed; null when a count it would compare is "
        "hidden (in a total: when one summed into it was), as saying which leads would hint "
        "at it",
    )


class RetroHeatmapCellOutput(serializers.Serializer):
    shown = serializers.BooleanField()
    counts = RetroCountsOutput(allow_null=True, help_text="Null under k (also when nobody wrote).")


class RetroHeatmapRowOutput(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    cells = RetroHeatmapCellOutput(many=True)
    shown_total = RetroCountsOutput(
        allow_null=True, help_text="The sum of the shown cells only; null if none is shown."
    )


class RetroHeatmapSprintOutput(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    sprint_start = serializers.DateField()
    submissions = serializers.IntegerField(
        source="people", allow_null=True, help_text=SUBMISSIONS_HELP
    )
    k = serializers.IntegerField()
    shown = serializers.BooleanField()


class RetroHeatmapOutput(serializers.Serializer):
    sprints = RetroHeatmapSprintOutput(many=True)
    rows = RetroHeatmapRowOutput(many=True)
