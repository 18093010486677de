"""`python -m bench` (`make bench`): response submission under load and a Git import, each
next to its baselines; on request, analytics at scale.

Response submission: for SQLite (always) and PostgreSQL (when BENCH_POSTGRES_URL, by default
postgres://candor:candor@127.0.0.1:5432/candor_bench, answers): a fresh database, gunicorn
with sync workers on 127.0.0.1, then a bare JSON view, a one-row insert view and the real
submission endpoint under the same bounded load, interleaved; then an audit that nothing
acknowledged was lost or duplicated.

Git import (bench.git_import): the repository given by --git-repo (default: this checkout)
imported end to end into a fresh database of each backend, next to the raw `git log` the
importer runs and to PyDriller reading the same fields; commits/s, time split, peak memory.

Analytics at scale (bench.analytics_scale; at its default size it loads about 10 million
answers per backend and runs for tens of minutes): a
generated organisation of --scale-teams teams × --scale-weeks weeks × 20 questions, the full
recompute of the summary tables next to one SQL GROUP BY over the same answers (the floor)
and a pandas group-by (context), peak memory, refreshing one period, dashboard API p95.
`--scale-teams 20 --scale-weeks 8` is a quick smoke size.

`--only submission` or `--only git-import` runs one of them. Prints tables and README
snippets; writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import analytics_report, git_report, report
from bench.analytics_scale import ScaleOptions
from bench.analytics_scale import run as analytics_scale_run
from bench.databases import Backend, BackendUnavailable, postgres_backend, sqlite_backend
from bench.git_import import GitImportResult, GitOptions
from bench.git_import import run as git_import_run
from bench.paths import PROJECT_DIR, RESULTS_DIR
from bench.runner import BackendResult, Options, run_backend, say
from bench.server import ServerFailed

BACKENDS = ("sqlite", "postgres")
BACKEND_LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
BENCHMARKS = ("submission", "git-import", "analytics-scale")
DEFAULT_BENCHMARKS = BENCHMARKS


@dataclass(frozen=True)
class Plan:
    only: tuple[str, ...]
    options: Options
    git: GitOptions
    scale: ScaleOptions


def _benchmarks(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(BENCHMARKS)}")
    return names


def _backends(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(BACKENDS)}")
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def plan_parse(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=" ".join(__doc__.split("\n\n")[0].split())
    )
    parser.add_argument(
        "--only",
        type=_benchmarks,
        default=DEFAULT_BENCHMARKS,
        help="submission,git-import,analytics-scale (default: all three)",
    )
    parser.add_argument("--requests", type=_positive, default=3000, help="per scenario")
    parser.add_argument("--connections", type=_positive, default=16, help="concurrent clients")
    parser.add_argument("--backends", type=_backends, default=BACKENDS, help="sqlite,postgres")
    parser.add_argument("--rounds", type=_positive, default=3, help="interleaved rounds")
    parser.add_argument("--warmup", type=_positive, default=200, help="per scenario, not counted")
    parser.add_argument("--workers", type=_positive, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--time-cap", type=float, default=60.0, help="seconds per scenario (all rounds)"
    )
    git = parser.add_argument_group("git import")
    git.add_argument(
        "--git-repo",
        type=Path,
        default=PROJECT_DIR,
        help="repository to import (default: this checkout; a small history gives noisy ratios)",
    )
    git.add_argument("--git-rounds", type=_positive, default=3, help="interleaved rounds")
    git.add_argument(
        "--pydriller-commits",
        type=_positive,
        default=300,
        help="PyDriller reads the newest N commits; the rest is extrapolated",
    )
    git.add_argument(
        "--pydriller-time-cap", type=_positive_float, default=60.0, help="seconds for PyDriller"
    )
    git.add_argument(
        "--git-time-cap", type=_positive_float, default=600.0, help="seconds per import process"
    )
    scale = parser.add_argument_group("analytics at scale")
    scale.add_argument("--scale-teams", type=_positive, default=500, help="teams (default 500)")
    scale.add_argument(
        "--scale-weeks", type=_positive, default=104, help="weekly closed runs per team"
    )
    scale.add_argument(
        "--scale-respondents", type=_positive, default=10, help="mean respondents per run"
    )
    scale.add_argument(
        "--scale-rounds", type=_positive, default=3, help="SQL floor and pandas rounds"
    )
    scale.add_argument(
        "--scale-requests", type=_positive, default=200, help="per API route, after the warm-up"
    )
    scale.add_argument("--scale-warmup", type=_positive, default=20, help="per API route")
    scale.add_argument(
        "--scale-time-cap",
        type=_positive_float,
        default=1800.0,
        help="seconds per step process (generation, recompute, ...); past it: killed, reported",
    )
    scale.add_argument("--scale-seed", type=int, default=1, help="random seed of the generator")
    arguments = parser.parse_args(argv)
    options = Options(
        requests=arguments.requests,
        connections=arguments.connections,
        backends=arguments.backends,
        rounds=min(arguments.rounds, arguments.requests),
        warmup=arguments.warmup,
        workers=arguments.workers,
        time_cap=arguments.time_cap,
    )
    git_options = GitOptions(
        repo=arguments.git_repo.expanduser().resolve(),
        rounds=arguments.git_rounds,
        backends=arguments.backends,
        pydriller_commits=arguments.pydriller_commits,
        pydriller_time_cap=arguments.pydriller_time_cap,
        time_cap=arguments.git_time_cap,
    )
    scale_options = ScaleOptions(
        teams=arguments.scale_teams,
        weeks=arguments.scale_weeks,
        respondents=arguments.scale_respondents,
        backends=arguments.backends,
        rounds=arguments.scale_rounds,
        requests=arguments.scale_requests,
        warmup=arguments.scale_warmup,
        time_cap=arguments.scale_time_cap,
        seed=arguments.scale_seed,
    )
    return Plan(only=arguments.only, options=options, git=git_options, scale=scale_options)


def options_parse(argv: list[str] | None) -> Options:
    return plan_parse(argv).options


def _backend(name: str, data_dir: Path) -> Backend:
    return sqlite_backend(data_dir) if name == "sqlite" else postgres_backend()


def _run_one(name: str, options: Options, data_dir: Path) -> BackendResult | str:
    """The backend's result, or why it was skipped."""
    try:
        backend = _backend(name, data_dir)
    except BackendUnavailable as reason:
        return str(reason)
    try:
        return run_backend(backend, options, data_dir, RESULTS_DIR / f"gunicorn-{name}.log")
    except (RuntimeError, ServerFailed, subprocess.TimeoutExpired) as error:
        return f"failed: {error}"


def _submission(options: Options) -> tuple[dict[str, Any], bool]:
    """Response submission on each backend: its JSON part, and whether it ran clean."""
    results: list[BackendResult] = []
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="candor-bench-") as temp:
        for name in options.backends:
            data_dir = Path(temp) / name
            data_dir.mkdir()
            outcome = _run_one(name, options, data_dir)
            if isinstance(outcome, str):
                skipped[name] = outcome
                print(f"{BACKEND_LABELS[name]}: skipped ({outcome})\n", flush=True)
                continue
            results.append(outcome)
            print(report.backend_text(outcome) + "\n", flush=True)
    if results:
        print("Markdown for the README:\n")
        print(report.markdown(results, options) + "\n", flush=True)
    ok = bool(results) and all(result.integrity.ok for result in results)
    return report.submission_document(results, options, skipped), ok


def _git_import(options: GitOptions) -> tuple[dict[str, Any], bool]:
    """The Git import benchmark: its JSON part, and whether every import was complete."""
    outcome: GitImportResult | str = git_import_run(options)
    if isinstance(outcome, str):
        print(f"Git import: skipped ({outcome})\n", flush=True)
        return {"skipped": outcome}, False
    print(git_report.text(outcome) + "\n", flush=True)
    print("Markdown for the README (Git import):\n")
    print(git_report.markdown(outcome) + "\n", flush=True)
    return git_report.document(outcome), outcome.ok


def _analytics_scale(options: ScaleOptions) -> tuple[dict[str, Any], bool]:
    """Analytics at scale on each backend: its JSON part, and whether it ran clean."""
    outcome = analytics_scale_run(options)
    print(analytics_report.text(outcome) + "\n", flush=True)
    if outcome.backends:
        print("Markdown for the README (analytics at scale):\n")
        print(analytics_report.markdown(outcome) + "\n", flush=True)
    return analytics_report.document(outcome), outcome.ok


def main(argv: list[str] | None = None) -> int:
    plan = plan_parse(argv)
    parts: dict[str, Any] = {}
    ok = True
    if "submission" in plan.only:
        parts["submission"], passed = _submission(plan.options)
        ok = ok and passed
    if "git-import" in plan.only:
        parts["git_import"], passed = _git_import(plan.git)
        ok = ok and passed
    if "analytics-scale" in plan.only:
        parts["analytics_scale"], passed = _analytics_scale(plan.scale)
        ok = ok and passed
    path = RESULTS_DIR / "latest.json"
    report.write_json(path, parts)
    say(f"wrote {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
