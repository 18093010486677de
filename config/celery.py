"""The Celery app. Reads every CELERY_* setting from Django settings."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("candor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """Send `task` once the current transaction commits, for work the transaction also
    recorded in an outbox that a beat sweep takes up (`aggregates_stale`,
    `invitations_pending`, ...). A broker outage is then logged, not raised: the committed
    change stands, and the request or task that made it does not fail after the fact."""
    # A lambda, not functools.partial: Django logs the failure by the callable's __qualname__.
    transaction.on_commit(lambda: task.delay(*args), robust=True)
