"""The SQL of the run aggregates: what the database computes over the answers of a batch
of runs, so that answers never come into Python one by one. Each function returns rows;
`analytics.aggregation.batch` turns them into figures.

Written for SQLite and PostgreSQL alike (one vendor difference: how a JSON array's
elements become rows). Table names come from the models' _meta, values travel as
parameters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from django.db import connection

from surveys.pulses.models import Answer, Question, QuestionKind, Response

AI_USAGE_KEY = "ai_usage_frequency"
AI_USAGE_WEEKLY = 3
AI_TRUST_KEY = "ai_trust_accuracy"
AI_TRUST_A_LOT = 4


class PersonColumn(NamedTuple):
    """A construct as a per-respondent score: 0–100 "index" for scale items, "percent"."""

    construct: str
    unit: str


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "answer": quote(Answer._meta.db_table),
        "response": quote(Response._meta.db_table),
        "question": quote(Question._meta.db_table),
    }


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


@contextmanager
def planned_for_slices() -> Iterator[None]:
    """Plan these queries as what they are on PostgreSQL: reads of a small, clustered
    slice of the answers through their indexes. With the default random_page_cost of 4
    (a spinning disk's), the planner scans all the answers for every batch; 1.1 is the
    usual setting for SSD storage (docker-compose.yml sets it server-wide)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET random_page_cost = 1.1")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET random_page_cost")


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def value_counts(
    run_ids: Sequence[int], question_ids: Sequence[int] | None = None
) -> list[tuple[int, int, int | None, int]]:
    """(run, question, value, count) of the answers of these runs (to these questions):
    one GROUP BY, with about a third as many rows as answers, which batch.fold_counts
    folds per question. Multiple-choice answers have no value: their row's count is how
    many answered."""
    t = _tables()
    only = f"AND a.question_id + 0 IN ({_marks(question_ids)})" if question_ids else ""
    sql = f"""
        SELECT r.run_id, a.question_id, a.value, COUNT(*)
        FROM {t["answer"]} a JOIN {t["response"]} r ON r.id = a.response_id
        WHERE r.run_id IN ({_marks(run_ids)}) {only}
        GROUP BY r.run_id, a.question_id, a.value
    """  # noqa: S608 -- table names from the models, values as parameters
    return fetch(sql, [*run_ids, *(question_ids or [])])


def _score_sql(column: PersonColumn, position: int) -> tuple[str, list[Any]]:
    """The respondent's mean score over the column's items (stats.construct_scores)."""
    if column.unit == "index":
        score = (
            "((CASE WHEN q.reverse_scored THEN q.scale_min + q.scale_max - a.value"
            " ELSE a.value END) - q.scale_min) * 100.0 / (q.scale_max - q.scale_min)"
        )
        kind = QuestionKind.SCALE
    else:
        score, kind = "a.value * 1.0", QuestionKind.PERCENT
    sql = f"AVG(CASE WHEN q.construct = %s AND q.kind = %s THEN {score} END) AS s{position}"
    return sql, [column.construct, str(kind)]


def person_sums(
    run_ids: Sequence[int],
    question_ids: Sequence[int],
    columns: Sequence[PersonColumn],
) -> list[tuple[Any, ...]]:
    """Per run: for each column, (n, Σ score, Σ score²) over the respondents with a score.
    Reads only `question_ids`' answers.

    Respondents are scored in a GROUP BY response over the (response) index, so no sort;
    `question_id + 0` keeps SQLite from looking up each (response, question) pair one by
    one where reading a response's few answers in a row is cheaper."""
    t = _tables()
    inner: list[str] = []
    outer: list[str] = []
    params: list[Any] = []
    for position, column in enumerate(columns):
        sql, column_params = _score_sql(column, position)
        inner.append(sql)
        params += column_params
        s = f"p.s{position}"
        outer.append(f"COUNT({s}), SUM({s}), SUM({s} * {s})")
    sql = f"""
        SELECT r.run_id, {", ".join(outer)}
        FROM (
            SELECT a.response_id AS response_id, {", ".join(inner)}
            FROM {t["answer"]} a JOIN {t["question"]} q ON q.id = a.question_id
            WHERE a.response_id IN (
                    SELECT id FROM {t["response"]} WHERE run_id IN ({_marks(run_ids)}))
              AND a.question_id + 0 IN ({_marks(question_ids)}) AND a.value IS NOT NULL
            GROUP BY a.response_id
        ) p JOIN {t["response"]} r ON r.id = p.response_id
        GROUP BY r.run_id
    """  # noqa: S608 -- table names from the models, values as parameters
    return fetch(sql, [*params, *run_ids, *question_ids])


def _elements(column: str) -> str:
    """A FROM item with one row per element (`j.value`) of a JSON array column."""
    if connection.vendor == "postgresql":
        return f"jsonb_array_elements_text({column}) AS j(value)"
    return f"json_each({column}) AS j"


def option_counts(
    run_ids: Sequence[int], question_ids: Sequence[int]
) -> dict[tuple[int, int], dict[str, int]]:
    """Per (run, multiple-choice question): how many chose each option. Reads only those
    questions' answers, each looked up by the (response, question) index."""
    t = _tables()
    sql = f"""
        SELECT r.run_id, a.question_id, j.value, COUNT(*)
        FROM {t["response"]} r
        JOIN {t["answer"]} a ON a.response_id = r.id AND a.question_id IN ({_marks(question_ids)})
        CROSS JOIN {_elements("a.choices")}
        WHERE r.run_id IN ({_marks(run_ids)})
        GROUP BY r.run_id, a.question_id, j.value
    """  # noqa: S608 -- table names from the models, values as parameters
    chosen: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for run_id, question_id, option, count in fetch(sql, [*question_ids, *run_ids]):
        chosen[(run_id, question_id)][str(option)] = count
    return chosen
