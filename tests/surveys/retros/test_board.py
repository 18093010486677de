"""The board and the exports mask the names of anyone in the team's organisation: people of
other teams, the parent team's manager, their nicknames, their Git identities."""

from __future__ import annotations

import pytest

from analytics.delivery.models import Contributor
from surveys.people.models import Nickname, Role
from surveys.retros import services
from surveys.retros.board import retro_board, retro_document
from surveys.retros.exports import document_csv, document_markdown
from tests.conftest import make_open_retro
from tests.factories import MembershipFactory, OrganisationFactory, TeamFactory, UserFactory

CARDS = {
    "Lars from Payments explained the schema": "[name] from Payments explained the schema",
    "octo-mei's branch octo-mei/fix-flaky was the fix": "[name]'s branch [name] was the fix",
    "Ingrid and Iggy approved it": "[name] and [name] approved it",
    "Tom paired with JK on the parser": "[name] paired with [name] on the parser",
    "Mei Chen and Quentin reviewed; Copilot wrote the tests": (
        "[name] and Quentin reviewed; Copilot wrote the tests"
    ),
}


@pytest.mark.django_db
def test_the_board_and_exports_mask_anyone_in_the_organisation_and_git_identities() -> None:
    organisation = OrganisationFactory()
    engineering = TeamFactory(organisation=organisation, name="Engineering")
    team = TeamFactory(organisation=organisation, parent=engineering, name="Platform")
    payments = TeamFactory(organisation=organisation, name="Payments")
    people = {
        "ingrid": ("Ingrid", "Hansen", engineering, Role.MANAGER),  # the parent's manager
        "lpetersen": ("Lars", "Petersen", payments, Role.ENGINEER),  # another team
        "thomas.b": ("Thomas", "Brandt", team, Role.FACILITATOR),  # "Tom", seeded nickname
        "jkeller": ("Jonas", "Keller", team, Role.FACILITATOR),  # "JK", initials
    }
    for username, (first, last, where, role) in people.items():
        user = UserFactory(username=username, first_name=first, last_name=last)
        MembershipFactory(team=where, user=user, role=role)
    Nickname.objects.create(organisation=organisation, name="Ingrid", nicknames="Iggy")
    # Git identities known only to analytics: not a user of Candor at all, and a bot.
    Contributor.objects.create(
        organisation=organisation,
        email="4711+octo-mei@users.noreply.github.com",
        name="Mei Chen",
        github_login="octo-mei",
    )
    Contributor.objects.create(
        organisation=organisation, email="copilot@github.com", name="Copilot", is_bot=True
    )
    # Someone of another organisation is no one here.
    MembershipFactory(user=UserFactory(username="quentin", first_name="Quentin"))

    open_retro = make_open_retro(size=5, team=team)
    prompt = open_retro.session.prompts.values_list("prompt_id", flat=True)[0]
    for token, text in zip(open_retro.tokens, CARDS, strict=True):
        invitation = services.retro_invitation_redeem(raw_token=token)
        card = {"prompt": prompt, "text": text, "category": "tests", "effect": "helped"}
        services.retro_response_submit(invitation=invitation, cards=[{**card, "shared": True}])

    board = retro_board(session=open_retro.session)
    assert board.state == "shown"
    shown = sorted(card.text for card in board.document.prompts[0].cards)
    assert shown == sorted(CARDS.values())
    document = retro_document(session=open_retro.session, with_cards=True)
    for export in (document_markdown(document), document_csv(document)):
        for name in ("Lars", "octo", "Ingrid", "Iggy", "Tom", "JK", "Mei"):
            assert name not in export
        assert "Quentin" in export
