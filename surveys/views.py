"""Server-rendered pages. Each view reads through selectors and writes through services."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from analytics import selectors as results
from surveys import selectors, services
from surveys.errors import PulseError
from surveys.models import K_MIN, PERCENT_STEPS, Invitation, QuestionKind
from surveys.retros import selectors as retros
from surveys.throttling import link_throttled


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return redirect("dashboard" if request.user.is_authenticated else "login")


def _answers_from_post(request: HttpRequest, invitation: Invitation) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for run_question in invitation.run.run_questions.select_related("question"):
        key = run_question.question.key
        if run_question.question.kind == QuestionKind.MULTI:
            answers[key] = request.POST.getlist(key)
        else:
            answers[key] = request.POST.get(key)
    return answers


def _answer_flow(request: HttpRequest, invitation: Invitation) -> HttpResponse:
    """Show the pulse form, or submit it through `response_submit`; one flow for link and login."""
    errors: dict[str, list[str]] = {}
    submitted: dict[str, Any] = {}
    if request.method == "POST":
        submitted = _answers_from_post(request, invitation)
        try:
            services.response_submit(invitation=invitation, answers=submitted)
        except ValidationError as error:
            errors = error.message_dict
        except PulseError as error:
            return _link_problem(request, error)
        else:
            return render(request, "surveys/thanks.html", {"run": invitation.run})
    questions = [
        {
            "question": rq.question,
            "number": number,
            "errors": errors.get(rq.question.key, []),
            "value": submitted.get(rq.question.key),
            "steps": _steps(rq.question),
        }
        for number, rq in enumerate(
            invitation.run.run_questions.select_related("question"), start=1
        )
    ]
    context = {"run": invitation.run, "questions": questions, "has_errors": bool(errors)}
    return render(request, "surveys/answer.html", context, status=400 if errors else 200)


def _steps(question: Any) -> list[dict[str, Any]]:
    if question.kind == QuestionKind.MULTI:
        return [{"value": o["key"], "label": o["label"]} for o in question.options]
    if question.kind == QuestionKind.PERCENT:
        steps = [v for v in PERCENT_STEPS if question.scale_min <= v <= question.scale_max]
        return [{"value": str(v), "label": f"{v:+d} %" if v else "0 %"} for v in steps]
    labels = question.labels or [str(v) for v in range(question.scale_min, question.scale_max + 1)]
    return [
        {"value": str(question.scale_min + i), "label": label} for i, label in enumerate(labels)
    ]


def _link_problem(request: HttpRequest, error: PulseError) -> HttpResponse:
    context = {"title": error.title, "message": error.message}
    return render(request, "surveys/link_problem.html", context, status=error.status_code)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@link_throttled
def pulse_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The single-use link from the invitation email; no login needed."""
    try:
        invitation = services.invitation_redeem(raw_token=token)
    except PulseError as error:
        return _link_problem(request, error)
    return _answer_flow(request, invitation)


@never_cache
@login_required
@require_safe
def my_pulses(request: HttpRequest) -> HttpResponse:
    invitations = selectors.invitations_open_for(user=request.user).order_by("run__closes_at")
    return render(request, "surveys/my_pulses.html", {"invitations": invitations})


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_pulse_answer(request: HttpRequest, run_id: int) -> HttpResponse:
    invitation = selectors.invitations_open_for(user=request.user).filter(run_id=run_id).first()
    if invitation is None:
        raise Http404("No open pulse to answer here.")
    return _answer_flow(request, invitation)


@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    teams = list(selectors.teams_visible_to(user=request.user).order_by("name"))
    overview = results.teams_latest(teams=teams)
    return render(request, "surveys/dashboard.html", {"overview": overview})


@login_required
@require_safe
def team_results(request: HttpRequest, slug: str) -> HttpResponse:
    team = selectors.team_get_visible(user=request.user, slug=slug)
    trend = results.team_trend(team=team)
    charts = results.trend_charts(trend)
    return render(
        request,
        "surveys/team.html",
        {
            "team": team,
            "trend": list(reversed(trend)),
            "charts": charts,
            "questions": results.team_question_trends(team=team),
            "delivery": list(reversed(results.team_delivery_weeks(team=team)))[:12],
            "k": trend[-1].run.k if trend else K_MIN,
            "heatmap": retros.retro_heatmap(team=team),
        },
    )


@login_required
@require_safe
def run_results(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_get_visible(user=request.user, run_id=run_id)
    return render(request, "surveys/run.html", {"results": results.run_results(run=run)})
