"""The retro pages: writing cards from a link or logged in, running a session, the board,
the exports, and the heatmap on the team's page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys.people.models import Role
from surveys.retros.models import (
    CARD_TEXT_MAX,
    RetroCard,
    RetroPrompt,
    RetroPromptSet,
    RetroSession,
    RetroStatus,
    SealedRetroResponse,
)
from surveys.retros.services import retro_session_close
from tests.conftest import make_open_retro, submit_retro
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def _link(token: str) -> str:
    return reverse("retro-write", args=[token])


def _slot(number: int, text: str, category: str = "tests", effect: str = "helped", **more):
    prefix = f"c{number}-"
    data = {prefix + "text": text, prefix + "category": category, prefix + "effect": effect}
    return data | {prefix + key: value for key, value in more.items()}


# --- writing cards --------------------------------------------------------------------------


def test_the_link_shows_every_prompt_with_labelled_fields_and_is_never_cached(client) -> None:
    open_retro = make_open_retro(size=5)
    response = client.get(_link(open_retro.tokens[0]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert html.count('class="question retro-prompt"') == 4
    assert "When did AI help you this sprint?" in html
    for number in range(1, 9):
        assert f'<label for="c{number}-text">' in html
        assert f'<label for="c{number}-category">' in html
    # The prompt's suggested effect is pre-selected.
    assert 'name="c1-effect" value="helped" checked' in html
    assert 'name="c3-effect" value="hurt" checked' in html


def test_writing_cards_stores_the_filled_slots_only(client) -> None:
    open_retro = make_open_retro(size=5)
    data = _slot(1, "Fixtures in minutes", shared="on") | _slot(4, "Hallucinated API", "debugging")
    response = client.post(_link(open_retro.tokens[0]), data | {"c3-effect": "hurt"})
    assert response.status_code == 200
    assert "your cards are in" in response.content.decode()
    again = client.get(_link(open_retro.tokens[0]))
    assert again.status_code == 409
    assert "already in" in again.content.decode()
    assert SealedRetroResponse.objects.count() == 1  # sealed until published or closed
    assert not RetroCard.objects.exists()
    retro_session_close(session_id=open_retro.session.pk)
    cards = {card.text: card for card in RetroCard.objects.all()}
    assert set(cards) == {"Fixtures in minutes", "Hallucinated API"}
    assert cards["Fixtures in minutes"].shared
    assert not cards["Hallucinated API"].shared
    assert cards["Hallucinated API"].prompt.position == 2


def test_an_empty_form_is_refused_with_a_clear_message(client) -> None:
    open_retro = make_open_retro(size=5)
    response = client.post(_link(open_retro.tokens[0]), {"c1-effect": "helped"})
    assert response.status_code == 400
    assert "Write at least one card." in response.content.decode()
    assert not SealedRetroResponse.objects.exists()


def test_a_bad_card_redisplays_the_form_with_the_field_marked_and_keeps_what_was_typed(
    client,
) -> None:
    open_retro = make_open_retro(size=5)
    data = _slot(1, "Kept text", category="") | _slot(3, "x" * (CARD_TEXT_MAX + 5), shared="on")
    response = client.post(_link(open_retro.tokens[0]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="c1-category-error"' in html
    assert "Choose a task category." in html
    assert 'id="c3-text-error"' in html
    assert f"Keep a card to {CARD_TEXT_MAX} characters" in html
    assert ">Kept text</textarea>" in html
    assert 'name="c3-shared" checked' in html
    assert not SealedRetroResponse.objects.exists()
    assert client.get(_link(open_retro.tokens[0])).status_code == 200  # the link still works


def test_an_unknown_category_posted_is_named(client) -> None:
    open_retro = make_open_retro(size=5)
    response = client.post(_link(open_retro.tokens[0]), _slot(1, "Text", category="vibes"))
    assert response.status_code == 400
    assert "Unknown task category “vibes”" in response.content.decode()


def test_a_tampered_link_and_a_closed_session_get_clear_pages(client) -> None:
    assert client.get(_link("x" * 43)).status_code == 404
    open_retro = make_open_retro(size=5)
    retro_session_close(session_id=open_retro.session.pk)
    response = client.post(_link(open_retro.tokens[0]), _slot(1, "Late card"))
    assert response.status_code == 410
    assert "This retro has closed" in response.content.decode()
    assert not SealedRetroResponse.objects.exists()


def test_my_retros_lists_open_sessions_and_writes_once_logged_in(client) -> None:
    open_retro = make_open_retro(size=5)
    client.force_login(open_retro.invitations[0].user)
    write_url = reverse("my-retro-write", args=[open_retro.session.pk])
    assert write_url in client.get(reverse("my-retros")).content.decode()
    assert client.post(write_url, _slot(1, "Logged in card")).status_code == 200
    assert write_url not in client.get(reverse("my-retros")).content.decode()
    assert client.get(write_url).status_code == 404
    assert client.get(_link(open_retro.tokens[0])).status_code == 409  # one per person


def test_someone_not_invited_cannot_write_logged_in(client) -> None:
    open_retro = make_open_retro(size=5)
    client.force_login(UserFactory())
    assert client.get(reverse("my-retro-write", args=[open_retro.session.pk])).status_code == 404


# --- running a session ----------------------------------------------------------------------


def _new_session_data(**change) -> dict:
    builtin = RetroPrompt.objects.filter(organisation__isnull=True).values_list("pk", flat=True)
    closes = timezone.localtime() + timedelta(days=2)
    data = {
        "label": "Sprint 9",
        "sprint_start": (timezone.localdate() - timedelta(days=13)).isoformat(),
        "sprint_end": timezone.localdate().isoformat(),
        "closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
        "prompts": [str(pk) for pk in builtin],
        "new_prompt_1": "",
        "new_prompt_2": "",
        "save_as_set": "",
        "k": "5",
    }
    return data | change


def test_a_facilitator_starts_a_retro_from_the_form(client, django_capture_on_commit_callbacks):
    team = TeamFactory()
    for _ in range(5):
        MembershipFactory(team=team)
    facilitator = MembershipFactory(team=team, role=Role.FACILITATOR).user
    client.force_login(facilitator)
    url = reverse("retro-session-new", args=[team.slug])
    form = client.get(url).content.decode()
    assert 'type="datetime-local"' in form
    assert f'name="sprint_end" value="{timezone.localdate().isoformat()}"' in form  # ISO
    assert form.count('type="checkbox" name="prompts"') == 4
    data = _new_session_data(new_prompt_1="What would you automate next?", save_as_set="Ours")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url, data)
    session = RetroSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("retro-session", args=[session.pk])
    assert session.prompts.count() == 5
    assert session.invitations.count() == 6
    assert RetroPromptSet.objects.filter(name="Ours", organisation=team.organisation).exists()
    assert len(callbacks) == 1  # the links are emailed after commit


def test_the_form_keeps_the_input_and_names_the_field_on_errors(client) -> None:
    team = TeamFactory()
    client.force_login(MembershipFactory(team=team, role=Role.FACILITATOR).user)
    data = _new_session_data(
        prompts=[], sprint_end=(timezone.localdate() - timedelta(days=30)).isoformat()
    )
    response = client.post(reverse("retro-session-new", args=[team.slug]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_sprint_end-error"' in html
    assert 'value="Sprint 9"' in html
    assert not RetroSession.objects.exists()


def test_a_prompt_set_preselects_its_prompts(client) -> None:
    team = TeamFactory()
    client.force_login(MembershipFactory(team=team, role=Role.FACILITATOR).user)
    own = RetroPrompt.objects.create(organisation=team.organisation, text="Our own prompt")
    prompt_set = RetroPromptSet.objects.create(organisation=team.organisation, name="Short")
    prompt_set.items.create(prompt=own, position=1)
    html = client.get(reverse("retro-session-new", args=[team.slug]), {"set": prompt_set.pk})
    checked = re.findall(r'name="prompts" value="(\d+)"[^>]* checked', html.content.decode())
    assert checked == [str(own.pk)]


def test_an_engineer_cannot_run_retros(client) -> None:
    open_retro = make_open_retro(size=5)
    engineer = open_retro.invitations[0].user
    client.force_login(engineer)
    team = open_retro.team
    assert client.get(reverse("retro-session-new", args=[team.slug])).status_code == 403
    assert client.get(reverse("retro-session", args=[open_retro.session.pk])).status_code == 403
    export = reverse("retro-session-export", args=[open_retro.session.pk, "md"])
    assert client.get(export).status_code == 403
    close = reverse("retro-session-close", args=[open_retro.session.pk])
    assert client.post(close).status_code == 403
    assert RetroSession.objects.get().status == RetroStatus.OPEN


def test_someone_outside_the_team_gets_404(client) -> None:
    open_retro = make_open_retro(size=5)
    client.force_login(MembershipFactory(role=Role.FACILITATOR).user)  # another team's
    assert client.get(reverse("retro-session", args=[open_retro.session.pk])).status_code == 404
    assert client.get(reverse("team-retros", args=[open_retro.team.slug])).status_code == 404


def test_a_manager_of_a_parent_team_runs_its_retros(client) -> None:
    parent = TeamFactory()
    team = TeamFactory(parent=parent, organisation=parent.organisation)
    open_retro = make_open_retro(size=5, team=team)
    manager = MembershipFactory(team=parent, role=Role.MANAGER).user
    client.force_login(manager)
    assert client.get(reverse("retro-session", args=[open_retro.session.pk])).status_code == 200


def test_the_board_shows_only_the_count_then_the_shared_cards_of_k_people(client) -> None:
    open_retro = make_open_retro(size=6)
    submit_retro(open_retro, 4)
    client.force_login(open_retro.facilitator)
    url = reverse("retro-session", args=[open_retro.session.pk])
    html = client.get(url).content.decode()
    assert 'data-people="fewer-than-k"' in html
    assert "Fewer than 5 people</strong> have written cards so far" in html
    assert "4 people" not in html
    assert "So far 4" not in html
    assert 'data-board="waiting"' in html
    assert "Card 0a" not in html
    submit_retro(open_retro, 1, first=4)
    html = client.get(url).content.decode()
    assert 'data-board="shown"' in html
    assert html.count('class="retro-card effect-') == 10
    assert "Card 0a: the assistant wrote the fixtures" in html
    assert open_retro.invitations[0].user.username not in html
    close = reverse("retro-session-close", args=[open_retro.session.pk])
    assert client.post(close).status_code == 302
    assert RetroSession.objects.get().status == RetroStatus.CLOSED
    assert client.get(url).content.decode().count('class="retro-card effect-') == 10


def test_the_board_stays_hidden_for_a_closed_session_under_k(client) -> None:
    open_retro = make_open_retro(size=6)
    submit_retro(open_retro, 4)
    retro_session_close(session_id=open_retro.session.pk)
    client.force_login(open_retro.facilitator)
    html = client.get(reverse("retro-session", args=[open_retro.session.pk])).content.decode()
    assert 'data-board="suppressed"' in html
    assert 'data-people="fewer-than-k"' in html
    assert "Card 0a" not in html
    export = reverse("retro-session-export", args=[open_retro.session.pk, "md"])
    response = client.get(export)
    assert response.status_code == 409
    assert "Card 0a" not in response.content.decode()


def test_unshared_cards_never_reach_the_board(client) -> None:
    open_retro = make_open_retro(size=5)
    submit_retro(open_retro, 5, shared=False)
    retro_session_close(session_id=open_retro.session.pk)
    client.force_login(open_retro.facilitator)
    html = client.get(reverse("retro-session", args=[open_retro.session.pk])).content.decode()
    assert 'data-board="shown"' in html
    assert "Card 0a" not in html
    assert "No shared cards for this prompt." in html


def test_the_exports_download_as_files(client) -> None:
    open_retro = make_open_retro(size=5)
    client.force_login(open_retro.facilitator)
    prompts = client.get(
        reverse("retro-session-export", args=[open_retro.session.pk, "md"]), {"prompts": "only"}
    )
    assert prompts.status_code == 200
    assert prompts["Content-Type"].startswith("text/markdown")
    assert "prompts.md" in prompts["Content-Disposition"]
    submit_retro(open_retro, 5)
    retro_session_close(session_id=open_retro.session.pk)
    for export_format, content_type in [("csv", "text/csv"), ("json", "application/json")]:
        response = client.get(
            reverse("retro-session-export", args=[open_retro.session.pk, export_format])
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith(content_type)
        assert "Card 0a" in response.content.decode()
    printable = client.get(reverse("retro-session-print", args=[open_retro.session.pk]))
    assert "Card 0a" in printable.content.decode()
    assert (
        client.get(reverse("retro-session-export", args=[open_retro.session.pk, "pdf"])).status_code
        == 404
    )


def test_the_team_retros_page_lists_sessions_with_counts_for_engineers(client) -> None:
    open_retro = make_open_retro(size=5)
    submit_retro(open_retro, 3)
    client.force_login(open_retro.invitations[4].user)
    html = client.get(reverse("team-retros", args=[open_retro.team.slug])).content.decode()
    assert "Sprint 42" in html
    assert '<td data-people="fewer-than-k">Fewer than 5 people <span' in html
    assert reverse("retro-session", args=[open_retro.session.pk]) not in html


# --- the heatmap on the team's page -----------------------------------------------------------


def test_the_team_page_shows_where_ai_helps_with_small_cells_hidden(client) -> None:
    open_retro = make_open_retro(size=6)
    # Everyone writes a debugging/hurt card; the first cards spread over five categories,
    # so only debugging reaches k (and person 2's first card is debugging/helped).
    submit_retro(open_retro, 6)
    retro_session_close(session_id=open_retro.session.pk)
    client.force_login(open_retro.invitations[0].user)
    html = client.get(reverse("team-results", args=[open_retro.team.slug])).content.decode()
    assert "Where AI helps us" in html
    # One of six said it helped: a count of one person, so it says "n < k" instead, and
    # no lean: "mostly hurt" would say that fewer than six said it helped.
    assert "n &lt; k</span> helped · 6 hurt · 0 chose not" in html
    assert "Mostly" not in html
    assert "Lean not shown" in html
    assert html.count('data-state="shown"') == 2  # the cell and its row's total
    assert html.count('data-state="suppressed"') == 10


def test_the_team_page_says_when_no_retro_has_closed(client) -> None:
    team = TeamFactory()
    client.force_login(MembershipFactory(team=team).user)
    html = client.get(reverse("team-results", args=[team.slug])).content.decode()
    assert 'data-empty="retros"' in html
