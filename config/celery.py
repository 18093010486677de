"""The Celery app. Reads every CELERY_* setting from Django settings."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("candor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    """Send the task registered as `task_name` once the current transaction commits, for
    work the transaction also recorded in an outbox that a beat sweep takes up
    (`aggregates_stale`, `invitations_pending`, ...). A broker outage is then logged, not
    raised: the committed change stands, and the request or task that made it does not fail
    after the fact.

    By name, not by task object, so the code that decides work is due never imports the
    Celery adapters that do it (they import that code): imports run one way, from
    `tasks.py` down.
    """
    # A lambda, not functools.partial: Django logs the failure by the callable's __qualname__.
    transaction.on_commit(lambda: app.send_task(task_name, args=args), robust=True)
