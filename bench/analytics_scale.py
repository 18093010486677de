"""Analytics at scale: the full recompute of a large organisation next to its SQL floor.

For each backend (SQLite always, PostgreSQL when BENCH_POSTGRES_URL answers): a fresh
database, `manage.py migrate`, then bench.scale_population generates an organisation of
--scale-teams teams × --scale-weeks weekly closed runs × 20 questions with about
--scale-respondents respondents per run (500 × 104 × 20 × 10 ≈ 10 million answers),
loaded in bulk, plus a TeamWeekDelivery row per team-week. Then, each in a fresh process
(bench.analytics_scale_child):

- the SQL floor: one GROUP BY team, run (period), question computing COUNT and AVG over
  every answer, every row fetched (median of --scale-rounds);
- for context, pandas: the same rows already in memory, groupby + count/mean;
- the full recompute: analytics.insights.aggregates.all_runs_refresh(), then
  periods_mark() + analytics.pipeline.periods_refresh(), timed apart, with the
  process's peak RSS; afterwards (untimed) the stored question aggregates are checked
  against the database's own GROUP BY;
- refreshing one closed period (the latest week) for every team;
- dashboard API latency (p50/p95 per route) as the org admin, in-process through
  django.test.Client, after the recompute filled the summary tables.

Goals (from the issue): full recompute ≤ 2× the SQL floor, peak memory < 2 GB,
one-period refresh < 2 s, API p95 < 150 ms. A process that runs past --scale-time-cap is
killed and reported as "exceeded N s"; what it finished before is kept.

Cost: on 2 CPUs the generator took 10–18 s per million answers on SQLite and 17–22 s on
PostgreSQL (slower as the tables grow: 0.5 to 5 million answers), so about 4 minutes per
backend at the default size; the SQLite load holds a 1 GB page cache. Budget tens of
minutes per backend for the whole run; `--scale-teams 20 --scale-weeks 8` takes under a
minute for both.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import report
from bench.databases import Backend
from bench.harness import (
    ChildRun,
    Database,
    attempt,
    child_run,
    fresh_database,
    median,
    percentile,
    ratio,
    say,
)

CHILD_MODULE = "bench.analytics_scale_child"
RECOMPUTE_GOAL = 2.0  # full recompute as a multiple of the SQL floor, at most
PEAK_MB_GOAL = 2048.0  # the recompute process
PERIOD_SECONDS_GOAL = 2.0  # one closed period refreshed for every team
API_P95_GOAL_MS = 150.0
GOAL_ANSWERS = 10_000_000  # the size the goals are stated for (500 × 104 × 20 × ~10)
# Measured for context, not held to the API goal: every team at once, past the page size.
CONTEXT_ROUTES = {"/api/insights/heatmap/?limit=500"}


@dataclass(frozen=True)
class ScaleOptions:
    teams: int
    weeks: int
    respondents: int  # mean per run
    backends: tuple[str, ...]
    rounds: int  # SQL floor and pandas
    requests: int  # per API route, after the warm-up
    warmup: int  # per API route
    time_cap: float  # seconds per child process
    seed: int


@dataclass(frozen=True)
class RouteStats:
    route: str
    count: int
    p50_ms: float
    p95_ms: float
    statuses: dict[str, int]
    capped: bool
    largest_bytes: int

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")


def _part(child: ChildRun | None, step: str) -> dict[str, Any] | None:
    """The last JSON line a step's process emitted for `step`, if it ran and got that far."""
    return child.part(step) if child else None


def _seconds(child: ChildRun | None, step: str) -> float:
    """How long `step` took: the median of its rounds where it ran several; nan if it did
    not finish."""
    document = _part(child, step)
    if document is None:
        return math.nan
    took = document["seconds"]
    return median(took) if isinstance(took, list) else float(took)


@dataclass
class ScaleBackendResult:
    backend: Backend
    generated: ChildRun
    floor: ChildRun | None = None
    pandas: ChildRun | None = None
    recompute: ChildRun | None = None
    period: ChildRun | None = None
    api: ChildRun | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def children(self) -> tuple[ChildRun | None, ...]:
        return (self.floor, self.pandas, self.recompute, self.period, self.api)

    @property
    def counts(self) -> dict[str, int]:
        document = self.generated.part("generate")
        return document["counts"] if document else {}

    @property
    def floor_seconds(self) -> float:
        return _seconds(self.floor, "floor")

    @property
    def pandas_seconds(self) -> float:
        return _seconds(self.pandas, "pandas")

    @property
    def aggregates_seconds(self) -> float:
        return _seconds(self.recompute, "aggregates")

    @property
    def periods_seconds(self) -> float:
        return _seconds(self.recompute, "periods")

    @property
    def recompute_seconds(self) -> float:
        return self.aggregates_seconds + self.periods_seconds

    @property
    def recompute_finished(self) -> bool:
        """Both timed parts of the recompute ran (the untimed check may not have)."""
        return math.isfinite(self.recompute_seconds)

    @property
    def recompute_peak_mb(self) -> float:
        peaks = [
            float(d["peak_mb"])
            for step in ("aggregates", "periods")
            if (d := _part(self.recompute, step))
        ]
        return max(peaks) if peaks else math.nan

    @property
    def period_document(self) -> dict[str, Any] | None:
        return _part(self.period, "period")

    @property
    def routes(self) -> list[RouteStats]:
        if not self.api:
            return []
        return [_route_stats(d) for d in self.api.parts.get("api", [])]


def _route_stats(document: dict[str, Any]) -> RouteStats:
    latencies = sorted(document["latencies_ms"])
    return RouteStats(
        route=document["route"],
        count=len(latencies),
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        statuses={str(k): v for k, v in document["statuses"].items()},
        capped=document["capped"],
        largest_bytes=document["largest_bytes"],
    )


@dataclass
class ScaleResult:
    options: ScaleOptions
    backends: list[ScaleBackendResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.backends) and not any(b.problems for b in self.backends)


# --- the steps ---------------------------------------------------------------------------


def _step(database: Database, command: str, args: list[str], time_cap: float) -> ChildRun:
    """One step in a process of its own; its progress is echoed as it comes."""
    return child_run(
        database.env,
        ["-m", CHILD_MODULE, command, *args],
        time_cap=time_cap,
        name=command,
        echo=True,
    )


def _size_args(options: ScaleOptions) -> list[str]:
    return [
        f"--teams={options.teams}",
        f"--weeks={options.weeks}",
        f"--respondents={options.respondents}",
        f"--seed={options.seed}",
    ]


def _check(result: ScaleBackendResult) -> None:
    """Problems: a step that failed, a recompute that stored the wrong aggregates, non-200s."""
    for child in result.children:
        if child is not None and child.error:
            result.problems.append(f"{child.name}: {child.error}")
    check = _part(result.recompute, "check")
    if check:
        expected, stored = (
            check["expected_question_aggregates"],
            check["stored_question_aggregates"],
        )
        if expected != stored:
            result.problems.append(
                f"recompute stored {stored} question aggregates; the answers give {expected}"
            )
        worst = check["worst_mean_difference"]
        if worst is not None and worst > 1e-6:
            result.problems.append(
                f"a stored mean is further from SQL's AVG than its precision, by {worst:.3g}"
            )
    for route in result.routes:
        if route.errors:
            result.problems.append(f"{route.route}: statuses {route.statuses}")


def _measure(database: Database, options: ScaleOptions) -> ScaleBackendResult | str:
    """Every step on a migrated database, or why generating the organisation failed."""
    name, cap = database.backend.name, options.time_cap
    say(
        f"[analytics-scale] [{name}] generating {options.teams} teams × {options.weeks} weeks "
        f"× 20 questions × ~{options.respondents} respondents"
    )
    generated = _step(database, "generate", _size_args(options), cap)
    if generated.part("generate") is None:
        return f"generation {generated.why_not()}"
    result = ScaleBackendResult(database.backend, generated)
    rounds = [f"--rounds={options.rounds}"]
    say(f"[analytics-scale] [{name}] SQL floor, {options.rounds} rounds")
    result.floor = _step(database, "floor", rounds, cap)
    say(f"[analytics-scale] [{name}] pandas group-by (context)")
    result.pandas = _step(database, "pandas", rounds, cap)
    say(f"[analytics-scale] [{name}] full recompute (cap {cap:.0f} s)")
    result.recompute = _step(database, "recompute", [], cap)
    say(f"[analytics-scale] [{name}] one-period refresh")
    result.period = _step(database, "period", [], cap)
    say(f"[analytics-scale] [{name}] dashboard API")
    result.api = _step(
        database,
        "api",
        [f"--requests={options.requests}", f"--warmup={options.warmup}", f"--seed={options.seed}"],
        cap,
    )
    _check(result)
    return result


def run_backend(name: str, options: ScaleOptions, temp: Path) -> ScaleBackendResult | str:
    """Every step on one database, or why the backend was skipped."""
    started = time.perf_counter()
    data_dir = temp / f"scale-{name}"
    say(f"[analytics-scale] [{name}] migrating a fresh database")
    try:
        database = attempt(fresh_database, name, data_dir)
        if isinstance(database, str):
            return database
        result = _measure(database, options)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)  # a SQLite file of several GB at full size
    if not isinstance(result, str):
        result.seconds = time.perf_counter() - started
    return result


def run(options: ScaleOptions) -> ScaleResult:
    started = time.perf_counter()
    result = ScaleResult(options)
    with tempfile.TemporaryDirectory(prefix="candor-bench-scale-") as temp:
        for name in options.backends:
            outcome = run_backend(name, options, Path(temp))
            if isinstance(outcome, str):
                result.skipped[name] = outcome
                say(f"[analytics-scale] [{name}] skipped: {outcome}")
                continue
            result.backends.append(outcome)
    result.seconds = time.perf_counter() - started
    return result


# --- the report --------------------------------------------------------------------------


def recompute_ratio(b: ScaleBackendResult) -> float:
    return ratio(b.recompute_seconds, b.floor_seconds)


def _unfinished(child: ChildRun | None) -> str:
    return child.why_not() if child is not None else "not run"


def _route_label(route: str) -> str:
    return route.removeprefix("/api/").strip("/")


def recompute_detail(b: ScaleBackendResult) -> str:
    if math.isfinite(b.recompute_seconds):
        return (
            f"{report.times(recompute_ratio(b))} ({b.recompute_seconds:.2f} s against "
            f"{b.floor_seconds:.2f} s)"
        )
    done = (
        f"; aggregates finished in {b.aggregates_seconds:.1f} s"
        if math.isfinite(b.aggregates_seconds)
        else ""
    )
    return f"{_unfinished(b.recompute)}{done}"


RECOMPUTE_GOAL_LABEL = f"full recompute ≤ {RECOMPUTE_GOAL:.0f}× SQL floor"
PEAK_GOAL_LABEL = "peak memory < 2 GB"
PERIOD_GOAL_LABEL = f"one-period refresh < {PERIOD_SECONDS_GOAL:.0f} s"


def _api_goal_label(route: str) -> str:
    return f"API p95 < {API_P95_GOAL_MS:.0f} ms: {_route_label(route)}"


def goals(b: ScaleBackendResult) -> list[report.Goal]:
    found = [
        report.Goal(
            RECOMPUTE_GOAL_LABEL,
            recompute_ratio(b) <= RECOMPUTE_GOAL,
            recompute_detail(b),
        ),
        report.Goal(
            PEAK_GOAL_LABEL,
            b.recompute_peak_mb < PEAK_MB_GOAL,
            f"{report.mb(b.recompute_peak_mb)} (recompute process)",
        ),
    ]
    period = b.period_document
    found.append(
        report.Goal(
            PERIOD_GOAL_LABEL,
            period is not None and period["seconds"] < PERIOD_SECONDS_GOAL,
            f"{period['seconds']:.2f} s ({period['runs']} teams)"
            if period
            else _unfinished(b.period),
        )
    )
    routes = b.routes
    if not routes:
        found.append(report.Goal(f"API p95 < {API_P95_GOAL_MS:.0f} ms", False, _unfinished(b.api)))
    for route in routes:
        if route.route in CONTEXT_ROUTES:
            continue
        found.append(
            report.Goal(
                _api_goal_label(route.route),
                route.p95_ms < API_P95_GOAL_MS and not route.errors,
                f"{route.p95_ms:.1f} ms" + (f" ({route.errors} non-200)" if route.errors else ""),
            )
        )
    return found


def _size_line(b: ScaleBackendResult) -> str:
    c = b.counts
    document = b.generated.part("generate") or {}
    took = float(document.get("seconds", math.nan))
    per_million = ratio(took, c["answers"] / 1e6)
    return (
        f"{c['teams']} teams ({c['parents']} parents) × {c['runs'] // max(1, c['teams'])} weeks × "
        f"{len(document.get('questions', []))} questions: {c['runs']:,} runs "
        f"({c['runs_under_k']} under k), {c['responses']:,} responses, {c['answers']:,} answers, "
        f"{c.get('people', 0):,} people with {c.get('invitations', 0):,} invitations, "
        f"{c['delivery_weeks']:,} delivery weeks; generated in {took:.1f} s "
        f"({document.get('answers_per_second', 0):,.0f} answers/s, {per_million:.0f} s per "
        f"million answers; loading {document.get('load_seconds', 0):.1f} s, analysing "
        f"{document.get('finish_seconds', 0):.1f} s)"
    )


STEP_COLUMNS = (
    report.Column("step", 46, "<"),
    report.Column("seconds", 9),
    report.Column("× floor", 9),
    report.Column("peak RSS", 10),
)


def _step_row(
    b: ScaleBackendResult,
    label: str,
    took: float,
    document: dict[str, Any] | None,
    missing: str,
    *,
    against_floor: bool = True,
    peak: float | None = None,
) -> tuple[str, ...]:
    """A step's seconds, as a multiple of the floor's, and its peak RSS; or why it has none."""
    if not math.isfinite(took):
        return (label, missing)
    if peak is None and document is not None:
        peak = document["peak_mb"]
    return (
        label,
        f"{took:.2f}",
        report.times(ratio(took, b.floor_seconds)) if against_floor else "",
        report.mb(peak) if peak is not None else "",
    )


def _step_blocks(b: ScaleBackendResult) -> list[report.Block]:
    floor = _part(b.floor, "floor")
    pandas = _part(b.pandas, "pandas")
    aggregates = _part(b.recompute, "aggregates")
    periods = _part(b.recompute, "periods")
    period = b.period_document
    runs = aggregates["runs"] if aggregates else b.counts["runs"]
    rows = [
        _step_row(
            b,
            "SQL floor: GROUP BY team, run, question",
            b.floor_seconds,
            floor,
            _unfinished(b.floor),
        ),
        _step_row(
            b,
            "pandas group-by, rows in memory (context)",
            b.pandas_seconds,
            pandas,
            _unfinished(b.pandas),
        ),
        _step_row(
            b,
            f"full recompute: aggregates ({runs:,} runs)",
            b.aggregates_seconds,
            aggregates,
            _unfinished(b.recompute),
        ),
        _step_row(
            b,
            "full recompute: team-periods",
            b.periods_seconds,
            periods,
            _unfinished(b.recompute) if aggregates else "not reached",
        ),
        _step_row(
            b,
            "full recompute: total",
            b.recompute_seconds,
            None,
            _unfinished(b.recompute) if aggregates else "",
            peak=b.recompute_peak_mb,
        ),
        _step_row(
            b,
            f"one-period refresh ({period['runs']} teams)" if period else "one-period refresh",
            period["seconds"] if period else math.nan,
            period,
            _unfinished(b.period),
            against_floor=False,
        ),
    ]
    blocks: list[report.Block] = [report.Table(STEP_COLUMNS, rows)]
    if floor:
        blocks.append(
            f"  floor: {floor['groups']:,} groups, {floor['answers']:,} answers, rounds "
            + ", ".join(f"{s:.2f}" for s in floor["seconds"])
            + " s"
        )
    if pandas:
        blocks.append(
            f"  pandas: {pandas['rows']:,} rows ({pandas['frame_mb']:.0f} MB frame) loaded in "
            f"{pandas['load_seconds']:.1f} s, not timed; rounds "
            + ", ".join(f"{s:.3f}" for s in pandas["seconds"])
            + " s"
        )
    if periods:
        blocks.append(
            f"  team-periods: periods_mark() {periods['mark_seconds']:.2f} s "
            f"({periods['marked']:,} marked), periods_fill_pending() "
            f"{periods['seconds'] - periods['mark_seconds']:.2f} s ({periods['filled']:,} "
            "filled, reports and roll-ups included)"
        )
    if period:
        blocks.append(
            f"  one period (week of {period['week']}): runs_aggregate "
            f"{period['aggregates_seconds']:.2f} s, periods_mark {period['mark_seconds']:.2f} s, "
            f"periods_fill_pending {period['fill_seconds']:.2f} s; then the follow-up "
            f"reports task (alerts, correlations, the week's roll-ups) "
            f"{period.get('reports_seconds', float('nan')):.2f} s, not counted"
        )
    return blocks


API_COLUMNS = (
    report.Column("dashboard API, in-process, as the org admin", 46, "<"),
    report.Column("requests", 9),
    report.Column("p50 ms", 9),
    report.Column("p95 ms", 10),
    report.Column("largest"),
)


def _api_table(routes: list[RouteStats]) -> list[report.Block]:
    if not routes:
        return []
    rows = [
        (
            route.route,
            str(route.count),
            f"{route.p50_ms:.1f}",
            f"{route.p95_ms:.1f}",
            f"{route.largest_bytes / 1024:,.0f} kB"
            + (" (time budget hit)" if route.capped else ""),
        )
        for route in routes
    ]
    return [report.Table(API_COLUMNS, rows)]


def _written_lines(b: ScaleBackendResult) -> list[report.Block]:
    check = _part(b.recompute, "check")
    if not check:
        return []
    worst = check["worst_mean_difference"]
    return [
        f"written: {check['run_summaries']:,} run summaries ({check['suppressed_runs']} "
        f"suppressed), {check['question_aggregates']:,} question and "
        f"{check['construct_aggregates']:,} construct aggregates, {check['team_periods']:,} "
        f"team-periods, {check['rollups']:,} roll-ups ({check.get('rollups_shown', 0):,} "
        f"shown), {check['correlations']:,} correlations, "
        f"{check['safety_alerts']:,} safety alerts",
        f"check: {check['stored_question_aggregates']:,} question aggregates stored, "
        f"{check['expected_question_aggregates']:,} expected from the answers; released "
        f"means vs SQL AVG: worst distance beyond the precision "
        f"{worst if worst is not None else '—'}",
    ]


def _notes(b: ScaleBackendResult) -> list[report.Block]:
    notes: list[report.Block] = []
    if not b.recompute_finished:
        notes.append(
            "note: the full recompute did not finish, so the one-period refresh and the API "
            "ran on partly filled summary tables"
        )
    elif b.recompute is not None and b.recompute.part("check") is None:
        notes.append(
            f"note: the check after the recompute did not run ({_unfinished(b.recompute)})"
        )
    if b.counts.get("answers", 0) < GOAL_ANSWERS / 10:
        notes.append(
            f"note: {b.counts.get('answers', 0):,} answers is a smoke size; the goals are "
            "stated for 500 teams × 104 weeks (about 10 million answers)"
        )
    return notes


def _section(b: ScaleBackendResult) -> report.Section:
    return report.Section(
        f"== analytics-scale: {b.backend.label} ==  ({b.seconds:.0f} s)",
        [
            _size_line(b),
            *_step_blocks(b),
            *_api_table(b.routes),
            *_written_lines(b),
            report.Goals(goals(b)),
            *_notes(b),
            *(f"PROBLEM: {problem}" for problem in b.problems),
        ],
    )


def _markdown_table(backends: list[ScaleBackendResult]) -> report.Table:
    found = {id(b): {g.label: g for g in goals(b)} for b in backends}

    def row(label: str, cell: Any, goal: str | None = None) -> tuple[str, ...]:
        return (
            label,
            *(report.judged(found[id(b)].get(goal) if goal else None, cell(b)) for b in backends),
        )

    rows = [
        row(
            "SQL floor: GROUP BY team, period, question", lambda b: report.seconds(b.floor_seconds)
        ),
        row(
            "pandas group-by, rows in memory (context)", lambda b: report.seconds(b.pandas_seconds)
        ),
        row("full recompute: aggregates", lambda b: report.seconds(b.aggregates_seconds)),
        row("full recompute: team-periods", lambda b: report.seconds(b.periods_seconds)),
        row(
            f"full recompute: total (goal ≤ {RECOMPUTE_GOAL:.0f}× floor)",
            lambda b: (
                f"{report.seconds(b.recompute_seconds)} ({report.times(recompute_ratio(b))})"
                if b.recompute_finished
                else _unfinished(b.recompute)
            ),
            RECOMPUTE_GOAL_LABEL,
        ),
        row(
            "peak RSS, full recompute (goal < 2 GB)",
            lambda b: report.mb(b.recompute_peak_mb),
            PEAK_GOAL_LABEL,
        ),
        row(
            f"one-period refresh, every team (goal < {PERIOD_SECONDS_GOAL:.0f} s)",
            lambda b: (
                report.seconds(b.period_document["seconds"])
                if b.period_document
                else _unfinished(b.period)
            ),
            PERIOD_GOAL_LABEL,
        ),
    ]
    routes = list(dict.fromkeys(r.route for b in backends for r in b.routes))
    if not routes:
        rows.append(row(f"API p95 (goal < {API_P95_GOAL_MS:.0f} ms)", lambda b: _unfinished(b.api)))
    for route in routes:

        def p95(b: ScaleBackendResult, route: str = route) -> str:
            stats = next((r for r in b.routes if r.route == route), None)
            return f"{stats.p95_ms:.1f} ms" if stats else "—"

        goal = "context" if route in CONTEXT_ROUTES else f"goal < {API_P95_GOAL_MS:.0f} ms"
        rows.append(row(f"API p95 `{route}` ({goal})", p95, _api_goal_label(route)))
    return report.Table(
        (report.Column("Step", align="<"), *(report.Column(b.backend.label) for b in backends)),
        rows,
    )


def reproduce(options: ScaleOptions) -> str:
    """The command line that measures this again (size options only where not the default)."""
    defaults = {"teams": 500, "weeks": 104, "respondents": 10}
    extra = "".join(
        f" --scale-{name} {getattr(options, name)}"
        for name, default in defaults.items()
        if getattr(options, name) != default
    )
    return f'`make bench BENCH_ARGS="--only analytics-scale{extra}"`'


def _markdown(result: ScaleResult) -> list[str | report.Table]:
    o = result.options
    answers = max((b.counts.get("answers", 0) for b in result.backends), default=0)
    blocks: list[str | report.Table] = [
        f"Analytics at scale — {o.teams} teams × {o.weeks} weeks × 20 questions, about "
        f"{o.respondents} respondents per run ({answers:,} answers, loaded in bulk), each step "
        f"a fresh process; API latencies in-process through the Django test client, "
        f"{o.requests} requests per route; {report.machine()}. {reproduce(o)} reproduces it.",
        _markdown_table(result.backends),
    ]
    if result.skipped:
        blocks.append(
            report.skipped_note([f"{name}: {why}" for name, why in result.skipped.items()])
        )
    return blocks


def _child_document(child: ChildRun | None) -> dict[str, Any] | None:
    if child is None:
        return None
    parts = {step: found[-1] if len(found) == 1 else found for step, found in child.parts.items()}
    parts.pop("start", None)
    status = "ok" if child.ok else _unfinished(child)
    return {"status": status, "process_seconds": child.seconds, **parts}


def _backend_document(b: ScaleBackendResult) -> dict[str, Any]:
    return {
        "backend": report.backend_json(b.backend),
        "seconds": round(b.seconds, 1),
        "generated": _child_document(b.generated),
        "floor": _child_document(b.floor),
        "pandas": _child_document(b.pandas),
        "recompute": _child_document(b.recompute),
        "period": _child_document(b.period),
        "api": {
            "status": "ok" if b.api and b.api.ok else _unfinished(b.api),
            "routes": [asdict(route) for route in b.routes],
        },
        "summary": {
            "floor_seconds": b.floor_seconds,
            "pandas_seconds": b.pandas_seconds,
            "aggregates_seconds": b.aggregates_seconds,
            "periods_seconds": b.periods_seconds,
            "recompute_seconds": b.recompute_seconds,
            "recompute_over_floor": recompute_ratio(b),
            "recompute_peak_mb": b.recompute_peak_mb,
            "period_seconds": b.period_document["seconds"] if b.period_document else None,
        },
        "goals": report.goals_json(goals(b)),
        "problems": b.problems,
    }


def describe(result: ScaleResult) -> report.Report:
    sections = [_section(b) for b in result.backends]
    sections += [
        report.Section(f"== analytics-scale: {name} skipped ({reason})")
        for name, reason in result.skipped.items()
    ]
    return report.Report(
        key="analytics_scale",
        title="analytics at scale",
        sections=sections,
        markdown=_markdown(result) if result.backends else (),
        document={
            "options": asdict(result.options),
            "seconds": round(result.seconds, 1),
            "skipped": result.skipped,
            "backends": [_backend_document(b) for b in result.backends],
            "ok": result.ok,
        },
        ok=result.ok,
    )
