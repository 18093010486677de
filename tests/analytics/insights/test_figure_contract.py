"""Every figure a team-period exports (CSV, API, page tables) carries its interval, or is
declared here with the reason it has none: a new figure without either fails."""

from __future__ import annotations

from analytics.insights.selectors import EXPORT_COLUMNS

# Figures shown without an interval, and why.
NO_INTERVAL = {
    # Delivery figures are counts and medians of every event of the team's shown weeks,
    # not a sample of a larger population: there is nothing to infer, so no interval.
    "throughput": "a count of all the team's merged PRs (or commits) per person-week",
    "commits": "a count of all of them",
    "merged_prs": "a count of all of them",
    "cycle_median_h": "the median of all the week's PRs",
    "pickup_median_h": "the median of all the week's PRs",
    "review_median_h": "the median of all the week's PRs",
    "pr_size_median": "the median of all the week's PRs",
    "deployment_days": "a count",
    "lead_time_median_h": "the median of all deployed changes",
    "change_failure_rate": "all of the week's releases",
    "time_to_restore_median_h": "all of the week's incidents",
    "ai_commit_share": "all of the week's commits",
    "ai_pr_share": "all of the week's merged PRs",
}
SIDES = ("ai_", "other_")


def test_every_exported_estimate_has_an_interval_or_a_stated_reason() -> None:
    names = {column.name for column in EXPORT_COLUMNS}
    figures = [
        column.name
        for column in EXPORT_COLUMNS
        if column.kind == "float" and not column.name.endswith(("_low", "_high"))
    ]
    missing = [
        name
        for name in figures
        if not {f"{name}_low", f"{name}_high"} <= names
        and name not in NO_INTERVAL
        and name.removeprefix(SIDES[0]).removeprefix(SIDES[1]) not in NO_INTERVAL
    ]
    assert missing == []
    # Estimates (from answers, or a model over weeks) are never in the exception list.
    for estimate in ("perceived", "measured", "comparative", "gap", "trust_gap", "safety"):
        assert estimate in figures
        assert estimate not in NO_INTERVAL
    assert "same_size_cycle_ratio" in figures
