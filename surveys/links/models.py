"""What pulses and retros share in storage: how often a link's email is tried, and the
database's own floor under k."""

from __future__ import annotations

from django.db import models

from surveys.anonymity import K_MIN

EMAIL_ATTEMPTS_MAX = 5  # emails tried per invitation (invitation and reminder together)


def k_floor(model: str) -> models.CheckConstraint:
    """The database's own refusal of a k under K_MIN, whatever wrote it."""
    return models.CheckConstraint(condition=models.Q(k__gte=K_MIN), name=f"{model}_k_at_least_5")
