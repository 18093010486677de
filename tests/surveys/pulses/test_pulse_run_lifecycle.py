"""Opening, reminding and closing runs: who is invited, idempotency, k locking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from surveys.people.models import Role
from surveys.pulses import services
from surveys.pulses.models import Invitation, Pulse, PulseRun, RunStatus
from surveys.pulses.rotation import MAX_ITEMS
from surveys.pulses.selectors import pulse_runs_due
from tests.conftest import make_open_run, valid_answers
from tests.factories import MembershipFactory, PulseFactory, TeamFactory, opened_ago

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def _scheduled_run(pulse: Pulse) -> PulseRun:
    services.pulse_runs_ensure_current(now=timezone.now())
    run = PulseRun.objects.get(pulse=pulse)
    assert run.status == RunStatus.SCHEDULED
    return run


def test_opening_invites_engineers_on_the_team_that_day_only() -> None:
    team = TeamFactory()
    today = timezone.localdate()
    current = [MembershipFactory(team=team) for _ in range(5)]
    MembershipFactory(team=team, end=today - timedelta(days=30))  # left
    MembershipFactory(team=team, start=today + timedelta(days=30))  # not yet joined
    MembershipFactory(team=team, role=Role.MANAGER)  # managers are not asked about their team
    open_run = make_open_run(size=0, team=team)
    invited = set(Invitation.objects.filter(run=open_run.run).values_list("user_id", flat=True))
    assert invited == {m.user_id for m in current}


def test_a_run_asks_the_core_and_every_safety_item() -> None:
    run = make_open_run(size=5).run
    keys = list(run.run_questions.values_list("question__key", flat=True))
    assert keys[:3] == ["perceived_speed", "ai_usage_frequency", "ai_trust_accuracy"]
    assert len(keys) == MAX_ITEMS
    assert len([key for key in keys if key.startswith("psych_safety")]) == 7


def test_opening_twice_changes_nothing() -> None:
    open_run = make_open_run(size=5)
    services.pulse_run_open(run_id=open_run.run.pk)
    assert Invitation.objects.filter(run=open_run.run).count() == 5
    assert open_run.run.run_questions.count() == MAX_ITEMS


def test_invitations_are_emailed_once_even_when_sending_is_repeated() -> None:
    team = TeamFactory()
    for _ in range(5):
        MembershipFactory(team=team)
    pulse = PulseFactory(team=team)
    run = _scheduled_run(pulse)
    PulseRun.objects.filter(pk=run.pk).update(opens_at=opened_ago(timedelta(minutes=5)))
    services.pulse_run_open(run_id=run.pk, send=False)
    assert services.invitations_send(run_id=run.pk) == 5
    assert services.invitations_send(run_id=run.pk) == 0
    assert len(mail.outbox) == 5
    message = mail.outbox[0]
    assert "/p/" in message.body
    assert message.alternatives
    assert "/p/" in str(message.alternatives[0][0])
    stored = set(Invitation.objects.values_list("token_hash", flat=True))
    assert all(len(h) == 64 for h in stored)
    assert not any(h in message.body for h in stored)  # only the hash is stored, never the token


def test_reminders_go_once_and_only_to_people_who_have_not_answered() -> None:
    open_run = make_open_run(size=5)
    services.response_submit(
        invitation=open_run.invitations[0], answers=valid_answers(open_run.run)
    )
    assert services.pulse_run_remind(run_id=open_run.run.pk) == 4
    assert services.pulse_run_remind(run_id=open_run.run.pk) == 0
    reminded = {m.to[0] for m in mail.outbox}
    assert open_run.invitations[0].user.email not in reminded
    assert len(reminded) == 4


def test_a_reminder_link_works_like_the_invitation_link() -> None:
    open_run = make_open_run(size=5)
    services.pulse_run_remind(run_id=open_run.run.pk)
    link = next(line for line in mail.outbox[0].body.splitlines() if "/p/" in line)
    token = link.strip().rstrip("/").rsplit("/", 1)[-1]
    invitation = services.invitation_redeem(raw_token=token)
    services.response_submit(invitation=invitation, answers=valid_answers(open_run.run))
    assert Invitation.objects.get(pk=invitation.pk).used


def test_runs_due_opens_reminds_and_closes_by_time() -> None:
    pulse = PulseFactory(team=TeamFactory())
    run = _scheduled_run(pulse)
    now = timezone.now()
    assert run.pk in pulse_runs_due(now=max(now, run.opens_at))["open"]
    services.pulse_run_open(run_id=run.pk, send=False)
    assert run.pk in pulse_runs_due(now=run.remind_at)["remind"]
    assert run.pk in pulse_runs_due(now=run.closes_at)["close"]
    services.pulse_run_close(run_id=run.pk)
    assert PulseRun.objects.get(pk=run.pk).status == RunStatus.CLOSED


def test_k_defaults_to_five_and_cannot_go_below() -> None:
    pulse = PulseFactory.build(team=TeamFactory(), k=4)
    with pytest.raises(ValidationError) as caught:
        pulse.full_clean()
    assert "k" in caught.value.message_dict
    assert PulseFactory(team=TeamFactory()).k == 5


def test_k_may_be_raised_but_never_lowered() -> None:
    pulse = PulseFactory(team=TeamFactory(), k=5)
    services.pulse_k_raise(pulse=pulse, k=7)
    with pytest.raises(ValidationError):
        services.pulse_k_raise(pulse=pulse, k=6)
    pulse.k = 6
    with pytest.raises(ValidationError):
        pulse.full_clean()


def test_k_raised_before_a_run_opens_applies_to_it() -> None:
    pulse = PulseFactory(team=TeamFactory(), k=5)
    run = _scheduled_run(pulse)
    services.pulse_k_raise(pulse=pulse, k=8)
    assert services.pulse_run_open(run_id=run.pk, send=False).k == 8


def test_k_locks_when_a_run_opens() -> None:
    open_run = make_open_run(size=5, k=6)
    services.pulse_k_raise(pulse=open_run.run.pulse, k=9)
    services.pulse_run_open(run_id=open_run.run.pk)
    assert PulseRun.objects.get(pk=open_run.run.pk).k == 6


def test_the_answer_window_must_fit_in_a_period() -> None:
    pulse = PulseFactory.build(team=TeamFactory(), answer_window_days=8)
    with pytest.raises(ValidationError) as caught:
        pulse.full_clean()
    assert "answer_window_days" in caught.value.message_dict


def test_a_pulse_with_runs_cannot_change_its_schedule() -> None:
    open_run = make_open_run(size=5)
    pulse = open_run.run.pulse
    pulse.cadence = "monthly"
    with pytest.raises(ValidationError) as caught:
        pulse.full_clean()
    assert "cadence" in caught.value.message_dict
    pulse.cadence, pulse.answer_window_days = "weekly", 5
    pulse.full_clean()  # other settings may still change


def test_one_failing_address_does_not_stop_the_other_invitations(monkeypatch) -> None:
    from surveys.links.errors import InvitationsNotSent
    from surveys.pulses import emails

    open_run = make_open_run(size=0)
    for _ in range(5):
        MembershipFactory(team=open_run.team)
    run = _scheduled_run(PulseFactory(team=open_run.team))
    PulseRun.objects.filter(pk=run.pk).update(opens_at=opened_ago(timedelta(minutes=5)))
    services.pulse_run_open(run_id=run.pk, send=False)
    broken = Invitation.objects.filter(run=run).order_by("pk").first()
    real_send = emails.invitation_email_send

    def send(*, invitation, raw_token, reminder):
        if invitation.pk == broken.pk:
            raise OSError("mailbox unavailable")
        real_send(invitation=invitation, raw_token=raw_token, reminder=reminder)

    monkeypatch.setattr(emails, "invitation_email_send", send)
    with pytest.raises(InvitationsNotSent):
        services.invitations_send(run_id=run.pk)
    assert len(mail.outbox) == 4
    assert not Invitation.objects.get(pk=broken.pk).sent
    monkeypatch.setattr(emails, "invitation_email_send", real_send)
    assert services.invitations_send(run_id=run.pk) == 1  # the retry sends only that one
    assert len(mail.outbox) == 5
