"""Throughput and latency of one scenario, pooled over its rounds."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bench.load import Batch


@dataclass(frozen=True)
class ScenarioStats:
    name: str
    expected_status: int
    sent: int
    ok: int
    wall_seconds: float
    rps: float  # responses with the expected status per second of wall time
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    capped: bool

    @property
    def errors(self) -> int:
        return self.sent - self.ok


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (nan when empty)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarise(name: str, expected_status: int, batches: Sequence[Batch]) -> ScenarioStats:
    samples = [sample for batch in batches for sample in batch.samples]
    latencies = sorted(sample.seconds for sample in samples)
    statuses = Counter(sample.status for sample in samples)
    wall = sum(batch.wall_seconds for batch in batches)
    ok = statuses[expected_status]
    return ScenarioStats(
        name=name,
        expected_status=expected_status,
        sent=len(samples),
        ok=ok,
        wall_seconds=wall,
        rps=ok / wall if wall else 0.0,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        statuses=dict(sorted(statuses.items())),
        capped=any(batch.capped for batch in batches),
    )
