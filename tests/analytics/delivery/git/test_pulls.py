"""Pull requests from gh JSON: parsed, attributed, stored once, bad files refused whole."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.delivery.git.pull_import import pull_requests_store
from analytics.delivery.git.pulls import PullRequestFormatError, parse_gh_json
from analytics.delivery.models import Contributor, PullRequest, Repository
from tests.factories import TeamFactory

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "gh_prs.json"


def test_a_gh_file_is_parsed_with_review_times_and_bots() -> None:
    merged, open_bump = parse_gh_json(SAMPLE.read_bytes())
    assert merged.number == 12
    assert merged.first_review_at == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # not bob's own
    assert merged.review_count == 3
    assert merged.merge_commit_sha == "2" * 40
    assert open_bump.author_is_bot
    assert open_bump.merged_at is None
    assert open_bump.created_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[{",
            "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 3",
        ),
        ('{"number": 1}', "expected a JSON list"),
        ('[{"number": "x"}]', "[0].number: expected a whole number"),
        (
            '[{"number": 1, "author": {"login": "a"}, "createdAt": "yesterday"}]',
            "[0].createdAt: 'yesterday' is not",
        ),
        (
            '[{"number": 1, "author": {"login": "a"}, "createdAt": "2026-01-01T00:00:00"}]',
            "has no time zone",
        ),
    ],
)
def test_a_malformed_file_names_where_and_what(text: str, message: str) -> None:
    with pytest.raises(PullRequestFormatError) as caught:
        parse_gh_json(text)
    assert message in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "number",
                        "author",
                        "login",
                        "createdAt",
                        "additions",
                        "reviews",
                        "commits",
                        "labels",
                        "mergeCommit",
                        "oid",
                    ]
                ),
                inner,
                max_size=6,
            )
        ),
        max_leaves=20,
    )
)
def test_any_json_parses_or_raises_a_format_error_only(value: object) -> None:
    with contextlib.suppress(PullRequestFormatError):
        parse_gh_json(json.dumps([value]))


@pytest.fixture
def repository(db) -> Repository:
    team = TeamFactory()
    return Repository.objects.create(
        organisation=team.organisation, team=team, name="shop", source="/nowhere"
    )


@pytest.mark.django_db
def test_storing_twice_updates_and_never_duplicates(repository: Repository) -> None:
    pulls = parse_gh_json(SAMPLE.read_bytes())
    assert pull_requests_store(repository_id=repository.pk, pulls=pulls).created == 2
    data = json.loads(SAMPLE.read_text())
    data[1]["mergedAt"] = data[1]["closedAt"] = "2026-03-05T10:00:00Z"
    again = pull_requests_store(repository_id=repository.pk, pulls=parse_gh_json(json.dumps(data)))
    assert (again.created, again.updated) == (0, 2)
    assert PullRequest.objects.count() == 2
    assert PullRequest.objects.get(number=13).merged_at is not None


@pytest.mark.django_db
def test_ai_assistance_and_authors_are_recorded(repository: Repository) -> None:
    pull_requests_store(repository_id=repository.pk, pulls=parse_gh_json(SAMPLE.read_bytes()))
    assert PullRequest.objects.get(number=12).ai_tool == "claude"
    assert PullRequest.objects.get(number=13).ai_tool == ""
    bot = Contributor.objects.get(github_login="dependabot[bot]")
    assert bot.is_bot
    assert bot.user is None


@pytest.mark.django_db
def test_the_command_imports_and_summarises(repository: Repository) -> None:
    out = StringIO()
    call_command(
        "import_github_prs", str(SAMPLE), "--repository", "shop", "--no-progress", stdout=out
    )
    assert "shop: 2 pull requests (2 new, 0 updated)" in out.getvalue()


@pytest.mark.django_db
def test_the_command_refuses_a_bad_file_and_imports_nothing(
    repository: Repository, tmp_path: Path
) -> None:
    bad = tmp_path / "prs.json"
    bad.write_text(SAMPLE.read_text()[:-30])
    with pytest.raises(CommandError, match=r"not valid JSON.*Nothing was imported"):
        call_command("import_github_prs", str(bad), "--repository", "shop", "--no-progress")
    assert not PullRequest.objects.exists()
