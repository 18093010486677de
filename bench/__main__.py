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
snippets (bench.report, the same for all three); writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import analytics_scale, git_import, report, submission
from bench.analytics_scale import ScaleOptions
from bench.databases import BACKENDS
from bench.git_import import GitOptions
from bench.harness import PROJECT_DIR, RESULTS_DIR, say
from bench.submission import SubmissionOptions

BENCHMARKS = ("submission", "git-import", "analytics-scale")
DEFAULT_BENCHMARKS = BENCHMARKS


@dataclass(frozen=True)
class Plan:
    only: tuple[str, ...]
    options: SubmissionOptions
    git: GitOptions
    scale: ScaleOptions

    def runs(self) -> dict[str, Callable[[], report.Report]]:
        """Each benchmark chosen, as a call that measures it and describes the results."""
        every = {
            "submission": lambda: submission.describe(submission.run(self.options)),
            "git-import": lambda: git_import.describe(git_import.run(self.git)),
            "analytics-scale": lambda: analytics_scale.describe(analytics_scale.run(self.scale)),
        }
        return {name: every[name] for name in BENCHMARKS if name in self.only}


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
    options = SubmissionOptions(
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


def main(argv: list[str] | None = None) -> int:
    """Run each benchmark chosen and print its report as it finishes; 1 unless all ran clean."""
    reports = []
    for measure in plan_parse(argv).runs().values():
        reports.append(measure())
        report.show(reports[-1])
    path = RESULTS_DIR / "latest.json"
    report.write_json(path, reports)
    say(f"wrote {path}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
