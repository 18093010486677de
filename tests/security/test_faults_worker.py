"""SIGKILL a real Celery worker in the middle of a Git import; a new worker finishes the
job with the same end state as an uninterrupted run: every commit stored once.

The workers are `celery -A config worker --pool=solo` processes on the configured broker
(the SQLite transport, or Redis) and the test database. With Redis, the message a dead
worker held comes back after the visibility timeout (an hour in production, seconds here);
the SQLite transport never gives it back, so on both the beat's sweeps, which the test
sends as beat would, are what brings the work back.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.db.models import Count

from analytics.git.importer import repository_import
from analytics.models import Commit, ImportRun, Repository
from analytics.tasks import repositories_sync, repository_import_task
from tests.factories import TeamFactory
from tests.gitrepos import BASE_ENV, ground_truth, repo_init
from tests.security.conftest_faults import *  # noqa: F403
from tests.security.conftest_faults import TALLY, Processes, settle, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

IMPORT_COMMITS = 12_000  # six batches of 2 000: a kill lands between the first and the last


def long_history(path: Path, commits: int) -> Path:
    """A repository of `commits` commits by five authors, written by `git fast-import`."""
    repo = repo_init(path)
    stream = []
    for number in range(commits):
        author = f"Dev {number % 5} <dev{number % 5}@example.com>"
        stamp = f"{1_767_000_000 + number * 600} +0000"
        message = f"Change {number}\n"
        content = f"{number}\n"
        stream.append(
            f"commit refs/heads/main\nauthor {author} {stamp}\ncommitter {author} {stamp}\n"
            f"data {len(message)}\n{message}"
            f"M 644 inline file{number % 50}.txt\ndata {len(content)}\n{content}\n"
        )
    subprocess.run(
        ["git", "-C", str(repo.path), "fast-import", "--quiet"],
        input="".join(stream).encode(),
        env={**os.environ, **BASE_ENV},
        check=True,
    )
    return repo.path


def test_it_imports_every_commit_once_after_the_worker_is_killed_mid_import(
    processes: Processes, tmp_path: Path
) -> None:
    path = long_history(tmp_path / "repo", IMPORT_COMMITS)
    team = TeamFactory()
    repository = Repository.objects.create(
        organisation=team.organisation, team=team, name="big", source=str(path)
    )
    first = processes.worker()
    repository_import_task.delay(repository.pk)
    stored = Commit.objects.filter(repository=repository)
    wait_for(lambda: stored.count() > 0, what="the first batch")
    first.kill()
    TALLY["worker SIGKILL mid-import"] += 1
    midway = stored.count()
    assert 0 < midway < IMPORT_COMMITS, "the kill did not land in the middle of the import"

    second = processes.worker()
    repositories_sync.delay()  # beat's hourly sweep
    wait_for(
        lambda: ImportRun.objects.filter(
            repository=repository, status=ImportRun.Status.SUCCEEDED
        ).exists(),
        what="the import to finish",
    )
    settle(second)
    assert stored.count() == ground_truth(path).commits == IMPORT_COMMITS
    assert not stored.values("sha").annotate(n=Count("pk")).filter(n__gt=1).exists()
    repository.refresh_from_db()
    tip = subprocess.check_output(["git", "-C", str(path), "rev-parse", "HEAD"], text=True)
    assert repository.cursor_sha == tip.strip()
    killed = ImportRun.objects.filter(repository=repository).order_by("started_at").first()
    assert killed.status == ImportRun.Status.FAILED
    assert killed.error.startswith("Interrupted")
    assert not ImportRun.objects.filter(status=ImportRun.Status.RUNNING).exists()
    assert repository_import(repository_id=repository.pk).commits_added == 0
