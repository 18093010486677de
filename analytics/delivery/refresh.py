"""Delivery metrics per team and week: the database turned into frames (with each event
given the team its author was on at the time), the pure maths, and the summary rows.

Team of an event: the teams whose membership (engineer, manager or facilitator) covers
the event's date, for an author mapped to a person; otherwise — an unmapped identity, or
no membership that day — the repository's team. Bots count nowhere.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Max, QuerySet

from analytics.delivery.metrics import team_week_metrics
from analytics.delivery.models import (
    Commit,
    Contributor,
    Deployment,
    Incident,
    PullRequest,
    Tag,
    TeamWeekDelivery,
)
from surveys.anonymity import K_MIN
from surveys.people.models import Membership, Role, Team
from surveys.pulses.models import Pulse

COUNTED_ROLES = (Role.ENGINEER, Role.MANAGER, Role.FACILITATOR)


def _frame(queryset: QuerySet[Any], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(queryset.values_list(*columns)), columns=columns)


def _with_teams(events: pd.DataFrame, *, at: str, organisation_id: int) -> pd.DataFrame:
    """One row per (event, team it counts for); bots' events dropped."""
    if events.empty:
        return events.assign(team_id=pd.Series(dtype="int64"))
    people = _frame(
        Contributor.objects.filter(organisation_id=organisation_id), ["id", "user_id", "is_bot"]
    )
    events = events.merge(people.rename(columns={"id": "author_id"}), on="author_id", how="left")
    events = events[~events["is_bot"].fillna(False).astype(bool)].reset_index(drop=True)
    events["event"] = events.index
    memberships = _frame(
        Membership.objects.filter(team__organisation_id=organisation_id, role__in=COUNTED_ROLES),
        ["user_id", "team_id", "start", "end"],
    )
    day = events[at].dt.tz_convert("UTC").dt.date
    mapped = events.assign(day=day).dropna(subset=["user_id"]).merge(memberships, on="user_id")
    covered = mapped[
        (mapped["start"] <= mapped["day"])
        & (mapped["end"].isna() | (mapped["day"] < mapped["end"]))
    ]
    by_membership = covered.drop(columns=["day", "start", "end", "repository_team_id"])
    fallback = events[~events["event"].isin(covered["event"])].rename(
        columns={"repository_team_id": "team_id"}
    )
    combined = pd.concat([by_membership, fallback], ignore_index=True)
    return combined.drop(columns=["event", "user_id", "is_bot"]).astype({"team_id": "int64"})


def _commits(organisation_id: int) -> pd.DataFrame:
    columns = [
        "repository_id",
        "repository__team_id",
        "sha",
        "author_id",
        "committed_at",
        "deployed_at",
    ]
    columns += ["is_merge", "reverted_sha", "ai_tool"]
    frame = _frame(
        Commit.objects.filter(repository__organisation_id=organisation_id, reachable=True), columns
    )
    frame = frame.rename(columns={"repository__team_id": "repository_team_id"})
    frame["ai"] = frame["ai_tool"] != ""
    for column in ("committed_at", "deployed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return _with_teams(
        frame.drop(columns=["ai_tool"]), at="committed_at", organisation_id=organisation_id
    )


def _pull_requests(organisation_id: int) -> pd.DataFrame:
    columns = ["repository_id", "repository__team_id", "author_id", "created_at", "merged_at"]
    columns += ["first_review_at"]
    columns += ["additions", "deletions", "ai_tool"]
    frame = _frame(PullRequest.objects.filter(repository__organisation_id=organisation_id), columns)
    frame = frame.rename(columns={"repository__team_id": "repository_team_id"})
    frame["ai"] = frame["ai_tool"] != ""
    for column in ("created_at", "merged_at", "first_review_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["at"] = frame["merged_at"].fillna(frame["created_at"])
    attributed = _with_teams(
        frame.drop(columns=["ai_tool"]), at="at", organisation_id=organisation_id
    )
    return attributed.drop(columns=["at"], errors="ignore")


def _releases(organisation_id: int) -> pd.DataFrame:
    """Deployments: a repository's imported production deployments where it has any,
    else its release tags."""
    deployed = Deployment.objects.filter(
        repository__organisation_id=organisation_id, environment="production"
    )
    columns = ["repository__team_id", "repository_id", "tagged_at"]
    tags = _frame(
        Tag.objects.filter(repository__organisation_id=organisation_id, is_release=True).exclude(
            repository_id__in=deployed.values("repository_id")
        ),
        columns,
    )
    csv_rows = _frame(deployed, ["repository__team_id", "repository_id", "deployed_at"])
    frame = pd.concat([tags, csv_rows.set_axis(columns, axis=1)], ignore_index=True)
    frame = frame.rename(columns={"repository__team_id": "team_id"})
    frame["tagged_at"] = pd.to_datetime(frame["tagged_at"], utc=True)
    return frame


def _incidents(organisation_id: int) -> pd.DataFrame:
    frame = _frame(
        Incident.objects.filter(repository__organisation_id=organisation_id),
        ["repository__team_id", "repository_id", "opened_at", "resolved_at"],
    ).rename(columns={"repository__team_id": "team_id"})
    for column in ("opened_at", "resolved_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _k_by_team(organisation_id: int) -> dict[int, int]:
    raised = dict(
        Pulse.objects.filter(team__organisation_id=organisation_id)
        .values("team_id")
        .annotate(k=Max("k"))
        .values_list("team_id", "k")
    )
    teams = Team.objects.filter(organisation_id=organisation_id).values_list("pk", flat=True)
    return {team_id: max(K_MIN, raised.get(team_id, K_MIN)) for team_id in teams}


def delivery_metrics_refresh(*, organisation_id: int) -> int:
    """Recompute every team-week of an organisation in one transaction; safe to re-run.
    Returns how many team-weeks were written (suppressed ones included)."""
    k_by_team = _k_by_team(organisation_id)
    weeks = team_week_metrics(
        commits=_commits(organisation_id),
        prs=_pull_requests(organisation_id),
        releases=_releases(organisation_id),
        k_by_team=k_by_team,
        incidents=_incidents(organisation_id),
    )
    rows = [
        TeamWeekDelivery(
            team_id=week.team_id,
            week_start=week.week_start,
            k=k_by_team.get(week.team_id, K_MIN),
            suppressed=week.suppressed,
            active_contributors=week.active_contributors,
            metrics=week.figures,
        )
        for week in weeks
    ]
    with transaction.atomic():
        TeamWeekDelivery.objects.filter(team__organisation_id=organisation_id).delete()
        TeamWeekDelivery.objects.bulk_create(rows)
    return len(rows)
