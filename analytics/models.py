"""Summary tables that pages and the API read. Nothing under k is ever written here:
a suppressed run has a summary row that says so and no numbers at all."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from analytics.stats import PERCENT_BUCKETS
from analytics.suppression import count_shown, ordered_bins
from surveys.models import Construct, Organisation, PulseRun, Question, QuestionKind, Team


class RunSummary(models.Model):
    """Per-run headline figures; numbers are null when the run is suppressed (n < k)."""

    run = models.OneToOneField(PulseRun, on_delete=models.CASCADE, related_name="summary")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    k = models.PositiveSmallIntegerField()
    invited = models.PositiveIntegerField()
    suppressed = models.BooleanField()
    respondents = models.PositiveIntegerField(null=True)
    ai_weekly_share = models.FloatField(null=True, help_text="% using AI at least weekly")
    ai_trust_share = models.FloatField(null=True, help_text="% trusting AI output a lot or more")
    # Weekly users minus trusting, in points, over respondents who answered both (n ≥ k).
    trust_gap = models.FloatField(null=True)
    trust_gap_low = models.FloatField(null=True)
    trust_gap_high = models.FloatField(null=True)
    trust_gap_n = models.PositiveIntegerField(null=True)

    def __str__(self) -> str:
        return f"Summary of {self.run}"


class QuestionAggregate(models.Model):
    """n, mean, spread, 95 % CI and distribution of one question in one run (n ≥ k only).

    The distribution is stored as counts alone — per scale step, per percentage bucket
    (stats.PERCENT_BUCKETS) or per option, in the question's order — and labelled, with
    no count under k, when read (`distribution`): labels belong to the question, and a
    recompute writes millions of these rows."""

    # The unique (run, question) index serves lookups by run; no index of its own.
    run = models.ForeignKey(
        PulseRun, on_delete=models.CASCADE, related_name="question_aggregates", db_index=False
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    position = models.PositiveSmallIntegerField(default=0)
    n = models.PositiveIntegerField()
    mean = models.FloatField(null=True)
    sd = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    counts = models.JSONField(default=list)

    class Meta:
        ordering = ("position",)
        constraints = [
            models.UniqueConstraint(fields=["run", "question"], name="one_aggregate_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id} in run {self.run_id}"

    @property
    def distribution(self) -> list[dict[str, Any]]:
        """The distribution as it may be shown, labelled: no count of 1 to k − 1 people
        (analytics.suppression). Scale steps and percentage buckets come in bins of
        adjacent steps merged until each holds 0 or at least the run's k ("Disagree –
        Neutral"); a multiple-choice option's count is None unless it and n minus it are
        each 0 or at least k. The stored `counts` are never shown as they are."""
        k = self.run.k
        rows = self._labelled()
        if self.question.kind == QuestionKind.MULTI:
            return [
                row | {"count": row["count"] if count_shown(row["count"], self.n, k) else None}
                for row in rows
            ]
        shown = []
        for steps in ordered_bins([row["count"] for row in rows], k):
            first, last = rows[steps.start], rows[steps.stop - 1]
            label = first["label"] if len(steps) == 1 else f"{first['label']} – {last['label']}"
            shown.append({"label": label, "count": sum(rows[i]["count"] for i in steps)})
        return shown

    def _labelled(self) -> list[dict[str, Any]]:
        """The stored counts with their labels (and values), as stats.distribution_scale,
        distribution_percent and distribution_multi give them."""
        question = self.question
        if question.kind == QuestionKind.MULTI:
            rows = [{"label": o["label"], "value": o["key"]} for o in question.options]
        elif question.kind == QuestionKind.PERCENT:
            rows = [{"label": label} for label, _, _ in PERCENT_BUCKETS]
        else:
            steps = range(question.scale_min, question.scale_max + 1)
            names = list(question.labels) or [str(step) for step in steps]
            rows = [{"label": name, "value": step} for name, step in zip(names, steps, strict=True)]
        return [row | {"count": count} for row, count in zip(rows, self.counts, strict=False)]


class ConstructAggregate(models.Model):
    """A construct's score in one run (n ≥ k only): 0–100 index, or % for perceived speed."""

    class Unit(models.TextChoices):
        INDEX = "index", "0–100 index"
        PERCENT = "percent", "%"

    # The unique (run, construct) index serves lookups by run; no index of its own.
    run = models.ForeignKey(
        PulseRun, on_delete=models.CASCADE, related_name="construct_aggregates", db_index=False
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    construct = models.CharField(max_length=32, choices=Construct.choices)
    unit = models.CharField(max_length=8, choices=Unit.choices)
    n = models.PositiveIntegerField()
    mean = models.FloatField()
    sd = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)

    class Meta:
        ordering = ("construct",)
        constraints = [
            models.UniqueConstraint(
                fields=["run", "construct"], name="one_aggregate_per_construct"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.construct} in run {self.run_id}"


class TeamPeriod(models.Model):
    """One team's pulse period with its survey figures and its Git metrics side by side:
    what the reports, charts, API and exports read (DESIGN.md §5). Recomputed whole per
    period by `analytics.periods.period_fill`; a figure whose inputs are under k is null.

    Measured change compares the period's mean weekly throughput with the team's baseline
    (weeks before `Team.ai_adopted_on`, or its first four weeks with delivery figures);
    positive is faster. The perception gap is perceived minus measured, in points.
    """

    run = models.OneToOneField(PulseRun, on_delete=models.CASCADE, related_name="team_period")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="periods")
    period_start = models.DateField()
    period_end = models.DateField()
    k = models.PositiveSmallIntegerField()
    respondents = models.PositiveIntegerField(null=True, help_text="null: under k")
    perceived = models.FloatField(null=True, help_text="mean perceived speed change, %")
    perceived_low = models.FloatField(null=True)
    perceived_high = models.FloatField(null=True)
    measured = models.FloatField(null=True, help_text="measured speed change, %")
    measured_low = models.FloatField(null=True)
    measured_high = models.FloatField(null=True)
    gap = models.FloatField(null=True, help_text="perception gap, points")
    gap_low = models.FloatField(null=True)
    gap_high = models.FloatField(null=True)
    trust_gap = models.FloatField(null=True, help_text="points")
    trust_gap_low = models.FloatField(null=True)
    trust_gap_high = models.FloatField(null=True)
    trust_gap_n = models.PositiveIntegerField(null=True, help_text="answered both items")
    ai_weekly_share = models.FloatField(null=True)
    ai_trust_share = models.FloatField(null=True)
    safety = models.FloatField(null=True, help_text="psychological-safety index, 0–100")
    safety_low = models.FloatField(null=True)
    safety_high = models.FloatField(null=True)
    safety_n = models.PositiveIntegerField(null=True)
    delivery_weeks = models.PositiveSmallIntegerField(
        default=0, help_text="weeks of the period with delivery figures (n ≥ k authors)"
    )
    delivery = models.JSONField(default=dict, help_text="the period's mean weekly figures")
    change_shown = models.BooleanField(
        default=False,
        help_text="whether the change from the period before may be shown: false when "
        "between 1 and k − 1 people joined or left in between (or there is none before)",
    )

    class Meta:
        ordering = ("team", "period_start", "run_id")
        indexes = [models.Index(fields=["team", "period_start"])]

    def __str__(self) -> str:
        return f"{self.team} {self.period_start}–{self.period_end}"


class TeamRollup(models.Model):
    """A team's subtree pooled for one ISO week (the weeks its teams' periods start in).

    Shown only when `analytics.suppression.tree_suppress` allows it; otherwise the row
    says why and holds no figure. `respondents` (people) is null whenever it is hidden.
    Published once every run of the week has closed: `runs` then freezes what it pools
    (see `analytics.rollups.rollups_refresh`); null while the week is still waiting.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rollups")
    week_start = models.DateField()
    k = models.PositiveSmallIntegerField()
    shown = models.BooleanField()
    teams = models.PositiveSmallIntegerField(help_text="teams with a closed run that week")
    respondents = models.PositiveIntegerField(null=True)
    perceived = models.FloatField(null=True)
    perceived_low = models.FloatField(null=True)
    perceived_high = models.FloatField(null=True)
    measured = models.FloatField(null=True)
    gap = models.FloatField(null=True)
    gap_low = models.FloatField(null=True)
    gap_high = models.FloatField(null=True)
    safety = models.FloatField(null=True)
    safety_low = models.FloatField(null=True)
    safety_high = models.FloatField(null=True)
    runs = models.JSONField(
        null=True,
        blank=True,
        help_text="ids of the closed runs it pools, frozen when its week is published; "
        "null while a run of the week is still open",
    )

    class Meta:
        ordering = ("team", "week_start")
        constraints = [
            models.UniqueConstraint(fields=["team", "week_start"], name="one_rollup_per_week"),
        ]

    def __str__(self) -> str:
        return f"{self.team} and sub-teams, week of {self.week_start}"

    @property
    def waiting(self) -> bool:
        """Whether a run of its week is still open, so nothing is published yet."""
        return self.runs is None


class TeamSnapshot(models.Model):
    """A team's heatmap row, kept by the reports refresh so the heatmap reads one row per
    team: each construct's latest cell (value, interval and n, or why there is none) and
    the latest perception and trust gaps. Built from the summary tables; nothing under k."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="snapshot")
    cells = models.JSONField(default=list)
    respondents = models.PositiveIntegerField(null=True)
    gap = models.FloatField(null=True)
    trust_gap = models.FloatField(null=True)
    trust_gap_n = models.PositiveIntegerField(null=True)
    has_period = models.BooleanField(default=False)
    refreshed_on = models.DateField()

    def __str__(self) -> str:
        return f"Heatmap row of {self.team}"


class SafetyAlert(models.Model):
    """A fall of a team's psychological-safety index under the rule of
    `analytics.gaps.safety_drop`; its managers are emailed once (`notified`). The alert is
    its own outbox: one not yet notified is sent again by a beat sweep, at most
    `NOTIFY_ATTEMPTS` times in all."""

    NOTIFY_ATTEMPTS = 5

    run = models.OneToOneField(PulseRun, on_delete=models.CASCADE, related_name="safety_alert")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="safety_alerts")
    period_start = models.DateField()
    index = models.FloatField(help_text="this period's index, 0–100")
    trailing_mean = models.FloatField(help_text="mean of the three periods before")
    notified = models.BooleanField(default=False)
    notify_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("-period_start", "team_id", "run_id")

    def __str__(self) -> str:
        return f"Safety fell in {self.team} ({self.period_start})"

    @property
    def points(self) -> float:
        return self.trailing_mean - self.index


class CorrelationResult(models.Model):
    """One coefficient between a survey figure and a delivery metric over team-periods:
    organisation-wide (scope_team null) or over one team's subtree. Only stored with at
    least `analytics.gaps.MIN_CORRELATION_PERIODS` team-periods."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    scope_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    x = models.CharField(max_length=40)
    y = models.CharField(max_length=40)
    method = models.CharField(max_length=10)
    variant = models.CharField(max_length=12)
    n = models.PositiveIntegerField()
    teams = models.PositiveIntegerField()
    r = models.FloatField()
    low = models.FloatField()
    high = models.FloatField()
    p = models.FloatField(null=True)

    class Meta:
        ordering = ("x", "y", "variant", "method")

    def __str__(self) -> str:
        return f"{self.method} {self.x}~{self.y} ({self.variant}) = {self.r:.2f}"


class PeriodFill(models.Model):
    """The fill state of one team-period, so the refresh job is safe to re-run after a
    crash: marked pending by a closing run, an import or the nightly sweep; a fill claims
    it, recomputes the period whole in one transaction and marks it done. A fill that
    died leaves it `filling`, which the next sweep takes up again after a grace time."""

    class State(models.TextChoices):
        PENDING = "pending"
        FILLING = "filling"
        DONE = "done"
        FAILED = "failed"

    run = models.OneToOneField(PulseRun, on_delete=models.CASCADE, related_name="period_fill")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.run} {self.state}"


# --- Git history -----------------------------------------------------------------------

RELEASE_PATTERN_DEFAULT = r"^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$"


class Repository(models.Model):
    """A Git repository whose history is imported for a team.

    `source` is what the admin gave (a path, or a URL that Candor mirrors into its data
    directory); `cursor_sha` is the tip imported last, so a re-import reads only what came
    after it.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="repositories"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="repositories")
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=1000)
    ref = models.CharField(
        max_length=200, blank=True, help_text="Branch to import; blank: HEAD's branch."
    )
    release_pattern = models.CharField(max_length=200, default=RELEASE_PATTERN_DEFAULT)
    cursor_sha = models.CharField(max_length=40, blank=True, editable=False)
    github_repository = models.CharField(
        max_length=200, blank=True, help_text="owner/name on GitHub, to sync pull requests"
    )
    github_synced_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_repository_name"),
        ]
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            re.compile(self.release_pattern)
        except re.error as error:
            raise ValidationError(
                {"release_pattern": f"Not a regular expression: {error}."}
            ) from None


class Contributor(models.Model):
    """A Git identity (email after .mailmap), mapped by an admin to a person; membership
    dates then decide which team each of their commits counts for. Never shown per person."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contributors"
    )
    email = models.CharField(max_length=320)
    name = models.CharField(max_length=300)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_bot = models.BooleanField(default=False)
    github_login = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email"], name="unique_contributor_email"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Commit(models.Model):
    """One commit of a repository, stored once; `reachable` turns false when a force push
    removed it from the imported branch, which drops it from metrics."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=40)
    author = models.ForeignKey(Contributor, on_delete=models.PROTECT, related_name="commits")
    authored_at = models.DateTimeField()
    committed_at = models.DateTimeField()
    parent_count = models.PositiveSmallIntegerField()
    is_merge = models.BooleanField()
    reverted_sha = models.CharField(max_length=40, blank=True)
    files_changed = models.PositiveIntegerField()
    additions = models.PositiveIntegerField()
    deletions = models.PositiveIntegerField()
    ai_tool = models.CharField(max_length=40, blank=True)
    reachable = models.BooleanField(default=True)
    deployed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the first release containing it was tagged."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "sha"], name="commit_stored_once"),
        ]
        indexes = [models.Index(fields=["repository", "committed_at"])]

    def __str__(self) -> str:
        return self.sha[:12]


class PullRequest(models.Model):
    """A pull request with the times its review metrics need; stored once per number and
    updated when imported again (it may have been merged or closed since)."""

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="pull_requests"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=500)
    author = models.ForeignKey(Contributor, on_delete=models.PROTECT, related_name="pull_requests")
    created_at = models.DateTimeField()
    merged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    first_review_at = models.DateTimeField(null=True, blank=True)
    review_count = models.PositiveIntegerField(default=0)
    additions = models.PositiveIntegerField()
    deletions = models.PositiveIntegerField()
    changed_files = models.PositiveIntegerField()
    base_ref = models.CharField(max_length=250, blank=True)
    head_ref = models.CharField(max_length=250, blank=True)
    merge_commit_sha = models.CharField(max_length=40, blank=True)
    labels = models.JSONField(default=list, blank=True)
    ai_tool = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "number"], name="pull_request_stored_once"
            ),
        ]
        indexes = [models.Index(fields=["repository", "merged_at"])]

    def __str__(self) -> str:
        return f"#{self.number}"


class Tag(models.Model):
    """A tag and the commit it points at; release tags (matching the pattern) are deployments."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=250)
    target_sha = models.CharField(max_length=40)
    tagged_at = models.DateTimeField()
    is_release = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "name"], name="unique_tag_name")
        ]

    def __str__(self) -> str:
        return self.name


class ImportRun(models.Model):
    """One import of a repository: what it read, added and dropped, and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="imports")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    commits_read = models.PositiveIntegerField(default=0)
    commits_added = models.PositiveIntegerField(default=0)
    commits_dropped = models.PositiveIntegerField(default=0)
    history_rewritten = models.BooleanField(default=False)
    tags = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"Import of {self.repository} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class AiAttributionRule(models.Model):
    """A string that marks a commit as AI-assisted, and the tool it names (case-insensitive).

    `trailer` rules match a trailer or message line ("co-authored-by: claude"), `message`
    rules anywhere in the message, `author` rules the author's "name <email>". Built-in
    rules (organisation null) are seeded by a migration; admins add their own.
    """

    class Kind(models.TextChoices):
        TRAILER = "trailer", "Trailer or message line"
        MESSAGE = "message", "Anywhere in the message"
        AUTHOR = "author", "Author name or email"

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="ai_rules"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    pattern = models.CharField(max_length=200)
    tool = models.CharField(max_length=40)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("kind", "pattern")

    def __str__(self) -> str:
        return f"{self.kind}: {self.pattern} → {self.tool}"


class TeamWeekDelivery(models.Model):
    """A team's delivery metrics for one ISO week (DESIGN.md §5), recomputed whole by
    `delivery_metrics_refresh`. A week with fewer than k active contributors is stored
    suppressed, with no numbers at all. Team level only: nothing here names a person."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="delivery_weeks")
    week_start = models.DateField()
    k = models.PositiveSmallIntegerField()
    suppressed = models.BooleanField()
    active_contributors = models.PositiveIntegerField(null=True)
    metrics = models.JSONField(default=dict)

    class Meta:
        ordering = ("team", "week_start")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "week_start"], name="one_delivery_row_per_team_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} week of {self.week_start}"


class Deployment(models.Model):
    """A production deployment imported from CSV; where a repository has these, they stand
    in for its release tags."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="deployments")
    external_id = models.CharField(max_length=200)
    deployed_at = models.DateTimeField()
    environment = models.CharField(max_length=100, default="production")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "external_id"], name="deployment_stored_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repository} deployed {self.deployed_at:%Y-%m-%d %H:%M}"


class Incident(models.Model):
    """A production incident imported from CSV: the failed deployment is the latest before
    it opened; resolved − opened is its time to restore."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="incidents")
    external_id = models.CharField(max_length=200)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    title = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "external_id"], name="incident_stored_once"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id
