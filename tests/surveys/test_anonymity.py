"""Secondary suppression, each rule with a small worked example."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.anonymity import (
    Node,
    authored_shown,
    change_allowed,
    churn_isolates,
    comparison_shown,
    participation_shown,
    split_shown,
    tree_suppress,
)

K = 5


def test_a_parent_that_would_reveal_its_one_small_child_is_hidden() -> None:
    # Platform (own 0) = Infra 6 + Tools 7 + Docs 3. Showing Platform (16) next to Infra
    # and Tools would give Docs = 16 - 6 - 7 = 3 people: the roll-up is hidden.
    tree = Node(1, 0, [Node(2, 6), Node(3, 7), Node(4, 3)])
    decision = tree_suppress(tree, K)
    assert decision.own_shown == {1: False, 2: True, 3: True, 4: False}
    assert decision.residue[1] == 3
    assert decision.rollup_shown[1] is False


def test_two_small_children_that_add_up_to_k_leave_the_parent_shown() -> None:
    # Docs 3 + QA 2 = 5: subtracting gives only the pair, never either one.
    tree = Node(1, 0, [Node(2, 6), Node(3, 7), Node(4, 3), Node(5, 2)])
    decision = tree_suppress(tree, K)
    assert decision.residue[1] == 5
    assert decision.rollup_shown[1] is True


def test_a_small_grandchild_cannot_be_reached_through_a_shown_child() -> None:
    # Data (own 0) > Analytics (own 6) > Design Systems (3). Analytics' roll-up (9) is
    # hidden (9 - 6 = 3), and so is Data's, which would give 9 - 6 = 3 again.
    tree = Node(1, 0, [Node(2, 6, [Node(3, 3)])])
    decision = tree_suppress(tree, K)
    assert decision.rollup_shown == {1: False, 2: False, 3: False}
    assert decision.own_shown[2] is True


def test_a_parents_own_small_group_counts_as_hidden() -> None:
    tree = Node(1, 2, [Node(2, 6), Node(3, 6)])
    assert tree_suppress(tree, K).rollup_shown[1] is False
    tree = Node(1, 5, [Node(2, 6), Node(3, 6)])
    assert tree_suppress(tree, K).rollup_shown[1] is True


def _trees(depth: int = 3) -> st.SearchStrategy[Node]:
    keys = itertools.count(1)
    own = st.integers(0, 9)
    leaf = own.map(lambda n: Node(next(keys), n))
    return st.recursive(
        leaf,
        lambda children: st.tuples(own, st.lists(children, min_size=1, max_size=3)).map(
            lambda pair: Node(next(keys), pair[0], pair[1])
        ),
        max_leaves=8,
    )


def _pieces(node: Node) -> dict[int, set[int]]:
    """Each team's own-respondent atom and each subtree, as sets of atom keys."""
    subtree: dict[int, set[int]] = {}

    def visit(n: Node) -> set[int]:
        atoms = {n.key}
        for child in n.children:
            atoms |= visit(child)
        subtree[n.key] = atoms
        return atoms

    visit(node)
    return subtree


@settings(max_examples=300, deadline=None)
@given(_trees())
def test_no_difference_of_shown_figures_isolates_fewer_than_k(tree: Node) -> None:
    # Every shown figure is a set of atoms (own groups); any set difference between a
    # shown roll-up and a union of disjoint shown figures inside it must be 0 or >= k.
    decision = tree_suppress(tree, K)
    own = {}

    def collect(n: Node) -> None:
        own[n.key] = n.own
        for child in n.children:
            collect(child)

    collect(tree)
    subtree = _pieces(tree)
    shown = [frozenset({key}) for key, ok in decision.own_shown.items() if ok]
    shown += [frozenset(subtree[key]) for key, ok in decision.rollup_shown.items() if ok]
    for whole in shown:
        parts = [p for p in shown if p < whole]
        for size in range(1, min(len(parts), 4) + 1):
            for combo in itertools.combinations(parts, size):
                if sum(len(p) for p in combo) != len(frozenset().union(*combo)):
                    continue  # overlapping parts: not a subtraction a viewer can make
                rest = whole - frozenset().union(*combo)
                people = sum(own[key] for key in rest)
                assert people == 0 or people >= K, (whole, combo, people)


def test_one_person_joining_withholds_the_change() -> None:
    assert churn_isolates({1, 2, 3, 4, 5}, {1, 2, 3, 4, 5, 6}, K)
    assert churn_isolates({1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5}, K)
    assert not churn_isolates({1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}, K)
    assert not churn_isolates(set(range(5)), set(range(10)), K)  # five joined: a group of k


def test_change_allowed_per_period() -> None:
    invited = {10: {1, 2, 3, 4, 5}, 11: {1, 2, 3, 4, 5}, 12: {1, 2, 3, 4, 5, 6}}
    assert change_allowed(invited, [10, 11, 12], K) == {10: False, 11: True, 12: False}


# --- inside a group: comparisons, who took part, Git authors ----------------------------------


def test_a_comparison_is_shown_only_when_every_count_it_reads_is() -> None:
    # 7 of 12 said helped (shown: 7 and 5), 2 hurt (hidden): "mostly helped" would say the
    # hidden count is under 7.
    assert not comparison_shown([7, 2, 3], 12, K)
    assert comparison_shown([7, 5, 0], 12, K)
    assert comparison_shown([6, 0, 0], 6, K)  # everyone, and nobody: no one singled out
    assert not comparison_shown([5, 0, 0], 6, K)  # all but one


def test_participation_is_shown_from_k_people_with_k_or_none_left_out() -> None:
    assert not participation_shown(0, 11, K)  # nobody looks like a few: "fewer than k"
    assert not participation_shown(4, 11, K)
    assert participation_shown(5, 11, K)
    assert not participation_shown(10, 11, K)  # one invited person did not take part
    assert participation_shown(11, 11, K)
    assert not participation_shown(5, 6, K)


@given(st.integers(0, 40), st.integers(0, 40))
def test_a_shown_participation_count_isolates_nobody(people: int, absent: int) -> None:
    if participation_shown(people, people + absent, K):
        assert people >= K
        assert absent == 0 or absent >= K


def test_figures_from_git_count_authors_not_commits() -> None:
    assert authored_shown(0, K)  # nothing from nobody: a zero is no one's
    assert not authored_shown(1, K)  # seven PRs of one person are that person's
    assert not authored_shown(4, K)
    assert authored_shown(5, K)


def test_a_split_needs_k_authors_on_each_side_or_none() -> None:
    assert split_shown([5, 6], K)
    assert split_shown([0, 6], K)  # no AI-assisted PR at all: 0 %
    assert not split_shown([1, 6], K)  # one person's AI-assisted PRs
    assert not split_shown([6, 2], K)  # the others follow: the week's total minus AI
    assert not split_shown([2, 2], K)
