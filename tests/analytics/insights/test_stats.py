from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.insights import stats


def test_mean_ci_matches_a_hand_computed_t_interval() -> None:
    # values 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample sd 2.138, t(0.975, 7) = 2.3646
    estimate = stats.mean_ci([2, 4, 4, 4, 5, 5, 7, 9])
    assert estimate.n == 8
    assert estimate.mean == pytest.approx(5.0)
    assert estimate.sd == pytest.approx(2.13809, abs=1e-5)
    half = 2.36462 * 2.13809 / 8**0.5
    assert estimate.ci_low == pytest.approx(5 - half, abs=1e-3)
    assert estimate.ci_high == pytest.approx(5 + half, abs=1e-3)


def test_a_single_value_has_no_interval() -> None:
    estimate = stats.mean_ci([3])
    assert (estimate.mean, estimate.sd, estimate.ci_low) == (3, None, None)


def test_reverse_scoring_and_index_mapping() -> None:
    assert stats.reverse_score(2, 1, 7) == 6
    assert stats.to_index(7, 1, 7) == 100
    assert stats.to_index(4, 1, 7) == 50


def test_construct_scores_reverse_items_and_map_to_0_100() -> None:
    answers = pd.DataFrame(
        [
            # respondent a: item 1 (reversed) answered 1 → 7 → 100; item 2 answered 4 → 50
            ("a", "psychological_safety", "scale", 1.0, 1, 7, True),
            ("a", "psychological_safety", "scale", 4.0, 1, 7, False),
            ("a", "perceived_speed", "percent", 20.0, -50, 100, False),
            ("b", "psychological_safety", "scale", 7.0, 1, 7, True),
            ("b", "psychological_safety", "scale", 1.0, 1, 7, False),
            ("b", "ai_usage", "multi", None, 1, 7, False),
        ],
        columns=[
            "response_id",
            "construct",
            "kind",
            "value",
            "scale_min",
            "scale_max",
            "reverse_scored",
        ],
    )
    scores = stats.construct_scores(answers).set_index(["response_id", "construct"])
    assert scores.loc[("a", "psychological_safety"), "score"] == pytest.approx(75.0)
    assert scores.loc[("b", "psychological_safety"), "score"] == pytest.approx(0.0)
    assert scores.loc[("a", "perceived_speed"), "score"] == pytest.approx(20.0)
    assert scores.loc[("a", "perceived_speed"), "unit"] == "percent"
    assert ("b", "ai_usage") not in scores.index


def test_share_at_least() -> None:
    assert stats.share_at_least([1, 3, 4, 5], 4) == 50


def test_distributions_count_every_step_and_bucket() -> None:
    scale = stats.distribution_scale([1, 1, 3], 1, 3, ["lo", "mid", "hi"])
    assert [(r["label"], r["count"]) for r in scale] == [("lo", 2), ("mid", 0), ("hi", 1)]
    percent = stats.distribution_percent([-50, 0, 0, 20, 100])
    assert sum(r["count"] for r in percent) == 5
    multi = stats.distribution_multi(
        [["a"], ["a", "b"]], [{"key": "a", "label": "A"}, {"key": "b", "label": "B"}]
    )
    assert [r["count"] for r in multi] == [2, 1]


def test_an_interval_is_cut_to_the_scale_but_the_mean_is_kept() -> None:
    estimate = stats.clipped(stats.mean_ci([1, 1, 7]), 1, 7)
    assert estimate.mean == pytest.approx(3.0)
    assert estimate.ci_low == 1
    assert estimate.ci_high == 7


def test_estimates_over_arrays_equal_mean_ci_one_group_at_a_time() -> None:
    groups = [[1.0, 4.0, 4.0, 5.0, 7.0, 2.0], [3.0, 3.0], [6.0], [7.0, 7.0, 7.0, 6.0, 7.0]]
    n = np.array([len(g) for g in groups])
    total = np.array([sum(g) for g in groups])
    squares = np.array([sum(v * v for v in g) for g in groups])

    mean, sd, low, high = stats.estimates(n, total, squares, np.full(4, 1.0), np.full(4, 7.0))

    for i, values in enumerate(groups):
        want = stats.clipped(stats.mean_ci(values), 1, 7)
        assert mean[i] == pytest.approx(want.mean)
        if want.sd is None:
            assert np.isnan([sd[i], low[i], high[i]]).all()
        else:
            assert (sd[i], low[i], high[i]) == pytest.approx((want.sd, want.ci_low, want.ci_high))
    assert high[3] == 7.0  # the interval is cut at the top of the scale
