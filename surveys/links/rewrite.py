"""Writing anonymous rows in the clear, shuffled under fresh keys, for pulse responses and
retro cards alike: from sealed submissions (`sealed_take`, surveys/links/sealing.py) and,
at close, together with the rows already in the clear (`submissions_rewrite`).

A submission stores only a sealed row next to its invitation's `used` flag; the clear
rows are written later by a transaction that touches no invitation — a pulse's close, a
retro's batch publication or close — shuffled and each under a fresh uuid4, so neither
storage order (SQLite's rowid, PostgreSQL's ctid) nor a transaction id (PostgreSQL's
xmin, a WAL record's xid) follows who submitted when.

The close still deletes and re-inserts the rows already in the clear with the sealed ones:
responses written before sealing existed (an open run at the upgrade) sit next to their
invitation's flag in storage until then, and retro submissions published in earlier
batches get mixed with the last one. Deleted rows leave no trace in SQLite's main file
(secure_delete); PostgreSQL's dead tuples go at the next vacuum.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import QuerySet

from surveys.links.sealing import submission_unseal

# Deleted by explicit ids, in chunks: a join in a DELETE's subquery can get a disastrous
# plan on tables that just grew and were never analysed (seen: a minute per run).
REWRITE_CHUNK = 500


@dataclass(frozen=True)
class Submission:
    """One anonymous submission in memory: its own fields (no key) and its rows' values in
    the order of the `row_fields` it was read with."""

    fields: dict[str, Any]
    rows: list[tuple[Any, ...]]


def sealed_take(
    sealed: QuerySet[Any], *, kind: str, window_id: int, row_fields: Sequence[str]
) -> list[Submission]:
    """Open every sealed submission of `sealed` (one window's) and delete it; returns them
    for the caller to write in the clear in the same transaction. Every blob is opened
    before anything is deleted; one that opens with no key raises SealUnreadable (and the
    caller's transaction rolls back whole)."""
    found = list(sealed.values_list("id", "blob"))
    opened = []
    for _, blob in found:
        fields, rows = submission_unseal(blob, kind=kind, window_id=window_id)
        opened.append(Submission(fields, [tuple(row[f] for f in row_fields) for row in rows]))
    ids = [pk for pk, _ in found]
    for start in range(0, len(ids), REWRITE_CHUNK):
        sealed.model._default_manager.filter(id__in=ids[start : start + REWRITE_CHUNK]).delete()
    return opened


def submissions_insert(
    submissions: Sequence[Submission],
    *,
    model: type[models.Model],
    rows: type[models.Model],
    row_fields: Sequence[str],
) -> list[tuple[uuid.UUID, tuple[Any, ...]]]:
    """Insert these submissions (`model`) and their rows (`rows`, whose foreign key to a
    submission is `response`), both in random order, each submission under a fresh uuid4.
    Returns every row as (its submission's key, its values of `row_fields`)."""
    shuffle = random.SystemRandom().shuffle
    keyed = [(uuid.uuid4(), submission) for submission in submissions]
    shuffle(keyed)
    model._default_manager.bulk_create(model(id=key, **s.fields) for key, s in keyed)
    written = [(key, values) for key, s in keyed for values in s.rows]
    shuffle(written)
    rows._default_manager.bulk_create(
        rows(response_id=key, **dict(zip(row_fields, values, strict=True)))
        for key, values in written
    )
    return written


def submissions_rewrite(
    submissions: QuerySet[Any],
    *,
    keep: Sequence[str],
    rows: type[models.Model],
    row_fields: Sequence[str],
    unsealed: Sequence[Submission] = (),
) -> list[tuple[uuid.UUID, tuple[Any, ...]]]:
    """Delete these submissions (each keeping the fields `keep`) and their rows (`rows`,
    whose foreign key to a submission is `response`) and insert them again together with
    `unsealed`, all shuffled, each submission under a fresh uuid4. Returns every row as
    (its submission's new key, its values of `row_fields`). The caller holds the
    transaction and the close's lock."""
    found = list(submissions.values_list("id", *keep))
    old_ids = [submission[0] for submission in found]
    children: dict[Any, list[tuple[Any, ...]]] = {old_id: [] for old_id in old_ids}
    for start in range(0, len(old_ids), REWRITE_CHUNK):
        chunk = old_ids[start : start + REWRITE_CHUNK]
        in_chunk = rows._default_manager.filter(response_id__in=chunk)
        for response_id, *values in in_chunk.values_list("response_id", *row_fields):
            children[response_id].append(tuple(values))
        in_chunk.delete()
        submissions.model._default_manager.filter(id__in=chunk).delete()
    clear = [
        Submission(dict(zip(keep, values, strict=True)), children[old_id])
        for old_id, *values in found
    ]
    return submissions_insert(
        [*clear, *unsealed], model=submissions.model, rows=rows, row_fields=row_fields
    )
