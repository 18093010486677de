"""Which questions a pulse run asks: the fixed core plus a rotation through the bank.

Pure: works on sequences of question keys so it can be tested without a database.
Every run carries a few psychological-safety items (so the index has a point every run)
and a few of the other items; over consecutive runs every item comes round.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_ITEMS = 8
SAFETY_SLOTS = 3


def _window(items: Sequence[str], sequence: int, size: int) -> list[str]:
    if not items:
        return []
    size = min(size, len(items))
    start = (sequence * size) % len(items)
    return [items[(start + offset) % len(items)] for offset in range(size)]


def rotation_for_run(
    *, core: Sequence[str], safety: Sequence[str], others: Sequence[str], sequence: int
) -> list[str]:
    """The ordered question keys for run number `sequence`, at most MAX_ITEMS of them."""
    if len(core) >= MAX_ITEMS:
        raise ValueError(f"The core alone has {len(core)} items; a run holds at most {MAX_ITEMS}.")
    safety_slots = min(SAFETY_SLOTS, MAX_ITEMS - len(core))
    chosen_safety = _window(safety, sequence, safety_slots)
    other_slots = MAX_ITEMS - len(core) - len(chosen_safety)
    return [*core, *chosen_safety, *_window(others, sequence, other_slots)]


def runs_to_cover_bank(*, core: Sequence[str], safety: Sequence[str], others: Sequence[str]) -> int:
    """How many consecutive runs it takes until every item has been asked at least once."""
    seen: set[str] = set()
    everything = {*core, *safety, *others}
    sequence = 0
    while seen != everything:
        seen.update(rotation_for_run(core=core, safety=safety, others=others, sequence=sequence))
        sequence += 1
    return sequence
