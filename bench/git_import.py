"""Git import: a real repository imported end to end, next to the raw `git log` and PyDriller.

Per round, interleaved: the importer's own `git log` drained to nowhere (the floor), the
same stream parsed without a database, and for each database a fresh migrated database in
which `python -m bench.git_import_child` runs the production `repository_import` and
reports its wall time, phases and peak memory. PyDriller, reading the same fields commit
by commit, reads the newest N commits each round and is extrapolated to the whole history.
The tip is resolved once and pinned, so every step reads the same commits.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analytics.delivery.git.parser import GitLogFormatError, parse_stream
from analytics.delivery.git.repository import RepositoryError, git, log_blocks
from bench.databases import Backend, BackendUnavailable, postgres_backend, sqlite_backend
from bench.paths import PROJECT_DIR
from bench.runner import SETUP_TIMEOUT_SECONDS, _python, child_env, say
from bench.server import ServerFailed

RECORD = b"\x1e"  # what LOG_FORMAT puts before every commit


@dataclass(frozen=True)
class GitOptions:
    repo: Path
    rounds: int
    backends: tuple[str, ...]
    pydriller_commits: int
    pydriller_time_cap: float  # seconds
    time_cap: float  # seconds per import process


@dataclass(frozen=True)
class Subject:
    """The repository as the run pinned it."""

    path: str
    tip: str
    commits: int
    log_bytes: int
    bare: bool


@dataclass(frozen=True)
class PyDrillerRun:
    commits: int  # read, newest first
    setup_seconds: float  # until the first commit came out (it lists the whole history first)
    seconds: float  # reading those commits' fields, setup excluded
    capped: bool  # stopped by the time cap before reaching the commit limit


@dataclass(frozen=True)
class PyDrillerResult:
    """PyDriller's runs, one per round, on the same newest commits."""

    runs: tuple[PyDrillerRun, ...]
    total_commits: int

    @property
    def commits(self) -> int:
        return min(run.commits for run in self.runs)

    @property
    def capped(self) -> bool:
        return any(run.capped for run in self.runs)

    @property
    def setup_seconds(self) -> float:
        return statistics.median(run.setup_seconds for run in self.runs)

    @property
    def per_commit_seconds(self) -> float:
        return statistics.median(run.seconds / run.commits for run in self.runs)

    @property
    def seconds(self) -> float:
        """Reading `commits` commits at the median rate, setup excluded."""
        return self.commits * self.per_commit_seconds

    @property
    def extrapolated(self) -> bool:
        return self.commits < self.total_commits

    @property
    def total_seconds(self) -> float:
        """Setup, then every commit at the rate measured (measured when nothing was left out)."""
        return self.setup_seconds + self.total_commits * self.per_commit_seconds

    @property
    def rate(self) -> float:
        return self.total_commits / self.total_seconds if self.total_seconds else float("nan")


@dataclass(frozen=True)
class ImportRound:
    """One import process: the child's own document plus what the parent saw."""

    document: dict[str, Any]
    process_seconds: float

    @property
    def seconds(self) -> float:
        return float(self.document["seconds"])

    @property
    def peak_mb(self) -> float:
        return float(self.document["peak_mb"])


@dataclass
class GitBackendResult:
    backend: Backend
    rounds: list[ImportRound] = field(default_factory=list)

    @property
    def median_round(self) -> ImportRound:
        ordered = sorted(self.rounds, key=lambda r: r.seconds)
        return ordered[(len(ordered) - 1) // 2]

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.rounds)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.rounds)

    @property
    def commits(self) -> int:
        return int(self.median_round.document["commits_stored"])


@dataclass
class GitImportResult:
    options: GitOptions
    subject: Subject
    log_seconds: list[float] = field(default_factory=list)
    parse_seconds: list[float] = field(default_factory=list)
    pydriller: PyDrillerResult | str = "not run"  # or why it was skipped
    backends: list[GitBackendResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start and the end
    git_peak_mb: float = 0.0  # the raw git log process's own peak RSS (0: not measurable)

    @property
    def log_median(self) -> float:
        return statistics.median(self.log_seconds)

    @property
    def parse_median(self) -> float:
        return statistics.median(self.parse_seconds) if self.parse_seconds else math.nan

    @property
    def ok(self) -> bool:
        return bool(self.backends) and not self.problems


def _children_peak_kb() -> int:
    """The largest VmHWM among this process's live children (0 where /proc cannot tell)."""
    peak = 0
    try:
        pids = {
            pid
            for task in Path("/proc/self/task").iterdir()
            for pid in (task / "children").read_text().split()
        }
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    except (OSError, ValueError):
        pass
    return peak


@dataclass(frozen=True)
class Drained:
    commits: int
    size: int
    git_peak_mb: float  # git log's own high-water mark, sampled at every block


def _log_drain(path: str, tip: str) -> Drained:
    """The floor: the importer's `git log`, read in the importer's blocks and dropped."""
    commits = size = peak = 0
    for block in log_blocks(path, tip):
        commits += block.count(RECORD)
        size += len(block)
        peak = max(peak, _children_peak_kb())
    return Drained(commits, size, peak / 1024)


def _timed(step: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    value = step()
    return time.perf_counter() - began, value


def subject_pin(path: Path) -> Subject:
    """Resolve HEAD once; a first, untimed `git log` warms the page cache and counts."""
    tip = git(path, "rev-parse", "--verify", "HEAD^{commit}")
    bare = git(path, "rev-parse", "--is-bare-repository") == "true"
    drained = _log_drain(str(path), tip)
    return Subject(str(path), tip, drained.commits, drained.size, bare)


def pydriller_prepare(subject: Subject, temp: Path) -> str:
    """A path PyDriller can read; not timed.

    PyDriller (GitPython) runs git in the work tree, so a bare repository is cloned first
    (local, hard-linked, no checkout).
    """
    if not subject.bare:
        return subject.path
    path = temp / "pydriller-clone"
    if not path.exists():
        done = subprocess.run(
            ["git", "clone", "--quiet", "--no-checkout", subject.path, str(path)],
            capture_output=True,
            text=True,
            timeout=SETUP_TIMEOUT_SECONDS,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cannot clone the bare repository: {done.stderr.strip()[-200:]}")
    return str(path)


def pydriller_once(path: str, subject: Subject, options: GitOptions) -> PyDrillerRun:
    """PyDriller on the newest commits (the order `git log` gives), reading the same fields."""
    from pydriller import Repository as PyDrillerRepository

    read = 0
    capped = False
    began = time.perf_counter()
    first = began
    commits = PyDrillerRepository(path, to_commit=subject.tip, order="reverse")
    for commit in commits.traverse_commits():
        if read == 0:
            first = time.perf_counter()
        fields = (
            commit.hash,
            commit.parents,
            commit.author.name,
            commit.author.email,
            commit.author_date,
            commit.committer.name,
            commit.committer.email,
            commit.committer_date,
            commit.msg,
            commit.insertions,
            commit.deletions,
            commit.files,
            commit.merge,
        )
        assert fields[0]
        read += 1
        if read >= options.pydriller_commits:
            break
        if time.perf_counter() - began > options.pydriller_time_cap:
            capped = True
            break
    if read == 0:
        raise RuntimeError("read no commits")
    return PyDrillerRun(read, first - began, time.perf_counter() - first, capped)


def _pydriller_round(result: GitImportResult, temp: Path, runs: list[PyDrillerRun]) -> None:
    """One PyDriller run, or the reason it is skipped from now on in result.pydriller."""
    if isinstance(result.pydriller, str) and result.pydriller != "not run":
        return
    try:
        import pydriller  # noqa: F401
    except ImportError:
        result.pydriller = "not installed: .venv/bin/pip install pydriller"
        return
    try:
        path = pydriller_prepare(result.subject, temp)
        run = pydriller_once(path, result.subject, result.options)
    except Exception as error:  # a third-party tool: report it, don't stop the benchmark
        result.pydriller = f"failed: {type(error).__name__}: {str(error)[:200]}"
        return
    runs.append(run)
    result.pydriller = PyDrillerResult(tuple(runs), result.subject.commits)
    say(f"  PyDriller: {run.commits} commits in {run.seconds:.2f} s")


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return math.nan


def _fresh_backend(name: str, data_dir: Path) -> Backend:
    return sqlite_backend(data_dir) if name == "sqlite" else postgres_backend()


def import_once(backend: Backend, data_dir: Path, subject: Subject, time_cap: float) -> ImportRound:
    """Migrate the fresh database (not timed), then import in a process of its own."""
    env = child_env(backend, data_dir)
    _python(env, "manage.py", "migrate", "--noinput")
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.git_import_child", subject.path, "--ref", subject.tip],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=time_cap,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise RuntimeError(f"the import process failed ({done.returncode}):\n{tail}")
    return ImportRound(json.loads(done.stdout), seconds)


def _check(result: GitImportResult, name: str, number: int, round_: ImportRound) -> None:
    document, expected = round_.document, result.subject.commits
    if document["commits_stored"] != expected or document["commits_read"] != expected:
        result.problems.append(
            f"{name} round {number}: read {document['commits_read']}, stored "
            f"{document['commits_stored']} commits; git log has {expected}"
        )


def _import_round(
    result: GitImportResult, temp: Path, number: int, by_name: dict[str, GitBackendResult]
) -> None:
    for name in result.options.backends:
        if name in result.skipped:
            continue
        data_dir = temp / f"git-{name}-{number}"
        data_dir.mkdir()
        try:
            backend = _fresh_backend(name, data_dir)
            round_ = import_once(backend, data_dir, result.subject, result.options.time_cap)
        except BackendUnavailable as reason:
            result.skipped[name] = str(reason)
            continue
        except (RuntimeError, ServerFailed, subprocess.TimeoutExpired, ValueError) as error:
            result.skipped[name] = f"failed: {error}"
            by_name.pop(name, None)
            continue
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
        if round_.document["status"] != "succeeded":
            result.skipped[name] = f"the import failed: {round_.document['error']}"
            result.problems.append(f"{backend.label}: the import failed")
            by_name.pop(name, None)
            continue
        _check(result, backend.label, number, round_)
        by_name.setdefault(name, GitBackendResult(backend)).rounds.append(round_)
        say(
            f"  [{name}] import {round_.seconds:.2f} s, peak {round_.peak_mb:.0f} MB "
            f"({round_.document['commits_stored']} commits)"
        )


def run_git_import(options: GitOptions, temp: Path) -> GitImportResult | str:
    """The whole Git import benchmark, or why it could not start."""
    started = time.monotonic()
    try:
        subject = subject_pin(options.repo)
    except (RepositoryError, OSError) as error:
        return f"{options.repo}: {error}"
    if subject.commits == 0:
        return f"{options.repo}: no commits"
    say(
        f"[git-import] {subject.path} at {subject.tip[:12]}: {subject.commits} commits, "
        f"{subject.log_bytes / 1e6:.1f} MB of git log; {options.rounds} rounds"
    )
    result = GitImportResult(options, subject)
    load_before = _load()
    by_name: dict[str, GitBackendResult] = {}
    pydriller_runs: list[PyDrillerRun] = []
    for number in range(1, options.rounds + 1):
        seconds, drained = _timed(lambda: _log_drain(subject.path, subject.tip))
        result.log_seconds.append(seconds)
        result.git_peak_mb = max(result.git_peak_mb, drained.git_peak_mb)
        if drained.commits != subject.commits:
            result.problems.append(f"round {number}: git log gave {drained.commits} commits")
        try:
            seconds, parsed = _timed(
                lambda: sum(1 for _ in parse_stream(log_blocks(subject.path, subject.tip)))
            )
        except (GitLogFormatError, RepositoryError) as error:
            if not any(p.startswith("parse only") for p in result.problems):
                result.problems.append(f"parse only failed: {error}")
            seconds, parsed = math.nan, subject.commits
        else:
            result.parse_seconds.append(seconds)
        if parsed != subject.commits:
            result.problems.append(f"round {number}: parsed {parsed} commits")
        say(
            f"  round {number}/{options.rounds}: git log {result.log_seconds[-1]:.2f} s, "
            + (f"parse only {seconds:.2f} s" if math.isfinite(seconds) else "parse only failed")
        )
        _import_round(result, temp, number, by_name)
        _pydriller_round(result, temp, pydriller_runs)
    result.backends = [by_name[name] for name in options.backends if name in by_name]
    result.seconds = time.monotonic() - started
    result.load = (load_before, _load())
    return result


def run(options: GitOptions) -> GitImportResult | str:
    with tempfile.TemporaryDirectory(prefix="candor-bench-git-") as temp:
        return run_git_import(options, Path(temp))
