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

import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.databases import Backend, BackendUnavailable, postgres_backend, sqlite_backend
from bench.paths import PROJECT_DIR
from bench.runner import _python, child_env, say
from bench.stats import percentile

CHILD_MODULE = "bench.analytics_scale_child"
STDERR_TAIL_LINES = 15


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


@dataclass
class ChildRun:
    """One child process: its JSON lines by step, and how it ended."""

    command: str
    parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seconds: float = 0.0
    exceeded: bool = False
    error: str = ""  # the exit status and the end of stderr, when it failed

    @property
    def ok(self) -> bool:
        return not self.exceeded and not self.error

    def part(self, step: str) -> dict[str, Any] | None:
        found = self.parts.get(step)
        return found[-1] if found else None

    def why_not(self, time_cap: float) -> str:
        if self.exceeded:
            return f"exceeded {time_cap:g} s"
        return self.error or "no result"


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
    def counts(self) -> dict[str, int]:
        document = self.generated.part("generate")
        return document["counts"] if document else {}

    @property
    def floor_seconds(self) -> float:
        document = self.floor.part("floor") if self.floor else None
        return statistics.median(document["seconds"]) if document else math.nan

    @property
    def pandas_seconds(self) -> float:
        document = self.pandas.part("pandas") if self.pandas else None
        return statistics.median(document["seconds"]) if document else math.nan

    def _recompute_part(self, step: str) -> dict[str, Any] | None:
        return self.recompute.part(step) if self.recompute else None

    @property
    def aggregates_seconds(self) -> float:
        document = self._recompute_part("aggregates")
        return float(document["seconds"]) if document else math.nan

    @property
    def periods_seconds(self) -> float:
        document = self._recompute_part("periods")
        return float(document["seconds"]) if document else math.nan

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
            if (d := self._recompute_part(step))
        ]
        return max(peaks) if peaks else math.nan

    @property
    def period_document(self) -> dict[str, Any] | None:
        return self.period.part("period") if self.period else None

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


# --- child processes ---------------------------------------------------------------------


def _drain(stream: IO[str], keep: list[str] | deque[str], echo: bool) -> None:
    for line in stream:
        keep.append(line.rstrip("\n"))
        if echo:
            say(line.rstrip("\n"))


def child_run(env: dict[str, str], command: str, args: list[str], time_cap: float) -> ChildRun:
    """Run one step; its progress is echoed as it comes, a time cap kills it."""
    run = ChildRun(command)
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", CHILD_MODULE, command, *args],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    lines: list[str] = []
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    readers = [
        threading.Thread(target=_drain, args=(process.stdout, lines, False), daemon=True),
        threading.Thread(target=_drain, args=(process.stderr, tail, True), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        code = process.wait(timeout=time_cap)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
        run.exceeded = True
    for reader in readers:
        reader.join()
    run.seconds = time.perf_counter() - began
    for line in lines:
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        run.parts.setdefault(document.pop("step"), []).append(document)
    if code != 0 and not run.exceeded:
        last = next((line for line in reversed(tail) if line.strip()), "no message")
        run.error = f"exit status {code}: {last.strip()}"
    return run


def _fresh_backend(name: str, data_dir: Path) -> Backend:
    return sqlite_backend(data_dir) if name == "sqlite" else postgres_backend()


def _size_args(options: ScaleOptions) -> list[str]:
    return [
        f"--teams={options.teams}",
        f"--weeks={options.weeks}",
        f"--respondents={options.respondents}",
        f"--seed={options.seed}",
    ]


def _check(result: ScaleBackendResult) -> None:
    """Problems: a step that failed, a recompute that stored the wrong aggregates, non-200s."""
    for child in (result.floor, result.pandas, result.recompute, result.period, result.api):
        if child is not None and child.error:
            result.problems.append(f"{child.command}: {child.error}")
    check = result.recompute.part("check") if result.recompute else None
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
            result.problems.append(f"a stored mean differs from SQL's AVG by {worst:.3g}")
    for route in result.routes:
        if route.errors:
            result.problems.append(f"{route.route}: statuses {route.statuses}")


def run_backend(name: str, options: ScaleOptions, temp: Path) -> ScaleBackendResult | str:
    """Every step on one database, or why the backend was skipped."""
    started = time.monotonic()
    data_dir = temp / f"scale-{name}"
    data_dir.mkdir()
    try:
        backend = _fresh_backend(name, data_dir)
        env = child_env(backend, data_dir)
        say(f"[analytics-scale] [{name}] migrating {backend.label}")
        _python(env, "manage.py", "migrate", "--noinput")
    except BackendUnavailable as reason:
        return str(reason)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        return f"failed: {error}"
    say(
        f"[analytics-scale] [{name}] generating {options.teams} teams × {options.weeks} weeks "
        f"× 20 questions × ~{options.respondents} respondents"
    )
    generated = child_run(env, "generate", _size_args(options), options.time_cap)
    if generated.part("generate") is None:
        return f"generation {generated.why_not(options.time_cap)}"
    result = ScaleBackendResult(backend, generated)
    cap, rounds = options.time_cap, [f"--rounds={options.rounds}"]
    say(f"[analytics-scale] [{name}] SQL floor, {options.rounds} rounds")
    result.floor = child_run(env, "floor", rounds, cap)
    say(f"[analytics-scale] [{name}] pandas group-by (context)")
    result.pandas = child_run(env, "pandas", rounds, cap)
    say(f"[analytics-scale] [{name}] full recompute (cap {cap:.0f} s)")
    result.recompute = child_run(env, "recompute", [], cap)
    say(f"[analytics-scale] [{name}] one-period refresh")
    result.period = child_run(env, "period", [], cap)
    say(f"[analytics-scale] [{name}] dashboard API")
    result.api = child_run(
        env,
        "api",
        [f"--requests={options.requests}", f"--warmup={options.warmup}", f"--seed={options.seed}"],
        cap,
    )
    _check(result)
    result.seconds = time.monotonic() - started
    shutil.rmtree(data_dir, ignore_errors=True)  # a SQLite file of several GB at full size
    return result


def run(options: ScaleOptions) -> ScaleResult:
    started = time.monotonic()
    result = ScaleResult(options)
    with tempfile.TemporaryDirectory(prefix="candor-bench-scale-") as temp:
        for name in options.backends:
            outcome = run_backend(name, options, Path(temp))
            if isinstance(outcome, str):
                result.skipped[name] = outcome
                say(f"[analytics-scale] [{name}] skipped: {outcome}")
                continue
            result.backends.append(outcome)
    result.seconds = time.monotonic() - started
    return result
