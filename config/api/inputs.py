"""Input serializers that refuse, with a 400 naming the field, what a form-encoded body
(or a query string) can say but the API's schema does not: a field given twice where
one value is expected, or a list or object given as a plain form value.

DRF reads a form by taking a scalar field's last value and by building nested lists and
objects only from indexed keys (`options[0]key`), so `citation=a&citation=b` or a bare
`options=` would otherwise be accepted as if they were valid, against the schema
(schemathesis found both on POST /api/questions/).
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers

STRUCTURED = (serializers.DictField, serializers.BaseSerializer)


# No docstring on purpose: drf-spectacular would show it as every input's description.
class StrictInput(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, QueryDict):
            errors = {name: [problem] for name, problem in _form_problems(self, data)}
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _form_problems(serializer: serializers.Serializer, data: QueryDict) -> list[tuple[str, str]]:
    problems = []
    for name, field in serializer.fields.items():
        if field.read_only or name not in data:
            continue
        if isinstance(field, STRUCTURED):
            problems.append((name, "Send this as JSON: a form field cannot hold it."))
        elif not isinstance(field, serializers.ListField) and len(data.getlist(name)) > 1:
            problems.append((name, "Give one value, not several."))
    return problems
