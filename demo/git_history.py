"""Demo Git history: a bare repository per team written through one `git fast-import`
process, with PR-style merges, weekly releases, reverts and AI co-author trailers whose
share rises over the weeks — plus the matching pull requests in `gh pr list --json` shape,
so the demo goes through the same importers as real data."""

from __future__ import annotations

import random
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from analytics.delivery.git.repository import GIT

AI_TRAILERS = (
    "Co-authored-by: Claude <noreply@anthropic.com>",
    "Co-authored-by: Copilot <copilot@github.com>",
    "Co-authored-by: Cursor Agent <cursoragent@cursor.com>",
)
RELEASE_HOUR = 16


@dataclass(frozen=True)
class Author:
    name: str
    email: str
    login: str


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


class _FastImport:
    """A `git fast-import` session that can tell the sha of a mark it has written."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [*GIT, "-C", str(path), "fast-import", "--quiet"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.stdin: IO[bytes] = self.process.stdin  # type: ignore[assignment]
        self.marks = 0
        self.write(b"feature get-mark\n")

    def write(self, data: bytes) -> None:
        self.stdin.write(data)

    def data(self, text: str) -> None:
        raw = text.encode()
        self.write(b"data %d\n%s\n" % (len(raw), raw))

    def commit(
        self,
        *,
        ref: str,
        author: Author,
        when: datetime,
        message: str,
        parents: list[int],
        files: dict[str, str],
    ) -> int:
        self.marks += 1
        stamp = f"{author.name} <{author.email}> {int(when.timestamp())} +0000"
        self.write(
            f"commit {ref}\nmark :{self.marks}\nauthor {stamp}\ncommitter {stamp}\n".encode()
        )
        self.data(message)
        for index, parent in enumerate(parents):
            self.write(f"{'from' if index == 0 else 'merge'} :{parent}\n".encode())
        for path, content in files.items():
            self.write(f"M 100644 inline {path}\n".encode())
            self.data(content)
        self.write(b"\n")
        return self.marks

    def tag(self, *, name: str, mark: int, when: datetime) -> None:
        self.write(
            f"tag {name}\nfrom :{mark}\ntagger Release Bot <release@northwind.example> ".encode()
        )
        self.write(f"{int(when.timestamp())} +0000\n".encode())
        self.data(f"Release {name}")

    def sha(self, mark: int) -> str:
        self.write(f"get-mark :{mark}\n".encode())
        self.stdin.flush()
        assert self.process.stdout is not None
        return self.process.stdout.readline().decode().strip()

    def close(self) -> None:
        self.stdin.close()
        if self.process.wait() != 0:
            raise RuntimeError("git fast-import failed while writing the demo repository")


def _lines(count: int, seed: int) -> str:
    return "".join(f"value_{seed}_{i} = {i * seed % 97}\n" for i in range(count))


def demo_repository_write(
    path: Path,
    *,
    authors: list[Author],
    start: datetime,
    weeks: int,
    rng: random.Random,
    adopted: int | None = 0,
) -> list[dict[str, Any]]:
    """Write the repository at `path` (a new bare repository); return its pull requests.
    AI-assisted work starts in week `adopted` (None: never) and its share rises weekly."""
    subprocess.run([*GIT, "init", "-q", "--bare", "-b", "main", str(path)], check=True)  # noqa: S603
    git = _FastImport(path)
    main = git.commit(
        ref="refs/heads/main",
        author=authors[0],
        when=start - timedelta(days=1),
        message="Initial commit",
        parents=[],
        files={"README.md": "# Service\n"},
    )
    pulls: list[dict[str, Any]] = []
    for week in range(weeks):
        monday = start + timedelta(weeks=week)
        week_merges = []
        share = (
            0.0 if adopted is None or week < adopted else min(0.15 + 0.06 * (week - adopted), 0.85)
        )
        for merged, created, pickup, author, ai in _week_pulls(monday, authors, share, rng):
            number = len(pulls) + 1
            size = int(rng.uniform(20, 120) * (2.2 if ai else 1))
            trailer = f"\n\n{rng.choice(AI_TRAILERS)}" if ai else ""
            subject = f"Change {number} in {author.login}'s area"
            file = f"src/{author.login}/module_{number}.py"
            feature = git.commit(
                ref=f"refs/heads/pr-{number}",
                author=author,
                when=created,
                message=f"{subject}{trailer}",
                parents=[main],
                files={file: _lines(size, number)},
            )
            main = git.commit(
                ref="refs/heads/main",
                author=author,
                when=merged,
                message=f"Merge pull request #{number} from northwind/pr-{number}",
                parents=[main, feature],
                files={},
            )
            reviewer = rng.choice([a for a in authors if a != author] or authors)
            pulls.append(
                _pull(
                    number,
                    subject,
                    trailer,
                    author,
                    reviewer,
                    created,
                    created + pickup,
                    merged,
                    size,
                )
            )
            week_merges.append((feature, subject, author, file))
        main = _release(git, main, week, monday, week_merges, rng)
    git.close()
    return pulls


def _week_pulls(
    monday: datetime, authors: list[Author], ai_share: float, rng: random.Random
) -> list[tuple[datetime, datetime, timedelta, Author, bool]]:
    """The week's pull requests as (merged, created, pickup, author, AI-assisted), in the
    order they merge."""
    opened = []
    for author in authors:
        for _ in range(rng.choice((0, 1, 1, 1, 1, 2, 2, 2, 3, 1))):  # 10 % idle weeks
            created = monday + timedelta(hours=rng.uniform(8, 80))
            opened.append((created, author, rng.random() < ai_share))
    merged_events = []
    for created, author, ai in opened:
        # AI-assisted PRs run bigger and wait longer for review, as Faros AI reported.
        pickup = timedelta(hours=rng.uniform(1, 10) * (1.6 if ai else 1))
        review = timedelta(hours=rng.uniform(2, 20) * (1.8 if ai else 1))
        merged_events.append((created + pickup + review, created, pickup, author, ai))
    merged_events.sort(key=lambda event: event[0])
    return merged_events


def _release(
    git: _FastImport,
    main: int,
    week: int,
    monday: datetime,
    week_merges: list[tuple[int, str, Author, str]],
    rng: random.Random,
) -> int:
    """The week's release tag, and now and then a revert of one of its changes and a fix
    release; returns main's new tip."""
    release_at = monday + timedelta(days=4, hours=RELEASE_HOUR)
    git.tag(name=f"v1.{week}.0", mark=main, when=release_at)
    if week_merges and rng.random() < 0.3:
        feature, subject, author, file = rng.choice(week_merges)
        main = git.commit(
            ref="refs/heads/main",
            author=author,
            when=release_at + timedelta(hours=rng.uniform(4, 40)),
            message=f'Revert "{subject}"\n\nThis reverts commit {git.sha(feature)}.',
            parents=[main],
            files={file: "# reverted\n"},
        )
        git.tag(name=f"v1.{week}.1", mark=main, when=release_at + timedelta(days=2))
    return main


def _pull(
    number: int,
    subject: str,
    trailer: str,
    author: Author,
    reviewer: Author,
    created: datetime,
    reviewed: datetime,
    merged: datetime,
    size: int,
) -> dict[str, Any]:
    """A merged pull request as `gh pr list --json` writes it."""
    return {
        "number": number,
        "title": subject,
        "author": {"login": author.login, "is_bot": False},
        "createdAt": _iso(created),
        "mergedAt": _iso(merged),
        "closedAt": _iso(merged),
        "additions": size,
        "deletions": 0,
        "changedFiles": 1,
        "reviews": [
            {
                "author": {"login": reviewer.login},
                "state": "APPROVED",
                "submittedAt": _iso(reviewed),
            }
        ],
        "commits": [
            {
                "oid": "",
                "messageHeadline": subject,
                "messageBody": trailer.strip(),
                "authors": [{"name": author.name, "email": author.email, "login": author.login}],
            }
        ],
        "labels": [],
        "baseRefName": "main",
        "headRefName": f"pr-{number}",
        "mergeCommit": {"oid": ""},
    }
