"""SIGKILL a real Celery worker in the middle of a Git import and of sending a pulse's
invitations; a new worker finishes the job with the same end state as an uninterrupted
run: every commit stored once, every invitee emailed once (but the one in flight at the
kill, who gets the reminder), nobody twice; an address that keeps failing is given up on.

The workers are `celery -A config worker --pool=solo` processes on the configured broker
(the SQLite transport, or Redis) and the test database. With Redis, the message a dead
worker held comes back after the visibility timeout (an hour in production, seconds here);
the SQLite transport never gives it back, so on both the beat's sweeps, which the test
sends as beat would, are what brings the work back.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from django.db.models import Count
from django.utils import timezone

from analytics.delivery.git.importer import repository_import
from analytics.delivery.models import Commit, ImportRun, Repository
from analytics.tasks import repositories_sync, repository_import_task
from surveys import tasks
from surveys.links.errors import InvitationsNotSent
from surveys.links.models import EMAIL_ATTEMPTS_MAX
from surveys.pulses import emails, selectors, services
from surveys.pulses.models import Invitation, PulseRun, RunStatus
from surveys.retros import selectors as retro_selectors
from surveys.retros import services as retro_services
from surveys.retros.models import RetroInvitation, RetroSession
from tests.conftest import make_due_run, make_open_retro, make_open_run
from tests.factories import TeamFactory
from tests.gitrepos import BASE_ENV, ground_truth, repo_init
from tests.security.faults_world import *  # noqa: F403
from tests.security.faults_world import TALLY, Mailbox, Processes, settle, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

IMPORT_COMMITS = 12_000  # six batches of 2 000: a kill lands between the first and the last


def long_history(path: Path, commits: int) -> Path:
    """A repository of `commits` commits by five authors, written by `git fast-import`."""
    repo = repo_init(path)
    stream = []
    for number in range(commits):
        author = f"Dev {number % 5} <dev{number % 5}@example.com>"
        stamp = f"{1_767_000_000 + number * 600} +0000"
        message = f"Change {number}\n"
        content = f"{number}\n"
        stream.append(
            f"commit refs/heads/main\nauthor {author} {stamp}\ncommitter {author} {stamp}\n"
            f"data {len(message)}\n{message}"
            f"M 644 inline file{number % 50}.txt\ndata {len(content)}\n{content}\n"
        )
    subprocess.run(
        ["git", "-C", str(repo.path), "fast-import", "--quiet"],
        input="".join(stream).encode(),
        env={**os.environ, **BASE_ENV},
        check=True,
    )
    return repo.path


def test_it_imports_every_commit_once_after_the_worker_is_killed_mid_import(
    processes: Processes, tmp_path: Path
) -> None:
    path = long_history(tmp_path / "repo", IMPORT_COMMITS)
    team = TeamFactory()
    repository = Repository.objects.create(
        organisation=team.organisation, team=team, name="big", source=str(path)
    )
    first = processes.worker()
    repository_import_task.delay(repository.pk)
    stored = Commit.objects.filter(repository=repository)
    wait_for(lambda: stored.count() > 0, what="the first batch")
    first.kill()
    TALLY["worker SIGKILL mid-import"] += 1
    midway = stored.count()
    assert 0 < midway < IMPORT_COMMITS, "the kill did not land in the middle of the import"

    second = processes.worker()
    repositories_sync.delay()  # beat's hourly sweep
    wait_for(
        lambda: ImportRun.objects.filter(
            repository=repository, status=ImportRun.Status.SUCCEEDED
        ).exists(),
        what="the import to finish",
    )
    settle(second)
    assert stored.count() == ground_truth(path).commits == IMPORT_COMMITS
    assert not stored.values("sha").annotate(n=Count("pk")).filter(n__gt=1).exists()
    repository.refresh_from_db()
    tip = subprocess.check_output(["git", "-C", str(path), "rev-parse", "HEAD"], text=True)
    assert repository.cursor_sha == tip.strip()
    killed = ImportRun.objects.filter(repository=repository).order_by("started_at").first()
    assert killed.status == ImportRun.Status.FAILED
    assert killed.error.startswith("Interrupted")
    assert not ImportRun.objects.filter(status=ImportRun.Status.RUNNING).exists()
    assert repository_import(repository_id=repository.pk).commits_added == 0


INVITEES = 12


def invitees(run: PulseRun) -> set[str]:
    return set(Invitation.objects.filter(run=run).values_list("user__email", flat=True))


def kill_while_emailing(processes: Processes, mailbox: Mailbox, hold: str) -> PulseRun:
    """The tick opens a run, the worker emails the invitations and stops at `hold`
    (before:N or after:N, its N-th message), where it is killed."""
    run = make_due_run(size=INVITEES)
    first = processes.worker(CANDOR_FAULTS_MAIL_HOLD=hold)
    tasks.pulse_schedule_tick.delay()
    wait_for(mailbox.held, what=f"the worker to reach {hold}")
    first.kill()
    TALLY[f"worker SIGKILL while emailing ({hold.split(':')[0]} a send)"] += 1
    assert PulseRun.objects.get(pk=run.pk).status == RunStatus.OPEN
    return run


def test_it_emails_everyone_once_after_the_worker_is_killed_between_two_emails(
    processes: Processes, mailbox: Mailbox
) -> None:
    run = kill_while_emailing(processes, mailbox, "after:4")
    assert sum(mailbox.recipients().values()) == 4

    second = processes.worker()
    tasks.pulse_schedule_tick.delay()  # beat's next minute
    wait_for(lambda: len(mailbox.messages()) >= INVITEES, what="the remaining invitations")
    settle(second)
    assert mailbox.recipients() == dict.fromkeys(invitees(run), 1)
    assert not Invitation.objects.filter(run=run, sent=False).exists()


def test_it_sends_no_second_email_for_the_one_in_flight_when_the_worker_was_killed(
    processes: Processes, mailbox: Mailbox
) -> None:
    """At most once: the invitation being emailed at the kill was claimed, and whether its
    email left is unknown, so it is not sent again; the reminder reaches its invitee."""
    run = kill_while_emailing(processes, mailbox, "before:4")
    assert sum(mailbox.recipients().values()) == 3

    second = processes.worker()
    tasks.pulse_schedule_tick.delay()
    wait_for(lambda: len(mailbox.messages()) >= INVITEES - 1, what="the remaining invitations")
    settle(second)
    received = mailbox.recipients()
    assert set(received.values()) == {1}
    (in_flight,) = invitees(run) - set(received)
    assert Invitation.objects.get(run=run, user__email=in_flight).sent

    tasks.pulse_run_remind_task.delay(run.pk)
    wait_for(lambda: len(mailbox.messages()) >= 2 * INVITEES - 1, what="the reminders")
    settle(second)
    reminders = [m for m in mailbox.messages() if m["to"] == [in_flight]]
    assert len(reminders) == 1
    token = reminders[0]["body"].split("/p/")[1].split("/")[0]
    assert services.invitation_redeem(raw_token=token).user.email == in_flight


def test_it_stops_trying_an_address_that_keeps_failing_after_a_bounded_number_of_attempts(
    processes: Processes, mailbox: Mailbox
) -> None:
    """The send task retries (three times, backing off) and the minute tick sends again
    what is owed, but each address is tried at most EMAIL_ATTEMPTS_MAX times in all."""
    run = make_due_run(size=6)
    broken = run.team.memberships.values_list("user__email", flat=True)[0]
    worker = processes.worker(CANDOR_FAULTS_MAIL_FAIL=broken)
    for _ in range(EMAIL_ATTEMPTS_MAX + 2):  # more minutes than attempts
        tasks.pulse_schedule_tick.delay()
        settle(worker)
    TALLY["mailbox refusing every attempt"] += 1
    attempts = mailbox.attempts()
    assert attempts[broken] == EMAIL_ATTEMPTS_MAX
    assert mailbox.recipients() == dict.fromkeys(invitees(run) - {broken}, 1)
    assert not PulseRun.objects.get(pk=run.pk).invitations_pending
    assert "retry: Retry in" in worker.output()


# The outbox behind those recoveries, in process: what the minute ticks send again.


@pytest.mark.django_db
def test_it_owes_a_runs_invitations_from_its_opening_until_each_went_out() -> None:
    run = make_due_run(size=5)
    services.pulse_run_open(run_id=run.pk)
    now = timezone.now()
    assert run.pk in selectors.pulse_runs_due(now=now)["send"]
    assert services.invitations_send(run_id=run.pk) == 5
    assert run.pk not in selectors.pulse_runs_due(now=now)["send"]


@pytest.mark.django_db
def test_it_owes_nothing_for_a_run_opened_without_sending() -> None:
    run = make_due_run(size=5)
    services.pulse_run_open(run_id=run.pk, send=False)
    assert run.pk not in selectors.pulse_runs_due(now=timezone.now())["send"]


class WorkerKilled(BaseException):
    """What SIGKILL looks like from inside: nothing after it runs (no except Exception)."""


@pytest.mark.django_db
def test_it_reminds_again_those_a_killed_worker_had_not_reached(monkeypatch) -> None:
    open_run = make_open_run(size=5)
    run = open_run.run
    PulseRun.objects.filter(pk=run.pk).update(remind_at=timezone.now())
    real_send = emails.invitation_email_send
    calls: list[int] = []

    def dies_on_the_third(*, invitation: Invitation, raw_token: str, reminder: bool) -> None:
        calls.append(invitation.pk)
        if len(calls) == 3:
            raise WorkerKilled
        real_send(invitation=invitation, raw_token=raw_token, reminder=reminder)

    monkeypatch.setattr(emails, "invitation_email_send", dies_on_the_third)
    with pytest.raises(WorkerKilled):
        services.pulse_run_remind(run_id=run.pk)
    assert len(mail.outbox) == 2
    assert run.pk in selectors.pulse_runs_due(now=timezone.now())["remind"]
    assert services.pulse_run_remind(run_id=run.pk) == 2  # not the one in flight
    assert run.pk not in selectors.pulse_runs_due(now=timezone.now())["remind"]
    assert len({message.to[0] for message in mail.outbox}) == 4


@pytest.mark.django_db
def test_it_gives_up_on_an_address_after_the_last_attempt(monkeypatch) -> None:
    run = make_due_run(size=5)
    services.pulse_run_open(run_id=run.pk)
    broken = Invitation.objects.filter(run=run).order_by("pk").first()
    real_send = emails.invitation_email_send

    def send(*, invitation: Invitation, raw_token: str, reminder: bool) -> None:
        if invitation.pk == broken.pk:
            raise OSError("mailbox unavailable")
        real_send(invitation=invitation, raw_token=raw_token, reminder=reminder)

    monkeypatch.setattr(emails, "invitation_email_send", send)
    for _ in range(EMAIL_ATTEMPTS_MAX):
        assert run.pk in selectors.pulse_runs_due(now=timezone.now())["send"]
        with pytest.raises(InvitationsNotSent):
            services.invitations_send(run_id=run.pk)
    assert services.invitations_send(run_id=run.pk) == 0
    assert run.pk not in selectors.pulse_runs_due(now=timezone.now())["send"]
    assert Invitation.objects.get(pk=broken.pk).send_attempts == EMAIL_ATTEMPTS_MAX
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_it_owes_a_retros_links_until_each_went_out() -> None:
    open_retro = make_open_retro(size=5)
    session = open_retro.session
    RetroInvitation.objects.filter(session=session).update(sent=False, token_hash=None)
    RetroSession.objects.filter(pk=session.pk).update(invitations_pending=True)
    now = timezone.now()
    assert retro_selectors.retro_sessions_sending_due(now=now) == [session.pk]
    assert retro_services.retro_invitations_send(session_id=session.pk) == 6
    assert retro_selectors.retro_sessions_sending_due(now=now) == []
