"""Streaming parser for one `git log` process (pure: bytes in, records out).

The format puts a record separator before each commit and NUL between fields; with
`-z --numstat` each changed file follows as `added<TAB>deleted<TAB>path<NUL>`, or for a
rename `added<TAB>deleted<TAB><NUL>old<NUL>new<NUL>`; binary files report `-` for both
counts (they count as files, not lines). Merges carry no numstat (as in plain
`git log --numstat`). Memory stays bounded: only one commit's bytes are held at a time,
and file paths are counted, never kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

RECORD = b"\x1e"
FIELDS = (
    "%H",
    "%P",
    "%aN",
    "%aE",
    "%aI",
    "%cN",
    "%cE",
    "%cI",
    "%s",
    "%B",
    "%(trailers:unfold,only)",
)
LOG_FORMAT = "%x1e" + "%x00".join(FIELDS) + "%x00"
REVERT = re.compile(r"This reverts commit ([0-9a-f]{7,40})", re.IGNORECASE)
SHA = re.compile(rb"[0-9a-f]{40}")
# What follows a separator that starts a record: the commit's sha and the NUL after it. A
# separator byte elsewhere (a commit message, a name or a path may hold one) is content.
HEADER = re.compile(rb"[0-9a-f]{40}\x00")
HEADER_SIZE = 41


class GitLogFormatError(ValueError):
    """The stream is not what LOG_FORMAT produces (a truncated or foreign stream)."""


@dataclass(frozen=True)
class ParsedCommit:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored_at: datetime
    committer_name: str
    committer_email: str
    committed_at: datetime
    subject: str
    message: str
    trailers: tuple[tuple[str, str], ...]
    files_changed: int
    additions: int
    deletions: int
    reverted_sha: str | None = field(default=None)

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def is_revert(self) -> bool:
        return self.reverted_sha is not None


def _text(raw: bytes) -> str:
    # Git re-encodes messages that declare an encoding; anything still not UTF-8 (a
    # latin-1 name without a header) is kept readable rather than refused.
    return raw.decode("utf-8", errors="replace").replace("\x00", "")


def _time(raw: bytes, sha: str) -> datetime:
    try:
        return datetime.fromisoformat(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise GitLogFormatError(f"commit {sha}: unreadable date {raw[:40]!r}") from None


def _trailers(raw: bytes) -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in _text(raw).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def _numstat(chunks: list[bytes], sha: str) -> tuple[int, int, int]:
    """Files, added and deleted lines from the NUL-split numstat tail of one record."""
    files = added = deleted = 0
    index = 0
    while index < len(chunks):
        entry = chunks[index].lstrip(b"\n")
        index += 1
        if not entry:
            continue
        parts = entry.split(b"\t", 2)
        if len(parts) != 3:
            raise GitLogFormatError(f"commit {sha}: malformed numstat entry {entry[:60]!r}")
        plus, minus, path = parts
        if not path:  # a rename or copy: the old and the new path follow as two chunks
            index += 2
        files += 1
        if plus != b"-":
            if not (plus.isdigit() and minus.isdigit()):
                raise GitLogFormatError(f"commit {sha}: malformed line counts {entry[:60]!r}")
            added += int(plus)
            deleted += int(minus)
    return files, added, deleted


def parse_record(record: bytes) -> ParsedCommit:
    """One commit from the bytes between two record separators."""
    chunks = record.split(b"\x00")
    if len(chunks) < len(FIELDS) + 1 or not SHA.fullmatch(chunks[0]):
        raise GitLogFormatError(f"not a commit record: {record[:60]!r}")
    sha = chunks[0].decode("ascii")
    message = _text(chunks[9])
    parents = chunks[1].split()
    if not all(SHA.fullmatch(parent) for parent in parents):
        raise GitLogFormatError(f"commit {sha}: malformed parents {chunks[1][:90]!r}")
    files, added, deleted = _numstat(chunks[len(FIELDS) :], sha)
    revert = REVERT.search(message)
    return ParsedCommit(
        sha=sha,
        parents=tuple(parent.decode("ascii") for parent in parents),
        author_name=_text(chunks[2]),
        author_email=_text(chunks[3]),
        authored_at=_time(chunks[4], sha),
        committer_name=_text(chunks[5]),
        committer_email=_text(chunks[6]),
        committed_at=_time(chunks[7], sha),
        subject=_text(chunks[8]),
        message=message,
        trailers=_trailers(chunks[10]),
        files_changed=files,
        additions=added,
        deletions=deleted,
        reverted_sha=revert.group(1) if revert else None,
    )


def parse_stream(blocks: Iterable[bytes]) -> Iterator[ParsedCommit]:
    """Commits from a stream of byte blocks of any size, holding one record at a time.

    The separator is searched for only in bytes not scanned yet, so a single huge commit
    (100 000 files) costs linear, not quadratic, time. It starts a record only when a sha
    and a NUL follow it: git writes fields raw, and a message may contain the byte.
    """
    buffer = bytearray()
    scanned = 0
    started = False
    for block in blocks:
        buffer += block
        while (end := buffer.find(RECORD, scanned)) != -1:
            if len(buffer) < end + 1 + HEADER_SIZE:
                scanned = end  # decide once the bytes after it are here
                break
            if not HEADER.match(buffer, end + 1):
                scanned = end + 1  # a separator byte inside a name, message or path
                continue
            record = bytes(buffer[:end])
            del buffer[: end + 1]
            scanned = 0
            if started:
                yield parse_record(record)
            elif record.strip(b"\n\x00"):
                raise GitLogFormatError(
                    f"unexpected bytes before the first commit: {record[:60]!r}"
                )
            started = True
        else:
            scanned = len(buffer)
    if buffer.strip(b"\n\x00"):
        if not started:
            raise GitLogFormatError(f"not a git log stream: {bytes(buffer[:60])!r}")
        yield parse_record(bytes(buffer))
