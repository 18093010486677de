"""The benchmarks (`python -m bench`, `make bench`): response submission under load, a Git
import, analytics at scale — each measured next to baselines in the same run.

bench.harness runs their steps (child processes, fresh databases, interleaved rounds,
same-run ratios) and bench.report writes their tables, goals, README snippets and JSON;
bench.submission, bench.git_import and bench.analytics_scale hold what is their own.
"""
