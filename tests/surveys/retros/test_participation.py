"""What may be said of who took part in a retro (surveys/retros/participation.py). Pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from surveys.retros.participation import participation

K = 5


def test_fewer_than_k_writers_are_fewer_than_k_whether_none_or_four() -> None:
    said = [participation(written=n, published=0, invited=11, k=K) for n in range(5)]
    assert len(set(said)) == 1
    assert said[0].phrase == "fewer than 5 people"
    assert said[0].state == "fewer-than-k"


def test_only_the_published_count_is_said_never_the_running_one() -> None:
    # Five were shown; one to four more wrote since: nothing changes.
    said = {participation(written=n, published=5, invited=11, k=K) for n in range(5, 10)}
    assert len(said) == 1
    [one] = said
    assert (one.people, one.phrase) == (5, "5 people")


def test_a_published_count_that_leaves_out_fewer_than_k_invited_is_not_said() -> None:
    said = participation(written=10, published=10, invited=11, k=K)
    assert said.people is None
    assert said.phrase == "5 or more people"
    assert said.k_reached


def test_k_written_before_the_board_is_read_is_k_or_more() -> None:
    said = participation(written=7, published=0, invited=20, k=K)
    assert (said.people, said.state) == (None, "k-or-more")


@given(st.integers(0, 30), st.integers(0, 9), st.integers(0, 30), st.integers(5, 10))
def test_no_number_said_counts_fewer_than_k_or_moves_with_one_writer(
    published: int, late: int, absent: int, k: int
) -> None:
    late %= k  # written since the last batch: always fewer than k
    invited = published + late + absent
    said = participation(written=published + late, published=published, invited=invited, k=k)
    if said.people is not None:
        assert said.people == published >= k
        assert invited - published == 0 or invited - published >= k
    if published:  # once a batch is out, the late writers change nothing that is said
        assert said == participation(written=published, published=published, invited=invited, k=k)
