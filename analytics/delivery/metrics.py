"""Team-week delivery metrics as pure functions over DataFrames (no ORM).

Definitions follow docs/DESIGN.md §5 (Apache DevLake / Four Keys):
- throughput: the week's count per active contributor, one basis per repository: merged
  PRs in a repository with PR data (a week without merges counts zero), non-merge commits
  in one without (`throughput_basis` says which; `throughput_count` is the count). A week
  with commits in a PR repository from before its first PR has no throughput: its PRs
  were not imported, and a zero would read as a slowdown;
- PR cycle time created → merged, pickup created → first review by someone else, review
  first review → merged: median and p75, in hours; PR size: additions + deletions, median;
- deployment days: days with at least one release; lead time: commit → first release that
  contains it (counted in the release's week), median hours;
- change failure rate: releases followed within REVERT_WINDOW by a revert of one of their
  commits ÷ releases (the proxy used until incidents are imported); time to restore needs
  incidents and stays empty without them;
- AI-assisted share of commits and of merged PRs, and PR figures split AI-assisted vs not.
A team-week with fewer than k active contributors is suppressed: a row with no numbers.
Inside a shown week, every figure read from PRs or commits — a count, a share, a median, a
p75, a size — needs them to come from 0 or at least k distinct authors
(surveys.anonymity.authored_shown): five people committed, but if two of them merged every
PR, the week's merged PRs, its throughput and its PR cycle time are those two people's.
The AI-assisted share and the AI vs other comparison need both sides — the AI-assisted
PRs (or commits) and the others — from 0 or at least k authors (`split_shown`): the
week's total is shown, so either side's count gives the other's. Lead time and the change
failure rate describe the changes deployed in the week, so they need those changes' authors
to be 0 or at least k. A figure withheld for any of these reasons is left out of the
week's figures and named in `withheld` (a figure that was not measured is simply absent).
Deployments and incidents have no author; their counts stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from surveys.anonymity import authored_shown, group_shown, split_shown

REVERT_WINDOW = timedelta(days=14)


def week_start(times: pd.Series) -> pd.Series:
    """The Monday (a date) of the ISO week of each UTC timestamp."""
    days = times.dt.tz_convert("UTC").dt.normalize()
    return (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.date


@dataclass
class WeekMetrics:
    team_id: int
    week_start: date
    suppressed: bool
    active_contributors: int | None = None
    figures: dict[str, Any] = field(default_factory=dict)


def _hours(durations: pd.Series) -> pd.Series:
    return durations.dt.total_seconds() / 3600


def _quantiles(hours: pd.Series) -> tuple[float | None, float | None]:
    hours = hours.dropna()
    if hours.empty:
        return None, None
    return float(hours.median()), float(hours.quantile(0.75))


def _authors(events: pd.DataFrame) -> int:
    """How many distinct people wrote these PRs or commits."""
    return int(events["author_id"].nunique()) if len(events) else 0


def _enough_authors(events: pd.DataFrame, k: int) -> bool:
    """Whether a median read from these PRs or commits comes from at least k people."""
    return len(events) > 0 and group_shown(_authors(events), k)


PR_FIGURES = (
    "merged_prs",
    *(f"{name}_{q}_h" for name in ("cycle", "pickup", "review") for q in ("median", "p75")),
    "pr_size_median",
)


def _pr_figures(merged: pd.DataFrame, k: int) -> dict[str, Any]:
    """The figures of these merged PRs: none if they come from 1 to k − 1 authors; their
    count if from none; the count and the medians if from at least k."""
    if not authored_shown(_authors(merged), k):
        return {}
    figures: dict[str, Any] = {"merged_prs": len(merged)}
    if not _enough_authors(merged, k):
        return figures
    cycle = _hours(merged["merged_at"] - merged["created_at"])
    pickup = _hours(merged["first_review_at"] - merged["created_at"])
    review = _hours(merged["merged_at"] - merged["first_review_at"])
    for name, series in (("cycle", cycle), ("pickup", pickup), ("review", review)):
        figures[f"{name}_median_h"], figures[f"{name}_p75_h"] = _quantiles(series)
    size = merged["additions"] + merged["deletions"]
    figures["pr_size_median"] = float(size.median())
    return figures


def failed_release_times(commits: pd.DataFrame) -> set[tuple[Any, Any]]:
    """Release times (per repository) whose changes were reverted within REVERT_WINDOW."""
    deployed: dict[tuple[Any, Any], Any] = {
        (row.repository_id, row.sha): row.deployed_at
        for row in commits.dropna(subset=["deployed_at"]).itertuples()
    }
    failed: set[tuple[Any, Any]] = set()
    for revert in commits[commits["reverted_sha"] != ""].itertuples():
        released = deployed.get((revert.repository_id, revert.reverted_sha))
        if released is None:  # abbreviated sha in the message: find by prefix
            candidates = [
                when
                for (repository, sha), when in deployed.items()
                if repository == revert.repository_id
                and str(sha).startswith(str(revert.reverted_sha))
            ]
            released = candidates[0] if len(candidates) == 1 else None
        if released is not None and timedelta(0) <= revert.committed_at - released <= REVERT_WINDOW:
            failed.add((revert.repository_id, released))
    return failed


def failed_by_incidents(releases: pd.DataFrame, incidents: pd.DataFrame) -> set[tuple[Any, Any]]:
    """Each incident fails the latest deployment of its repository before it opened."""
    failed: set[tuple[Any, Any]] = set()
    if releases.empty or incidents.empty:
        return failed
    for incident in incidents.itertuples():
        earlier = releases[
            (releases["repository_id"] == incident.repository_id)
            & (releases["tagged_at"] <= incident.opened_at)
        ]
        if len(earlier):
            failed.add((incident.repository_id, earlier["tagged_at"].max()))
    return failed


def _failure_basis(repositories: set[Any], with_incidents: set[Any]) -> str:
    if repositories <= with_incidents:
        return "incidents"
    if not repositories & with_incidents:
        return "releases reverted within 14 days (no incidents imported)"
    return "incidents where imported, else releases reverted within 14 days"


def team_week_metrics(
    *,
    commits: pd.DataFrame,
    prs: pd.DataFrame,
    releases: pd.DataFrame,
    k_by_team: dict[int, int],
    incidents: pd.DataFrame | None = None,
) -> list[WeekMetrics]:
    """Metrics per (team, ISO week).

    commits: team_id, repository_id, sha, author_id, committed_at, deployed_at, is_merge,
      reverted_sha, ai (bool) — one row per team the commit counts for;
    prs: team_id, author_id, created_at, merged_at, first_review_at, additions, deletions, ai;
    releases: team_id, repository_id, tagged_at (release tags, or imported deployments);
    incidents: team_id, repository_id, opened_at, resolved_at. A repository with incidents
    gets its change failure rate from them; the others from the revert proxy.
    Throughput counts a repository's merged PRs from the week of its first PR on, and the
    commits of every repository without PRs.
    """
    if incidents is None or incidents.empty:
        incidents = pd.DataFrame(columns=["team_id", "repository_id", "opened_at", "resolved_at"])
    with_incidents = set(incidents["repository_id"])
    commits = commits.assign(week=week_start(commits["committed_at"])) if len(commits) else commits
    prs = (
        prs.assign(week=week_start(prs["merged_at"].fillna(prs["created_at"]))) if len(prs) else prs
    )
    releases = (
        releases.assign(week=week_start(releases["tagged_at"])) if len(releases) else releases
    )
    pr_since: dict[Any, date] = (
        dict(
            prs.assign(first=week_start(prs["created_at"])).groupby("repository_id")["first"].min()
        )
        if len(prs)
        else {}
    )
    failed = {
        f
        for f in (failed_release_times(commits) if len(commits) else set())
        if f[0] not in with_incidents
    }
    failed |= failed_by_incidents(releases, incidents)
    if len(incidents):
        incidents = incidents.assign(week=week_start(incidents["opened_at"]))
    deployed = commits.dropna(subset=["deployed_at"]) if len(commits) else commits
    if len(deployed):
        deployed = deployed.assign(deploy_week=week_start(deployed["deployed_at"]))
    compared = _same_size_by_week(prs, k_by_team)
    keys = set()
    for frame in (commits, prs, releases):
        if len(frame):
            keys |= set(zip(frame["team_id"], frame["week"], strict=True))
    results = []
    for team_id, week in sorted(keys):
        week_commits = (
            commits[(commits["team_id"] == team_id) & (commits["week"] == week)]
            if len(commits)
            else commits
        )
        week_prs = prs[(prs["team_id"] == team_id) & (prs["week"] == week)] if len(prs) else prs
        authors = set(week_commits["author_id"]) if len(week_commits) else set()
        authors |= set(week_prs["author_id"]) if len(week_prs) else set()
        k = k_by_team.get(team_id, 5)
        if not group_shown(len(authors), k):
            results.append(WeekMetrics(team_id=team_id, week_start=week, suppressed=True))
            continue
        values = _week_values(
            team_id=team_id,
            week=week,
            commits=week_commits,
            prs=week_prs,
            releases=releases[(releases["team_id"] == team_id) & (releases["week"] == week)]
            if len(releases)
            else releases,
            deployed=deployed[(deployed["team_id"] == team_id) & (deployed["deploy_week"] == week)]
            if len(deployed)
            else deployed,
            failed=failed,
            active=len(authors),
            k=k,
            incidents=incidents[(incidents["team_id"] == team_id) & (incidents["week"] == week)]
            if len(incidents)
            else incidents,
            with_incidents=with_incidents,
            pr_since=pr_since,
        )
        if (same_size := compared.get((team_id, week))) is not None:
            values["ai_same_size"] = same_size
        results.append(
            WeekMetrics(
                team_id=team_id,
                week_start=week,
                suppressed=False,
                active_contributors=len(authors),
                figures=values,
            )
        )
    return results


def _week_values(
    *,
    team_id: int,
    week: date,
    commits: pd.DataFrame,
    prs: pd.DataFrame,
    releases: pd.DataFrame,
    deployed: pd.DataFrame,
    failed: set[Any],
    active: int,
    k: int,
    incidents: pd.DataFrame,
    with_incidents: set[Any],
    pr_since: dict[Any, date],
) -> dict[str, Any]:
    work = commits[~commits["is_merge"]] if len(commits) else commits
    merged = prs[prs["merged_at"].notna()] if len(prs) else prs
    withheld: set[str] = set()
    values: dict[str, Any] = {}
    if authored_shown(_authors(work), k):
        values["commits"] = len(work)
    else:
        withheld.add("commits")
    pr_figures = _pr_figures(merged, k)
    values |= pr_figures
    if not pr_figures:
        withheld.update(PR_FIGURES)
    repositories = set(commits["repository_id"]) if len(commits) else set()
    repositories |= set(prs["repository_id"]) if len(prs) else set()
    throughput = _throughput(work, merged, repositories, pr_since, week, active, k)
    if throughput is None:
        withheld.add("throughput")
    else:
        values |= throughput
    values["deployments"] = len(releases)
    values["deployment_days"] = (
        int(releases["tagged_at"].dt.tz_convert("UTC").dt.date.nunique()) if len(releases) else 0
    )
    # Lead time and the failure rate describe the changes deployed this week: their authors'.
    deployed_shown = authored_shown(_authors(deployed), k)
    if deployed_shown:
        lead = _hours(deployed["deployed_at"] - deployed["committed_at"])
        values["lead_time_median_h"] = _quantiles(lead)[0]
    else:
        withheld.add("lead_time_median_h")
    if len(releases) and deployed_shown:
        failures = sum((r.repository_id, r.tagged_at) in failed for r in releases.itertuples())
        values["change_failure_rate"] = failures / len(releases)
        values["change_failure_basis"] = _failure_basis(
            set(releases["repository_id"]), with_incidents
        )
    elif len(releases):
        withheld.add("change_failure_rate")
    resolved = incidents.dropna(subset=["resolved_at"]) if len(incidents) else incidents
    restore = (
        _hours(resolved["resolved_at"] - resolved["opened_at"])
        if len(resolved)
        else pd.Series(dtype=float)
    )
    values["time_to_restore_median_h"] = _quantiles(restore)[0]
    values |= _ai_figures(work, merged, k, withheld)
    values["withheld"] = sorted(withheld)
    return values


def _throughput(
    work: pd.DataFrame,
    merged: pd.DataFrame,
    repositories: set[Any],
    pr_since: dict[Any, date],
    week: date,
    active: int,
    k: int,
) -> dict[str, Any] | None:
    """The week's throughput on one basis per repository (see the module's docstring), from
    its non-merge commits and merged PRs and the repositories it touched: {} when not
    measured (commits in a repository before its PR data), None when withheld (the counted
    events come from 1 to k − 1 authors)."""
    if any(week < pr_since[r] for r in repositories if r in pr_since):
        return {}
    work = work[~work["repository_id"].isin(pr_since)] if len(work) else work
    authors = set(work["author_id"]) if len(work) else set()
    authors |= set(merged["author_id"]) if len(merged) else set()
    if not authored_shown(len(authors), k):
        return None
    with_prs = repositories & set(pr_since)
    if not with_prs:
        basis = "commits"
    elif with_prs == repositories:
        basis = "merged PRs"
    else:
        basis = "merged PRs, and commits where a repository has no PR data"
    count = len(merged) + len(work)
    return {"throughput": count / active, "throughput_count": count, "throughput_basis": basis}


def _ai_figures(
    work: pd.DataFrame, merged: pd.DataFrame, k: int, withheld: set[str]
) -> dict[str, Any]:
    """The AI-assisted share of the week's commits and merged PRs, and the AI vs other PR
    split: each only when both sides come from 0 or at least k authors (else named in
    `withheld`); None where there was nothing to split."""
    values: dict[str, Any] = {"ai_commit_share": None, "ai_pr_share": None}
    if len(work):
        sides = (work[work["ai"]], work[~work["ai"]])
        if split_shown([_authors(side) for side in sides], k):
            values["ai_commit_share"] = float(work["ai"].mean() * 100)
        else:
            del values["ai_commit_share"]
            withheld.add("ai_commit_share")
    if len(merged):
        ai, other = merged[merged["ai"]], merged[~merged["ai"]]
        if split_shown([_authors(ai), _authors(other)], k):
            values["ai_pr_share"] = float(merged["ai"].mean() * 100)
            values["ai_split"] = {"ai": _pr_figures(ai, k), "other": _pr_figures(other, k)}
        else:
            del values["ai_pr_share"]
            withheld.update(("ai_pr_share", "ai_split"))
    return values


COMPARE_WEEKS = 12  # the window of weeks the same-size comparison is fitted on, ending at a week
COMPARE_MIN_WEEKS = 8  # ... of which at least this many need AI-assisted and other PRs


def same_size_comparison(
    week: np.ndarray,
    ai: np.ndarray,
    hours: np.ndarray,
    size: np.ndarray,
    authors: np.ndarray | None = None,
    k: int = 1,
) -> dict[str, float] | None:
    """Cycle time of AI-assisted vs other merged PRs of one team at equal size, in the
    same weeks: log hours on the AI indicator and log(size + 1) with a fixed effect per
    week (so busy weeks and slow seasons cancel), by least squares on the within-week
    deviations (Frisch–Waugh–Lovell). The AI coefficient's standard error is clustered by
    week (CR1; PRs of a week share reviewers and releases) with a t on weeks − 1 degrees of
    freedom. Returns the ratio of cycle times (1.5: AI-assisted PRs take 1.5 times as long
    at the same size) with its 95 % interval, or None with fewer than COMPARE_MIN_WEEKS
    weeks that have both kinds (a week with only one kind says nothing about the
    difference), or when the PRs it uses come from 1 to k − 1 `authors` on either side.
    Coverage of the interval: tests/analytics/delivery/test_same_size.py (a percentile
    bootstrap over weeks, which the issue suggested, covers less at 8–12 weeks)."""
    both = [w for w in np.unique(week) if ai[week == w].any() and (~ai[week == w]).any()]
    if len(both) < COMPARE_MIN_WEEKS:
        return None
    keep = np.isin(week, both)
    week, ai, hours, size = week[keep], ai[keep], hours[keep], size[keep]
    if authors is not None and not all(
        group_shown(len(set(authors[keep][side])), k) for side in (ai, ~ai)
    ):
        return None
    _, group = np.unique(week, return_inverse=True)
    columns = np.column_stack(
        [ai.astype(float), np.log1p(size.astype(float)), np.log(np.maximum(hours, 1 / 60))]
    )
    counts = np.bincount(group)
    means = np.column_stack([np.bincount(group, weights=c) / counts for c in columns.T])[group]
    centred = columns - means
    x, y = centred[:, :2], centred[:, 2]
    gram = x.T @ x
    if abs(np.linalg.det(gram)) < 1e-12:
        return None
    bread = np.linalg.inv(gram)
    beta = bread @ (x.T @ y)
    residual = y - x @ beta
    clusters = len(counts)
    scores = np.zeros((clusters, 2))
    np.add.at(scores, group, x * residual[:, None])
    rows, parameters = len(y), 2 + clusters  # the week effects count as parameters
    if rows <= parameters:
        return None
    correction = clusters / (clusters - 1) * (rows - 1) / (rows - parameters)
    variance = correction * (bread @ (scores.T @ scores) @ bread)
    se = float(np.sqrt(variance[0, 0]))
    half = float(special.stdtrit(clusters - 1, 0.975)) * se
    return {
        "ratio": float(np.exp(beta[0])),
        "low": float(np.exp(beta[0] - half)),
        "high": float(np.exp(beta[0] + half)),
        "weeks": clusters,
    }


def _same_size_by_week(
    prs: pd.DataFrame, k_by_team: dict[int, int]
) -> dict[tuple[int, date], dict[str, float]]:
    """The same-size comparison of each team's COMPARE_WEEKS weeks ending at each week,
    for the windows whose AI-assisted PRs come from at least k authors and whose other
    PRs do too (a window from 1 to k − 1 people on either side would be theirs)."""
    found: dict[tuple[int, date], dict[str, float]] = {}
    if not len(prs):
        return found
    merged = prs[prs["merged_at"].notna()]
    for key, usable in merged.groupby("team_id"):
        team_id = int(str(key))
        k = k_by_team.get(team_id, 5)
        weeks = usable["week"].map(date.toordinal).to_numpy()
        ai = usable["ai"].to_numpy(dtype=bool)
        hours = _hours(usable["merged_at"] - usable["created_at"]).to_numpy()
        size = (usable["additions"] + usable["deletions"]).to_numpy()
        authors = usable["author_id"].to_numpy()
        for start in sorted(set(usable["week"])):
            end = start.toordinal()
            window = (weeks > end - 7 * COMPARE_WEEKS) & (weeks <= end)
            if result := same_size_comparison(
                weeks[window], ai[window], hours[window], size[window], authors[window], k
            ):
                found[(team_id, start)] = result
    return found
