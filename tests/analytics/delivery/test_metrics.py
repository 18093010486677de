"""Team-week delivery metrics against hand-computed values."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.delivery.metrics import team_week_metrics, week_start

MONDAY = pd.Timestamp("2026-03-02T00:00:00Z")  # ISO week 10


def at(hours: float) -> pd.Timestamp:
    return MONDAY + pd.Timedelta(hours=hours)


def commits_frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "team_id": 1,
        "repository_id": 1,
        "is_merge": False,
        "reverted_sha": "",
        "ai": False,
        "deployed_at": pd.NaT,
    }
    frame = pd.DataFrame([{**base, **row} for row in rows])
    frame["deployed_at"] = pd.to_datetime(frame["deployed_at"], utc=True)
    return frame


def prs_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"team_id": 1, "repository_id": 1, "ai": False, **row} for row in rows])


EMPTY_RELEASES = pd.DataFrame(columns=["team_id", "repository_id", "tagged_at"])


def test_week_start_is_the_iso_monday() -> None:
    times = pd.Series(pd.to_datetime(["2026-03-08T23:59:00Z", "2026-03-09T00:00:00Z"], utc=True))
    assert list(week_start(times)) == [date(2026, 3, 2), date(2026, 3, 9)]


def test_pr_times_sizes_and_throughput_by_hand() -> None:
    commits = commits_frame(
        [{"sha": f"{i:040x}", "author_id": i, "committed_at": at(i)} for i in range(1, 6)]
    )
    prs = prs_frame(
        [  # created, first review, merged (hours after Monday 00:00); size
            {
                "author_id": 1,
                "created_at": at(0),
                "first_review_at": at(2),
                "merged_at": at(10),
                "additions": 90,
                "deletions": 10,
                "ai": True,
            },
            {
                "author_id": 2,
                "created_at": at(0),
                "first_review_at": at(4),
                "merged_at": at(20),
                "additions": 30,
                "deletions": 20,
            },
            {
                "author_id": 3,
                "created_at": at(0),
                "first_review_at": at(6),
                "merged_at": at(30),
                "additions": 5,
                "deletions": 5,
                "ai": True,
            },
            {
                "author_id": 4,
                "created_at": at(1),
                "first_review_at": pd.NaT,
                "merged_at": pd.NaT,
                "additions": 1,
                "deletions": 1,
            },
        ]
    )
    # k = 1: the arithmetic is under test here. With k = 5 these three PR authors (one on
    # the "other" side) would be too few for any PR figure (tests/security/test_anon_git.py).
    [week] = team_week_metrics(commits=commits, prs=prs, releases=EMPTY_RELEASES, k_by_team={1: 1})
    v = week.figures
    assert not week.suppressed
    assert week.active_contributors == 5
    assert v["merged_prs"] == 3
    assert v["throughput"] == pytest.approx(3 / 5)
    assert v["throughput_basis"] == "merged PRs"
    assert (v["cycle_median_h"], v["cycle_p75_h"]) == (20, 25)  # 10, 20, 30
    assert (v["pickup_median_h"], v["pickup_p75_h"]) == (4, 5)  # 2, 4, 6
    assert v["review_median_h"] == 16  # 8, 16, 24
    assert v["pr_size_median"] == 50  # 100, 50, 10
    assert v["ai_pr_share"] == pytest.approx(200 / 3)
    assert v["ai_split"]["ai"]["merged_prs"] == 2
    assert v["ai_split"]["ai"]["cycle_median_h"] == 20  # 10, 30
    assert v["ai_split"]["other"]["pr_size_median"] == 50


def test_without_prs_throughput_counts_non_merge_commits() -> None:
    rows = [{"sha": f"{i:040x}", "author_id": i % 5, "committed_at": at(i)} for i in range(10)]
    rows.append({"sha": "f" * 40, "author_id": 0, "committed_at": at(11), "is_merge": True})
    empty_prs = pd.DataFrame(
        columns=[
            "team_id",
            "author_id",
            "created_at",
            "merged_at",
            "first_review_at",
            "additions",
            "deletions",
            "ai",
        ]
    )
    [week] = team_week_metrics(
        commits=commits_frame(rows), prs=empty_prs, releases=EMPTY_RELEASES, k_by_team={1: 5}
    )
    assert week.figures["commits"] == 10
    assert week.figures["throughput"] == 2
    assert week.figures["throughput_basis"] == "commits"


def _pr(author: int, created: float, merged: float | None, repository: int = 1) -> dict:
    return {
        "author_id": author,
        "repository_id": repository,
        "created_at": at(created),
        "first_review_at": pd.NaT,
        "merged_at": pd.NaT if merged is None else at(merged),
        "additions": 10,
        "deletions": 0,
    }


def _by_week(commits: list[dict], prs: list[dict]) -> dict:
    frame = prs_frame(prs)
    for column in ("created_at", "merged_at", "first_review_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    weeks = team_week_metrics(
        commits=commits_frame(commits), prs=frame, releases=EMPTY_RELEASES, k_by_team={1: 5}
    )
    return {w.week_start: w.figures for w in weeks}


def test_throughput_keeps_one_basis_per_repository() -> None:
    """A week without merges in a repository with PR data counts zero merged PRs (it used to
    fall back to commits, so a quiet week read as a speed-up); a repository without PR
    data counts its commits; before a repository's first PR its weeks are not measured."""
    week = lambda n: {"committed_at": at(24 * 7 * n)}  # noqa: E731
    commits = [
        {"sha": f"{n}{i:039x}", "author_id": i, "repository_id": 1, **week(n)}
        for n in range(4)
        for i in range(5)
    ]
    commits += [
        {"sha": f"c{i:039x}", "author_id": i, "repository_id": 2, **week(3)} for i in range(5)
    ]
    # Repository 1's PRs start in week 1: five merged that week, none in week 2.
    prs = [_pr(i, 24 * 7 + 1, 24 * 7 + 5) for i in range(5)]
    prs += [_pr(0, 24 * 7 * 2 + 1, None)]  # opened in week 2, never merged
    prs += [_pr(i, 24 * 7 * 3 + 1, 24 * 7 * 3 + 5) for i in range(5)]
    figures = _by_week(commits, prs)
    first, second, third, fourth = sorted(figures)
    assert "throughput" not in figures[first]  # before repository 1's PR data
    assert figures[first]["commits"] == 5
    assert (figures[second]["throughput_count"], figures[second]["throughput_basis"]) == (
        5,
        "merged PRs",
    )
    assert (figures[third]["throughput"], figures[third]["throughput_count"]) == (0, 0)
    assert figures[third]["throughput_basis"] == "merged PRs"
    # Week 4: five merged PRs in repository 1 and five commits in repository 2.
    assert figures[fourth]["throughput_count"] == 10
    assert figures[fourth]["throughput"] == 2
    assert figures[fourth]["throughput_basis"].startswith("merged PRs, and commits")


def test_fewer_than_k_active_contributors_is_a_row_with_no_numbers() -> None:
    commits = commits_frame(
        [{"sha": f"{i:040x}", "author_id": i, "committed_at": at(i)} for i in range(4)]
    )
    [week] = team_week_metrics(
        commits=commits, prs=prs_frame([]), releases=EMPTY_RELEASES, k_by_team={1: 5}
    )
    assert week.suppressed
    assert week.active_contributors is None
    assert week.figures == {}


def test_deployments_lead_time_and_change_failure_rate_by_hand() -> None:
    release_1, release_2 = at(24), at(48)  # Tuesday and Wednesday
    commits = commits_frame(
        [
            {"sha": "a" * 40, "author_id": 1, "committed_at": at(0), "deployed_at": release_1},
            {"sha": "b" * 40, "author_id": 2, "committed_at": at(12), "deployed_at": release_1},
            {"sha": "c" * 40, "author_id": 3, "committed_at": at(30), "deployed_at": release_2},
            {
                "sha": "d" * 40,
                "author_id": 4,
                "committed_at": at(40),
                "reverted_sha": "a" * 12,
            },  # reverts a
            {"sha": "e" * 40, "author_id": 5, "committed_at": at(50)},
        ]
    )
    releases = pd.DataFrame(
        {
            "team_id": [1, 1, 1],
            "repository_id": [1, 1, 1],
            "tagged_at": [release_1, release_2, release_2 + pd.Timedelta(hours=1)],
        }
    )
    # k = 2: the lead time comes from three authors' commits, too few for k = 5.
    [week] = team_week_metrics(
        commits=commits, prs=prs_frame([]), releases=releases, k_by_team={1: 2}
    )
    v = week.figures
    assert v["deployments"] == 3
    assert v["deployment_days"] == 2
    assert v["lead_time_median_h"] == 18  # 24, 12, 18
    assert v["change_failure_rate"] == pytest.approx(1 / 3)  # release 1 was reverted
    assert "no incidents imported" in v["change_failure_basis"]
    assert v["time_to_restore_median_h"] is None


def _one_week(*, openers: int, ai_openers: int, committers: int = 6, ai_committers: int = 0):
    """Six people commit twice each; `openers` of them merge a pull request each, the
    first `ai_openers` of those AI-assisted; the first `ai_committers` commit with AI."""
    commits = commits_frame(
        [
            {
                "sha": f"{person:020x}{number:020x}",
                "author_id": person,
                "committed_at": at(person + number),
                "ai": person < ai_committers,
            }
            for person in range(committers)
            for number in range(2)
        ]
    )
    prs = prs_frame(
        [
            {
                "author_id": person,
                "created_at": at(0),
                "first_review_at": at(1 + person),
                "merged_at": at(3 + 2 * person),
                "additions": 10 * (person + 1),
                "deletions": 1,
                "ai": person < ai_openers,
            }
            for person in range(openers)
        ]
    )
    [week] = team_week_metrics(commits=commits, prs=prs, releases=EMPTY_RELEASES, k_by_team={1: 5})
    assert not week.suppressed
    return week.figures


AI_FIGURES = ("ai_pr_share", "ai_split")


def test_an_ai_split_with_fewer_than_k_authors_on_either_side_is_withheld() -> None:
    # 1 of 6 merged PRs AI-assisted: its share and count are one person's.
    few_ai = _one_week(openers=6, ai_openers=1)
    # 5 of 6: the other PR is one person's (6 merged − 5 AI-assisted).
    few_other = _one_week(openers=6, ai_openers=5)
    for figures in (few_ai, few_other):
        assert not set(AI_FIGURES) & set(figures)
        assert set(AI_FIGURES) <= set(figures["withheld"])
        assert figures["merged_prs"] == 6  # six people's: shown
    split = _one_week(openers=10, ai_openers=5, committers=10)
    assert split["ai_pr_share"] == 50
    assert split["ai_split"]["ai"]["merged_prs"] == split["ai_split"]["other"]["merged_prs"] == 5
    nobody = _one_week(openers=6, ai_openers=0)  # 0 people on one side: nothing to single out
    assert nobody["ai_pr_share"] == 0
    assert nobody["ai_split"]["ai"] == {"merged_prs": 0}


def test_an_ai_commit_share_from_fewer_than_k_authors_is_withheld() -> None:
    assert "ai_commit_share" not in _one_week(openers=6, ai_openers=0, ai_committers=2)
    assert "ai_commit_share" not in _one_week(openers=6, ai_openers=0, ai_committers=4)
    assert _one_week(openers=6, ai_openers=0, ai_committers=0)["ai_commit_share"] == 0
    assert _one_week(openers=6, ai_openers=0, ai_committers=6)["ai_commit_share"] == 100


def test_counts_of_fewer_than_k_authors_pull_requests_are_withheld() -> None:
    figures = _one_week(openers=2, ai_openers=0)  # six commit, two merge PRs
    for name in ("merged_prs", "throughput", "ai_pr_share", "ai_split"):
        assert name not in figures
        assert name in figures["withheld"]
    assert figures["commits"] == 12  # six people's


def test_counts_of_fewer_than_k_authors_commits_are_withheld() -> None:
    figures = _one_week(openers=6, ai_openers=0, committers=3)  # six merge PRs, three commit
    assert "commits" not in figures
    assert "ai_commit_share" not in figures
    assert figures["merged_prs"] == 6
    assert figures["throughput"] == 1
