"""A small client for GitHub's REST API (github.com or GitHub Enterprise): pull requests
with their reviews and commits, newest update first, stopping at the last sync.

Pages follow the `Link: rel="next"` header; when `X-RateLimit-Remaining` reaches 0 the
client waits until `X-RateLimit-Reset` (or `Retry-After` on a 403/429), up to a bound.
Every pull request is turned into the `gh pr list --json` shape and read by the same
parser as files, so both paths validate alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import requests

from analytics.delivery.git.pulls import (
    ParsedPullRequest,
    PullRequestFormatError,
    parse_pull_request,
)

PER_PAGE = 100
TIMEOUT = 30
MAX_RATE_WAIT = 900  # seconds; beyond that the sync stops and says why
RETRIES = 3


class GitHubError(Exception):
    """GitHub could not be read; the message says what GitHub answered."""


class GitHubClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str = "",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers.update(
            {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        )
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.sleep, self.now = sleep, now

    def _get(self, url: str, params: dict[str, Any] | None = None) -> requests.Response:
        for attempt in range(RETRIES + 1):
            try:
                response = self.session.get(url, params=params, timeout=TIMEOUT)
            except requests.RequestException as error:
                if attempt == RETRIES:
                    raise GitHubError(f"GitHub did not answer: {error}") from None
                self.sleep(2**attempt)
                continue
            wait = self._rate_wait(response)
            if response.status_code in (403, 429) and wait is not None:
                self._wait(wait)
                continue
            if response.status_code >= 500 and attempt < RETRIES:
                self.sleep(2**attempt)
                continue
            if response.status_code >= 400:
                message = (
                    response.json().get("message", "")
                    if _is_json(response)
                    else response.text[:200]
                )
                raise GitHubError(f"GitHub answered {response.status_code} for {url}: {message}")
            if response.headers.get("X-RateLimit-Remaining") == "0" and wait is not None:
                self._wait(wait)  # this answer is good; the next request would be refused
            return response
        raise GitHubError(f"GitHub kept failing for {url}")

    def _rate_wait(self, response: requests.Response) -> float | None:
        if "Retry-After" in response.headers:
            return float(response.headers["Retry-After"])
        if (
            response.headers.get("X-RateLimit-Remaining") == "0"
            and "X-RateLimit-Reset" in response.headers
        ):
            return max(float(response.headers["X-RateLimit-Reset"]) - self.now(), 0) + 1
        return None

    def _wait(self, seconds: float) -> None:
        if seconds > MAX_RATE_WAIT:
            raise GitHubError(f"GitHub's rate limit resets in {seconds:.0f} s; try again later")
        self.sleep(seconds)

    def _pages(
        self, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        url: str | None = f"{self.base_url}{path}"
        query = {"per_page": PER_PAGE, **(params or {})}
        while url:
            response = self._get(url, params=query)
            page = response.json()
            if not isinstance(page, list):
                raise GitHubError(
                    f"GitHub sent {type(page).__name__} where a list was expected at {url}"
                )
            yield page
            url = response.links.get("next", {}).get("url")
            query = {}  # the next link carries the query

    def pull_requests(
        self, repository: str, *, updated_since: datetime | None = None
    ) -> Iterator[tuple[ParsedPullRequest, datetime]]:
        """(pull request, its updated_at), newest update first, down to `updated_since`."""
        params = {"state": "all", "sort": "updated", "direction": "desc"}
        for page in self._pages(f"/repos/{repository}/pulls", params):
            for summary in page:
                updated = _time(summary.get("updated_at"))
                if updated_since is not None and updated is not None and updated <= updated_since:
                    return
                yield (
                    self._pull_request(repository, summary),
                    updated or datetime.min.replace(tzinfo=UTC),
                )

    def _pull_request(self, repository: str, summary: dict[str, Any]) -> ParsedPullRequest:
        number = summary.get("number")
        detail = self._get(f"{self.base_url}/repos/{repository}/pulls/{number}").json()
        reviews = [
            r for page in self._pages(f"/repos/{repository}/pulls/{number}/reviews") for r in page
        ]
        commits = [
            c for page in self._pages(f"/repos/{repository}/pulls/{number}/commits") for c in page
        ]
        try:
            return parse_pull_request(
                _gh_shape(detail, reviews, commits), f"pull request #{number}"
            )
        except PullRequestFormatError as error:
            raise GitHubError(f"GitHub sent an unexpected pull request: {error}") from None


def _is_json(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").startswith("application/json")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _person(user: Any) -> dict[str, Any] | None:
    if not isinstance(user, dict):
        return None
    return {"login": user.get("login"), "is_bot": user.get("type") == "Bot"}


def _gh_shape(detail: dict[str, Any], reviews: list[Any], commits: list[Any]) -> dict[str, Any]:
    """REST API fields renamed to the `gh pr list --json` ones."""
    merge_sha = detail.get("merge_commit_sha") if detail.get("merged_at") else None
    return {
        "number": detail.get("number"),
        "title": detail.get("title"),
        "author": _person(detail.get("user")),
        "createdAt": detail.get("created_at"),
        "mergedAt": detail.get("merged_at"),
        "closedAt": detail.get("closed_at"),
        "additions": detail.get("additions"),
        "deletions": detail.get("deletions"),
        "changedFiles": detail.get("changed_files"),
        "reviews": [
            {
                "author": _person(r.get("user")),
                "state": r.get("state"),
                "submittedAt": r.get("submitted_at"),
            }
            for r in reviews
            if isinstance(r, dict)
        ],
        "commits": [
            {
                "oid": c.get("sha"),
                "messageHeadline": (c.get("commit", {}).get("message") or "").split("\n", 1)[0],
                "messageBody": (c.get("commit", {}).get("message") or "").partition("\n")[2],
                "authors": [c.get("commit", {}).get("author") or {}],
            }
            for c in commits
            if isinstance(c, dict)
        ],
        "labels": detail.get("labels") or [],
        "baseRefName": (detail.get("base") or {}).get("ref"),
        "headRefName": (detail.get("head") or {}).get("ref"),
        "mergeCommit": {"oid": merge_sha} if merge_sha else None,
    }
