"""Delivery metrics from imported history: team at the time, k, idempotent refresh."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from analytics.delivery.git.importer import repository_import
from analytics.delivery.models import Contributor, Repository, TeamWeekDelivery
from analytics.delivery.refresh import delivery_metrics_refresh
from surveys.people.models import Role
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.gitrepos import Repo, repo_init

pytestmark = pytest.mark.django_db

MONDAY = 1_772_409_600  # 2026-03-02 00:00 UTC, a Monday


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"


def _repo_with_authors(path: Path, authors: list[str], *, week: int = 0) -> None:
    repo = repo_init(path)
    repo.clock = MONDAY + week * 7 * 86400 + 3600
    for index, name in enumerate(authors):
        repo.write(f"{name}-{index}.txt", "x\n")
        repo.commit(f"Work by {name}", author=(name.title(), f"{name}@example.com"), hours=2)


def test_a_week_with_k_authors_has_figures_and_one_with_fewer_is_suppressed(tmp_path: Path) -> None:
    team = TeamFactory()
    path = tmp_path / "repo"
    _repo_with_authors(path, ["ann", "ben", "cat", "dan", "eve"])
    second = Repo(path, clock=MONDAY + 7 * 86400 + 3600)
    for name in ["ann", "ben", "cat", "dan"]:
        second.write(f"{name}-late.txt", "y\n")
        second.commit(f"More by {name}", author=(name.title(), f"{name}@example.com"))
    repository = Repository.objects.create(
        organisation=team.organisation, team=team, name="r", source=str(path)
    )
    repository_import(repository_id=repository.pk)
    assert delivery_metrics_refresh(organisation_id=team.organisation_id) == 2
    first, late = TeamWeekDelivery.objects.filter(team=team).order_by("week_start")
    assert first.week_start == date(2026, 3, 2)
    assert not first.suppressed
    assert first.active_contributors == 5
    assert first.metrics["commits"] == 5
    assert first.metrics["throughput_basis"] == "commits"
    assert late.suppressed
    assert late.active_contributors is None
    assert late.metrics == {}


def test_membership_dates_decide_the_team_of_each_commit(tmp_path: Path) -> None:
    old_team = TeamFactory()
    new_team = TeamFactory(organisation=old_team.organisation)
    names = ["ann", "ben", "cat", "dan", "eve"]
    _repo_with_authors(tmp_path / "repo", names)
    repository = Repository.objects.create(
        organisation=old_team.organisation, team=old_team, name="r", source=str(tmp_path / "repo")
    )
    repository_import(repository_id=repository.pk)
    moved_on = date(2026, 3, 1)  # the day before the commits
    for name in names:
        user = UserFactory(username=name)
        Contributor.objects.filter(email=f"{name}@example.com").update(user=user)
        MembershipFactory(
            user=user, team=old_team, start=moved_on - timedelta(days=300), end=moved_on
        )
        MembershipFactory(user=user, team=new_team, start=moved_on, role=Role.ENGINEER)
    delivery_metrics_refresh(organisation_id=old_team.organisation_id)
    assert list(TeamWeekDelivery.objects.values_list("team_id", "suppressed")) == [
        (new_team.pk, False)
    ]


def test_refreshing_twice_writes_the_same_rows(tmp_path: Path) -> None:
    team = TeamFactory()
    _repo_with_authors(tmp_path / "repo", ["ann", "ben", "cat", "dan", "eve", "fay"])
    repository = Repository.objects.create(
        organisation=team.organisation, team=team, name="r", source=str(tmp_path / "repo")
    )
    repository_import(repository_id=repository.pk)
    delivery_metrics_refresh(organisation_id=team.organisation_id)
    first = list(TeamWeekDelivery.objects.values_list("team_id", "week_start", "metrics"))
    delivery_metrics_refresh(organisation_id=team.organisation_id)
    assert list(TeamWeekDelivery.objects.values_list("team_id", "week_start", "metrics")) == first


def test_bots_count_for_nothing(tmp_path: Path) -> None:
    team = TeamFactory()
    _repo_with_authors(tmp_path / "repo", ["ann", "ben", "cat", "dan", "renovate[bot]"])
    repository = Repository.objects.create(
        organisation=team.organisation, team=team, name="r", source=str(tmp_path / "repo")
    )
    repository_import(repository_id=repository.pk)
    delivery_metrics_refresh(organisation_id=team.organisation_id)
    assert TeamWeekDelivery.objects.get().suppressed  # four people and a bot are not five


def test_the_api_gives_team_weeks_and_hides_weeks_under_k(
    tmp_path: Path, api_client, manager_of
) -> None:
    team = TeamFactory()
    path = tmp_path / "repo"
    _repo_with_authors(path, ["ann", "ben", "cat", "dan", "eve"])
    late = Repo(path, clock=MONDAY + 7 * 86400 + 3600)
    late.write("late.txt", "z\n")
    late.commit("Alone", author=("Ann", "ann@example.com"))
    repository = Repository.objects.create(
        organisation=team.organisation, team=team, name="r", source=str(path)
    )
    repository_import(repository_id=repository.pk)
    delivery_metrics_refresh(organisation_id=team.organisation_id)
    api_client.force_authenticate(manager_of(team))
    shown, hidden = api_client.get(f"/api/teams/{team.slug}/delivery/").json()
    assert shown["metrics"]["commits"] == 5
    assert shown["active_contributors"] == 5
    assert hidden == {
        "week_start": "2026-03-09",
        "suppressed": True,
        "k": 5,
        "message": "Fewer than 5 active contributors.",
        "active_contributors": None,
        "metrics": {},
    }
    other = TeamFactory()
    assert api_client.get(f"/api/teams/{other.slug}/delivery/").status_code == 404
