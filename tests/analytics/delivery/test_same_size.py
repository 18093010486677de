"""AI-assisted vs other PRs of one team at equal size: the estimate against an independent
dummy-variable fit, its interval's coverage, and the k rule on the weeks it uses."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from analytics.delivery.metrics import (
    COMPARE_MIN_WEEKS,
    same_size_comparison,
    team_week_metrics,
)


def _sample(
    rng: np.random.Generator, weeks: int, ratio: float = 1.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merged PRs of `weeks` weeks: AI-assisted ones twice as big, cycle time growing with
    size, a shared effect per week and a per-week wobble of the AI effect."""
    week, ai, hours, size = [], [], [], []
    for w in range(weeks):
        shared, wobble = rng.normal(0, 0.4), rng.normal(0, 0.1)
        for is_ai in [True] * int(rng.integers(3, 7)) + [False] * int(rng.integers(3, 7)):
            lines = rng.lognormal(math.log(160 if is_ai else 80), 0.6)
            log_hours = 1.5 + shared + 0.3 * math.log1p(lines) + rng.normal(0, 0.6)
            log_hours += (math.log(ratio) + wobble) if is_ai else 0
            week.append(w * 7)
            ai.append(is_ai)
            hours.append(math.exp(log_hours))
            size.append(round(lines))
    return np.array(week), np.array(ai), np.array(hours), np.array(size)


def test_the_estimate_matches_an_independent_dummy_variable_fit() -> None:
    week, ai, hours, size = _sample(np.random.default_rng(3), 10)
    result = same_size_comparison(week, ai, hours, size)
    assert result is not None
    # Least squares with an indicator per week, and the week-clustered sandwich by hand.
    weeks = np.unique(week)
    design = np.column_stack(
        [ai.astype(float), np.log1p(size), *(week == w for w in weeks)]
    ).astype(float)
    y = np.log(hours)
    bread = np.linalg.inv(design.T @ design)
    beta = bread @ design.T @ y
    residual = y - design @ beta
    meat = sum(
        np.outer(
            design[week == w].T @ residual[week == w], design[week == w].T @ residual[week == w]
        )
        for w in weeks
    )
    n, p, g = len(y), design.shape[1], len(weeks)
    variance = g / (g - 1) * (n - 1) / (n - p) * bread @ meat @ bread
    half = scipy_stats.t.ppf(0.975, g - 1) * math.sqrt(variance[0, 0])
    assert result["ratio"] == pytest.approx(math.exp(beta[0]))
    assert result["low"] == pytest.approx(math.exp(beta[0] - half))
    assert result["high"] == pytest.approx(math.exp(beta[0] + half))
    assert result["weeks"] == 10


@pytest.mark.parametrize("weeks", [8, 12])
def test_the_interval_covers_the_true_ratio(weeks: int) -> None:
    """True ratio 1.5 at equal size (AI-assisted PRs twice as big, so the raw medians say
    more): the 95 % interval covers it in 92.5–97.5 % of teams."""
    rng = np.random.default_rng(weeks)
    runs, covered, raw = 1000, 0, 0
    for _ in range(runs):
        week, ai, hours, size = _sample(rng, weeks)
        result = same_size_comparison(week, ai, hours, size)
        assert result is not None
        covered += result["low"] <= 1.5 <= result["high"]
        raw += float(np.median(hours[ai]) / np.median(hours[~ai]))
    assert 0.925 <= covered / runs <= 0.975
    assert raw / runs > 1.6  # unadjusted, bigger PRs read as slower


def test_too_few_weeks_with_both_kinds_give_nothing() -> None:
    week, ai, hours, size = _sample(np.random.default_rng(5), COMPARE_MIN_WEEKS)
    ai[week == 0] = True  # one week with AI-assisted PRs only
    assert same_size_comparison(week, ai, hours, size) is None


def _prs(weeks: int, ai_authors: int) -> pd.DataFrame:
    """Five people's merged PRs each week, other PRs by all of them; AI-assisted ones by
    the first `ai_authors`."""
    rows = []
    monday = pd.Timestamp("2026-03-02T09:00:00Z")
    for w in range(weeks):
        for author in range(5):
            for is_ai in (True, False):
                if is_ai and author >= ai_authors:
                    continue
                created = monday + timedelta(weeks=w, hours=author)
                rows.append(
                    {
                        "team_id": 1,
                        "repository_id": 1,
                        "author_id": author,
                        "created_at": created,
                        "first_review_at": created + timedelta(hours=1),
                        "merged_at": created + timedelta(hours=(30 if is_ai else 20) + author),
                        "additions": 50 + 10 * author + 7 * w,
                        "deletions": 0,
                        "ai": is_ai,
                    }
                )
    return pd.DataFrame(rows)


def _compared(prs: pd.DataFrame) -> dict[date, dict]:
    names = ["team_id", "repository_id", "sha", "author_id", "is_merge", "reverted_sha", "ai"]
    commits = pd.DataFrame(columns=names).assign(
        committed_at=pd.Series(dtype="datetime64[ns, UTC]"),
        deployed_at=pd.Series(dtype="datetime64[ns, UTC]"),
    )
    releases = pd.DataFrame(columns=["team_id", "repository_id", "tagged_at"])
    weeks = team_week_metrics(commits=commits, prs=prs, releases=releases, k_by_team={1: 5})
    return {w.week_start: w.figures["ai_same_size"] for w in weeks if "ai_same_size" in w.figures}


def test_only_windows_whose_both_sides_come_from_k_people_are_shown() -> None:
    full = _compared(_prs(9, ai_authors=5))
    assert len(full) == 2  # the 8th and 9th weeks: enough weeks with both kinds
    assert next(iter(full.values()))["ratio"] == pytest.approx(1.4, rel=0.1)
    assert next(iter(full.values()))["weeks"] == COMPARE_MIN_WEEKS
    # AI-assisted PRs by four people in every week: their figure would be theirs.
    assert _compared(_prs(9, ai_authors=4)) == {}
