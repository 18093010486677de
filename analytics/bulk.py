"""Inserting many rows that are already in database form: the hot path of imports and
recomputes, where `bulk_create` spends most of its time preparing each value of each
model instance. PostgreSQL takes them through COPY, SQLite through executemany.

Columns come from the model's fields (so a renamed column follows); values must already
be what the database takes: datetimes through `connection.ops.adapt_datetimefield_value`,
JSON through `json_value`, or on the hot path as already-encoded text (which SQLite stores
as is and PostgreSQL's COPY parses into jsonb).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def json_value(value: Any) -> Any:
    """A JSON field's value as this database takes it."""
    return connection.ops.adapt_json_value(value, None)


def rows_insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT the rows (tuples in the order of `fields`): COPY on PostgreSQL (unless
    conflicts are to be ignored, which COPY cannot), one executemany elsewhere."""
    quote = connection.ops.quote_name
    column = {field.name: field.column for field in model._meta.concrete_fields}
    columns = ", ".join(quote(column[name]) for name in fields)
    # Names come from the model and values travel as parameters or through COPY.
    table = quote(model._meta.db_table)
    batch = rows if isinstance(rows, list) else list(rows)
    if not batch:
        return
    if connection.vendor == "postgresql" and not ignore_conflicts:
        _copy(f"COPY {table} ({columns}) FROM STDIN", batch)
        return
    values = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.executemany(sql, batch)


def _copy(statement: str, rows: list[Sequence[Any]]) -> None:
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
