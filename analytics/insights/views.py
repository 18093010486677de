"""Result and insight pages: the teams at a glance, a team's and a run's results, the
organisation heatmap, a team's perception gap, trust gap, safety trend, delivery and
correlations, the alert list, a printable report, and their CSV downloads. Each reads
summary tables through analytics.insights.selectors; visibility through
surveys.people.access."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from analytics.delivery.selectors import team_delivery_weeks
from analytics.insights import gaps
from analytics.insights import heatmap as heatmaps
from analytics.insights import selectors as insights
from analytics.insights.charts import Point, trend_chart
from analytics.insights.correlations import DELIVERY_FIGURES, SURVEY_FIGURES
from surveys.anonymity import K_MIN
from surveys.people.access import team_get_visible, teams_visible_to, teams_visible_under
from surveys.people.models import Team
from surveys.pulses.models import Construct
from surveys.pulses.selectors import run_get_visible
from surveys.retros.selectors import retro_heatmap

# --- results: the teams at a glance, a team's runs, one run ---------------------------------

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


def trend_charts(trend: list[insights.RunResults]) -> list[dict]:
    charts = []
    for construct, title, y_min, y_max, ticks in CHARTS:
        series = insights.construct_series(trend, construct)
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


@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    teams = list(teams_visible_to(user=request.user).order_by("name"))
    overview = insights.teams_latest(teams=teams)
    return render(request, "insights/dashboard.html", {"overview": overview})


@login_required
@require_safe
def team_results(request: HttpRequest, slug: str) -> HttpResponse:
    team = team_get_visible(user=request.user, slug=slug)
    trend = insights.team_trend(team=team)
    charts = trend_charts(trend)
    return render(
        request,
        "insights/team_results.html",
        {
            "team": team,
            "trend": list(reversed(trend)),
            "charts": charts,
            "questions": insights.team_question_trends(team=team),
            "delivery": list(reversed(team_delivery_weeks(team=team)))[:12],
            "k": trend[-1].run.k if trend else K_MIN,
            "heatmap": retro_heatmap(team=team),
        },
    )


@login_required
@require_safe
def run_results(request: HttpRequest, run_id: int) -> HttpResponse:
    run = run_get_visible(user=request.user, run_id=run_id)
    return render(request, "insights/run_results.html", {"results": insights.run_results(run=run)})


# --- insights -------------------------------------------------------------------------------


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow("" if value is None else value for value in row)
    return response


HEATMAP_PAGE = 50  # teams per page


def _heatmap_teams(request: HttpRequest) -> tuple[QuerySet[Team], Team | None]:
    """The visible teams, under the team of `?under=` when given (404 for one the person
    can't see), and that team."""
    slug = request.GET.get("under")
    visible = teams_visible_to(user=request.user)
    root = get_object_or_404(visible, slug=slug) if slug else None
    return teams_visible_under(user=request.user, root=root), root


@login_required
@require_safe
def heatmap(request: HttpRequest) -> HttpResponse:
    teams, root = _heatmap_teams(request)
    page = Paginator(teams, HEATMAP_PAGE).get_page(request.GET.get("page"))
    rows = heatmaps.heatmap(teams=list(page))
    parents = teams_visible_to(user=request.user).filter(children__isnull=False)
    return render(
        request,
        "insights/heatmap.html",
        {
            "rows": rows,
            "page": page,
            "root": root,
            "parents": parents.distinct().order_by("name"),
            "constructs": rows[0].cells if rows else [],
            "k": K_MIN,
        },
    )


HEATMAP_CSV_TAIL = [
    "perception_gap",
    "perception_gap_low",
    "perception_gap_high",
    "perception_gap_n",
    "trust_gap",
    "trust_gap_low",
    "trust_gap_high",
    "trust_gap_n",
]


@login_required
@require_safe
def heatmap_csv(request: HttpRequest) -> HttpResponse:
    teams, _ = _heatmap_teams(request)
    rows = heatmaps.heatmap(teams=list(teams))
    constructs = [c.value for c in heatmaps.HEATMAP_CONSTRUCTS]
    header = [
        "team",
        *(f"{c}{suffix}" for c in constructs for suffix in ("", "_low", "_high", "_n", "_state")),
    ]

    def line(row: heatmaps.HeatmapRow) -> list[Any]:
        values: list[Any] = [row.team.name]
        for cell in row.cells:
            values += [cell.mean, cell.low, cell.high, cell.n, cell.state]
        latest = row.latest
        values += [
            latest.gap if latest else None,
            latest.gap_low if latest else None,
            latest.gap_high if latest else None,
            latest.respondents if latest and latest.gap is not None else None,
            latest.trust_gap if latest else None,
            latest.trust_gap_low if latest else None,
            latest.trust_gap_high if latest else None,
            latest.trust_gap_n if latest else None,
        ]
        return values

    return csv_response("candor-heatmap.csv", header + HEATMAP_CSV_TAIL, map(line, rows))


# The data-table alternative of each chart: (field, column heading).
TABLES = {
    "perception": [
        ("period_start", "Period"),
        ("respondents", "n"),
        ("perceived", "Felt %"),
        ("perceived_low", "CI low"),
        ("perceived_high", "CI high"),
        ("measured", "Throughput since baseline %"),
        ("measured_low", "CI low"),
        ("measured_high", "CI high"),
        ("comparative", "Against teams not yet using AI %"),
        ("comparative_low", "CI low"),
        ("comparative_high", "CI high"),
        ("gap", "Gap (points)"),
        ("gap_low", "CI low"),
        ("gap_high", "CI high"),
    ],
    "trust": [
        ("period_start", "Period"),
        ("respondents", "n"),
        ("ai_weekly_share", "Use weekly %"),
        ("ai_trust_share", "Trust %"),
        ("trust_gap", "Gap (points)"),
        ("trust_gap_low", "CI low"),
        ("trust_gap_high", "CI high"),
        ("trust_gap_n", "n (both items)"),
    ],
    "safety": [
        ("period_start", "Period"),
        ("safety_n", "n"),
        ("safety", "Index"),
        ("safety_low", "CI low"),
        ("safety_high", "CI high"),
        ("safety_items", "Items (of 7)"),
    ],
    "split": [
        ("period_start", "Period"),
        ("ai_merged_prs", "PRs a week, AI"),
        ("other_merged_prs", "PRs a week, other"),
        ("ai_pr_size_median", "PR size, AI"),
        ("other_pr_size_median", "PR size, other"),
        ("ai_cycle_median_h", "Cycle h, AI"),
        ("other_cycle_median_h", "Cycle h, other"),
        ("ai_review_median_h", "Review h, AI"),
        ("other_review_median_h", "Review h, other"),
        ("same_size_cycle_ratio", "Cycle ratio at equal size"),
        ("same_size_cycle_ratio_low", "CI low"),
        ("same_size_cycle_ratio_high", "CI high"),
    ],
}


def _pair(request: HttpRequest) -> tuple[str, str]:
    x = request.GET.get("x", "perceived")
    y = request.GET.get("y", "review_median_h")
    return (
        x if x in SURVEY_FIGURES else "perceived",
        y if y in DELIVERY_FIGURES else "review_median_h",
    )


def _safety_interval(period: Any) -> tuple[float, float, float] | None:
    """A period's released safety index with its interval, if shown."""
    figures = (period.safety, period.safety_low, period.safety_high)
    return None if None in figures else figures


def _team_context(request: HttpRequest, team: Team) -> dict[str, Any]:
    periods = insights.team_periods(team=team)
    rows = [insights.period_row(p) for p in periods]
    x, y = _pair(request)
    scatter = [
        {"x": getattr(p, x) if x in SURVEY_FIGURES else None, "y": p.delivery.get(y)}
        for p in insights.subtree_periods(team=team)
    ]
    correlations = insights.correlations(team=team, organisation_id=team.organisation_id)
    change = None
    # A change only between two indices of the same items (older runs asked 3 of the 7).
    same_items = len(periods) >= 2 and periods[-1].safety_items == periods[-2].safety_items
    if same_items and periods[-1].change_shown:
        before, now = _safety_interval(periods[-2]), _safety_interval(periods[-1])
        if before is not None and now is not None:
            change = gaps.mover_difference(now, before)
    return {
        "safety_change": change[0] if change else None,
        "safety_change_low": change[1] if change else None,
        "safety_change_high": change[2] if change else None,
        "change_withheld": len(periods) >= 2 and not periods[-1].change_shown,
        "rollups": insights.rollups(team=team),
        "team": team,
        "periods": periods,
        "rows": rows,
        "latest": periods[-1] if periods else None,
        "has_survey": any(p.respondents for p in periods),
        "has_delivery": any(p.delivery_weeks for p in periods),
        "correlations": insights.correlation_table(correlations),
        "scatter": [
            point for point in scatter if point["x"] is not None and point["y"] is not None
        ],
        "scatter_x": (x, SURVEY_FIGURES[x]),
        "scatter_y": (y, DELIVERY_FIGURES[y]),
        "survey_figures": SURVEY_FIGURES,
        "delivery_figures": DELIVERY_FIGURES,
        "minimum_periods": gaps.MIN_CORRELATION_PERIODS,
        "alerts": insights.alerts(teams=[team]),
        "chart": gaps.chart_terms(),
        "references": insights.REFERENCES,
        "tables": TABLES,
        "k": periods[-1].k if periods else K_MIN,
    }


@login_required
@require_safe
def team_insights(request: HttpRequest, slug: str) -> HttpResponse:
    team = team_get_visible(user=request.user, slug=slug)
    return render(request, "insights/team_insights.html", _team_context(request, team))


@login_required
@require_safe
def team_report(request: HttpRequest, slug: str) -> HttpResponse:
    """The same figures laid out for the browser's print to PDF."""
    team = team_get_visible(user=request.user, slug=slug)
    return render(request, "insights/report.html", _team_context(request, team))


@login_required
@require_safe
def team_insights_csv(request: HttpRequest, slug: str) -> HttpResponse:
    team = team_get_visible(user=request.user, slug=slug)
    rows = [insights.period_row(p) for p in insights.team_periods(team=team)]
    return csv_response(
        f"candor-{team.slug}-periods.csv",
        insights.EXPORT_FIELDS,
        ([row[name] for name in insights.EXPORT_FIELDS] for row in rows),
    )


@login_required
@require_safe
def alerts(request: HttpRequest) -> HttpResponse:
    found = insights.alerts(teams=list(teams_visible_to(user=request.user)))
    return render(request, "insights/alerts.html", {"alerts": found, "chart": gaps.chart_terms()})
