"""Every write about pulses, in one place: the API, the pages, the admin, the CLI and the
Celery tasks all call these functions.

Contracts worth knowing:
- `pulse_run_open`, `pulse_run_remind`, `pulse_run_close` and `invitations_send` are
  idempotent: re-running one after a crash sends no second email and creates nothing twice.
- `response_submit` writes the anonymous response and flips the invitation's `used` flag
  in one transaction; a conditional UPDATE makes concurrent submissions of one link yield
  exactly one response.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from config.celery import enqueue_on_commit
from surveys import emails
from surveys.answers import QuestionSpec, answers_clean
from surveys.errors import (
    InvitationNotFound,
    InvitationsNotSent,
    InvitationUsed,
    RunClosed,
    RunNotOpen,
)
from surveys.models import (
    EMAIL_ATTEMPTS_MAX,
    Answer,
    Construct,
    Invitation,
    Pulse,
    PulseRun,
    Question,
    Response,
    Role,
    RunQuestion,
    RunStatus,
)
from surveys.periods import period_bounds, period_sequence_on
from surveys.rotation import rotation_for_run
from surveys.selectors import invitee_ids, memberships_active
from surveys.tokens import token_hash, token_new

logger = logging.getLogger(__name__)

OPEN_HOUR = time(9, 0)
REWRITE_CHUNK = 500
WindowT = TypeVar("WindowT", bound=models.Model)
InvitationT = TypeVar("InvitationT", bound=models.Model)


def _at_opening_hour(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, OPEN_HOUR))


def pulse_run_ensure(*, pulse: Pulse, sequence: int) -> PulseRun:
    """The run for period `sequence` of a pulse, created (scheduled) if it does not exist."""
    start, end = period_bounds(
        cadence=pulse.cadence,
        start_date=pulse.start_date,
        sequence=sequence,
        sprint_length_days=pulse.sprint_length_days,
    )
    opens_at = _at_opening_hour(start)
    closes_at = opens_at + timedelta(days=pulse.answer_window_days)
    reminder_lead = timedelta(days=1) if pulse.answer_window_days >= 2 else timedelta(hours=12)
    run, _ = PulseRun.objects.get_or_create(
        pulse=pulse,
        sequence=sequence,
        defaults={
            "team": pulse.team,
            "period_start": start,
            "period_end": end,
            "opens_at": opens_at,
            "remind_at": closes_at - reminder_lead,
            "closes_at": closes_at,
            "k": pulse.k,
        },
    )
    return run


def _rotation_questions(run: PulseRun) -> list[Question]:
    bank = list(
        Question.objects.filter(active=True)
        .filter(Q(organisation__isnull=True) | Q(organisation_id=run.team.organisation_id))
        .order_by("rotation_order", "key")
    )
    core = [q.key for q in bank if q.is_core]
    safety = [
        q.key for q in bank if not q.is_core and q.construct == Construct.PSYCHOLOGICAL_SAFETY
    ]
    others = [
        q.key for q in bank if not q.is_core and q.construct != Construct.PSYCHOLOGICAL_SAFETY
    ]
    keys = rotation_for_run(core=core, safety=safety, others=others, sequence=run.sequence)
    by_key = {q.key: q for q in bank}
    return [by_key[key] for key in keys]


def pulse_run_open(*, run_id: int, send: bool = True) -> PulseRun:
    """Open a scheduled run: lock k, fix its questions, invite who is on the team today.

    Invitees are the engineers and facilitators whose membership covers the opening date.
    Invitation emails go out after commit through `invitations_send`; `invitations_pending`
    stays set until they have, so the minute tick sends them if that task is lost.
    """
    with transaction.atomic():
        run = PulseRun.objects.select_for_update().select_related("pulse", "team").get(pk=run_id)
        if run.status != RunStatus.SCHEDULED:
            return run
        run.k = max(run.pulse.k, run.k)
        run.status = RunStatus.OPEN
        questions = _rotation_questions(run)
        RunQuestion.objects.bulk_create(
            RunQuestion(run=run, question=question, position=position)
            for position, question in enumerate(questions)
        )
        run.form = [_question_spec(question).as_json() for question in questions]
        run.save(update_fields=["k", "status", "form"])
        invitees = invitee_ids(team_id=run.team_id, day=timezone.localdate(run.opens_at))
        Invitation.objects.bulk_create(
            [Invitation(run=run, user_id=user_id) for user_id in invitees], ignore_conflicts=True
        )
        if send:
            from surveys.tasks import invitations_send_task

            run.invitations_pending = True
            run.save(update_fields=["invitations_pending"])
            enqueue_on_commit(invitations_send_task, run.pk)
    return run


def invitation_token_issue(*, invitation_id: int, reminder: bool = False) -> str | None:
    """Claim an invitation for sending and give it a fresh token; None if already claimed.

    The claim is a conditional UPDATE, so two workers racing on one invitation issue one
    token and send one email. It counts an attempt, and none is made past
    EMAIL_ATTEMPTS_MAX.
    """
    raw, hashed = token_new()
    claimable = Invitation.objects.filter(pk=invitation_id, send_attempts__lt=EMAIL_ATTEMPTS_MAX)
    attempt = {"send_attempts": F("send_attempts") + 1}
    if reminder:
        claimed = claimable.filter(reminded=False, used=False).update(
            reminded=True, reminder_token_hash=hashed, **attempt
        )
    else:
        claimed = claimable.filter(sent=False).update(sent=True, token_hash=hashed, **attempt)
    return raw if claimed else None


def invitations_send(*, run_id: int, reminder: bool = False) -> int:
    """Email every invitation of a run that has not had this email yet; returns how many.
    At most once per invitation, see `links_email`. Once nobody is left to try, the run's
    outbox flag says so (`invitations_pending` off, or `reminders_sent` on)."""
    pending = Invitation.objects.filter(
        run_id=run_id, run__status=RunStatus.OPEN, send_attempts__lt=EMAIL_ATTEMPTS_MAX
    )
    pending = pending.filter(reminded=False, used=False) if reminder else pending.filter(sent=False)
    release = (
        {"reminded": False, "reminder_token_hash": None}
        if reminder
        else {
            "sent": False,
            "token_hash": None,
        }
    )
    done = {"reminders_sent": True} if reminder else {"invitations_pending": False}
    return links_email(
        pending.select_related("user", "run__team"),
        claim=lambda pk: invitation_token_issue(invitation_id=pk, reminder=reminder),
        send=lambda invitation, raw: emails.invitation_email_send(
            invitation=invitation, raw_token=raw, reminder=reminder
        ),
        release=lambda pk: Invitation.objects.filter(pk=pk).update(**release),
        done=lambda: PulseRun.objects.filter(pk=run_id).update(**done),
        of=f"run {run_id}",
    )


def links_email(
    pending: QuerySet[InvitationT],
    *,
    claim: Callable[[int], str | None],
    send: Callable[[InvitationT, str], None],
    release: Callable[[int], object],
    done: Callable[[], object],
    of: str,
) -> int:
    """Claim each pending invitation (a fresh token, or None if another worker has it or
    its attempts are used up), email its link, and return how many went out.

    At most once per invitation: the claim is committed before the email goes out, so the
    one in flight when a worker dies is not sent again (its invitee still gets the
    reminder). A failed send releases its claim and the others still go out;
    InvitationsNotSent is raised at the end, so the task's retry sends only the ones that
    failed. However the call ends, `done` runs once none is pending any more (each was
    emailed or tried EMAIL_ATTEMPTS_MAX times), to clear the outbox flag.
    """
    sent, failed = 0, 0
    try:
        for invitation in pending:
            raw = claim(invitation.pk)
            if raw is None:
                continue
            try:
                send(invitation, raw)
            except Exception:
                release(invitation.pk)
                logger.warning("Invitation %s of %s could not be emailed", invitation.pk, of)
                failed += 1
                continue
            sent += 1
    finally:
        if not pending.all().exists():
            done()
    if failed:
        raise InvitationsNotSent(f"{failed} invitation(s) of {of} could not be emailed.")
    return sent


def pulse_run_remind(*, run_id: int) -> int:
    """Remind, once, everyone invited to an open run who has not answered. `reminders_sent`
    is set once nobody is left to remind, so the minute tick sends what a lost task did
    not."""
    if not PulseRun.objects.filter(pk=run_id, status=RunStatus.OPEN, reminders_sent=False).exists():
        return 0
    return invitations_send(run_id=run_id, reminder=True)


def pulse_run_close(*, run_id: int) -> PulseRun:
    """Close a run: its links stop working, its responses are rewritten in random order,
    and its results are computed — results are only ever shown for closed runs.

    The exclusive row lock waits for submissions in flight (they hold a shared lock on the
    run), so no answer lands after the close. `aggregates_stale` is set in the same
    transaction: if the broker is down, the minute sweep still refreshes the run.
    """
    with transaction.atomic():
        run = PulseRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.CLOSED:
            return run
        run.status = RunStatus.CLOSED
        run.aggregates_stale = True
        run.save(update_fields=["status", "aggregates_stale"])
        _responses_rewrite(run_id=run.pk)
        from surveys.tasks import aggregates_refresh_task

        enqueue_on_commit(aggregates_refresh_task, run.pk)
    return run


def _responses_rewrite(*, run_id: int) -> None:
    """Delete and re-insert a run's responses and answers, shuffled, with fresh keys.

    While a run is open each response sits next to its invitation's update in storage:
    SQLite's hidden rowid follows insertion order, and PostgreSQL stamps the response and
    the `used` flag with the same transaction id (xmin). Rewriting everything in this one
    transaction leaves no such trace for a closed run (SQLite zeroes freed pages with
    secure_delete; PostgreSQL's dead tuples go at the next vacuum).
    """
    shuffle = random.SystemRandom().shuffle
    new_ids: dict[uuid.UUID, uuid.UUID] = {}
    responses = list(Response.objects.filter(run_id=run_id).values_list("id", "team_id"))
    shuffle(responses)
    # By explicit ids, chunked: a join in a DELETE's subquery can get a disastrous plan on
    # tables that just grew and were never analysed (seen: a minute per run).
    answers: list[tuple[uuid.UUID, int, int | None, Any]] = []
    for start in range(0, len(responses), REWRITE_CHUNK):
        chunk = [response_id for response_id, _ in responses[start : start + REWRITE_CHUNK]]
        answers += Answer.objects.filter(response_id__in=chunk).values_list(
            "response_id", "question_id", "value", "choices"
        )
        Answer.objects.filter(response_id__in=chunk).delete()
        Response.objects.filter(id__in=chunk).delete()
    shuffle(answers)
    fresh = []
    for old_id, team_id in responses:
        new_ids[old_id] = uuid.uuid4()
        fresh.append(Response(id=new_ids[old_id], run_id=run_id, team_id=team_id))
    Response.objects.bulk_create(fresh)
    Answer.objects.bulk_create(
        Answer(
            response_id=new_ids[response_id], question_id=question_id, value=value, choices=choices
        )
        for response_id, question_id, value, choices in answers
    )


def _run_accepting(run: PulseRun, now: datetime) -> None:
    if run.status == RunStatus.SCHEDULED or now < run.opens_at:
        raise RunNotOpen(f"This pulse opens on {timezone.localtime(run.opens_at):%A %d %B}.")
    if run.status == RunStatus.CLOSED or now >= run.closes_at:
        raise RunClosed("This pulse has closed. Thank you — the next one will come by email.")


def invitation_redeem(*, raw_token: str, now: datetime | None = None) -> Invitation:
    """The invitation a link stands for, if it can still be answered."""
    hashed = token_hash(raw_token)
    invitation = (
        Invitation.objects.select_related("run")
        .filter(Q(token_hash=hashed) | Q(reminder_token_hash=hashed))
        .first()
    )
    if invitation is None:
        raise InvitationNotFound("This link is not valid. Check that it was copied whole.")
    if invitation.used:
        raise InvitationUsed("This pulse has already been answered with this link. Thank you!")
    _run_accepting(invitation.run, now or timezone.now())
    return invitation


def _question_spec(question: Question) -> QuestionSpec:
    return QuestionSpec(
        key=question.key,
        kind=question.kind,
        scale_min=question.scale_min,
        scale_max=question.scale_max,
        options=tuple(option["key"] for option in question.options),
        question_id=question.pk,
    )


def response_submit(
    *, invitation: Invitation, answers: Mapping[str, Any], now: datetime | None = None
) -> Response:
    """Store one anonymous response for an invitation and mark the invitation used.

    Raises ValidationError (keys are question keys) for bad answers, InvitationUsed when the
    link was used (also by a concurrent request), RunClosed / RunNotOpen outside the window.
    Writes nothing unless everything is valid. Answers are checked against the run's frozen
    form, and every row is built before the transaction starts, so the write lock (all of
    SQLite, or the invitation row on PostgreSQL) is held for four short statements.
    """
    run = invitation.run
    specs = [QuestionSpec.from_json(item) for item in run.form]
    clean = answers_clean(specs, answers)
    question_ids = {spec.key: spec.question_id for spec in specs}
    response = Response(run_id=run.pk, team_id=run.team_id)
    rows = [
        Answer(
            response=response,
            question_id=question_ids[key],
            value=value if isinstance(value, int) else None,
            choices=value if isinstance(value, list) else None,
        )
        for key, value in clean.items()
    ]
    submission_write(
        accepting=lambda: _run_accepting(
            window_shared_lock(PulseRun, run.pk), now or timezone.now()
        ),
        invitation=Invitation.objects.filter(pk=invitation.pk),
        already_used=InvitationUsed("This pulse has already been answered. Thank you!"),
        response=response,
        rows=rows,
    )
    return response


def submission_write(
    *,
    accepting: Callable[[], None],
    invitation: QuerySet[Any],
    already_used: Exception,
    response: models.Model,
    rows: Sequence[models.Model],
) -> None:
    """The one transaction of an anonymous submission, for pulses and retros: check the
    window (`accepting` reads it under `window_shared_lock`), flip the invitation's `used`
    flag, insert the anonymous response and its rows. Raises `already_used` if the flag was
    set. The conditional UPDATE is the arbiter: of concurrent submissions of one invitation,
    exactly one sees used=False.
    """
    with transaction.atomic():
        accepting()
        if not invitation.filter(used=False).update(used=True):
            raise already_used
        response.save(force_insert=True)
        if rows:
            type(rows[0])._default_manager.bulk_create(rows)


def window_shared_lock(model: type[WindowT], pk: int) -> WindowT:
    """A run's (or retro session's) status and window, read under a lock that keeps a close
    from committing until this transaction ends. PostgreSQL: FOR SHARE, so submissions
    don't queue behind each other; SQLite: every write transaction already holds the
    database lock."""
    fields = ("id", "status", "opens_at", "closes_at")
    manager = model._default_manager
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        query = f"SELECT {', '.join(fields)} FROM {table} WHERE id = %s FOR SHARE"  # noqa: S608
        return manager.raw(query, [pk])[0]
    return manager.only(*fields).get(pk=pk)


def pulse_k_raise(*, pulse: Pulse, k: int) -> Pulse:
    """Raise a pulse's k for runs not yet opened; lowering is refused."""
    if k < pulse.k:
        raise ValidationError({"k": f"k can be raised but never lowered (it is {pulse.k})."})
    pulse.k = k
    pulse.save(update_fields=["k"])
    return pulse


def pulse_runs_ensure_current(*, now: datetime) -> None:
    """Create (scheduled) the run of the current period of every active pulse."""
    for pulse in Pulse.objects.filter(active=True):
        sequence = period_sequence_on(
            cadence=pulse.cadence,
            start_date=pulse.start_date,
            day=timezone.localdate(now),
            sprint_length_days=pulse.sprint_length_days,
        )
        if sequence is not None:
            pulse_run_ensure(pulse=pulse, sequence=sequence)


def question_create(*, user: Any, **fields: Any) -> Question:
    """Add a question to the bank of the organisation the admin administers."""
    organisation_id = (
        memberships_active(user=user)
        .filter(role=Role.ADMIN)
        .values_list("team__organisation_id", flat=True)
        .first()
    )
    if organisation_id is None:
        raise ValidationError({"organisation": "Only an organisation's admin can add questions."})
    question = Question(organisation_id=organisation_id, **fields)
    question.full_clean()
    question.save()
    return question
