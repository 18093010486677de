"""`python manage.py sync_github_prs --repository NAME`: pull requests from GitHub's API."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import pipeline
from analytics.delivery.git.github import GitHubError
from analytics.delivery.git.pull_import import github_pulls_sync
from analytics.delivery.models import Repository


class Command(BaseCommand):
    help = "Fetch pull requests updated since the last sync (GITHUB_TOKEN, GITHUB_API_URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repository", required=True, help="the repository's name in Candor")

    def handle(self, *args: Any, **options: Any) -> None:
        repositories = Repository.objects.filter(name=options["repository"])
        if repositories.count() != 1:
            raise CommandError(f"No single repository called {options['repository']!r}.")
        repository = repositories.get()
        started = time.monotonic()
        try:
            stored = github_pulls_sync(repository_id=repository.pk)
        except GitHubError as error:
            raise CommandError(str(error)) from None
        pipeline.delivery_refresh(organisation_id=repository.organisation_id)
        total = stored.created + stored.updated
        seconds = max(time.monotonic() - started, 1e-9)
        self.stdout.write(
            f"{repository.name}: {total} pull requests ({stored.created} new, "
            f"{stored.updated} updated) in {seconds:.1f} s"
        )
