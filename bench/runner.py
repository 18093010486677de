"""One backend's benchmark: fresh database, migrate, seed, serve, load, audit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from bench.databases import Backend
from bench.load import NO_RESPONSE, Batch, Call, run_batch
from bench.paths import PROJECT_DIR
from bench.server import Address, gunicorn
from bench.stats import ScenarioStats, summarise

SETTINGS_MODULE = "bench.settings"
# Not inherited by the child processes: the cache and broker stay local to the temp dir.
DROPPED_VARIABLES = ("REDIS_URL", "DJANGO_DEBUG")
WARMUP_TIME_CAP_SECONDS = 20.0
SETUP_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Options:
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


@dataclass(frozen=True)
class Integrity:
    """What the server acknowledged against what the database holds after the run."""

    submitted: int  # 201s from the submission endpoint, warm-up included
    inserted: int  # 201s from the insert baseline, warm-up included
    server_errors: int  # 5xx in any scenario, warm-up included
    no_response: int  # connections that failed or timed out, any scenario
    responses: int
    invitations_used: int
    answers: int
    questions: int
    bench_rows: int

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
            and self.bench_rows == self.inserted
        )


@dataclass(frozen=True)
class BackendResult:
    backend: Backend
    options: Options
    scenarios: dict[str, ScenarioStats]
    integrity: Integrity
    seconds: float


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env(backend: Backend, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        CANDOR_DATA_DIR=str(data_dir),
        DATABASE_URL=backend.database_url,
        PYTHONUNBUFFERED="1",
    )
    return env


def _python(env: dict[str, str], *args: str) -> str:
    """Run `python *args` in the project with the bench env; its stdout, or an error."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_SECONDS,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise RuntimeError(f"python {' '.join(args)} failed ({done.returncode}):\n{tail}")
    return done.stdout


@dataclass(frozen=True)
class Fixture:
    run_id: int
    tokens: list[str]
    answers: dict[str, Any]


def prepare(env: dict[str, str], invitations: int) -> Fixture:
    _python(env, "manage.py", "migrate", "--noinput")
    document = json.loads(
        _python(env, "-m", "bench.fixtures", "seed", f"--invitations={invitations}")
    )
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


def round_sizes(requests: int, rounds: int) -> list[int]:
    return [requests // rounds + (1 if i < requests % rounds else 0) for i in range(rounds)]


@dataclass
class _Load:
    address: Address
    options: Options
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
        batches: dict[str, list[Batch]] = {scenario.name: [] for scenario in SCENARIOS}
        cap = self.options.time_cap / self.options.rounds
        for number, size in enumerate(round_sizes(self.options.requests, self.options.rounds)):
            say(f"  round {number + 1}/{self.options.rounds}: {size} requests per scenario")
            for scenario in SCENARIOS:
                batches[scenario.name].append(self.batch(scenario, size, cap))
        return {s.name: summarise(s.name, s.expected_status, batches[s.name]) for s in SCENARIOS}

    def count(self, predicate: Callable[[int], bool]) -> int:
        """Responses in any scenario, warm-up included, whose status matches."""
        return sum(
            n for tally in self.tallies.values() for status, n in tally.items() if predicate(status)
        )


def _integrity(load: _Load, audit: dict[str, int]) -> Integrity:
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
    )


def run_backend(backend: Backend, options: Options, data_dir: Path, log: Path) -> BackendResult:
    """Benchmark one database; gunicorn's error log (5xx tracebacks) goes to `log`."""
    started = time.monotonic()
    env = child_env(backend, data_dir)
    say(f"[{backend.name}] migrating and seeding {options.warmup + options.requests} invitations")
    fixture = prepare(env, options.warmup + options.requests)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    say(f"[{backend.name}] gunicorn, {options.workers} sync workers; log {log}")
    with gunicorn(env=env, workers=options.workers, log=log) as address:
        load = _Load(address, options, _Calls(fixture))
        scenarios = load.measure()
    audit = json.loads(_python(env, "-m", "bench.fixtures", "audit", f"--run-id={fixture.run_id}"))
    return BackendResult(
        backend, options, scenarios, _integrity(load, audit), time.monotonic() - started
    )
