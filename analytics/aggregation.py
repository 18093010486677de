"""Run aggregates computed by the database: one pass of GROUP BY queries per batch of runs,
so a full recompute of millions of answers never brings them into Python.

Per batch: respondents and invitations per run; per (run, question) n, mean, mean of
squares and the count of each scale step or percentage bucket (conditional counts in the
same GROUP BY); per (run, construct) the respondents' construct scores (reverse-scored,
mapped to 0–100 for scales) aggregated in a nested GROUP BY; per run the AI-usage and
trust shares and the paired trust-gap sums. Python turns those moments into estimates
(sd, t interval, clipping) and writes the summary rows; nothing under k is written.
Multiple-choice answers (a few per run) are counted in Python.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Avg, Count, F, Q

from analytics import gaps, periods, stats
from analytics.bulk import json_value, rows_insert
from analytics.models import ConstructAggregate, QuestionAggregate, RunSummary
from surveys.models import (
    MAX_SCALE_STEPS,
    Answer,
    Invitation,
    PulseRun,
    Question,
    QuestionKind,
    Response,
    RunQuestion,
    RunStatus,
)

AI_USAGE_KEY = "ai_usage_frequency"
AI_USAGE_WEEKLY = 3
AI_TRUST_KEY = "ai_trust_accuracy"
AI_TRUST_A_LOT = 4
BATCH_RUNS = 500


@dataclass(frozen=True)
class Moments:
    n: int
    mean: float
    mean_square: float

    def estimate(self, low: float, high: float) -> stats.Estimate:
        """Mean, sample sd and the clipped t interval, as stats.mean_ci gives them."""
        return stats.clipped(
            stats.estimate_from_moments(self.n, self.mean, self.mean_square), low, high
        )


def _question_rows(run_ids: Sequence[int]) -> dict[tuple[int, int], dict[str, Any]]:
    """Per (run, question) of scale and percent answers: n, mean, mean square, the count
    at each step above the scale minimum, and the count in each percentage bucket."""
    step_counts = {
        f"step_{i}": Count("pk", filter=Q(value=F("question__scale_min") + i))
        for i in range(MAX_SCALE_STEPS)
    }
    bucket_counts = {
        f"bucket_{i}": Count("pk", filter=Q(value__gte=low, value__lte=high))
        for i, (_, low, high) in enumerate(stats.PERCENT_BUCKETS)
    }
    rows = (
        Answer.objects.filter(
            response__run_id__in=run_ids,
            value__isnull=False,
            question__kind__in=[QuestionKind.SCALE, QuestionKind.PERCENT],
        )
        .values("response__run_id", "question_id")
        .annotate(
            n=Count("pk"),
            mean=Avg("value"),
            mean_square=Avg(F("value") * F("value")),
            **step_counts,
            **bucket_counts,
        )
    )
    return {(row["response__run_id"], row["question_id"]): row for row in rows}


def _multi_choices(run_ids: Sequence[int]) -> dict[tuple[int, int], list[list[str]]]:
    chosen: dict[tuple[int, int], list[list[str]]] = defaultdict(list)
    rows = Answer.objects.filter(
        response__run_id__in=run_ids, question__kind=QuestionKind.MULTI, choices__isnull=False
    ).values_list("response__run_id", "question_id", "choices")
    for run_id, question_id, choices in rows:
        chosen[(run_id, question_id)].append(list(choices or []))
    return chosen


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "answer": quote(Answer._meta.db_table),
        "response": quote(Response._meta.db_table),
        "question": quote(Question._meta.db_table),
    }


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def construct_moments(run_ids: Sequence[int]) -> list[tuple[int, str, str, int, float, float]]:
    """(run, construct, unit, n, mean, mean square) of respondents' construct scores."""
    t = _tables()
    sql = f"""
        SELECT run_id, construct, unit, COUNT(*), AVG(score), AVG(score * score)
        FROM (
            SELECT r.run_id AS run_id, q.construct AS construct,
                   CASE WHEN q.kind = %s THEN 'index' ELSE 'percent' END AS unit,
                   AVG(CASE WHEN q.kind = %s THEN
                           ((CASE WHEN q.reverse_scored THEN q.scale_min + q.scale_max - a.value
                                  ELSE a.value END) - q.scale_min) * 100.0
                           / (q.scale_max - q.scale_min)
                       ELSE a.value * 1.0 END) AS score
            FROM {t["answer"]} a
            JOIN {t["response"]} r ON a.response_id = r.id
            JOIN {t["question"]} q ON a.question_id = q.id
            WHERE r.run_id IN ({_placeholders(run_ids)})
              AND a.value IS NOT NULL AND q.kind IN (%s, %s)
            GROUP BY r.run_id, a.response_id, q.construct, q.kind
        ) scores
        GROUP BY run_id, construct, unit
    """  # noqa: S608 -- table names from the models, values as parameters
    params: list[Any] = [str(QuestionKind.SCALE), str(QuestionKind.SCALE), *run_ids]
    params += [str(QuestionKind.SCALE), str(QuestionKind.PERCENT)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(r[0], r[1], r[2], int(r[3]), float(r[4]), float(r[5])) for r in cursor]


def _trust_rows(run_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """Per run: how many answered usage and trust, how many at the thresholds, and the
    sums of the per-person difference (weekly user − truster) over those who answered
    both."""
    t = _tables()
    sql = f"""
        SELECT run_id,
               COUNT(u), SUM(u), COUNT(tr), SUM(tr),
               SUM(CASE WHEN u IS NOT NULL AND tr IS NOT NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN u IS NOT NULL AND tr IS NOT NULL THEN u - tr ELSE 0 END),
               SUM(CASE WHEN u IS NOT NULL AND tr IS NOT NULL THEN (u - tr) * (u - tr)
                        ELSE 0 END)
        FROM (
            SELECT r.run_id AS run_id,
                   MAX(CASE WHEN q.key = %s THEN (CASE WHEN a.value >= %s THEN 1 ELSE 0 END)
                       END) AS u,
                   MAX(CASE WHEN q.key = %s THEN (CASE WHEN a.value >= %s THEN 1 ELSE 0 END)
                       END) AS tr
            FROM {t["answer"]} a
            JOIN {t["response"]} r ON a.response_id = r.id
            JOIN {t["question"]} q ON a.question_id = q.id
            WHERE r.run_id IN ({_placeholders(run_ids)}) AND q.key IN (%s, %s)
              AND a.value IS NOT NULL
            GROUP BY r.run_id, a.response_id
        ) people
        GROUP BY run_id
    """  # noqa: S608 -- table names from the models, values as parameters
    params: list[Any] = [AI_USAGE_KEY, AI_USAGE_WEEKLY, AI_TRUST_KEY, AI_TRUST_A_LOT, *run_ids]
    params += [AI_USAGE_KEY, AI_TRUST_KEY]
    names = ("usage_n", "usage_yes", "trust_n", "trust_yes", "pairs", "d_sum", "d_squares")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            row[0]: dict(zip(names, (float(v or 0) for v in row[1:]), strict=True))
            for row in cursor
        }


def _summary_fields(run: PulseRun, trust: dict[str, float] | None) -> dict[str, Any]:
    if trust is None:
        return {}
    fields: dict[str, Any] = {}
    if trust["usage_n"] >= run.k:
        fields["ai_weekly_share"] = 100 * trust["usage_yes"] / trust["usage_n"]
    if trust["trust_n"] >= run.k:
        fields["ai_trust_share"] = 100 * trust["trust_yes"] / trust["trust_n"]
    pairs = int(trust["pairs"])
    gap = (
        gaps.trust_gap_from_sums(pairs, trust["d_sum"], trust["d_squares"])
        if pairs >= run.k
        else None
    )
    if gap is not None:
        fields |= {
            "trust_gap": gap.value,
            "trust_gap_low": gap.low,
            "trust_gap_high": gap.high,
            "trust_gap_n": pairs,
        }
    return fields


QUESTION_FIELDS = (
    "run",
    "question",
    "position",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "distribution",
)
CONSTRUCT_FIELDS = ("run", "team", "construct", "unit", "n", "mean", "sd", "ci_low", "ci_high")


def _question_row(
    run: PulseRun,
    question: Question,
    position: int,
    row: dict[str, Any] | None,
    chosen: list[list[str]],
) -> tuple[Any, ...] | None:
    """A QuestionAggregate row in QUESTION_FIELDS order, or None under k."""
    if question.kind == QuestionKind.MULTI:
        if len(chosen) < run.k:
            return None
        distribution = stats.distribution_multi(chosen, question.options)
        return (
            run.pk,
            question.pk,
            position,
            len(chosen),
            None,
            None,
            None,
            None,
            json_value(distribution),
        )
    if row is None or row["n"] < run.k:
        return None
    moments = Moments(row["n"], float(row["mean"]), float(row["mean_square"]))
    estimate = moments.estimate(question.scale_min, question.scale_max)
    if question.kind == QuestionKind.PERCENT:
        distribution = [
            {"label": label, "count": row[f"bucket_{i}"]}
            for i, (label, _, _) in enumerate(stats.PERCENT_BUCKETS)
        ]
    else:
        steps = question.scale_max - question.scale_min + 1
        names = list(question.labels) or [str(question.scale_min + i) for i in range(steps)]
        distribution = [
            {"label": names[i], "value": question.scale_min + i, "count": row[f"step_{i}"]}
            for i in range(steps)
        ]
    return (
        run.pk,
        question.pk,
        position,
        estimate.n,
        estimate.mean,
        estimate.sd,
        estimate.ci_low,
        estimate.ci_high,
        json_value(distribution),
    )


def _percent_ranges(questions: Sequence[Question]) -> dict[str, tuple[float, float]]:
    ranges: dict[str, tuple[float, float]] = {}
    for q in questions:
        if q.kind == QuestionKind.PERCENT:
            low, high = ranges.get(q.construct, (math.inf, -math.inf))
            ranges[q.construct] = (min(low, q.scale_min), max(high, q.scale_max))
    return ranges


def runs_aggregate(run_ids: Sequence[int]) -> list[RunSummary]:
    """Recompute the summary rows of these runs (closed ones only) in one transaction per
    batch of BATCH_RUNS; returns the new summaries. Safe to re-run."""
    summaries: list[RunSummary] = []
    for start in range(0, len(run_ids), BATCH_RUNS):
        summaries += _batch(list(run_ids[start : start + BATCH_RUNS]))
    return summaries


def _batch(run_ids: list[int]) -> list[RunSummary]:
    runs = {run.pk: run for run in PulseRun.objects.filter(pk__in=run_ids, status=RunStatus.CLOSED)}
    if not runs:
        return []
    ids = list(runs)
    respondents = dict(
        Response.objects.filter(run_id__in=ids)
        .values("run_id")
        .annotate(n=Count("pk"))
        .values_list("run_id", "n")
    )
    invited = dict(
        Invitation.objects.filter(run_id__in=ids)
        .values("run_id")
        .annotate(n=Count("pk"))
        .values_list("run_id", "n")
    )
    shown = [run_id for run_id in ids if respondents.get(run_id, 0) >= runs[run_id].k]
    questions = _question_rows(shown) if shown else {}
    chosen = _multi_choices(shown) if shown else {}
    constructs = construct_moments(shown) if shown else []
    trust = _trust_rows(shown) if shown else {}
    run_questions: dict[int, list[tuple[int, int]]] = defaultdict(list)  # (position, id)
    for run_id, question_id, position in RunQuestion.objects.filter(run_id__in=shown).values_list(
        "run_id", "question_id", "position"
    ):
        run_questions[run_id].append((position, question_id))
    bank = Question.objects.in_bulk({q for rqs in run_questions.values() for _, q in rqs})

    summaries: list[RunSummary] = []
    question_rows: list[tuple[Any, ...]] = []
    construct_rows: list[tuple[Any, ...]] = []
    visible = set(shown)
    for run_id, run in runs.items():
        suppressed = run_id not in visible
        summaries.append(
            RunSummary(
                run=run,
                team_id=run.team_id,
                k=run.k,
                invited=invited.get(run_id, 0),
                suppressed=suppressed,
                respondents=None if suppressed else respondents[run_id],
                **({} if suppressed else _summary_fields(run, trust.get(run_id))),
            )
        )
        for position, question_id in sorted(run_questions.get(run_id, [])):
            row = _question_row(
                run,
                bank[question_id],
                position,
                questions.get((run_id, question_id)),
                chosen.get((run_id, question_id), []),
            )
            if row is not None:
                question_rows.append(row)
    percent_ranges = {
        run_id: _percent_ranges([bank[q] for _, q in rqs]) for run_id, rqs in run_questions.items()
    }
    for run_id, construct, unit, n, mean, mean_square in constructs:
        run = runs[run_id]
        if n < run.k:
            continue
        low, high = (0.0, 100.0) if unit == "index" else percent_ranges[run_id][construct]
        e = Moments(n, mean, mean_square).estimate(low, high)
        construct_rows.append(
            (run_id, run.team_id, construct, unit, e.n, e.mean, e.sd, e.ci_low, e.ci_high)
        )
    with transaction.atomic():
        QuestionAggregate.objects.filter(run_id__in=ids).delete()
        ConstructAggregate.objects.filter(run_id__in=ids).delete()
        RunSummary.objects.filter(run_id__in=ids).delete()
        RunSummary.objects.bulk_create(summaries, batch_size=1000)
        rows_insert(QuestionAggregate, QUESTION_FIELDS, question_rows)
        rows_insert(ConstructAggregate, CONSTRUCT_FIELDS, construct_rows)
        periods.periods_mark(run_ids=ids)
    return summaries
