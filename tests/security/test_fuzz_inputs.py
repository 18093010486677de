"""Fuzzing every importer end to end and every API input, with hypothesis.

Each importer gets files that are mostly right with a few values replaced by whatever
hypothesis draws (huge and negative numbers, NUL bytes, long text, odd time zones, wrong
types): it must store all or nothing and refuse what it does not store with its own
error (no crash), and importing the same file again must change nothing. Each API input
(answers, retro cards, a new question, the heatmap's filters) must answer below 500,
store exactly one submission when it says so and nothing otherwise.

Example counts come from a hypothesis profile: CANDOR_FUZZ_PROFILE=candor-fuzz-ci (the
default, bounded and derandomized for CI) or candor-fuzz-deep (ten times as many, random
each run, to run by hand).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from analytics.delivery.git.importer import repository_import
from analytics.delivery.models import Commit, Deployment, Incident, PullRequest, Repository
from surveys.people.models import Role
from surveys.pulses.models import Invitation, Question, SealedResponse
from surveys.retros.models import RetroInvitation, SealedRetroResponse
from tests.conftest import make_open_retro, make_open_run, valid_answers, valid_cards
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.gitrepos import BASE_ENV, ground_truth, repo_init
from tests.security.faults_world import TALLY, faults_tally  # noqa: F401

pytestmark = pytest.mark.django_db

settings.register_profile(
    "candor-fuzz-ci",
    max_examples=30,
    derandomize=True,  # the same examples on every CI run; candor-fuzz-deep explores
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "candor-fuzz-deep",
    settings.get_profile("candor-fuzz-ci"),
    max_examples=300,
    derandomize=False,
)
FUZZ = settings(settings.get_profile(os.environ.get("CANDOR_FUZZ_PROFILE", "candor-fuzz-ci")))
FEW = settings(FUZZ, max_examples=max(FUZZ.max_examples // 3, 5))  # a git repository each

SAMPLE_PRS = Path(__file__).parents[1] / "data" / "gh_prs.json"

ODD_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "é" * 300, "x" * 1001, "\u202e", "'; DROP TABLE x;--", "\ud7ff"]
)
ODD_TIME = st.sampled_from(
    [
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:00:00",
        "9999-12-31T23:59:59+14:00",
        "0001-01-01T00:00:00-12:00",
        "2026-02-30T00:00:00Z",
        "2026-03-02T09:00:00+23:59",
        "yesterday",
    ]
)
ODD_NUMBER = st.sampled_from([0, -1, 2**31, 2**63, 10**30, 1.5, float("inf")]) | st.integers()
SCALAR = st.none() | st.booleans() | ODD_NUMBER | ODD_TIME | ODD_TEXT | st.text(max_size=40)
ANY_JSON = st.recursive(
    SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


class Undo(Exception):
    pass


@contextmanager
def undone() -> Iterator[None]:
    """Run an example in a savepoint that is rolled back, so each starts from the same
    data (the inner code may commit its own savepoints)."""
    try:
        with transaction.atomic():
            yield
            raise Undo
    except Undo:
        pass


def written(tmp: Path, name: str, data: str | bytes) -> Path:
    path = tmp / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


def import_twice(command: list[str], snapshot: Any, what: str) -> None:
    """Run an import command; it either refuses (CommandError) and stores nothing, or
    stores, and running it again changes nothing."""
    before = snapshot()
    refused = ""
    try:
        call_command(*command, stdout=io.StringIO())
    except CommandError as error:
        refused = str(error)
    if refused:
        assert "Nothing was imported" in refused, refused
        assert snapshot() == before
        TALLY[f"fuzz: {what} refused whole"] += 1
        return
    stored = snapshot()
    call_command(*command, stdout=io.StringIO())
    assert snapshot() == stored
    TALLY[f"fuzz: {what} imported, then re-imported unchanged"] += 1


# --- importers ----------------------------------------------------------------------------


def pull_requests_snapshot() -> list[tuple]:
    return list(PullRequest.objects.order_by("pk").values_list())


@st.composite
def gh_files(draw: st.DrawFn) -> str:
    """gh's JSON with a few values replaced; now and then a whole PR or the file."""
    pulls = json.loads(SAMPLE_PRS.read_text())
    for _ in range(draw(st.integers(0, 4))):
        pull = pulls[draw(st.integers(0, len(pulls) - 1))]
        key = draw(st.sampled_from(sorted(pull)))
        if isinstance(pull[key], dict) and pull[key] and draw(st.booleans()):
            pull[key][draw(st.sampled_from(sorted(pull[key])))] = draw(ANY_JSON)
        elif isinstance(pull[key], list) and pull[key] and draw(st.booleans()):
            item = pull[key][0]
            if isinstance(item, dict) and item:
                item[draw(st.sampled_from(sorted(item)))] = draw(ANY_JSON)
            else:
                pull[key][0] = draw(ANY_JSON)
        else:
            pull[key] = draw(ANY_JSON)
    if draw(st.integers(0, 9)) == 0:
        pulls.append(draw(ANY_JSON))
    if draw(st.integers(0, 19)) == 0:
        return draw(st.text(max_size=50))
    return json.dumps(pulls)


def test_it_imports_a_gh_pull_request_file_whole_or_not_at_all_and_once(tmp_path: Path) -> None:
    team = TeamFactory()
    Repository.objects.create(organisation=team.organisation, team=team, name="r", source="/x")

    @FUZZ
    @given(gh_files())
    @example(
        SAMPLE_PRS.read_text().replace("Add retry to", "Add\\u0000retry to")
    )  # NUL: PostgreSQL
    @example(SAMPLE_PRS.read_text().replace('"payments"', '"pay\\u0000ments"'))
    @example(SAMPLE_PRS.read_text().replace('"retry"', json.dumps("r" * 1001)))  # too long
    @example(SAMPLE_PRS.read_text().replace('"bob", "is_bot"', f'"{"b" * 101}", "is_bot"'))
    @example(SAMPLE_PRS.read_text().replace("2" * 40, "2" * 41))
    @example(SAMPLE_PRS.read_text().replace('"additions": 120', '"additions": 2147483648'))
    @example(SAMPLE_PRS.read_text().replace('"payments"', "[Infinity]"))
    @example(SAMPLE_PRS.read_text().replace("09:00:00Z", "09:00:00+23:59"))
    def attempt(text: str) -> None:
        with undone():
            path = written(tmp_path, "prs.json", text)
            command = ["import_github_prs", str(path), "--repository", "r", "--no-progress"]
            import_twice(command, pull_requests_snapshot, "gh JSON files")

    attempt()


@st.composite
def csv_files(draw: st.DrawFn, columns: list[str], times: list[str]) -> str:
    """A CSV of a few rows, mostly well formed, some values replaced."""
    header = list(columns)
    if draw(st.integers(0, 9)) == 0:
        header.append(draw(st.text(max_size=10)))
    rows = []
    for number in range(draw(st.integers(0, 5))):
        row = {column: f"{column}-{number}" for column in header}
        row["repository"] = "r"
        for column in times:
            row[column] = "2026-03-02T09:00:00Z"
        for _ in range(draw(st.integers(0, 2))):
            row[draw(st.sampled_from(header))] = draw(ODD_TIME | ODD_TEXT | st.text(max_size=20))
        rows.append([row[column] for column in header])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "columns", "times", "model"),
    [
        (
            "deployments",
            ["repository", "deployed_at", "id", "environment"],
            ["deployed_at"],
            Deployment,
        ),
        (
            "incidents",
            ["repository", "opened_at", "resolved_at", "id", "title"],
            ["opened_at", "resolved_at"],
            Incident,
        ),
    ],
)
def test_it_imports_an_events_csv_whole_or_not_at_all_and_once(
    tmp_path: Path, kind: str, columns: list[str], times: list[str], model: Any
) -> None:
    team = TeamFactory()
    Repository.objects.create(organisation=team.organisation, team=team, name="r", source="/x")
    slug = team.organisation.slug

    @FUZZ
    @given(csv_files(columns, times))
    @example(  # an offset PostgreSQL refuses
        ",".join(columns)
        + "\r\nr,"
        + ",".join("2026-03-02T09:00:00+23:59" if c in times else "x" for c in columns[1:])
    )
    @example(  # an id too long for its column: a 500 on PostgreSQL
        ",".join(columns)
        + "\r\nr,"
        + ",".join("2026-03-02T09:00:00Z" if c in times else "9" * 201 for c in columns[1:])
    )
    @example(
        f"{','.join(columns)}\r\nr\x00,{','.join('2026-03-02T09:00:00Z' for _ in columns[1:])}\r\n"
    )
    def attempt(text: str) -> None:
        with undone():
            path = written(tmp_path, f"{kind}.csv", text)
            command = ["import_events", kind, str(path), "--organisation", slug]
            import_twice(
                command, lambda: list(model.objects.order_by("pk").values_list()), f"{kind} CSVs"
            )

    attempt()


NAME = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="<>\n\x00"),
    min_size=1,
    max_size=30,
)
EMAIL = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="<>\n\x00"), max_size=30
)
TRAILER = st.sampled_from(["Co-authored-by", "Assisted-by", "Generated-by", "Signed-off-by"])


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Commits with any bytes in messages and contents, odd names and time zones (from a
    day after the epoch: git log itself refuses a commit dated before it in local time)."""
    commits = []
    for _ in range(draw(st.integers(1, 6))):
        body = draw(st.binary(max_size=200))
        if draw(st.booleans()):
            body += f"\n\n{draw(TRAILER)}: {draw(NAME)} <{draw(EMAIL)}>\n".encode()
        commits.append(
            {
                "author": f"{draw(NAME)} <{draw(EMAIL)}>",
                "when": f"{draw(st.integers(86_400, 4_102_444_800))} "
                + draw(st.sampled_from(["+0000", "-1200", "+1400", "+0545", "-0030"])),
                "message": body,
                "path": draw(
                    st.text(
                        st.characters(
                            blacklist_categories=("Cs",), blacklist_characters='\n\x00"/'
                        ),
                        min_size=1,
                        max_size=20,
                    )
                ).encode(),
                "content": draw(st.binary(max_size=100)),
            }
        )
    return commits


def fast_import(path: Path, commits: list[dict[str, Any]]) -> None:
    stream = b""
    for commit in commits:
        who = f"{commit['author']} {commit['when']}".encode()
        stream += b"commit refs/heads/main\nauthor " + who + b"\ncommitter " + who + b"\n"
        stream += b"data %d\n%s\n" % (len(commit["message"]), commit["message"])
        stream += b'M 644 inline "' + commit["path"].replace(b"\\", b"\\\\") + b'"\n'
        stream += b"data %d\n%s\n" % (len(commit["content"]), commit["content"])
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=stream,
        env={**os.environ, **BASE_ENV},
        check=True,
        capture_output=True,
    )


def test_it_imports_any_git_history_once(tmp_path: Path) -> None:
    team = TeamFactory()

    @FEW
    @given(histories())
    @example(  # a record separator in a message split the commit: the repository never imported
        [
            {
                "author": "A <a@x>",
                "when": "86400 +0000",
                "message": b"a\x1eb",
                "path": b"f",
                "content": b"",
            }
        ]
    )
    def attempt(commits: list[dict[str, Any]]) -> None:
        with undone(), tempfile.TemporaryDirectory(dir=tmp_path) as where:
            path = repo_init(Path(where) / "repo").path
            fast_import(path, commits)
            repository = Repository.objects.create(
                organisation=team.organisation, team=team, name="fuzz", source=str(path)
            )
            added = repository_import(repository_id=repository.pk).commits_added
            assert added == ground_truth(path).commits == len(commits)
            stored = list(Commit.objects.filter(repository=repository).order_by("pk").values_list())
            assert repository_import(repository_id=repository.pk).commits_added == 0
            assert (
                list(Commit.objects.filter(repository=repository).order_by("pk").values_list())
                == stored
            )
            TALLY["fuzz: git histories imported, then re-imported unchanged"] += 1

    attempt()


# --- API inputs ---------------------------------------------------------------------------


def post_json(client: APIClient, url: str, body: Any) -> Any:
    """POST as any client could: Python's JSON, so also NaN and Infinity."""
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_it_answers_any_pulse_answers_below_500_and_stores_one_or_none() -> None:
    pulse = make_open_run(size=5)
    token, invitation = pulse.tokens[0], pulse.invitations[0]
    good = valid_answers(pulse.run)
    keys = st.sampled_from(sorted(good)) | st.text(max_size=10)

    @FUZZ
    @given(
        st.dictionaries(keys, ANY_JSON, max_size=10).map(lambda bad: {**good, **bad}) | ANY_JSON,
        st.booleans(),
    )
    def attempt(answers: Any, wrapped: bool) -> None:
        cache.clear()  # the token routes' throttle
        with undone():
            body = {"answers": answers} if wrapped else answers
            response = post_json(
                APIClient(), reverse("api-invitation-response", args=[token]), body
            )
            assert response.status_code < 500, response.content[:300]
            stored = SealedResponse.objects.filter(run=pulse.run).count()  # open: sealed
            used = Invitation.objects.get(pk=invitation.pk).used
            assert (stored, used) == ((1, True) if response.status_code == 201 else (0, False))
            TALLY[f"fuzz: pulse answers, answered {response.status_code}"] += 1

    attempt()


def test_it_answers_any_retro_cards_below_500_and_stores_one_or_none() -> None:
    retro = make_open_retro(size=5)
    token, invitation = retro.tokens[0], retro.invitations[0]
    good = valid_cards(retro.session)
    card_keys = st.sampled_from(["prompt", "text", "category", "effect", "shared"])

    @FUZZ
    @given(
        st.lists(st.tuples(st.integers(0, 1), card_keys, ANY_JSON), max_size=4).map(
            lambda changes: _cards(good, changes)
        )
        | ANY_JSON
    )
    def attempt(cards: Any) -> None:
        cache.clear()
        with undone():
            url = reverse("api-retro-invitation-submission", args=[token])
            response = post_json(APIClient(), url, {"cards": cards})
            assert response.status_code < 500, response.content[:300]
            stored = SealedRetroResponse.objects.filter(session=retro.session).count()
            used = RetroInvitation.objects.get(pk=invitation.pk).used
            assert (stored, used) == ((1, True) if response.status_code == 201 else (0, False))
            TALLY[f"fuzz: retro cards, answered {response.status_code}"] += 1

    attempt()


def _cards(good: list[dict], changes: list[tuple[int, str, Any]]) -> list[dict]:
    cards = [dict(card) for card in good]
    for index, key, value in changes:
        cards[index][key] = value
    return cards


def test_it_answers_any_new_question_below_500_and_stores_one_or_none() -> None:
    team = TeamFactory()
    admin = UserFactory()
    MembershipFactory(user=admin, team=team, role=Role.ADMIN)
    fields = ["key", "construct", "kind", "text", "help_text", "scale_min", "scale_max"]
    fields += ["labels", "options", "reverse_scored", "citation"]
    good = {"key": "fuzzed", "text": "How was it?", "kind": "scale"}

    @FUZZ
    @given(st.dictionaries(st.sampled_from(fields), ANY_JSON, max_size=6))
    def attempt(changes: dict[str, Any]) -> None:
        client = APIClient()
        client.force_authenticate(admin)
        with undone():
            before = Question.objects.count()
            response = post_json(client, reverse("api-questions"), {**good, **changes})
            assert response.status_code < 500, response.content[:300]
            added = Question.objects.count() - before
            assert added == (1 if response.status_code == 201 else 0)
            TALLY[f"fuzz: new questions, answered {response.status_code}"] += 1

    attempt()


def test_it_answers_any_heatmap_filter_below_500() -> None:
    team = TeamFactory()
    manager = UserFactory()
    MembershipFactory(user=manager, team=team, role=Role.MANAGER)
    params = st.dictionaries(
        st.sampled_from(["limit", "offset", "under", "format", "page"]) | st.text(max_size=5),
        st.sampled_from([team.slug, "-1", "0", "501", "1e9", "9" * 30, ""]) | st.text(max_size=20),
        max_size=4,
    )

    @FUZZ
    @given(params)
    @example({"under": "\x00"})  # a 500 on PostgreSQL before NulQueryMiddleware
    def attempt(query: dict[str, str]) -> None:
        client = APIClient()
        client.force_authenticate(manager)
        response = client.get(reverse("api-heatmap"), query)
        assert response.status_code < 500, (query, response.content[:300])
        TALLY[f"fuzz: heatmap filters, answered {response.status_code}"] += 1

    attempt()
