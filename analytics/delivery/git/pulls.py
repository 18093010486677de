"""Pull requests as `gh pr list --state all --json number,title,author,createdAt,mergedAt,
closedAt,additions,deletions,changedFiles,reviews,commits,labels,baseRefName,headRefName,
mergeCommit` writes them (pure: JSON in, records out, every problem named).

The GitHub REST client produces the same records, so one service stores both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from analytics.delivery.git.attribution import Rule, ai_tool

# What the columns hold: a longer login or a malformed sha refuses the file; refs are cut.
LOGIN_MAX = 100
REF_MAX = 250
OID = re.compile(r"[0-9a-f]{40}")
INT_MAX = 2**31 - 1  # an integer column on PostgreSQL


class PullRequestFormatError(ValueError):
    """The file is not valid pull-request JSON; the message says where and what."""


@dataclass(frozen=True)
class ParsedPullRequest:
    number: int
    title: str
    author_login: str
    author_is_bot: bool
    created_at: datetime
    merged_at: datetime | None
    closed_at: datetime | None
    additions: int
    deletions: int
    changed_files: int
    first_review_at: datetime | None  # first review by someone other than the author
    review_count: int
    base_ref: str
    head_ref: str
    merge_commit_sha: str
    labels: tuple[str, ...]
    commit_messages: tuple[str, ...]
    commit_authors: tuple[tuple[str, str], ...]  # (name, email)

    def ai_tool(self, rules: Sequence[Rule]) -> str:
        """The first AI tool credited by any of the PR's commits, or by its author."""
        for message, (name, email) in zip(self.commit_messages, self.commit_authors, strict=True):
            tool = ai_tool(
                rules, author_name=name, author_email=email, trailers=(), message=message
            )
            if tool:
                return tool
        return ai_tool(
            rules, author_name=self.author_login, author_email="", trailers=(), message=""
        )


def _time(value: Any, where: str, *, optional: bool = False) -> datetime | None:
    if value in (None, "") and optional:
        return None
    if not isinstance(value, str):
        raise PullRequestFormatError(f"{where}: expected an ISO 8601 time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PullRequestFormatError(f"{where}: {value!r} is not an ISO 8601 time") from None
    if parsed.utcoffset() is None:
        raise PullRequestFormatError(f"{where}: {value!r} has no time zone")
    try:
        return parsed.astimezone(UTC)  # PostgreSQL takes no offset over 15:59
    except OverflowError:
        raise PullRequestFormatError(f"{where}: {value!r} is out of range") from None


def _int(item: Mapping[str, Any], key: str, where: str) -> int:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT_MAX:
        raise PullRequestFormatError(
            f"{where}.{key}: expected a whole number from 0 to {INT_MAX}, got {str(value)[:40]}"
        )
    return value


def _login(value: Any, where: str) -> tuple[str, bool]:
    if value is None:  # a deleted account ("ghost")
        return "ghost", False
    if not isinstance(value, Mapping) or not isinstance(value.get("login"), str):
        raise PullRequestFormatError(f"{where}: expected an object with a login")
    if len(value["login"]) > LOGIN_MAX:
        raise PullRequestFormatError(f"{where}.login: longer than {LOGIN_MAX} characters")
    return value["login"], bool(value.get("is_bot")) or value["login"].endswith("[bot]")


def _list(item: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = item.get(key) or []
    if not isinstance(value, list):
        raise PullRequestFormatError(f"{where}.{key}: expected a list")
    return value


def _first_review(reviews: list[Any], author: str, where: str) -> datetime | None:
    times = []
    for index, review in enumerate(reviews):
        spot = f"{where}.reviews[{index}]"
        if not isinstance(review, Mapping):
            raise PullRequestFormatError(f"{spot}: expected an object")
        reviewer, _ = _login(review.get("author"), f"{spot}.author")
        submitted = _time(review.get("submittedAt"), f"{spot}.submittedAt", optional=True)
        if reviewer != author and submitted is not None:
            times.append(submitted)
    return min(times, default=None)


def _commits(commits: list[Any], where: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    messages, authors = [], []
    for index, commit in enumerate(commits):
        if not isinstance(commit, Mapping):
            raise PullRequestFormatError(f"{where}.commits[{index}]: expected an object")
        headline, body = commit.get("messageHeadline") or "", commit.get("messageBody") or ""
        messages.append(f"{headline}\n\n{body}")
        people = commit.get("authors") or [{}]
        first = (
            people[0]
            if isinstance(people, list) and people and isinstance(people[0], Mapping)
            else {}
        )
        authors.append(
            (str(first.get("name") or first.get("login") or ""), str(first.get("email") or ""))
        )
    return tuple(messages), tuple(authors)


def _oid(merge_commit: Any, where: str) -> str:
    oid = str(merge_commit.get("oid") or "") if isinstance(merge_commit, Mapping) else ""
    if oid and not OID.fullmatch(oid):
        raise PullRequestFormatError(f"{where}.oid: {oid[:60]!r} is not a commit sha")
    return oid


def _nul_free(value: Any) -> Any:
    """The value with NUL characters dropped from every string in it, as the git log
    parser drops them: no text column can store one (PostgreSQL refuses it)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {_nul_free(key): _nul_free(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nul_free(item) for item in value]
    return value


def parse_pull_request(item: Any, where: str) -> ParsedPullRequest:
    if not isinstance(item, Mapping):
        raise PullRequestFormatError(f"{where}: expected an object")
    item = _nul_free(item)
    author, author_is_bot = _login(item.get("author"), f"{where}.author")
    messages, commit_authors = _commits(_list(item, "commits", where), where)
    merge_commit = item.get("mergeCommit")
    labels = [
        label["name"]
        for label in _list(item, "labels", where)
        if isinstance(label, Mapping) and isinstance(label.get("name"), str)
    ]
    return ParsedPullRequest(
        number=_int(item, "number", where),
        title=str(item.get("title") or "")[:500],
        author_login=author,
        author_is_bot=author_is_bot,
        created_at=_time(item.get("createdAt"), f"{where}.createdAt"),  # type: ignore[arg-type]
        merged_at=_time(item.get("mergedAt"), f"{where}.mergedAt", optional=True),
        closed_at=_time(item.get("closedAt"), f"{where}.closedAt", optional=True),
        additions=_int(item, "additions", where),
        deletions=_int(item, "deletions", where),
        changed_files=_int(item, "changedFiles", where),
        first_review_at=_first_review(_list(item, "reviews", where), author, where),
        review_count=len(_list(item, "reviews", where)),
        base_ref=str(item.get("baseRefName") or "")[:REF_MAX],
        head_ref=str(item.get("headRefName") or "")[:REF_MAX],
        merge_commit_sha=_oid(merge_commit, f"{where}.mergeCommit"),
        labels=tuple(labels),
        commit_messages=messages,
        commit_authors=commit_authors,
    )


def _not_json(constant: str) -> None:
    """Python reads NaN and Infinity; JSON has neither (and PostgreSQL's json refuses them)."""
    raise PullRequestFormatError(f"not valid JSON: {constant}")


def parse_gh_json(text: str | bytes) -> list[ParsedPullRequest]:
    """Every pull request of a `gh pr list --json` file, or PullRequestFormatError."""
    try:
        data = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as error:
        raise PullRequestFormatError(
            f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except UnicodeDecodeError:
        raise PullRequestFormatError("not valid JSON: the file is not UTF-8") from None
    if not isinstance(data, list):
        raise PullRequestFormatError("expected a JSON list of pull requests (gh pr list --json …)")
    parsed = [parse_pull_request(item, f"[{index}]") for index, item in enumerate(data)]
    numbers = [pr.number for pr in parsed]
    if len(set(numbers)) != len(numbers):
        raise PullRequestFormatError("the same pull request number appears twice")
    return parsed
