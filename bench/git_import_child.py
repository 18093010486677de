"""`python -m bench.git_import_child PATH [--ref SHA]`: one Git import, timed from inside.

Run with DJANGO_SETTINGS_MODULE=bench.settings against a freshly migrated database (the
parent, bench.git_import, makes one per run). Creates an organisation, a team and a
Repository whose source is PATH, calls the production `repository_import` once and prints
one JSON line on stdout (step "import"): the wall time of that call, where it went (setup
checks, the log loop split into waiting for git, parsing, AI attribution and storing, tags,
release marking), the SQL statements of each phase, the commits stored, and the memory of
this process (VmHWM, read by itself) with its RSS after every batch, so that growth with
the size of the history would show.

The instrumentation wraps module attributes the importer looks up at call time; it costs
about a microsecond per commit and a few per statement.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import django

from bench.harness import emit, peak_mb, rss_mb, timed


@dataclass
class Phase:
    seconds: float = 0.0
    queries: int = 0
    query_seconds: float = 0.0
    peak_mb_after: float = 0.0


@dataclass
class Probe:
    """Clocks the importer through its own seams; everything in seconds from `started`."""

    started: float = 0.0
    phase: str = "setup"
    phases: dict[str, Phase] = field(default_factory=dict)
    batches: list[dict[str, float]] = field(default_factory=list)
    parse_seconds: float = 0.0
    ai_tool_seconds: float = 0.0
    rev_list_seconds: float = 0.0
    total: int = 0
    _last_mark: float = 0.0

    def now(self) -> float:
        return time.perf_counter() - self.started

    def enter(self, name: str) -> None:
        """Close the current phase and open `name`."""
        moment = self.now()
        current = self.phases.setdefault(self.phase, Phase())
        current.seconds += moment - self._last_mark
        current.peak_mb_after = peak_mb()
        self._last_mark = moment
        self.phase = name

    def query(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            phase = self.phases.setdefault(self.phase, Phase())
            phase.queries += 1
            phase.query_seconds += time.perf_counter() - began

    # The Progress protocol of the importer.
    def start(self, total: int) -> None:
        self.total = total
        self.enter("log")

    def advance(self, count: int) -> None:
        self.batches.append({"at": self.now(), "commits": count, "rss_mb": rss_mb()})


def _clocked(probe: Probe, attribute: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            setattr(probe, attribute, getattr(probe, attribute) + time.perf_counter() - began)

    return wrapper


def _phased(probe: Probe, name: str, then: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        probe.enter(name)
        try:
            return function(*args, **kwargs)
        finally:
            probe.enter(then)

    return wrapper


def _generator_timed(probe: Probe, function: Callable[..., Iterator[Any]]):
    """Time spent inside a generator's own steps (the rev-list calls of first_releases)."""

    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        iterator = function(*args, **kwargs)
        while True:
            began = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                probe.rev_list_seconds += time.perf_counter() - began
                return
            probe.rev_list_seconds += time.perf_counter() - began
            yield item

    return wrapper


@contextmanager
def instrumented(probe: Probe) -> Iterator[None]:
    from django.db import connection

    from analytics.delivery.git import importer, parser
    from analytics.delivery.git import repository as git_repository

    patches: list[tuple[Any, str, Any]] = [
        (parser, "parse_record", _clocked(probe, "parse_seconds", parser.parse_record)),
        (importer, "ai_tool", _clocked(probe, "ai_tool_seconds", importer.ai_tool)),
        # Phases: (the phase the function opens, the phase it returns to).
        *(
            (importer, name, _phased(probe, opens, returns, getattr(importer, name)))
            for name, opens, returns in (
                ("_commits_store", "store", "log"),
                ("_contributors", "contributors", "store"),
                ("_tags_store", "tags", "finish"),
                ("_deployments_mark", "releases", "finish"),
            )
        ),
        (
            git_repository,
            "first_releases",
            _generator_timed(probe, git_repository.first_releases),
        ),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    try:
        with connection.execute_wrapper(probe.query):
            yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def git_import(path: str, ref: str) -> dict[str, Any]:
    from django.db.models import Count

    from analytics.delivery.git.importer import repository_import
    from analytics.delivery.git.parser import GitLogFormatError
    from analytics.delivery.git.repository import RepositoryError
    from analytics.delivery.models import Commit, Contributor, Repository, Tag
    from surveys.people.models import Organisation, Team

    organisation = Organisation.objects.create(name="Bench Git", slug="bench-git")
    team = Team.objects.create(organisation=organisation, name="Bench Git", slug="bench-git")
    repository = Repository.objects.create(
        organisation=organisation, team=team, name=Path(path).name or "repo", source=path, ref=ref
    )
    rss_before = rss_mb()
    peak_before = peak_mb()
    probe = Probe()
    with instrumented(probe):
        probe.started = time.perf_counter()
        try:
            run = repository_import(repository_id=repository.pk, progress=probe)
        except (RepositoryError, GitLogFormatError) as error:
            # The importer recorded the failure; report it instead of figures.
            return {"status": "failed", "error": f"{type(error).__name__}: {error}"}
        seconds = probe.now()
        probe.enter("done")
    commits = Commit.objects.filter(repository=repository)
    merges = commits.filter(is_merge=True).count()
    by_release = commits.exclude(deployed_at=None).aggregate(n=Count("pk"))["n"]
    return {
        "status": run.status,
        "error": run.error,
        "commits_read": run.commits_read,
        "commits_added": run.commits_added,
        "commits_stored": commits.count(),
        "merges": merges,
        "commits_released": by_release,
        "contributors": Contributor.objects.filter(organisation=organisation).count(),
        "tags": Tag.objects.filter(repository=repository).count(),
        "releases": Tag.objects.filter(repository=repository, is_release=True).count(),
        "seconds": seconds,
        "phases": {name: asdict(phase) for name, phase in probe.phases.items()},
        "parse_seconds": probe.parse_seconds,
        "ai_tool_seconds": probe.ai_tool_seconds,
        "rev_list_seconds": probe.rev_list_seconds,
        "batches": probe.batches,
        "rss_before_mb": rss_before,
        "peak_before_mb": peak_before,
        "peak_mb": peak_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.git_import_child")
    parser.add_argument("path", help="the repository to import")
    parser.add_argument("--ref", default="", help="branch or commit (default: HEAD's branch)")
    arguments = parser.parse_args(argv)
    setup_seconds, _ = timed(django.setup)
    emit("import", **git_import(arguments.path, arguments.ref), django_setup_seconds=setup_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
