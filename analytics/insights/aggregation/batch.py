"""A batch of runs from the database's sums to the summary rows: the question counts
folded per (run, question) with numpy, construct scores from the question pass (one
item) or the person pass (several items), Student-t estimates over arrays, and the rows
in the order the summary tables' fields are listed. Nothing with fewer than k behind it
becomes a row."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analytics.insights import release, stats
from analytics.insights.aggregation.queries import (
    AI_TRUST_KEY,
    AI_USAGE_KEY,
    PersonColumn,
    fetch,
    person_sums,
)
from analytics.insights.release import QuestionRelease
from surveys.anonymity import group_shown
from surveys.disclosure import Release
from surveys.pulses.models import (
    MAX_SCALE_STEPS,
    Question,
    QuestionKind,
    RunQuestion,
)

NUMERIC = (QuestionKind.SCALE, QuestionKind.PERCENT)
BUCKET_LOWS = np.array([low for _, low, _ in stats.PERCENT_BUCKETS], dtype=np.int64)
BUCKET_HIGHS = np.array([high for _, _, high in stats.PERCENT_BUCKETS], dtype=np.int64)

Sums = tuple[int, float, float]  # n, Σ x, Σ x²


def column_of(question: Question) -> PersonColumn:
    unit = "index" if question.kind == QuestionKind.SCALE else "percent"
    return PersonColumn(question.construct, unit)


@dataclass(frozen=True)
class Plan:
    """What a batch of runs asked: each (run, question)'s position, the bank, and the
    constructs that need the person pass (two or more numeric items in some run)."""

    position: dict[tuple[int, int], int]
    bank: dict[int, Question]
    person_columns: list[PersonColumn]

    @classmethod
    def of(cls, run_ids: Sequence[int]) -> Plan:
        bank = Question.objects.in_bulk()  # the whole bank: a few hundred rows at most
        table = RunQuestion._meta.db_table
        # A raw read: at a full recompute's scale the ORM's per-row work shows.
        asked = (
            fetch(
                f"SELECT run_id, question_id, position FROM {table} "  # noqa: S608
                f"WHERE run_id IN ({', '.join(['%s'] * len(run_ids))})",
                run_ids,
            )
            if run_ids
            else []
        )
        items: dict[tuple[int, PersonColumn], int] = defaultdict(int)
        columns = {q.pk: column_of(q) for q in bank.values() if q.kind in NUMERIC}
        for run_id, question_id, _ in asked:
            if question_id in columns:
                items[(run_id, columns[question_id])] += 1
        several = {column for (_, column), count in items.items() if count > 1}
        return cls(
            position={(run, question): position for run, question, position in asked},
            bank=bank,
            person_columns=sorted(several),
        )

    def questions(self, keep: Iterable[PersonColumn] | None = None) -> list[int]:
        """Numeric questions of the person pass's columns (or of `keep`)."""
        wanted = set(self.person_columns if keep is None else keep)
        return sorted(
            q.pk for q in self.bank.values() if q.kind in NUMERIC and column_of(q) in wanted
        )

    @property
    def multi_questions(self) -> list[int]:
        return sorted(q.pk for q in self.bank.values() if q.kind == QuestionKind.MULTI)

    def lookup(self, value: Mapping[int, float] | None = None, *, attribute: str = "") -> Any:
        """An array indexed by question id: `value[id]` (0 where missing), or the
        question's attribute."""
        table = np.zeros(max(self.bank, default=0) + 1, dtype=np.float64)
        for pk, question in self.bank.items():
            table[pk] = value.get(pk, 0.0) if value is not None else getattr(question, attribute)
        return table


@dataclass(frozen=True)
class QuestionSums:
    """Per (run, question): n, Σ value, Σ value², the count at each scale step above
    the question's minimum and in each percentage bucket; arrays of one length."""

    run: np.ndarray
    question: np.ndarray
    n: np.ndarray
    total: np.ndarray
    squares: np.ndarray
    steps: np.ndarray  # (groups, MAX_SCALE_STEPS)
    buckets: np.ndarray  # (groups, len(stats.PERCENT_BUCKETS))

    def __len__(self) -> int:
        return len(self.run)


def fold_counts(rows: Sequence[tuple[int, int, int | None, int]], plan: Plan) -> QuestionSums:
    """queries.value_counts' (run, question, value, count) rows with a value, folded per
    (run, question)."""
    numeric = [row for row in rows if row[2] is not None]
    data = np.array(numeric, dtype=np.int64).reshape(-1, 4)
    run, question, value, count = data.T
    width = max(plan.bank, default=0) + 1
    groups, inverse = np.unique(run * width + question, return_inverse=True)
    size = len(groups)

    def per_group(weights: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=weights, minlength=size)

    def histogram(index: np.ndarray, inside: np.ndarray, bins: int) -> np.ndarray:
        cells = inverse[inside] * bins + index[inside]
        counted = np.bincount(cells, weights=count[inside], minlength=size * bins)
        return counted.astype(np.int64).reshape(size, bins)

    offset = value - plan.lookup(attribute="scale_min")[question].astype(np.int64)
    bucket = np.searchsorted(BUCKET_LOWS, value, side="right") - 1
    in_bucket = (bucket >= 0) & (value <= BUCKET_HIGHS[bucket.clip(0)])
    return QuestionSums(
        run=groups // width,
        question=groups % width,
        n=per_group(count).astype(np.int64),
        total=per_group(count * value),
        squares=per_group(count * value * value),
        steps=histogram(offset, (offset >= 0) & (offset < MAX_SCALE_STEPS), MAX_SCALE_STEPS),
        buckets=histogram(bucket, in_bucket, len(BUCKET_LOWS)),
    )


def construct_sums(
    run_ids: Sequence[int],
    plan: Plan,
    sums: QuestionSums,
    *,
    keep: Iterable[PersonColumn] | None = None,
) -> dict[tuple[int, PersonColumn], Sums]:
    """Each run's construct-score sums (those of `keep`, or all). A construct that no run
    of the batch asks with several items is a linear map of its one item, so its sums
    follow from the question sums: Σ (a x + b) and Σ (a x + b)² from n, Σ x and Σ x². The
    others come from the person pass."""
    several = set(plan.person_columns)
    wanted = None if keep is None else set(keep)
    mapped = {
        q.pk: (column, *release.score_map(q))
        for q in plan.bank.values()
        if q.kind in NUMERIC
        and (column := column_of(q)) not in several
        and (wanted is None or column in wanted)
    }
    found: dict[tuple[int, PersonColumn], Sums] = {}
    if mapped and len(sums):
        a = plan.lookup({pk: m[1] for pk, m in mapped.items()})[sums.question]
        b = plan.lookup({pk: m[2] for pk, m in mapped.items()})[sums.question]
        totals = a * sums.total + b * sums.n
        squares = a * a * sums.squares + 2 * a * b * sums.total + b * b * sums.n
        for run_id, question_id, n, total, square in zip(
            sums.run.tolist(),
            sums.question.tolist(),
            sums.n.tolist(),
            totals.tolist(),
            squares.tolist(),
            strict=True,
        ):
            if question_id in mapped:
                found[(run_id, mapped[question_id][0])] = (n, total, square)
    columns = [c for c in plan.person_columns if wanted is None or c in wanted]
    if not columns or not run_ids:
        return found
    for row in person_sums(run_ids, plan.questions(columns), columns):
        for position, column in enumerate(columns):
            n, total, square = row[1 + 3 * position : 4 + 3 * position]
            if n:  # PostgreSQL sums integers as Decimal
                found[(row[0], column)] = (int(n), float(total), float(square))
    return found


def summary_figures(plan: Plan, released: Mapping[int, QuestionRelease]) -> dict[str, Any]:
    """A shown run's AI-usage and trust shares and its trust gap, from its questions'
    releases (question id → release): a share shows only where the release shows it (a
    union of whole bins, so 0 or ≥ k people), and the gap only with both shares, computed
    from them alone (release.trust_gap_release) — a paired interval would give back how
    many answered the two items differently."""
    keys = {question.key: pk for pk, question in plan.bank.items()}
    shown = {}
    for key, name in ((AI_USAGE_KEY, "ai_weekly_share"), (AI_TRUST_KEY, "ai_trust_share")):
        found = released.get(keys.get(key, -1))
        if found is not None and found.share is not None:
            shown[name] = (found.share, found.n)
    fields: dict[str, Any] = {name: 100 * yes / n for name, (yes, n) in shown.items()}
    if len(shown) == 2:
        gap = release.trust_gap_release(shown["ai_weekly_share"], shown["ai_trust_share"])
        fields |= {
            "trust_gap": gap.mean,
            "trust_gap_low": gap.low,
            "trust_gap_high": gap.high,
            "trust_gap_n": gap.n,
        }
    return fields


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def _json_counts(counts: Sequence[int]) -> str:
    return "[" + ", ".join(map(str, counts)) + "]"


def _json_rows(matrix: np.ndarray, widths: np.ndarray) -> list[str]:
    """Each row's first `width` counts as JSON text, one format string per width."""
    texts = [""] * len(matrix)
    for width in np.unique(widths).tolist():
        rows = np.flatnonzero(widths == width)
        template = "[" + ", ".join(["%d"] * width) + "]"
        for i, counts in zip(rows.tolist(), matrix[rows, :width].tolist(), strict=True):
            texts[i] = template % tuple(counts)
    return texts


def _counts_matrix(plan: Plan, sums: QuestionSums, kept: np.ndarray) -> tuple[np.ndarray, ...]:
    """The kept rows' counts (buckets for percentages, else steps) and their widths."""
    widths = {
        q.pk: len(BUCKET_LOWS) if q.kind == QuestionKind.PERCENT else q.scale_max - q.scale_min + 1
        for q in plan.bank.values()
        if q.kind in NUMERIC
    }
    is_percent = {q.pk: 1.0 for q in plan.bank.values() if q.kind == QuestionKind.PERCENT}
    question = sums.question[kept]
    buckets = np.zeros((len(kept), MAX_SCALE_STEPS), dtype=np.int64)
    buckets[:, : len(BUCKET_LOWS)] = sums.buckets[kept]
    percent = plan.lookup(is_percent)[question] > 0
    matrix = np.where(percent[:, None], buckets, sums.steps[kept])
    return matrix, plan.lookup(widths)[question].astype(np.int64)


Released = dict[tuple[int, int], QuestionRelease]  # (run, question) → its release


def question_rows(
    k: Mapping[int, int],
    plan: Plan,
    sums: QuestionSums,
    answered: Mapping[tuple[int, int], int],
    chosen: Mapping[tuple[int, int], dict[str, int]],
) -> tuple[list[tuple[Any, ...]], Released]:
    """QuestionAggregate rows (run, question, position, n, mean, sd, ci_low, ci_high,
    precision, counts as JSON text), each mean and interval as the release layer lets it
    out (analytics.insights.release) and no SD; none with fewer than k answers. Also each
    numeric row's release, for the constructs. Multiple-choice questions come from
    `answered` (how many) and `chosen` (per option)."""
    rows: list[tuple[Any, ...]] = []
    released: Released = {}
    kept = np.flatnonzero(sums.n >= np.array([k[run] for run in sums.run.tolist()]))
    if len(kept):
        matrix, widths = _counts_matrix(plan, sums, kept)
        at = plan.position
        release.prefetch(
            (plan.bank[question_id], k[run_id], counts)
            for run_id, question_id, counts in zip(
                sums.run[kept].tolist(), sums.question[kept].tolist(), matrix.tolist(), strict=True
            )
        )
        for run_id, question_id, n, total, squares, counts, json_counts in zip(
            sums.run[kept].tolist(),
            sums.question[kept].tolist(),
            sums.n[kept].tolist(),
            sums.total[kept].tolist(),
            sums.squares[kept].tolist(),
            matrix.tolist(),
            _json_rows(matrix, widths),
            strict=True,
        ):
            released[(run_id, question_id)] = found = release.question_release(
                plan.bank[question_id], k[run_id], counts, total, squares
            )
            figures = found.figures
            rows.append(
                (
                    run_id,
                    question_id,
                    at.get((run_id, question_id), 0),
                    n,
                    figures.mean,
                    None,
                    figures.low,
                    figures.high,
                    figures.precision,
                    json_counts,
                )
            )
    for (run_id, question_id), n in answered.items():
        if not group_shown(n, k[run_id]):
            continue
        counted = chosen.get((run_id, question_id), {})
        options = [counted.get(o["key"], 0) for o in plan.bank[question_id].options]
        position = plan.position.get((run_id, question_id), 0)
        rows.append(
            (run_id, question_id, position, n, None, None, None, None, None, _json_counts(options))
        )
    return rows, released


def construct_rows(
    team: Mapping[int, int], plan: Plan, released: Released
) -> list[tuple[Any, ...]]:
    """ConstructAggregate rows (run, team, construct, unit, n, mean, sd, ci_low, ci_high,
    precision, items) computed from the released figures of the construct's items in the run
    (release.construct_release); none where no item has a released mean."""
    items: dict[tuple[int, PersonColumn], list[tuple[Question, int, Release]]] = defaultdict(list)
    for (run_id, question_id), found in released.items():
        question = plan.bank[question_id]
        items[(run_id, column_of(question))].append((question, found.n, found.figures))
    rows = []
    for (run_id, column), parts in sorted(items.items()):
        derived = release.construct_release(parts)
        if derived is not None:
            rows.append(
                (
                    run_id,
                    team[run_id],
                    column.construct,
                    column.unit,
                    derived.n,
                    derived.mean,
                    None,
                    derived.low,
                    derived.high,
                    derived.precision,
                    len(parts),
                )
            )
    return rows
