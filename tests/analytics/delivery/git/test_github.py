"""The GitHub REST client against a real HTTP server on 127.0.0.1 serving GitHub-shaped
JSON: pagination, authentication, rate limits, incremental sync, clear errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from analytics.delivery.git.github import GitHubClient, GitHubError
from analytics.delivery.git.pull_import import github_pulls_sync
from analytics.delivery.models import PullRequest, Repository
from tests.factories import TeamFactory

REPO = "northwind/shop"


def _pull(number: int, updated: str, *, merged: bool = True) -> dict[str, Any]:
    return {
        "number": number,
        "title": f"PR {number}",
        "user": {"login": f"dev{number % 3}", "type": "User"},
        "created_at": "2026-03-02T09:00:00Z",
        "updated_at": updated,
        "merged_at": "2026-03-03T09:00:00Z" if merged else None,
        "closed_at": "2026-03-03T09:00:00Z" if merged else None,
        "merge_commit_sha": f"{number:040x}",
        "additions": 10 * number,
        "deletions": number,
        "changed_files": 2,
        "labels": [{"name": "backend"}],
        "base": {"ref": "main"},
        "head": {"ref": f"feature-{number}"},
    }


class FakeGitHub:
    """Routes, the requests seen, and switches for failures."""

    def __init__(self, pulls: list[dict[str, Any]]) -> None:
        self.pulls = sorted(pulls, key=lambda p: p["updated_at"], reverse=True)
        self.requests: list[tuple[str, str]] = []
        self.rate_limited_once = False
        self.fail_with: int | None = None

    def answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(handler.path)
        query = parse_qs(url.query)
        self.requests.append((url.path, handler.headers.get("Authorization", "")))
        if self.fail_with:
            return self.fail_with, {}, {"message": "Not Found"}
        parts = url.path.strip("/").split("/")
        if url.path == f"/api/v3/repos/{REPO}/pulls":
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("per_page", ["100"])[0])
            size = min(size, 2)  # force several pages
            chunk = self.pulls[(page - 1) * size : page * size]
            headers = {}
            if page * size < len(self.pulls):
                host = handler.headers["Host"]
                nxt = f"http://{host}{url.path}?state=all&page={page + 1}&per_page={size}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            if page == 2 and not self.rate_limited_once:
                self.rate_limited_once = True
                return (
                    403,
                    {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000"},
                    {"message": "API rate limit exceeded"},
                )
            return (
                200,
                headers,
                [{"number": p["number"], "updated_at": p["updated_at"]} for p in chunk],
            )
        number = int(parts[6])
        pull = next(p for p in self.pulls if p["number"] == number)
        if len(parts) == 7:
            return 200, {}, pull
        if parts[7] == "reviews":
            return (
                200,
                {},
                [
                    {
                        "user": {"login": pull["user"]["login"]},
                        "state": "COMMENTED",
                        "submitted_at": "2026-03-02T09:30:00Z",
                    },
                    {
                        "user": {"login": "reviewer"},
                        "state": "APPROVED",
                        "submitted_at": "2026-03-02T12:00:00Z",
                    },
                ],
            )
        message = (
            "Add it\n\nCo-authored-by: Claude <noreply@anthropic.com>" if number % 2 else "Add it"
        )
        return (
            200,
            {},
            [
                {
                    "sha": "a" * 40,
                    "commit": {
                        "message": message,
                        "author": {"name": "Dev", "email": "dev@example.com"},
                    },
                }
            ],
        )


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub([_pull(n, f"2026-03-0{n}T12:00:00Z") for n in range(1, 6)])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = fake.answer(self)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    server.shutdown()
    server.server_close()


def _client(base_url: str, slept: list[float]) -> GitHubClient:
    return GitHubClient(
        base_url=base_url, token="secret-token", sleep=slept.append, now=lambda: 990.0
    )


def test_it_pages_through_every_pull_request_with_its_reviews_and_commits(github) -> None:
    fake, base_url = github
    slept: list[float] = []
    pulls = [pull for pull, _ in _client(base_url, slept).pull_requests(REPO)]
    assert [p.number for p in pulls] == [5, 4, 3, 2, 1]
    assert pulls[0].first_review_at == datetime(
        2026, 3, 2, 12, 0, tzinfo=UTC
    )  # not the author's own
    assert pulls[0].additions == 50
    assert pulls[0].merge_commit_sha == f"{5:040x}"
    assert all(auth == "Bearer secret-token" for _, auth in fake.requests)
    assert slept == [11.0]  # the rate limit reset 10 s after 'now', plus a second


def test_an_incremental_sync_stops_at_the_last_update_seen(github, db) -> None:
    fake, base_url = github
    team = TeamFactory()
    repository = Repository.objects.create(
        organisation=team.organisation, team=team, name="shop", source="/x", github_repository=REPO
    )
    first = github_pulls_sync(repository_id=repository.pk, client=_client(base_url, []))
    assert (first.created, first.updated) == (5, 0)
    assert PullRequest.objects.filter(ai_tool="claude").count() == 3  # the odd numbers
    repository.refresh_from_db()
    assert repository.github_synced_at == datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    fake.pulls.insert(0, _pull(6, "2026-03-06T12:00:00Z", merged=False))
    fake.requests.clear()
    second = github_pulls_sync(repository_id=repository.pk, client=_client(base_url, []))
    assert (second.created, second.updated) == (1, 0)
    assert not any(
        path.endswith("/pulls/1") for path, _ in fake.requests
    )  # older ones not fetched again


def test_an_error_answer_is_a_clear_error(github) -> None:
    fake, base_url = github
    fake.fail_with = 404
    with pytest.raises(GitHubError, match=r"GitHub answered 404 .*Not Found"):
        list(_client(base_url, []).pull_requests(REPO))


def test_a_rate_limit_too_far_away_stops_the_sync_with_the_reason(github) -> None:
    _, base_url = github
    client = GitHubClient(base_url=base_url, sleep=lambda s: None, now=lambda: 0.0)
    with pytest.raises(GitHubError, match="rate limit resets in 1001 s"):
        list(client.pull_requests(REPO))
