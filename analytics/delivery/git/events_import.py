"""Storing CSV deployments and incidents: the whole file in one transaction, keyed by
(repository, id), so importing the same file twice changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from analytics.delivery.git.events_csv import CsvFormatError, ParsedDeployment, ParsedIncident
from analytics.delivery.models import Deployment, Incident, Repository
from surveys.people.models import Organisation


@dataclass(frozen=True)
class EventImport:
    created: int
    updated: int


def _repositories(
    organisation: Organisation, rows: Sequence[ParsedDeployment | ParsedIncident]
) -> dict[str, int]:
    known = dict(
        Repository.objects.filter(
            organisation=organisation, name__in={r.repository for r in rows}
        ).values_list("name", "pk")
    )
    for row in rows:
        if row.repository not in known:
            raise CsvFormatError(
                f"line {row.line}: no repository called {row.repository!r} (import_git it first)"
            )
    return known


def deployments_store(
    *, organisation: Organisation, rows: Sequence[ParsedDeployment]
) -> EventImport:
    repositories = _repositories(organisation, rows)
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            _, was_created = Deployment.objects.update_or_create(
                repository_id=repositories[row.repository],
                external_id=row.external_id,
                defaults={"deployed_at": row.deployed_at, "environment": row.environment},
            )
            created, updated = created + was_created, updated + (not was_created)
    return EventImport(created=created, updated=updated)


def incidents_store(*, organisation: Organisation, rows: Sequence[ParsedIncident]) -> EventImport:
    repositories = _repositories(organisation, rows)
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            _, was_created = Incident.objects.update_or_create(
                repository_id=repositories[row.repository],
                external_id=row.external_id,
                defaults={
                    "opened_at": row.opened_at,
                    "resolved_at": row.resolved_at,
                    "title": row.title,
                },
            )
            created, updated = created + was_created, updated + (not was_created)
    return EventImport(created=created, updated=updated)
