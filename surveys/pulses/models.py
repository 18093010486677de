"""The question bank, pulses, their runs, invitations and anonymous responses.

Anonymity is structural (docs/DESIGN.md §2.1): `Response` and `Answer` have random uuid
keys, no user and no time; who took part lives only on `Invitation`, which has no time
either. While a run is open, a submission is a `SealedResponse` (surveys/links/sealing.py);
its `Response` and `Answer`s are written when the run closes.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, slug_re
from django.db import models

from surveys.anonymity import K_MIN
from surveys.links.models import SealedSubmission, k_floor
from surveys.people.models import Organisation, Team
from surveys.pulses.schedule import period_length_days

MAX_SCALE_STEPS = 11
PERCENT_LIMITS = (-100, 1000)
PERCENT_STEPS = (-50, -30, -20, -10, 0, 10, 20, 30, 50, 75, 100)


class Construct(models.TextChoices):
    AI_USAGE = "ai_usage", "AI usage"
    AI_TRUST = "ai_trust", "AI trust"
    PERCEIVED_SPEED = "perceived_speed", "Perceived speed"
    PSYCHOLOGICAL_SAFETY = "psychological_safety", "Psychological safety"
    SATISFACTION = "satisfaction", "Satisfaction with AI"
    REVIEW_BURDEN = "review_burden", "Review burden"
    FEEDBACK_LOOPS = "feedback_loops", "DevEx: feedback loops"
    COGNITIVE_LOAD = "cognitive_load", "DevEx: cognitive load"
    FLOW = "flow", "DevEx: flow"
    CUSTOM = "custom", "Custom"


class QuestionKind(models.TextChoices):
    SCALE = "scale", "Ordinal scale"
    PERCENT = "percent", "Percentage"
    MULTI = "multi", "Multiple choice"


class Question(models.Model):
    """An item of the question bank.

    `scale` answers are integers scale_min..scale_max with one label per step; `percent`
    answers are integers in scale_min..scale_max (perceived speed: −50…+100); `multi`
    answers are a list of option keys and have a distribution but no mean. Built-in items
    (organisation null) are seeded by a data migration; admins add their own.
    """

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="questions"
    )
    key = models.SlugField(max_length=64, unique=True)
    construct = models.CharField(max_length=32, choices=Construct.choices)
    kind = models.CharField(max_length=16, choices=QuestionKind.choices, default=QuestionKind.SCALE)
    text = models.CharField(max_length=500)
    help_text = models.CharField(max_length=500, blank=True)
    scale_min = models.IntegerField(default=1)
    scale_max = models.IntegerField(default=7)
    labels = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=list, blank=True)
    reverse_scored = models.BooleanField(default=False)
    citation = models.CharField(max_length=300, blank=True)
    is_core = models.BooleanField(default=False)
    rotation_order = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("rotation_order", "key")

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        if self.scale_max <= self.scale_min:
            raise ValidationError({"scale_max": "The maximum must be above the minimum."})
        if self.kind == QuestionKind.SCALE:
            steps = self.scale_max - self.scale_min + 1
            if steps > MAX_SCALE_STEPS:
                raise ValidationError(
                    {"scale_max": f"A scale has at most {MAX_SCALE_STEPS} steps."}
                )
            if self.labels and len(self.labels) != steps:
                raise ValidationError({"labels": f"A scale of {steps} steps needs {steps} labels."})
        if self.kind == QuestionKind.PERCENT and not (
            PERCENT_LIMITS[0] <= self.scale_min and self.scale_max <= PERCENT_LIMITS[1]
        ):
            raise ValidationError({"scale_min": "A percentage runs within −100 … +1000."})
        if self.kind == QuestionKind.MULTI:
            self._clean_options()

    def _clean_options(self) -> None:
        options = self.options if isinstance(self.options, list) else None
        if not options:
            raise ValidationError({"options": "A multiple-choice question needs options."})
        if not all(
            isinstance(o, dict) and set(o) == {"key", "label"} and slug_re.match(str(o["key"]))
            for o in options
        ):
            raise ValidationError({"options": 'Each option is {"key": a-slug, "label": text}.'})
        if len({o["key"] for o in options}) != len(options):
            raise ValidationError({"options": "Option keys must be unique."})


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    BIWEEKLY = "biweekly", "Every two weeks"
    MONTHLY = "monthly", "Monthly"
    SPRINT = "sprint", "Per sprint"


class Pulse(models.Model):
    """A team's recurring pulse schedule. k may be raised, never lowered."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="pulses")
    cadence = models.CharField(max_length=16, choices=Cadence.choices, default=Cadence.WEEKLY)
    start_date = models.DateField()
    sprint_length_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1)], help_text="Only for sprint cadence."
    )
    answer_window_days = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)]
    )
    k = models.PositiveSmallIntegerField(default=K_MIN, validators=[MinValueValidator(K_MIN)])
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [k_floor("pulse")]

    def __str__(self) -> str:
        return f"{self.team} — {self.get_cadence_display()}"

    def clean(self) -> None:
        shortest = period_length_days(
            cadence=self.cadence, sprint_length_days=self.sprint_length_days
        )
        if self.answer_window_days > shortest:
            raise ValidationError(
                {"answer_window_days": f"The answer window must fit in a period ({shortest} days)."}
            )
        stored = Pulse.objects.filter(pk=self.pk).first() if self.pk is not None else None
        if stored is None:
            return
        if self.k < stored.k:
            raise ValidationError({"k": f"k can be raised but never lowered (it is {stored.k})."})
        schedule = ("cadence", "start_date", "sprint_length_days")
        changed = [f for f in schedule if getattr(self, f) != getattr(stored, f)]
        if changed and stored.runs.exists():
            # Runs are numbered by period; renumbering them would orphan the history.
            raise ValidationError(
                dict.fromkeys(changed, "This pulse has runs: end it and start a new pulse instead.")
            )


class RunStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class PulseRun(models.Model):
    """One period of a pulse. k is copied from the pulse and locked when the run opens."""

    pulse = models.ForeignKey(Pulse, on_delete=models.CASCADE, related_name="runs")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="runs")
    sequence = models.PositiveIntegerField()
    period_start = models.DateField()
    period_end = models.DateField()
    opens_at = models.DateTimeField()
    remind_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.SCHEDULED)
    k = models.PositiveSmallIntegerField(default=K_MIN, validators=[MinValueValidator(K_MIN)])
    questions: models.ManyToManyField[Question, RunQuestion] = models.ManyToManyField(
        Question, through="RunQuestion", related_name="runs"
    )
    form = models.JSONField(
        default=list,
        editable=False,
        help_text="The questions as asked, frozen at opening; answers are checked against it.",
    )
    # Outbox flags, set in the transaction that makes the work due and cleared when it is
    # done, so the minute tick sends it again if the task was lost (a killed worker, a
    # broker outage). Invitations are owed once a run opens with sending on; reminders are
    # done once nobody is left to remind.
    invitations_pending = models.BooleanField(default=False)
    reminders_sent = models.BooleanField(default=False)
    aggregates_stale = models.BooleanField(default=False)

    class Meta:
        ordering = ("team", "period_start", "id")
        constraints = [
            models.UniqueConstraint(fields=["pulse", "sequence"], name="unique_run_per_period"),
            k_floor("pulserun"),
        ]
        indexes = [models.Index(fields=["status", "closes_at"])]

    def __str__(self) -> str:
        return f"{self.team} pulse {self.period_start:%d %b %Y}"

    def clean(self) -> None:
        stored = PulseRun.objects.filter(pk=self.pk).only("k", "status").first()
        if stored is not None and stored.status != RunStatus.SCHEDULED and self.k != stored.k:
            raise ValidationError({"k": f"k is locked once a run has opened (it is {stored.k})."})


class RunQuestion(models.Model):
    """A question asked in a run, in display order."""

    run = models.ForeignKey(PulseRun, on_delete=models.CASCADE, related_name="run_questions")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ("position",)
        constraints = [
            models.UniqueConstraint(fields=["run", "question"], name="unique_question_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.question_id}"


class Invitation(models.Model):
    """Who may answer a run, and whether they have. No timestamps, by design.

    Only sha256 hashes of tokens are stored: the one from the invitation email and, once a
    reminder went out, the one from the reminder. `used` flips in the same transaction
    that writes the anonymous response. `send_attempts` counts the emails tried (the
    invitation, then the reminder), at most EMAIL_ATTEMPTS_MAX, so a broken address is
    given up on.
    """

    run = models.ForeignKey(PulseRun, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    reminder_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    sent = models.BooleanField(default=False)
    reminded = models.BooleanField(default=False)
    used = models.BooleanField(default=False)
    send_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "user"], name="one_invitation_per_person_and_run"
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation to {self.run}"


class SealedResponse(SealedSubmission):
    """One person's answers to an open run, sealed under the run's key: the run and a blob,
    nothing else. Opened into a `Response` and its `Answer`s, shuffled, when the run
    closes, and deleted (surveys/links/sealing.py)."""

    SEAL_KIND = "pulse"

    run = models.ForeignKey(PulseRun, on_delete=models.CASCADE, related_name="sealed")


class Response(models.Model):
    """One anonymous set of answers to a run: a random key, the run and team, nothing else.

    Ordered by the random key, so no listing follows submission order.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(PulseRun, on_delete=models.CASCADE, related_name="responses")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return "Anonymous response"


class Answer(models.Model):
    """One answer inside an anonymous response: a number, or a list of option keys."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    value = models.IntegerField(null=True, blank=True)
    choices = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="one_answer_per_question"
            ),
        ]

    def __str__(self) -> str:
        return "Anonymous answer"
