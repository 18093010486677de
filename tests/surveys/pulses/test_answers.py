from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from surveys.pulses.answers import QuestionSpec, answers_clean

SPECS = [
    QuestionSpec(key="speed", kind="percent", scale_min=-50, scale_max=100),
    QuestionSpec(key="safe", kind="scale", scale_min=1, scale_max=7),
    QuestionSpec(key="tasks", kind="multi", scale_min=1, scale_max=7, options=("tests", "docs")),
]
VALID = {"speed": 20, "safe": "5", "tasks": ["docs", "tests", "docs"]}


def errors_of(raw: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        answers_clean(SPECS, raw)
    return caught.value.message_dict


def test_valid_answers_are_cleaned_to_ints_and_sorted_unique_options() -> None:
    assert answers_clean(SPECS, VALID) == {"speed": 20, "safe": 5, "tasks": ["docs", "tests"]}


def test_an_unknown_question_is_named() -> None:
    assert "not part of this pulse" in errors_of({**VALID, "mystery": 3})["mystery"][0]


@pytest.mark.parametrize("value", [101, -51, "8x", 2.5, True, {"a": 1}])
def test_out_of_range_or_wrongly_typed_values_are_refused(value: object) -> None:
    assert "speed" in errors_of({**VALID, "speed": value})


def test_a_missing_answer_is_named() -> None:
    raw = dict(VALID)
    del raw["safe"]
    assert errors_of(raw) == {"safe": ["This question needs an answer."]}


def test_an_unknown_option_is_named() -> None:
    assert "Unknown option: poems" in errors_of({**VALID, "tasks": ["poems"]})["tasks"][0]


def test_every_bad_field_is_reported_at_once() -> None:
    assert set(errors_of({"speed": 500, "safe": 0, "tasks": []})) == {"speed", "safe", "tasks"}
