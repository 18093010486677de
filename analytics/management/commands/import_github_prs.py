"""`python manage.py import_github_prs FILE.json --repository NAME`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from analytics import pipeline
from analytics.delivery.git.pull_import import pull_requests_store
from analytics.delivery.git.pulls import PullRequestFormatError, parse_gh_json
from analytics.delivery.models import Repository


class Command(BaseCommand):
    help = "Import pull requests from a `gh pr list --state all --json …` file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the JSON file gh wrote")
        parser.add_argument("--repository", required=True, help="the repository's name in Candor")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        repositories = Repository.objects.filter(name=options["repository"])
        if repositories.count() != 1:
            raise CommandError(
                f"No single repository called {options['repository']!r}; import_git it first."
            )
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        started = time.monotonic()
        try:
            with tqdm(total=1, desc="reading", disable=options["no_progress"]) as bar:
                pulls = parse_gh_json(path.read_bytes())
                bar.update(1)
        except PullRequestFormatError as error:
            raise CommandError(f"{path}: {error}. Nothing was imported.") from None
        repository = repositories.get()
        stored = pull_requests_store(repository_id=repository.pk, pulls=pulls)
        pipeline.delivery_refresh(organisation_id=repository.organisation_id)
        seconds = max(time.monotonic() - started, 1e-9)
        self.stdout.write(
            f"{options['repository']}: {len(pulls)} pull requests ({stored.created} new, "
            f"{stored.updated} updated) in {seconds:.1f} s ({len(pulls) / seconds:,.0f}/s)"
        )
