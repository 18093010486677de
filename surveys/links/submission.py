"""The one transaction of an anonymous submission, for pulses and retros: the window
checked under a lock that keeps a close out, the participation mark flipped, the sealed
submission inserted (surveys/links/sealing.py) — all or nothing, and nothing in the clear
next to the mark."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models import QuerySet

WindowT = TypeVar("WindowT", bound=models.Model)


def submission_write(
    *,
    accepting: Callable[[], None],
    invitation: QuerySet[Any],
    already_used: Exception,
    sealed: models.Model,
) -> None:
    """The one transaction of an anonymous submission, for pulses and retros: check the
    window (`accepting` reads it under `window_shared_lock`), flip the invitation's `used`
    flag, insert the sealed submission — its one row, sealed before the transaction began.
    Raises `already_used` if the flag was set. The conditional UPDATE is the arbiter: of
    concurrent submissions of one invitation, exactly one sees used=False.
    """
    with transaction.atomic():
        accepting()
        if not invitation.filter(used=False).update(used=True):
            raise already_used
        sealed.save(force_insert=True)


def window_shared_lock(model: type[WindowT], pk: int) -> WindowT:
    """A run's (or retro session's) status and window, read under a lock that keeps a close
    from committing until this transaction ends. PostgreSQL: FOR SHARE, so submissions
    don't queue behind each other; SQLite: every write transaction already holds the
    database lock."""
    fields = ("id", "status", "opens_at", "closes_at")
    manager = model._default_manager
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        query = f"SELECT {', '.join(fields)} FROM {table} WHERE id = %s FOR SHARE"  # noqa: S608
        return manager.raw(query, [pk])[0]
    return manager.only(*fields).get(pk=pk)
