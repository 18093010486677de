"""What a team learns across sprints: per task category, how many people said AI helped,
hurt, or that they chose not to use it — the "where AI helps us" heatmap. Pure.

Input is the stored tallies (`RetroTally`: only categories with at least k people, written
when a session closes). A cell under k shows nothing, and says the same whether nobody or
a few people wrote about the category, so not even "someone did" leaks. Inside a shown
cell, an effect's count is shown only when it and the people who did not report it are
each 0 or at least k (surveys.anonymity.count_shown): "1 helped" among six is one
person's card. The cell's lean ("Mostly helped", and its colour) compares the counts, so it
is given only when every one of them is shown (`comparison_shown`), and a total's only
when no count summed into it was hidden: next to a hidden count, "mostly helped" would
narrow it down. The row total is the sum of the cells and counts shown, never a count
taken over all cards: a total that included hidden ones would give them away by
subtraction (total minus the visible cells), and so would the change of such a total
when the next sprint is added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from surveys.anonymity import comparison_shown, count_shown, group_shown
from surveys.retros.models import CardEffect, TaskCategory

HEATMAP_SPRINTS = 6
STRONG_SHARE = 0.75
LEAN_LABELS = {
    CardEffect.HELPED.value: "Mostly helped",
    CardEffect.HURT.value: "Mostly hurt",
    CardEffect.CHOSE_NOT.value: "Mostly chose not to use it",
    "mixed": "Mixed",
    None: "Lean not shown",
}


EFFECTS = (CardEffect.HELPED.value, CardEffect.HURT.value, CardEffect.CHOSE_NOT.value)


def _plus(a: int | None, b: int | None) -> int | None:
    """A sum of counts shown: a hidden (None) one adds nothing."""
    return b if a is None else a if b is None else a + b


@dataclass(frozen=True)
class Counts:
    """People in a category (n) and how many of them reported each effect. One person can
    report several effects, so the three may add up to more than n. An effect is None
    where it is hidden (see `shown`); `complete` is false once any count in it, or summed
    into it, was hidden — then it has no lean.
    """

    people: int = 0
    helped: int | None = 0
    hurt: int | None = 0
    chose_not: int | None = 0
    complete: bool = field(default=True, compare=False)

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            people=self.people + other.people,
            helped=_plus(self.helped, other.helped),
            hurt=_plus(self.hurt, other.hurt),
            chose_not=_plus(self.chose_not, other.chose_not),
            complete=self.whole and other.whole,
        )

    @property
    def whole(self) -> bool:
        """Whether no count here, nor any summed into it, is hidden."""
        return self.complete and all(getattr(self, effect) is not None for effect in EFFECTS)

    def shown(self, k: int) -> Counts:
        """The counts as a cell may show them: an effect reported, or not reported, by 1 to
        k − 1 of the people is hidden, and with it the lean."""

        def hide(count: int | None) -> int | None:
            return None if count is not None and not count_shown(count, self.people, k) else count

        counts = [count for effect in EFFECTS if (count := getattr(self, effect)) is not None]
        return Counts(
            people=self.people,
            helped=hide(self.helped),
            hurt=hide(self.hurt),
            chose_not=hide(self.chose_not),
            complete=self.whole and comparison_shown(counts, self.people, k),
        )

    @property
    def lean(self) -> str | None:
        """The effect most people reported ("mixed" on a tie), for the colour: which effect,
        never how many. None when a count it would compare is hidden."""
        if not self.whole:
            return None
        by_effect = {effect: getattr(self, effect) for effect in EFFECTS}
        top = max(by_effect.values())
        leaders = [effect for effect, count in by_effect.items() if count == top]
        return leaders[0] if top and len(leaders) == 1 else "mixed"

    @property
    def lean_label(self) -> str:
        return LEAN_LABELS[self.lean]

    @property
    def strength(self) -> int:
        """2 when the leading effect comes from at least 3 in 4 people, else 1 (and 1 with
        no lean: a hidden count's share is not hinted at either)."""
        lean = self.lean
        if lean is None or lean == "mixed" or not self.people:
            return 1
        return 2 if getattr(self, lean) >= STRONG_SHARE * self.people else 1


@dataclass(frozen=True)
class Sprint:
    """A closed session as a heatmap column. `submissions` (people who wrote) decides
    whether its cells may show; `people` is what the column may say of who took part
    (surveys/retros/participation.py): None where that would count fewer than k."""

    label: str
    sprint_start: date
    submissions: int
    k: int
    people: int | None = None

    @property
    def shown(self) -> bool:
        return group_shown(self.submissions, self.k)


@dataclass(frozen=True)
class Cell:
    counts: Counts | None  # None: fewer than k people (or none) — nothing is shown

    @property
    def shown(self) -> bool:
        return self.counts is not None


@dataclass
class Row:
    category: str
    label: str
    cells: list[Cell] = field(default_factory=list)

    @property
    def shown_total(self) -> Counts | None:
        """The sum of the cells and counts shown (hidden ones are never part of it); None if
        no cell is shown."""
        shown = [cell.counts for cell in self.cells if cell.counts is not None]
        return sum(shown[1:], shown[0]) if shown else None


@dataclass
class Heatmap:
    sprints: list[Sprint]
    rows: list[Row]

    @property
    def has_data(self) -> bool:
        return any(cell.shown for row in self.rows for cell in row.cells)


def heatmap_build(sprints: Sequence[Sprint], tallies: Mapping[tuple[int, str], Counts]) -> Heatmap:
    """Rows per task category, a cell per sprint (`tallies` keyed by the sprint's index in
    `sprints` and the category). A cell shows only from at least the sprint's k people,
    and only the effect counts that isolate nobody (`Counts.shown`)."""
    rows = []
    for category in TaskCategory:
        row = Row(category=category.value, label=str(category.label))
        for index, sprint in enumerate(sprints):
            counts = tallies.get((index, category.value))
            visible = counts is not None and sprint.shown and group_shown(counts.people, sprint.k)
            row.cells.append(Cell(counts.shown(sprint.k) if counts and visible else None))
        rows.append(row)
    return Heatmap(sprints=list(sprints), rows=rows)


def tallies_count(cards: Iterable[tuple[Hashable, str, str]]) -> dict[str, Counts]:
    """Per task category, from (submission, category, effect) of every card: how many
    people wrote about it and how many of them reported each effect. People, not cards:
    someone with three "helped" cards on tests counts once."""
    people: dict[str, set[Hashable]] = defaultdict(set)
    reported: dict[tuple[str, str], set[Hashable]] = defaultdict(set)
    for submission, category, effect in cards:
        people[category].add(submission)
        reported[category, effect].add(submission)
    return {
        category: Counts(
            people=len(submissions),
            helped=len(reported[category, CardEffect.HELPED.value]),
            hurt=len(reported[category, CardEffect.HURT.value]),
            chose_not=len(reported[category, CardEffect.CHOSE_NOT.value]),
        )
        for category, submissions in people.items()
    }
