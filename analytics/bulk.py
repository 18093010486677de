"""Inserting many rows that are already in database form, through the driver's
executemany: the hot path of imports and recomputes, where `bulk_create` spends most of
its time preparing each value of each model instance.

Columns come from the model's fields (so a renamed column follows); values must already
be what the database takes: datetimes through `connection.ops.adapt_datetimefield_value`,
JSON through `json_value`.
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
    """INSERT the rows (tuples in the order of `fields`) with one executemany."""
    quote = connection.ops.quote_name
    column = {field.name: field.column for field in model._meta.concrete_fields}
    columns = ", ".join(quote(column[name]) for name in fields)
    values = ", ".join(["%s"] * len(fields))
    # Names come from the model and values travel as parameters.
    table = quote(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    batch = list(rows)
    if not batch:
        return
    with connection.cursor() as cursor:
        cursor.executemany(sql, batch)
