"""Structural anonymity: no path from a response (or retro card) to a person, no time,
random keys."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection, models

from analytics.insights.models import ConstructAggregate, QuestionAggregate, RunSummary
from surveys.pulses.models import Answer, Invitation, Question, Response, SealedResponse
from surveys.pulses.services import invitation_redeem, pulse_run_close, response_submit
from surveys.retros.models import (
    RetroCard,
    RetroInvitation,
    RetroResponse,
    RetroTally,
    SealedRetroResponse,
)
from tests.conftest import make_open_run, valid_answers

ANONYMOUS = (Response, Answer, RetroResponse, RetroCard, SealedResponse, SealedRetroResponse)
PARTICIPATION = (Invitation, RetroInvitation)


@pytest.mark.parametrize("model", ANONYMOUS)
def test_anonymous_records_have_random_uuid_keys(model: type[models.Model]) -> None:
    pk = model._meta.pk
    assert isinstance(pk, models.UUIDField)
    assert pk.default is uuid.uuid4


@pytest.mark.parametrize("model", ANONYMOUS)
def test_anonymous_records_have_no_time_and_no_path_to_a_person(model: type[models.Model]) -> None:
    user_model = get_user_model()
    for field in model._meta.get_fields():
        assert not isinstance(field, models.DateTimeField | models.DateField | models.TimeField), (
            field
        )
        assert getattr(field, "related_model", None) not in (user_model, *PARTICIPATION), field


@pytest.mark.parametrize("model", PARTICIPATION)
def test_invitations_record_participation_without_time(model: type[models.Model]) -> None:
    assert not [f for f in model._meta.get_fields() if isinstance(f, models.DateTimeField)]


@pytest.mark.parametrize("model", [*ANONYMOUS, *PARTICIPATION])
def test_the_admin_cannot_show_responses_or_participation(model: type[models.Model]) -> None:
    assert not admin.site.is_registered(model)


@pytest.mark.parametrize("model", [RunSummary, QuestionAggregate, ConstructAggregate, RetroTally])
def test_summary_tables_hold_no_person(model: type[models.Model]) -> None:
    user_model = get_user_model()
    assert all(
        getattr(f, "related_model", None) is not user_model for f in model._meta.get_fields()
    )


@pytest.mark.django_db
def test_after_closing_storage_order_no_longer_follows_submission_order() -> None:
    open_run = make_open_run(size=12)
    submitted = []
    for index, token in enumerate(open_run.tokens):
        speed = index * 5 - 50  # tells the respondents apart
        answers = {**valid_answers(open_run.run, index), "perceived_speed": speed}
        response_submit(invitation=invitation_redeem(raw_token=token), answers=answers)
        submitted.append(speed)
    # Open: the answers are sealed, so there is no order of them to follow.
    assert _speeds_in_storage_order() == []
    assert SealedResponse.objects.filter(run=open_run.run).count() == 12
    pulse_run_close(run_id=open_run.run.pk)
    stored = _speeds_in_storage_order()
    assert sorted(stored) == sorted(submitted)
    assert stored != submitted  # a shuffle of 12 keeps the order with p = 1/12! ≈ 2e-9


def _speeds_in_storage_order() -> list[int]:
    physical = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a.value FROM {Response._meta.db_table} r"  # noqa: S608
            f" JOIN {Answer._meta.db_table} a ON a.response_id = r.id"
            f" JOIN {Question._meta.db_table} q ON q.id = a.question_id"
            f" WHERE q.key = 'perceived_speed' ORDER BY r.{physical}"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_submitting_logs_nothing_that_names_the_person(caplog: pytest.LogCaptureFixture) -> None:
    open_run = make_open_run(size=5)
    invitation = invitation_redeem(raw_token=open_run.tokens[0])
    with caplog.at_level(logging.DEBUG):
        response_submit(invitation=invitation, answers=valid_answers(open_run.run))
    user = invitation.user
    for record in caplog.records:
        message = record.getMessage()
        assert user.username not in message
        assert user.email not in message


@pytest.mark.django_db
def test_request_logs_never_carry_an_invitation_token(
    client, caplog: pytest.LogCaptureFixture
) -> None:
    open_run = make_open_run(size=5)
    token = open_run.tokens[0]
    response_submit(
        invitation=invitation_redeem(raw_token=token), answers=valid_answers(open_run.run)
    )
    with caplog.at_level(logging.INFO):
        assert client.get(f"/p/{token}/").status_code == 409
        assert (
            client.post(
                f"/api/invitations/{token}/response/", {}, content_type="application/json"
            ).status_code
            == 400
        )
    messages = [record.getMessage() for record in caplog.records]
    assert any("/p/<token>/" in message for message in messages)
    assert not any(token in message for message in messages)
