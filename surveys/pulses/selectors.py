"""Reads about pulses: the runs a person may see, the invitations they can still answer,
what the schedule makes due, and the question bank they may use."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from surveys.links.selectors import invitations_open
from surveys.people.access import team_ids_visible_to, visible_get
from surveys.people.selectors import AnyUser, memberships_active
from surveys.pulses.models import Invitation, PulseRun, Question, RunStatus


def run_get_visible(*, user: AnyUser, run_id: int) -> PulseRun:
    """An opened run of a team the person may see; Http404 otherwise."""
    opened = PulseRun.objects.exclude(status=RunStatus.SCHEDULED).select_related("team")
    return visible_get(opened, user=user, pk=run_id)


def runs_visible_to(*, user: AnyUser) -> QuerySet[PulseRun]:
    return (
        PulseRun.objects.filter(team_id__in=team_ids_visible_to(user=user))
        .exclude(status=RunStatus.SCHEDULED)
        .select_related("team")
    )


def pulse_runs_due(*, now: datetime) -> dict[str, list[int]]:
    """Ids of the runs to open, send invitations of, remind and close at `now`."""
    runs = PulseRun.objects.filter(pulse__active=True)
    due = {
        "open": runs.filter(status=RunStatus.SCHEDULED, opens_at__lte=now, closes_at__gt=now),
        "send": runs.filter(status=RunStatus.OPEN, invitations_pending=True, closes_at__gt=now),
        "remind": runs.filter(
            status=RunStatus.OPEN, reminders_sent=False, remind_at__lte=now, closes_at__gt=now
        ),
        "close": runs.filter(status=RunStatus.OPEN, closes_at__lte=now),
    }
    return {step: list(query.values_list("pk", flat=True)) for step, query in due.items()}


def questions_visible_to(*, user: AnyUser) -> QuerySet[Question]:
    """The built-in bank plus the questions of the person's organisations."""
    organisation_ids = memberships_active(user=user).values_list("team__organisation_id", flat=True)
    return Question.objects.filter(
        Q(organisation__isnull=True) | Q(organisation_id__in=organisation_ids), active=True
    )


def invitations_open_for(*, user: AnyUser) -> QuerySet[Invitation]:
    """Invitations the person can still answer from 'My pulses'."""
    return invitations_open(
        Invitation.objects.all(), user=user, window="run", open_status=RunStatus.OPEN
    )
