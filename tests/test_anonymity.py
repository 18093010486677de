"""Structural anonymity: no path from a response to a person, no time, random keys."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models

from analytics.models import ConstructAggregate, QuestionAggregate, RunSummary
from surveys.models import Answer, Invitation, Response
from surveys.services import invitation_redeem, response_submit
from tests.conftest import make_open_run, valid_answers

ANONYMOUS = (Response, Answer)


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
        assert getattr(field, "related_model", None) not in (user_model, Invitation), field


def test_invitations_record_participation_without_time() -> None:
    assert not [f for f in Invitation._meta.get_fields() if isinstance(f, models.DateTimeField)]


@pytest.mark.parametrize("model", [Response, Answer, Invitation])
def test_the_admin_cannot_show_responses_or_participation(model: type[models.Model]) -> None:
    assert not admin.site.is_registered(model)


@pytest.mark.parametrize("model", [RunSummary, QuestionAggregate, ConstructAggregate])
def test_summary_tables_hold_no_person(model: type[models.Model]) -> None:
    user_model = get_user_model()
    assert all(
        getattr(f, "related_model", None) is not user_model for f in model._meta.get_fields()
    )


@pytest.mark.django_db
def test_responses_are_listed_in_random_key_order_not_submission_order() -> None:
    assert Response._meta.ordering == ("id",)
    open_run = make_open_run(size=12)
    for index, token in enumerate(open_run.tokens):
        response_submit(
            invitation=invitation_redeem(raw_token=token),
            answers=valid_answers(open_run.run, index),
        )
    listed = [str(r.pk) for r in Response.objects.all()]
    assert listed == sorted(listed)


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
