"""Retro pages. Each view reads through selectors and writes through services.

Writing cards: from the single-use link (no login) or logged in, one flow for both.
Running a retro (facilitators, managers, admins): create a session, follow the count,
read the board (which publishes: surveys/retros/board.py), export, close it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from surveys.links.views import link_page, link_problem
from surveys.people.access import (
    team_get_runnable,
    team_get_visible,
    team_ids_runnable_by,
    teams_visible_to,
)
from surveys.retros import board, selectors, services
from surveys.retros.errors import RetroBoardHidden
from surveys.retros.exports import CONTENT_TYPES, FORMATS, document_render
from surveys.retros.forms import CardsForm, RetroSessionForm
from surveys.retros.models import RetroInvitation, RetroSession
from surveys.retros.participation import Participation

# Where a link that cannot be used sends people who have an account.
ELSEWHERE = ("My retros", "my-retros")


def _write_flow(request: HttpRequest, invitation: RetroInvitation) -> HttpResponse:
    """Show the card form, or submit it through `retro_response_submit`. A link that cannot
    be used (any more) is the caller's `link_page`'s to show."""
    session = invitation.session
    prompts = list(session.prompts.all())
    data = request.POST if request.method == "POST" else None
    form = CardsForm.for_prompts(prompts, data)
    if data is not None:
        try:
            services.retro_response_submit(invitation=invitation, cards=form.cards())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            return render(request, "retros/thanks.html", {"session": session})
    context = {"session": session, "form": form}
    return render(request, "retros/write.html", context, status=400 if form.has_errors else 200)


@link_page(elsewhere=ELSEWHERE)
def retro_write(request: HttpRequest, token: str) -> HttpResponse:
    """The single-use link from the retro email; no login needed."""
    return _write_flow(request, services.retro_invitation_redeem(raw_token=token))


@link_page(logged_in=True, elsewhere=ELSEWHERE)
def my_retro_write(request: HttpRequest, session_id: int) -> HttpResponse:
    invitation = (
        selectors.retro_invitations_open_for(user=request.user)
        .filter(session_id=session_id)
        .first()
    )
    if invitation is None:
        raise Http404("No open retro to write cards for here.")
    return _write_flow(request, invitation)


def _with_participation(
    sessions: Iterable[RetroSession],
) -> list[tuple[RetroSession, Participation]]:
    """Each listed session with what may be said of who took part in it."""
    return [(session, selectors.retro_participation(session)) for session in sessions]


@never_cache
@login_required
@require_safe
def my_retros(request: HttpRequest) -> HttpResponse:
    invitations = selectors.retro_invitations_open_for(user=request.user).order_by(
        "session__closes_at"
    )
    runnable = team_ids_runnable_by(user=request.user)
    sessions = _with_participation(selectors.retro_sessions_listed(team_ids=runnable)[:20])
    teams = teams_visible_to(user=request.user).filter(pk__in=runnable).order_by("name")
    context = {"invitations": invitations, "sessions": sessions, "teams": teams}
    return render(request, "retros/my_retros.html", context)


@login_required
@require_safe
def team_retros(request: HttpRequest, slug: str) -> HttpResponse:
    """A team's sessions and who took part, as far as it may be said (for everyone who
    sees the team)."""
    team = team_get_visible(user=request.user, slug=slug)
    context = {
        "team": team,
        "sessions": _with_participation(selectors.retro_sessions_listed(team_ids=[team.pk])),
        "runs_retros": team.pk in team_ids_runnable_by(user=request.user),
    }
    return render(request, "retros/team.html", context)


def _default_closing() -> datetime:
    """Two days from now at 17:00 local time: cards in before a typical retro."""
    day = timezone.localdate() + timedelta(days=2)
    return timezone.make_aware(datetime.combine(day, time(17, 0)))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def retro_session_new(request: HttpRequest, slug: str) -> HttpResponse:
    team = team_get_runnable(user=request.user, slug=slug)
    organisation_ids = [team.organisation_id]
    library = selectors.retro_prompts_for(organisation_ids=organisation_ids)
    prompt_sets = list(selectors.retro_prompt_sets_for(organisation_ids=organisation_ids))
    chosen_set = next((s for s in prompt_sets if str(s.pk) == request.GET.get("set")), None)
    initial_prompts = (
        [item.prompt_id for item in chosen_set.items.all()]
        if chosen_set
        else list(library.filter(organisation__isnull=True).values_list("pk", flat=True))
    )
    today = timezone.localdate()
    initial = {
        "sprint_start": today - timedelta(days=13),
        "sprint_end": today,
        "closes_at": _default_closing(),
        "prompts": initial_prompts,
    }
    form = RetroSessionForm(request.POST or None, prompts=library, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.retro_session_create(
                team=team, created_by=request.user, **form.service_arguments()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            invited = session.invitations.count()
            messages.success(
                request, f"{session.label} is open: {invited} people get their link by email."
            )
            return redirect("retro-session", session.pk)
    context = {"team": team, "form": form, "prompt_sets": prompt_sets, "chosen_set": chosen_set}
    return render(request, "retros/new.html", context, status=400 if form.errors else 200)


def _board_context(session: RetroSession) -> dict[str, object]:
    return {"session": session, "board": board.retro_board(session=session)}


@never_cache
@login_required
@require_safe
def retro_session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.retro_session_get_runnable(user=request.user, session_id=session_id)
    return render(request, "retros/session.html", _board_context(session))


@never_cache
@login_required
@require_safe
def retro_session_print(request: HttpRequest, session_id: int) -> HttpResponse:
    """The prompts and shared cards laid out for the browser's print to PDF."""
    session = selectors.retro_session_get_runnable(user=request.user, session_id=session_id)
    return render(request, "retros/print.html", _board_context(session))


@login_required
@require_POST
def retro_session_close(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.retro_session_get_runnable(user=request.user, session_id=session_id)
    services.retro_session_close(session_id=session.pk)
    messages.success(request, f"{session.label} is closed: links no longer work.")
    return redirect("retro-session", session.pk)


@never_cache
@login_required
@require_safe
def retro_session_export(request: HttpRequest, session_id: int, export_format: str) -> HttpResponse:
    """A download: ?prompts=only for the prompts alone, else the prompts and shared cards."""
    if export_format not in FORMATS:
        raise Http404("Unknown export format.")
    session = selectors.retro_session_get_runnable(user=request.user, session_id=session_id)
    prompts_only = request.GET.get("prompts") == "only"
    try:
        document = board.retro_document(session=session, with_cards=not prompts_only)
    except RetroBoardHidden as error:
        back = (session.label, reverse("retro-session", args=[session.pk]))
        return link_problem(request, error, back=back)
    response = HttpResponse(
        document_render(document, export_format), content_type=CONTENT_TYPES[export_format]
    )
    name = slugify(f"{session.team.name} {session.label} {'prompts' if prompts_only else 'cards'}")
    response["Content-Disposition"] = f'attachment; filename="{name}.{export_format}"'
    return response
