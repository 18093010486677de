"""Importing a repository's history: the one service every entry point calls.

Contract: all-or-nothing per batch of commits; a commit is stored once (repository +
sha); the cursor moves only when a whole import succeeded, so re-running after a crash
re-reads from the old cursor and adds exactly what is missing. When the branch no longer
contains the cursor (a force push), the whole branch is read again and commits no longer
reachable are marked so and left out of metrics.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from analytics.bulk import rows_insert
from analytics.delivery.git import repository as git_repository
from analytics.delivery.git.attribution import Rule, ai_tool, is_bot
from analytics.delivery.git.parser import GitLogFormatError, ParsedCommit, parse_stream
from analytics.delivery.git.repository import RepositoryError
from analytics.delivery.models import (
    AiAttributionRule,
    Commit,
    Contributor,
    ImportRun,
    Repository,
    Tag,
)

BATCH_SIZE = 2000
URL = re.compile(r"^[a-z][a-z0-9+.-]*://|^[^/\s]+@[^/\s]+:")


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


class _Silent:
    def start(self, total: int) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


def repository_local_path(repository: Repository) -> Path:
    """Where to read the history: the path given, or Candor's mirror of the URL given."""
    if not URL.match(repository.source):
        return Path(repository.source)
    if repository.source.startswith("-"):
        raise RepositoryError("A repository URL cannot start with '-'.")
    mirror = Path(settings.DATA_DIR) / "repositories" / f"{repository.pk}.git"
    if mirror.exists():
        git_repository.git(mirror, "fetch", "--prune", "--quiet", "origin")
    else:
        mirror.parent.mkdir(parents=True, exist_ok=True)
        git_repository.git(
            mirror.parent, "clone", "--mirror", "--quiet", "--", repository.source, str(mirror)
        )
    return mirror


def _rules(repository: Repository) -> list[Rule]:
    found = AiAttributionRule.objects.filter(active=True).filter(
        Q(organisation__isnull=True) | Q(organisation_id=repository.organisation_id)
    )
    return [Rule(kind=r.kind, pattern=r.pattern, tool=r.tool) for r in found.order_by("pk")]


def _batches(commits: Iterable[ParsedCommit], size: int) -> Iterator[list[ParsedCommit]]:
    iterator = iter(commits)
    while batch := list(islice(iterator, size)):
        yield batch


def users_by_email(emails: Sequence[str]) -> dict[str, int]:
    """User ids by lower-cased email, for emails that exactly one user has: a first guess
    at who an identity is, which an admin can correct."""
    if not emails:
        return {}
    matches: dict[str, list[int]] = {}
    wanted = Q()
    for email in emails:
        wanted |= Q(email__iexact=email)
    for user_id, email in get_user_model().objects.filter(wanted).values_list("pk", "email"):
        matches.setdefault(email.lower(), []).append(user_id)
    return {email: ids[0] for email, ids in matches.items() if len(ids) == 1}


def _contributors(repository: Repository, batch: Sequence[ParsedCommit]) -> dict[str, int]:
    """Contributor ids by lower-cased email, created for identities seen the first time."""
    names = {c.author_email.lower(): c.author_name for c in batch}
    known = dict(
        Contributor.objects.filter(
            organisation_id=repository.organisation_id, email__in=names
        ).values_list("email", "pk")
    )
    people = users_by_email([email for email in names if email not in known])
    missing = [
        Contributor(
            organisation_id=repository.organisation_id,
            email=email[:320],
            name=name[:300],
            is_bot=is_bot(name, email),
            user_id=people.get(email),
        )
        for email, name in names.items()
        if email not in known
    ]
    if missing:
        Contributor.objects.bulk_create(missing, ignore_conflicts=True)
        known = dict(
            Contributor.objects.filter(
                organisation_id=repository.organisation_id, email__in=names
            ).values_list("email", "pk")
        )
    return known


def _commits_store(
    repository: Repository, batch: Sequence[ParsedCommit], rules: Sequence[Rule]
) -> int:
    """Store the batch's new commits in one transaction; returns how many were new."""
    with transaction.atomic():
        stored = set(
            Commit.objects.filter(
                repository=repository, sha__in=[c.sha for c in batch]
            ).values_list("sha", flat=True)
        )
        fresh = [c for c in batch if c.sha not in stored]
        authors = _contributors(repository, fresh) if fresh else {}
        adapt = connection.ops.adapt_datetimefield_value
        rows_insert(
            Commit,
            COMMIT_FIELDS,
            [
                (
                    repository.pk,
                    c.sha,
                    authors[c.author_email.lower()],
                    adapt(c.authored_at),
                    adapt(c.committed_at),
                    len(c.parents),
                    c.is_merge,
                    c.reverted_sha or "",
                    c.files_changed,
                    c.additions,
                    c.deletions,
                    ai_tool(
                        rules,
                        author_name=c.author_name,
                        author_email=c.author_email,
                        trailers=c.trailers,
                        message=c.message,
                    ),
                    True,
                )
                for c in fresh
            ],
            ignore_conflicts=True,
        )
        if stored:  # re-read after a rewrite: they are on the branch again
            Commit.objects.filter(repository=repository, sha__in=stored, reachable=False).update(
                reachable=True
            )
    return len(fresh)


# The columns _commits_store fills, in its order; the rest keep their defaults (NULL).
COMMIT_FIELDS = (
    "repository",
    "sha",
    "author",
    "authored_at",
    "committed_at",
    "parent_count",
    "is_merge",
    "reverted_sha",
    "files_changed",
    "additions",
    "deletions",
    "ai_tool",
    "reachable",
)


def _unreachable_mark(repository: Repository, path: Path, tip: str) -> int:
    """After a history rewrite: flag commits the branch no longer contains; returns how many."""
    reachable = set(git_repository.reachable_shas(path, tip))
    gone = [
        sha
        for sha in Commit.objects.filter(repository=repository, reachable=True).values_list(
            "sha", flat=True
        )
        if sha not in reachable
    ]
    for start in range(0, len(gone), BATCH_SIZE):
        Commit.objects.filter(
            repository=repository, sha__in=gone[start : start + BATCH_SIZE]
        ).update(reachable=False)
    return len(gone)


def _tags_store(repository: Repository, path: Path) -> int:
    pattern = re.compile(repository.release_pattern)
    found = git_repository.tags(path)
    with transaction.atomic():
        Tag.objects.filter(repository=repository).exclude(name__in=[t.name for t in found]).delete()
        for tag in found:
            Tag.objects.update_or_create(
                repository=repository,
                name=tag.name,
                defaults={
                    "target_sha": tag.target_sha,
                    "tagged_at": tag.tagged_at,
                    "is_release": bool(pattern.search(tag.name)),
                },
            )
    return len(found)


def _deployments_mark(repository: Repository, path: Path) -> None:
    """Set each commit's deployed_at: the time of the first release that contains it."""
    releases = list(repository.tags.filter(is_release=True).order_by("tagged_at", "name"))
    targets = [release.target_sha for release in releases]
    with transaction.atomic():
        Commit.objects.filter(repository=repository).exclude(deployed_at=None).update(
            deployed_at=None
        )
        for index, shas in git_repository.first_releases(path, targets):
            for start in range(0, len(shas), BATCH_SIZE):
                Commit.objects.filter(
                    repository=repository, sha__in=shas[start : start + BATCH_SIZE]
                ).update(deployed_at=releases[index].tagged_at)


def _interrupted_close(repository: Repository, finished: ImportRun) -> None:
    """Runs of this repository still marked running died with their process (a killed
    worker); `finished` completed what they began. One that is in fact still going sets
    its own status when it ends."""
    ImportRun.objects.filter(repository=repository, status=ImportRun.Status.RUNNING).exclude(
        pk=finished.pk
    ).update(
        status=ImportRun.Status.FAILED,
        error="Interrupted: the process running it stopped. A later import completed it.",
    )


def repository_import(*, repository_id: int, progress: Progress | None = None) -> ImportRun:
    """Import what is new on the repository's branch; record the run, however it ends.

    Raises RepositoryError or GitLogFormatError (after recording them) for a repository
    that cannot be imported; batches stored before the failure stay, and a re-run
    completes the import.
    """
    progress = progress or _Silent()
    repository = Repository.objects.get(pk=repository_id)
    run = ImportRun.objects.create(repository=repository, started_at=timezone.now())
    try:
        path = repository_local_path(repository)
        tip = git_repository.repository_check(path, repository.ref or None)
        cursor = repository.cursor_sha
        run.history_rewritten = bool(cursor) and not git_repository.is_ancestor(path, cursor, tip)
        revisions = f"{cursor}..{tip}" if cursor and not run.history_rewritten else tip
        progress.start(git_repository.commit_count(path, revisions))
        rules = _rules(repository)
        for batch in _batches(parse_stream(git_repository.log_blocks(path, revisions)), BATCH_SIZE):
            run.commits_added += _commits_store(repository, batch, rules)
            run.commits_read += len(batch)
            progress.advance(len(batch))
        if run.history_rewritten:
            run.commits_dropped = _unreachable_mark(repository, path, tip)
        run.tags = _tags_store(repository, path)
        _deployments_mark(repository, path)
        repository.cursor_sha = tip
        repository.save(update_fields=["cursor_sha"])
        run.status = ImportRun.Status.SUCCEEDED
        _interrupted_close(repository, run)
    except (RepositoryError, GitLogFormatError) as error:
        run.status = ImportRun.Status.FAILED
        run.error = str(error)
        raise
    finally:
        run.finished_at = timezone.now()
        if run.status == ImportRun.Status.RUNNING:
            run.status = ImportRun.Status.FAILED
            run.error = run.error or "Stopped by an unexpected error; re-run the import."
        run.save()
    return run
