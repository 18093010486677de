"""The insight tables that pages and the API read: run aggregates, team-periods, roll-ups,
heatmap rows, safety alerts, correlations, and the fill state of team-periods. Nothing
under k is ever written here: a suppressed run has a summary row that says so and no
numbers at all."""

from __future__ import annotations

from typing import Any

from django.db import models

from analytics.insights.gaps import PRIMARY_PAIRS
from analytics.insights.stats import PERCENT_BUCKETS
from surveys.anonymity import count_shown, ordered_bins
from surveys.people.models import Organisation, Team
from surveys.pulses.models import Construct, PulseRun, Question, QuestionKind

# A run's headline figures beyond its respondents: what RunSummary stores and a
# team-period copies from it.
SUMMARY_FIGURES = (
    "ai_weekly_share",
    "ai_trust_share",
    "trust_gap",
    "trust_gap_low",
    "trust_gap_high",
    "trust_gap_n",
)


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
    """n, mean, 95 % CI and distribution of one question in one run (n ≥ k only), the mean
    and CI as the release layer lets them out (analytics.insights.release): multiples of
    `precision`, or null when no precision was safe. The SD is never stored (null): with
    n and the mean it pins counts.

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
    precision = models.FloatField(
        null=True, help_text="the grid the mean and CI are rounded to (null: withheld)"
    )
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
    """A construct's score in one run (n ≥ k only): 0–100 index, or % for perceived speed,
    computed from its items' released figures (analytics.insights.release); no SD."""

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
    precision = models.FloatField(
        null=True, help_text="the precision its items' released means carry, mapped"
    )
    items = models.PositiveSmallIntegerField(
        null=True, help_text="how many of the construct's items the run asked and released"
    )

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
    what the reports, charts, API and exports read (docs/DESIGN.md §5). Recomputed whole per
    period by `analytics.periods.period_fill`; a figure whose inputs are under k is null.

    The measured change is the throughput change since the team's baseline (its design:
    an adoption date or a baseline window, `figures.Design`) as a rate ratio in %, positive
    is more; `comparative` is the same against the teams not yet adopting (a difference in
    differences). Without a design, or inside the baseline, both are null and
    `measured_reason` says why. The perception gap is felt speed minus the comparative
    change where there is one, else the measured change, in points (`gap_against`).
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
    measured = models.FloatField(
        null=True, help_text="throughput change since the baseline (rate ratio), %"
    )
    measured_low = models.FloatField(null=True)
    measured_high = models.FloatField(null=True)
    measured_log_se = models.FloatField(null=True, help_text="SE of the log rate ratio")
    measured_df = models.FloatField(null=True, help_text="its degrees of freedom")
    measured_baseline_weeks = models.PositiveSmallIntegerField(null=True)
    measured_basis = models.CharField(
        max_length=200, blank=True, help_text="what throughput counts: merged PRs or commits"
    )
    measured_design = models.CharField(
        max_length=200, blank=True, help_text="the baseline: adoption date or window"
    )
    measured_reason = models.CharField(
        max_length=300, blank=True, help_text="why there is no measured change"
    )
    comparative = models.FloatField(
        null=True,
        help_text="throughput change against teams not yet adopting AI tools "
        "(difference in differences), %",
    )
    comparative_low = models.FloatField(null=True)
    comparative_high = models.FloatField(null=True)
    comparative_teams = models.PositiveSmallIntegerField(null=True)
    gap = models.FloatField(null=True, help_text="perception gap, points")
    gap_low = models.FloatField(null=True)
    gap_high = models.FloatField(null=True)
    gap_against = models.CharField(
        max_length=20, blank=True, help_text="comparison (teams not yet adopting) or baseline"
    )
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
    safety_items = models.PositiveSmallIntegerField(
        null=True, help_text="safety items the index is made of (the whole scale is 7)"
    )
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
    measured = models.FloatField(null=True, help_text="the teams' throughput changes, pooled")
    measured_low = models.FloatField(null=True)
    measured_high = models.FloatField(null=True)
    gap = models.FloatField(null=True)
    gap_low = models.FloatField(null=True)
    gap_high = models.FloatField(null=True)
    safety = models.FloatField(null=True)
    safety_low = models.FloatField(null=True)
    safety_high = models.FloatField(null=True)
    released = models.BooleanField(
        default=False,
        help_text="its survey figures come from stored noisy sums (RollupRelease); a shown "
        "row without gets them at the next refresh",
    )
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


class RollupRelease(models.Model):
    """The noisy sums of one construct over one set of runs — those that answered it —,
    drawn once (`analytics.insights.noise`) and kept: every roll-up pooling the same
    answers, now or after any refresh, re-publication or restructuring, shows the same
    draw. Holds nothing but noisy sums and the parameters they were drawn with."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    construct = models.CharField(max_length=32, choices=Construct.choices)
    runs_key = models.CharField(max_length=64, help_text="SHA-256 of the sorted run ids")
    runs = models.JSONField(help_text="ids of the runs whose answers it pools")
    total = models.BigIntegerField(help_text="noisy Σ (x − c), in grid units")
    squares = models.BigIntegerField(help_text="noisy Σ (x − c)², in grid units squared")
    low = models.FloatField()
    high = models.FloatField()
    total_scale = models.FloatField()
    squares_scale = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["construct", "runs_key"], name="one_draw_per_pool"),
        ]

    def __str__(self) -> str:
        return f"{self.construct} over {len(self.runs)} runs"


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
    gap_low = models.FloatField(null=True)
    gap_high = models.FloatField(null=True)
    trust_gap_low = models.FloatField(null=True)
    trust_gap_high = models.FloatField(null=True)
    has_period = models.BooleanField(default=False)
    refreshed_on = models.DateField()

    def __str__(self) -> str:
        return f"Heatmap row of {self.team}"


class SafetyAlert(models.Model):
    """A fall of a team's psychological-safety index flagged by the control chart of
    `analytics.insights.gaps.safety_chart` (an EWMA with a stated false-alarm rate); its
    managers are emailed once (`notified`). The alert is
    its own outbox: one not yet notified is sent again by a beat sweep, at most
    `NOTIFY_ATTEMPTS` times in all."""

    NOTIFY_ATTEMPTS = 5

    run = models.OneToOneField(PulseRun, on_delete=models.CASCADE, related_name="safety_alert")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="safety_alerts")
    period_start = models.DateField()
    index = models.FloatField(help_text="this period's index, 0–100")
    index_low = models.FloatField(null=True, help_text="its released 95 % interval")
    index_high = models.FloatField(null=True)
    n = models.PositiveIntegerField(null=True, help_text="respondents this period")
    trailing_mean = models.FloatField(help_text="mean of the periods before (the chart's window)")
    statistic = models.FloatField(
        null=True, help_text="the EWMA of standardised changes when it crossed the limit"
    )
    limit = models.FloatField(null=True, help_text="the control limit crossed (−h)")
    false_alarm_rate = models.FloatField(
        null=True, help_text="share of steady teams alerted by chance over the stated periods"
    )
    notified = models.BooleanField(default=False)
    notify_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("-period_start", "team_id", "run_id")

    def __str__(self) -> str:
        return f"Safety fell in {self.team} ({self.period_start})"

    @property
    def points(self) -> float:
        return self.trailing_mean - self.index

    @property
    def false_alarm_percent(self) -> float | None:
        return None if self.false_alarm_rate is None else 100 * self.false_alarm_rate


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
    q = models.FloatField(
        null=True,
        help_text="Benjamini–Hochberg q over its scope's coefficients of its variant and method",
    )

    class Meta:
        ordering = ("x", "y", "variant", "method")

    def __str__(self) -> str:
        return f"{self.method} {self.x}~{self.y} ({self.variant}) = {self.r:.2f}"

    @property
    def primary(self) -> bool:
        """One of the pairs declared before the data (the rest are exploratory)."""
        return (self.x, self.y) in PRIMARY_PAIRS


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


class ReleaseTable(models.Model):
    """The disclosure audit's table of one universe (a question shape, n, the bins and k;
    `surveys.disclosure`), kept so that a refresh does not enumerate it again: every
    (Σ x, Σ x²) the universe can have, with the level it is published at. A function of
    published parameters alone — no answers, no people — named by a hash that includes
    the audit's version."""

    key = models.CharField(max_length=64, unique=True)
    capped = models.BooleanField(default=False, help_text="too large to enumerate: no mean")
    rows = models.BinaryField(help_text="int64 triples (Σ x, Σ x², level), little-endian")

    def __str__(self) -> str:
        return f"Release table {self.key[:12]}"
