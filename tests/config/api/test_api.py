"""The API: schema, answering by token and by login, clear 4xx errors, results under k."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from surveys.pulses.models import SealedResponse
from surveys.pulses.rotation import MAX_ITEMS
from tests.conftest import close_and_refresh, make_open_run, submit_all, valid_answers

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def _submit(api_client, token: str, answers: dict):
    url = reverse("api-invitation-response", args=[token])
    return api_client.post(url, {"answers": answers}, format="json")


def test_the_openapi_schema_documents_every_route(api_client) -> None:
    response = api_client.get(reverse("schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for route in (
        "/api/teams/",
        "/api/teams/{slug}/results/",
        "/api/runs/{run_id}/results/",
        "/api/invitations/{token}/response/",
        "/api/me/pulses/{run_id}/",
        "/api/questions/",
    ):
        assert route in paths


def test_docs_page_renders(api_client) -> None:
    assert api_client.get(reverse("swagger-ui")).status_code == 200


def test_answering_by_token_returns_201_and_stores_one_response(api_client) -> None:
    open_run = make_open_run(size=5)
    form = api_client.get(reverse("api-invitation", args=[open_run.tokens[0]]))
    assert form.status_code == 200
    assert len(form.json()["questions"]) == MAX_ITEMS
    response = _submit(api_client, open_run.tokens[0], valid_answers(open_run.run))
    assert response.status_code == 201
    assert SealedResponse.objects.count() == 1
    again = _submit(api_client, open_run.tokens[0], valid_answers(open_run.run))
    assert again.status_code == 409
    assert again.json()["code"] == "already_answered"


@pytest.mark.parametrize(
    ("answers_change", "field"),
    [
        ({"mystery": 1}, "mystery"),
        ({"perceived_speed": 1000}, "perceived_speed"),
        ({"ai_trust_accuracy": "a lot"}, "ai_trust_accuracy"),
    ],
)
def test_bad_answers_get_400_naming_the_field(api_client, answers_change: dict, field: str) -> None:
    open_run = make_open_run(size=5)
    answers = {**valid_answers(open_run.run), **answers_change}
    response = _submit(api_client, open_run.tokens[0], answers)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not SealedResponse.objects.exists()


def test_a_missing_answer_gets_400_naming_the_field(api_client) -> None:
    open_run = make_open_run(size=5)
    answers = valid_answers(open_run.run)
    del answers["perceived_speed"]
    response = _submit(api_client, open_run.tokens[0], answers)
    assert response.status_code == 400
    assert "perceived_speed" in response.json()["errors"]


@pytest.mark.parametrize("body", [{}, {"answers": "yes"}, {"answers": [1, 2]}, []])
def test_a_malformed_body_gets_400_naming_answers(api_client, body) -> None:
    open_run = make_open_run(size=5)
    url = reverse("api-invitation-response", args=[open_run.tokens[0]])
    response = api_client.post(url, body, format="json")
    assert response.status_code == 400
    assert not SealedResponse.objects.exists()


def test_tampered_and_closed_tokens_get_clear_4xx(api_client) -> None:
    from surveys.pulses.services import pulse_run_close

    open_run = make_open_run(size=5)
    tampered = _submit(api_client, "not-a-real-token", valid_answers(open_run.run))
    assert tampered.status_code == 404
    assert tampered.json()["code"] == "invitation_not_found"
    pulse_run_close(run_id=open_run.run.pk)
    closed = _submit(api_client, open_run.tokens[1], valid_answers(open_run.run))
    assert closed.status_code == 410
    assert closed.json()["code"] == "run_closed"


def test_my_pulses_lists_and_answers_with_a_token_login(api_client) -> None:
    open_run = make_open_run(size=5)
    user = open_run.invitations[0].user
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    listed = api_client.get(reverse("api-my-pulses")).json()
    assert [p["run"]["id"] for p in listed] == [open_run.run.pk]
    url = reverse("api-my-pulse", args=[open_run.run.pk])
    assert (
        api_client.post(url, {"answers": valid_answers(open_run.run)}, format="json").status_code
        == 201
    )
    assert api_client.get(reverse("api-my-pulses")).json() == []
    assert (
        api_client.post(url, {"answers": valid_answers(open_run.run)}, format="json").status_code
        == 404
    )


def test_results_api_hides_everything_under_k(api_client, manager_of) -> None:
    open_run = make_open_run(size=8)
    submit_all(open_run, 4)
    close_and_refresh(open_run.run.pk)
    api_client.force_authenticate(manager_of(open_run.team))
    body = api_client.get(reverse("api-run-results", args=[open_run.run.pk])).json()
    assert body["suppressed"] is True
    assert body["message"] == "Not enough responses (k = 5)."
    assert body["respondents"] is None
    assert body["response_rate"] is None
    assert body["questions"] == []
    assert body["constructs"] == []


def test_results_api_gives_n_and_ci_at_k(api_client, manager_of) -> None:
    open_run = make_open_run(size=8)
    submit_all(open_run, 5)
    close_and_refresh(open_run.run.pk)
    api_client.force_authenticate(manager_of(open_run.team))
    body = api_client.get(reverse("api-team-results", args=[open_run.team.slug])).json()
    assert body[0]["respondents"] == 5
    safety = next(c for c in body[0]["constructs"] if c["construct"] == "psychological_safety")
    assert safety["n"] == 5
    assert safety["ci_low"] is not None


def test_other_teams_results_are_not_found(api_client, manager_of) -> None:
    open_run = make_open_run(size=5)
    other = make_open_run(size=5)
    api_client.force_authenticate(manager_of(open_run.team))
    assert api_client.get(reverse("api-run-results", args=[other.run.pk])).status_code == 404
    assert api_client.get(reverse("api-team-results", args=[other.team.slug])).status_code == 404


def test_results_need_a_login(api_client) -> None:
    assert api_client.get(reverse("api-teams")).status_code in (401, 403)


def test_team_results_list_uses_a_constant_number_of_queries(api_client, manager_of) -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)
    close_and_refresh(open_run.run.pk)
    api_client.force_authenticate(manager_of(open_run.team))
    url = reverse("api-team-results", args=[open_run.team.slug])
    with CaptureQueriesContext(connection) as one_run:
        api_client.get(url)
    for _ in range(3):
        more = make_open_run(size=5, team=open_run.team)
        close_and_refresh(more.run.pk)
    with CaptureQueriesContext(connection) as four_runs:
        api_client.get(url)
    assert len(four_runs.captured_queries) == len(one_run.captured_queries)


def test_admins_add_questions_to_their_organisation_bank(api_client) -> None:
    from surveys.people.models import Role
    from surveys.pulses.models import Question
    from tests.factories import MembershipFactory

    admin = MembershipFactory(role=Role.ADMIN).user
    engineer = MembershipFactory().user
    payload = {"key": "deploy-confidence", "text": "I feel confident deploying on Fridays."}
    api_client.force_authenticate(engineer)
    assert api_client.post(reverse("api-questions"), payload, format="json").status_code == 403
    api_client.force_authenticate(admin)
    created = api_client.post(reverse("api-questions"), payload, format="json")
    assert created.status_code == 201
    assert Question.objects.get(key="deploy-confidence").organisation is not None
    duplicate = api_client.post(reverse("api-questions"), payload, format="json")
    assert duplicate.status_code == 400
    assert "key" in duplicate.json()["errors"]


def test_question_trends_give_each_question_across_runs_and_hide_runs_under_k(
    api_client, manager_of
) -> None:
    shown = make_open_run(size=6)
    submit_all(shown, 5)
    hidden = make_open_run(size=6, team=shown.team)
    submit_all(hidden, 4)
    for open_run in (shown, hidden):
        close_and_refresh(open_run.run.pk)
    api_client.force_authenticate(manager_of(shown.team))
    body = api_client.get(reverse("api-team-questions", args=[shown.team.slug])).json()
    speed = next(t for t in body if t["key"] == "perceived_speed")
    by_run = {p["run"]["id"]: p for p in speed["points"]}
    assert by_run[shown.run.pk]["n"] == 5
    assert by_run[shown.run.pk]["mean"] is not None
    assert by_run[hidden.run.pk] == {
        **by_run[hidden.run.pk],
        "suppressed": True,
        "n": None,
        "mean": None,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "multi", "options": [{"label": "no key"}]}, "options"),
        (
            {"kind": "multi", "options": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]},
            "options",
        ),
        ({"kind": "multi"}, "options"),
        ({"scale_min": 1, "scale_max": 10**12}, "scale_max"),
        ({"scale_min": 1, "scale_max": 40}, "scale_max"),
        ({"scale_min": 5, "scale_max": 5}, "scale_max"),
    ],
)
def test_a_malformed_question_is_refused_with_the_field_named(api_client, change, field) -> None:
    from surveys.people.models import Role
    from tests.factories import MembershipFactory

    api_client.force_authenticate(MembershipFactory(role=Role.ADMIN).user)
    payload = {"key": "custom-q", "text": "How was your week?", **change}
    response = api_client.post(reverse("api-questions"), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize("path", ["/api/me/pulses/{}/", "/api/runs/{}/results/"])
def test_an_oversized_id_is_not_found_rather_than_a_server_error(api_client, path: str) -> None:
    from tests.factories import UserFactory

    api_client.force_authenticate(UserFactory())
    assert api_client.get(path.format(10**30)).status_code == 404
