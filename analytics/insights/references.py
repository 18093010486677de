"""Published reference figures (docs/DESIGN.md §6) in Candor's own units, each with the
exact question its source asked and what makes it differ from Candor's figure. Drawn as
labelled context lines on charts; never compared with a team as if it were the same
measurement. Pure: computed here from the published figures, so the tests are the
arithmetic."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


def speed_from_time(change: float) -> float:
    """A change in the time a task takes (%, +19 = 19 % longer) as a change in speed (%,
    work per unit of time): 1 / (1 + t) − 1. It is decreasing, so an interval's ends
    swap, and it is exact for an interval on the log scale (METR's is)."""
    return (1 / (1 + change / 100) - 1) * 100


@dataclass(frozen=True)
class Reference:
    """A published figure: its value (and 95 % interval where published) in `unit`, where
    it comes from, the question it answers, and why it is not Candor's figure."""

    key: str
    label: str
    value: float
    low: float | None
    high: float | None
    unit: str
    source: str
    question: str
    caveat: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


METR_SOURCE = "METR 2025 randomised trial (arXiv:2507.09089): 16 experienced developers, 246 tasks"
METR_CAVEAT = (
    "Experienced open-source developers on their own large repositories with early-2025 "
    "tools; METR's 2026 follow-up reports that developers increasingly declined tasks "
    "without AI, so later estimates carry selection and are less certain."
)

METR_FELT = Reference(
    key="metr_felt",
    label="METR: felt",
    value=speed_from_time(-20.0),
    low=None,
    high=None,
    unit="% speed",
    source=METR_SOURCE,
    question="After the study, developers estimated that AI had cut their completion time "
    "by 20 % (no interval published); as speed, +25 %.",
    caveat=METR_CAVEAT,
)
METR_MEASURED = Reference(
    key="metr_measured",
    label="METR: measured",
    value=speed_from_time(19.0),
    low=speed_from_time(39.0),
    high=speed_from_time(2.0),
    unit="% speed",
    source=METR_SOURCE,
    question="Tasks allowed AI took 19 % longer (95 % CI +2 % to +39 %) than tasks that were "
    "not, randomised per task; as speed, −16 % (−28 % to −2 %).",
    caveat=METR_CAVEAT
    + " Measured per task for the same developers, unlike Candor's team throughput.",
)
METR_GAP = Reference(
    key="metr_gap",
    label="METR: gap",
    value=METR_FELT.value - METR_MEASURED.value,
    # The felt figure has no published interval: the gap's is the measured one's, mirrored.
    low=METR_FELT.value - (METR_MEASURED.high or 0.0),
    high=METR_FELT.value - (METR_MEASURED.low or 0.0),
    unit="points",
    source=METR_SOURCE,
    question="Felt speed change minus measured speed change, both as speed.",
    caveat=METR_CAVEAT,
)
DORA_TRUST = Reference(
    key="dora_trust",
    label="DORA 2025: trust a lot or more",
    value=24.0,
    low=None,
    high=None,
    unit="% of respondents",
    source="DORA State of AI-assisted Software Development 2025",
    question="Trust in the quality of AI-generated code: 'a lot' or 'a great deal' (30 % said "
    "'a little' or 'not at all') — the wording of Candor's trust item.",
    caveat="A survey of developers at many organisations in 2025, not one team.",
)
SO_USE = Reference(
    key="so_use",
    label="Stack Overflow 2025: use or plan to use",
    value=84.0,
    low=None,
    high=None,
    unit="% of respondents",
    source="Stack Overflow Developer Survey 2025",
    question="Are you using or planning to use AI tools in your development process?",
    caveat="Counts those only planning to: not Candor's 'at least weekly', which is lower.",
)
SO_TRUST = Reference(
    key="so_trust",
    label="Stack Overflow 2025: trust accuracy",
    value=33.0,
    low=None,
    high=None,
    unit="% of respondents",
    source="Stack Overflow Developer Survey 2025",
    question="How much do you trust the accuracy of AI tools? 'Somewhat' or 'highly' trust "
    "(46 % distrust).",
    caveat="'Somewhat' counts as trust here: a lower bar than Candor's 'a lot or a great "
    "deal' (DORA's wording), so not like for like.",
)

REFERENCES = {
    reference.key: reference
    for reference in (METR_FELT, METR_MEASURED, METR_GAP, DORA_TRUST, SO_USE, SO_TRUST)
}


def references_json() -> dict[str, dict[str, Any]]:
    """Every reference, for pages and charts."""
    return {key: reference.as_json() for key, reference in REFERENCES.items()}
