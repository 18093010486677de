"""Validation of a submitted answer set against the questions a run asks.

Pure: takes question descriptions and raw values, returns clean values or raises a
ValidationError whose keys are the question keys, so every client can name the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    kind: str
    scale_min: int
    scale_max: int
    options: tuple[str, ...] = ()
    question_id: int = 0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "options": list(self.options)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuestionSpec:
        return cls(**{**data, "options": tuple(data["options"])})


CleanAnswers = dict[str, int | list[str]]
ASCII_INTEGER = re.compile(r"[+-]?[0-9]{1,6}")


def _as_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and ASCII_INTEGER.fullmatch(raw.strip()):
        return int(raw.strip())
    raise ValueError


def _clean_one(spec: QuestionSpec, raw: Any) -> int | list[str]:
    if spec.kind == "multi":
        values = [raw] if isinstance(raw, str) else raw
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise ValidationError("Choose at least one option.")
        unknown = sorted(set(values) - set(spec.options))
        if unknown:
            raise ValidationError(f"Unknown option: {', '.join(unknown)}.")
        return sorted(set(values))
    try:
        value = _as_int(raw)
    except ValueError:
        raise ValidationError("Give a whole number.") from None
    if not spec.scale_min <= value <= spec.scale_max:
        raise ValidationError(f"Give a value from {spec.scale_min} to {spec.scale_max}.")
    return value


def answers_clean(specs: Sequence[QuestionSpec], raw: Mapping[str, Any]) -> CleanAnswers:
    """Every question answered, every value in range, no unknown question."""
    errors: dict[str, list[str]] = {}
    known = {spec.key for spec in specs}
    for key in sorted(set(raw) - known):
        errors[key] = ["This question is not part of this pulse."]
    clean: CleanAnswers = {}
    for spec in specs:
        value = raw.get(spec.key)
        if value is None or value == "" or value == []:
            errors[spec.key] = ["This question needs an answer."]
            continue
        try:
            clean[spec.key] = _clean_one(spec, value)
        except ValidationError as error:
            errors[spec.key] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    return clean
