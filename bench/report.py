"""The printed tables, the goal checks, the README snippet and results/latest.json."""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.runner import INSERT, PING, SCENARIOS, SUBMIT, BackendResult, Options
from bench.stats import ScenarioStats

THROUGHPUT_GOAL = 0.5  # submission throughput as a fraction of the one-row insert's
P99_GOAL_MS = 100.0
GOAL_CONNECTIONS = 16


@dataclass(frozen=True)
class Goal:
    label: str
    passed: bool
    detail: str


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def throughput_ratio(result: BackendResult, baseline: str) -> float:
    return _ratio(result.scenarios[SUBMIT.name].rps, result.scenarios[baseline].rps)


def p99_ratio(result: BackendResult, baseline: str) -> float:
    return _ratio(result.scenarios[SUBMIT.name].p99_ms, result.scenarios[baseline].p99_ms)


def goals(result: BackendResult) -> list[Goal]:
    integrity, submit = result.integrity, result.scenarios[SUBMIT.name]
    ratio = throughput_ratio(result, INSERT.name)
    at = f"{submit.p99_ms:.1f} ms @ {result.options.connections} connections"
    if result.options.connections != GOAL_CONNECTIONS:
        at += f" (goal is stated @ {GOAL_CONNECTIONS})"
    return [
        Goal(
            f"submission ≥ {THROUGHPUT_GOAL}× insert-view req/s",
            ratio >= THROUGHPUT_GOAL,
            f"{ratio:.2f}×",
        ),
        Goal(f"submission p99 ≤ {P99_GOAL_MS:.0f} ms", submit.p99_ms <= P99_GOAL_MS, at),
        Goal("0 lost", integrity.lost == 0, f"{integrity.lost} lost"),
        Goal("0 duplicated", integrity.duplicated == 0, f"{integrity.duplicated} duplicated"),
        Goal("0 5xx", integrity.server_errors == 0, f"{integrity.server_errors} 5xx"),
    ]


def _other_statuses(stats: ScenarioStats) -> str:
    others = {s: n for s, n in stats.statuses.items() if s != stats.expected_status}
    text = ", ".join(f"{n}×{s or 'no response'}" for s, n in others.items()) or "-"
    return text + (" (time cap hit)" if stats.capped else "")


def _ratios(result: BackendResult, baseline: str) -> str:
    return (
        f"{throughput_ratio(result, baseline):.2f}× req/s, {p99_ratio(result, baseline):.2f}× p99"
    )


def _scenario_rows(result: BackendResult) -> list[str]:
    rows = [f"  {'scenario':<22} {'ok/sent':>11} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  other"]
    for scenario in SCENARIOS:
        s = result.scenarios[scenario.name]
        rows.append(
            f"  {scenario.label:<22} {f'{s.ok}/{s.sent}':>11} {s.rps:>8.1f} "
            f"{s.p50_ms:>8.1f} {s.p99_ms:>8.1f}  {_other_statuses(s)}"
        )
    return rows


def _integrity_rows(result: BackendResult) -> list[str]:
    i = result.integrity
    return [
        f"    submission 201s {i.submitted} · responses stored {i.responses} · invitations used "
        f"{i.invitations_used} · answers {i.answers} ({i.questions} per response, "
        f"{i.partial} off)",
        f"    insert 201s {i.inserted} · bench rows {i.bench_rows} · 5xx {i.server_errors} · "
        f"no response {i.no_response} · lost {i.lost} · duplicated {i.duplicated} · "
        f"unacknowledged {i.unacknowledged} "
        f"(warm-up included) → {'OK' if i.ok else 'INCONSISTENT'}",
    ]


def backend_text(result: BackendResult) -> str:
    o = result.options
    lines = [
        f"== {result.backend.label} ==  {o.requests} requests per scenario in {o.rounds} "
        f"interleaved rounds after {o.warmup} warm-up, {o.connections} connections, "
        f"gunicorn {o.workers} sync workers ({result.seconds:.0f} s)",
        *_scenario_rows(result),
        f"  ratios: submission ÷ insert {_ratios(result, INSERT.name)}; "
        f"submission ÷ ping {_ratios(result, PING.name)}",
        "  integrity:",
        *_integrity_rows(result),
        "  goals:",
        *(f"    {'PASS' if g.passed else 'MISS'}  {g.label:<38} {g.detail}" for g in goals(result)),
    ]
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    return {
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.platform(terse=True),
        "python": platform.python_version(),
    }


def markdown(results: list[BackendResult], options: Options) -> str:
    env = environment()
    lines = [
        f"Response submission vs. baselines — gunicorn {options.workers} sync workers on "
        f"127.0.0.1, {options.connections} concurrent connections, {options.requests} requests "
        f"per scenario (each submission a distinct invitation), {env['cpus']} CPUs, "
        f"Python {env['python']}, {env['date'][:10]}. `make bench` reproduces it.",
        "",
        "| Database | Scenario | req/s | p50 ms | p99 ms |",
        "|---|---|---:|---:|---:|",
    ]
    for result in results:
        for scenario in SCENARIOS:
            s = result.scenarios[scenario.name]
            lines.append(
                f"| {result.backend.label} | {scenario.label} | {s.rps:.0f} | "
                f"{s.p50_ms:.1f} | {s.p99_ms:.1f} |"
            )
    lines += [
        "",
        "| Database | submission ÷ insert | submission ÷ ping | lost | duplicated | 5xx |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        i = result.integrity
        lines.append(
            f"| {result.backend.label} | {throughput_ratio(result, INSERT.name):.2f}× | "
            f"{throughput_ratio(result, PING.name):.2f}× | {i.lost} | {i.duplicated} | "
            f"{i.server_errors} |"
        )
    return "\n".join(lines)


def _backend_document(result: BackendResult) -> dict[str, Any]:
    return {
        "backend": {"name": result.backend.name, "label": result.backend.label},
        "seconds": round(result.seconds, 1),
        "scenarios": {name: asdict(stats) for name, stats in result.scenarios.items()},
        "ratios": {
            "submit_over_insert_rps": throughput_ratio(result, INSERT.name),
            "submit_over_ping_rps": throughput_ratio(result, PING.name),
            "submit_over_insert_p99": p99_ratio(result, INSERT.name),
        },
        "integrity": asdict(result.integrity)
        | {
            "lost": result.integrity.lost,
            "duplicated": result.integrity.duplicated,
            "unacknowledged": result.integrity.unacknowledged,
            "partial": result.integrity.partial,
            "ok": result.integrity.ok,
        },
        "goals": [asdict(goal) for goal in goals(result)],
    }


def submission_document(
    results: list[BackendResult], options: Options, skipped: dict[str, str]
) -> dict[str, Any]:
    return {
        "options": asdict(options),
        "skipped": skipped,
        "backends": [_backend_document(result) for result in results],
    }


def write_json(path: Path, parts: dict[str, Any]) -> None:
    """results/latest.json: the environment and whatever this run measured."""
    document = {"environment": environment(), **parts}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
