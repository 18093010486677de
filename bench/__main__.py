"""`python -m bench` (`make bench`): response submission under load, next to two baselines.

For SQLite (always) and PostgreSQL (when BENCH_POSTGRES_URL, by default
postgres://candor:candor@127.0.0.1:5432/candor_bench, answers): a fresh database, gunicorn
with sync workers on 127.0.0.1, then a bare JSON view, a one-row insert view and the real
submission endpoint under the same bounded load, interleaved; then an audit that nothing
acknowledged was lost or duplicated. Prints tables and a README snippet; writes
bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import report
from bench.databases import Backend, BackendUnavailable, postgres_backend, sqlite_backend
from bench.paths import RESULTS_DIR
from bench.runner import BackendResult, Options, run_backend, say
from bench.server import ServerFailed

BACKENDS = ("sqlite", "postgres")
BACKEND_LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


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


def options_parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=_positive, default=3000, help="per scenario")
    parser.add_argument("--connections", type=_positive, default=16, help="concurrent clients")
    parser.add_argument("--backends", type=_backends, default=BACKENDS, help="sqlite,postgres")
    parser.add_argument("--rounds", type=_positive, default=3, help="interleaved rounds")
    parser.add_argument("--warmup", type=_positive, default=200, help="per scenario, not counted")
    parser.add_argument("--workers", type=_positive, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--time-cap", type=float, default=60.0, help="seconds per scenario (all rounds)"
    )
    arguments = parser.parse_args(argv)
    return Options(
        requests=arguments.requests,
        connections=arguments.connections,
        backends=arguments.backends,
        rounds=min(arguments.rounds, arguments.requests),
        warmup=arguments.warmup,
        workers=arguments.workers,
        time_cap=arguments.time_cap,
    )


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


def main(argv: list[str] | None = None) -> int:
    options = options_parse(argv)
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
    path = RESULTS_DIR / "latest.json"
    report.write_json(path, results, options, skipped)
    if results:
        print("Markdown for the README:\n")
        print(report.markdown(results, options) + "\n")
    say(f"wrote {path}")
    return 0 if results and all(result.integrity.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
