"""The analytics-scale benchmark's printed table, goal checks, README snippet and JSON part."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from bench.analytics_scale import (
    ChildRun,
    RouteStats,
    ScaleBackendResult,
    ScaleOptions,
    ScaleResult,
)
from bench.report import Goal, environment

RECOMPUTE_GOAL = 2.0  # full recompute as a multiple of the SQL floor, at most
PEAK_MB_GOAL = 2048.0  # the recompute process
PERIOD_SECONDS_GOAL = 2.0  # one closed period refreshed for every team
API_P95_GOAL_MS = 150.0
GOAL_ANSWERS = 10_000_000  # the size the goals are stated for (500 × 104 × 20 × ~10)
# Measured for context, not held to the API goal: every team at once, past the page size.
CONTEXT_ROUTES = {"/api/insights/heatmap/?limit=500"}


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def recompute_ratio(b: ScaleBackendResult) -> float:
    return _ratio(b.recompute_seconds, b.floor_seconds)


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if math.isfinite(value) else "—"


def _times(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    return f"{value:.1f}×" if value < 100 else f"{value:,.0f}×"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB" if math.isfinite(value) else "—"


def _unfinished(child: ChildRun | None, cap: float) -> str:
    return child.why_not(cap) if child is not None else "not run"


def _route_label(route: str) -> str:
    return route.removeprefix("/api/").strip("/")


def recompute_detail(b: ScaleBackendResult, cap: float) -> str:
    if math.isfinite(b.recompute_seconds):
        return (
            f"{_times(recompute_ratio(b))} ({b.recompute_seconds:.2f} s against "
            f"{b.floor_seconds:.2f} s)"
        )
    done = (
        f"; aggregates finished in {b.aggregates_seconds:.1f} s"
        if math.isfinite(b.aggregates_seconds)
        else ""
    )
    return f"{_unfinished(b.recompute, cap)}{done}"


def goals(b: ScaleBackendResult, cap: float) -> list[Goal]:
    ratio = recompute_ratio(b)
    found = [
        Goal(
            f"full recompute ≤ {RECOMPUTE_GOAL:.0f}× SQL floor",
            ratio <= RECOMPUTE_GOAL,
            recompute_detail(b, cap),
        ),
        Goal(
            "peak memory < 2 GB",
            b.recompute_peak_mb < PEAK_MB_GOAL,
            f"{_mb(b.recompute_peak_mb)} (recompute process)",
        ),
    ]
    period = b.period_document
    found.append(
        Goal(
            f"one-period refresh < {PERIOD_SECONDS_GOAL:.0f} s",
            period is not None and period["seconds"] < PERIOD_SECONDS_GOAL,
            f"{period['seconds']:.2f} s ({period['runs']} teams)"
            if period
            else _unfinished(b.period, cap),
        )
    )
    routes = b.routes
    if not routes:
        found.append(Goal(f"API p95 < {API_P95_GOAL_MS:.0f} ms", False, _unfinished(b.api, cap)))
    for route in routes:
        if route.route in CONTEXT_ROUTES:
            continue
        found.append(
            Goal(
                f"API p95 < {API_P95_GOAL_MS:.0f} ms: {_route_label(route.route)}",
                route.p95_ms < API_P95_GOAL_MS and not route.errors,
                f"{route.p95_ms:.1f} ms" + (f" ({route.errors} non-200)" if route.errors else ""),
            )
        )
    return found


def _size_line(b: ScaleBackendResult) -> str:
    c = b.counts
    document = b.generated.part("generate") or {}
    seconds = float(document.get("seconds", math.nan))
    per_million = _ratio(seconds, c["answers"] / 1e6)
    return (
        f"{c['teams']} teams ({c['parents']} parents) × {c['runs'] // max(1, c['teams'])} weeks × "
        f"{len(document.get('questions', []))} questions: {c['runs']:,} runs "
        f"({c['runs_under_k']} under k), {c['responses']:,} responses, {c['answers']:,} answers, "
        f"{c.get('people', 0):,} people with {c.get('invitations', 0):,} invitations, "
        f"{c['delivery_weeks']:,} delivery weeks; generated in {seconds:.1f} s "
        f"({document.get('answers_per_second', 0):,.0f} answers/s, {per_million:.0f} s per "
        f"million answers; loading {document.get('load_seconds', 0):.1f} s, analysing "
        f"{document.get('finish_seconds', 0):.1f} s)"
    )


def _step_rows(b: ScaleBackendResult, cap: float) -> list[str]:
    floor = b.floor.part("floor") if b.floor else None
    pandas = b.pandas.part("pandas") if b.pandas else None
    aggregates = b.recompute.part("aggregates") if b.recompute else None
    periods = b.recompute.part("periods") if b.recompute else None
    period = b.period_document

    def row(
        label: str, seconds: float, peak: float | None, missing: str = "", ratio: bool = True
    ) -> str:
        if not math.isfinite(seconds):
            return f"  {label:<46} {missing}"
        times = _times(_ratio(seconds, b.floor_seconds)) if ratio else ""
        peak_text = _mb(peak) if peak is not None else ""
        return f"  {label:<46} {seconds:>9.2f} {times:>9} {peak_text:>10}"

    runs = aggregates["runs"] if aggregates else b.counts["runs"]
    rows = [
        f"  {'step':<46} {'seconds':>9} {'× floor':>9} {'peak RSS':>10}",
        row(
            "SQL floor: GROUP BY team, run, question",
            b.floor_seconds,
            floor["peak_mb"] if floor else None,
            _unfinished(b.floor, cap),
        ),
        row(
            "pandas group-by, rows in memory (context)",
            b.pandas_seconds,
            pandas["peak_mb"] if pandas else None,
            _unfinished(b.pandas, cap),
        ),
        row(
            f"full recompute: aggregates ({runs:,} runs)",
            b.aggregates_seconds,
            aggregates["peak_mb"] if aggregates else None,
            _unfinished(b.recompute, cap),
        ),
        row(
            "full recompute: team-periods",
            b.periods_seconds,
            periods["peak_mb"] if periods else None,
            _unfinished(b.recompute, cap) if aggregates else "not reached",
        ),
        row(
            "full recompute: total",
            b.recompute_seconds,
            b.recompute_peak_mb,
            _unfinished(b.recompute, cap) if aggregates else "",
        ),
        row(
            f"one-period refresh ({period['runs']} teams)" if period else "one-period refresh",
            period["seconds"] if period else math.nan,
            period["peak_mb"] if period else None,
            _unfinished(b.period, cap),
            ratio=False,
        ),
    ]
    if floor:
        rows.append(
            f"    floor: {floor['groups']:,} groups, {floor['answers']:,} answers, rounds "
            + ", ".join(f"{s:.2f}" for s in floor["seconds"])
            + " s"
        )
    if pandas:
        rows.append(
            f"    pandas: {pandas['rows']:,} rows ({pandas['frame_mb']:.0f} MB frame) loaded in "
            f"{pandas['load_seconds']:.1f} s, not timed; rounds "
            + ", ".join(f"{s:.3f}" for s in pandas["seconds"])
            + " s"
        )
    if periods:
        rows.append(
            f"    team-periods: periods_mark() {periods['mark_seconds']:.2f} s "
            f"({periods['marked']:,} marked), periods_fill_pending() "
            f"{periods['seconds'] - periods['mark_seconds']:.2f} s ({periods['filled']:,} "
            "filled, reports and roll-ups included)"
        )
    if period:
        rows.append(
            f"    one period (week of {period['week']}): runs_aggregate "
            f"{period['aggregates_seconds']:.2f} s, periods_mark {period['mark_seconds']:.2f} s, "
            f"periods_fill_pending {period['fill_seconds']:.2f} s; then the follow-up "
            f"reports task (alerts, correlations, the week's roll-ups) "
            f"{period.get('reports_seconds', float('nan')):.2f} s, not counted"
        )
    return rows


def _api_rows(routes: list[RouteStats]) -> list[str]:
    if not routes:
        return []
    rows = [
        f"  {'dashboard API, in-process, as the org admin':<46} {'requests':>9} {'p50 ms':>9} "
        f"{'p95 ms':>10}  largest"
    ]
    for route in routes:
        capped = " (time budget hit)" if route.capped else ""
        rows.append(
            f"  {route.route:<46} {route.count:>9} {route.p50_ms:>9.1f} {route.p95_ms:>10.1f}  "
            f"{route.largest_bytes / 1024:,.0f} kB{capped}"
        )
    return rows


def _written_rows(b: ScaleBackendResult) -> list[str]:
    check = b.recompute.part("check") if b.recompute else None
    if not check:
        return []
    worst = check["worst_mean_difference"]
    return [
        f"  written: {check['run_summaries']:,} run summaries ({check['suppressed_runs']} "
        f"suppressed), {check['question_aggregates']:,} question and "
        f"{check['construct_aggregates']:,} construct aggregates, {check['team_periods']:,} "
        f"team-periods, {check['rollups']:,} roll-ups ({check.get('rollups_shown', 0):,} "
        f"shown), {check['correlations']:,} correlations, "
        f"{check['safety_alerts']:,} safety alerts",
        f"  check: {check['stored_question_aggregates']:,} question aggregates stored, "
        f"{check['expected_question_aggregates']:,} expected from the answers; means vs SQL AVG "
        f"worst difference {worst if worst is not None else '—'}",
    ]


def backend_text(b: ScaleBackendResult, cap: float) -> str:
    lines = [
        f"== analytics-scale: {b.backend.label} ==  ({b.seconds:.0f} s)",
        f"  {_size_line(b)}",
        *_step_rows(b, cap),
        *_api_rows(b.routes),
        *_written_rows(b),
        "  goals:",
        *(f"    {'PASS' if g.passed else 'MISS'}  {g.label:<42} {g.detail}" for g in goals(b, cap)),
    ]
    if not b.recompute_finished:
        lines.append(
            "  note: the full recompute did not finish, so the one-period refresh and the API "
            "ran on partly filled summary tables"
        )
    elif b.recompute is not None and b.recompute.part("check") is None:
        lines.append(
            f"  note: the check after the recompute did not run ({_unfinished(b.recompute, cap)})"
        )
    if b.counts.get("answers", 0) < GOAL_ANSWERS / 10:
        lines.append(
            f"  note: {b.counts.get('answers', 0):,} answers is a smoke size; the goals are "
            "stated for 500 teams × 104 weeks (about 10 million answers)"
        )
    lines += [f"  PROBLEM: {problem}" for problem in b.problems]
    return "\n".join(lines)


def text(result: ScaleResult) -> str:
    cap = result.options.time_cap
    parts = [backend_text(b, cap) for b in result.backends]
    parts += [
        f"== analytics-scale: {name} skipped ({reason})" for name, reason in result.skipped.items()
    ]
    return "\n\n".join(parts)


def _cell(goal: Goal | None, value: str) -> str:
    if goal is None:
        return value
    return f"{value} {'PASS' if goal.passed else 'MISS'}"


def _markdown_rows(result: ScaleResult) -> list[str]:
    cap = result.options.time_cap
    table: list[tuple[str, list[str]]] = []

    def add(label: str, cells: list[str]) -> None:
        table.append((label, cells))

    backends = result.backends
    found = {id(b): {g.label: g for g in goals(b, cap)} for b in backends}
    add("SQL floor: GROUP BY team, period, question", [_seconds(b.floor_seconds) for b in backends])
    add(
        "pandas group-by, rows in memory (context)",
        [_seconds(b.pandas_seconds) for b in backends],
    )
    add("full recompute: aggregates", [_seconds(b.aggregates_seconds) for b in backends])
    add("full recompute: team-periods", [_seconds(b.periods_seconds) for b in backends])
    recompute_label = f"full recompute ≤ {RECOMPUTE_GOAL:.0f}× SQL floor"
    add(
        f"full recompute: total (goal ≤ {RECOMPUTE_GOAL:.0f}× floor)",
        [
            _cell(
                found[id(b)][recompute_label],
                f"{_seconds(b.recompute_seconds)} ({_times(recompute_ratio(b))})"
                if math.isfinite(b.recompute_seconds)
                else _unfinished(b.recompute, cap),
            )
            for b in backends
        ],
    )
    add(
        "peak RSS, full recompute (goal < 2 GB)",
        [_cell(found[id(b)]["peak memory < 2 GB"], _mb(b.recompute_peak_mb)) for b in backends],
    )
    period_label = f"one-period refresh < {PERIOD_SECONDS_GOAL:.0f} s"
    add(
        f"one-period refresh, every team (goal < {PERIOD_SECONDS_GOAL:.0f} s)",
        [
            _cell(
                found[id(b)][period_label],
                _seconds(b.period_document["seconds"])
                if b.period_document
                else _unfinished(b.period, cap),
            )
            for b in backends
        ],
    )
    routes = list(dict.fromkeys(r.route for b in backends for r in b.routes))
    if not routes:
        add(
            f"API p95 (goal < {API_P95_GOAL_MS:.0f} ms)",
            [_unfinished(b.api, cap) for b in backends],
        )
    for route in routes:
        label = f"API p95 < {API_P95_GOAL_MS:.0f} ms: {_route_label(route)}"
        cells = []
        for b in backends:
            stats = next((r for r in b.routes if r.route == route), None)
            cells.append(_cell(found[id(b)].get(label), f"{stats.p95_ms:.1f} ms") if stats else "—")
        goal = "context" if route in CONTEXT_ROUTES else f"goal < {API_P95_GOAL_MS:.0f} ms"
        add(f"API p95 `{route}` ({goal})", cells)
    header = "| Step | " + " | ".join(b.backend.label for b in backends) + " |"
    rule = "|---|" + "---:|" * len(backends)
    return [header, rule, *(f"| {label} | " + " | ".join(cells) + " |" for label, cells in table)]


def reproduce(options: ScaleOptions) -> str:
    """The command line that measures this again (size options only where not the default)."""
    defaults = {"teams": 500, "weeks": 104, "respondents": 10}
    extra = "".join(
        f" --scale-{name} {getattr(options, name)}"
        for name, default in defaults.items()
        if getattr(options, name) != default
    )
    return f'`make bench BENCH_ARGS="--only analytics-scale{extra}"`'


def markdown(result: ScaleResult) -> str:
    env, o = environment(), result.options
    answers = max((b.counts.get("answers", 0) for b in result.backends), default=0)
    lines = [
        f"Analytics at scale — {o.teams} teams × {o.weeks} weeks × 20 questions, about "
        f"{o.respondents} respondents per run ({answers:,} answers, loaded in bulk), each step "
        f"a fresh process; API latencies in-process through the Django test client, "
        f"{o.requests} requests per route; {env['cpus']} CPUs, Python {env['python']}, "
        f"{env['date'][:10]}. {reproduce(o)} reproduces it.",
        "",
        *(_markdown_rows(result) if result.backends else []),
    ]
    if result.skipped:
        lines += [
            "",
            "Skipped: "
            + "; ".join(f"{name}: {reason}" for name, reason in result.skipped.items())
            + ".",
        ]
    return "\n".join(lines)


def _child_document(child: ChildRun | None, cap: float) -> dict[str, Any] | None:
    if child is None:
        return None
    parts = {step: found[-1] if len(found) == 1 else found for step, found in child.parts.items()}
    parts.pop("start", None)
    status = "ok" if child.ok else _unfinished(child, cap)
    return {"status": status, "process_seconds": child.seconds, **parts}


def _backend_document(b: ScaleBackendResult, cap: float) -> dict[str, Any]:
    return {
        "backend": {"name": b.backend.name, "label": b.backend.label},
        "seconds": round(b.seconds, 1),
        "generated": _child_document(b.generated, cap),
        "floor": _child_document(b.floor, cap),
        "pandas": _child_document(b.pandas, cap),
        "recompute": _child_document(b.recompute, cap),
        "period": _child_document(b.period, cap),
        "api": {
            "status": "ok" if b.api and b.api.ok else _unfinished(b.api, cap),
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
        "goals": [asdict(goal) for goal in goals(b, cap)],
        "problems": b.problems,
    }


def document(result: ScaleResult) -> dict[str, Any]:
    cap = result.options.time_cap
    return {
        "options": asdict(result.options),
        "seconds": round(result.seconds, 1),
        "skipped": result.skipped,
        "backends": [_backend_document(b, cap) for b in result.backends],
        "ok": result.ok,
    }
