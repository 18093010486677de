"""Sealed submissions: what a submission stores next to its participation mark.

Why. A submission is one transaction that flips the person's invitation to `used`. Every
page that transaction writes stays readable after the rows are rewritten: in SQLite's WAL
(until it is checkpointed and truncated; `secure_delete` cleans only the main file) and
in PostgreSQL's WAL segments, archives and base backups. If the transaction also wrote
the answers or cards, replaying the log gives them by name (docs/DESIGN.md §2.2, storage).

So a submission inserts ONE row next to the flag: a `SealedSubmission` (surveys/links/
models.py; no person, no invitation, no time) whose blob is

    nonce (12 random bytes) ‖ AES-256-GCM(key, plaintext, aad) (plaintext + 16-byte tag)
    key  = HKDF-SHA256(SECRET_KEY, salt=None, info=aad), 32 bytes
    aad  = "candor-seal:{kind}:{window id}"   (kind: "pulse" or "retro")
    plaintext = 4-byte length ‖ JSON {"v": 1, "fields": {...}, "rows": [{...}, ...]} ‖ zeros

`fields` are the anonymous submission's own (a response's run and team), `rows` its
answers or cards, each by field name, so a close after an upgrade still reads them. The
anonymous rows in the clear are written only later, by a transaction that writes no
invitation: the pulse's close, a retro's batch publication (at least k people) or its
close (surveys/links/rewrite.py `sealed_take`, then shuffled with fresh keys). With read
access to the files but not the secret, nothing in any transaction pairs a person with
an answer.

Padding: every blob of a window has one length, the next power of two ≥ SEAL_SIZE_MIN
bytes that holds the *widest* submission the window's form allows (every question
answered with its longest value; 30 cards of 1 000 four-byte characters: 128 KiB). A
size bucket of the payload itself (next power of two of what was written) would not do:
someone who wrote a lot would sit alone in a large bucket, and the cards published from
the same batch would show which submission was theirs. The cost is storage while a window
is open — about 1 KiB per pulse response, 128 KiB per retro submission — freed at close.

Keys: one per window (HKDF's info), so a blob cannot be opened under another window's
key or moved between windows (the info is also the AEAD's associated data). Opening tries
SECRET_KEY, then SECRET_KEY_FALLBACKS: rotate the secret the Django way (the old one in
the fallbacks until every window open at the rotation has closed). A blob no key opens
raises `SealUnreadable`, and the close (or publication) that met it rolls back whole: it
loses nothing and can be run again once the key is back.

What a holder of the database *and* SECRET_KEY can learn: while a window is open (or from
a backup or WAL taken while it was open), the sealed blobs are readable and each one's
transaction (SQLite's WAL frames, PostgreSQL's xmin and WAL records) names the invitation
it flipped — so who wrote what. After the close, the sealed rows are deleted (SQLite with
`secure_delete`, and its WAL checkpointed and truncated: `storage_scrub_on_commit`); the
clear rows were written by a transaction with no invitation, in random order under fresh
keys, so nothing pairs them any more. PostgreSQL's WAL archives and base backups keep
what they held: the README's "Storage" says what an operator must do.
"""

from __future__ import annotations

import json
import logging
import os
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils.encoding import force_bytes

logger = logging.getLogger(__name__)

SEAL_SIZE_MIN = 512  # bytes of padded plaintext, at least
SEAL_VERSION = 1
NONCE_BYTES = 12  # 96 bits, random per blob
TAG_BYTES = 16
KEY_BYTES = 32  # AES-256
ID_WIDEST = 2**63 - 1  # the widest primary key (BigAutoField) a payload can carry
_LENGTH = struct.Struct(">I")

Fields = Mapping[str, Any]
Rows = Sequence[Mapping[str, Any]]


class SealUnreadable(Exception):
    """A sealed submission that neither SECRET_KEY nor SECRET_KEY_FALLBACKS opens."""


def seal_info(*, kind: str, window_id: int) -> bytes:
    """HKDF's info and the AEAD's associated data: what a blob belongs to."""
    return f"candor-seal:{kind}:{window_id}".encode()


def seal_key(secret: str | bytes, *, kind: str, window_id: int) -> bytes:
    """The window's key: HKDF-SHA256 of the secret, one key per kind and window."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=seal_info(kind=kind, window_id=window_id),
    )
    return hkdf.derive(force_bytes(secret))


def _encoded(fields: Fields, rows: Rows) -> bytes:
    payload = {"v": SEAL_VERSION, "fields": dict(fields), "rows": [dict(row) for row in rows]}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.encode("utf-8")


def seal_size(*, fields: Fields, rows: Rows) -> int:
    """The padded plaintext length of every blob of a window, given the widest submission
    its form allows: the next power of two, at least SEAL_SIZE_MIN, that holds it."""
    needed = _LENGTH.size + len(_encoded(fields, rows))
    size = SEAL_SIZE_MIN
    while size < needed:
        size *= 2
    return size


def blob_length(size: int) -> int:
    """How long a blob of a window with padded size `size` is, whatever it holds."""
    return NONCE_BYTES + size + TAG_BYTES


def submission_seal(*, kind: str, window_id: int, size: int, fields: Fields, rows: Rows) -> bytes:
    """Seal one submission under the window's key, padded to `size` (`seal_size` of the
    window's widest submission). Raises ValueError if it does not fit, which the widest
    bound rules out."""
    data = _encoded(fields, rows)
    if _LENGTH.size + len(data) > size:
        raise ValueError(f"a {kind} submission of {len(data)} bytes does not fit in {size}")
    plaintext = _LENGTH.pack(len(data)) + data + bytes(size - _LENGTH.size - len(data))
    info = seal_info(kind=kind, window_id=window_id)
    nonce = os.urandom(NONCE_BYTES)
    key = seal_key(settings.SECRET_KEY, kind=kind, window_id=window_id)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, info)


def submission_unseal(
    blob: bytes | memoryview, *, kind: str, window_id: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(fields, rows) of a sealed submission of this window. Tries SECRET_KEY, then each of
    SECRET_KEY_FALLBACKS; raises SealUnreadable if none opens it (or it is not a blob of
    this window)."""
    raw = bytes(blob)
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    info = seal_info(kind=kind, window_id=window_id)
    for secret in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())):
        try:
            plaintext = AESGCM(seal_key(secret, kind=kind, window_id=window_id)).decrypt(
                nonce, sealed, info
            )
        except InvalidTag:
            continue
        (length,) = _LENGTH.unpack_from(plaintext)
        payload = json.loads(plaintext[_LENGTH.size : _LENGTH.size + length])
        return payload["fields"], payload["rows"]
    raise SealUnreadable(
        f"A sealed submission of {kind} {window_id} opens with neither SECRET_KEY nor "
        "SECRET_KEY_FALLBACKS: put back the secret it was written under (as a fallback) "
        "and run the close again; nothing was changed."
    )


def wal_truncate() -> bool:
    """SQLite: copy the write-ahead log into the main file and truncate it to zero bytes,
    so the page images of sealed rows (and of everything else written since the last
    checkpoint) are gone from disk; with `secure_delete` (config/settings/base.py) the
    main file keeps no deleted row either. True if it was truncated; False on PostgreSQL,
    whose WAL the application cannot clean (README, "Storage"), inside a transaction
    (nothing can be checkpointed there), or if readers kept the checkpoint from finishing
    within the busy timeout or it failed (logged; the next close or publication truncates
    it). Never raises."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _, _ = cursor.fetchone()
    except DatabaseError as error:
        logger.warning("SQLite's WAL could not be checkpointed and truncated: %s", error)
        return False
    if busy:
        logger.warning("SQLite's WAL could not be checkpointed and truncated: readers kept it")
    return not busy


def storage_scrub_on_commit() -> None:
    """Truncate SQLite's WAL (`wal_truncate`) once the transaction that opened sealed rows
    has committed. A failure is logged, never raised: the close itself has happened."""
    transaction.on_commit(wal_truncate)
