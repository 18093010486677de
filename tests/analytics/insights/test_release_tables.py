"""The audit's tables survive the database: what a worker stored, another reads back the
same, so every process releases a group alike."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.insights import release
from analytics.insights.models import ReleaseTable
from surveys import disclosure
from surveys.disclosure import published_facts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_process() -> None:
    release._table.cache_clear()
    disclosure._levels.cache_clear()


def test_a_stored_table_reads_back_as_computed_and_releases_alike() -> None:
    shape = release._percent_shape(-50, 100)
    counts = [1, 0, 2, 3, 1, 0]  # seven people over the six percentage buckets
    facts = published_facts(counts, 5)
    computed = disclosure.levels_table(shape, facts, 5)
    assert isinstance(computed, disclosure.Table)
    assert len(computed) > 100

    release._table(shape, facts, 5)  # computes and stores
    stored = ReleaseTable.objects.get(key=disclosure.table_key(shape, facts, 5))
    assert not stored.capped
    release._table.cache_clear()
    disclosure._levels.cache_clear()
    read = release._table(shape, facts, 5)  # from the database now
    assert read == computed
    # Every (Σx, Σx²) of the universe gets the same level, and one outside it none.
    for total, squares, level in computed.triples().tolist():
        assert read.get((total, squares)) == level
    assert read.get((10**6, 0)) == disclosure.WITHHELD_LEVEL


def test_a_table_too_large_to_enumerate_is_stored_as_such() -> None:
    # A hundred people in each percentage bucket: each two-value bucket splits 101 ways.
    shape = release._percent_shape(-50, 100)
    facts = published_facts([100] * 6, 5)
    assert release._table(shape, facts, 5) is None
    assert ReleaseTable.objects.get(key=disclosure.table_key(shape, facts, 5)).capped
    release._table.cache_clear()
    assert release._table(shape, facts, 5) is None


def test_lookups_match_a_plain_mapping() -> None:
    rng = np.random.default_rng(3)
    totals = rng.integers(-500, 500, size=300)
    squares = rng.integers(0, 10_000, size=300)
    pairs = dict.fromkeys(zip(totals.tolist(), squares.tolist(), strict=True))
    mapping = {pair: int(rng.integers(-1, 6)) for pair in pairs}
    table = disclosure.Table(
        np.array([t for t, _ in mapping]),
        np.array([s for _, s in mapping]),
        np.array(list(mapping.values())),
    )
    for (total, squares), level in mapping.items():
        assert table.get((total, squares)) == level
        assert table.get((total, squares + 1), 99) == mapping.get((total, squares + 1), 99)


def test_a_batch_reads_its_stored_tables_in_one_query(django_assert_num_queries) -> None:
    class Scale:  # a question as the release reads it (release.QuestionLike)
        key, kind, scale_min, scale_max, reverse_scored = "q", "scale", 1, 5, False

    groups = [
        (Scale(), 5, counts) for counts in ([0, 5, 0, 0, 2], [3, 0, 4, 0, 0], [1, 1, 5, 0, 0])
    ]
    for item, k, counts in groups:
        release.question_release(item, k, counts, 0, 0)  # computes and stores each table
    release._table.cache_clear()
    with django_assert_num_queries(1):
        release.prefetch(groups)
    with django_assert_num_queries(0):
        for item, k, counts in groups:
            release.question_release(item, k, counts, 0, 0)
