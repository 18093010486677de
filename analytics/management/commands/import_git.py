"""`python manage.py import_git PATH_OR_URL --team SLUG [--name NAME] [--ref BRANCH]`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from analytics import pipeline
from analytics.delivery.git.importer import repository_import
from analytics.delivery.git.parser import GitLogFormatError
from analytics.delivery.git.repository import RepositoryError
from analytics.delivery.models import Repository
from surveys.people.models import Team


class _Bar:
    """tqdm behind the importer's Progress protocol, on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None

    def start(self, total: int) -> None:
        if self.enabled:
            self.bar = tqdm(total=total, unit="commit", unit_scale=True, desc="importing")

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Command(BaseCommand):
    help = "Import a Git repository's history (a path, or a URL Candor mirrors) for a team."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="path to a clone or bare repository, or a remote URL")
        parser.add_argument(
            "--team", required=True, help="slug of the team that owns the repository"
        )
        parser.add_argument("--name", help="name in Candor (default: the last part of the path)")
        parser.add_argument("--ref", default="", help="branch to import (default: HEAD's branch)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"No team with the slug {options['team']!r}.")
        source = options["source"]
        name = options["name"] or Path(source.rstrip("/")).name.removesuffix(".git") or source
        repository, _ = Repository.objects.get_or_create(
            organisation=team.organisation,
            name=name,
            defaults={"team": team, "source": source, "ref": options["ref"]},
        )
        bar = _Bar(enabled=not options["no_progress"])
        started = time.monotonic()
        try:
            run = repository_import(repository_id=repository.pk, progress=bar)
        except (RepositoryError, GitLogFormatError) as error:
            raise CommandError(str(error)) from None
        finally:
            bar.close()
        seconds = max(time.monotonic() - started, 1e-9)
        releases = repository.tags.filter(is_release=True).count()
        weeks = pipeline.delivery_refresh(organisation_id=repository.organisation_id)
        self.stdout.write(
            f"{repository.name}: {run.commits_added} new of {run.commits_read} commits read in "
            f"{seconds:.1f} s ({run.commits_read / seconds:,.0f} commits/s); "
            f"{run.tags} tags ({releases} releases)"
            + (
                f"; history rewritten, {run.commits_dropped} dropped"
                if run.history_rewritten
                else ""
            )
            + f"; delivery metrics for {weeks} team-weeks"
        )
