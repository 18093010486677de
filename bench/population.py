"""The benchmark's data, built through the production services (import after django.setup()).

One organisation, one team of N engineers, a weekly pulse whose first run is open now, and
a fresh token for every invitation, so every submission request has its own valid link.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from bench.urls import BENCH_TABLE
from surveys.people.models import Membership, Organisation, Role, Team
from surveys.pulses import services
from surveys.pulses.models import (
    Answer,
    Cadence,
    Invitation,
    Pulse,
    PulseRun,
    Question,
    QuestionKind,
    Response,
)

BENCH_TABLE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {BENCH_TABLE} (id varchar(36) PRIMARY KEY, payload text NOT NULL)"
)
USERNAME_PREFIX = "bench-engineer-"


def bench_table_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(BENCH_TABLE_DDL)


def team_create(*, engineers: int) -> Team:
    """A team of `engineers` people who joined a month ago (unusable passwords)."""
    organisation = Organisation.objects.create(name="Bench Ltd", slug="bench")
    team = Team.objects.create(organisation=organisation, name="Bench", slug="bench")
    user_model = get_user_model()
    user_model.objects.bulk_create(
        user_model(username=f"{USERNAME_PREFIX}{i:06d}", password="!")  # noqa: S106
        for i in range(engineers)
    )
    user_ids = user_model.objects.filter(username__startswith=USERNAME_PREFIX).values_list(
        "pk", flat=True
    )
    joined = timezone.localdate() - timedelta(days=30)
    Membership.objects.bulk_create(
        Membership(user_id=user_id, team=team, role=Role.ENGINEER, start=joined)
        for user_id in user_ids
    )
    return team


def run_open(*, team: Team) -> PulseRun:
    """The pulse's first run, opened yesterday morning and open for a week."""
    pulse = Pulse.objects.create(
        team=team,
        cadence=Cadence.WEEKLY,
        start_date=timezone.localdate() - timedelta(days=1),
        answer_window_days=7,
    )
    run = services.pulse_run_ensure(pulse=pulse, sequence=0)
    return services.pulse_run_open(run_id=run.pk, send=False)


def tokens_issue(*, run: PulseRun) -> list[str]:
    """A fresh raw token for every invitation of the run (what the emails would carry)."""
    invitation_ids = run.invitations.order_by("pk").values_list("pk", flat=True)
    with transaction.atomic():
        raws = [services.invitation_token_issue(invitation_id=pk) for pk in invitation_ids]
    return [raw for raw in raws if raw is not None]


def _valid_value(question: Question) -> int | list[str]:
    if question.kind == QuestionKind.MULTI:
        return [question.options[0]["key"]]
    if question.kind == QuestionKind.PERCENT and question.scale_min <= 0 <= question.scale_max:
        return 0
    return question.scale_min


def answers_valid(*, run: PulseRun) -> dict[str, int | list[str]]:
    """A complete, valid answer set for the run's questions."""
    questions = [rq.question for rq in run.run_questions.select_related("question")]
    return {question.key: _valid_value(question) for question in questions}


def seed(*, invitations: int) -> dict[str, Any]:
    bench_table_create()
    run = run_open(team=team_create(engineers=invitations))
    return {"run_id": run.pk, "tokens": tokens_issue(run=run), "answers": answers_valid(run=run)}


def audit(*, run_id: int) -> dict[str, int]:
    """What the database holds after the load: the figures the integrity checks compare."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {BENCH_TABLE}")  # noqa: S608
        (bench_rows,) = cursor.fetchone()
    invitations = Invitation.objects.filter(run_id=run_id)
    return {
        "responses": Response.objects.filter(run_id=run_id).count(),
        "answers": Answer.objects.filter(response__run_id=run_id).count(),
        "questions": PulseRun.objects.get(pk=run_id).run_questions.count(),
        "invitations": invitations.count(),
        "invitations_used": invitations.filter(used=True).count(),
        "bench_rows": bench_rows,
    }
