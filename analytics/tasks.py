"""The analytics app's Celery tasks: thin adapters that take ids and call one service or
one pipeline step each (analytics/pipeline.py decides which step follows which, and names
the tasks it enqueues).

All are idempotent, so acks_late redelivery after a worker dies is safe. Retries are
bounded; time limits come from CELERY_TASK_(SOFT_)TIME_LIMIT unless set here.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import partial
from typing import Any

from celery import shared_task
from django.db import transaction

from analytics import pipeline
from analytics.delivery.git.github import GitHubError
from analytics.delivery.git.importer import repository_import
from analytics.delivery.git.parser import GitLogFormatError
from analytics.delivery.git.pull_import import github_pulls_sync
from analytics.delivery.git.repository import RepositoryError
from analytics.delivery.models import Repository
from analytics.insights.alerts import safety_alert_notify

logger = logging.getLogger(__name__)
RETRY: dict[str, Any] = {"autoretry_for": (Exception,), "max_retries": 3, "retry_backoff": True}


# --- imports --------------------------------------------------------------------------------


@shared_task(
    name="analytics.tasks.repository_import",
    autoretry_for=(OSError,),
    max_retries=3,
    retry_backoff=True,
    soft_time_limit=1800,
    time_limit=1900,
)
def repository_import_task(repository_id: int) -> int:
    """Import one repository (and sync its pull requests when it is on GitHub), then hand
    over to the pipeline. A repository that cannot be imported is recorded on its
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
    pipeline.on_import_done(organisation_id=organisation_id)
    return added


@shared_task(name="analytics.tasks.repositories_sync")
def repositories_sync() -> int:
    """Beat: enqueue an import of every repository."""
    ids = list(Repository.objects.values_list("pk", flat=True))
    for repository_id in ids:
        transaction.on_commit(partial(repository_import_task.delay, repository_id))
    return len(ids)


# --- the pipeline's steps -------------------------------------------------------------------


@shared_task(name=pipeline.AGGREGATES_REFRESH, **RETRY)
def aggregates_refresh_task(run_id: int) -> None:
    pipeline.run_refresh(run_id=run_id)


@shared_task(name=pipeline.AGGREGATES_REFRESH_STALE)
def aggregates_refresh_stale() -> int:
    """Every minute (beat): refresh runs flagged stale since their close, then fill
    pending team-periods (including any a crashed fill left behind)."""
    return pipeline.stale_runs_refresh()


@shared_task(name=pipeline.AGGREGATES_REFRESH_ALL)
def aggregates_refresh_all() -> int:
    """Nightly: recompute every run's aggregates and every team-period from scratch."""
    return pipeline.everything_refresh()


@shared_task(name=pipeline.DELIVERY_REFRESH, soft_time_limit=900, time_limit=960)
def delivery_metrics_refresh_task(organisation_id: int) -> int:
    """Recompute the organisation's delivery weeks, then every team-period they feed."""
    return pipeline.delivery_refresh(organisation_id=organisation_id)


@shared_task(name=pipeline.REPORTS_REFRESH, soft_time_limit=900, time_limit=960)
def reports_refresh_task(team_ids: list[int], weeks: list[str]) -> None:
    """Alerts, heatmap rows, correlations and roll-ups after periods were filled (ids
    and ISO dates)."""
    pipeline.reports_refresh(team_ids=team_ids, weeks=[date.fromisoformat(week) for week in weeks])


@shared_task(name=pipeline.SAFETY_ALERT_NOTIFY, **RETRY)
def safety_alert_notify_task(alert_id: int) -> int:
    return safety_alert_notify(alert_id=alert_id)


@shared_task(name=pipeline.SAFETY_ALERTS_NOTIFY_PENDING)
def safety_alerts_notify_pending_task() -> int:
    """Every ten minutes (beat): the alert emails a lost or failed task left unsent."""
    return pipeline.safety_alerts_sweep()
