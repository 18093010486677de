"""Scrubbing card text: emails, @mentions and the names of anyone in the organisation are
masked, however they are written, and nothing else changes. Pure."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from surveys.retros.scrub import COMMON_WORDS, NAME_MASK, Scrubber, fold, text_scrub

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
        "Copilot wrote the boilerplate for the client in 5 minutes",
        "",
    ],
)
def test_it_leaves_other_words_alone(text: str) -> None:
    assert text_scrub(text, names=TEAM) == text


def test_it_masks_a_full_name_as_one_name() -> None:
    assert text_scrub("Priya Natarajan and Jonas", names=TEAM) == "[name] and [name]"


def test_a_member_named_like_a_mask_does_not_mask_the_masks_again() -> None:
    scrub = Scrubber.for_names(["email", "name", "mention"])
    assert scrub("ask me@x.io or @bob or Name") == "ask [email] or [@mention] or [name]"


def test_names_shorter_than_two_letters_and_blanks_are_not_masked() -> None:
    assert text_scrub("a plan for J", names=["a", "J", "", "  "]) == "a plan for J"


def test_it_masks_non_ascii_names_in_any_case() -> None:
    assert text_scrub("ZOË and josé helped", names=["Zoë", "José"]) == "[name] and [name] helped"


# --- The outside tester's misses: each was left unmasked before, except Sam's (kept as a
# regression case) and a GitHub login given as a name: that miss was that logins never
# reached the masker (tests/surveys/retros/test_board.py). ---------------------------------

ORGANISATION = [
    *("Jonas", "Keller", "Jonas Keller", "jkeller"),
    *("Mei", "Chen", "Mei Chen"),
    *("Aisha", "Bello", "Aisha Bello"),
    *("Sam", "Okafor", "Sam Okafor"),
    *("Tomás", "Ruiz", "Tomás Ruiz"),
    *("Thomas", "Brandt", "Thomas Brandt"),
    *("Samantha", "Lee", "Samantha Lee"),
    *("Jürgen", "Vogel", "Jürgen Vogel"),
    "octo-lars",  # a GitHub login
    "Lars P.",  # a Git author name
]
NICKNAMES = {"Thomas": ["Tom", "Tommy"], "Samantha": ["Sam", "Sammy"], "Sam": ["Sammy"]}
SCRUB = Scrubber.for_names(
    ORGANISATION, nicknames=NICKNAMES, initials_of=["Jonas Keller", "Mei Chen", "Priya Ramos"]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("merged jonas_fix after review", "merged [name] after review", id="snake"),
        pytest.param("see feature/jonas-fix-login", "see [name]", id="branch-name"),
        pytest.param("mei2 took the ticket", "[name] took the ticket", id="digits-glued"),
        pytest.param("the 2mei account", "the [name] account", id="digits-before"),
        pytest.param("AishaDemo is flaky", "[name] is flaky", id="camel-case"),
        pytest.param("runs in fixAisha", "runs in [name]", id="camel-case-second"),
        pytest.param("the AISHADemo env", "the [name] env", id="camel-after-capitals"),
        pytest.param("Sams idea worked", "[name] idea worked", id="plural"),
        pytest.param("Sam's idea worked", "[name]'s idea worked", id="possessive"),
        pytest.param("Sam’s idea worked", "[name]’s idea worked", id="possessive-curly"),
        pytest.param("the Sams' idea", "the [name]' idea", id="plural-possessive"),
        pytest.param("Tomas helped", "[name] helped", id="accent-dropped"),
        pytest.param("Meï helped", "[name] helped", id="accent-added"),
        pytest.param("To\u0301ma\u0301s helped", "[name] helped", id="combining-accents"),
        pytest.param("Jo\u200bnas wrote it", "[name] wrote it", id="zero-width-space"),
        pytest.param("Jo\u00adnas wrote it", "[name] wrote it", id="soft-hyphen"),
        pytest.param("J\u2060o\u200dnas wrote it", "[name] wrote it", id="joiners"),
        pytest.param("J\u043enas wrote it", "[name] wrote it", id="cyrillic-o"),
        pytest.param("\u0408\u03bfnas wrote it", "[name] wrote it", id="cyrillic-j-greek-o"),
        pytest.param("\u041c\u0435i helped", "[name] helped", id="cyrillic-capital"),
        pytest.param("\uff2a\uff4f\uff4e\uff41\uff53 wrote it", "[name] wrote it", id="fullwidth"),
        pytest.param("Jo-nas and Jo.nas", "[name] and [name]", id="hyphen-dot-split"),
        pytest.param("J-o-n-a-s wrote it", "[name] wrote it", id="split-into-letters"),
        pytest.param("Tom helped", "[name] helped", id="nickname"),
        pytest.param("Tommy's tests", "[name]'s tests", id="nickname-possessive"),
        pytest.param("Sammy fixed it", "[name] fixed it", id="nickname-of-two-names"),
        pytest.param("JK reviewed it", "[name] reviewed it", id="initials"),
        pytest.param("J.K. reviewed it", "[name] reviewed it", id="dotted-initials"),
        pytest.param("J. K. reviewed it", "[name] reviewed it", id="spaced-initials"),
        pytest.param("asked MC's opinion", "asked [name]'s opinion", id="initials-possessive"),
        pytest.param("octo-lars pushed it", "[name] pushed it", id="github-login"),
        pytest.param("Lars from Payments", "[name] from Payments", id="git-author-name"),
        pytest.param("Juergen and Jurgen", "[name] and [name]", id="umlaut-spellings"),
        pytest.param("jkeller99 approved", "[name] approved", id="username-with-digits"),
        pytest.param("`jonas_fix` broke", "`[name]` broke", id="in-backticks"),
    ],
)
def test_the_tester_s_misses_are_masked(text: str, expected: str) -> None:
    assert SCRUB(text) == expected


def test_an_ellipsis_does_not_join_the_next_word_to_a_name() -> None:
    assert SCRUB("asked Jonas...then Mei… left") == "asked [name]...then [name]… left"


def test_masked_text_keeps_every_other_character_as_written() -> None:
    text = "Paired with Jo\u200bnas on the flaky café test — naïve “fix”, ✓ 100 %"
    assert SCRUB(text) == "Paired with [name] on the flaky café test — naïve “fix”, ✓ 100 %"


def test_a_trailing_combining_accent_goes_with_the_name() -> None:
    assert SCRUB("ask Meı\u0308\u0301 now") == "ask [name] now"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("jk, that was a joke", id="lower-case-initials"),
        pytest.param("opened a PR for CI, QA and the UI", id="acronyms"),
        pytest.param("PR by Priya Ramos' team", id="initials-that-are-an-acronym"),
        pytest.param("the JKS file and the MCU", id="other-capitals"),
        pytest.param("J K and M C", id="letters-without-dots"),
        pytest.param("Samsung, Meiosis and Jonasson", id="longer-words"),
        pytest.param("Tomato and samples", id="prefixes"),
        pytest.param("the lee side", id="common-surname-in-lower-case"),
    ],
)
def test_it_leaves_these_alone(text: str) -> None:
    assert SCRUB(text) == text


WORDS = ["Will", "Bill", "May", "Mark", "Ed", "An"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("it will work, may be", "it will work, may be"),
        ("mark the test, pay the bill", "mark the test, pay the bill"),
        ("WILL it? MAY it?", "WILL it? MAY it?"),
        ("an ed25519 key", "an ed25519 key"),
        ("asked Will and Bill", "asked [name] and [name]"),
        ("Mark's review", "[name]'s review"),
        ("Ed did it", "[name] did it"),
        # The price of never missing a Will: a capitalised first word is masked too.
        ("Will this work in May?", "[name] this work in [name]?"),
    ],
)
def test_names_that_are_common_words_are_masked_only_when_capitalised(
    text: str, expected: str
) -> None:
    assert text_scrub(text, names=WORDS) == expected


def test_a_two_letter_name_is_masked_only_as_a_word_of_its_own() -> None:
    assert text_scrub("Jo said: jo_fix, jo2, Jo's", names=["Jo"]) == (
        "[name] said: jo_fix, jo2, [name]'s"
    )


def test_initials_are_the_given_people_s_only() -> None:
    scrub = Scrubber.for_names(["Jonas", "Keller"], initials_of=["Jan van der Berg"])
    assert scrub("JK and JB and J.v.d.B.") == "JK and [name] and J.v.d.B."


def test_the_fold_maps_back_to_every_original_character() -> None:
    text = "Jo\u200bnas ﬁx Straße Ｊ"
    folded, index = fold(text)
    assert folded == "jonas fix strasse j"
    assert [text[i] for i in index] == list("Jonas ﬁﬁx Straßße Ｊ")


# --- Property: a name, written any way, inside any sentence ---------------------------------

FILLER = [
    "paired", "with", "on", "the", "flaky", "test", "and", "fixed", "build", "review",
    "helped", "me", "debug", "it", "today", "after", "lunch", "pipeline", "again", "AI",
    "wrote", "boilerplate", "in", "minutes", "Copilot", "PR", "café", "über",
]  # fmt: skip
PLAIN = "abcdefghijklmnopqrstuvwxyz"
ACCENTED = "áàâäãåéèêëíìîïóòôöõúùûüñçčšž"
LOOKALIKES = {
    "a": "\u0430\u03b1", "c": "\u0441\u03f2", "e": "\u0435", "o": "\u043e\u03bf",
    "p": "\u0440\u03c1", "x": "\u0445\u03c7", "y": "\u0443", "i": "\u0456\u03b9",
    "j": "\u0458", "s": "\u0455", "A": "\u0410\u0391", "B": "\u0412\u0392",
    "E": "\u0415\u0395", "H": "\u041d\u0397", "K": "\u041a\u039a", "M": "\u041c\u039c",
    "O": "\u041e\u039f", "P": "\u0420\u03a1", "C": "\u0421", "T": "\u0422\u03a4",
    "X": "\u0425\u03a7", "Y": "\u0423\u03a5", "N": "\u039d", "Z": "\u0396",
    "I": "\u0406\u0399", "J": "\u0408", "S": "\u0405",
}  # fmt: skip
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


names = st.text(st.sampled_from(PLAIN + ACCENTED), min_size=3, max_size=9).map(str.capitalize)


@st.composite
def written(draw: st.DrawFn, name: str) -> tuple[str, str]:
    """`name` as a card might write it: (the text, what it should become)."""
    if draw(st.booleans()):
        name = strip_accents(name)
    if draw(st.booleans()):
        name = unicodedata.normalize("NFD", name)
    case = draw(st.sampled_from([str, str.lower, str.upper, str.title]))
    word = case(name)
    form = draw(
        st.sampled_from(
            ["plain", "'s", "s'", "plural", "digits", "snake", "camel", "split", "possessive'"]
        )
    )
    suffix = ""
    if form == "'s":
        suffix = draw(st.sampled_from(["'s", "’s"]))
    elif form == "s'":
        word, suffix = word + "s", "'"
    elif form == "possessive'":
        suffix = "’"
    elif form == "plural":
        word += "s"
    elif form == "digits":
        digits = str(draw(st.integers(0, 999)))
        word = word + digits if draw(st.booleans()) else digits + word
    elif form == "snake":
        other = draw(st.sampled_from(["fix", "login", "wip", "v2"]))
        word = f"{word}_{other}" if draw(st.booleans()) else f"{other}_{word}"
    elif form == "camel":
        word = name.title() + "Demo" if draw(st.booleans()) else "fix" + name.title()
    elif form == "split":
        letters = [i for i, c in enumerate(word) if not unicodedata.combining(c)]
        cut = draw(st.sampled_from(letters[1:]))
        word = word[:cut] + draw(st.sampled_from("-.")) + word[cut:]
    # Look-alike letters and invisible characters inside the name.
    swaps = draw(st.lists(st.integers(0, len(word) - 1), max_size=3))
    chars = list(word)
    for at in swaps:
        if chars[at] in LOOKALIKES:
            chars[at] = draw(st.sampled_from(LOOKALIKES[chars[at]]))
    if draw(st.booleans()):
        at = draw(st.integers(1, len(chars) - 1))
        chars.insert(at, draw(st.sampled_from(INVISIBLE)))
    return "".join(chars) + suffix, NAME_MASK + suffix


@settings(max_examples=400, deadline=None)
@given(data=st.data(), first=names, last=names)
def test_any_name_written_any_way_is_masked_and_the_rest_is_unchanged(
    data: st.DataObject, first: str, last: str
) -> None:
    for name in (first, last):
        key = fold(strip_accents(name))[0]
        assume(key not in COMMON_WORDS)
        assume(all(fold(word)[0] not in (key, key + "s") for word in FILLER))
    person = [first, last, f"{first} {last}"]
    if data.draw(st.booleans(), label="names stored without accents"):
        person = [strip_accents(name) for name in person]
    full = data.draw(st.booleans(), label="full name")
    if full:
        text, mask = data.draw(written(last))
        text = f"{first}{data.draw(st.sampled_from([' ', '  ', chr(10)]))}{text}"
    else:
        text, mask = data.draw(written(data.draw(st.sampled_from([first, last]))))
    before = data.draw(st.lists(st.sampled_from(FILLER), max_size=5))
    after = data.draw(st.lists(st.sampled_from(FILLER), max_size=5))
    punctuation = data.draw(st.sampled_from(["", ",", ".", "!", ":", ")"]))
    card = " ".join([*before, text + punctuation, *after])
    assert text_scrub(card, names=person) == " ".join([*before, mask + punctuation, *after])


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from([*FILLER, ",", ".", "—", "2", "_", "-"]), max_size=20))
def test_a_card_without_names_is_unchanged(words: list[str]) -> None:
    card = " ".join(words)
    assert SCRUB(card) == card
