"""Retro cards are unlinkable like pulse responses: no order that follows submission,
nothing in the logs. (Keys, fields and the admin: tests/surveys/test_unlinkable.py.)"""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from surveys.retros import board, services
from surveys.retros.models import RetroCard, RetroSession
from tests.conftest import make_open_retro, submit_retro, valid_cards


def _texts_in_storage_order() -> list[str]:
    physical = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT text FROM {RetroCard._meta.db_table} ORDER BY {physical}"  # noqa: S608
        )
        return [row[0] for row in cursor.fetchall()]


def _write_numbered_cards(count: int) -> RetroSession:
    """`count` people each write one shared card, same prompt and category, numbered."""
    open_retro = make_open_retro(size=count)
    prompt = open_retro.session.prompts.first().prompt_id
    for index, token in enumerate(open_retro.tokens):
        card = {
            "prompt": prompt,
            "text": f"card {index:02}",
            "category": "tests",
            "effect": "helped",
        }
        services.retro_response_submit(
            invitation=services.retro_invitation_redeem(raw_token=token),
            cards=[card | {"shared": True}],
        )
    return open_retro.session


@pytest.mark.django_db
def test_after_closing_storage_order_no_longer_follows_submission_order() -> None:
    session = _write_numbered_cards(12)
    submitted = [f"card {index:02}" for index in range(12)]
    assert _texts_in_storage_order() == []  # open and unpublished: sealed, no order to follow
    services.retro_session_close(session_id=session.pk)
    stored = _texts_in_storage_order()
    assert sorted(stored) == submitted
    assert stored != submitted  # a shuffle of 12 keeps the order with p = 1/12! ≈ 2e-9


@pytest.mark.django_db
def test_the_board_presents_cards_shuffled_on_every_reading() -> None:
    session = _write_numbered_cards(12)
    submitted = [f"card {index:02}" for index in range(12)]
    services.retro_session_close(session_id=session.pk)
    # Put storage back in submission order: what the board shows must still be shuffled.
    cards = list(RetroCard.objects.values_list("response_id", "prompt_id", "text"))
    RetroCard.objects.all().delete()
    RetroCard.objects.bulk_create(
        RetroCard(
            response_id=r, prompt_id=p, text=t, category="tests", effect="helped", shared=True
        )
        for r, p, t in sorted(cards, key=lambda card: card[2])
    )
    assert _texts_in_storage_order() == submitted
    session = RetroSession.objects.get(pk=session.pk)
    readings = [
        [card.text for card in board.retro_board(session=session).document.prompts[0].cards]
        for _ in range(2)
    ]
    for reading in readings:
        assert sorted(reading) == submitted
        assert reading != submitted  # insertion order: p = 1/12!
    assert readings[0] != readings[1]


@pytest.mark.django_db
def test_writing_cards_logs_nothing_that_names_the_person(caplog: pytest.LogCaptureFixture) -> None:
    open_retro = make_open_retro(size=5)
    invitation = services.retro_invitation_redeem(raw_token=open_retro.tokens[0])
    with caplog.at_level(logging.DEBUG):
        services.retro_response_submit(invitation=invitation, cards=valid_cards(open_retro.session))
    user = invitation.user
    for record in caplog.records:
        message = record.getMessage()
        assert user.username not in message
        assert user.email not in message


@pytest.mark.django_db
def test_request_logs_never_carry_a_retro_link_token(client, caplog) -> None:
    open_retro = make_open_retro(size=5)
    token = open_retro.tokens[0]
    submit_retro(open_retro, 1)
    with caplog.at_level(logging.INFO):
        assert client.get(f"/r/{token}/").status_code == 409
        assert client.get(f"/api/retro-invitations/{token}/").status_code == 409
    messages = [record.getMessage() for record in caplog.records]
    assert any("/r/<token>/" in message for message in messages)
    assert any("/api/retro-invitations/<token>/" in message for message in messages)
    assert not any(token in message for message in messages)
