"""What pulses and retros share in storage: how often a link's email is tried, the
database's own floor under k, and the sealed submission (surveys/links/sealing.py)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models

from surveys.anonymity import K_MIN

EMAIL_ATTEMPTS_MAX = 5  # emails tried per invitation (invitation and reminder together)


def k_floor(model: str) -> models.CheckConstraint:
    """The database's own refusal of a k under K_MIN, whatever wrote it."""
    return models.CheckConstraint(condition=models.Q(k__gte=K_MIN), name=f"{model}_k_at_least_5")


class SealedSubmission(models.Model):
    """One person's submission while its run or session is open: a random key and one
    AES-GCM blob (surveys/links/sealing.py), nothing else — no person, no invitation, no
    time, no answer in the clear. It is the only row a submission inserts next to its
    invitation's `used` flag. Opened, shuffled and written as anonymous rows when the
    window closes (or, for retros, when a batch of at least k is published), then deleted.

    Abstract: each feature's concrete model adds the foreign key to its window (a pulse run,
    a retro session), so deleting a window deletes its sealed rows with it.
    """

    SEAL_KIND: ClassVar[str]  # names the window's kind in its key ("pulse", "retro")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    blob = models.BinaryField()

    class Meta:
        abstract = True
        ordering = ("id",)

    def __str__(self) -> str:
        return "Sealed submission"
