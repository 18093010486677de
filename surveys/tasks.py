"""The surveys app's Celery tasks (pulses and retros): thin adapters that take ids and
call one service each. What comes after a run closes is analytics' (analytics/pipeline.py).

All are idempotent, so acks_late redelivery after a worker dies is safe. Retries are
bounded; time limits come from CELERY_TASK_(SOFT_)TIME_LIMIT.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from surveys.pulses import selectors, services
from surveys.retros import selectors as retro_selectors
from surveys.retros import services as retros

RETRY: dict[str, Any] = {"autoretry_for": (Exception,), "max_retries": 3, "retry_backoff": True}


@shared_task(name="surveys.tasks.pulse_schedule_tick")
def pulse_schedule_tick() -> dict[str, list[int]]:
    """Every minute (beat): create current runs, then enqueue opens, reminders and closes,
    and the invitations still owed (a send task lost with a killed worker or a broker
    outage: the SQLite broker never redelivers, Redis only after an hour)."""
    now = timezone.now()
    services.pulse_runs_ensure_current(now=now)
    due = selectors.pulse_runs_due(now=now)
    for step, task in (
        ("open", pulse_run_open_task),
        ("send", invitations_send_task),
        ("remind", pulse_run_remind_task),
        ("close", pulse_run_close_task),
    ):
        for run_id in due[step]:
            transaction.on_commit(partial(task.delay, run_id))
    return due


@shared_task(name="surveys.tasks.pulse_run_open", **RETRY)
def pulse_run_open_task(run_id: int) -> None:
    services.pulse_run_open(run_id=run_id)


@shared_task(name=services.INVITATIONS_SEND, **RETRY)
def invitations_send_task(run_id: int) -> int:
    return services.invitations_send(run_id=run_id)


@shared_task(name="surveys.tasks.pulse_run_remind", **RETRY)
def pulse_run_remind_task(run_id: int) -> int:
    return services.pulse_run_remind(run_id=run_id)


@shared_task(name="surveys.tasks.pulse_run_close", **RETRY)
def pulse_run_close_task(run_id: int) -> None:
    services.pulse_run_close(run_id=run_id)


@shared_task(name=retros.RETRO_INVITATIONS_SEND, **RETRY)
def retro_invitations_send_task(session_id: int) -> int:
    return retros.retro_invitations_send(session_id=session_id)


@shared_task(name="surveys.tasks.retro_sessions_close_due", **RETRY)
def retro_sessions_close_due() -> list[int]:
    """Every minute (beat): close the retro sessions whose window has ended (idempotent),
    and enqueue the sending of links still owed, as the pulse tick does."""
    now = timezone.now()
    for session_id in retro_selectors.retro_sessions_sending_due(now=now):
        transaction.on_commit(partial(retro_invitations_send_task.delay, session_id))
    return retros.retro_sessions_close_due(now=now)
