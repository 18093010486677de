"""Retro sessions, the prompt library, participation and anonymous cards.

Anonymity is structural, as for pulse responses (docs/DESIGN.md §2.1): a `RetroResponse` and
its `RetroCard`s have random uuid keys, no user and no time; who took part lives only on
`RetroInvitation`, which has no time either. While a session is open, a submission is a
`SealedRetroResponse` (surveys/links/sealing.py) until it is published in a batch of at
least k or the session closes. The models are registered with the surveys app by
`surveys/models.py`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from surveys.anonymity import K_MIN
from surveys.links.models import SealedSubmission, k_floor
from surveys.people.models import Organisation, Team

CARD_TEXT_MAX = 1000
PROMPT_TEXT_MAX = 300
SESSION_PROMPTS_MAX = 10


class TaskCategory(models.TextChoices):
    BOILERPLATE = "boilerplate", "Boilerplate"
    TESTS = "tests", "Tests"
    DOCUMENTATION = "documentation", "Documentation"
    REFACTORING = "refactoring", "Refactoring"
    DEBUGGING = "debugging", "Debugging"
    BUSINESS_LOGIC = "business_logic", "Business logic"
    INTEGRATIONS = "integrations", "Integrations"
    SECURITY_SENSITIVE = "security_sensitive", "Security-sensitive"
    ARCHITECTURE = "architecture", "Architecture and design"
    CODE_REVIEW = "code_review", "Code review"
    OTHER = "other", "Other"


class CardEffect(models.TextChoices):
    HELPED = "helped", "Helped"
    HURT = "hurt", "Hurt or slowed me down"
    CHOSE_NOT = "chose_not", "I chose not to use it"


class RetroPrompt(models.Model):
    """A prompt of the library. Built-in prompts (organisation null, with a key) are seeded
    by a data migration; facilitators add their organisation's own.

    `suggested_effect` pre-selects the effect on a card written for this prompt.
    """

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="retro_prompts"
    )
    key = models.SlugField(max_length=64, unique=True, null=True, blank=True)
    text = models.CharField(max_length=PROMPT_TEXT_MAX)
    suggested_effect = models.CharField(max_length=16, choices=CardEffect.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = (models.F("organisation").asc(nulls_first=True), "pk")

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        if not self.text.strip():
            raise ValidationError({"text": "A prompt needs some text."})
        if self.key and self.organisation_id is not None:
            raise ValidationError({"key": "Only built-in prompts have a key."})


class RetroPromptSet(models.Model):
    """A named, reusable selection of prompts, in order, for an organisation's facilitators."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="retro_prompt_sets"
    )
    name = models.CharField(max_length=100)
    prompts: models.ManyToManyField[RetroPrompt, RetroPromptSetItem] = models.ManyToManyField(
        RetroPrompt, through="RetroPromptSetItem", related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="unique_prompt_set_name_per_organisation"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RetroPromptSetItem(models.Model):
    """A prompt's place in a prompt set."""

    prompt_set = models.ForeignKey(RetroPromptSet, on_delete=models.CASCADE, related_name="items")
    prompt = models.ForeignKey(RetroPrompt, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ("position",)
        constraints = [
            models.UniqueConstraint(fields=["prompt_set", "prompt"], name="unique_prompt_per_set"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.prompt_id}"


class RetroStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class RetroSession(models.Model):
    """A team's retro for one sprint: the prompts asked, and when cards are collected.

    Cards are accepted while the session is open and `opens_at <= now < closes_at`. The
    board and the card exports show the cards of submissions published in batches of at
    least k people (`RetroResponse.batch`); closing publishes what is left only if it is k
    or more, rewrites the cards shuffled with fresh keys and tallies them. k is fixed when
    the session is created (never below K_MIN).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="retro_sessions")
    label = models.CharField(max_length=100, help_text="The sprint's name, e.g. “Sprint 42”.")
    sprint_start = models.DateField()
    sprint_end = models.DateField()
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=RetroStatus.choices, default=RetroStatus.OPEN)
    k = models.PositiveSmallIntegerField(default=K_MIN, validators=[MinValueValidator(K_MIN)])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Outbox flag, as PulseRun's: links are owed until each was emailed or given up on.
    invitations_pending = models.BooleanField(default=False)

    class Meta:
        ordering = ("team", "-sprint_start", "-pk")
        constraints = [
            models.UniqueConstraint(fields=["team", "label"], name="unique_retro_label_per_team"),
            k_floor("retrosession"),
        ]
        indexes = [models.Index(fields=["status", "closes_at"])]

    def __str__(self) -> str:
        return f"{self.team} — {self.label}"

    def clean(self) -> None:
        if self.sprint_start and self.sprint_end and self.sprint_end < self.sprint_start:
            raise ValidationError({"sprint_end": "The sprint cannot end before it starts."})
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "The session must close after it opens."})
        stored = RetroSession.objects.filter(pk=self.pk).first() if self.pk is not None else None
        if stored is not None and self.k != stored.k:
            raise ValidationError({"k": f"k is fixed once a session exists (it is {stored.k})."})


class RetroSessionPrompt(models.Model):
    """A prompt as asked in a session, in display order. The text is frozen at creation so
    a later edit of the library never changes what people answered."""

    session = models.ForeignKey(RetroSession, on_delete=models.CASCADE, related_name="prompts")
    prompt = models.ForeignKey(RetroPrompt, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=PROMPT_TEXT_MAX)
    suggested_effect = models.CharField(max_length=16, choices=CardEffect.choices, blank=True)

    class Meta:
        ordering = ("position",)
        constraints = [
            models.UniqueConstraint(fields=["session", "prompt"], name="unique_prompt_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text}"


class RetroInvitation(models.Model):
    """Who may write cards for a session, and whether they have: the participation record.
    No timestamps, by design.

    Only the sha256 of the link's token is stored (null for someone who writes logged in
    and was never sent a link). `used` flips in the same transaction that writes the
    anonymous cards, so each person submits once, by link or logged in.
    """

    session = models.ForeignKey(RetroSession, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    sent = models.BooleanField(default=False)
    used = models.BooleanField(default=False)
    send_attempts = models.PositiveSmallIntegerField(default=0)  # as Invitation's

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"], name="one_retro_invitation_per_person_and_session"
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.session}"


class SealedRetroResponse(SealedSubmission):
    """One person's cards for an open session, sealed under the session's key: the session
    and a blob, nothing else. Opened into a `RetroResponse` and its `RetroCard`s, shuffled,
    when a batch of at least k is published or the session closes, and deleted
    (surveys/retros/publication.py)."""

    SEAL_KIND = "retro"

    session = models.ForeignKey(RetroSession, on_delete=models.CASCADE, related_name="sealed")


class RetroResponse(models.Model):
    """One person's anonymous submission to a session: a random key, the session and team,
    and the publication batch, nothing else. It groups the cards so tallies count people,
    not cards.

    `batch` is null until the submission's cards may be shown, then the number of the batch
    of at least k submissions it was published with (see `retro_board_publish`). It says
    only which batch, never when: it decides visibility and is never shown.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(RetroSession, on_delete=models.CASCADE, related_name="responses")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    batch = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return "Anonymous retro submission"


class RetroCard(models.Model):
    """One anonymous card: its prompt, text, task category, effect and whether its writer
    lets it be shown in the retro (`shared`, opt-in). No user, no time; ordered by the
    random key and always presented shuffled, so no order follows submission."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(RetroResponse, on_delete=models.CASCADE, related_name="cards")
    prompt = models.ForeignKey(RetroSessionPrompt, on_delete=models.CASCADE, related_name="cards")
    text = models.CharField(max_length=CARD_TEXT_MAX)
    category = models.CharField(max_length=32, choices=TaskCategory.choices)
    effect = models.CharField(max_length=16, choices=CardEffect.choices)
    shared = models.BooleanField(default=False)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return "Anonymous retro card"


class RetroTally(models.Model):
    """How many people wrote cards in one task category in a closed session, and how many
    of them said AI helped, hurt, or that they chose not to use it.

    Written once, when the session closes, and only for categories with at least the
    session's k people: no figure under k is ever stored here. The team's "where AI helps
    us" heatmap reads these rows only.
    """

    session = models.ForeignKey(RetroSession, on_delete=models.CASCADE, related_name="tallies")
    category = models.CharField(max_length=32, choices=TaskCategory.choices)
    people = models.PositiveIntegerField()
    helped = models.PositiveIntegerField()
    hurt = models.PositiveIntegerField()
    chose_not = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "category"], name="one_tally_per_session_and_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session}: {self.get_category_display()}"
