"""Form-encoded bodies say only what the schema allows: one value per scalar field, lists
and objects as JSON (config/api/inputs.py)."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.urls import reverse

from surveys.people.models import Role
from surveys.pulses.models import Question
from surveys.pulses.serializers import QuestionCreateInput
from surveys.retros.serializers import RetroSessionCreateInput
from tests.factories import MembershipFactory, UserFactory

QUESTION = {"key": "focus-time", "text": "How much focus time did you have?", "kind": "scale"}


def _form(**fields: str | list[str]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in fields.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


def test_a_scalar_field_given_twice_is_refused_naming_it() -> None:
    payload = QuestionCreateInput(data=_form(**QUESTION, citation=["one", "two"]))
    assert not payload.is_valid()
    assert list(payload.errors) == ["citation"]


def test_a_list_of_objects_given_as_a_plain_form_field_is_refused() -> None:
    payload = QuestionCreateInput(data=_form(**QUESTION, options="\r"))
    assert not payload.is_valid()
    assert list(payload.errors) == ["options"]


def test_a_form_still_sends_lists_by_repeating_the_key() -> None:
    payload = RetroSessionCreateInput(
        data=_form(
            label="Sprint 9",
            sprint_start="2026-11-02",
            sprint_end="2026-11-13",
            closes_at="2026-11-16T17:00:00Z",
            prompts=["3", "1"],
        )
    )
    assert payload.is_valid(), payload.errors
    assert payload.validated_data["prompts"] == [3, 1]


def test_a_single_valued_form_is_accepted() -> None:
    assert QuestionCreateInput(data=_form(**QUESTION, citation="DX")).is_valid()


@pytest.mark.django_db
def test_the_api_answers_400_and_writes_nothing(api_client) -> None:
    admin = UserFactory()
    MembershipFactory(user=admin, role=Role.ADMIN)
    api_client.force_login(admin)

    answer = api_client.post(
        reverse("api-questions"),
        {**QUESTION, "citation": ["a", "b"]},
        format="multipart",
    )

    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"citation"}
    assert not Question.objects.filter(key="focus-time").exists()
