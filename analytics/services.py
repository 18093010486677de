"""Writes of the summary tables. Runs are recomputed whole, in batches computed by the
database (analytics.aggregation), one transaction per batch, so a refresh is safe to
re-run and a crash leaves the previous figures in place."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from analytics import aggregation
from analytics.models import RunSummary
from surveys.models import PulseRun, RunStatus

logger = logging.getLogger(__name__)


def run_aggregates_refresh(*, run_id: int) -> RunSummary | None:
    """Recompute a closed run's summary, question and construct aggregates from its answers.

    Open runs get none: results that moved with every late answer would let anyone who
    compares two views learn the latest respondent's answers. Returns None for them.
    """
    aggregation.runs_aggregate([run_id])
    return RunSummary.objects.filter(run_id=run_id).first()


def runs_aggregates_refresh(*, run_ids: Sequence[int]) -> int:
    """Recompute the aggregates of these runs (closed ones; others are skipped) in
    batches computed by the database; returns how many were recomputed."""
    return aggregation.runs_aggregate(list(run_ids))


def stale_runs_refresh() -> int:
    """Refresh every run flagged stale (closing flags a run). The flag is cleared before
    computing and set again on failure; one broken run does not hold back the others."""
    count, failed = 0, []
    for run_id in PulseRun.objects.filter(aggregates_stale=True).values_list("pk", flat=True):
        claimed = PulseRun.objects.filter(pk=run_id, aggregates_stale=True)
        if not claimed.update(aggregates_stale=False):
            continue
        try:
            run_aggregates_refresh(run_id=run_id)
        except Exception:
            PulseRun.objects.filter(pk=run_id).update(aggregates_stale=True)
            logger.exception("Refreshing the aggregates of run %s failed", run_id)
            failed.append(run_id)
            continue
        count += 1
    if failed:
        raise RuntimeError(
            f"Refreshing runs {failed} failed; they stay flagged for the next sweep."
        )
    return count


def all_runs_refresh() -> int:
    run_ids = list(PulseRun.objects.filter(status=RunStatus.CLOSED).values_list("pk", flat=True))
    return runs_aggregates_refresh(run_ids=run_ids)
