"""Retro sessions through the services: create, invite, write cards once, close, tally."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from surveys.links.tokens import token_hash
from surveys.people.models import Role
from surveys.retros import services
from surveys.retros.errors import (
    RetroAlreadySubmitted,
    RetroClosed,
    RetroInvitationNotFound,
    RetroNotOpen,
)
from surveys.retros.models import (
    RetroCard,
    RetroInvitation,
    RetroPrompt,
    RetroPromptSet,
    RetroResponse,
    RetroSession,
    RetroStatus,
    RetroTally,
    SealedRetroResponse,
)
from surveys.retros.publication import retro_board_publish
from tests.conftest import make_open_retro, submit_retro, valid_cards
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def _create(team, **change):
    now = timezone.now()
    arguments = {
        "team": team,
        "created_by": None,
        "label": "Sprint 7",
        "sprint_start": timezone.localdate() - timedelta(days=13),
        "sprint_end": timezone.localdate(),
        "closes_at": now + timedelta(days=2),
        "prompt_ids": list(
            RetroPrompt.objects.filter(organisation__isnull=True).values_list("pk", flat=True)
        ),
        "send": False,
    }
    return services.retro_session_create(**(arguments | change))


def test_it_seeds_the_four_built_in_prompts() -> None:
    texts = list(
        RetroPrompt.objects.filter(organisation__isnull=True).values_list("text", flat=True)
    )
    assert texts == [
        "When did AI help you this sprint?",
        "When did it hurt or slow you down?",
        "What did you choose not to use it for, and why?",
        "What would you tell a teammate about using AI on this codebase?",
    ]


def test_creating_a_session_freezes_its_prompts_and_invites_engineers_and_facilitators() -> None:
    team = TeamFactory()
    engineers = [MembershipFactory(team=team).user for _ in range(3)]
    facilitator = MembershipFactory(team=team, role=Role.FACILITATOR).user
    MembershipFactory(team=team, role=Role.MANAGER)
    MembershipFactory(team=team, end=timezone.localdate() - timedelta(days=1))  # has left
    session = _create(team, new_prompts=["What surprised you?", "  "])
    assert [p.text for p in session.prompts.all()][-1] == "What surprised you?"
    assert session.prompts.count() == 5
    own = RetroPrompt.objects.get(text="What surprised you?")
    assert own.organisation_id == team.organisation_id
    invited = set(session.invitations.values_list("user_id", flat=True))
    assert invited == {u.pk for u in [*engineers, facilitator]}
    assert session.status == RetroStatus.OPEN


def test_a_library_edit_later_does_not_change_what_a_session_asked() -> None:
    session = make_open_retro(size=5).session
    RetroPrompt.objects.filter(key="ai-helped").update(text="Changed")
    assert session.prompts.first().text == "When did AI help you this sprint?"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"label": ""}, "label"),
        ({"sprint_end": timezone.localdate() - timedelta(days=30)}, "sprint_end"),
        ({"closes_at": timezone.now() - timedelta(minutes=1)}, "closes_at"),
        ({"prompt_ids": []}, "prompts"),
        ({"prompt_ids": [999999]}, "prompts"),
        ({"new_prompts": ["x" * 301]}, "new_prompts"),
        ({"k": 4}, "k"),
    ],
)
def test_it_rejects_a_bad_session_naming_the_field_and_writes_nothing(change, field) -> None:
    team = TeamFactory()
    MembershipFactory(team=team)
    with pytest.raises(ValidationError) as caught:
        _create(team, **change)
    assert field in caught.value.message_dict
    assert not RetroSession.objects.exists()
    assert not RetroPrompt.objects.filter(organisation__isnull=False).exists()


def test_it_rejects_a_second_session_with_the_same_label_for_a_team() -> None:
    team = TeamFactory()
    _create(team)
    with pytest.raises(ValidationError) as caught:
        _create(team)
    assert caught.value.message_dict == {"label": ["This team already has a retro with this name."]}


def test_it_rejects_another_organisations_prompt() -> None:
    team = TeamFactory()
    foreign = RetroPrompt.objects.create(organisation=TeamFactory().organisation, text="Theirs")
    with pytest.raises(ValidationError) as caught:
        _create(team, prompt_ids=[foreign.pk])
    assert "prompts" in caught.value.message_dict


def test_prompts_can_be_saved_as_a_set_and_the_set_name_is_unique() -> None:
    team = TeamFactory()
    session = _create(team, new_prompts=["What would you automate next?"], save_as_set="Ours")
    prompt_set = RetroPromptSet.objects.get(name="Ours")
    assert [item.prompt_id for item in prompt_set.items.all()] == list(
        session.prompts.values_list("prompt_id", flat=True)
    )
    with pytest.raises(ValidationError) as caught:
        _create(team, label="Sprint 8", save_as_set="Ours")
    assert "save_as_set" in caught.value.message_dict
    assert RetroSession.objects.count() == 1


def test_links_are_emailed_once_and_only_the_hash_is_stored() -> None:
    team = TeamFactory()
    for _ in range(2):
        MembershipFactory(team=team)
    session = _create(team)
    assert services.retro_invitations_send(session_id=session.pk) == 2
    assert services.retro_invitations_send(session_id=session.pk) == 0
    assert len(mail.outbox) == 2
    assert "When did AI help you this sprint?" in mail.outbox[0].body
    raw = mail.outbox[0].body.split("/r/")[1].split("/")[0]
    invitation = RetroInvitation.objects.get(token_hash=token_hash(raw))
    assert invitation.user.email in mail.outbox[0].to
    assert not RetroInvitation.objects.filter(token_hash=raw).exists()


def test_writing_cards_stores_them_anonymously_and_marks_the_invitation_used() -> None:
    open_retro = make_open_retro(size=5)
    invitation = services.retro_invitation_redeem(raw_token=open_retro.tokens[0])
    cards = valid_cards(open_retro.session)
    sealed = services.retro_response_submit(invitation=invitation, cards=cards)
    assert sealed.session_id == open_retro.session.pk
    assert RetroInvitation.objects.get(pk=invitation.pk).used
    with pytest.raises(RetroAlreadySubmitted):
        services.retro_invitation_redeem(raw_token=open_retro.tokens[0])
    with pytest.raises(RetroAlreadySubmitted):
        services.retro_response_submit(invitation=invitation, cards=valid_cards(open_retro.session))
    # Open and unpublished: one sealed row, no card in the clear.
    assert list(SealedRetroResponse.objects.values_list("pk", flat=True)) == [sealed.pk]
    assert not RetroResponse.objects.exists()
    assert not RetroCard.objects.exists()

    services.retro_session_close(session_id=open_retro.session.pk)  # under k: never shown
    response = RetroResponse.objects.get()
    assert (response.session_id, response.team_id, response.batch) == (
        open_retro.session.pk,
        open_retro.session.team_id,
        None,
    )
    stored = sorted(
        response.cards.values_list("prompt__prompt_id", "text", "category", "effect", "shared")
    )
    assert stored == sorted(
        (c["prompt"], c["text"], c["category"], c["effect"], c["shared"]) for c in cards
    )
    assert not SealedRetroResponse.objects.exists()


def test_bad_cards_write_nothing_and_leave_the_link_usable() -> None:
    open_retro = make_open_retro(size=5)
    invitation = services.retro_invitation_redeem(raw_token=open_retro.tokens[0])
    cards = valid_cards(open_retro.session)
    cards[1]["category"] = "vibes"
    with pytest.raises(ValidationError) as caught:
        services.retro_response_submit(invitation=invitation, cards=cards)
    assert set(caught.value.message_dict) == {"cards[1].category"}
    assert not SealedRetroResponse.objects.exists()
    assert not RetroCard.objects.exists()
    assert not RetroResponse.objects.exists()
    assert services.retro_invitation_redeem(raw_token=open_retro.tokens[0])


def test_a_prompt_the_session_did_not_ask_is_rejected() -> None:
    open_retro = make_open_retro(size=5)
    other = RetroPrompt.objects.create(organisation=open_retro.team.organisation, text="Other")
    invitation = services.retro_invitation_redeem(raw_token=open_retro.tokens[0])
    cards = valid_cards(open_retro.session)
    cards[0]["prompt"] = other.pk
    with pytest.raises(ValidationError) as caught:
        services.retro_response_submit(invitation=invitation, cards=cards)
    assert set(caught.value.message_dict) == {"cards[0].prompt"}


def test_it_rejects_an_unknown_link() -> None:
    with pytest.raises(RetroInvitationNotFound):
        services.retro_invitation_redeem(raw_token="x" * 43)


def test_it_rejects_a_closed_session() -> None:
    open_retro = make_open_retro(size=5)
    invitation = services.retro_invitation_redeem(raw_token=open_retro.tokens[0])
    services.retro_session_close(session_id=open_retro.session.pk)
    with pytest.raises(RetroClosed):
        services.retro_invitation_redeem(raw_token=open_retro.tokens[0])
    with pytest.raises(RetroClosed):
        services.retro_response_submit(invitation=invitation, cards=valid_cards(open_retro.session))
    assert not SealedRetroResponse.objects.exists()
    assert not RetroResponse.objects.exists()


def test_it_rejects_a_session_past_its_closing_time_even_before_the_sweep() -> None:
    open_retro = make_open_retro(size=5)
    later = open_retro.session.closes_at + timedelta(seconds=1)
    with pytest.raises(RetroClosed):
        services.retro_invitation_redeem(raw_token=open_retro.tokens[0], now=later)


def test_it_rejects_a_session_that_has_not_opened() -> None:
    open_retro = make_open_retro(size=5)
    earlier = open_retro.session.opens_at - timedelta(minutes=1)
    with pytest.raises(RetroNotOpen):
        services.retro_invitation_redeem(raw_token=open_retro.tokens[0], now=earlier)


def test_closing_stores_tallies_only_for_categories_with_k_people() -> None:
    open_retro = make_open_retro(size=6)
    submit_retro(open_retro, 6)  # "debugging" from all six; first cards spread over 5 categories
    services.retro_session_close(session_id=open_retro.session.pk)
    tallies = {t.category: t for t in RetroTally.objects.filter(session=open_retro.session)}
    assert set(tallies) == {"debugging"}
    assert (tallies["debugging"].people, tallies["debugging"].hurt) == (6, 6)


def test_closing_twice_changes_nothing() -> None:
    open_retro = make_open_retro(size=5)
    submit_retro(open_retro, 5)
    services.retro_session_close(session_id=open_retro.session.pk)
    keys = set(RetroCard.objects.values_list("pk", flat=True))
    services.retro_session_close(session_id=open_retro.session.pk)
    assert set(RetroCard.objects.values_list("pk", flat=True)) == keys
    assert RetroTally.objects.count() == 1


def test_closing_gives_every_card_and_submission_a_fresh_key() -> None:
    open_retro = make_open_retro(size=5)
    submit_retro(open_retro, 5)
    retro_board_publish(session_id=open_retro.session.pk)  # the first batch, in the clear
    before_cards = set(RetroCard.objects.values_list("pk", flat=True))
    before_responses = set(RetroResponse.objects.values_list("pk", flat=True))
    grouping = sorted(
        sorted(r.cards.values_list("text", flat=True)) for r in RetroResponse.objects.all()
    )
    services.retro_session_close(session_id=open_retro.session.pk)
    assert not before_cards & set(RetroCard.objects.values_list("pk", flat=True))
    assert not before_responses & set(RetroResponse.objects.values_list("pk", flat=True))
    after = sorted(
        sorted(r.cards.values_list("text", flat=True)) for r in RetroResponse.objects.all()
    )
    assert after == grouping  # each person's cards stay together, for counting people


def test_the_sweep_closes_only_sessions_past_their_closing_time() -> None:
    due = make_open_retro(size=5)
    not_yet = make_open_retro(size=5)
    RetroSession.objects.filter(pk=due.session.pk).update(closes_at=timezone.now())
    assert services.retro_sessions_close_due(now=timezone.now()) == [due.session.pk]
    assert RetroSession.objects.get(pk=not_yet.session.pk).status == RetroStatus.OPEN


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_link_store_exactly_one() -> None:
    open_retro = make_open_retro(size=5)
    invitation = services.retro_invitation_redeem(raw_token=open_retro.tokens[0])
    cards = valid_cards(open_retro.session)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def submit() -> None:
        barrier.wait()
        try:
            services.retro_response_submit(invitation=invitation, cards=cards)
            outcomes.append("stored")
        except RetroAlreadySubmitted:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 5 + ["stored"]
    assert SealedRetroResponse.objects.count() == 1
    services.retro_session_close(session_id=open_retro.session.pk)
    assert RetroResponse.objects.count() == 1


def test_a_prompt_set_name_is_unique_in_an_organisation() -> None:
    team = TeamFactory()
    builtin = list(RetroPrompt.objects.values_list("pk", flat=True)[:2])
    services.retro_prompt_set_create(team=team, created_by=None, name="Ours", prompt_ids=builtin)
    with pytest.raises(ValidationError) as caught:
        services.retro_prompt_set_create(
            team=team, created_by=None, name=" Ours ", prompt_ids=builtin
        )
    assert set(caught.value.message_dict) == {"name"}
    with pytest.raises(ValidationError) as caught:
        services.retro_prompt_set_create(team=team, created_by=None, name="Other", prompt_ids=[])
    assert set(caught.value.message_dict) == {"prompts"}


def test_a_new_prompt_of_ones_own_joins_the_organisations_library() -> None:
    team = TeamFactory()
    user = UserFactory()
    prompt = services.retro_prompt_create(
        team=team, created_by=user, text="  What  would you\nautomate? ", suggested_effect="helped"
    )
    assert prompt.text == "What would you automate?"
    assert prompt.organisation_id == team.organisation_id
    with pytest.raises(ValidationError) as caught:
        services.retro_prompt_create(team=team, created_by=user, text="   ")
    assert "text" in caught.value.message_dict


def test_the_admin_closes_sessions_through_the_service(admin_client) -> None:
    open_retro = make_open_retro(size=5)
    submit_retro(open_retro, 5)
    response = admin_client.post(
        "/admin/surveys/retrosession/",
        {"action": "close_now", "_selected_action": [open_retro.session.pk]},
    )
    assert response.status_code == 302
    assert RetroSession.objects.get().status == RetroStatus.CLOSED
    assert RetroTally.objects.filter(session=open_retro.session).exists()
    assert admin_client.get("/admin/surveys/retroprompt/").status_code == 200
    assert admin_client.get("/admin/surveys/retropromptset/add/").status_code == 200
