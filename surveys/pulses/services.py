"""Every write about pulses, in one place: the API, the pages, the admin, the CLI and the
Celery tasks all call these functions.

Contracts worth knowing:
- `pulse_run_open`, `pulse_run_remind`, `pulse_run_close` and `invitations_send` are
  idempotent: re-running one after a crash sends no second email and creates nothing twice.
- `response_submit` writes the answers sealed (surveys/links/sealing.py) and flips the
  invitation's `used` flag in one transaction; a conditional UPDATE makes concurrent
  submissions of one link yield exactly one response. The anonymous `Response` and its
  `Answer`s are written in the clear by `pulse_run_close`, in a transaction that touches
  no invitation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.celery import enqueue_on_commit
from surveys.links.models import EMAIL_ATTEMPTS_MAX
from surveys.links.rewrite import sealed_take, submissions_rewrite
from surveys.links.sealing import ID_WIDEST, seal_size, storage_scrub_on_commit, submission_seal
from surveys.links.selectors import link_find
from surveys.links.sending import link_claim, links_email
from surveys.links.submission import submission_write, window_shared_lock
from surveys.people.models import Role
from surveys.people.selectors import invitee_ids, memberships_active
from surveys.pulses import emails
from surveys.pulses.answers import QuestionSpec, answers_clean
from surveys.pulses.errors import InvitationNotFound, InvitationUsed, RunClosed, RunNotOpen
from surveys.pulses.models import (
    Answer,
    Construct,
    Invitation,
    Pulse,
    PulseRun,
    Question,
    Response,
    RunQuestion,
    RunStatus,
    SealedResponse,
)
from surveys.pulses.rotation import rotation_for_run
from surveys.pulses.schedule import period_bounds, period_sequence_on
from surveys.pulses.signals import run_closed

OPEN_HOUR = time(9, 0)
# The Celery task (surveys/tasks.py) that emails a run's links, enqueued by name so this
# module need not import the adapters that call it.
INVITATIONS_SEND = "surveys.tasks.invitations_send"
# What a response keeps, and what each of its answers holds, sealed and in the clear.
RESPONSE_FIELDS = ("run_id", "team_id")
ANSWER_FIELDS = ("question_id", "value", "choices")


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
            run.invitations_pending = True
            run.save(update_fields=["invitations_pending"])
            enqueue_on_commit(INVITATIONS_SEND, run.pk)
    return run


def invitation_token_issue(*, invitation_id: int, reminder: bool = False) -> str | None:
    """Claim an invitation for its invitation (or reminder) email and give it a fresh
    token; None if already claimed or tried EMAIL_ATTEMPTS_MAX times (`link_claim`)."""
    if reminder:
        return link_claim(
            Invitation.objects.all(),
            pk=invitation_id,
            pending={"reminded": False, "used": False},
            claimed={"reminded": True},
            hash_field="reminder_token_hash",
        )
    return link_claim(
        Invitation.objects.all(),
        pk=invitation_id,
        pending={"sent": False},
        claimed={"sent": True},
        hash_field="token_hash",
    )


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


def pulse_run_remind(*, run_id: int) -> int:
    """Remind, once, everyone invited to an open run who has not answered. `reminders_sent`
    is set once nobody is left to remind, so the minute tick sends what a lost task did
    not."""
    if not PulseRun.objects.filter(pk=run_id, status=RunStatus.OPEN, reminders_sent=False).exists():
        return 0
    return invitations_send(run_id=run_id, reminder=True)


def pulse_run_close(*, run_id: int) -> PulseRun:
    """Close a run: its links stop working, its sealed responses are opened and written as
    anonymous `Response`s and `Answer`s, shuffled under fresh keys together with any
    written in the clear before sealing existed (`sealed_take`, `submissions_rewrite`), and
    `run_closed` is sent, so its results get computed — results are only ever shown for
    closed runs. On SQLite the WAL is then checkpointed and truncated, so no page image of
    a sealed row outlives the close (`storage_scrub_on_commit`).

    One transaction, which writes no invitation: a close that fails anywhere (a blob no
    key opens included) changes nothing, and running it again is safe. The exclusive row
    lock waits for submissions in flight (they hold a shared lock on the run), so no answer
    lands after the close. `aggregates_stale`, the results' outbox flag, is set in the same
    transaction: if the broker is down, the minute sweep still refreshes the run.
    """
    with transaction.atomic():
        run = PulseRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.CLOSED:
            return run
        run.status = RunStatus.CLOSED
        run.aggregates_stale = True
        run.save(update_fields=["status", "aggregates_stale"])
        unsealed = sealed_take(
            SealedResponse.objects.filter(run_id=run.pk),
            kind=SealedResponse.SEAL_KIND,
            window_id=run.pk,
            row_fields=ANSWER_FIELDS,
        )
        submissions_rewrite(
            Response.objects.filter(run_id=run.pk),
            keep=RESPONSE_FIELDS,
            rows=Answer,
            row_fields=ANSWER_FIELDS,
            unsealed=unsealed,
        )
        run_closed.send(sender=PulseRun, run_id=run.pk)
        storage_scrub_on_commit()
    return run


def _run_accepting(run: PulseRun, now: datetime) -> None:
    if run.status == RunStatus.SCHEDULED or now < run.opens_at:
        raise RunNotOpen(f"This pulse opens on {timezone.localtime(run.opens_at):%A %d %B}.")
    if run.status == RunStatus.CLOSED or now >= run.closes_at:
        raise RunClosed("This pulse has closed. Thank you — the next one will come by email.")


def invitation_redeem(*, raw_token: str, now: datetime | None = None) -> Invitation:
    """The invitation a link (the invitation's or the reminder's) stands for, if it can
    still be answered."""
    invitation = link_find(
        Invitation.objects.select_related("run"),
        raw_token=raw_token,
        hash_fields=("token_hash", "reminder_token_hash"),
        not_found=InvitationNotFound("This link is not valid. Check that it was copied whole."),
        used=InvitationUsed("This pulse has already been answered with this link. Thank you!"),
    )
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


def _widest_answer(spec: QuestionSpec) -> dict[str, Any]:
    """The longest answer a question can get, as sealed: every option, or the longer end
    of its range."""
    if spec.kind == "multi":
        return {"question_id": ID_WIDEST, "value": None, "choices": sorted(spec.options)}
    value = max(spec.scale_min, spec.scale_max, key=lambda end: len(str(end)))
    return {"question_id": ID_WIDEST, "value": value, "choices": None}


def response_seal_size(specs: list[QuestionSpec]) -> int:
    """The one padded size of every sealed response of a run with this form: that of the
    widest answer set it allows (`seal_size`)."""
    return seal_size(
        fields=dict.fromkeys(RESPONSE_FIELDS, ID_WIDEST),
        rows=[_widest_answer(spec) for spec in specs],
    )


def response_submit(
    *, invitation: Invitation, answers: Mapping[str, Any], now: datetime | None = None
) -> SealedResponse:
    """Store one person's answers, sealed, for an invitation and mark the invitation used;
    returns the sealed row. The answers are written in the clear, as an anonymous
    `Response`, only when the run closes (`pulse_run_close`).

    Raises ValidationError (keys are question keys) for bad answers, InvitationUsed when the
    link was used (also by a concurrent request), RunClosed / RunNotOpen outside the window.
    Writes nothing unless everything is valid. Answers are checked against the run's frozen
    form, and sealed before the transaction starts, so the write lock (all of SQLite, or
    the invitation row on PostgreSQL) is held for three short statements.
    """
    run = invitation.run
    specs = [QuestionSpec.from_json(item) for item in run.form]
    clean = answers_clean(specs, answers)
    question_ids = {spec.key: spec.question_id for spec in specs}
    sealed = SealedResponse(
        run_id=run.pk,
        blob=submission_seal(
            kind=SealedResponse.SEAL_KIND,
            window_id=run.pk,
            size=response_seal_size(specs),
            fields={"run_id": run.pk, "team_id": run.team_id},
            rows=[
                {
                    "question_id": question_ids[key],
                    "value": value if isinstance(value, int) else None,
                    "choices": value if isinstance(value, list) else None,
                }
                for key, value in clean.items()
            ],
        ),
    )
    submission_write(
        accepting=lambda: _run_accepting(
            window_shared_lock(PulseRun, run.pk), now or timezone.now()
        ),
        invitation=Invitation.objects.filter(pk=invitation.pk),
        already_used=InvitationUsed("This pulse has already been answered. Thank you!"),
        sealed=sealed,
    )
    return sealed


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
