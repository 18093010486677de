"""Reads for the insight pages, the API and the exports: summary tables only (RunSummary,
ConstructAggregate, QuestionAggregate, TeamPeriod, CorrelationResult, TeamRollup,
SafetyAlert, TeamWeekDelivery) — no aggregation of answers or commits in a request. Every
row here is already free of anything under k. Also the one declaration of a team-period's
exported columns (`EXPORT_COLUMNS`), which the CSV, the JSON API and its schema share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from analytics.insights import references, release
from analytics.insights.correlations import DELIVERY_FIGURES, SURVEY_FIGURES
from analytics.insights.models import (
    ConstructAggregate,
    CorrelationResult,
    QuestionAggregate,
    RunSummary,
    SafetyAlert,
    TeamPeriod,
    TeamRollup,
)
from analytics.insights.team_periods.figures import DELIVERY_KEYS, SPLIT_KEYS
from surveys.anonymity import response_rate_shown
from surveys.people.models import Team
from surveys.people.selectors import team_subtree_ids
from surveys.pulses.models import Construct, PulseRun, RunQuestion, RunStatus


class Column(NamedTuple):
    """An exported column of a team-period: its name, its kind (date, count — never null —
    text — blank when there is nothing to say — int or float, both null when hidden or not
    measured) and what it holds."""

    name: str
    kind: str = "float"
    help: str = ""


# A team-period's columns in the CSV and JSON exports, in order: a stable schema.
PERIOD_COLUMNS = (
    Column("period_start", "date"),
    Column("period_end", "date"),
    Column("respondents", "int", "null: fewer than k"),
    Column("perceived", help="mean felt speed change with AI, %"),
    Column("perceived_low"),
    Column("perceived_high"),
    Column(
        "measured",
        help="throughput change since the baseline, % (quasi-Poisson rate ratio, 95 % t "
        "interval allowing for overdispersion and autocorrelated weeks)",
    ),
    Column("measured_low"),
    Column("measured_high"),
    Column("measured_baseline_weeks", "int", "baseline weeks with throughput"),
    Column("measured_basis", "text", "what throughput counts: merged PRs or commits"),
    Column("measured_design", "text", "the baseline: adoption date or window"),
    Column("measured_reason", "text", "why there is no measured change (blank: there is)"),
    Column(
        "comparative",
        help="throughput change against the teams not yet adopting AI tools over the same "
        "weeks, % (difference in differences)",
    ),
    Column("comparative_low"),
    Column("comparative_high"),
    Column("comparative_teams", "int", "comparison teams"),
    Column(
        "gap",
        help="perception gap = felt speed − the comparative change (else the measured "
        "change), points (MOVER 95 % CI)",
    ),
    Column("gap_low"),
    Column("gap_high"),
    Column("gap_against", "text", "comparison, or baseline"),
    Column("ai_weekly_share", help="% using AI at least weekly (95 % Wilson CI, n = respondents)"),
    Column("ai_weekly_share_low"),
    Column("ai_weekly_share_high"),
    Column("ai_trust_share", help="% trusting AI output a lot or more (Wilson CI)"),
    Column("ai_trust_share_low"),
    Column("ai_trust_share_high"),
    Column(
        "trust_gap",
        help="weekly users − trusting, points (Newcombe's paired 95 % CI at the least "
        "favourable pairing the shares allow)",
    ),
    Column("trust_gap_low"),
    Column("trust_gap_high"),
    Column("trust_gap_n", "int", "people who answered (every question is required)"),
    Column("safety", help="psychological-safety index 0–100"),
    Column("safety_low"),
    Column("safety_high"),
    Column("safety_n", "int"),
    Column(
        "safety_items", "int", "safety items asked (the whole scale is 7; fewer: not the scale)"
    ),
    Column("delivery_weeks", "count", "weeks with ≥ k active contributors"),
)
DELIVERY_HELP = {
    "throughput": "merged PRs per active contributor-week (commits in a repository "
    "without PR data; a week without merges counts zero)",
    "commits": "non-merge commits per week",
    "merged_prs": "per week",
}
SPLIT_SIDES = {"ai": "AI-assisted PRs", "other": "other PRs"}
# The cycle time of AI-assisted vs other PRs at equal size (metrics.same_size_comparison).
SAME_SIZE_COLUMNS = (
    Column(
        "same_size_cycle_ratio",
        help="cycle time of AI-assisted ÷ other merged PRs at equal size, same weeks "
        "(log-linear with week effects; 1.5: half as long again)",
    ),
    Column("same_size_cycle_ratio_low"),
    Column("same_size_cycle_ratio_high"),
    Column("same_size_weeks", "int", "weeks the comparison is fitted on"),
)
SAME_SIZE_KEYS = {"ratio": "", "low": "_low", "high": "_high"}
EXPORT_COLUMNS = (
    *PERIOD_COLUMNS,
    *SAME_SIZE_COLUMNS,
    *(Column(key, help=DELIVERY_HELP.get(key, "")) for key in DELIVERY_KEYS),
    *(
        Column(f"{side}_{key}", help=label)
        for side, label in SPLIT_SIDES.items()
        for key in SPLIT_KEYS
    ),
)
PERIOD_FIELDS = [column.name for column in PERIOD_COLUMNS]
# Exported with their Wilson intervals, which period_row makes from the share and n.
SHARES = ("ai_weekly_share", "ai_trust_share")
SHARE_INTERVALS = {f"{share}{end}" for share in SHARES for end in ("_low", "_high")}
EXPORT_FIELDS = [column.name for column in EXPORT_COLUMNS]
RUN_HEADLINE_FIELDS = ("id", "team_id", "period_start", "status", "closes_at", "k")


@dataclass
class RunResults:
    run: PulseRun
    computed: bool
    suppressed: bool
    is_open: bool = False
    respondents: int | None = None
    response_rate: float | None = None
    ai_weekly_share: float | None = None
    ai_trust_share: float | None = None
    trust_gap: float | None = None  # weekly users − trusting (RunSummary.trust_gap)
    trust_gap_low: float | None = None
    trust_gap_high: float | None = None
    # The shown shares' 95 % Wilson intervals (from the share and n, both released).
    ai_weekly_share_low: float | None = None
    ai_weekly_share_high: float | None = None
    ai_trust_share_low: float | None = None
    ai_trust_share_high: float | None = None
    questions: list[QuestionAggregate] = field(default_factory=list)
    constructs: list[ConstructAggregate] = field(default_factory=list)

    @property
    def by_construct(self) -> dict[str, ConstructAggregate]:
        return {aggregate.construct: aggregate for aggregate in self.constructs}


def share_interval(share: float | None, n: int | None) -> tuple[float | None, float | None]:
    """A shown share's 95 % Wilson interval in %, from the share and its n (the count is
    share × n, both released); (None, None) for a withheld share."""
    if share is None or not n:
        return None, None
    return release.wilson(round(share * n / 100), n)


def _results_from(
    run: PulseRun, summary: RunSummary | None, questions: list, constructs: list
) -> RunResults:
    if summary is None:
        return RunResults(run=run, computed=False, suppressed=True, is_open=run.status == "open")
    if summary.suppressed or summary.respondents is None:
        return RunResults(run=run, computed=True, suppressed=True)
    rate = None
    if response_rate_shown(summary.invited):
        rate = 100 * summary.respondents / summary.invited
    weekly = share_interval(summary.ai_weekly_share, summary.respondents)
    trusting = share_interval(summary.ai_trust_share, summary.respondents)
    return RunResults(
        run=run,
        computed=True,
        suppressed=False,
        respondents=summary.respondents,
        ai_weekly_share_low=weekly[0],
        ai_weekly_share_high=weekly[1],
        ai_trust_share_low=trusting[0],
        ai_trust_share_high=trusting[1],
        response_rate=rate,
        ai_weekly_share=summary.ai_weekly_share,
        ai_trust_share=summary.ai_trust_share,
        trust_gap=summary.trust_gap,
        trust_gap_low=summary.trust_gap_low,
        trust_gap_high=summary.trust_gap_high,
        questions=questions,
        constructs=constructs,
    )


def run_results(*, run: PulseRun) -> RunResults:
    summary = RunSummary.objects.filter(run=run).first()
    questions = list(QuestionAggregate.objects.filter(run=run).select_related("question", "run"))
    constructs = list(ConstructAggregate.objects.filter(run=run))
    return _results_from(run, summary, questions, constructs)


def team_trend(*, team: Team) -> list[RunResults]:
    """Every opened run of a team, oldest first, with its construct scores (3 queries)."""
    runs = list(team.runs.exclude(status=RunStatus.SCHEDULED).order_by("period_start", "id"))
    summaries = {s.run_id: s for s in RunSummary.objects.filter(run__in=runs)}
    constructs: dict[int, list[ConstructAggregate]] = {}
    for aggregate in ConstructAggregate.objects.filter(run__in=runs):
        constructs.setdefault(aggregate.run_id, []).append(aggregate)
    return [
        _results_from(run, summaries.get(run.pk), [], constructs.get(run.pk, [])) for run in runs
    ]


def construct_series(
    trend: list[RunResults], construct: str
) -> list[tuple[PulseRun, ConstructAggregate | None]]:
    """One (run, aggregate or None when hidden) pair per run for a construct."""
    series = []
    for results in trend:
        match = next((c for c in results.constructs if c.construct == construct), None)
        series.append((results.run, match))
    return series


HEADLINE_CONSTRUCTS = (
    Construct.PERCEIVED_SPEED,
    Construct.AI_TRUST,
    Construct.AI_USAGE,
    Construct.PSYCHOLOGICAL_SAFETY,
)


def teams_latest(*, teams: list[Team]) -> list[tuple[Team, RunResults | None]]:
    """Each team with its latest closed run's results, or its open run while none has
    closed yet (3 queries in all)."""
    runs = PulseRun.objects.filter(team__in=teams).exclude(status=RunStatus.SCHEDULED)
    latest: dict[int, PulseRun] = {}
    for run in runs.order_by("period_start", "id").only(*RUN_HEADLINE_FIELDS):
        current = latest.get(run.team_id)
        if current is None or current.status != RunStatus.CLOSED or run.status == RunStatus.CLOSED:
            latest[run.team_id] = run
    summaries = {s.run_id: s for s in RunSummary.objects.filter(run__in=latest.values())}
    constructs: dict[int, list[ConstructAggregate]] = {}
    for aggregate in ConstructAggregate.objects.filter(run__in=latest.values()):
        constructs.setdefault(aggregate.run_id, []).append(aggregate)
    overview: list[tuple[Team, RunResults | None]] = []
    for team in teams:
        found = latest.get(team.pk)
        results = None
        if found is not None:
            results = _results_from(
                found, summaries.get(found.pk), [], constructs.get(found.pk, [])
            )
        overview.append((team, results))
    return overview


@dataclass
class QuestionTrend:
    """One question's aggregate per run it was asked in; None where the run was hidden."""

    key: str
    text: str
    kind: str
    points: list[tuple[PulseRun, QuestionAggregate | None]]


def team_question_trends(*, team: Team) -> list[QuestionTrend]:
    """Every question the team was asked, across runs, oldest first (3 queries)."""
    runs = {
        r.pk: r
        for r in team.runs.exclude(status=RunStatus.SCHEDULED).order_by("period_start", "id")
    }
    aggregates = {
        (a.run_id, a.question_id): a for a in QuestionAggregate.objects.filter(run_id__in=runs)
    }
    trends: dict[int, QuestionTrend] = {}
    asked = RunQuestion.objects.filter(run_id__in=runs).select_related("question")
    for run_question in asked.order_by("run__period_start", "run_id", "position"):
        question = run_question.question
        trend = trends.setdefault(
            question.pk, QuestionTrend(question.key, question.text, question.kind, [])
        )
        run = runs[run_question.run_id]
        trend.points.append((run, aggregates.get((run.pk, question.pk))))
    return sorted(trends.values(), key=lambda t: t.key)


def team_periods(*, team: Team) -> list[TeamPeriod]:
    return list(TeamPeriod.objects.filter(team=team).order_by("period_start", "run_id"))


def subtree_periods(*, team: Team) -> list[TeamPeriod]:
    """The periods of the team and every team below it (the scatter of a correlation)."""
    return list(TeamPeriod.objects.filter(team_id__in=team_subtree_ids(roots=[team.pk])))


def period_row(period: TeamPeriod) -> dict[str, Any]:
    """A team-period flattened to EXPORT_FIELDS (None where under k or not measured)."""
    row: dict[str, Any] = {
        name: getattr(period, name) for name in PERIOD_FIELDS if name not in SHARE_INTERVALS
    }
    for share in SHARES:
        row[f"{share}_low"], row[f"{share}_high"] = share_interval(
            getattr(period, share), period.respondents
        )
    row["period_start"] = period.period_start.isoformat()
    row["period_end"] = period.period_end.isoformat()
    for name in DELIVERY_KEYS:
        row[name] = period.delivery.get(name)
    same_size = period.delivery.get("ai_same_size") or {}
    for key, end in SAME_SIZE_KEYS.items():
        row[f"same_size_cycle_ratio{end}"] = same_size.get(key)
    row["same_size_weeks"] = same_size.get("weeks")
    split = period.delivery.get("ai_split", {})
    for side in ("ai", "other"):
        for name in SPLIT_KEYS:
            row[f"{side}_{name}"] = split.get(side, {}).get(name)
    return row


def correlations(*, team: Team | None, organisation_id: int) -> list[CorrelationResult]:
    return list(CorrelationResult.objects.filter(organisation_id=organisation_id, scope_team=team))


def correlation_table(rows: Sequence[CorrelationResult]) -> list[dict[str, Any]]:
    """Per (x, y) pair: the pooled and within-team Spearman and Pearson side by side."""
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        pair = pairs.setdefault(
            (row.x, row.y),
            {
                "x": row.x,
                "y": row.y,
                "x_label": SURVEY_FIGURES[row.x],
                "y_label": DELIVERY_FIGURES[row.y],
                "primary": row.primary,
            },
        )
        pair[f"{row.variant.replace('-', '_')}_{row.method}"] = row
    return list(pairs.values())


def rollups(*, team: Team) -> list[TeamRollup]:
    """The team's subtree roll-ups, newest first (none for a team without sub-teams)."""
    return list(TeamRollup.objects.filter(team=team).order_by("-week_start"))


def alerts(*, teams: Sequence[Team]) -> list[SafetyAlert]:
    return list(SafetyAlert.objects.filter(team__in=teams).select_related("team"))


REFERENCES = references.references_json()
