"""`python -m bench.analytics_scale_child STEP ...`: one step of the analytics-scale
benchmark, in a process of its own so its memory is its own.

Run with DJANGO_SETTINGS_MODULE=bench.settings against the benchmark database (the parent,
bench.analytics_scale, makes a fresh one per backend). Every step prints JSON lines on
stdout, one per finished part ({"step": ..., ...}), so what finished before a time cap
killed the process is still reported; progress goes to stderr. Peak memory is this
process's VmHWM (bench.harness.peak_mb, as in bench.git_import_child).

Steps:
  generate   the organisation (bench.scale_population)
  floor      one SQL GROUP BY team, run (period), question with COUNT and AVG over every
             answer, every row fetched; median of --rounds
  pandas     (team, run, question, value) of every answer loaded into a DataFrame (not
             timed), then groupby(...)["value"].agg(["count", "mean"]) timed
  recompute  analytics.insights.aggregates.all_runs_refresh(), then periods_mark() +
             pipeline.periods_refresh(reports_inline=True), timed apart; then, untimed,
             a check of the stored question aggregates against the database's own GROUP BY
  period     the latest week's runs of every team: runs_aggregate(run_ids) +
             periods_mark(run_ids) + pipeline.periods_refresh(reports_inline=False), as the
             tasks run it; then, timed apart, the follow-up reports task's work
  api        dashboard routes through django.test.Client as the org admin: warm-up, then
             requests spread over random teams, round-robin across routes (the heatmap's
             first page of 50 teams, its default, and for context 500 teams at once)

Every timed step starts warm (`warm_database`, untimed): this machine's memory manager
pages idle file pages out within seconds, so a step that began after a pause would
otherwise time the disk rather than the work (seen: the same floor query at 2.3 s warm
and 19 s cold). The floor and the recompute start alike.

Safety alerts enqueue their email task on commit; here the Celery app publishes to kombu's
in-memory transport (about what Redis costs, and nothing consumes them), not to the
SQLite broker file of the local settings.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import django

from bench.harness import emit, peak_mb, rss_mb, say, timed

FETCH_ROWS = 10_000
API_ROUTE_BUDGET_SECONDS = 60.0  # measured requests per route stop after this much time


WARM_TABLES = (
    "surveys.Answer",
    "surveys.Response",
    "surveys.RunQuestion",
    "surveys.PulseRun",
    "surveys.Invitation",
    "analytics.TeamWeekDelivery",
)


def warm_database() -> float:
    """Bring the database into memory, untimed: SQLite's file read through the OS cache,
    or PostgreSQL's main tables read by sequential scans and each of their indexes by a
    full scan in its order (the lookups of a one-period refresh go through the indexes).
    Returns the seconds it took."""
    from django.apps import apps
    from django.db import connection

    began = time.perf_counter()
    if connection.vendor == "sqlite":
        with open(connection.settings_dict["NAME"], "rb") as database:
            while database.read(1 << 24):
                pass
        return time.perf_counter() - began
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SET enable_indexscan = off")
        cursor.execute("SET enable_indexonlyscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        tables = [apps.get_model(label)._meta.db_table for label in WARM_TABLES]
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608
        cursor.execute("RESET ALL")
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        for table in tables:
            for columns in _index_columns(cursor, table):
                order = ", ".join(quote(column) for column in columns)
                cursor.execute(
                    f"SELECT COUNT(*) FROM (SELECT {order} FROM {quote(table)} "  # noqa: S608
                    f"ORDER BY {order}) AS indexed"
                )
        cursor.execute("RESET ALL")
    return time.perf_counter() - began


def _index_columns(cursor: Any, table: str) -> list[list[str]]:
    """The column lists of a table's btree indexes (primary key and constraints included)."""
    from django.db import connection

    constraints = connection.introspection.get_constraints(cursor, table)
    found = [
        c["columns"] for c in constraints.values() if c["index"] or c["primary_key"] or c["unique"]
    ]
    return [columns for n, columns in enumerate(found) if columns and columns not in found[:n]]


def _names() -> dict[str, str]:
    """Quoted table and column names of the answer tables, from the models' _meta."""
    from django.db import connection

    from surveys.pulses.models import Answer, Response

    quote = connection.ops.quote_name

    def column(model: Any, field: str) -> str:
        return quote(model._meta.get_field(field).column)

    return {
        "answer": quote(Answer._meta.db_table),
        "response": quote(Response._meta.db_table),
        "response_pk": column(Response, "id"),
        "response_run": column(Response, "run"),
        "response_team": column(Response, "team"),
        "answer_response": column(Answer, "response"),
        "answer_question": column(Answer, "question"),
        "answer_value": column(Answer, "value"),
    }


def floor_sql() -> str:
    n = _names()
    return (
        f"SELECT r.{n['response_team']}, r.{n['response_run']}, a.{n['answer_question']}, "  # noqa: S608
        f"COUNT(*), AVG(CAST(a.{n['answer_value']} AS DOUBLE PRECISION)) "
        f"FROM {n['answer']} a JOIN {n['response']} r "
        f"ON r.{n['response_pk']} = a.{n['answer_response']} "
        f"GROUP BY r.{n['response_team']}, r.{n['response_run']}, a.{n['answer_question']}"
    )


def _fetch_all(sql: str, each: Callable[[list[tuple]], None]) -> None:
    """Run `sql` and hand every row to `each`, FETCH_ROWS at a time (a server-side cursor
    on PostgreSQL, so the client never holds the whole result)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(FETCH_ROWS):
            each(rows)


# --- steps -------------------------------------------------------------------------------


def step_generate(arguments: argparse.Namespace) -> None:
    from bench.scale_population import Size, generate

    size = Size(arguments.teams, arguments.weeks, arguments.respondents, arguments.seed)
    emit("generate", **generate(size), peak_mb=peak_mb())


def _floor_once(sql: str) -> tuple[int, int]:
    """The floor query once, every row fetched: (groups, answers counted)."""
    groups = answers = 0

    def count(rows: list[tuple]) -> None:
        nonlocal groups, answers
        groups += len(rows)
        answers += sum(row[3] for row in rows)

    _fetch_all(sql, count)
    return groups, answers


def step_floor(arguments: argparse.Namespace) -> None:
    sql = floor_sql()
    seconds = []
    groups = answers = 0
    for number in range(arguments.rounds):
        warm_database()
        took, (groups, answers) = timed(lambda: _floor_once(sql))
        seconds.append(took)
        say(f"    SQL floor round {number + 1}/{arguments.rounds}: {took:.2f} s")
    emit("floor", seconds=seconds, sql=sql, groups=groups, answers=answers, peak_mb=peak_mb())


def _answers_frame() -> Any:
    import numpy as np
    import pandas as pd

    n = _names()
    sql = (
        f"SELECT r.{n['response_team']}, r.{n['response_run']}, a.{n['answer_question']}, "  # noqa: S608
        f"a.{n['answer_value']} FROM {n['answer']} a JOIN {n['response']} r "
        f"ON r.{n['response_pk']} = a.{n['answer_response']}"
    )
    parts: list[Any] = []

    def keep(rows: list[tuple]) -> None:
        block = np.array(
            [(t, r, q, np.nan if v is None else v) for t, r, q, v in rows], dtype=np.float64
        )
        parts.append(block)

    _fetch_all(sql, keep)
    data = np.concatenate(parts) if parts else np.empty((0, 4))
    parts.clear()
    frame = pd.DataFrame(
        {
            "team": data[:, 0].astype(np.int64),
            "run": data[:, 1].astype(np.int64),
            "question": data[:, 2].astype(np.int64),
            "value": data[:, 3],
        }
    )
    return frame


def step_pandas(arguments: argparse.Namespace) -> None:
    load_seconds, frame = timed(_answers_frame)
    say(f"    pandas: {len(frame):,} rows loaded in {load_seconds:.1f} s (not timed)")
    frame_mb = frame.memory_usage(deep=True).sum() / 2**20
    seconds, groups = [], 0
    for _ in range(arguments.rounds):
        took, result = timed(
            lambda: frame.groupby(["team", "run", "question"])["value"].agg(["count", "mean"])
        )
        seconds.append(took)
        groups = len(result)
    emit(
        "pandas",
        seconds=seconds,
        load_seconds=load_seconds,
        rows=len(frame),
        groups=groups,
        frame_mb=frame_mb,
        peak_mb=peak_mb(),
    )


def _rows_written() -> dict[str, int]:
    from analytics.insights.models import (
        ConstructAggregate,
        CorrelationResult,
        PeriodFill,
        QuestionAggregate,
        RunSummary,
        SafetyAlert,
        TeamPeriod,
        TeamRollup,
    )

    return {
        "run_summaries": RunSummary.objects.count(),
        "suppressed_runs": RunSummary.objects.filter(suppressed=True).count(),
        "question_aggregates": QuestionAggregate.objects.count(),
        "construct_aggregates": ConstructAggregate.objects.count(),
        "team_periods": TeamPeriod.objects.count(),
        "period_fills_done": PeriodFill.objects.filter(state=PeriodFill.State.DONE).count(),
        "rollups": TeamRollup.objects.count(),
        "rollups_shown": TeamRollup.objects.filter(shown=True).count(),
        "correlations": CorrelationResult.objects.count(),
        "safety_alerts": SafetyAlert.objects.count(),
    }


def aggregates_check() -> dict[str, Any]:
    """The stored question aggregates against the database's own GROUP BY: as many as there
    are (run, question) groups of runs with at least k respondents, and the same means."""
    from django.db import connection

    from analytics.insights.models import QuestionAggregate
    from surveys.pulses.models import PulseRun

    n = _names()
    quote = connection.ops.quote_name
    aggregate = quote(QuestionAggregate._meta.db_table)
    run = quote(PulseRun._meta.db_table)
    qa_run = quote(QuestionAggregate._meta.get_field("run").column)
    qa_question = quote(QuestionAggregate._meta.get_field("question").column)
    qa_mean = quote(QuestionAggregate._meta.get_field("mean").column)
    qa_precision = quote(QuestionAggregate._meta.get_field("precision").column)
    k = quote(PulseRun._meta.get_field("k").column)
    run_pk = quote(PulseRun._meta.get_field("id").column)
    groups = (
        f"SELECT r.{n['response_run']} AS run_id, a.{n['answer_question']} AS question_id, "  # noqa: S608
        f"COUNT(*) AS n, AVG(CAST(a.{n['answer_value']} AS DOUBLE PRECISION)) AS mean "
        f"FROM {n['answer']} a JOIN {n['response']} r "
        f"ON r.{n['response_pk']} = a.{n['answer_response']} "
        f"GROUP BY r.{n['response_run']}, a.{n['answer_question']}"
    )
    respondents = (
        f"SELECT {n['response_run']} AS run_id, COUNT(*) AS n FROM {n['response']} "  # noqa: S608
        f"GROUP BY {n['response_run']}"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM ({groups}) g JOIN ({respondents}) p ON p.run_id = g.run_id "  # noqa: S608
            f"JOIN {run} pr ON pr.{run_pk} = g.run_id WHERE p.n >= pr.{k}"
        )
        (expected,) = cursor.fetchone()
        cursor.execute(
            f"SELECT COUNT(*), MAX(ABS(q.{qa_mean} - g.mean) - q.{qa_precision}) "  # noqa: S608
            f"FROM {aggregate} q "
            f"JOIN ({groups}) g ON g.run_id = q.{qa_run} AND g.question_id = q.{qa_question} "
            f"WHERE q.{qa_mean} IS NOT NULL"
        )
        compared, worst = cursor.fetchone()
    stored = QuestionAggregate.objects.count()
    return {
        "expected_question_aggregates": expected,
        "stored_question_aggregates": stored,
        "means_compared": compared,
        "worst_mean_difference": float(worst) if worst is not None else None,
    }


def step_recompute(arguments: argparse.Namespace) -> None:
    from analytics import pipeline
    from analytics.insights import aggregates
    from analytics.insights.team_periods import state as periods

    say("    full recompute: all_runs_refresh()")
    warm_database()
    seconds, runs = timed(lambda: aggregates.all_runs_refresh(within=pipeline.periods_due))
    emit("aggregates", seconds=seconds, runs=runs, peak_mb=peak_mb(), rss_mb=rss_mb())
    say(f"    aggregates of {runs} runs in {seconds:.1f} s; periods_mark() + fill")
    began = time.perf_counter()
    marked = periods.periods_mark()
    mark_seconds = time.perf_counter() - began
    filled = pipeline.periods_refresh(reports_inline=True)
    emit(
        "periods",
        seconds=time.perf_counter() - began,
        mark_seconds=mark_seconds,
        marked=marked,
        filled=filled,
        peak_mb=peak_mb(),
        rss_mb=rss_mb(),
    )
    say("    checking the stored aggregates (not timed)")
    emit("check", **aggregates_check(), **_rows_written())


def latest_week_runs() -> tuple[str, list[int]]:
    from django.db.models import Max

    from surveys.pulses.models import PulseRun, RunStatus

    closed = PulseRun.objects.filter(status=RunStatus.CLOSED)
    latest = closed.aggregate(latest=Max("period_start"))["latest"]
    ids = list(closed.filter(period_start=latest).order_by("pk").values_list("pk", flat=True))
    return str(latest), ids


def step_period(arguments: argparse.Namespace) -> None:
    from analytics import pipeline
    from analytics.insights import aggregates
    from analytics.insights.team_periods import state as periods

    week, run_ids = latest_week_runs()
    say(f"    one-period refresh: week of {week}, {len(run_ids)} runs")
    warm_database()
    began = time.perf_counter()
    aggregates_seconds, refreshed = timed(
        lambda: aggregates.runs_aggregate(run_ids, within=pipeline.periods_due)
    )
    mark_seconds, marked = timed(lambda: periods.periods_mark(run_ids=run_ids))
    # As the Celery tasks do: the periods now, their reports in a task of their own.
    fill_seconds, filled = timed(lambda: pipeline.periods_refresh(reports_inline=False))
    seconds = time.perf_counter() - began
    reports_seconds = _reports_after(run_ids)
    emit(
        "period",
        week=week,
        runs=len(run_ids),
        refreshed=refreshed,
        marked=marked,
        filled=filled,
        seconds=seconds,
        aggregates_seconds=aggregates_seconds,
        mark_seconds=mark_seconds,
        fill_seconds=fill_seconds,
        reports_seconds=reports_seconds,
        peak_mb=peak_mb(),
    )


def _reports_after(run_ids: list[int]) -> float:
    """The follow-up task's work for the refreshed runs (alerts, correlations, roll-ups)."""
    from analytics import pipeline
    from surveys.pulses.models import PulseRun
    from surveys.pulses.schedule import week_of

    runs = PulseRun.objects.filter(pk__in=run_ids).values_list("team_id", "period_start")
    teams = {team for team, _ in runs}
    weeks = {week_of(start) for _, start in runs}
    seconds, _ = timed(lambda: pipeline.reports_refresh(team_ids=teams, weeks=weeks))
    return seconds


def _api_routes(rng: random.Random) -> dict[str, Callable[[], str]]:
    from surveys.people.models import Team

    slugs = list(Team.objects.order_by("pk").values_list("slug", flat=True))
    parents = list(
        Team.objects.filter(parent__isnull=True).order_by("pk").values_list("slug", flat=True)
    )
    return {
        "/api/teams/{slug}/periods/": lambda: f"/api/teams/{rng.choice(slugs)}/periods/",
        "/api/teams/{slug}/correlations/": lambda: f"/api/teams/{rng.choice(slugs)}/correlations/",
        "/api/teams/{parent}/rollups/": lambda: f"/api/teams/{rng.choice(parents)}/rollups/",
        "/api/insights/heatmap/": lambda: "/api/insights/heatmap/",
        "/api/insights/heatmap/?limit=500": lambda: "/api/insights/heatmap/?limit=500",
    }


def step_api(arguments: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.scale_population import ADMIN_USERNAME

    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=ADMIN_USERNAME))
    rng = random.Random(arguments.seed)
    routes = _api_routes(rng)
    latencies: dict[str, list[float]] = {name: [] for name in routes}
    statuses: dict[str, Counter[int]] = {name: Counter() for name in routes}
    spent = dict.fromkeys(routes, 0.0)
    sizes: dict[str, int] = {}
    for name, path in routes.items():
        for _ in range(arguments.warmup):
            response = client.get(path())
            statuses[name][response.status_code] += 1
    for _ in range(arguments.requests):
        for name, path in routes.items():
            if spent[name] > API_ROUTE_BUDGET_SECONDS:
                continue
            url = path()
            began = time.perf_counter()
            response = client.get(url)
            took = time.perf_counter() - began
            spent[name] += took
            latencies[name].append(took * 1000)
            statuses[name][response.status_code] += 1
            sizes[name] = max(sizes.get(name, 0), len(response.content))
    for name in routes:
        emit(
            "api",
            route=name,
            latencies_ms=latencies[name],
            median_ms=statistics.median(latencies[name]) if latencies[name] else None,
            statuses=dict(statuses[name]),
            capped=len(latencies[name]) < arguments.requests,
            largest_bytes=sizes.get(name, 0),
        )
    emit("api_done", peak_mb=peak_mb())


STEPS: dict[str, Callable[[argparse.Namespace], None]] = {
    "generate": step_generate,
    "floor": step_floor,
    "pandas": step_pandas,
    "recompute": step_recompute,
    "period": step_period,
    "api": step_api,
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics_scale_child")
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--respondents", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    return parser.parse_args(argv)


def _quiet_broker() -> None:
    from config.celery import app

    app.conf.broker_url = "memory://"


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    django.setup()
    _quiet_broker()
    emit("start", rss_mb=rss_mb(), peak_mb=peak_mb())
    STEPS[arguments.step](arguments)
    return 0


if __name__ == "__main__":
    sys.exit(main())
