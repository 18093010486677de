"""Writes of the summary tables. Each run is recomputed whole in one transaction, so a
refresh is safe to re-run and a crash leaves the previous figures in place."""

from __future__ import annotations

import logging

import pandas as pd
from django.db import transaction
from django.db.models import F

from analytics import gaps, periods, stats
from analytics.models import ConstructAggregate, QuestionAggregate, RunSummary
from surveys.models import (
    Answer,
    Invitation,
    PulseRun,
    Question,
    QuestionKind,
    Response,
    RunStatus,
)

logger = logging.getLogger(__name__)

AI_USAGE_KEY = "ai_usage_frequency"
AI_USAGE_WEEKLY = 3
AI_TRUST_KEY = "ai_trust_accuracy"
AI_TRUST_A_LOT = 4


def answers_frame(run: PulseRun) -> pd.DataFrame:
    rows = Answer.objects.filter(response__run=run).values(
        "response_id",
        "value",
        "choices",
        key=F("question__key"),
        construct=F("question__construct"),
        kind=F("question__kind"),
        scale_min=F("question__scale_min"),
        scale_max=F("question__scale_max"),
        reverse_scored=F("question__reverse_scored"),
    )
    columns = ["response_id", "value", "choices", "key", "construct", "kind", "scale_min"]
    columns += ["scale_max", "reverse_scored"]
    return pd.DataFrame.from_records(list(rows), columns=columns)


def _question_aggregate(
    run: PulseRun, question: Question, position: int, frame: pd.DataFrame
) -> QuestionAggregate | None:
    answers = frame[frame["key"] == question.key]
    n = len(answers)
    if n < run.k:
        return None
    if question.kind == QuestionKind.MULTI:
        return QuestionAggregate(
            run=run,
            question=question,
            position=position,
            n=n,
            distribution=stats.distribution_multi(list(answers["choices"]), question.options),
        )
    values = [int(v) for v in answers["value"]]
    estimate = stats.clipped(stats.mean_ci(values), question.scale_min, question.scale_max)
    if question.kind == QuestionKind.PERCENT:
        distribution = stats.distribution_percent(values)
    else:
        distribution = stats.distribution_scale(
            values, question.scale_min, question.scale_max, question.labels
        )
    return QuestionAggregate(
        run=run,
        question=question,
        position=position,
        n=n,
        mean=estimate.mean,
        sd=estimate.sd,
        ci_low=estimate.ci_low,
        ci_high=estimate.ci_high,
        distribution=distribution,
    )


def _construct_aggregates(run: PulseRun, frame: pd.DataFrame) -> list[ConstructAggregate]:
    scores = stats.construct_scores(frame.astype({"value": "float64"}))
    aggregates = []
    for (construct, unit), group in scores.groupby(["construct", "unit"]):
        if len(group) < run.k:
            continue
        if unit == "index":
            low, high = 0.0, 100.0
        else:
            items = frame[frame["construct"] == construct]
            low, high = float(items["scale_min"].min()), float(items["scale_max"].max())
        estimate = stats.clipped(stats.mean_ci(list(group["score"])), low, high)
        aggregates.append(
            ConstructAggregate(
                run=run,
                team_id=run.team_id,
                construct=str(construct),
                unit=str(unit),
                n=estimate.n,
                mean=estimate.mean,
                sd=estimate.sd,
                ci_low=estimate.ci_low,
                ci_high=estimate.ci_high,
            )
        )
    return aggregates


def _share(frame: pd.DataFrame, key: str, threshold: int) -> float | None:
    values = [int(v) for v in frame.loc[frame["key"] == key, "value"]]
    return stats.share_at_least(values, threshold) if values else None


def _trust_pairs(frame: pd.DataFrame) -> list[tuple[bool, bool]]:
    """(uses AI at least weekly, trusts its output) for each respondent who answered both."""
    wanted = frame[frame["key"].isin([AI_USAGE_KEY, AI_TRUST_KEY])]
    wide = wanted.pivot_table(index="response_id", columns="key", values="value", aggfunc="first")
    if AI_USAGE_KEY not in wide or AI_TRUST_KEY not in wide:
        return []
    both = wide[[AI_USAGE_KEY, AI_TRUST_KEY]].dropna()
    return [
        (bool(usage >= AI_USAGE_WEEKLY), bool(trust >= AI_TRUST_A_LOT))
        for usage, trust in both.itertuples(index=False)
    ]


def _trust_gap_fields(run: PulseRun, frame: pd.DataFrame) -> dict[str, float | int | None]:
    pairs = _trust_pairs(frame) if len(frame) else []
    gap = gaps.trust_gap(pairs) if len(pairs) >= run.k else None
    if gap is None:
        return {}
    return {
        "trust_gap": gap.value,
        "trust_gap_low": gap.low,
        "trust_gap_high": gap.high,
        "trust_gap_n": len(pairs),
    }


def run_aggregates_refresh(*, run_id: int) -> RunSummary | None:
    """Recompute a closed run's summary, question and construct aggregates from its answers.

    Open runs get none: results that moved with every late answer would let anyone who
    compares two views learn the latest respondent's answers. Returns None for them.
    """
    run = PulseRun.objects.select_related("team").get(pk=run_id)
    if run.status != RunStatus.CLOSED:
        return None
    respondents = Response.objects.filter(run=run).count()
    invited = Invitation.objects.filter(run=run).count()
    suppressed = respondents < run.k
    frame = answers_frame(run) if not suppressed else pd.DataFrame()
    with transaction.atomic():
        QuestionAggregate.objects.filter(run=run).delete()
        ConstructAggregate.objects.filter(run=run).delete()
        RunSummary.objects.filter(run=run).delete()
        summary = RunSummary.objects.create(
            run=run,
            team_id=run.team_id,
            k=run.k,
            invited=invited,
            suppressed=suppressed,
            respondents=None if suppressed else respondents,
            ai_weekly_share=None if suppressed else _share(frame, AI_USAGE_KEY, AI_USAGE_WEEKLY),
            ai_trust_share=None if suppressed else _share(frame, AI_TRUST_KEY, AI_TRUST_A_LOT),
            **({} if suppressed else _trust_gap_fields(run, frame)),
        )
        periods.periods_mark(run_ids=[run.pk])
        if suppressed:
            return summary
        run_questions = run.run_questions.select_related("question")
        question_aggregates = [
            _question_aggregate(run, rq.question, rq.position, frame) for rq in run_questions
        ]
        QuestionAggregate.objects.bulk_create(a for a in question_aggregates if a is not None)
        ConstructAggregate.objects.bulk_create(_construct_aggregates(run, frame))
    return summary


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
    for run_id in run_ids:
        run_aggregates_refresh(run_id=run_id)
    return len(run_ids)
