"""What the three benchmarks share: steps in child processes, clocks, memory, fresh
databases, progress, interleaved rounds and same-run ratios.

Every figure a benchmark reports is set against a baseline measured in the same run
(`ratio`, `rate`): these machines are noisy, and a ratio of two things measured side by
side holds much better than either number. For the same reason the steps of a round run
in turn, round after round (`interleaved`), so that a change in the machine's speed falls
on the measured step and its baselines alike.

A step that needs Django or memory of its own runs as `python -m bench.<child> ...` in a
fresh process (`child_run`) with DJANGO_SETTINGS_MODULE=bench.settings and DATABASE_URL
pointing at a fresh database (`fresh_database`). The child prints one JSON line per
finished part (`emit`), so what finished before a time cap killed it is still reported,
and its progress on stderr; its peak memory is its own (`peak_mb`).
"""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from bench.databases import Backend, BackendUnavailable, fresh_backend

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"

SETTINGS_MODULE = "bench.settings"
# Not inherited by the child processes: the cache and broker stay local to the temp dir.
DROPPED_VARIABLES = ("REDIS_URL", "DJANGO_DEBUG")
SETUP_TIMEOUT_SECONDS = 300.0  # migrate, seed, audit
STDERR_TAIL_LINES = 15

T = TypeVar("T")


# --- progress, clocks, figures -----------------------------------------------------------


def say(message: str) -> None:
    """Progress, on stderr (stdout carries the report, or a child's JSON lines)."""
    print(message, file=sys.stderr, flush=True)


def timed(step: Callable[[], T]) -> tuple[float, T]:
    """How many seconds `step` took, and what it returned."""
    began = time.perf_counter()
    value = step()
    return time.perf_counter() - began, value


def ratio(value: float, baseline: float) -> float:
    """`value` as a multiple of `baseline`, measured in the same run (nan without one)."""
    return value / baseline if baseline else math.nan


def rate(count: float, seconds: float) -> float:
    """Throughput: `count` per second (nan when nothing was timed)."""
    return count / seconds if seconds else math.nan


def median(values: Iterable[float]) -> float:
    """The median, nan when there is none."""
    found = list(values)
    return statistics.median(found) if found else math.nan


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (nan when empty)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def round_sizes(total: int, rounds: int) -> list[int]:
    """`total` split into `rounds` near-equal parts, the larger ones first."""
    return [total // rounds + (1 if i < total % rounds else 0) for i in range(rounds)]


def interleaved(
    rounds: int,
    steps: Mapping[str, Callable[[int], T]],
    *,
    announce: Callable[[int], str] | None = None,
) -> dict[str, list[T]]:
    """Every step once per round (numbered from 1), in turn, round after round: what each
    step returned, by step. `announce` says what a round is about before it starts."""
    results: dict[str, list[T]] = {name: [] for name in steps}
    for number in range(1, rounds + 1):
        say(f"  round {number}/{rounds}" + (f": {announce(number)}" if announce else ""))
        for name, step in steps.items():
            results[name].append(step(number))
    return results


def load_average() -> float:
    """The 1-minute load average (other work on the machine makes the times noisy)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return math.nan


# --- memory ------------------------------------------------------------------------------


def _status_kb(key: str, pid: str = "self") -> int:
    """A field of /proc/PID/status in kB (0 where /proc is missing)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def rss_mb() -> float:
    """This process's resident memory now."""
    return _status_kb("VmRSS") / 1024


def peak_mb() -> float:
    """The high-water mark of this process's resident memory (VmHWM)."""
    kb = _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


def children_peak_mb() -> float:
    """The largest VmHWM among this process's live children (0 where /proc cannot tell)."""
    try:
        pids = {
            pid
            for task in Path("/proc/self/task").iterdir()
            for pid in (task / "children").read_text().split()
        }
    except OSError:
        return 0.0
    return max((_status_kb("VmHWM", pid) for pid in pids), default=0) / 1024


# --- child processes ---------------------------------------------------------------------


class ChildFailed(RuntimeError):
    """A child process exited with an error or ran past its time cap."""


@dataclass
class ChildRun:
    """One child process: its JSON lines by step, and how it ended."""

    name: str
    time_cap: float
    parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seconds: float = 0.0
    exceeded: bool = False
    error: str = ""  # the exit status and the last line of stderr, when it failed
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.exceeded and not self.error

    def part(self, step: str) -> dict[str, Any] | None:
        """The last JSON line the child emitted for `step`."""
        found = self.parts.get(step)
        return found[-1] if found else None

    def why_not(self) -> str:
        if self.exceeded:
            return f"exceeded {self.time_cap:g} s"
        return self.error or "no result"

    def checked(self) -> ChildRun:
        """Itself, or ChildFailed with the end of its stderr."""
        if self.ok:
            return self
        tail = "\n".join(self.stderr_tail)
        raise ChildFailed(f"{self.name}: {self.why_not()}" + (f"\n{tail}" if tail else ""))


def emit(step: str, **fields: Any) -> None:
    """In a child: one finished part as a JSON line on stdout."""
    print(json.dumps({"step": step, **fields}, default=str), flush=True)


def _drain(stream: IO[str], keep: list[str] | deque[str], echo: bool) -> None:
    for line in stream:
        keep.append(line.rstrip("\n"))
        if echo:
            say(line.rstrip("\n"))


def _parts(lines: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The JSON lines a child emitted, by step; any other output is passed over."""
    parts: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict) and "step" in document:
            parts.setdefault(str(document.pop("step")), []).append(document)
    return parts


def child_run(
    env: Mapping[str, str],
    args: Sequence[str],
    *,
    time_cap: float,
    name: str = "",
    echo: bool = False,
) -> ChildRun:
    """`python ARGS` in the project with `env`; a time cap kills it. Its stderr is echoed as
    progress when `echo`, and its last lines kept for the error."""
    run = ChildRun(name or f"python {' '.join(args)}", time_cap)
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=dict(env),
        stdin=subprocess.DEVNULL,
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
        threading.Thread(target=_drain, args=(process.stderr, tail, echo), daemon=True),
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
    run.parts = _parts(lines)
    run.stderr_tail = list(tail)
    if code != 0 and not run.exceeded:
        last = next((line for line in reversed(tail) if line.strip()), "no message")
        run.error = f"exit status {code}: {last.strip()}"
    return run


def python(env: Mapping[str, str], *args: str) -> ChildRun:
    """A setup step (`manage.py migrate`, a seed, an audit) that must succeed."""
    return child_run(env, args, time_cap=SETUP_TIMEOUT_SECONDS).checked()


# --- fresh databases ---------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """A fresh database and the environment its child processes run with."""

    backend: Backend
    data_dir: Path
    env: dict[str, str]


def child_env(backend: Backend, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        CANDOR_DATA_DIR=str(data_dir),
        DATABASE_URL=backend.database_url,
        PYTHONUNBUFFERED="1",
    )
    return env


def fresh_database(name: str, data_dir: Path) -> Database:
    """A new database of the backend `name`, migrated (not timed); its files in `data_dir`.

    BackendUnavailable when the backend cannot be used, ChildFailed when migrate fails."""
    data_dir.mkdir(parents=True, exist_ok=True)
    backend = fresh_backend(name, data_dir)
    env = child_env(backend, data_dir)
    python(env, "manage.py", "migrate", "--noinput")
    return Database(backend, data_dir, env)


def attempt(measure: Callable[..., T], *args: Any) -> T | str:
    """`measure(*args)`, or why it could not be measured: the reason a database is not
    available, or `failed: …` (a child process, gunicorn or a JSON document that failed)."""
    try:
        return measure(*args)
    except BackendUnavailable as reason:
        return str(reason)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
        return f"failed: {error}"
