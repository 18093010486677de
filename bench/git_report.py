"""The Git import benchmark's printed table, goal checks, README snippet and JSON part."""

from __future__ import annotations

import math
import os
from dataclasses import asdict
from typing import Any

from bench.git_import import GitBackendResult, GitImportResult, ImportRound, PyDrillerResult
from bench.report import Goal, environment

LOG_THROUGHPUT_GOAL = 0.5  # import commits/s as a fraction of the raw git log's
PYDRILLER_GOAL = 15.0  # import commits/s as a multiple of PyDriller's
PEAK_MB_GOAL = 250.0  # the import process, whatever the repository's size
NOISY_BELOW_COMMITS = 1000


def _rate(commits: int, seconds: float) -> float:
    return commits / seconds if seconds else math.nan


def log_ratio(result: GitImportResult, backend: GitBackendResult) -> float:
    """Import throughput ÷ raw git log throughput (the same commits, so a time ratio)."""
    return result.log_median / backend.seconds if backend.seconds else math.nan


def pydriller_ratio(result: GitImportResult, backend: GitBackendResult) -> float:
    if not isinstance(result.pydriller, PyDrillerResult):
        return math.nan
    return _rate(result.subject.commits, backend.seconds) / result.pydriller.rate


def goals(result: GitImportResult, backend: GitBackendResult) -> list[Goal]:
    ratio = log_ratio(result, backend)
    found = [
        Goal(
            f"import ≥ {LOG_THROUGHPUT_GOAL}× raw git log commits/s",
            ratio >= LOG_THROUGHPUT_GOAL,
            f"{ratio:.2f}× ({backend.seconds:.2f} s against {result.log_median:.2f} s)",
        ),
    ]
    if isinstance(result.pydriller, PyDrillerResult):
        times = pydriller_ratio(result, backend)
        extrapolated = " (PyDriller extrapolated)" if result.pydriller.extrapolated else ""
        found.append(
            Goal(
                f"import ≥ {PYDRILLER_GOAL:.0f}× PyDriller commits/s",
                times >= PYDRILLER_GOAL,
                f"{times:.1f}×{extrapolated}",
            )
        )
    found.append(
        Goal(
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


def text(result: GitImportResult) -> str:
    s, o = result.subject, result.options
    commits = s.commits
    lines = [
        f"== Git import: {s.path} at {s.tip[:12]} ==  {commits} commits, "
        f"{s.log_bytes / 1e6:.1f} MB of git log; medians of {len(result.log_seconds)} "
        f"interleaved rounds ({result.seconds:.0f} s)",
    ]
    cpus = os.cpu_count() or 1
    if max(result.load) > 0.5:
        lines.append(
            f"  note: load average {result.load[0]:.1f} at the start, {result.load[1]:.1f} at the "
            f"end on {cpus} CPUs: other work on the machine makes the times noisy"
        )
    if commits < NOISY_BELOW_COMMITS:
        lines.append(
            f"  note: {commits} commits is too few for stable ratios; pass --git-repo PATH "
            "with a real history (thousands of commits)"
        )
    lines.append(f"  {'step':<34} {'seconds':>8} {'commits/s':>10}  peak RSS")
    git_peak = f"  {result.git_peak_mb:.0f} MB (git)" if result.git_peak_mb else ""
    lines.append(
        f"  {'raw git log (floor)':<34} {result.log_median:>8.2f} "
        f"{_rate(commits, result.log_median):>10.0f}{git_peak}"
    )
    if result.parse_seconds:
        lines.append(
            f"  {'parse only, no database':<34} {result.parse_median:>8.2f} "
            f"{_rate(commits, result.parse_median):>10.0f}"
        )
    else:
        lines.append(f"  {'parse only, no database':<34} {'failed':>8}")
    for backend in result.backends:
        lines.append(
            f"  {'import, ' + backend.backend.label:<34} {backend.seconds:>8.2f} "
            f"{_rate(commits, backend.seconds):>10.0f}  {backend.peak_mb:.0f} MB"
        )
    p = result.pydriller
    if isinstance(p, PyDrillerResult):
        label = "PyDriller" + (" (extrapolated)" if p.extrapolated else "")
        lines.append(f"  {label:<34} {p.total_seconds:>8.1f} {p.rate:>10.1f}")
    lines.append(f"  {pydriller_text(result)}")
    lines.append(
        "  rounds: "
        + "; ".join(
            [
                "git log " + ", ".join(f"{x:.2f}" for x in result.log_seconds) + " s",
                *(
                    f"import {b.backend.name} "
                    + ", ".join(f"{r.seconds:.2f}" for r in b.rounds)
                    + " s"
                    for b in result.backends
                ),
            ]
        )
    )
    for name, reason in result.skipped.items():
        lines.append(f"  {name}: skipped ({reason})")
    for backend in result.backends:
        lines.append(f"  {backend.backend.label}, median round:")
        lines += [f"    {line}" for line in breakdown(backend.median_round)]
        lines.append("    goals:")
        lines += [
            f"      {'PASS' if g.passed else 'MISS'}  {g.label:<40} {g.detail}"
            for g in goals(result, backend)
        ]
    for problem in result.problems:
        lines.append(f"  PROBLEM: {problem}")
    if o.rounds < 2:
        lines.append("  (one round: no median to damp the noise)")
    return "\n".join(lines)


def markdown(result: GitImportResult) -> str:
    s, env = result.subject, environment()
    commits = s.commits
    p = result.pydriller
    lines = [
        f"Git import of `{s.path}` ({commits} commits at {s.tip[:12]}) — medians of "
        f"{len(result.log_seconds)} interleaved rounds, each import a fresh database in a "
        f"process of its own, {env['cpus']} CPUs, Python {env['python']}, {env['date'][:10]}. "
        f'`make bench BENCH_ARGS="--only git-import --git-repo PATH"` reproduces it.',
        "",
        "| Step | seconds | commits/s | peak RSS |",
        "|---|---:|---:|---:|",
        f"| raw `git log` (floor) | {result.log_median:.2f} | "
        f"{_rate(commits, result.log_median):.0f} | {result.git_peak_mb:.0f} MB (git) |",
        f"| parse only, no database | {result.parse_median:.2f} | "
        f"{_rate(commits, result.parse_median):.0f} | |"
        if result.parse_seconds
        else "| parse only, no database | failed | | |",
    ]
    for b in result.backends:
        lines.append(
            f"| import, {b.backend.label} | {b.seconds:.2f} | {_rate(commits, b.seconds):.0f} "
            f"| {b.peak_mb:.0f} MB |"
        )
    if isinstance(p, PyDrillerResult):
        note = f" (newest {p.commits}, extrapolated)" if p.extrapolated else ""
        lines.append(f"| PyDriller{note} | {p.total_seconds:.1f} | {p.rate:.1f} | |")
    lines += [
        "",
        "| Database | import ÷ git log (goal ≥ 0.5×) | import ÷ PyDriller (goal ≥ 15×) "
        "| peak RSS (goal < 250 MB) |",
        "|---|---:|---:|---:|",
    ]
    for b in result.backends:
        lines.append(
            f"| {b.backend.label} | {log_ratio(result, b):.2f}× | "
            f"{pydriller_ratio(result, b):.1f}× | {b.peak_mb:.0f} MB |"
        )
    skipped = [f"import on {name}: {reason}" for name, reason in result.skipped.items()]
    if not isinstance(p, PyDrillerResult):
        skipped.append(f"PyDriller: {p}")
    if skipped:
        lines += ["", "Skipped: " + "; ".join(skipped) + "."]
    return "\n".join(lines)


def document(result: GitImportResult) -> dict[str, Any]:
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
            "commits_per_second": _rate(commits, result.log_median),
            "git_peak_mb": result.git_peak_mb,
        },
        "parse_only": {
            "seconds": result.parse_seconds,
            "median_seconds": result.parse_median,
            "commits_per_second": _rate(commits, result.parse_median),
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
                "backend": {"name": b.backend.name, "label": b.backend.label},
                "median_seconds": b.seconds,
                "commits_per_second": _rate(commits, b.seconds),
                "peak_mb": b.peak_mb,
                "ratios": {
                    "import_over_git_log": log_ratio(result, b),
                    "import_over_pydriller": pydriller_ratio(result, b),
                },
                "goals": [asdict(goal) for goal in goals(result, b)],
                "rounds": [r.document | {"process_seconds": r.process_seconds} for r in b.rounds],
            }
            for b in result.backends
        ],
        "skipped": result.skipped,
        "problems": result.problems,
        "ok": result.ok,
    }
