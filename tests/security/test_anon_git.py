"""Anonymity attack 12: Git. A correlation never takes in a team-period with fewer than k
respondents or fewer than k active authors, and no page, API route, CSV, export or admin
page shows a figure about one person's commits or pull requests.

Both are comparisons again. What must not show is changed underneath — the answers of a
team under k, the history of a team with too few authors, the pull requests of the one
person who opened any in a week, or which of two people wrote which commits — and every
surface (the admin's contributor and import pages included) must read the same after.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from analytics.delivery.models import Commit, Contributor, PullRequest, Repository
from analytics.delivery.refresh import delivery_metrics_refresh
from analytics.insights.models import CorrelationResult
from surveys.people.models import Role
from tests.factories import this_monday
from tests.security.anon_surfaces import assert_unchanged, every_surface
from tests.security.anon_world import (
    World,
    anonymity_tally,  # noqa: F401
    answers_mirrored,
    refresh_everything,
    superuser,
    tally,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]
WEEKS = 8


def _at(weeks_ago: int, day: int, hour: int) -> datetime:
    start = this_monday() - timedelta(weeks=weeks_ago) + timedelta(days=day)
    return timezone.make_aware(datetime.combine(start, time(hour)))


def history(
    world: World,
    team: str,
    authors: Sequence[Any],
    *,
    openers: Sequence[Any] | None = None,
    weeks: int = WEEKS,
    ai_openers: int = 1,
    ai_authors: int = 0,
) -> Repository:
    """A repository of the team: each author commits one to three times a week; each of `openers`
    (default: every author) merges one pull request a week, reviewed after a while that
    differs per person. The first `ai_openers` openers' pull requests and the first
    `ai_authors` authors' commits are marked AI-assisted."""
    repository = Repository.objects.create(
        organisation=world.organisation,
        team=world.teams[team],
        name=f"{team} repository",
        source="/nowhere",
    )
    contributors = {
        person.pk: Contributor.objects.get_or_create(
            organisation=world.organisation,
            email=person.email,
            defaults={"name": person.username, "user": person},
        )[0]
        for person in {*authors, *(openers or authors)}
    }
    commits, pulls = [], []
    for weeks_ago in range(1, weeks + 1):
        for index, person in enumerate(authors):
            for number in range(1 + (weeks_ago + index) % 3):
                at = _at(weeks_ago, 1, 9 + index)
                commits.append(
                    Commit(
                        repository=repository,
                        sha=f"{repository.pk:04x}{weeks_ago:04x}{index:04x}{number:04x}".ljust(
                            40, "0"
                        ),
                        author=contributors[person.pk],
                        authored_at=at,
                        committed_at=at + timedelta(minutes=number),
                        parent_count=1,
                        is_merge=False,
                        files_changed=1,
                        additions=10 + index,
                        deletions=2,
                        ai_tool="claude" if index < ai_authors else "",
                    )
                )
        for index, person in enumerate(openers or authors):
            created = _at(weeks_ago, 0, 9 + index)
            pulls.append(
                PullRequest(
                    repository=repository,
                    number=weeks_ago * 100 + index,
                    title="Change",
                    author=contributors[person.pk],
                    created_at=created,
                    first_review_at=created + timedelta(hours=2 + index),
                    merged_at=created + timedelta(hours=5 + 3 * index + weeks_ago % 4),
                    review_count=1,
                    additions=40 * (index + 1),
                    deletions=5,
                    changed_files=2,
                    ai_tool="claude" if index < ai_openers else "",
                )
            )
    Commit.objects.bulk_create(commits)
    PullRequest.objects.bulk_create(pulls)
    return repository


def _surveyed(world: World, team: str, respondents: int) -> None:
    world.pulse(team)
    for weeks_ago in range(1, WEEKS + 1):
        world.run(
            f"{team}-{weeks_ago}",
            team,
            weeks_ago=weeks_ago,
            answering=range(respondents),
            offset=weeks_ago,
        )


def _refresh(world: World) -> None:
    delivery_metrics_refresh(organisation_id=world.organisation.pk)
    refresh_everything()


def test_a_correlation_takes_in_no_team_under_k_respondents_or_authors() -> None:
    world = World()
    world.team("Org", 0)
    for name in ("Shown", "Quiet", "Few authors"):
        world.team(name, 6, parent="Org")
    _surveyed(world, "Shown", 6)
    _surveyed(world, "Quiet", 3)  # under k respondents
    _surveyed(world, "Few authors", 6)
    history(world, "Shown", world.members["Shown"])
    history(world, "Quiet", world.members["Quiet"])
    few = history(world, "Few authors", world.members["Few authors"][:4])  # under k authors
    _refresh(world)
    scopes = set(CorrelationResult.objects.values_list("scope_team__name", "n"))
    assert ("Shown", WEEKS) in scopes
    assert (None, WEEKS) in scopes  # the org-wide one: Shown's
    assert not {name for name, _ in scopes} & {"Quiet", "Few authors"}

    viewers = {"manager": world.viewer("manager", "Org", Role.MANAGER), "root": superuser()}
    before = every_surface(world, viewers, [])
    answers_mirrored([run for name, run in world.runs.items() if name.startswith("Quiet")])
    PullRequest.objects.filter(repository=few).update(additions=999)
    Commit.objects.filter(repository=few).update(additions=777)
    _refresh(world)
    after = every_surface(world, viewers, [])
    assert_unchanged(before, after)
    tally("attack 12: correlation inputs under k changed", 2)
    tally("attack 12: surfaces compared", len(after))


def test_no_surface_shows_a_figure_of_one_persons_git_history() -> None:
    world = World()
    world.team("Team", 6)
    _surveyed(world, "Team", 6)
    people = world.members["Team"]
    # Everyone commits, but only the first person merges pull requests (AI-assisted).
    repository = history(world, "Team", people, openers=people[:1])
    _refresh(world)
    viewers = {"manager": world.viewer("manager", "Team", Role.MANAGER), "root": superuser()}
    before = every_surface(world, viewers, [])

    # One person's pull requests: slower and bigger. Only a figure of theirs can move.
    alone = PullRequest.objects.filter(repository=repository)
    for pull in alone:
        alone.filter(pk=pull.pk).update(
            merged_at=pull.merged_at + timedelta(hours=30), additions=pull.additions * 7
        )
    # Two people swap who wrote which commits: only a per-person figure can move.
    first, second = (Contributor.objects.get(user=person) for person in people[1:3])
    Commit.objects.filter(author=first).update(author=second, deletions=3)
    Commit.objects.filter(author=second, deletions=2).update(author=first)
    Commit.objects.filter(deletions=3).update(deletions=2)
    _refresh(world)
    after = every_surface(world, viewers, [])
    assert_unchanged(before, after)
    tally("attack 12: one person's Git history changed", 2)
    tally("attack 12: surfaces compared", len(after))


def _ai_marked(repository: Repository, *, openers: Sequence[Any], authors: Sequence[Any]) -> None:
    """Mark as AI-assisted exactly the pull requests of `openers` and the commits of
    `authors` (and nothing else of the repository)."""
    pulls = PullRequest.objects.filter(repository=repository)
    pulls.update(ai_tool="")
    pulls.filter(author__user__in=openers).update(ai_tool="claude")
    commits = Commit.objects.filter(repository=repository)
    commits.update(ai_tool="")
    commits.filter(author__user__in=authors).update(ai_tool="claude")


# team size; (AI-assisted PR openers, AI-assisted commit authors) before → after; figures
# (as the API and the CSVs print them) that must appear nowhere
SPLITS = {
    # 1 → 2 people's AI-assisted PRs among 7: shares 14.29 % → 28.57 %
    "ai side under k": (7, (1, 1), (2, 2), ("14.285", "28.571")),
    # the AI side has 6 → 7 of 10, but the rest is 4 → 3 people: total minus AI gives them
    "other side under k": (10, (6, 6), (7, 8), ()),
}


@pytest.mark.parametrize("case", SPLITS)
def test_no_surface_shows_an_ai_split_from_fewer_than_k_authors(case: str) -> None:
    """The AI-assisted share of a week's PRs and commits, and the AI vs other comparison,
    come from two groups of authors: if either holds 1 to k − 1 people, a count or share of
    theirs is on show (the other side's follows from the week's total). Moving people
    between the sides must change nothing anywhere."""
    size, before_sides, after_sides, figures = SPLITS[case]
    world = World()
    world.team("Team", size)
    _surveyed(world, "Team", 6)
    people = world.members["Team"]
    repository = history(
        world, "Team", people, ai_openers=before_sides[0], ai_authors=before_sides[1]
    )
    _refresh(world)
    viewers = {
        "manager": world.viewer("manager", "Team", Role.MANAGER),
        "engineer": people[-1],
        "root": superuser(),
    }
    before = every_surface(world, viewers, [])

    _ai_marked(repository, openers=people[: after_sides[0]], authors=people[: after_sides[1]])
    _refresh(world)
    after = every_surface(world, viewers, [])
    assert_unchanged(before, after)
    for figure in figures:
        shown = [key for key, (_, text) in {**before, **after}.items() if figure in text]
        assert not shown, f"{figure} is on {shown[:3]}"
    tally("attack 12: AI-assisted splits under k changed", 1)
    tally("attack 12: surfaces compared", len(after))


def test_no_surface_counts_the_pull_requests_of_fewer_than_k_authors() -> None:
    """Everyone commits, but two people merge the week's pull requests: the count of
    merged PRs (and the throughput, PRs per person) is theirs. Doubling their pull requests
    must change nothing anywhere."""
    world = World()
    world.team("Team", 6)
    _surveyed(world, "Team", 6)
    people = world.members["Team"]
    repository = history(world, "Team", people, openers=people[:2], ai_openers=0)
    _refresh(world)
    viewers = {"manager": world.viewer("manager", "Team", Role.MANAGER), "root": superuser()}
    before = every_surface(world, viewers, [])

    PullRequest.objects.bulk_create(
        PullRequest(
            repository=repository,
            number=pull.number + 50,
            title=pull.title,
            author=pull.author,
            created_at=pull.created_at,
            first_review_at=pull.first_review_at,
            merged_at=pull.merged_at,
            review_count=1,
            additions=pull.additions,
            deletions=pull.deletions,
            changed_files=pull.changed_files,
        )
        for pull in PullRequest.objects.filter(repository=repository)
    )
    _refresh(world)
    after = every_surface(world, viewers, [])
    assert_unchanged(before, after)
    tally("attack 12: pull requests of fewer than k authors doubled", 1)
    tally("attack 12: surfaces compared", len(after))
