"""Who sees which team: managers their subtree, engineers their team, nobody other orgs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from surveys.people.access import team_ids_visible_to
from surveys.people.models import Role
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


@pytest.fixture
def tree():
    parent = TeamFactory(slug="platform")
    child = TeamFactory(slug="infra", parent=parent, organisation=parent.organisation)
    grandchild = TeamFactory(slug="k8s", parent=child, organisation=parent.organisation)
    sibling = TeamFactory(slug="payments", organisation=parent.organisation)
    other_org = TeamFactory(slug="elsewhere")
    return parent, child, grandchild, sibling, other_org


def test_a_manager_sees_their_team_and_every_team_below(tree) -> None:
    parent, child, grandchild, _sibling, _other_org = tree
    manager = MembershipFactory(team=parent, role=Role.MANAGER).user
    assert team_ids_visible_to(user=manager) == {parent.pk, child.pk, grandchild.pk}


def test_an_engineer_sees_only_their_own_team(tree) -> None:
    _parent, child, *_ = tree
    engineer = MembershipFactory(team=child).user
    assert team_ids_visible_to(user=engineer) == {child.pk}


def test_an_admin_sees_every_team_of_their_organisation_only(tree) -> None:
    parent, child, grandchild, sibling, _other_org = tree
    admin = MembershipFactory(team=sibling, role=Role.ADMIN).user
    assert team_ids_visible_to(user=admin) == {parent.pk, child.pk, grandchild.pk, sibling.pk}


def test_an_ended_membership_grants_nothing(tree) -> None:
    from datetime import timedelta

    from django.utils import timezone

    parent, *_ = tree
    user = MembershipFactory(team=parent, end=timezone.localdate() - timedelta(days=1)).user
    assert team_ids_visible_to(user=user) == set()


def test_team_pages_of_other_teams_are_not_found(client, tree) -> None:
    parent, child, _grandchild, sibling, other_org = tree
    client.force_login(MembershipFactory(team=child).user)
    assert client.get(reverse("team-results", args=[child.slug])).status_code == 200
    for team in (parent, sibling, other_org):
        assert client.get(reverse("team-results", args=[team.slug])).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, tree) -> None:
    response = client.get(reverse("team-results", args=[tree[0].slug]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_superuser_sees_every_team(tree) -> None:
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert len(team_ids_visible_to(user=admin)) == 5
