"""Where AI helps us: tallies per task category and the heatmap built from them. Pure."""

from __future__ import annotations

from datetime import date

from surveys.retros.learning import Counts, Sprint, heatmap_build, tallies_count


def sprint(label: str, submissions: int = 8, k: int = 5) -> Sprint:
    return Sprint(label=label, sprint_start=date(2026, 1, 5), submissions=submissions, k=k)


def test_tallies_count_people_not_cards() -> None:
    cards = [
        ("a", "tests", "helped"),
        ("a", "tests", "helped"),
        ("a", "tests", "hurt"),
        ("b", "tests", "helped"),
        ("c", "debugging", "chose_not"),
    ]
    assert tallies_count(cards) == {
        "tests": Counts(people=2, helped=2, hurt=1, chose_not=0),
        "debugging": Counts(people=1, helped=0, hurt=0, chose_not=1),
    }


def test_a_cell_shows_only_from_k_people() -> None:
    heatmap = heatmap_build(
        [sprint("S1"), sprint("S2")],
        {
            (0, "tests"): Counts(people=5, helped=4, hurt=1),
            (1, "tests"): Counts(people=4, helped=4),
        },
    )
    tests = next(row for row in heatmap.rows if row.category == "tests")
    # 4 helped and 1 hurt of 5 would each single out one person: hidden inside the cell.
    assert tests.cells[0].counts == Counts(people=5, helped=None, hurt=None, chose_not=0)
    assert tests.cells[1].counts is None
    assert heatmap.has_data


def test_an_empty_cell_and_a_small_one_look_the_same() -> None:
    heatmap = heatmap_build([sprint("S1")], {(0, "tests"): Counts(people=2, helped=2)})
    tests = next(row for row in heatmap.rows if row.category == "tests")
    docs = next(row for row in heatmap.rows if row.category == "documentation")
    assert tests.cells == docs.cells
    assert not heatmap.has_data


def test_a_sprint_with_fewer_than_k_submissions_shows_no_cell() -> None:
    heatmap = heatmap_build([sprint("S1", submissions=4)], {(0, "tests"): Counts(people=5)})
    assert not heatmap.has_data


def test_the_row_total_is_the_sum_of_the_shown_cells_so_nothing_hidden_can_be_recovered() -> None:
    shown_a = Counts(people=6, helped=5, hurt=1, chose_not=0)
    hidden = Counts(people=3, helped=0, hurt=3, chose_not=0)
    shown_b = Counts(people=5, helped=2, hurt=2, chose_not=2)
    heatmap = heatmap_build(
        [sprint("S1"), sprint("S2"), sprint("S3")],
        {(0, "tests"): shown_a, (1, "tests"): hidden, (2, "tests"): shown_b},
    )
    tests = next(row for row in heatmap.rows if row.category == "tests")
    assert tests.shown_total == shown_a.shown(5) + shown_b.shown(5)
    assert tests.shown_total == Counts(people=11, helped=None, hurt=None, chose_not=0)
    visible = [cell.counts for cell in tests.cells if cell.counts is not None]
    recovered = tests.shown_total.people - sum(counts.people for counts in visible)
    assert recovered == 0  # total minus the visible cells leaves nothing of the hidden one


def test_a_row_with_no_shown_cell_has_no_total() -> None:
    heatmap = heatmap_build([sprint("S1")], {(0, "tests"): Counts(people=4, helped=4)})
    assert all(row.shown_total is None for row in heatmap.rows)


def test_rows_cover_every_task_category_in_a_fixed_order() -> None:
    rows = heatmap_build([], {}).rows
    assert [row.category for row in rows][:3] == ["boilerplate", "tests", "documentation"]
    assert rows[-1].category == "other"
    assert len(rows) == 11


def test_the_colour_follows_what_most_people_reported() -> None:
    assert Counts(people=5, helped=4, hurt=1).lean == "helped"
    assert Counts(people=5, helped=4, hurt=1).strength == 2
    assert Counts(people=6, helped=2, hurt=4).lean == "hurt"
    assert Counts(people=6, helped=2, hurt=4).strength == 1
    assert Counts(people=5, chose_not=3, helped=2).lean == "chose_not"
    assert Counts(people=6, helped=3, hurt=3).lean == "mixed"


def test_no_lean_is_read_from_hidden_counts() -> None:
    # 4 helped and 2 hurt of 6, or the other way round: both counts are hidden (2, and
    # 6 − 4, are under k), so "mostly helped" or "mostly hurt" would tell them apart.
    helped, hurt = Counts(people=6, helped=4, hurt=2).shown(5), Counts(6, 2, 4).shown(5)
    # 7 of 12 helped is shown, but next to a hidden hurt count (2, or 12 − 8) "mostly
    # helped" would say which.
    few_hurt, many_hurt = Counts(12, 7, 2).shown(5), Counts(12, 7, 8).shown(5)
    for one, other in ((helped, hurt), (few_hurt, many_hurt)):
        assert one == other
        assert (one.lean, one.lean_label, one.strength) == (
            other.lean,
            other.lean_label,
            other.strength,
        )
        assert "Mostly" not in one.lean_label


def test_a_total_with_a_hidden_count_in_it_has_no_lean_either() -> None:
    shown = Counts(people=5, helped=5, hurt=0, chose_not=0)
    totals = [
        heatmap_build(
            [sprint("S1"), sprint("S2")],
            {(0, "tests"): shown, (1, "tests"): Counts(people=9, helped=helped, hurt=9 - helped)},
        ).rows[1]
        for helped in (1, 8)  # 1 and 8 of 9: both hidden
    ]
    assert totals[0].shown_total == totals[1].shown_total
    assert "Mostly" not in totals[0].shown_total.lean_label
    assert totals[0].shown_total.lean == totals[1].shown_total.lean
    assert shown.shown(5).lean_label == "Mostly helped"  # every count shown: it may say so
