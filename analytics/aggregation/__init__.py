"""Run aggregates computed by the database, so a full recompute of millions of answers
never brings them into Python one by one: per batch of runs, two passes over the answers
(`queries`), folded and estimated over arrays (`batch`).

- The question pass counts each (run, question, value); numpy folds the counts into n,
  Σ value, Σ value², the count at each scale step and in each percentage bucket.
- The person pass scores each respondent on the constructs a run asks with two or more
  items (reverse-scored, 0–100 for scales) and on the AI usage and trust thresholds, in
  a GROUP BY response, and sums those per run. A construct asked with one item needs no
  person pass: its scores are a linear map of that item's values.
- Multiple-choice answers have no value: the question pass counts who answered, and a
  third query counts each option, reading only those questions' answers.

Nothing under k is written: a run with fewer than k respondents gets a summary that says
so and no figures, and no figure with fewer than k answers behind it becomes a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import Count

from analytics import periods
from analytics.aggregation import batch, queries
from analytics.bulk import rows_insert
from analytics.models import ConstructAggregate, QuestionAggregate, RunSummary
from surveys.models import Invitation, PulseRun, Response, RunStatus

BATCH_RUNS = 2000

# (run, construct) → (n, mean, mean of squares) of the respondents' construct scores.
ConstructMoments = dict[tuple[int, str], tuple[int, float, float]]

SUMMARY_FIELDS = (
    "run",
    "team",
    "k",
    "invited",
    "suppressed",
    "respondents",
    "ai_weekly_share",
    "ai_trust_share",
    "trust_gap",
    "trust_gap_low",
    "trust_gap_high",
    "trust_gap_n",
)
QUESTION_FIELDS = (
    "run",
    "question",
    "position",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "counts",
)
CONSTRUCT_FIELDS = ("run", "team", "construct", "unit", "n", "mean", "sd", "ci_low", "ci_high")


def _batches(run_ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(run_ids), BATCH_RUNS):
        yield list(run_ids[start : start + BATCH_RUNS])


def construct_moments(run_ids: Sequence[int], constructs: Iterable[str]) -> ConstructMoments:
    """(n, mean, mean of squares) of the respondents' scores on these constructs in these
    runs, small runs included: for roll-ups, which pool them and decide what may show
    (analytics.suppression) before anything is stored. Nothing here is written."""
    wanted = set(constructs)
    found: ConstructMoments = {}
    with queries.planned_for_slices():
        for run_ids_batch in _batches(run_ids):
            found |= _moments(run_ids_batch, wanted)
    return found


def _moments(run_ids: list[int], wanted: set[str]) -> ConstructMoments:
    plan = batch.Plan.of(run_ids)
    keep = {batch.column_of(q) for q in plan.bank.values() if q.construct in wanted}
    counts = queries.value_counts(run_ids, plan.questions(keep))
    sums, _ = batch.construct_sums(
        run_ids, plan, batch.fold_counts(counts, plan), trust=False, keep=keep
    )
    return {
        (run_id, column.construct): (n, total / n, squares / n)
        for (run_id, column), (n, total, squares) in sums.items()
    }


def runs_aggregate(run_ids: Sequence[int]) -> int:
    """Recompute the summary rows of these runs (closed ones only), one transaction per
    batch of BATCH_RUNS, and flag their team-periods for a fill; returns how many runs
    were recomputed. Safe to re-run: a batch replaces its runs' rows whole, and a crash
    leaves the previous rows of the runs it did not finish."""
    with queries.planned_for_slices():
        return sum(_aggregate(run_ids_batch) for run_ids_batch in _batches(run_ids))


def _counts(model: type[Response] | type[Invitation], run_ids: Sequence[int]) -> dict[int, int]:
    return dict(
        model.objects.filter(run_id__in=run_ids)
        .values("run_id")
        .annotate(n=Count("pk"))
        .values_list("run_id", "n")
    )


def _aggregate(run_ids: list[int]) -> int:
    closed = PulseRun.objects.filter(pk__in=run_ids, status=RunStatus.CLOSED)
    team: dict[int, int] = {}
    k: dict[int, int] = {}
    for pk, team_id, run_k in closed.values_list("pk", "team_id", "k"):
        team[pk], k[pk] = team_id, run_k
    if not team:
        return 0
    ids = list(team)
    respondents, invited = _counts(Response, ids), _counts(Invitation, ids)
    shown = [run for run in ids if respondents.get(run, 0) >= k[run]]
    plan = batch.Plan.of(shown)
    counts = queries.value_counts(shown) if shown else []
    sums = batch.fold_counts(counts, plan)
    constructs, trust = batch.construct_sums(shown, plan, sums, trust=True)
    multi = set(plan.multi_questions)
    answered = {(run, question): n for run, question, _, n in counts if question in multi}
    chosen = queries.option_counts(shown, sorted(multi)) if answered else {}
    visible = set(shown)
    summaries = []
    for run_id in ids:
        figures = batch.summary_figures(k[run_id], trust.get(run_id)) if run_id in visible else {}
        summaries.append(
            (
                run_id,
                team[run_id],
                k[run_id],
                invited.get(run_id, 0),
                run_id not in visible,
                respondents[run_id] if run_id in visible else None,
                *(figures.get(name) for name in SUMMARY_FIELDS[6:]),
            )
        )
    question_rows = batch.question_rows(k, plan, sums, answered, chosen)
    construct_rows = batch.construct_rows(k, team, plan, constructs)
    with transaction.atomic():
        QuestionAggregate.objects.filter(run_id__in=ids).delete()
        ConstructAggregate.objects.filter(run_id__in=ids).delete()
        RunSummary.objects.filter(run_id__in=ids).delete()
        rows_insert(RunSummary, SUMMARY_FIELDS, summaries)
        rows_insert(QuestionAggregate, QUESTION_FIELDS, question_rows)
        rows_insert(ConstructAggregate, CONSTRUCT_FIELDS, construct_rows)
        periods.periods_mark(run_ids=ids)
    return len(ids)
