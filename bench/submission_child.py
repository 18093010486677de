"""`python -m bench.submission_child seed|audit`: the Django side of the submission
benchmark, in a process of its own so that the parent stays free of Django.

Run with DJANGO_SETTINGS_MODULE=bench.settings against the benchmark database (the parent,
bench.submission, makes a fresh one per backend); prints one JSON line on stdout.

  seed   one organisation, one team of N engineers, a weekly pulse whose first run is open
         now, and a fresh token for every invitation, so every submission request has its
         own valid link; built through the production services
  audit  what the database holds after the load: the sealed submissions of the open run,
         then — after closing it through the production service, which opens them — the
         responses and answers: the figures the integrity checks compare
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import django

from bench.harness import emit

if TYPE_CHECKING:
    from surveys.people.models import Team
    from surveys.pulses.models import PulseRun, Question

USERNAME_PREFIX = "bench-engineer-"


def bench_table_create() -> None:
    from django.db import connection

    from bench.urls import BENCH_TABLE

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {BENCH_TABLE} "
            "(id varchar(36) PRIMARY KEY, payload text NOT NULL)"
        )


def team_create(*, engineers: int) -> Team:
    """A team of `engineers` people who joined a month ago (unusable passwords)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from surveys.people.models import Membership, Organisation, Role, Team

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
    from django.utils import timezone

    from surveys.pulses import services
    from surveys.pulses.models import Cadence, Pulse

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
    from django.db import transaction

    from surveys.pulses import services

    invitation_ids = run.invitations.order_by("pk").values_list("pk", flat=True)
    with transaction.atomic():
        raws = [services.invitation_token_issue(invitation_id=pk) for pk in invitation_ids]
    return [raw for raw in raws if raw is not None]


def _valid_value(question: Question) -> int | list[str]:
    from surveys.pulses.models import QuestionKind

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


def audit(*, run_id: int) -> dict[str, Any]:
    """What the database holds after the load: the figures the integrity checks compare.
    Submissions are sealed while the run is open (surveys/links/sealing.py): they are
    counted, then the run is closed as beat would close it (timed), which writes them as
    responses and answers, and those are counted."""
    from django.db import connection

    from bench.urls import BENCH_TABLE
    from surveys.pulses import services
    from surveys.pulses.models import Answer, Invitation, PulseRun, Response, SealedResponse

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {BENCH_TABLE}")  # noqa: S608
        (bench_rows,) = cursor.fetchone()
    invitations = Invitation.objects.filter(run_id=run_id)
    sealed = SealedResponse.objects.filter(run_id=run_id).count()
    started = time.perf_counter()
    services.pulse_run_close(run_id=run_id)
    close_seconds = time.perf_counter() - started
    return {
        "sealed": sealed,
        "close_seconds": round(close_seconds, 3),
        "sealed_after_close": SealedResponse.objects.filter(run_id=run_id).count(),
        "responses": Response.objects.filter(run_id=run_id).count(),
        "answers": Answer.objects.filter(response__run_id=run_id).count(),
        "questions": PulseRun.objects.get(pk=run_id).run_questions.count(),
        "invitations": invitations.count(),
        "invitations_used": invitations.filter(used=True).count(),
        "bench_rows": bench_rows,
    }


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.submission_child")
    commands = parser.add_subparsers(dest="command", required=True)
    seed_command = commands.add_parser("seed", help="the team, the open run and its tokens")
    seed_command.add_argument("--invitations", type=int, required=True)
    audit_command = commands.add_parser(
        "audit", help="count sealed rows; close the run; count responses, answers, invitations"
    )
    audit_command.add_argument("--run-id", type=int, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    django.setup()
    if arguments.command == "seed":
        emit("seed", **seed(invitations=arguments.invitations))
    else:
        emit("audit", **audit(run_id=arguments.run_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
