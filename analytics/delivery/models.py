"""The delivery tables: repositories and their imports, Git identities, commits, pull
requests, tags, deployments and incidents — and the team-week delivery figures computed
from them. Team level only: no page, API or export lists a person's commits or PRs."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from surveys.people.models import Organisation, Team

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
    """A team's delivery metrics for one ISO week (docs/DESIGN.md §5), recomputed whole by
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
