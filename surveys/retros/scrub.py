"""Masking what narrows down who wrote a card: email addresses, @mentions, and every name by
which someone in the organisation could be recognised. Pure (no Django); applied to every
card text that is shown or exported.

A card that names a colleague ("paired with Sam on the flaky test") says who its writer
works with. The rules, written against someone trying to get a name past the mask:

- **Folding.** Matching runs on a folded copy of the text: NFKC, accents and other combining
  marks stripped, Cyrillic and Greek look-alike letters mapped to the Latin letters they
  imitate, zero-width and other format characters (Unicode category Cf) dropped, casefolded.
  An index map leads every folded character back to the one it came from, so the masked
  text keeps every other character exactly as written. Names are folded the same way, so
  `Tomás` and `Tomas`, `Jоnas` (Cyrillic о) and `Jo\\u200bnas` all meet; German umlauts also
  match their ae/oe/ue spelling (`Jürgen`: Juergen, Jurgen).
- **Pieces.** Words are cut into pieces at `_ - . / '`, at digits and at camelCase
  boundaries (one such mark joins; "Jonas...then" is two words). A name may be a piece
  (`jonas_fix`, `mei2`, `AishaDemo`), several pieces that join into it (`Jo-nas`, `Jo.nas`,
  `O'Brien`), and a full name may span white space (`Jonas  Weber`). **The whole
  identifier** a name is found in is masked (`feature/jonas-fix` → `[name]`), not just the
  piece: what a branch name or login keeps around the name ("fix-flaky-login", "-k") can
  be looked up in the Git history and points at its author just as well.
- **Plurals and possessives** are masked with the name: `Sams` → `[name]`; a possessive
  ending stays as written, `Sam's` → `[name]'s`, `Sams'` → `[name]'`. Names with only
  white space between them become one `[name]` (a full name written in any of these ways).
- **Nicknames.** Each word of a name also stands for the other names of its nickname groups
  (`Thomas`: Tom, Tommy), given by the caller.
- **Initials** of the people given as `initials_of` (the team's, in practice): a standalone
  token in capitals, `JK`, `J.K.` or `J. K.`, unless it spells a common acronym or word (PR,
  CI, QA, IT, …). `jk` and every other short token are left alone.
- **Readability.** A name needs two letters or more. A name that is also a common word
  (Will, May, Mark, Bill; An, Do; particles such as van, de) is masked only when written
  capitalised — first letter upper case, not all capitals: "Will fixed it" and "in May" are
  masked, "it will work", "a may-be" and "MAY" are not. (So a card starting "Will this…"
  loses its first word: missing a colleague called Will would cost more.) A two-letter
  name is masked only as a word of its own: "Ed did it", not the ed of "ed25519".

Emails and @mentions are found first and never searched for names: one pass masks every
match, so a mask is never masked again. `Scrubber.for_names` compiles the names once (sets
of keys, no regular expression of names); applying it costs one pass over the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

EMAIL_MASK = "[email]"
MENTION_MASK = "[@mention]"
NAME_MASK = "[name]"
# Letters a name needs; a single letter is an initial (masked only as initials, see above).
NAME_MIN_LENGTH = 2
# The most pieces of text a name is looked for in ("J-o-n-a-s" is five).
MAX_PIECES = 12

EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
MENTION = r"(?<![\w@])@\w+(?:[.-]\w+)*"
_EMAIL_OR_MENTION = re.compile(rf"(?P<email>{EMAIL})|(?P<mention>{MENTION})")

# Letters that look like Latin ones (the common cases of Unicode's confusables), Latin
# letters with no decomposition into letter + accent, and apostrophes and hyphens, by what
# they fold to. Applied before and after casefolding, so both cases are listed.
_LOOKALIKES = {
    # Cyrillic capitals and small letters
    "\u0410": "A", "\u0412": "B", "\u0415": "E", "\u0405": "S", "\u0406": "I", "\u0408": "J",
    "\u041a": "K", "\u041c": "M", "\u041d": "H", "\u041e": "O", "\u0420": "P", "\u0421": "C",
    "\u0422": "T", "\u0423": "Y", "\u0425": "X", "\u04ae": "Y", "\u04ba": "H", "\u04c0": "I",
    "\u051a": "Q", "\u051c": "W",
    "\u0430": "a", "\u0432": "b", "\u0435": "e", "\u0455": "s", "\u0456": "i", "\u0458": "j",
    "\u043a": "k", "\u043c": "m", "\u043d": "h", "\u043e": "o", "\u0440": "p", "\u0441": "c",
    "\u0442": "t", "\u0443": "y", "\u0445": "x", "\u04af": "y", "\u04bb": "h", "\u04cf": "l",
    "\u0501": "d", "\u051b": "q", "\u051d": "w", "\u0475": "v",
    # Greek capitals and small letters
    "\u0391": "A", "\u0392": "B", "\u0395": "E", "\u0396": "Z", "\u0397": "H", "\u0399": "I",
    "\u039a": "K", "\u039c": "M", "\u039d": "N", "\u039f": "O", "\u03a1": "P", "\u03a4": "T",
    "\u03a5": "Y", "\u03a7": "X",
    "\u03b1": "a", "\u03b2": "b", "\u03b3": "y", "\u03b5": "e", "\u03b7": "n", "\u03b9": "i",
    "\u03ba": "k", "\u03bc": "u", "\u03bd": "v", "\u03bf": "o", "\u03c1": "p", "\u03c4": "t",
    "\u03c5": "u", "\u03c7": "x", "\u03c9": "w", "\u03f2": "c", "\u03f3": "j",
    # Latin letters without a decomposition
    "\u0131": "i", "\u0237": "j", "\u0261": "g", "\u0269": "i",
    "\u0141": "L", "\u0142": "l", "\u00d8": "O", "\u00f8": "o", "\u0110": "D", "\u0111": "d",
    "\u00d0": "D", "\u00f0": "d", "\u0126": "H", "\u0127": "h", "\u00c6": "AE", "\u00e6": "ae",
    "\u0152": "OE", "\u0153": "oe", "\u00de": "TH", "\u00fe": "th",
    # Apostrophes and hyphens
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u02b9": "'", "\u00b4": "'", "\u2032": "'",
    "\u2010": "-", "\u2011": "-", "\u2212": "-",
}  # fmt: skip
_LOOKALIKE_TABLE = str.maketrans(_LOOKALIKES)
_MARKS = frozenset({"Mn", "Me", "Cf"})
# A name's other spellings: German umlauts as ae/oe/ue, Scandinavian å and ø as aa and oe.
_TRANSLITERATIONS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "å": "aa", "Å": "Aa"}
    | {"ø": "oe", "Ø": "Oe"}
)

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_WORD = re.compile(r"[^\W_]+")  # a run of letters and digits
_LETTERS_OR_DIGITS = re.compile(r"[^\W\d_]+|\d+")
_JOINERS = frozenset("_-./'")  # what joins the pieces of an identifier (after folding)
_JOIN, _SPACE, _OTHER = 0, 1, 2  # what separates a piece from the one before it


def _wordlist(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Common words that are also names: masked only when written capitalised. Short function
# words, names' particles, first names and surnames that are ordinary words, months' and
# days' abbreviations (Jan), and the placeholders of usernames and Git identities.
COMMON_WORDS = _wordlist(
    """
    a an as at be by do go he hi if in is it me my no of oh ok on or so to up us we ye yo
    ah am ax ex id ma pa re lo ha ho mi ad la le el al de di da du den der des del della
    dos das von van ter ten zu bin ibn y e o
    the and but for not all any can her him his its our out she too two who why yes yet
    you new now old one own see way day get got let put set run use big bit bug fix log
    key map win won top art ace ash bud cash chance dot kit nat cat jet rex sol zen
    will may mark bill june april august march grace hope faith joy rose dawn sky chase
    drew frank gene jack pat sue ray rob bob don guy max dean earl glen hunter iris ivy
    lily miles nick penny ruby rusty sandy wade woody amber crystal jade cliff pierce lane
    summer autumn winter river brook heather holly ginger basil herb sage rich rick
    rocky angel candy honey destiny harmony melody liberty justice major prince king duke
    royal sterling forest forrest sonny nova echo luna chuck memo nacho wolf buddy carol
    page reed violet daisy poppy olive pearl opal coral fern ivory sunny misty merry
    patience prudence mercy constance charity verity ebony storm rain star sunday
    long short young cook baker smith white black brown green gray grey wood woods hill
    hall stone bell fox rice park lee west north south field ford banks bush price ward
    hunt fisher carter mason porter turner walker bishop love wise little strong sharp
    bright best good small gold silver steel marsh brooks waters rivers lake pool church
    castle tower gates case lock block bond frost snow cross rush hay bird swan crane
    finch wren drake hawk fish lamb bull klein lang kurz stein berg koch
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    name user admin root test tests unknown none null your bot build deploy dev ops team
    guest demo info mail hello contact support sales office noreply github git person
    """
)
# What joins the parts of a name and has no initial of its own (Jan van der Berg: JB).
PARTICLES = _wordlist("van von der den de da di du del della dos das la le ter ten zu bin ibn")
# Capital tokens that are acronyms, not initials.
ACRONYMS = _wordlist(
    """
    ai api pr prs ci cd qa qe ui ux db js ts ml ok pm am po em vp hr eu uk io os vm dx ip
    tl dr sre sql css jsx tsx sdk cli orm mvp tdd bdd ddd kpi okr roi sla slo sli etl cpu
    gpu ram ssd dns tcp udp ssh ssl tls jwt xml csv pdf url uri aws gcp iac rfc adr faq
    tbd tba fyi eod eta wip afk brb btw imo se sw hw bi fe gc oom npe llm gpt ide vs vsc
    mr ms mrs st jr sr ceo cto cfo coo cio hq ny sf usa gb mb kb tb ns hz pt px rem vh vw
    nb ps pps ie eg etc aka rip rc ga ea poc ab dm tv pc mac ar vr xr iot ecs eks sqs sns
    rds iam vpc cdn waf ddos cve xss sso mfa otp pii soc iso pci dpa spa ssr csr seo cms
    crm erp jvm npm pip gh gl cl ic sme ooo pto rca sev pdt cet utc gmt est pst edt bst
    """
)


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """What one character becomes in the folded copy: "" for a format character or a
    combining mark, otherwise its compatibility decomposition (NFKD: NFKC's letters,
    decomposed) without marks, look-alikes mapped, casefolded."""
    if unicodedata.category(char) == "Cf":
        return ""
    decomposed = unicodedata.normalize("NFKD", char.translate(_LOOKALIKE_TABLE))
    bare = "".join(c for c in decomposed if unicodedata.category(c) not in _MARKS)
    return bare.translate(_LOOKALIKE_TABLE).casefold().translate(_LOOKALIKE_TABLE)


def fold(text: str) -> tuple[str, Sequence[int]]:
    """The folded copy of `text`, and for each of its characters the index in `text` of the
    character it came from."""
    if text.isascii():
        return text.lower(), range(len(text))
    parts: list[str] = []
    index: list[int] = []
    done = 0
    for run in _NON_ASCII.finditer(text):  # ASCII between them folds by lower()
        start, end = run.span()
        parts.append(text[done:start].lower())
        index += range(done, start)
        for position in range(start, end):
            folded = _fold_char(text[position])
            parts.append(folded)
            index += [position] * len(folded)
        done = end
    parts.append(text[done:].lower())
    index += range(done, len(text))
    return "".join(parts), index


def _camel_cuts(text: str, index: Sequence[int], start: int, end: int) -> list[int]:
    """Where a run of letters of the folded copy changes case in the original: before an
    upper-case letter that follows a lower-case one (jonasFix), or that starts a word after
    capitals (HTTPServer)."""
    cuts = []
    for k in range(start + 1, end):
        here, before = index[k], index[k - 1]
        if here == before or not text[here].isupper():
            continue
        previous = text[before]
        if previous.islower() or (
            previous.isupper() and k + 1 < end and text[index[k + 1]].islower()
        ):
            cuts.append(k)
    return cuts


@dataclass(frozen=True)
class _Pieces:
    """The pieces of a folded text, with what separates each from the one before."""

    starts: list[int]
    ends: list[int]
    texts: list[str]
    gaps: list[int]  # _JOIN, _SPACE or _OTHER
    gap_texts: list[str]


def _pieces(folded: str, index: Sequence[int], text: str) -> _Pieces:
    starts: list[int] = []
    ends: list[int] = []
    for word in _WORD.finditer(folded):
        for part in _LETTERS_OR_DIGITS.finditer(folded, word.start(), word.end()):
            start, end = part.span()
            cuts: list[int] = []
            if end - start > 1 and not folded[start].isdigit():
                original = text[index[start] + 1 : index[end - 1] + 1]
                if original != original.lower():
                    cuts = _camel_cuts(text, index, start, end)
            for cut in cuts:
                starts.append(start)
                ends.append(cut)
                start = cut
            starts.append(start)
            ends.append(end)
    texts = [folded[start:end] for start, end in zip(starts, ends, strict=True)]
    gap_texts = [folded[ends[k - 1] : starts[k]] if k else "" for k in range(len(starts))]
    gaps = [_gap(gap) if k else _OTHER for k, gap in enumerate(gap_texts)]
    # A possessive "'s" ends an identifier: never part of a name, kept as written.
    for k, piece in enumerate(texts):
        if piece == "s" and gap_texts[k] == "'" and (k + 1 == len(texts) or gaps[k + 1] != _JOIN):
            gaps[k] = _OTHER
    return _Pieces(starts, ends, texts, gaps, gap_texts)


@lru_cache(maxsize=1024)
def _gap(gap: str) -> int:
    """One joiner or nothing joins ("jonas_fix", "AishaDemo"); "Jonas... then" does not."""
    if len(gap) <= 1 and (not gap or gap in _JOINERS):
        return _JOIN
    return _SPACE if gap.isspace() else _OTHER


def _words(name: str) -> list[str]:
    """A name's words, folded, each with its letters and digits run together."""
    words = ("".join(_WORD.findall(word)) for word in fold(name)[0].split())
    return [word for word in words if word]


def _spellings(name: str) -> set[str]:
    composed = unicodedata.normalize("NFC", name)
    return {composed, composed.translate(_TRANSLITERATIONS)}


def _letters(key: str) -> int:
    return sum(char.isalpha() for char in key)


def nickname_groups(nicknames: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Each folded name or nickname → the other names of every group it is in (a group is
    a name with its nicknames: Thomas, Tom, Tommy)."""
    found: dict[str, set[str]] = {}
    for name, others in nicknames.items():
        group = {" ".join(_words(word)) for word in (name, *others)} - {""}
        for member in group:
            found.setdefault(member, set()).update(group - {member})
    return {member: frozenset(others) for member, others in found.items()}


def _name_keys(name: str, groups: Mapping[str, frozenset[str]]) -> set[str]:
    """The folded forms under which `name` is masked: the whole name (its words separated by
    one space), each of its words alone, with the first word also as each of its nicknames."""
    keys: set[str] = set()
    for spelling in _spellings(name):
        words = _words(spelling)
        if not words:
            continue
        phrases = [words] + ([[word] for word in words] if len(words) > 1 else [])
        for first, *rest in phrases:
            for form in {first, *groups.get(first, ())}:
                keys.add(" ".join([form, *rest]))
    return {key for key in keys if _letters(key) >= NAME_MIN_LENGTH}


def _initials(name: str) -> set[str]:
    """The initials a person's name may be written as: of all its words but particles
    (Anna Maria Schmidt: AMS), and of the first and last (AS); two or three letters."""
    words = [word for word in _words(name) if word[0].isalpha()]
    named = [word for word in words if word not in PARTICLES] or words
    found = {"".join(word[0] for word in named)}
    if len(named) > 2:
        found.add(named[0][0] + named[-1][0])
    return {initials for initials in found if 2 <= len(initials) <= 3}


@dataclass(frozen=True)
class Scrubber:
    """Compiled once for an organisation's names (per reading), then applied to each card."""

    keys: frozenset[str]  # folded names, words separated by one space
    common: frozenset[str]  # the keys that are common words: masked only when capitalised
    prefixes: frozenset[str]  # every proper prefix of a key: where to keep looking
    initials: frozenset[str]  # folded initials, masked as capital standalone tokens

    @classmethod
    def for_names(
        cls,
        names: Iterable[str],
        *,
        nicknames: Mapping[str, Iterable[str]] | None = None,
        initials_of: Iterable[str] = (),
    ) -> Scrubber:
        """`names`: every name, username, login, email local part of the people to mask;
        `nicknames`: name → its nicknames; `initials_of`: the people whose initials to mask
        (full names)."""
        groups = nickname_groups(nicknames or {})
        keys: set[str] = set()
        for name in {" ".join(name.split()) for name in names}:
            keys |= _name_keys(name, groups)
        common = {key for key in keys if all(word in COMMON_WORDS for word in key.split(" "))}
        prefixes = {key[:end] for key in keys for end in range(1, len(key))}
        initials: set[str] = set()
        for name in initials_of:
            initials |= _initials(name)
        initials -= ACRONYMS | COMMON_WORDS
        return cls(frozenset(keys), frozenset(common), frozenset(prefixes), frozenset(initials))

    def __call__(self, text: str) -> str:
        folded, index = fold(text)
        spans: list[tuple[int, int, str]] = []  # in `folded`
        blanked = list(folded)
        for match in _EMAIL_OR_MENTION.finditer(folded):
            start, end = match.span()
            spans.append((start, end, EMAIL_MASK if match.group("email") else MENTION_MASK))
            blanked[start:end] = "\0" * (end - start)
        if spans:
            folded = "".join(blanked)
        names = self._name_spans(text, folded, index)
        return _masked(text, index, spans, names)

    def _name_spans(self, text: str, folded: str, index: Sequence[int]) -> list[tuple[int, int]]:
        """The folded spans of every identifier naming someone and of initials."""
        pieces = _pieces(folded, index, text)
        texts, gaps = pieces.texts, pieces.gaps
        found: list[tuple[int, int]] = []
        count = len(texts)
        k = 0
        while k < count:
            last = self._name_at(k, pieces, text, index)
            if last is not None:
                first = k
                while first > 0 and gaps[first] == _JOIN:
                    first -= 1
                end = last
                while end + 1 < count and gaps[end + 1] == _JOIN:
                    end += 1
                found.append((pieces.starts[first], pieces.ends[end]))
                k = last + 1
                continue
            last = self._initials_at(k, pieces, text, index) if self.initials else None
            if last is not None:
                end = pieces.ends[last]
                if last > k and folded[end : end + 1] == ".":
                    end += 1  # J.K. as a whole
                found.append((pieces.starts[k], end))
                k = last + 1
                continue
            k += 1
        return found

    def _name_at(self, k: int, pieces: _Pieces, text: str, index: Sequence[int]) -> int | None:
        """The last piece of the longest name starting at piece `k`, if any."""
        texts, gaps = pieces.texts, pieces.gaps
        best = None
        run = ""
        for last in range(k, min(len(texts), k + MAX_PIECES)):
            if last > k:
                if gaps[last] == _OTHER:
                    break
                run += (" " if gaps[last] == _SPACE else "") + texts[last]
            else:
                run = texts[k]
            stem = run if run in self.keys else run[:-1] if run[-1] == "s" else ""
            if stem in self.keys and self._written_as_name(stem, k, last, pieces, text, index):
                best = last
            if run not in self.prefixes:
                break
        return best

    def _written_as_name(
        self, stem: str, k: int, last: int, pieces: _Pieces, text: str, index: Sequence[int]
    ) -> bool:
        """Whether pieces `k` to `last`, spelling the name `stem`, stand for it: a common
        word only when capitalised, a two-letter name only as a word of its own (not the
        "ed" of ed25519)."""
        if stem in self.common and not _capitalised(_original(k, pieces, text, index)):
            return False
        if _letters(stem) <= NAME_MIN_LENGTH:
            gaps = pieces.gaps
            return gaps[k] != _JOIN and (last + 1 == len(gaps) or gaps[last + 1] != _JOIN)
        return True

    def _initials_at(self, k: int, pieces: _Pieces, text: str, index: Sequence[int]) -> int | None:
        """The last piece of initials starting at piece `k`: a standalone capital token
        (JK) or capital letters each followed by a dot (J.K., J. K.)."""
        texts, gaps = pieces.texts, pieces.gaps
        if gaps[k] == _JOIN:
            return None
        piece = texts[k]
        if len(piece) > 1:
            alone = k + 1 == len(texts) or gaps[k + 1] != _JOIN
            if (
                alone
                and len(piece) <= 3
                and piece in self.initials
                and _capitals(_original(k, pieces, text, index))
            ):
                return k
            return None
        last = k
        while (
            last + 1 < len(texts)
            and pieces.gap_texts[last + 1] in (".", ". ")
            and len(texts[last + 1]) == 1
        ):
            last += 1
        letters = texts[k : last + 1]
        if 2 <= len(letters) <= 3 and "".join(letters) in self.initials:
            originals = (_original(j, pieces, text, index) for j in range(k, last + 1))
            if all(_capitals(original) for original in originals):
                return last
        return None


def _original(k: int, pieces: _Pieces, text: str, index: Sequence[int]) -> str:
    return text[index[pieces.starts[k]] : index[pieces.ends[k] - 1] + 1]


def _capitalised(word: str) -> bool:
    """First letter upper case and not all capitals: "Will", not "will" nor "WILL"."""
    return word[:1].isupper() and (len(word) == 1 or not word.isupper())


def _capitals(word: str) -> bool:
    return word.isupper() and word.isalpha()


def _masked(
    text: str,
    index: Sequence[int],
    masks: list[tuple[int, int, str]],
    names: list[tuple[int, int]],
) -> str:
    """`text` with the folded spans replaced by their masks; a span swallows the marks and
    format characters that trail it (a combining accent, a zero-width space), and names
    next to each other (only white space between) become one: "[name]", not "[name] [name]"
    for a full name written in pieces."""
    spans = [(*_span_in(text, index, start, end), mask) for start, end, mask in masks]
    merged: list[list[int]] = []
    for start, end in sorted(_span_in(text, index, start, end) for start, end in names):
        if merged and (start <= merged[-1][1] or text[merged[-1][1] : start].isspace()):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    spans += [(start, end, NAME_MASK) for start, end in merged]
    out: list[str] = []
    position = 0
    for start, end, mask in sorted(spans):
        out += [text[position:start], mask]
        position = end
    out.append(text[position:])
    return "".join(out)


def _span_in(text: str, index: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """The span of the original text a folded span came from."""
    first, after = index[start], index[end - 1] + 1
    while after < len(text) and not _fold_char(text[after]):
        after += 1
    return first, after


def text_scrub(
    text: str,
    *,
    names: Iterable[str],
    nicknames: Mapping[str, Iterable[str]] | None = None,
    initials_of: Iterable[str] = (),
) -> str:
    """`text` with emails, @mentions and any of `names` masked (see the module's rules)."""
    return Scrubber.for_names(names, nicknames=nicknames, initials_of=initials_of)(text)
