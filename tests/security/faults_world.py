"""What the fault tests share: real Celery workers and a Redis server as processes the tests
kill, a mailbox those processes write to, and the tally of faults injected.

The processes use the test database (a file on SQLite, the test database on PostgreSQL),
so the tests that start them are transactional. Import the fixtures from a test module:
`from tests.security.faults_world import *`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
import requests
from celery import Celery
from django.db import connection

from config.celery import app

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CELERY = Path(sys.executable).with_name("celery")

TASK_LINE = re.compile(
    r"Task [\w.]+\[(?P<id>[0-9a-f-]+)\] (?P<event>received|succeeded|raised|retry|failed)"
)

# Seconds before Redis gives a dead worker's message to another (production: an hour).
VISIBILITY_TIMEOUT = 10

# Faults injected and their outcomes, by kind, over the whole session, and the worst
# figures measured under them (seconds).
TALLY: Counter[str] = Counter()
WORST: dict[str, float] = {}


REPORTED: list[bool] = []


def worst(name: str, value: float) -> None:
    WORST[name] = max(value, WORST.get(name, value))


def wait_for(condition: Callable[[], bool], seconds: float = 60, what: str = "it") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def test_database_url() -> str:
    """The URL of the database this test uses, for the processes it starts."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    credentials = f"{quote(settings['USER'])}:{quote(settings['PASSWORD'])}"
    host = f"{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{settings['NAME']}"


test_database_url.__test__ = False  # not a test


@dataclass
class Mailbox:
    """What the killed processes emailed: one JSON file a message."""

    path: Path

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.path.glob("*.json"))]

    def recipients(self) -> Counter[str]:
        return Counter(message["to"][0] for message in self.messages())

    def attempts(self) -> Counter[str]:
        log = self.path / "attempts.log"
        return Counter(log.read_text().split()) if log.exists() else Counter()

    def held(self) -> bool:
        return (self.path / "held").exists()


@dataclass
class Process:
    """A child process, in a process group of its own, with its log; `kill` is SIGKILL to
    the whole group (gunicorn's and Celery's children too), no goodbye. An orphaned
    gunicorn worker would otherwise outlive the test session holding the SQLite test
    database's shared memory, and the next session's database would fail with "disk I/O
    error"."""

    popen: subprocess.Popen[bytes]
    log: Path
    name: str

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        if self.popen.poll() is None:
            self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Processes:
    """Starts processes against the test database and kills what is left at teardown."""

    tmp: Path
    mailbox: Mailbox
    started: list[Process] = field(default_factory=list)

    def environment(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.security.faults_settings",
            "DATABASE_URL": test_database_url(),
            "CANDOR_FAULTS_MAIL_DIR": str(self.mailbox.path),
            # After ROOT, what was set: under `make test-dates`, the time.sleep fix for
            # libfaketime (scripts/faketime/sitecustomize.py) must reach the children too.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
            "CANDOR_FAULTS_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        }
        env.pop("CANDOR_FAULTS_MAIL_HOLD", None)
        return {**env, **extra}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Process:
        log = self.tmp / f"{name}-{len(self.started)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(popen=popen, log=log, name=name)
        self.started.append(process)
        return process

    def worker(self, *, pool: str = "solo", **extra: str) -> Process:
        """`celery -A config worker`, ready to take tasks."""
        name = f"faults-{uuid.uuid4().hex[:8]}@%h"
        argv = [str(CELERY), "-A", "config", "worker", f"--pool={pool}", "-n", name]
        argv += ["--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
        process = self.start("worker", argv, self.environment(**extra))
        wait_for(
            lambda: " ready." in process.output() or process.popen.poll() is not None,
            seconds=90,
            what="the worker to start",
        )
        assert process.popen.poll() is None, process.output()
        return process

    def web(self, **extra: str) -> str:
        """gunicorn serving the app on a free port; returns its base URL once it answers."""
        port = free_port()
        argv = [str(CELERY.with_name("gunicorn")), "config.wsgi:application"]
        argv += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60"]
        process = self.start("web", argv, self.environment(**extra))
        base = f"http://127.0.0.1:{port}"

        def answering() -> bool:
            assert process.popen.poll() is None, process.output()
            try:
                return requests.get(f"{base}/healthz", timeout=5).ok
            except requests.RequestException:
                return False

        wait_for(answering, seconds=60, what="the web server")
        return base

    def cleanup(self) -> None:
        for process in self.started:
            process.kill()


def broker_backlog(broker: Celery = app) -> int:
    """Messages waiting in the queue, plus, on Redis, those a worker holds unacknowledged
    (a killed worker's come back after the visibility timeout)."""
    with broker.pool.acquire(block=True) as conn:
        channel = conn.default_channel
        waiting = int(channel._size("celery"))
        if conn.transport.driver_type != "redis":
            return waiting
        return waiting + int(channel.client.hlen("unacked"))


def broker_forget() -> None:
    """Drop what earlier tests left: queued messages, and on Redis a killed worker's."""
    app.control.purge()
    with app.pool.acquire(block=True) as conn:
        if conn.transport.driver_type == "redis":
            conn.default_channel.client.delete("unacked", "unacked_index")


def worker_idle(process: Process) -> bool:
    """Every task message the worker received has ended (succeeded, failed or was retried;
    a retry is a new message with the same id)."""
    received: Counter[str] = Counter()
    ended: Counter[str] = Counter()
    for line in process.output().splitlines():
        found = TASK_LINE.search(line)
        if found:
            (received if found["event"] == "received" else ended)[found["id"]] += 1
    return all(ended[task_id] >= count for task_id, count in received.items())


def settle(process: Process, seconds: float = 60, broker: Celery = app) -> None:
    """Wait until the broker has nothing for the worker and the worker nothing running."""
    wait_for(
        lambda: broker_backlog(broker) == 0 and worker_idle(process),
        seconds=seconds,
        what="the worker to run out of work",
    )


@pytest.fixture
def mailbox(tmp_path: Path) -> Mailbox:
    path = tmp_path / "mail"
    path.mkdir()
    return Mailbox(path)


@pytest.fixture
def processes(tmp_path: Path, mailbox: Mailbox) -> Iterator[Processes]:
    broker_forget()
    started = Processes(tmp=tmp_path, mailbox=mailbox)
    yield started
    started.cleanup()
    broker_forget()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_server_path() -> str:
    """redis-server, or a loud skip (a failure with CI=true, where .ci/run installs it)."""
    found = shutil.which("redis-server")
    if found:
        return found
    message = "redis-server not found: the Redis fault tests are NOT RUN"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true requires them)")
    pytest.skip(message)


@dataclass
class RedisServer:
    """A redis-server of our own, on a free port, that a test may kill, restart (empty),
    freeze (SIGSTOP: connections open, nothing answers) and thaw."""

    binary: str
    tmp: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.tmp)]
        # On the real clock, like any server: redis-server does not start under libfaketime
        # (`make test-dates` shifts this process's clock with LD_PRELOAD).
        env = {name: value for name, value in os.environ.items() if name != "LD_PRELOAD"}
        self.process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        wait_for(self.answers, seconds=30, what="redis-server")

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: connections are refused, and what the server held is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=30)

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(binary=redis_server_path(), tmp=tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="session", autouse=True)
def faults_tally(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """At the end of the session, print and record what the fault tests injected."""
    yield TALLY
    if not TALLY or REPORTED:  # each module importing this has its own copy of the fixture
        return
    REPORTED.append(True)
    ARTIFACTS.mkdir(exist_ok=True)
    record = {"faults": dict(sorted(TALLY.items())), "worst_seconds": dict(sorted(WORST.items()))}
    (ARTIFACTS / "security-faults.json").write_text(json.dumps(record, indent=2))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            for name, count in sorted(TALLY.items()):
                reporter.write_line(f"security tally: {name}: {count}")
            for name, seconds in sorted(WORST.items()):
                reporter.write_line(f"worst: {name}: {seconds:.3f} s")
