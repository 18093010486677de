"""The retro API: schema, writing by token and logged in, clear 4xx errors that write
nothing, running sessions, the board and the heatmap."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from surveys.people.models import Role
from surveys.retros.models import RetroPrompt, RetroSession, SealedRetroResponse
from surveys.retros.services import retro_session_close
from tests.conftest import make_open_retro, submit_retro, valid_cards
from tests.factories import MembershipFactory, TeamFactory

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def _submit(api_client, token: str, body):
    url = reverse("api-retro-invitation-submission", args=[token])
    # json.dumps escapes what is not ASCII, so a lone surrogate travels as "\ud800", as it
    # would from any client.
    return api_client.post(url, json.dumps(body), content_type="application/json")


def test_the_openapi_schema_documents_every_retro_route(api_client) -> None:
    response = api_client.get(reverse("schema"), HTTP_ACCEPT="application/json")
    paths = response.json()["paths"]
    for route in (
        "/api/teams/{slug}/retros/",
        "/api/teams/{slug}/retro-heatmap/",
        "/api/retros/{session_id}/",
        "/api/retros/{session_id}/close/",
        "/api/retros/{session_id}/board/",
        "/api/retros/{session_id}/export/{export_format}/",
        "/api/retro-invitations/{token}/",
        "/api/retro-invitations/{token}/submission/",
        "/api/me/retros/",
        "/api/me/retros/{session_id}/",
        "/api/retro-prompts/",
        "/api/retro-prompt-sets/",
    ):
        assert route in paths
    card = response.json()["components"]["schemas"]["RetroCardSchemaRequest"]
    assert set(card["properties"]) == {"prompt", "text", "category", "effect", "shared"}


def test_the_link_holder_gets_the_prompts_categories_and_effects(api_client) -> None:
    open_retro = make_open_retro(size=5)
    form = api_client.get(reverse("api-retro-invitation", args=[open_retro.tokens[0]])).json()
    assert [p["number"] for p in form["prompts"]] == [1, 2, 3, 4]
    assert form["prompts"][0]["suggested_effect"] == "helped"
    assert {c["key"] for c in form["categories"]} >= {"security_sensitive", "other"}
    assert [e["key"] for e in form["effects"]] == ["helped", "hurt", "chose_not"]


def test_writing_by_token_returns_201_once_then_409(api_client) -> None:
    open_retro = make_open_retro(size=5)
    body = {"cards": valid_cards(open_retro.session)}
    response = _submit(api_client, open_retro.tokens[0], body)
    assert response.status_code == 201
    assert response.json() == {"status": "recorded", "cards": 2}
    again = _submit(api_client, open_retro.tokens[0], body)
    assert again.status_code == 409
    assert again.json()["code"] == "already_submitted"
    assert SealedRetroResponse.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": ""}, "cards[1].text"),
        ({"text": "x" * 1001}, "cards[1].text"),
        ({"text": "a lone \ud800 surrogate"}, "cards[1].text"),
        ({"category": "vibes"}, "cards[1].category"),
        ({"effect": "meh"}, "cards[1].effect"),
        ({"prompt": 424242}, "cards[1].prompt"),
        ({"shared": "maybe"}, "cards[1].shared"),
    ],
)
def test_bad_cards_get_400_naming_the_field_and_write_nothing(api_client, change, field) -> None:
    open_retro = make_open_retro(size=5)
    cards = valid_cards(open_retro.session)
    cards[1] = cards[1] | change
    response = _submit(api_client, open_retro.tokens[0], {"cards": cards})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]
    assert not SealedRetroResponse.objects.exists()


@pytest.mark.parametrize("body", [{}, {"cards": []}, {"cards": "text"}, [], {"cards": [1]}])
def test_a_malformed_body_gets_400(api_client, body) -> None:
    open_retro = make_open_retro(size=5)
    response = _submit(api_client, open_retro.tokens[0], body)
    assert response.status_code == 400
    assert response.json()["errors"]
    assert not SealedRetroResponse.objects.exists()


def test_an_unknown_link_gets_404_and_a_closed_session_410(api_client) -> None:
    assert _submit(api_client, "x" * 43, {"cards": []}).status_code == 404
    open_retro = make_open_retro(size=5)
    retro_session_close(session_id=open_retro.session.pk)
    response = _submit(api_client, open_retro.tokens[0], {"cards": valid_cards(open_retro.session)})
    assert response.status_code == 410
    assert response.json()["code"] == "retro_closed"
    assert not SealedRetroResponse.objects.exists()


def test_writing_logged_in_once(api_client) -> None:
    open_retro = make_open_retro(size=5)
    api_client.force_authenticate(open_retro.invitations[0].user)
    listed = api_client.get(reverse("api-my-retros")).json()
    assert [session["id"] for session in listed] == [open_retro.session.pk]
    url = reverse("api-my-retro", args=[open_retro.session.pk])
    assert len(api_client.get(url).json()["prompts"]) == 4
    body = {"cards": valid_cards(open_retro.session)}
    assert api_client.post(url, body, format="json").status_code == 201
    assert api_client.post(url, body, format="json").status_code == 404
    assert _submit(api_client, open_retro.tokens[0], body).status_code == 409


def _session_body(**change) -> dict:
    builtin = list(
        RetroPrompt.objects.filter(organisation__isnull=True).values_list("pk", flat=True)
    )
    body = {
        "label": "Sprint 10",
        "sprint_start": (timezone.localdate() - timedelta(days=13)).isoformat(),
        "sprint_end": timezone.localdate().isoformat(),
        "closes_at": (timezone.now() + timedelta(days=2)).isoformat(),
        "prompts": builtin[:2],
        "new_prompts": ["What would you automate next?"],
        "send": False,
    }
    return body | change


def test_a_facilitator_creates_closes_and_reads_a_session(api_client) -> None:
    team = TeamFactory()
    engineers = [MembershipFactory(team=team).user for _ in range(5)]
    facilitator = MembershipFactory(team=team, role=Role.FACILITATOR).user
    api_client.force_authenticate(facilitator)
    created = api_client.post(
        reverse("api-team-retros", args=[team.slug]), _session_body(), format="json"
    )
    assert created.status_code == 201, created.json()
    session = created.json()
    assert [p["text"] for p in session["prompts"]][-1] == "What would you automate next?"
    # Nobody has written: said as "fewer than k", the same as for one to four people.
    assert (session["submissions"], session["k_reached"]) == (None, False)
    board = reverse("api-retro-board", args=[session["id"]])
    hidden = api_client.get(board)
    assert hidden.status_code == 409
    assert hidden.json()["code"] == "board_hidden"
    # Five engineers write logged in, then the facilitator closes and reads the board.
    for engineer in engineers:
        api_client.force_authenticate(engineer)
        cards = [
            {
                "prompt": session["prompts"][0]["id"],
                "text": f"By {engineer.username}",
                "category": "tests",
                "effect": "helped",
                "shared": True,
            }
        ]
        url = reverse("api-my-retro", args=[session["id"]])
        assert api_client.post(url, {"cards": cards}, format="json").status_code == 201
    api_client.force_authenticate(facilitator)
    closed = api_client.post(reverse("api-retro-close", args=[session["id"]]))
    assert closed.json()["status"] == "closed"
    # Five of the six invited wrote: the one who did not is fewer than k, so no count.
    assert (closed.json()["submissions"], closed.json()["k_reached"]) == (None, True)
    document = api_client.get(board).json()
    assert document["schema"] == "candor-retro-export/1"
    texts = [card["text"] for card in document["prompts"][0]["cards"]]
    assert sorted(texts) == ["By [name]"] * 5  # each author's own username is masked
    export = api_client.get(reverse("api-retro-export", args=[session["id"], "md"]))
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/markdown")
    for unknown in ("all", ""):
        refused = api_client.get(
            reverse("api-retro-export", args=[session["id"], "md"]), {"prompts": unknown}
        )
        assert refused.status_code == 400
        assert list(refused.json()["errors"]) == ["prompts"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"label": ""}, "label"),
        ({"closes_at": "tomorrow"}, "closes_at"),
        ({"prompts": [], "new_prompts": []}, "prompts"),
        ({"prompts": [987654]}, "prompts"),
        ({"k": 3}, "k"),
        ({"sprint_end": "2000-01-01"}, "sprint_end"),
    ],
)
def test_a_bad_session_gets_400_naming_the_field(api_client, change, field) -> None:
    team = TeamFactory()
    api_client.force_authenticate(MembershipFactory(team=team, role=Role.FACILITATOR).user)
    response = api_client.post(
        reverse("api-team-retros", args=[team.slug]), _session_body(**change), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not RetroSession.objects.exists()


def test_listing_a_teams_sessions_takes_the_same_queries_for_one_or_many(api_client) -> None:
    open_retro = make_open_retro(size=5)
    api_client.force_authenticate(open_retro.facilitator)
    url = reverse("api-team-retros", args=[open_retro.team.slug])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api_client.get(url).status_code == 200
        return len(captured)

    one = queries()
    for number in range(2):
        make_open_retro(size=1, team=open_retro.team, label=f"Sprint {number}")
    assert len(api_client.get(url).json()) == 3
    assert queries() == one


def test_engineers_see_sessions_but_cannot_create_or_read_the_board(api_client) -> None:
    open_retro = make_open_retro(size=5)
    api_client.force_authenticate(open_retro.invitations[0].user)
    listed = api_client.get(reverse("api-team-retros", args=[open_retro.team.slug]))
    assert listed.status_code == 200
    assert listed.json()[0]["submissions"] is None
    create = api_client.post(
        reverse("api-team-retros", args=[open_retro.team.slug]), _session_body(), format="json"
    )
    assert create.status_code == 403
    session_id = open_retro.session.pk
    assert api_client.get(reverse("api-retro-board", args=[session_id])).status_code == 403
    assert api_client.post(reverse("api-retro-close", args=[session_id])).status_code == 403


def test_prompts_and_prompt_sets_are_added_by_those_who_run_retros(api_client) -> None:
    team = TeamFactory()
    api_client.force_authenticate(MembershipFactory(team=team, role=Role.FACILITATOR).user)
    created = api_client.post(
        reverse("api-retro-prompts"),
        {"team": team.slug, "text": "What did you unlearn?", "suggested_effect": ""},
        format="json",
    )
    assert created.status_code == 201
    prompt_id = created.json()["id"]
    library = api_client.get(reverse("api-retro-prompts")).json()
    assert [p["built_in"] for p in library] == [True, True, True, True, False]
    prompt_set = api_client.post(
        reverse("api-retro-prompt-sets"),
        {"team": team.slug, "name": "Short", "prompts": [prompt_id, library[0]["id"]]},
        format="json",
    )
    assert prompt_set.status_code == 201
    assert prompt_set.json()["prompts"] == [prompt_id, library[0]["id"]]
    engineer = MembershipFactory(team=team).user
    api_client.force_authenticate(engineer)
    refused = api_client.post(
        reverse("api-retro-prompts"), {"team": team.slug, "text": "Mine"}, format="json"
    )
    assert refused.status_code == 403


def test_the_heatmap_api_hides_cells_under_k_and_totals_only_shown_cells(api_client) -> None:
    open_retro = make_open_retro(size=6)
    submit_retro(open_retro, 6)
    retro_session_close(session_id=open_retro.session.pk)
    api_client.force_authenticate(open_retro.invitations[0].user)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(reverse("api-team-retro-heatmap", args=[open_retro.team.slug]))
    assert response.status_code == 200
    assert len(queries) <= 6  # session, visibility, sessions with counts, tallies
    data = response.json()
    assert data["sprints"][0]["submissions"] is None  # 6 of 7 invited: 1 did not
    rows = {row["category"]: row for row in data["rows"]}
    assert rows["debugging"]["cells"][0]["counts"] == {
        "people": 6,
        "helped": None,  # one person of six: hidden
        "hurt": 6,
        "chose_not": 0,
        "lean": None,  # "mostly hurt" would say the hidden helped count is under 6
    }
    assert rows["tests"]["cells"][0] == {"shown": False, "counts": None}
    assert rows["tests"]["shown_total"] is None
    assert rows["debugging"]["shown_total"]["people"] == 6


def test_someone_outside_the_team_gets_404_for_its_heatmap(api_client) -> None:
    open_retro = make_open_retro(size=5)
    api_client.force_authenticate(MembershipFactory().user)
    url = reverse("api-team-retro-heatmap", args=[open_retro.team.slug])
    assert api_client.get(url).status_code == 404
