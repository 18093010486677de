"""The aggregates stage: each closed run's summary, question and construct aggregates,
recomputed whole from its answers in batches the database computes
(`analytics.insights.aggregation`), one transaction per batch, so a refresh is safe to
re-run and a crash leaves the previous figures in place.

Nothing under k is written: a run with fewer than k respondents gets a summary that says
so and no figures, and no figure with fewer than k answers behind it becomes a row. What
comes next (team-periods, reports) is the pipeline's to call (analytics/pipeline.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence

from django.db import transaction
from django.db.models import Count

from analytics.bulk import rows_insert
from analytics.insights.aggregation import batch, batches, queries
from analytics.insights.models import (
    SUMMARY_FIGURES,
    ConstructAggregate,
    QuestionAggregate,
    RunSummary,
)
from analytics.insights.release import QuestionRelease
from surveys.anonymity import group_shown
from surveys.pulses.models import Invitation, PulseRun, Response, RunStatus

logger = logging.getLogger(__name__)

# Called with a batch's run ids inside the transaction that stores their aggregates.
Within = Callable[[list[int]], object]


def _nothing(run_ids: list[int]) -> None:
    """No work alongside a batch (the default `within`)."""


SUMMARY_FIELDS = ("run", "team", "k", "invited", "suppressed", "respondents", *SUMMARY_FIGURES)


QUESTION_FIELDS = (
    "run",
    "question",
    "position",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "precision",
    "counts",
)


CONSTRUCT_FIELDS = (
    "run",
    "team",
    "construct",
    "unit",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "precision",
    "items",
)


def runs_aggregate(run_ids: Sequence[int], *, within: Within = _nothing) -> int:
    """Recompute the summary rows of these runs (closed ones only), one transaction per
    batch of BATCH_RUNS; `within` is called with each batch's recomputed run ids inside
    its transaction (the pipeline marks their team-periods pending there, so no crash can
    store figures and lose the mark). Returns how many runs were recomputed. Safe to
    re-run: a batch replaces its runs' rows whole, and a crash leaves the previous rows of
    the runs it did not finish."""
    with queries.planned_for_slices():
        return sum(_aggregate(run_ids_batch, within) for run_ids_batch in batches(run_ids))


def _counts(model: type[Response] | type[Invitation], run_ids: Sequence[int]) -> dict[int, int]:
    return dict(
        model.objects.filter(run_id__in=run_ids)
        .values("run_id")
        .annotate(n=Count("pk"))
        .values_list("run_id", "n")
    )


def _aggregate(run_ids: list[int], within: Within) -> int:
    closed = PulseRun.objects.filter(pk__in=run_ids, status=RunStatus.CLOSED)
    team: dict[int, int] = {}
    k: dict[int, int] = {}
    for pk, team_id, run_k in closed.values_list("pk", "team_id", "k"):
        team[pk], k[pk] = team_id, run_k
    if not team:
        return 0
    ids = list(team)
    respondents, invited = _counts(Response, ids), _counts(Invitation, ids)
    shown = [run for run in ids if group_shown(respondents.get(run, 0), k[run])]
    plan = batch.Plan.of(shown)
    counts = queries.value_counts(shown) if shown else []
    sums = batch.fold_counts(counts, plan)
    multi = set(plan.multi_questions)
    answered = {(run, question): n for run, question, _, n in counts if question in multi}
    chosen = queries.option_counts(shown, sorted(multi)) if answered else {}
    visible = set(shown)
    question_rows, released = batch.question_rows(k, plan, sums, answered, chosen)
    by_run: dict[int, dict[int, QuestionRelease]] = defaultdict(dict)
    for (run_id, question_id), found in released.items():
        by_run[run_id][question_id] = found
    summaries = []
    for run_id in ids:
        figures = batch.summary_figures(plan, by_run[run_id]) if run_id in visible else {}
        summaries.append(
            (
                run_id,
                team[run_id],
                k[run_id],
                invited.get(run_id, 0),
                run_id not in visible,
                respondents[run_id] if run_id in visible else None,
                *(figures.get(name) for name in SUMMARY_FIGURES),
            )
        )
    construct_rows = batch.construct_rows(team, plan, released)
    with transaction.atomic():
        QuestionAggregate.objects.filter(run_id__in=ids).delete()
        ConstructAggregate.objects.filter(run_id__in=ids).delete()
        RunSummary.objects.filter(run_id__in=ids).delete()
        rows_insert(RunSummary, SUMMARY_FIELDS, summaries)
        rows_insert(QuestionAggregate, QUESTION_FIELDS, question_rows)
        rows_insert(ConstructAggregate, CONSTRUCT_FIELDS, construct_rows)
        within(ids)
    return len(ids)


def run_aggregates_refresh(*, run_id: int, within: Within = _nothing) -> RunSummary | None:
    """Recompute a closed run's summary, question and construct aggregates from its answers.

    Open runs get none: results that moved with every late answer would let anyone who
    compares two views learn the latest respondent's answers. Returns None for them.
    """
    runs_aggregate([run_id], within=within)
    return RunSummary.objects.filter(run_id=run_id).first()


def stale_runs_refresh(*, within: Within = _nothing) -> int:
    """Refresh every run flagged stale (closing flags a run). The flag is cleared before
    computing and set again on failure; one broken run does not hold back the others."""
    count, failed = 0, []
    for run_id in PulseRun.objects.filter(aggregates_stale=True).values_list("pk", flat=True):
        claimed = PulseRun.objects.filter(pk=run_id, aggregates_stale=True)
        if not claimed.update(aggregates_stale=False):
            continue
        try:
            run_aggregates_refresh(run_id=run_id, within=within)
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


def closed_run_ids(*, organisation_id: int | None = None) -> list[int]:
    """Every closed run, or every closed run of one organisation."""
    closed = PulseRun.objects.filter(status=RunStatus.CLOSED)
    if organisation_id is not None:
        closed = closed.filter(team__organisation_id=organisation_id)
    return list(closed.values_list("pk", flat=True))


def all_runs_refresh(*, within: Within = _nothing) -> int:
    """Recompute every closed run (the nightly recompute); returns how many."""
    return runs_aggregate(closed_run_ids(), within=within)
