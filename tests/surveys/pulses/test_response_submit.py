"""Submitting a pulse: stored unlinkably, once per person, nothing written on bad input.

While the run is open a submission is one sealed row (surveys/links/sealing.py); its
response and answers are written in the clear when the run closes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from surveys.pulses import services
from surveys.pulses.errors import InvitationNotFound, InvitationUsed, RunClosed, RunNotOpen
from surveys.pulses.models import (
    Answer,
    Invitation,
    PulseRun,
    Response,
    RunStatus,
    SealedResponse,
)
from tests.conftest import make_open_run, valid_answers

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def test_it_stores_an_anonymous_response_and_marks_the_invitation_used() -> None:
    open_run = make_open_run(size=6)
    invitation = services.invitation_redeem(raw_token=open_run.tokens[0])
    answers = valid_answers(open_run.run, 3)
    sealed = services.response_submit(invitation=invitation, answers=answers)
    assert sealed.run_id == open_run.run.pk
    assert Invitation.objects.get(pk=invitation.pk).used
    # Open: one sealed row, nothing in the clear.
    assert list(SealedResponse.objects.values_list("pk", flat=True)) == [sealed.pk]
    assert not Response.objects.exists()
    assert not Answer.objects.exists()

    services.pulse_run_close(run_id=open_run.run.pk)
    response = Response.objects.get()
    assert (response.run_id, response.team_id) == (open_run.run.pk, open_run.run.team_id)
    stored = {
        answer.question.key: answer.choices if answer.value is None else answer.value
        for answer in Answer.objects.filter(response=response).select_related("question")
    }
    assert stored == answers
    assert not SealedResponse.objects.exists()


def test_it_refuses_a_second_answer_from_the_same_link() -> None:
    open_run = make_open_run(size=5)
    invitation = services.invitation_redeem(raw_token=open_run.tokens[0])
    services.response_submit(invitation=invitation, answers=valid_answers(open_run.run))
    with pytest.raises(InvitationUsed):
        services.invitation_redeem(raw_token=open_run.tokens[0])
    with pytest.raises(InvitationUsed):
        services.response_submit(invitation=invitation, answers=valid_answers(open_run.run))
    assert SealedResponse.objects.count() == 1
    services.pulse_run_close(run_id=open_run.run.pk)
    assert Response.objects.count() == 1


def test_it_rejects_a_tampered_token() -> None:
    open_run = make_open_run(size=5)
    with pytest.raises(InvitationNotFound):
        services.invitation_redeem(raw_token=open_run.tokens[0][:-2] + "xx")


def test_it_rejects_closed_pulse() -> None:
    open_run = make_open_run(size=5)
    invitation = services.invitation_redeem(raw_token=open_run.tokens[0])
    services.pulse_run_close(run_id=open_run.run.pk)
    with pytest.raises(RunClosed):
        services.invitation_redeem(raw_token=open_run.tokens[0])
    with pytest.raises(RunClosed):
        services.response_submit(invitation=invitation, answers=valid_answers(open_run.run))
    assert not Response.objects.exists()
    assert not SealedResponse.objects.exists()
    assert not Invitation.objects.get(pk=invitation.pk).used


def test_it_rejects_an_expired_link_after_the_window_even_before_the_close_task_ran() -> None:
    open_run = make_open_run(size=5)
    later = open_run.run.closes_at + timedelta(minutes=1)
    with pytest.raises(RunClosed):
        services.invitation_redeem(raw_token=open_run.tokens[0], now=later)
    assert PulseRun.objects.get(pk=open_run.run.pk).status == RunStatus.OPEN


def test_it_rejects_a_run_that_has_not_opened() -> None:
    open_run = make_open_run(size=5)
    PulseRun.objects.filter(pk=open_run.run.pk).update(opens_at=timezone.now() + timedelta(days=1))
    with pytest.raises(RunNotOpen):
        services.invitation_redeem(raw_token=open_run.tokens[0])


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda a: a.update(mystery=3), "mystery"),
        (lambda a: a.update(perceived_speed=250), "perceived_speed"),
        (lambda a: a.update(ai_trust_accuracy="lots"), "ai_trust_accuracy"),
        (lambda a: a.pop("ai_usage_frequency"), "ai_usage_frequency"),
    ],
    ids=["unknown-question", "out-of-range", "wrong-type", "missing-answer"],
)
def test_bad_answers_name_the_field_and_write_nothing(mutate, field: str) -> None:
    open_run = make_open_run(size=5)
    invitation = services.invitation_redeem(raw_token=open_run.tokens[0])
    answers = valid_answers(open_run.run)
    mutate(answers)
    with pytest.raises(ValidationError) as caught:
        services.response_submit(invitation=invitation, answers=answers)
    assert field in caught.value.message_dict
    assert not SealedResponse.objects.exists()
    assert not Response.objects.exists()
    assert not Answer.objects.exists()
    assert not Invitation.objects.get(pk=invitation.pk).used


def test_a_logged_in_person_answers_through_the_same_service_once() -> None:
    open_run = make_open_run(size=5)
    invitation = open_run.invitations[0]
    services.response_submit(invitation=invitation, answers=valid_answers(open_run.run))
    with pytest.raises(InvitationUsed):
        services.invitation_redeem(raw_token=open_run.tokens[0])


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_of_one_link_store_exactly_one_response() -> None:
    open_run = make_open_run(size=5)
    answers = valid_answers(open_run.run)
    invitation = services.invitation_redeem(raw_token=open_run.tokens[0])
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def submit() -> None:
        barrier.wait()
        try:
            services.response_submit(invitation=invitation, answers=answers)
            outcomes.append("stored")
        except InvitationUsed:
            outcomes.append("already answered")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already answered"] * 19 + ["stored"]
    assert SealedResponse.objects.filter(run=open_run.run).count() == 1
    services.pulse_run_close(run_id=open_run.run.pk)
    assert Response.objects.filter(run=open_run.run).count() == 1
