"""How many people took part in a retro, as every page, the API and the exports say it.
Pure: counts in, what may be said out.

One count of people is ever shown: those whose cards are published. It moves only in
batches of at least k (surveys/retros/publication.py), and it is shown only when it is at
least k and the invited who are not among them are 0 or at least k
(surveys.anonymity.participation_shown): "1 person has written (of 3 invited)", or "4 of 5",
counts fewer than k people. Never shown: the running count of people who have written
(read before and after someone writes, it says that one person did, and when), how many
wrote since the last batch ("held back"), nor how many more are needed (k minus the same
count). Instead the words say "fewer than k" until k people have written, then "k or more"
where the published count may not be shown — and the same whether nobody or a few wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveys.anonymity import group_shown, participation_shown


@dataclass(frozen=True)
class Participation:
    """What may be said about who took part in one session."""

    k: int
    invited: int
    people: int | None  # whose cards are published, where that may be shown; else None
    k_reached: bool  # at least k have written: the board shows (or will at its next reading)

    @property
    def phrase(self) -> str:
        """'7 people', '5 or more people' or 'fewer than 5 people'."""
        if self.people is not None:
            return f"{self.people} people"
        if self.k_reached:
            return f"{self.k} or more people"
        return f"fewer than {self.k} people"

    @property
    def state(self) -> str:
        """For markup and tests: 'shown', 'k-or-more' or 'fewer-than-k'."""
        if self.people is not None:
            return "shown"
        return "k-or-more" if self.k_reached else "fewer-than-k"


def participation(*, written: int, published: int, invited: int, k: int) -> Participation:
    """From the session's counts: people who have written, whose cards are published, and
    who were invited. Only `published` can come out as a number."""
    return Participation(
        k=k,
        invited=invited,
        people=published if participation_shown(published, invited, k) else None,
        k_reached=published > 0 or group_shown(written, k),
    )
