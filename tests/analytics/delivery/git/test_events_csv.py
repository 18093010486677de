"""Deployments and incidents from CSV: line-numbered errors, whole-file imports, metrics."""

from __future__ import annotations

import contextlib
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.delivery.git.events_csv import (
    CsvFormatError,
    parse_deployments_csv,
    parse_incidents_csv,
)
from analytics.delivery.metrics import team_week_metrics
from analytics.delivery.models import Deployment, Incident, Repository
from tests.factories import TeamFactory

GOOD_DEPLOYMENTS = (
    "repository,deployed_at,id,environment\n"
    "shop,2026-03-02T10:00:00Z,d1,production\n"
    "shop,2026-03-03T10:00:00+01:00,d2,\n"
)


def test_deployments_are_read_with_time_zones_and_defaults() -> None:
    first, second = parse_deployments_csv(GOOD_DEPLOYMENTS)
    assert first.external_id == "d1"
    assert second.environment == "production"
    assert second.deployed_at.utcoffset() is not None


def test_a_row_without_an_id_gets_a_stable_one() -> None:
    text = "repository,deployed_at\nshop,2026-03-02T10:00:00Z\n"
    assert parse_deployments_csv(text)[0].external_id == parse_deployments_csv(text)[0].external_id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty"),
        ("repository,when\nshop,x\n", "line 1: unknown column(s) when; missing deployed_at"),
        (
            "repository,deployed_at\nshop,2026-03-02T10:00:00Z\nshop,tomorrow\n",
            "line 3: deployed_at 'tomorrow' is not an ISO 8601 time",
        ),
        (
            "repository,deployed_at\nshop,2026-03-02T10:00:00\n",
            "line 2: deployed_at '2026-03-02T10:00:00' has no time zone",
        ),
        ("repository,deployed_at\n,2026-03-02T10:00:00Z\n", "line 2: repository is empty"),
        (
            "repository,deployed_at\nshop,2026-03-02T10:00:00Z,extra\n",
            "line 2: more fields than columns",
        ),
        ('repository,deployed_at\n"shop,2026-03-02T10:00:00Z\n', "line"),
    ],
)
def test_a_bad_deployments_file_names_the_line(text: str, message: str) -> None:
    with pytest.raises(CsvFormatError) as caught:
        parse_deployments_csv(text)
    assert message in str(caught.value)


def test_an_incident_resolved_before_it_opened_is_refused() -> None:
    with pytest.raises(CsvFormatError, match="line 2: resolved_at is before opened_at"):
        parse_incidents_csv(
            "repository,opened_at,resolved_at\nshop,2026-03-02T10:00:00Z,2026-03-02T09:00:00Z\n"
        )


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(CsvFormatError, match="not UTF-8"):
        parse_deployments_csv(
            "repository,deployed_at\ncafé,2026-03-02T10:00:00Z\n".encode("latin-1")
        )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_raises_a_format_error_only(text: str) -> None:
    for parse in (parse_deployments_csv, parse_incidents_csv):
        with contextlib.suppress(CsvFormatError):
            parse("repository,deployed_at,opened_at\n" + text)
        with contextlib.suppress(CsvFormatError):
            parse(text)


@pytest.fixture
def shop(db) -> Repository:
    team = TeamFactory()
    return Repository.objects.create(
        organisation=team.organisation, team=team, name="shop", source="/nowhere"
    )


@pytest.mark.django_db
def test_the_command_imports_once_and_refuses_a_bad_file_whole(
    shop: Repository, tmp_path: Path
) -> None:
    good = tmp_path / "deployments.csv"
    good.write_text(GOOD_DEPLOYMENTS)
    slug = shop.organisation.slug
    out = StringIO()
    call_command("import_events", "deployments", str(good), "--organisation", slug, stdout=out)
    assert "deployments: 2 new, 0 updated" in out.getvalue()
    call_command(
        "import_events", "deployments", str(good), "--organisation", slug, stdout=StringIO()
    )
    assert Deployment.objects.count() == 2
    bad = tmp_path / "incidents.csv"
    bad.write_text("repository,opened_at\nshop,2026-03-02T10:00:00Z\nnope,2026-03-02T11:00:00Z\n")
    with pytest.raises(
        CommandError, match=r"line 3: no repository called 'nope'.*Nothing was imported"
    ):
        call_command("import_events", "incidents", str(bad), "--organisation", slug)
    assert not Incident.objects.exists()


def test_incidents_give_the_failure_rate_and_time_to_restore_by_hand() -> None:
    monday = pd.Timestamp("2026-03-02T00:00:00Z")
    commits = pd.DataFrame(
        {
            "team_id": 1,
            "repository_id": 1,
            "sha": [f"{i:040x}" for i in range(5)],
            "author_id": range(5),
            "committed_at": [monday + pd.Timedelta(hours=h) for h in range(5)],
            "deployed_at": pd.NaT,
            "is_merge": False,
            "reverted_sha": "",
            "ai": False,
        }
    )
    commits["deployed_at"] = pd.to_datetime(commits["deployed_at"], utc=True)
    releases = pd.DataFrame(
        {
            "team_id": 1,
            "repository_id": 1,
            "tagged_at": [monday + pd.Timedelta(hours=h) for h in (10, 30, 50, 70)],
        }
    )
    incidents = pd.DataFrame(
        {
            "team_id": 1,
            "repository_id": 1,
            "opened_at": [monday + pd.Timedelta(hours=h) for h in (12, 13, 55)],
            "resolved_at": [monday + pd.Timedelta(hours=h) for h in (14, 19, 55 + 10)],
        }
    )
    [week] = team_week_metrics(
        commits=commits,
        prs=pd.DataFrame(
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
        ),
        releases=releases,
        k_by_team={1: 5},
        incidents=incidents,
    )
    assert week.figures["change_failure_rate"] == pytest.approx(2 / 4)  # releases at 10 h and 50 h
    assert week.figures["change_failure_basis"] == "incidents"
    assert week.figures["time_to_restore_median_h"] == 6  # 2, 6, 10
