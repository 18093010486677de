"""Response submission under load: the real endpoint next to two baselines served alike.

For each backend: a fresh, migrated database seeded by bench.submission_child (a team, an
open run, a token for every invitation), gunicorn with sync workers on 127.0.0.1, then a
bare JSON view, a one-row insert view and the submission endpoint under the same bounded
load — a warm-up, then interleaved rounds — and an audit that nothing acknowledged was
lost or duplicated. The figures are the submission's as a ratio of the baselines'.

gunicorn's sync workers close the connection after every response, so each request opens
its own connection (the same for every scenario). Latency is connect to last body byte.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from bench import report
from bench.databases import BACKEND_NAMES, Backend
from bench.harness import (
    PROJECT_DIR,
    RESULTS_DIR,
    Database,
    attempt,
    fresh_database,
    interleaved,
    percentile,
    python,
    ratio,
    round_sizes,
    say,
)

CHILD_MODULE = "bench.submission_child"
WARMUP_TIME_CAP_SECONDS = 20.0
THROUGHPUT_GOAL = 0.5  # submission throughput as a fraction of the one-row insert's
P99_GOAL_MS = 100.0
GOAL_CONNECTIONS = 16


@dataclass(frozen=True)
class SubmissionOptions:
    requests: int
    connections: int
    backends: tuple[str, ...]
    rounds: int
    warmup: int
    workers: int
    time_cap: float  # seconds per scenario, shared by its rounds


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    expected_status: int


PING = Scenario("ping", "bare JSON view", 200)
INSERT = Scenario("insert", "one-row insert view", 201)
SUBMIT = Scenario("submit", "response submission", 201)
SCENARIOS = (PING, INSERT, SUBMIT)


# --- gunicorn ----------------------------------------------------------------------------

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Address:
    host: str
    port: int


class ServerFailed(RuntimeError):
    """gunicorn exited or never answered /healthz; the message carries its log's tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _gunicorn_command(port: int, workers: int, log: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--workers={workers}",
        "--worker-class=sync",
        f"--bind={HOST}:{port}",
        "--log-level=warning",
        f"--error-logfile={log}",
    ]


def _healthy(address: Address) -> bool:
    connection = http.client.HTTPConnection(address.host, address.port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def log_tail(log: Path, lines: int = 20) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(process: subprocess.Popen[bytes], address: Address, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"gunicorn exited with {process.returncode}:\n{log_tail(log)}")
        if _healthy(address):
            return
        time.sleep(0.2)
    raise ServerFailed(f"gunicorn not ready after {READY_TIMEOUT_SECONDS:.0f} s:\n{log_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def gunicorn(*, env: Mapping[str, str], workers: int, log: Path) -> Iterator[Address]:
    """Serve the app with `workers` sync workers until the block ends."""
    address = Address(HOST, free_port())
    process = subprocess.Popen(
        _gunicorn_command(address.port, workers, log),
        cwd=PROJECT_DIR,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(process, address, log)
        yield address
    finally:
        _stop(process)


# --- the load generator: C threads, a fixed list of requests, a hard time cap ------------

REQUEST_TIMEOUT_SECONDS = 30.0
NO_RESPONSE = 0  # the status recorded when the connection failed or timed out


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None = None


@dataclass(frozen=True)
class Sample:
    status: int
    seconds: float


@dataclass(frozen=True)
class Batch:
    samples: list[Sample]
    wall_seconds: float
    capped: bool  # the time cap stopped it before every call was sent


class _Dispenser:
    """Hands out call indexes until the calls run out or the deadline passes."""

    def __init__(self, total: int) -> None:
        self._next = 0
        self._total = total
        self._deadline = float("inf")
        self._lock = threading.Lock()
        self.capped = False

    def open(self, time_cap: float) -> float:
        """Start the clock; returns the start time."""
        began = time.perf_counter()
        self._deadline = began + time_cap
        return began

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._total:
                return None
            if time.perf_counter() >= self._deadline:
                self.capped = True
                return None
            index, self._next = self._next, self._next + 1
            return index


def _headers(call: Call) -> dict[str, str]:
    headers = {"Connection": "close", "Accept": "application/json"}
    if call.body is not None:
        headers["Content-Type"] = "application/json"
    return headers


def send(address: Address, call: Call) -> Sample:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(
        address.host, address.port, timeout=REQUEST_TIMEOUT_SECONDS
    )
    try:
        connection.request(call.method, call.path, body=call.body, headers=_headers(call))
        response = connection.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        status = NO_RESPONSE
    finally:
        connection.close()
    return Sample(status, time.perf_counter() - started)


def _worker(
    address: Address,
    calls: Sequence[Call],
    dispenser: _Dispenser,
    start: threading.Event,
    out: list[Sample],
) -> None:
    start.wait()
    while (index := dispenser.take()) is not None:
        out.append(send(address, calls[index]))


def run_batch(
    address: Address, calls: Sequence[Call], *, connections: int, time_cap: float
) -> Batch:
    """Send every call over `connections` concurrent clients, stopping at `time_cap` s."""
    start = threading.Event()
    dispenser = _Dispenser(len(calls))
    outputs: list[list[Sample]] = [[] for _ in range(connections)]
    threads = [
        threading.Thread(target=_worker, args=(address, calls, dispenser, start, out), daemon=True)
        for out in outputs
    ]
    for thread in threads:
        thread.start()
    began = dispenser.open(time_cap)
    start.set()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return Batch([s for out in outputs for s in out], wall, dispenser.capped)


# --- figures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioStats:
    """Throughput and latency of one scenario, pooled over its rounds."""

    name: str
    expected_status: int
    sent: int
    ok: int
    wall_seconds: float
    rps: float  # responses with the expected status per second of wall time
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    capped: bool

    @property
    def errors(self) -> int:
        return self.sent - self.ok


def summarise(scenario: Scenario, batches: Sequence[Batch]) -> ScenarioStats:
    samples = [sample for batch in batches for sample in batch.samples]
    latencies = sorted(sample.seconds for sample in samples)
    statuses = Counter(sample.status for sample in samples)
    wall = sum(batch.wall_seconds for batch in batches)
    ok = statuses[scenario.expected_status]
    return ScenarioStats(
        name=scenario.name,
        expected_status=scenario.expected_status,
        sent=len(samples),
        ok=ok,
        wall_seconds=wall,
        rps=ok / wall if wall else 0.0,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        statuses=dict(sorted(statuses.items())),
        capped=any(batch.capped for batch in batches),
    )


@dataclass(frozen=True)
class Integrity:
    """What the server acknowledged against what the database holds after the run."""

    submitted: int  # 201s from the submission endpoint, warm-up included
    inserted: int  # 201s from the insert baseline, warm-up included
    server_errors: int  # 5xx in any scenario, warm-up included
    no_response: int  # connections that failed or timed out, any scenario
    responses: int  # after the audit closed the run
    invitations_used: int
    answers: int
    questions: int
    bench_rows: int
    sealed: int = 0  # sealed submissions while the run was open (all of them, since sealing)
    sealed_after_close: int = 0  # must be 0: the close opened every one
    close_seconds: float = 0.0  # the audit's close of the run: opening, shuffling, writing

    @property
    def lost(self) -> int:
        """Acknowledged submissions, or used invitations, without a stored response."""
        return max(0, self.submitted - self.responses, self.invitations_used - self.responses)

    @property
    def duplicated(self) -> int:
        """Responses beyond one per used invitation."""
        return max(0, self.responses - self.invitations_used)

    @property
    def unacknowledged(self) -> int:
        """Stored responses whose request got no 201 (a client timeout, say)."""
        return max(0, self.responses - self.submitted)

    @property
    def partial(self) -> int:
        """Answers missing from (or extra to) the stored responses."""
        return abs(self.answers - self.responses * self.questions)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.server_errors == 0
            and self.partial == 0
            and self.responses == self.submitted
            and self.sealed == self.submitted
            and self.sealed_after_close == 0
            and self.bench_rows == self.inserted
        )


@dataclass(frozen=True)
class BackendResult:
    backend: Backend
    options: SubmissionOptions
    scenarios: dict[str, ScenarioStats]
    integrity: Integrity
    seconds: float


@dataclass
class SubmissionResult:
    options: SubmissionOptions
    backends: list[BackendResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.backends) and all(b.integrity.ok for b in self.backends)


# --- one backend -------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    run_id: int
    tokens: list[str]
    answers: dict[str, Any]


def _child(database: Database, command: str, *args: str) -> dict[str, Any]:
    """One command of bench.submission_child: its JSON document."""
    document = python(database.env, "-m", CHILD_MODULE, command, *args).part(command)
    if document is None:
        raise RuntimeError(f"{CHILD_MODULE} {command} reported nothing")
    return document


def seed(database: Database, invitations: int) -> Fixture:
    document = _child(database, "seed", f"--invitations={invitations}")
    if len(document["tokens"]) < invitations:
        raise RuntimeError(f"seeded {len(document['tokens'])} tokens, wanted {invitations}")
    return Fixture(document["run_id"], document["tokens"], document["answers"])


class _Calls:
    """The requests of each scenario; every submission gets a token of its own."""

    def __init__(self, fixture: Fixture) -> None:
        self._tokens: Iterator[str] = iter(fixture.tokens)
        self._body = json.dumps({"answers": fixture.answers}).encode()

    def take(self, scenario: Scenario, count: int) -> list[Call]:
        if scenario is PING:
            return [Call("GET", "/bench/ping")] * count
        if scenario is INSERT:
            return [Call("POST", "/bench/insert", self._body)] * count
        return [
            Call("POST", f"/api/invitations/{token}/response/", self._body)
            for token in islice(self._tokens, count)
        ]


@dataclass
class _Load:
    address: Address
    options: SubmissionOptions
    calls: _Calls
    tallies: dict[str, Counter[int]] = field(default_factory=dict)

    def batch(self, scenario: Scenario, count: int, time_cap: float) -> Batch:
        batch = run_batch(
            self.address,
            self.calls.take(scenario, count),
            connections=self.options.connections,
            time_cap=time_cap,
        )
        tally = self.tallies.setdefault(scenario.name, Counter())
        tally.update(sample.status for sample in batch.samples)
        return batch

    def measure(self) -> dict[str, ScenarioStats]:
        """Warm every scenario up, then interleave them round by round."""
        for scenario in SCENARIOS:
            self.batch(scenario, self.options.warmup, WARMUP_TIME_CAP_SECONDS)
        sizes = round_sizes(self.options.requests, self.options.rounds)
        cap = self.options.time_cap / self.options.rounds

        def step(scenario: Scenario) -> Callable[[int], Batch]:
            return lambda number: self.batch(scenario, sizes[number - 1], cap)

        batches = interleaved(
            self.options.rounds,
            {scenario.name: step(scenario) for scenario in SCENARIOS},
            announce=lambda number: f"{sizes[number - 1]} requests per scenario",
        )
        return {s.name: summarise(s, batches[s.name]) for s in SCENARIOS}

    def count(self, predicate: Callable[[int], bool]) -> int:
        """Responses in any scenario, warm-up included, whose status matches."""
        return sum(
            n for tally in self.tallies.values() for status, n in tally.items() if predicate(status)
        )


def _integrity(load: _Load, audit: dict[str, Any]) -> Integrity:
    return Integrity(
        submitted=load.tallies[SUBMIT.name][SUBMIT.expected_status],
        inserted=load.tallies[INSERT.name][INSERT.expected_status],
        server_errors=load.count(lambda status: status >= 500),
        no_response=load.count(lambda status: status == NO_RESPONSE),
        responses=audit["responses"],
        invitations_used=audit["invitations_used"],
        answers=audit["answers"],
        questions=audit["questions"],
        bench_rows=audit["bench_rows"],
        sealed=audit["sealed"],
        sealed_after_close=audit["sealed_after_close"],
        close_seconds=audit["close_seconds"],
    )


def run_backend(name: str, options: SubmissionOptions, data_dir: Path, log: Path) -> BackendResult:
    """Benchmark one database; gunicorn's error log (5xx tracebacks) goes to `log`."""
    started = time.perf_counter()
    say(f"[{name}] migrating and seeding {options.warmup + options.requests} invitations")
    database = fresh_database(name, data_dir)
    fixture = seed(database, options.warmup + options.requests)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    say(f"[{name}] gunicorn, {options.workers} sync workers; log {log}")
    with gunicorn(env=database.env, workers=options.workers, log=log) as address:
        load = _Load(address, options, _Calls(fixture))
        scenarios = load.measure()
    audit = _child(database, "audit", f"--run-id={fixture.run_id}")
    return BackendResult(
        database.backend,
        options,
        scenarios,
        _integrity(load, audit),
        time.perf_counter() - started,
    )


def run(options: SubmissionOptions) -> SubmissionResult:
    """Response submission on each backend, or why a backend was skipped."""
    result = SubmissionResult(options)
    with tempfile.TemporaryDirectory(prefix="candor-bench-") as temp:
        for name in options.backends:
            log = RESULTS_DIR / f"gunicorn-{name}.log"
            outcome = attempt(run_backend, name, options, Path(temp) / name, log)
            if isinstance(outcome, str):
                result.skipped[name] = outcome
                say(f"[{name}] skipped: {outcome}")
            else:
                result.backends.append(outcome)
    return result


# --- the report --------------------------------------------------------------------------


def throughput_ratio(result: BackendResult, baseline: str) -> float:
    return ratio(result.scenarios[SUBMIT.name].rps, result.scenarios[baseline].rps)


def p99_ratio(result: BackendResult, baseline: str) -> float:
    return ratio(result.scenarios[SUBMIT.name].p99_ms, result.scenarios[baseline].p99_ms)


def goals(result: BackendResult) -> list[report.Goal]:
    integrity, submit = result.integrity, result.scenarios[SUBMIT.name]
    throughput = throughput_ratio(result, INSERT.name)
    at = f"{submit.p99_ms:.1f} ms @ {result.options.connections} connections"
    if result.options.connections != GOAL_CONNECTIONS:
        at += f" (goal is stated @ {GOAL_CONNECTIONS})"
    return [
        report.Goal(
            f"submission ≥ {THROUGHPUT_GOAL}× insert-view req/s",
            throughput >= THROUGHPUT_GOAL,
            f"{throughput:.2f}×",
        ),
        report.Goal(f"submission p99 ≤ {P99_GOAL_MS:.0f} ms", submit.p99_ms <= P99_GOAL_MS, at),
        report.Goal("0 lost", integrity.lost == 0, f"{integrity.lost} lost"),
        report.Goal(
            "0 duplicated", integrity.duplicated == 0, f"{integrity.duplicated} duplicated"
        ),
        report.Goal("0 5xx", integrity.server_errors == 0, f"{integrity.server_errors} 5xx"),
    ]


SCENARIO_COLUMNS = (
    report.Column("scenario", 22, "<"),
    report.Column("ok/sent", 11),
    report.Column("req/s", 8),
    report.Column("p50 ms", 8),
    report.Column("p99 ms", 8),
    report.Column("other"),
)


def _other_statuses(stats: ScenarioStats) -> str:
    others = {s: n for s, n in stats.statuses.items() if s != stats.expected_status}
    text = ", ".join(f"{n}×{s or 'no response'}" for s, n in others.items()) or "-"
    return text + (" (time cap hit)" if stats.capped else "")


def _ratios(result: BackendResult, baseline: str) -> str:
    return (
        f"{throughput_ratio(result, baseline):.2f}× req/s, {p99_ratio(result, baseline):.2f}× p99"
    )


def _integrity_lines(i: Integrity) -> list[str]:
    return [
        f"submission 201s {i.submitted} · sealed while open {i.sealed} · closed in "
        f"{i.close_seconds:.2f} s, leaving {i.sealed_after_close} sealed",
        f"responses stored {i.responses} · invitations used "
        f"{i.invitations_used} · answers {i.answers} ({i.questions} per response, "
        f"{i.partial} off)",
        f"insert 201s {i.inserted} · bench rows {i.bench_rows} · 5xx {i.server_errors} · "
        f"no response {i.no_response} · lost {i.lost} · duplicated {i.duplicated} · "
        f"unacknowledged {i.unacknowledged} "
        f"(warm-up included) → {'OK' if i.ok else 'INCONSISTENT'}",
    ]


def _section(result: BackendResult) -> report.Section:
    o = result.options
    rows = []
    for scenario in SCENARIOS:
        s = result.scenarios[scenario.name]
        rows.append(
            (
                scenario.label,
                f"{s.ok}/{s.sent}",
                f"{s.rps:.1f}",
                f"{s.p50_ms:.1f}",
                f"{s.p99_ms:.1f}",
                _other_statuses(s),
            )
        )
    return report.Section(
        f"== {result.backend.label} ==  {o.requests} requests per scenario in {o.rounds} "
        f"interleaved rounds after {o.warmup} warm-up, {o.connections} connections, "
        f"gunicorn {o.workers} sync workers ({result.seconds:.0f} s)",
        [
            report.Table(SCENARIO_COLUMNS, rows),
            f"ratios: submission ÷ insert {_ratios(result, INSERT.name)}; "
            f"submission ÷ ping {_ratios(result, PING.name)}",
            report.Section("integrity:", _integrity_lines(result.integrity)),
            report.Goals(goals(result)),
        ],
    )


def _markdown(results: list[BackendResult], options: SubmissionOptions) -> list[str | report.Table]:
    rows = []
    for r in results:
        for scenario in SCENARIOS:
            s = r.scenarios[scenario.name]
            rows.append(
                (
                    r.backend.label,
                    scenario.label,
                    f"{s.rps:.0f}",
                    f"{s.p50_ms:.1f}",
                    f"{s.p99_ms:.1f}",
                )
            )
    scenarios = report.Table(
        (
            report.Column("Database", align="<"),
            report.Column("Scenario", align="<"),
            report.Column("req/s"),
            report.Column("p50 ms"),
            report.Column("p99 ms"),
        ),
        rows,
    )
    ratios = report.Table(
        (
            report.Column("Database", align="<"),
            *map(
                report.Column,
                ("submission ÷ insert", "submission ÷ ping", "lost", "duplicated", "5xx"),
            ),
        ),
        [
            (
                r.backend.label,
                f"{throughput_ratio(r, INSERT.name):.2f}×",
                f"{throughput_ratio(r, PING.name):.2f}×",
                str(r.integrity.lost),
                str(r.integrity.duplicated),
                str(r.integrity.server_errors),
            )
            for r in results
        ],
    )
    return [
        f"Response submission vs. baselines — gunicorn {options.workers} sync workers on "
        f"127.0.0.1, {options.connections} concurrent connections, {options.requests} requests "
        f"per scenario (each submission a distinct invitation), {report.machine()}. "
        "`make bench` reproduces it.",
        scenarios,
        ratios,
    ]


def _backend_document(result: BackendResult) -> dict[str, Any]:
    i = result.integrity
    return {
        "backend": report.backend_json(result.backend),
        "seconds": round(result.seconds, 1),
        "scenarios": {name: asdict(stats) for name, stats in result.scenarios.items()},
        "ratios": {
            "submit_over_insert_rps": throughput_ratio(result, INSERT.name),
            "submit_over_ping_rps": throughput_ratio(result, PING.name),
            "submit_over_insert_p99": p99_ratio(result, INSERT.name),
        },
        "integrity": asdict(i)
        | {
            "lost": i.lost,
            "duplicated": i.duplicated,
            "unacknowledged": i.unacknowledged,
            "partial": i.partial,
            "ok": i.ok,
        },
        "goals": report.goals_json(goals(result)),
    }


def describe(result: SubmissionResult) -> report.Report:
    by_name = {b.backend.name: b for b in result.backends}
    sections = [
        _section(by_name[name])
        if name in by_name
        else report.Section(f"{BACKEND_NAMES[name]}: skipped ({result.skipped[name]})")
        for name in result.options.backends
    ]
    return report.Report(
        key="submission",
        title="response submission",
        sections=sections,
        markdown=_markdown(result.backends, result.options) if result.backends else (),
        document={
            "options": asdict(result.options),
            "skipped": result.skipped,
            "backends": [_backend_document(b) for b in result.backends],
        },
        ok=result.ok,
    )
