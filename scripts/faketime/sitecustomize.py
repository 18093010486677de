"""Loaded by every Python process that `scripts/test-dates.sh` starts (it puts this folder
on PYTHONPATH), and by nothing else.

Under libfaketime with FAKETIME_DONT_FAKE_MONOTONIC=1 (needed, or every threading wait on
the monotonic clock hangs), Python 3.11's `time.sleep` fails with EINVAL: it sleeps with
clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) and libfaketime 0.9.10 shifts that deadline
by the fake offset (https://github.com/wolfcw/libfaketime/issues/426). `select` takes a
relative timeout, which libfaketime passes through, so sleeping through it works; the
monotonic clock is real, so the deadline is too.
"""

from __future__ import annotations

import os
import select
import time

_real_sleep = time.sleep


def _sleep(seconds: float) -> None:
    """time.sleep without clock_nanosleep: wait on no file descriptors until the deadline."""
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


if "faketime" in os.environ.get("LD_PRELOAD", ""):
    time.sleep = _sleep
