"""Who is who: organisations, the team tree and dated memberships with roles; and the
nicknames people's names go by, for masking card texts.

Teams change over time, so every figure uses who was on a team *then* (`Membership.start`
and `end`); who may see what is decided from these rows in `surveys.people.access`.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower


class Organisation(models.Model):
    """A company running Candor; the root of everything an admin configures."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    ai_adopted_on = models.DateField(
        null=True,
        blank=True,
        help_text="When AI coding tools arrived for everyone: the 26 weeks before it are "
        "each team's baseline of throughput change (a team's own date or window wins). "
        "Blank, and no team's own: no throughput change is shown.",
    )

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team; teams form a tree so managers see their whole subtree."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="teams")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    ai_adopted_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the team adopted AI tools, if not when the organisation did: the "
        "26 weeks before it are the baseline of its throughput change, and until then it is "
        "a comparison team for those that adopted earlier.",
    )
    baseline_start = models.DateField(
        null=True,
        blank=True,
        help_text="A baseline window instead of an adoption date: its weeks (at least 8 "
        "with throughput) are what later periods are compared with.",
    )
    baseline_end = models.DateField(
        null=True, blank=True, help_text="The window's end (exclusive); both or neither."
    )

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.baseline_start is None) != (self.baseline_end is None):
            missing = "baseline_end" if self.baseline_end is None else "baseline_start"
            raise ValidationError({missing: "Give both ends of the baseline window, or neither."})
        if self.baseline_start and self.baseline_end and self.baseline_end <= self.baseline_start:
            raise ValidationError({"baseline_end": "The window must end after it starts."})
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": "A team cannot be its own ancestor."})
            if ancestor.organisation_id != self.organisation_id:
                raise ValidationError(
                    {"parent": "The parent team belongs to another organisation."}
                )
            ancestor = ancestor.parent


class Role(models.TextChoices):
    ENGINEER = "engineer", "Engineer"
    MANAGER = "manager", "Manager"
    FACILITATOR = "facilitator", "Facilitator"
    ADMIN = "admin", "Admin"


class Membership(models.Model):
    """A person on a team in a role over a date range; `end` is exclusive, null while current."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ENGINEER)
    start = models.DateField()
    end = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["team", "start"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.team} ({self.role})"

    def clean(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise ValidationError({"end": "The end date must come after the start date."})

    def is_active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


class Nickname(models.Model):
    """The other names a name goes by ("Thomas" → "Tom, Tommy"), so that card texts are
    masked under all of them (surveys/retros/scrub.py): a person named any one of a row's
    names is masked under every other. A row without an organisation applies to all; a
    migration seeds common English, German and Spanish nicknames."""

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="nicknames",
        help_text="Blank: for every organisation.",
    )
    name = models.CharField(max_length=100, help_text="A name, e.g. Thomas.")
    nicknames = models.CharField(
        max_length=500, help_text="Its nicknames, separated by commas, e.g. Tom, Tommy."
    )

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "organisation",
                name="unique_nickname_row_per_organisation",
                condition=models.Q(organisation__isnull=False),
                violation_error_message="This organisation already lists nicknames for this name.",
            ),
            models.UniqueConstraint(
                Lower("name"),
                name="unique_global_nickname_row",
                condition=models.Q(organisation__isnull=True),
                violation_error_message="Nicknames for this name are already listed for "
                "every organisation.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} → {self.nicknames}"

    def clean(self) -> None:
        self.name = " ".join(self.name.split())
        if not self.nickname_list():
            raise ValidationError({"nicknames": "Name at least one nickname."})
        self.nicknames = ", ".join(self.nickname_list())

    def nickname_list(self) -> list[str]:
        return [part.strip() for part in self.nicknames.split(",") if part.strip()]
