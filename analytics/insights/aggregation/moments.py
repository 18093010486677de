"""Construct-score moments of runs, small ones included, for roll-ups: they pool them and
decide what may show (surveys.anonymity.tree_suppress) before anything is stored. Nothing
here is written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from analytics.insights.aggregation import batch, batches, queries

# (run, construct) → (n, mean, mean of squares) of the respondents' construct scores.
ConstructMoments = dict[tuple[int, str], tuple[int, float, float]]


def construct_moments(run_ids: Sequence[int], constructs: Iterable[str]) -> ConstructMoments:
    """(n, mean, mean of squares) of the respondents' scores on these constructs in these
    runs, small runs included: for roll-ups, which pool them and decide what may show
    (analytics.suppression) before anything is stored. Nothing here is written."""
    wanted = set(constructs)
    found: ConstructMoments = {}
    with queries.planned_for_slices():
        for run_ids_batch in batches(run_ids):
            found |= _moments(run_ids_batch, wanted)
    return found


def _moments(run_ids: list[int], wanted: set[str]) -> ConstructMoments:
    plan = batch.Plan.of(run_ids)
    keep = {batch.column_of(q) for q in plan.bank.values() if q.construct in wanted}
    counts = queries.value_counts(run_ids, plan.questions(keep))
    sums = batch.construct_sums(run_ids, plan, batch.fold_counts(counts, plan), keep=keep)
    return {
        (run_id, column.construct): (n, total / n, squares / n)
        for (run_id, column), (n, total, squares) in sums.items()
    }
