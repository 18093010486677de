from __future__ import annotations

import pytest

from surveys.pulses.models import Construct, Question
from surveys.pulses.rotation import MAX_ITEMS, rotation_for_run, runs_to_cover_bank

CORE = ["speed", "trust", "usage"]
SAFETY = [f"ps{i}" for i in range(1, 8)]
OTHERS = [f"o{i}" for i in range(1, 8)]


def test_every_run_asks_the_core_first_and_at_most_twelve_items() -> None:
    assert MAX_ITEMS == 12
    for sequence in range(30):
        keys = rotation_for_run(core=CORE, safety=SAFETY, others=OTHERS, sequence=sequence)
        assert keys[:3] == CORE
        assert len(keys) == MAX_ITEMS
        assert len(set(keys)) == len(keys)


def test_every_run_asks_all_seven_safety_items_so_the_index_is_the_whole_scale() -> None:
    for sequence in range(10):
        keys = rotation_for_run(core=CORE, safety=SAFETY, others=OTHERS, sequence=sequence)
        assert keys[3:10] == SAFETY


def test_every_item_of_the_bank_comes_round_within_four_runs() -> None:
    # The heatmap looks back HEATMAP_RUNS runs for a construct: the rotation must fit it.
    from analytics.insights.heatmap import HEATMAP_RUNS

    assert runs_to_cover_bank(core=CORE, safety=SAFETY, others=OTHERS) == HEATMAP_RUNS == 4


def test_a_core_and_safety_set_that_fill_the_run_are_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        rotation_for_run(core=[f"c{i}" for i in range(5)], safety=SAFETY, others=OTHERS, sequence=0)


@pytest.mark.django_db
def test_the_seeded_bank_covers_every_construct_with_citations() -> None:
    bank = Question.objects.filter(organisation__isnull=True)
    constructs = set(bank.values_list("construct", flat=True))
    assert constructs == {c.value for c in Construct} - {Construct.CUSTOM}
    assert not bank.filter(citation="").exists()
    safety = bank.filter(construct=Construct.PSYCHOLOGICAL_SAFETY).order_by("key")
    assert safety.count() == 7
    assert [q.reverse_scored for q in safety] == [True, False, True, False, True, False, False]
    assert set(bank.filter(is_core=True).values_list("key", flat=True)) == {
        "perceived_speed",
        "ai_trust_accuracy",
        "ai_usage_frequency",
    }
    speed = bank.get(key="perceived_speed")
    assert (speed.scale_min, speed.scale_max) == (-50, 100)
