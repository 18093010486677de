"""Every anonymity rule, in one pure module: k, bins inside a group, secondary
suppression over the team tree and over time. Numbers in, decisions out — no ORM, no
request — so each rule is checked against worked examples and property tests
(tests/surveys/test_anonymity.py), and every surface that shows a figure asks here.

A group. Nothing is shown for fewer than k distinct people (`group_shown`); k is K_MIN
unless an admin raised it (and the database refuses less: `surveys.links.models.k_floor`).

The team tree. A roll-up of a team's subtree is shown next to the figures of the teams
in it. Whatever a viewer subtracts (a roll-up minus the shown parts under it) leaves the
hidden parts; those must hold 0 or at least k people. Checked bottom-up: a roll-up is
shown only if it holds at least k people and the people of its own team's hidden runs
and of its children's hidden roll-ups are 0 or ≥ k. Then any difference between shown
figures is made of such residues, each of 0 or ≥ k people, so it is 0 or ≥ k too.
People are counted once however many runs they answered in the week (two pulses, or a
membership of two teams): k counts people, not responses. When a residue is too small, the roll-up
is hidden rather than a sibling: a sibling's figure is already on its own page and in
the API, and hiding it there to rescue a roll-up would take a team's results from its
own manager.

Over time. Between two periods of one team, the people invited can change. A change
that adds or removes between 1 and k − 1 people would let someone compare the periods
and read those people's answers; the change figure (and the drop alert, which compares
periods) is withheld for such a pair.

Inside a group. A group of n ≥ k may be shown, but a count inside it of between 1 and
k − 1 people ("one person strongly disagrees") is a count for fewer than k, and so is
n minus a count. An ordered distribution (scale steps, percentage buckets) is shown in
bins of adjacent steps merged until each holds 0 or at least k people; an unordered
count (a multiple-choice option, a retro card's effect) is shown only when it and what
it leaves out are each 0 or at least k. A statement that compares counts ("mostly
helped": which is largest, or whether one reaches a share of n) reads every count it
compares, so it is shown only when each of them is (`comparison_shown`): next to a
hidden count it would narrow it down.

Who took part. A count of the people who took part (wrote retro cards) is a count of
people too: shown only when it is at least k and the invited who did not are 0 or at least
k (`participation_shown`). A running count that grows by one with each person must not be
shown at all: read twice, it isolates whoever came in between. So the count passed here
only ever moves by k or more at a time (a retro's published batches).

Git. A figure read from commits or pull requests is about their authors: a count, a share
or a median from 1 to k − 1 distinct people is that person's or those few people's, however
many commits or PRs they made — k counts authors, not events (`authored_shown`). A split
of the same events in two (AI-assisted or not) is shown only when each side comes from 0 or
at least k authors (`split_shown`): the week's total is on show, so either side's count
gives the other's by subtraction. Releases, deployments and incidents have no author.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

K_MIN = 5  # the smallest k anywhere (docs/DESIGN.md §2.2); admins may raise it, never lower it


@dataclass(frozen=True)
class Node:
    """A team in one period: its own respondents and its children.

    k counts distinct people: `runs` gives, when known, the people who answered each of the
    team's own runs in the period (a team may have two pulses, a person may be on two
    teams). Without it, `own` respondents of one run, nobody else's.
    """

    key: int
    own: int  # respondents of the team's own run in the period (0: none)
    children: Sequence[Node] = ()
    runs: Sequence[frozenset[Hashable]] = ()

    def own_runs(self) -> list[frozenset[Hashable]]:
        if self.runs:
            return list(self.runs)
        return [frozenset((self.key, person) for person in range(self.own))] if self.own else []


@dataclass
class TreeDecision:
    """For every team, its subtree's respondent count and whether its figures may show."""

    total: dict[int, int] = field(default_factory=dict)
    own_shown: dict[int, bool] = field(default_factory=dict)
    rollup_shown: dict[int, bool] = field(default_factory=dict)
    residue: dict[int, int] = field(default_factory=dict)


def _small(count: int, k: int) -> bool:
    return 0 < count < k


def group_shown(people: float, k: int) -> bool:
    """Whether a group's figures may be shown at all: at least k distinct people."""
    return people >= k


def response_rate_shown(invited: int) -> bool:
    """Whether a run's response rate may be shown: only where at least K_MIN were invited
    (of three invited, "67 %" says that exactly one did not answer)."""
    return invited >= K_MIN


def tree_suppress(root: Node, k: int) -> TreeDecision:
    """Decide which own figures and roll-ups can be shown (see the module docstring).

    A viewer knows every shown figure; under a roll-up, the finest split they can make is
    each own run's figure (if shown) and, per child, the child's roll-up if shown, else
    whatever they know inside the child. The residue is the people of what remains: the
    hidden own runs and the residues of the hidden children. It must be 0 or ≥ k people,
    and so must the roll-up itself — people, not responses: the same three people
    answering two pulses, or on two teams, are three.
    """
    decision = TreeDecision()

    def visit(node: Node) -> tuple[frozenset[Hashable], frozenset[Hashable]]:
        """(everyone under the node, the people of what shown figures leave unexplained)"""
        runs = node.own_runs()
        parts = [(child, *visit(child)) for child in node.children]
        total = frozenset().union(*runs, *(people for _, people, _ in parts))
        residue = frozenset().union(
            *(people for people in runs if len(people) < k),
            *(
                unexplained
                for child, _, unexplained in parts
                if not decision.rollup_shown[child.key]
            ),
        )
        own_shown = bool(runs) and all(len(people) >= k for people in runs)
        # A leaf's roll-up is its own figure.
        shown = (len(total) >= k and not _small(len(residue), k)) if node.children else own_shown
        decision.total[node.key] = len(total)
        decision.own_shown[node.key] = own_shown
        decision.residue[node.key] = len(residue)
        decision.rollup_shown[node.key] = shown
        return total, frozenset() if shown else residue

    visit(root)
    return decision


def count_shown(count: int, n: int, k: int) -> bool:
    """Whether a count of people out of n may be shown: neither it nor the rest (n − count)
    is between 1 and k − 1 people."""
    return not _small(count, k) and not _small(n - count, k)


def comparison_shown(counts: Sequence[int], n: int, k: int) -> bool:
    """Whether a statement comparing counts of people out of n ("mostly helped": which
    count is largest, whether it reaches a share of n) may be shown: only when every count
    it reads may be shown itself (`count_shown`). Next to a hidden count it narrows it:
    "mostly helped" beside 7 of 12 who said helped says the hidden "hurt" is under 7."""
    return all(count_shown(count, n, k) for count in counts)


def participation_shown(people: int, invited: int, k: int) -> bool:
    """Whether a count of people who took part out of those invited may be shown: at least
    k of them, and the invited who did not 0 or at least k. The count must be one that
    moves by k or more at a time (a retro's published batches), never a running count of
    each person as they come: read twice, it would isolate whoever came in between."""
    return group_shown(people, k) and count_shown(people, invited, k)


def authored_shown(authors: int, k: int) -> bool:
    """Whether a figure read from commits or pull requests (a count, a share, a median)
    may be shown: they come from 0 or at least k distinct authors. Seven PRs of one person
    are that person's: k counts authors, not events."""
    return not _small(authors, k)


def split_shown(authors_by_side: Sequence[int], k: int) -> bool:
    """Whether events split into sides (AI-assisted or not) may be shown side by side, or
    as one side's share: every side's distinct authors are 0 or at least k. The sides may
    share authors; the total is shown elsewhere, so one side's count gives the others'."""
    return all(authored_shown(authors, k) for authors in authors_by_side)


def ordered_bins(counts: Sequence[int], k: int) -> list[range]:
    """Adjacent steps of an ordered distribution merged so that each bin holds 0 or at
    least k people: from the lowest step up, a bin closes once it holds k, and what is
    left at the top joins the last bin if it holds 1 to k − 1 (with n ≥ k there is one).
    Then every bin, every sum of bins and n minus any of them is 0 or at least k."""
    bins: list[range] = []
    start, held = 0, 0
    for index, count in enumerate(counts):
        held += count
        if held >= k:
            bins.append(range(start, index + 1))
            start, held = index + 1, 0
    if start < len(counts):
        if held and bins:
            bins[-1] = range(bins[-1].start, len(counts))
        else:
            bins.append(range(start, len(counts)))
    return bins


def churn_isolates(before: set[int], after: set[int], k: int) -> bool:
    """Whether comparing two periods would isolate a group under k: between 1 and k − 1
    people joined, or between 1 and k − 1 left."""
    return _small(len(after - before), k) or _small(len(before - after), k)


def change_allowed(
    invited: Mapping[int, set[int]], order: Sequence[int], k: int
) -> dict[int, bool]:
    """For each period in `order` (oldest first): may its change from the period before be
    shown? The first period has no change to show."""
    allowed: dict[int, bool] = {}
    for earlier, later in pairwise(order):
        allowed[later] = not churn_isolates(invited[earlier], invited[later], k)
    if order:
        allowed[order[0]] = False
    return allowed
