"""`python manage.py import_events deployments|incidents FILE.csv --organisation SLUG`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import pipeline
from analytics.delivery.git.events_csv import (
    CsvFormatError,
    parse_deployments_csv,
    parse_incidents_csv,
)
from analytics.delivery.git.events_import import deployments_store, incidents_store
from surveys.people.models import Organisation


class Command(BaseCommand):
    help = "Import deployments or incidents from CSV (columns: see the README)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["deployments", "incidents"])
        parser.add_argument("file")
        parser.add_argument("--organisation", required=True, help="the organisation's slug")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with the slug {options['organisation']!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            if options["kind"] == "deployments":
                stored = deployments_store(
                    organisation=organisation, rows=parse_deployments_csv(path.read_bytes())
                )
            else:
                stored = incidents_store(
                    organisation=organisation, rows=parse_incidents_csv(path.read_bytes())
                )
        except CsvFormatError as error:
            raise CommandError(f"{path}: {error}. Nothing was imported.") from None
        weeks = pipeline.delivery_refresh(organisation_id=organisation.pk)
        self.stdout.write(
            f"{options['kind']}: {stored.created} new, {stored.updated} updated; "
            f"delivery metrics for {weeks} team-weeks"
        )
