"""The answer page reached from a single-use link, and 'My pulses' for logged-in people."""

from __future__ import annotations

import pytest
from django.urls import reverse

from surveys.pulses.models import SealedResponse
from surveys.pulses.rotation import MAX_ITEMS
from surveys.pulses.services import pulse_run_close
from tests.conftest import make_open_run, valid_answers

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def _link(token: str) -> str:
    return reverse("pulse-answer", args=[token])


def test_the_link_shows_the_pulse_without_login_and_is_never_cached(client) -> None:
    open_run = make_open_run(size=5)
    response = client.get(_link(open_run.tokens[0]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert html.count("<fieldset") == MAX_ITEMS
    assert html.count("<legend>") == MAX_ITEMS
    assert 'name="csrfmiddlewaretoken"' in html


def test_answering_shows_the_confirmation_and_the_link_then_says_it_was_used(client) -> None:
    open_run = make_open_run(size=5)
    response = client.post(_link(open_run.tokens[0]), valid_answers(open_run.run))
    assert response.status_code == 200
    assert "your answers are in" in response.content.decode()
    assert SealedResponse.objects.count() == 1
    again = client.get(_link(open_run.tokens[0]))
    assert again.status_code == 409
    assert "already been answered" in again.content.decode()


def test_a_missing_answer_redisplays_the_form_with_the_question_marked(client) -> None:
    open_run = make_open_run(size=5)
    answers = valid_answers(open_run.run)
    del answers["ai_trust_accuracy"]
    response = client.post(_link(open_run.tokens[0]), answers)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="err-ai_trust_accuracy"' in html
    assert "This question needs an answer." in html
    assert 'value="-10" checked' in html  # the perceived speed given is kept
    assert not SealedResponse.objects.exists()


def test_a_tampered_link_gets_a_clear_page(client) -> None:
    response = client.get(_link("x" * 43))
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_a_closed_pulse_gets_a_clear_page(client) -> None:
    open_run = make_open_run(size=5)
    pulse_run_close(run_id=open_run.run.pk)
    response = client.post(_link(open_run.tokens[0]), valid_answers(open_run.run))
    assert response.status_code == 410
    assert "This pulse has closed" in response.content.decode()
    assert not SealedResponse.objects.exists()


def test_my_pulses_lists_open_runs_and_answers_them_once(client) -> None:
    open_run = make_open_run(size=5)
    client.force_login(open_run.invitations[0].user)
    listing = client.get(reverse("my-pulses")).content.decode()
    answer_url = reverse("my-pulse-answer", args=[open_run.run.pk])
    assert answer_url in listing
    assert client.post(answer_url, valid_answers(open_run.run)).status_code == 200
    assert answer_url not in client.get(reverse("my-pulses")).content.decode()
    assert client.get(answer_url).status_code == 404
    assert client.get(_link(open_run.tokens[0])).status_code == 409


def test_healthz_answers_ok(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
