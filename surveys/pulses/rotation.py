"""Which questions a pulse run asks: the fixed core, every psychological-safety item, and
a rotation through the rest of the bank.

Pure: works on sequences of question keys so it can be tested without a database.
Every run asks all of the safety items, so the index each period is the whole scale
(Edmondson's seven) and its changes and alerts compare like with like; the other items
come round over consecutive runs.

MAX_ITEMS is 12: the 3 core items, the 7 safety items and 2 others. With the seeded bank
the 7 others come round in 4 runs (the heatmap's look-back, HEATMAP_RUNS), and 12 short
closed items are about a minute and a half to answer, inside the 1–2 minute pulse.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_ITEMS = 12


def _window(items: Sequence[str], sequence: int, size: int) -> list[str]:
    if not items or size <= 0:
        return []
    size = min(size, len(items))
    start = (sequence * size) % len(items)
    return [items[(start + offset) % len(items)] for offset in range(size)]


def rotation_for_run(
    *, core: Sequence[str], safety: Sequence[str], others: Sequence[str], sequence: int
) -> list[str]:
    """The ordered question keys for run number `sequence`, at most MAX_ITEMS of them:
    the core, all of the safety items, then the others' turn."""
    if len(core) + len(safety) >= MAX_ITEMS:
        raise ValueError(
            f"The core and the safety items make {len(core) + len(safety)}; a run holds at "
            f"most {MAX_ITEMS} and must leave room for the rotation."
        )
    other_slots = MAX_ITEMS - len(core) - len(safety)
    return [*core, *safety, *_window(others, sequence, other_slots)]


def runs_to_cover_bank(*, core: Sequence[str], safety: Sequence[str], others: Sequence[str]) -> int:
    """How many consecutive runs it takes until every item has been asked at least once."""
    seen: set[str] = set()
    everything = {*core, *safety, *others}
    sequence = 0
    while seen != everything:
        seen.update(rotation_for_run(core=core, safety=safety, others=others, sequence=sequence))
        sequence += 1
    return sequence
