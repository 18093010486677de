"""Scrubbing card text: emails, @mentions and team members' names are masked. Pure."""

from __future__ import annotations

import pytest

from surveys.retros.scrub import Scrubber, text_scrub

TEAM = ["Priya", "Natarajan", "Priya Natarajan", "priya.n", "Jonas", "Weber", "Jonas Weber"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail priya.natarajan@northwind.example", "Mail [email]"),
        ("cc Dev.Ops+ai@corp.co.uk, thanks", "cc [email], thanks"),
        ("asked @sam and @lee-ann.k.", "asked [@mention] and [@mention]."),
        ("Slack <@U024BE7LH> said so", "Slack <[@mention]> said so"),
        ("Paired with Jonas on it", "Paired with [name] on it"),
        ("jonas weber wrote the parser", "[name] wrote the parser"),
        ("Jonas   Weber's review", "[name]'s review"),
        ("NATARAJAN fixed it", "[name] fixed it"),
        ("priya.n knows", "[name] knows"),
    ],
)
def test_it_masks_what_narrows_down_who_wrote_a_card(text: str, expected: str) -> None:
    assert text_scrub(text, names=TEAM) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Jonasson is a library, Priyanka is not on the team",
        "an email-like thing: user@localhost is not an address",
        "Copilot wrote the boilerplate for the weber-client in 5 minutes",
        "",
    ],
)
def test_it_leaves_other_words_alone(text: str) -> None:
    expected = text.replace("weber-client", "[name]-client")
    assert text_scrub(text, names=TEAM) == expected


def test_it_masks_a_full_name_as_one_name() -> None:
    assert text_scrub("Priya Natarajan and Jonas", names=TEAM) == "[name] and [name]"


def test_a_member_named_like_a_mask_does_not_mask_the_masks_again() -> None:
    scrub = Scrubber.for_names(["email", "name", "mention"])
    assert scrub("ask me@x.io or @bob or Name") == "ask [email] or [@mention] or [name]"


def test_names_shorter_than_two_letters_and_blanks_are_not_masked() -> None:
    assert text_scrub("a plan for J", names=["a", "J", "", "  "]) == "a plan for J"


def test_it_masks_non_ascii_names_in_any_case() -> None:
    assert text_scrub("ZOË and josé helped", names=["Zoë", "José"]) == "[name] and [name] helped"
