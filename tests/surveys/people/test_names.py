"""The names to mask: everyone in the organisation, the registered name sources, the
nicknames of every organisation and the organisation's own, the team's initials."""

from __future__ import annotations

import pytest

from surveys.people import names
from surveys.people.models import Nickname
from tests.factories import MembershipFactory, OrganisationFactory, TeamFactory, UserFactory


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("jonas.keller@corp.example", "jonas.keller"),
        ("jonas+candor@corp.example", "jonas"),
        ("4711+octo-mei@users.noreply.github.com", "octo-mei"),
        ("octo-mei@users.noreply.github.com", "octo-mei"),
    ],
)
def test_the_name_in_an_email_address(email: str, name: str) -> None:
    assert names.email_name(email) == name


@pytest.mark.django_db
def test_a_team_s_name_book_covers_its_organisation_and_only_it() -> None:
    organisation = OrganisationFactory()
    team = TeamFactory(organisation=organisation)
    sibling = TeamFactory(organisation=organisation)
    jonas = UserFactory(username="jk", first_name="Jonas", last_name="Keller")
    lars = UserFactory(username="lp", first_name="Lars", last_name="Petersen", email="l@x.io")
    MembershipFactory(team=team, user=jonas)
    MembershipFactory(team=sibling, user=lars)
    MembershipFactory(user=UserFactory(username="elsewhere", first_name="Quentin"))
    Nickname.objects.create(organisation=organisation, name="Jonas", nicknames="Jo, Joni")
    Nickname.objects.create(organisation=OrganisationFactory(), name="Jonas", nicknames="Nas")

    def source(organisation_id: int) -> list[str]:
        return ["git-lars"] if organisation_id == organisation.pk else ["nobody"]

    names.name_source_register("test.source", source)
    try:
        book = names.team_name_book(team=team)
    finally:
        names.name_source_unregister("test.source")
    assert {"Jonas", "Keller", "Jonas Keller", "jk", "Lars", "Lars Petersen", "l", "git-lars"} <= (
        set(book.names)
    )
    assert not {"Quentin", "elsewhere", "nobody"} & set(book.names)
    assert book.nicknames["Jonas"] == ["Jo", "Joni"]
    assert book.nicknames["Thomas"] == ["Tom", "Tommy"]  # seeded for every organisation
    assert book.initials_of == ["Jonas Keller"]


@pytest.mark.django_db
def test_analytics_registers_the_git_identities_as_a_name_source() -> None:
    assert "analytics.delivery.contributors" in names._name_sources
