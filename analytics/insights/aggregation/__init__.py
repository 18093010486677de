"""The machinery of run aggregates, computed by the database, so a full recompute of
millions of answers never brings them into Python one by one: per batch of runs, two
passes over the answers (`queries`), folded and estimated over arrays (`batch`).

- The question pass counts each (run, question, value); numpy folds the counts into n,
  Σ value, Σ value², the count at each scale step and in each percentage bucket.
- The person pass scores each respondent on the constructs a run asks with two or more
  items (reverse-scored, 0–100 for scales), in a GROUP BY response, and sums those per
  run. A construct asked with one item needs no person pass: its scores are a linear map
  of that item's values.
- Multiple-choice answers have no value: the question pass counts who answered, and a
  third query counts each option, reading only those questions' answers.

The refresh that writes them is the `analytics.insights.aggregates` stage; roll-ups read
the moments of small runs through `moments.construct_moments`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

BATCH_RUNS = 2000


def batches(run_ids: Sequence[int]) -> Iterable[list[int]]:
    """The runs in batches of BATCH_RUNS, one pair of passes over the answers each."""
    for start in range(0, len(run_ids), BATCH_RUNS):
        yield list(run_ids[start : start + BATCH_RUNS])
