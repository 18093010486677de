"""Reads of the summary tables for pages and the API. No aggregation happens here."""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics.models import ConstructAggregate, QuestionAggregate, RunSummary, TeamWeekDelivery
from surveys.models import Construct, PulseRun, RunStatus, Team

RESPONSE_RATE_MIN_INVITED = 5
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
    trust_gap: float | None = None  # weekly users − trusting, paired (RunSummary.trust_gap)
    questions: list[QuestionAggregate] = field(default_factory=list)
    constructs: list[ConstructAggregate] = field(default_factory=list)

    @property
    def by_construct(self) -> dict[str, ConstructAggregate]:
        return {aggregate.construct: aggregate for aggregate in self.constructs}


def _results_from(
    run: PulseRun, summary: RunSummary | None, questions: list, constructs: list
) -> RunResults:
    if summary is None:
        return RunResults(run=run, computed=False, suppressed=True, is_open=run.status == "open")
    if summary.suppressed or summary.respondents is None:
        return RunResults(run=run, computed=True, suppressed=True)
    rate = None
    if summary.invited >= RESPONSE_RATE_MIN_INVITED:
        rate = 100 * summary.respondents / summary.invited
    return RunResults(
        run=run,
        computed=True,
        suppressed=False,
        respondents=summary.respondents,
        response_rate=rate,
        ai_weekly_share=summary.ai_weekly_share,
        ai_trust_share=summary.ai_trust_share,
        trust_gap=summary.trust_gap,
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


CHARTS = (
    (
        Construct.PSYCHOLOGICAL_SAFETY,
        "Psychological safety (0–100)",
        0.0,
        100.0,
        (0, 25, 50, 75, 100),
    ),
    (
        Construct.PERCEIVED_SPEED,
        "Perceived speed change with AI (%)",
        -50.0,
        100.0,
        (-50, 0, 50, 100),
    ),
    (Construct.AI_TRUST, "Trust in AI output (0–100)", 0.0, 100.0, (0, 25, 50, 75, 100)),
)


def trend_charts(trend: list[RunResults]) -> list[dict]:
    from analytics.charts import Point, trend_chart

    charts = []
    for construct, title, y_min, y_max, ticks in CHARTS:
        series = construct_series(trend, construct)
        points = [
            Point(
                label=f"{run.period_start:%d %b}",
                value=None if aggregate is None else aggregate.mean,
                low=None if aggregate is None else aggregate.ci_low,
                high=None if aggregate is None else aggregate.ci_high,
            )
            for run, aggregate in series
        ]
        charts.append(
            {
                "construct": construct,
                "title": title,
                "series": series,
                "svg": trend_chart(points, y_min=y_min, y_max=y_max, ticks=ticks),
            }
        )
    return charts


@dataclass
class QuestionTrend:
    """One question's aggregate per run it was asked in; None where the run was hidden."""

    key: str
    text: str
    points: list[tuple[PulseRun, QuestionAggregate | None]]


def team_question_trends(*, team: Team) -> list[QuestionTrend]:
    """Every question the team was asked, across runs, oldest first (3 queries)."""
    from surveys.models import RunQuestion

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
        trend = trends.setdefault(question.pk, QuestionTrend(question.key, question.text, []))
        run = runs[run_question.run_id]
        trend.points.append((run, aggregates.get((run.pk, question.pk))))
    return sorted(trends.values(), key=lambda t: t.key)


def team_delivery_weeks(*, team: Team) -> list[TeamWeekDelivery]:
    """The team's delivery summary rows, oldest week first (one query)."""
    return list(TeamWeekDelivery.objects.filter(team=team).order_by("week_start"))
