"""The shuffle-and-rewrite at close, for pulse responses and retro cards alike.

While a run or session is open, each anonymous submission sits next to its invitation's
`used` update in storage: SQLite's hidden rowid follows insertion order, and PostgreSQL
stamps the submission and the flag with the same transaction id (xmin). Closing deletes
and re-inserts every submission and its rows in one transaction, shuffled and with fresh
random keys, so neither trace survives for a closed run (SQLite zeroes freed pages with
secure_delete; PostgreSQL's dead tuples go at the next vacuum).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models import QuerySet

# Deleted by explicit ids, in chunks: a join in a DELETE's subquery can get a disastrous
# plan on tables that just grew and were never analysed (seen: a minute per run).
REWRITE_CHUNK = 500


def submissions_rewrite(
    submissions: QuerySet[Any],
    *,
    keep: Sequence[str],
    rows: type[models.Model],
    row_fields: Sequence[str],
) -> list[tuple[uuid.UUID, tuple[Any, ...]]]:
    """Delete and re-insert these submissions (each keeping the fields `keep`) and their
    rows (`rows`, whose foreign key to a submission is `response`), both shuffled, each
    submission under a fresh uuid4. Returns every row as (its submission's new key, its
    values of `row_fields`). The caller holds the transaction and the close's lock."""
    shuffle = random.SystemRandom().shuffle
    found = list(submissions.values_list("id", *keep))
    shuffle(found)
    old_ids = [submission[0] for submission in found]
    children: list[tuple[Any, ...]] = []
    for start in range(0, len(old_ids), REWRITE_CHUNK):
        chunk = old_ids[start : start + REWRITE_CHUNK]
        children += rows._default_manager.filter(response_id__in=chunk).values_list(
            "response_id", *row_fields
        )
        rows._default_manager.filter(response_id__in=chunk).delete()
        submissions.model._default_manager.filter(id__in=chunk).delete()
    shuffle(children)
    fresh = {old_id: uuid.uuid4() for old_id in old_ids}
    submissions.model._default_manager.bulk_create(
        submissions.model(id=fresh[old_id], **dict(zip(keep, values, strict=True)))
        for old_id, *values in found
    )
    rewritten = [(fresh[old_id], tuple(values)) for old_id, *values in children]
    rows._default_manager.bulk_create(
        rows(response_id=new_id, **dict(zip(row_fields, values, strict=True)))
        for new_id, values in rewritten
    )
    return rewritten
