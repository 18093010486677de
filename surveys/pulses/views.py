"""Answering a pulse: from the single-use link (no login) or logged in under "My pulses",
one flow for both. Reads through selectors, writes through `response_submit`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from surveys.links.views import link_page
from surveys.pulses import selectors, services
from surveys.pulses.models import PERCENT_STEPS, Invitation, QuestionKind


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
    """Show the pulse form, or submit it through `response_submit`; one flow for link and
    login. A link that cannot be used (any more) is the caller's `link_page`'s to show."""
    errors: dict[str, list[str]] = {}
    submitted: dict[str, Any] = {}
    if request.method == "POST":
        submitted = _answers_from_post(request, invitation)
        try:
            services.response_submit(invitation=invitation, answers=submitted)
        except ValidationError as error:
            errors = error.message_dict
        else:
            return render(request, "pulses/thanks.html", {"run": invitation.run})
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
    return render(request, "pulses/answer.html", context, status=400 if errors else 200)


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


@link_page()
def pulse_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The single-use link from the invitation email; no login needed."""
    return _answer_flow(request, services.invitation_redeem(raw_token=token))


@never_cache
@login_required
@require_safe
def my_pulses(request: HttpRequest) -> HttpResponse:
    invitations = selectors.invitations_open_for(user=request.user).order_by("run__closes_at")
    return render(request, "pulses/my_pulses.html", {"invitations": invitations})


@link_page(logged_in=True)
def my_pulse_answer(request: HttpRequest, run_id: int) -> HttpResponse:
    invitation = selectors.invitations_open_for(user=request.user).filter(run_id=run_id).first()
    if invitation is None:
        raise Http404("No open pulse to answer here.")
    return _answer_flow(request, invitation)
