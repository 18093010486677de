"""The pulse API's input and output serializers, one pair per operation."""

from __future__ import annotations

from rest_framework import serializers

from config.api.inputs import StrictInput
from surveys.pulses.models import Construct, QuestionKind


class QuestionOutput(serializers.Serializer):
    key = serializers.SlugField()
    construct = serializers.ChoiceField(choices=Construct.choices)
    kind = serializers.ChoiceField(choices=QuestionKind.choices)
    text = serializers.CharField()
    help_text = serializers.CharField()  # type: ignore[assignment]
    scale_min = serializers.IntegerField()
    scale_max = serializers.IntegerField()
    labels = serializers.ListField(child=serializers.CharField())
    options = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    reverse_scored = serializers.BooleanField()
    citation = serializers.CharField()


class OptionInput(StrictInput):
    key = serializers.SlugField(max_length=40)
    label = serializers.CharField(max_length=80)  # type: ignore[assignment]


class QuestionCreateInput(StrictInput):
    key = serializers.SlugField(max_length=64)
    construct = serializers.ChoiceField(choices=Construct.choices, default=Construct.CUSTOM)
    kind = serializers.ChoiceField(choices=QuestionKind.choices, default=QuestionKind.SCALE)
    text = serializers.CharField(max_length=500)
    help_text = serializers.CharField(  # type: ignore[assignment]
        max_length=500, required=False, default="", allow_blank=True
    )
    scale_min = serializers.IntegerField(default=1, min_value=-1000, max_value=1000)
    scale_max = serializers.IntegerField(default=5, min_value=-1000, max_value=1000)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, default=list, max_length=11
    )
    options = OptionInput(many=True, required=False, default=list)
    reverse_scored = serializers.BooleanField(default=False)
    citation = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class PulseFormOutput(serializers.Serializer):
    team = serializers.CharField(source="run.team.name")
    closes_at = serializers.DateTimeField(source="run.closes_at")
    k = serializers.IntegerField(source="run.k")
    questions = QuestionOutput(many=True)


class ResponseInput(StrictInput):
    answers = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Question key → an integer in the question's range, or a list of option keys.",
    )


class ResponseOutput(serializers.Serializer):
    status = serializers.CharField()


class RunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.SlugField(source="team.slug")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    status = serializers.CharField()
    k = serializers.IntegerField()


class OpenPulseOutput(serializers.Serializer):
    run = RunOutput()
    closes_at = serializers.DateTimeField(source="run.closes_at")
