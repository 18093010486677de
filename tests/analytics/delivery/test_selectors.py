"""The Git identities given to the masking of retro cards (a name source)."""

from __future__ import annotations

import pytest

from analytics.delivery.models import Contributor
from analytics.delivery.selectors import contributor_names
from tests.factories import OrganisationFactory


@pytest.mark.django_db
def test_contributor_names_are_author_names_email_names_and_logins_but_no_bots() -> None:
    organisation = OrganisationFactory()
    identities = [
        ("Mei Chen", "mei.chen@corp.example", "", False),
        ("octo-lars", "4711+octo-lars@users.noreply.github.com", "octo-lars", False),
        ("Your Name", "root@localhost", "", False),  # an unconfigured Git: no one
        ("Copilot", "copilot@github.com", "Copilot", True),
    ]
    for name, email, login, bot in identities:
        Contributor.objects.create(
            organisation=organisation, name=name, email=email, github_login=login, is_bot=bot
        )
    Contributor.objects.create(organisation=OrganisationFactory(), name="Else", email="e@x.io")
    assert sorted(contributor_names(organisation.pk)) == sorted(
        ["Mei Chen", "mei.chen", "octo-lars", "octo-lars", "octo-lars"]
    )
