"""Git import: a real repository imported end to end, next to the raw `git log` and PyDriller.

Per round, interleaved: the importer's own `git log` drained to nowhere (the floor), the
same stream parsed without a database, and for each database a fresh migrated database in
which `python -m bench.git_import_child` runs the production `repository_import` and
reports its wall time, phases and peak memory. PyDriller, reading the same fields commit
by commit, reads the newest N commits each round and is extrapolated to the whole history.
The tip is resolved once and pinned, so every step reads the same commits.
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from analytics.delivery.git.parser import GitLogFormatError, parse_stream
from analytics.delivery.git.repository import RepositoryError, git, log_blocks
from bench import report
from bench.databases import Backend
from bench.harness import (
    SETUP_TIMEOUT_SECONDS,
    attempt,
    child_run,
    children_peak_mb,
    fresh_database,
    interleaved,
    load_average,
    median,
    rate,
    ratio,
    say,
    timed,
)

CHILD_MODULE = "bench.git_import_child"
RECORD = b"\x1e"  # what LOG_FORMAT puts before every commit
LOG_THROUGHPUT_GOAL = 0.5  # import commits/s as a fraction of the raw git log's
PYDRILLER_GOAL = 15.0  # import commits/s as a multiple of PyDriller's
PEAK_MB_GOAL = 250.0  # the import process, whatever the repository's size
NOISY_BELOW_COMMITS = 1000


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
        return rate(self.total_commits, self.total_seconds)


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
        return median(r.seconds for r in self.rounds)

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
        return median(self.log_seconds)

    @property
    def parse_median(self) -> float:
        return median(self.parse_seconds)

    @property
    def ok(self) -> bool:
        return bool(self.backends) and not self.problems


# --- the floor and the parser ------------------------------------------------------------


@dataclass(frozen=True)
class Drained:
    commits: int
    size: int
    git_peak_mb: float  # git log's own high-water mark, sampled at every block


def _log_drain(path: str, tip: str) -> Drained:
    """The floor: the importer's `git log`, read in the importer's blocks and dropped."""
    commits = size = 0
    peak = 0.0
    for block in log_blocks(path, tip):
        commits += block.count(RECORD)
        size += len(block)
        peak = max(peak, children_peak_mb())
    return Drained(commits, size, peak)


def subject_pin(path: Path) -> Subject:
    """Resolve HEAD once; a first, untimed `git log` warms the page cache and counts."""
    tip = git(path, "rev-parse", "--verify", "HEAD^{commit}")
    bare = git(path, "rev-parse", "--is-bare-repository") == "true"
    drained = _log_drain(str(path), tip)
    return Subject(str(path), tip, drained.commits, drained.size, bare)


def _log_step(result: GitImportResult, number: int) -> float:
    subject = result.subject
    seconds, drained = timed(lambda: _log_drain(subject.path, subject.tip))
    result.git_peak_mb = max(result.git_peak_mb, drained.git_peak_mb)
    if drained.commits != subject.commits:
        result.problems.append(f"round {number}: git log gave {drained.commits} commits")
    say(f"    git log {seconds:.2f} s")
    return seconds


def _parse_step(result: GitImportResult, number: int) -> float:
    """The same stream parsed without a database: its seconds (nan when it failed)."""
    subject = result.subject
    try:
        seconds, parsed = timed(
            lambda: sum(1 for _ in parse_stream(log_blocks(subject.path, subject.tip)))
        )
    except (GitLogFormatError, RepositoryError) as error:
        if not any(p.startswith("parse only") for p in result.problems):
            result.problems.append(f"parse only failed: {error}")
        say("    parse only failed")
        return math.nan
    if parsed != subject.commits:
        result.problems.append(f"round {number}: parsed {parsed} commits")
    say(f"    parse only {seconds:.2f} s")
    return seconds


# --- PyDriller ---------------------------------------------------------------------------


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


def _pydriller_step(result: GitImportResult, temp: Path, runs: list[PyDrillerRun]) -> None:
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
    say(f"    PyDriller: {run.commits} commits in {run.seconds:.2f} s")


# --- the import --------------------------------------------------------------------------


def import_once(
    name: str, data_dir: Path, subject: Subject, time_cap: float
) -> tuple[Backend, ImportRound]:
    """Migrate a fresh database (not timed), then import in a process of its own."""
    database = fresh_database(name, data_dir)
    child = child_run(
        database.env,
        ["-m", CHILD_MODULE, subject.path, "--ref", subject.tip],
        time_cap=time_cap,
        name="the import process",
    ).checked()
    document = child.part("import")
    if document is None:
        raise RuntimeError("the import process reported nothing")
    return database.backend, ImportRound(document, child.seconds)


def _check(result: GitImportResult, name: str, number: int, round_: ImportRound) -> None:
    document, expected = round_.document, result.subject.commits
    if document["commits_stored"] != expected or document["commits_read"] != expected:
        result.problems.append(
            f"{name} round {number}: read {document['commits_read']}, stored "
            f"{document['commits_stored']} commits; git log has {expected}"
        )


def _import_step(
    result: GitImportResult, temp: Path, number: int, by_name: dict[str, GitBackendResult]
) -> None:
    """One import into a fresh database of each backend not skipped yet."""
    for name in result.options.backends:
        if name in result.skipped:
            continue
        data_dir = temp / f"git-{name}-{number}"
        try:
            outcome = attempt(import_once, name, data_dir, result.subject, result.options.time_cap)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
        if isinstance(outcome, str):
            result.skipped[name] = outcome
            by_name.pop(name, None)
            continue
        backend, round_ = outcome
        if round_.document["status"] != "succeeded":
            result.skipped[name] = f"the import failed: {round_.document['error']}"
            result.problems.append(f"{backend.label}: the import failed")
            by_name.pop(name, None)
            continue
        _check(result, backend.label, number, round_)
        by_name.setdefault(name, GitBackendResult(backend)).rounds.append(round_)
        say(
            f"    [{name}] import {round_.seconds:.2f} s, peak {round_.peak_mb:.0f} MB "
            f"({round_.document['commits_stored']} commits)"
        )


def run_git_import(options: GitOptions, temp: Path) -> GitImportResult | str:
    """The whole Git import benchmark, or why it could not start."""
    started = time.perf_counter()
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
    load_before = load_average()
    by_name: dict[str, GitBackendResult] = {}
    pydriller_runs: list[PyDrillerRun] = []
    measured = interleaved(
        options.rounds,
        {
            "git log": lambda number: _log_step(result, number),
            "parse only": lambda number: _parse_step(result, number),
            "import": lambda number: _import_step(result, temp, number, by_name),
            "PyDriller": lambda number: _pydriller_step(result, temp, pydriller_runs),
        },
    )
    result.log_seconds = measured["git log"]
    result.parse_seconds = [s for s in measured["parse only"] if math.isfinite(s)]
    result.backends = [by_name[name] for name in options.backends if name in by_name]
    result.seconds = time.perf_counter() - started
    result.load = (load_before, load_average())
    return result


def run(options: GitOptions) -> GitImportResult | str:
    with tempfile.TemporaryDirectory(prefix="candor-bench-git-") as temp:
        return run_git_import(options, Path(temp))


# --- the report --------------------------------------------------------------------------


def log_ratio(result: GitImportResult, backend: GitBackendResult) -> float:
    """Import throughput ÷ raw git log throughput (the same commits, so a time ratio)."""
    return ratio(result.log_median, backend.seconds)


def pydriller_ratio(result: GitImportResult, backend: GitBackendResult) -> float:
    if not isinstance(result.pydriller, PyDrillerResult):
        return math.nan
    return ratio(rate(result.subject.commits, backend.seconds), result.pydriller.rate)


def goals(result: GitImportResult, backend: GitBackendResult) -> list[report.Goal]:
    log = log_ratio(result, backend)
    found = [
        report.Goal(
            f"import ≥ {LOG_THROUGHPUT_GOAL}× raw git log commits/s",
            log >= LOG_THROUGHPUT_GOAL,
            f"{log:.2f}× ({backend.seconds:.2f} s against {result.log_median:.2f} s)",
        ),
    ]
    if isinstance(result.pydriller, PyDrillerResult):
        times = pydriller_ratio(result, backend)
        extrapolated = " (PyDriller extrapolated)" if result.pydriller.extrapolated else ""
        found.append(
            report.Goal(
                f"import ≥ {PYDRILLER_GOAL:.0f}× PyDriller commits/s",
                times >= PYDRILLER_GOAL,
                f"{times:.1f}×{extrapolated}",
            )
        )
    found.append(
        report.Goal(
            f"peak memory < {PEAK_MB_GOAL:.0f} MB",
            backend.peak_mb < PEAK_MB_GOAL,
            f"{backend.peak_mb:.0f} MB (import process, worst round)",
        )
    )
    return found


def pydriller_text(result: GitImportResult) -> str:
    p = result.pydriller
    if not isinstance(p, PyDrillerResult):
        return f"PyDriller: skipped ({p})"
    runs = ", ".join(f"{run.seconds:.2f}" for run in p.runs)
    how = (
        f"LIMITED to the newest {p.commits} of {p.total_commits} commits"
        + (" (time cap hit)" if p.capped else "")
        + f" and EXTRAPOLATED: {p.setup_seconds:.2f} s setup + {p.total_commits} × "
        f"{p.per_commit_seconds * 1000:.1f} ms = {p.total_seconds:.0f} s"
        if p.extrapolated
        else f"all {p.commits} commits, {p.setup_seconds:.2f} s setup included"
    )
    return (
        f"PyDriller: {p.commits} commits read in {runs} s ({len(p.runs)} runs, median "
        f"{1 / p.per_commit_seconds:.0f} commits/s); {how}"
    )


def _phase(document: dict[str, Any], name: str) -> dict[str, Any]:
    return document["phases"].get(
        name, {"seconds": 0.0, "queries": 0, "query_seconds": 0.0, "peak_mb_after": 0.0}
    )


def breakdown(round_: ImportRound) -> list[str]:
    """Where one import's time and memory went."""
    d = round_.document
    setup, log, store = _phase(d, "setup"), _phase(d, "log"), _phase(d, "store")
    people, tags, releases = _phase(d, "contributors"), _phase(d, "tags"), _phase(d, "releases")
    finish = _phase(d, "finish")
    batches = d["batches"]
    sql = sum(phase["query_seconds"] for phase in d["phases"].values())
    queries = sum(phase["queries"] for phase in d["phases"].values())
    python = store["seconds"] - store["query_seconds"] - d["ai_tool_seconds"]
    lines = [
        f"setup checks (rev-parse, rev-list --count) {setup['seconds']:.2f} s",
        f"log loop {log['seconds']:.2f} s: waiting for git "
        f"{log['seconds'] - d['parse_seconds']:.2f} s, parsing {d['parse_seconds']:.2f} s",
        f"storing {len(batches)} batch{'' if len(batches) == 1 else 'es'} "
        f"{store['seconds'] + people['seconds']:.2f} s: "
        f"commits {store['seconds']:.2f} s ({store['queries']} statements "
        f"{store['query_seconds']:.2f} s, AI attribution {d['ai_tool_seconds']:.2f} s, "
        f"building rows and executemany in Python {python:.2f} s); contributors "
        f"{people['seconds']:.2f} s ({people['queries']} statements "
        f"{people['query_seconds']:.2f} s)",
        f"tags {tags['seconds']:.2f} s ({d['tags']} tags, {tags['queries']} statements)",
        f"release marking {releases['seconds']:.2f} s: {d['releases']} × git rev-list "
        f"{d['rev_list_seconds']:.2f} s, {releases['queries']} statements "
        f"{releases['query_seconds']:.2f} s",
        f"the rest {finish['seconds']:.2f} s; in all {queries} statements, {sql:.2f} s in SQL; "
        f"process {round_.process_seconds:.2f} s with Django start-up "
        f"{d['django_setup_seconds']:.2f} s",
    ]
    rss = [batch["rss_mb"] for batch in batches]
    if rss:
        loop_peak = max(log["peak_mb_after"], store["peak_mb_after"], people["peak_mb_after"])
        lines.append(
            f"memory: RSS {d['rss_before_mb']:.0f} MB before the import, {rss[0]:.0f} MB after "
            f"batch 1, {rss[-1]:.0f} MB after batch {len(rss)}; peak {d['peak_mb']:.0f} MB "
            f"(by the end of the log loop {loop_peak:.0f}, of release marking "
            f"{releases['peak_mb_after']:.0f})"
        )
    return lines


def _step_rows(result: GitImportResult, *, markdown: bool) -> list[tuple[str, ...]]:
    """Seconds, commits/s and peak RSS of each step: the floor, the parser, the imports and
    PyDriller (labelled for the README when `markdown`)."""
    commits, p = result.subject.commits, result.pydriller
    shown = result.git_peak_mb or markdown
    rows = [
        (
            "raw `git log` (floor)" if markdown else "raw git log (floor)",
            f"{result.log_median:.2f}",
            f"{rate(commits, result.log_median):.0f}",
            f"{result.git_peak_mb:.0f} MB (git)" if shown else "",
        ),
        (
            "parse only, no database",
            f"{result.parse_median:.2f}",
            f"{rate(commits, result.parse_median):.0f}",
            "",
        )
        if result.parse_seconds
        else ("parse only, no database", "failed", "", ""),
    ]
    for b in result.backends:
        rows.append(
            (
                f"import, {b.backend.label}",
                f"{b.seconds:.2f}",
                f"{rate(commits, b.seconds):.0f}",
                f"{b.peak_mb:.0f} MB",
            )
        )
    if isinstance(p, PyDrillerResult):
        if not p.extrapolated:
            label = "PyDriller"
        elif markdown:
            label = f"PyDriller (newest {p.commits}, extrapolated)"
        else:
            label = "PyDriller (extrapolated)"
        rows.append((label, f"{p.total_seconds:.1f}", f"{p.rate:.1f}", ""))
    return rows


def _rounds_line(result: GitImportResult) -> str:
    return "rounds: " + "; ".join(
        [
            "git log " + ", ".join(f"{x:.2f}" for x in result.log_seconds) + " s",
            *(
                f"import {b.backend.name} " + ", ".join(f"{r.seconds:.2f}" for r in b.rounds) + " s"
                for b in result.backends
            ),
        ]
    )


def _section(result: GitImportResult) -> report.Section:
    s, o = result.subject, result.options
    blocks: list[report.Block] = []
    if max(result.load) > 0.5:
        blocks.append(
            f"note: load average {result.load[0]:.1f} at the start, {result.load[1]:.1f} at the "
            f"end on {os.cpu_count() or 1} CPUs: other work on the machine makes the times noisy"
        )
    if s.commits < NOISY_BELOW_COMMITS:
        blocks.append(
            f"note: {s.commits} commits is too few for stable ratios; pass --git-repo PATH "
            "with a real history (thousands of commits)"
        )
    blocks += [
        report.Table(
            (
                report.Column("step", 34, "<"),
                report.Column("seconds", 8),
                report.Column("commits/s", 10),
                report.Column("peak RSS"),
            ),
            _step_rows(result, markdown=False),
        ),
        pydriller_text(result),
        _rounds_line(result),
    ]
    blocks += [f"{name}: skipped ({reason})" for name, reason in result.skipped.items()]
    blocks += [
        report.Section(
            f"{b.backend.label}, median round:",
            [*breakdown(b.median_round), report.Goals(goals(result, b))],
        )
        for b in result.backends
    ]
    blocks += [f"PROBLEM: {problem}" for problem in result.problems]
    if o.rounds < 2:
        blocks.append("(one round: no median to damp the noise)")
    return report.Section(
        f"== Git import: {s.path} at {s.tip[:12]} ==  {s.commits} commits, "
        f"{s.log_bytes / 1e6:.1f} MB of git log; medians of {len(result.log_seconds)} "
        f"interleaved rounds ({result.seconds:.0f} s)",
        blocks,
    )


def _markdown(result: GitImportResult) -> list[str | report.Table]:
    s, p = result.subject, result.pydriller
    steps = report.Table(
        (
            report.Column("Step", align="<"),
            report.Column("seconds"),
            report.Column("commits/s"),
            report.Column("peak RSS"),
        ),
        _step_rows(result, markdown=True),
    )
    ratios = report.Table(
        (
            report.Column("Database", align="<"),
            report.Column(f"import ÷ git log (goal ≥ {LOG_THROUGHPUT_GOAL}×)"),
            report.Column(f"import ÷ PyDriller (goal ≥ {PYDRILLER_GOAL:.0f}×)"),
            report.Column(f"peak RSS (goal < {PEAK_MB_GOAL:.0f} MB)"),
        ),
        [
            (
                b.backend.label,
                f"{log_ratio(result, b):.2f}×",
                f"{pydriller_ratio(result, b):.1f}×",
                f"{b.peak_mb:.0f} MB",
            )
            for b in result.backends
        ],
    )
    blocks: list[str | report.Table] = [
        f"Git import of `{s.path}` ({s.commits} commits at {s.tip[:12]}) — medians of "
        f"{len(result.log_seconds)} interleaved rounds, each import a fresh database in a "
        f"process of its own, {report.machine()}. "
        '`make bench BENCH_ARGS="--only git-import --git-repo PATH"` reproduces it.',
        steps,
        ratios,
    ]
    skipped = [f"import on {name}: {reason}" for name, reason in result.skipped.items()]
    if not isinstance(p, PyDrillerResult):
        skipped.append(f"PyDriller: {p}")
    if skipped:
        blocks.append(report.skipped_note(skipped))
    return blocks


def _document(result: GitImportResult) -> dict[str, Any]:
    s, p = result.subject, result.pydriller
    commits = s.commits
    return {
        "options": asdict(result.options) | {"repo": str(result.options.repo)},
        "repository": asdict(s),
        "seconds": round(result.seconds, 1),
        "load_average": {"start": result.load[0], "end": result.load[1]},
        "git_log": {
            "seconds": result.log_seconds,
            "median_seconds": result.log_median,
            "commits_per_second": rate(commits, result.log_median),
            "git_peak_mb": result.git_peak_mb,
        },
        "parse_only": {
            "seconds": result.parse_seconds,
            "median_seconds": result.parse_median,
            "commits_per_second": rate(commits, result.parse_median),
        },
        "pydriller": (
            asdict(p)
            | {
                "extrapolated": p.extrapolated,
                "per_commit_seconds": p.per_commit_seconds,
                "total_seconds": p.total_seconds,
                "commits_per_second": p.rate,
            }
            if isinstance(p, PyDrillerResult)
            else {"skipped": p}
        ),
        "imports": [
            {
                "backend": report.backend_json(b.backend),
                "median_seconds": b.seconds,
                "commits_per_second": rate(commits, b.seconds),
                "peak_mb": b.peak_mb,
                "ratios": {
                    "import_over_git_log": log_ratio(result, b),
                    "import_over_pydriller": pydriller_ratio(result, b),
                },
                "goals": report.goals_json(goals(result, b)),
                "rounds": [r.document | {"process_seconds": r.process_seconds} for r in b.rounds],
            }
            for b in result.backends
        ],
        "skipped": result.skipped,
        "problems": result.problems,
        "ok": result.ok,
    }


def describe(outcome: GitImportResult | str) -> report.Report:
    """The Git import's report, or the note that it could not start."""
    if isinstance(outcome, str):
        return report.Report(
            key="git_import",
            title="Git import",
            sections=[report.Section(f"Git import: skipped ({outcome})")],
            markdown=(),
            document={"skipped": outcome},
            ok=False,
        )
    return report.Report(
        key="git_import",
        title="Git import",
        sections=[_section(outcome)],
        markdown=_markdown(outcome),
        document=_document(outcome),
        ok=outcome.ok,
    )
