"""Celery tasks for Git import: thin adapters that take ids and call one service."""

from __future__ import annotations

import logging
from datetime import date
from functools import partial

from celery import shared_task
from django.db import transaction

from analytics.git.github import GitHubError
from analytics.git.importer import repository_import
from analytics.git.metrics import delivery_metrics_refresh
from analytics.git.parser import GitLogFormatError
from analytics.git.pull_import import github_pulls_sync
from analytics.git.repository import RepositoryError
from analytics.models import Repository
from analytics.periods import periods_fill_pending, periods_mark
from analytics.reports import reports_refresh, safety_alert_notify, safety_alerts_notify_pending

logger = logging.getLogger(__name__)


@shared_task(
    name="analytics.tasks.repository_import",
    autoretry_for=(OSError,),
    max_retries=3,
    retry_backoff=True,
    soft_time_limit=1800,
    time_limit=1900,
)
def repository_import_task(repository_id: int) -> int:
    """Import one repository. A repository that cannot be imported is recorded on its
    ImportRun and not retried; only transient OS errors (a fetch that failed) are."""
    try:
        added = repository_import(repository_id=repository_id).commits_added
    except (RepositoryError, GitLogFormatError):
        return 0
    if Repository.objects.filter(pk=repository_id).exclude(github_repository="").exists():
        try:
            github_pulls_sync(repository_id=repository_id)
        except GitHubError:
            logger.warning(
                "Pull requests of repository %s could not be synced", repository_id, exc_info=True
            )
    organisation_id = Repository.objects.values_list("organisation_id", flat=True).get(
        pk=repository_id
    )
    transaction.on_commit(partial(delivery_metrics_refresh_task.delay, organisation_id))
    return added


@shared_task(name="analytics.tasks.delivery_metrics_refresh", soft_time_limit=900, time_limit=960)
def delivery_metrics_refresh_task(organisation_id: int) -> int:
    """Recompute the organisation's delivery weeks, then every team-period they feed."""
    weeks = delivery_metrics_refresh(organisation_id=organisation_id)
    periods_mark(organisation_id=organisation_id)
    periods_fill_pending(reports_inline=False)
    return weeks


@shared_task(name="analytics.tasks.reports_refresh", soft_time_limit=900, time_limit=960)
def reports_refresh_task(team_ids: list[int], weeks: list[str]) -> None:
    """Alerts, correlations and roll-ups after periods were filled (ids and ISO dates)."""
    reports_refresh(team_ids=team_ids, weeks=[date.fromisoformat(week) for week in weeks])


@shared_task(name="analytics.tasks.repositories_sync")
def repositories_sync() -> int:
    """Beat: enqueue an import of every repository."""
    ids = list(Repository.objects.values_list("pk", flat=True))
    for repository_id in ids:
        transaction.on_commit(partial(repository_import_task.delay, repository_id))
    return len(ids)


@shared_task(
    name="analytics.tasks.safety_alert_notify",
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=True,
)
def safety_alert_notify_task(alert_id: int) -> int:
    return safety_alert_notify(alert_id=alert_id)


@shared_task(name="analytics.tasks.safety_alerts_notify_pending")
def safety_alerts_notify_pending_task() -> int:
    """Every ten minutes (beat): the alert emails a lost or failed task left unsent."""
    return safety_alerts_notify_pending()
