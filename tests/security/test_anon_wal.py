"""Anonymity attack 13: the write-ahead log (docs/DESIGN.md §2.2, storage).

Someone who can read the database's files but not SECRET_KEY replays the log. A submission
is one transaction that flips the person's invitation to `used`; if that transaction also
wrote their answers or cards, its page images (SQLite's WAL frames) or records
(PostgreSQL's WAL, as `pg_waldump` prints it) hold both, whatever rewrite came later.

The detector groups the log per committed transaction and asks of each one: does it
write a participation mark (an invitation row with used = 1, found by its token hash)
*and* an answer or card in the clear (a known card text, or the key of a known response,
answer, retro submission or card)? No transaction may. Each detector is shown to catch
one that does: a submission written in the clear, as submissions were before sealing
(surveys/links/sealing.py).

On SQLite the WAL is also read after the closes: checkpointed and truncated to zero
bytes, and the main file holds no sealed blob any more.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from config.celery import app
from surveys.pulses import services as pulses
from surveys.pulses.models import Answer, Invitation, Response
from surveys.retros import services as retros
from surveys.retros.models import RetroCard, RetroInvitation, RetroResponse
from surveys.retros.publication import retro_board_publish
from tests.conftest import (
    OpenRetro,
    OpenRun,
    make_open_retro,
    make_open_run,
    submit_all,
    submit_all_from,
    valid_answers,
)
from tests.security.anon_world import anonymity_tally, tally  # noqa: F401

pytestmark = [pytest.mark.usefixtures("anonymity_tally")]

PARTICIPATION = (Invitation, RetroInvitation)
CLEAR = (Response, Answer, RetroResponse, RetroCard)
WRITERS = 8  # per run and per session: 6 before the retro's first batch, 2 after


@pytest.fixture
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A close enqueues its refresh by name on commit; nothing here needs it sent."""
    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: None)


# --- what a reader of the files knows to look for -------------------------------------------


@dataclass
class Needles:
    """The participation marks (token hashes of the invitations) and what is said in the
    clear (card texts; keys of responses, answers, retro submissions and cards, as the
    database stores them) that the detectors look for."""

    hashes: set[str] = field(default_factory=set)
    clear: set[bytes] = field(default_factory=set)

    def gather(self) -> None:
        """Add every invitation's hashes and every row now in the clear."""
        for model in PARTICIPATION:
            for field_name in ("token_hash", "reminder_token_hash"):
                if any(f.name == field_name for f in model._meta.fields):
                    found = model.objects.exclude(**{f"{field_name}__isnull": True})
                    self.hashes |= set(found.values_list(field_name, flat=True))
        stored_key = (lambda key: key.hex) if connection.vendor == "sqlite" else str
        for model in CLEAR:
            self.clear |= {
                stored_key(k).encode() for k in model.objects.values_list("pk", flat=True)
            }
        self.clear |= {text.encode() for text in RetroCard.objects.values_list("text", flat=True)}


def _cards(open_retro: OpenRetro, index: int) -> list[dict[str, Any]]:
    """Two cards with texts found nowhere else; the second is not to be shown."""
    prompts = list(open_retro.session.prompts.values_list("prompt_id", flat=True))
    return [
        {
            "prompt": prompts[position],
            "text": f"wal-probe {index}.{position}: the assistant rewrote the {position} module",
            "category": "tests",
            "effect": "hurt",
            "shared": position == 0,
        }
        for position in range(2)
    ]


def _write_cards(open_retro: OpenRetro, indices: Sequence[int]) -> None:
    for index in indices:
        invitation = retros.retro_invitation_redeem(raw_token=open_retro.tokens[index])
        retros.retro_response_submit(invitation=invitation, cards=_cards(open_retro, index))


def _answer_in_the_clear(open_run: OpenRun, index: int) -> None:
    """A pulse submission as it was written before sealing: the flag and the answers in
    one transaction."""
    run = open_run.run
    ids = dict(run.run_questions.values_list("question__key", "question_id"))
    with transaction.atomic():
        assert Invitation.objects.filter(pk=open_run.invitations[index].pk, used=False).update(
            used=True
        )
        response = Response.objects.create(run=run, team=run.team)
        Answer.objects.bulk_create(
            Answer(
                response=response,
                question_id=ids[key],
                value=None if isinstance(value, list) else value,
                choices=value if isinstance(value, list) else None,
            )
            for key, value in valid_answers(run, index).items()
        )
        _note_xid()


def _cards_in_the_clear(open_retro: OpenRetro, index: int) -> None:
    """A retro submission as it was written before sealing."""
    session = open_retro.session
    prompt_ids = dict(session.prompts.values_list("prompt_id", "pk"))
    with transaction.atomic():
        assert RetroInvitation.objects.filter(
            pk=open_retro.invitations[index].pk, used=False
        ).update(used=True)
        response = RetroResponse.objects.create(session=session, team=session.team)
        RetroCard.objects.bulk_create(
            RetroCard(
                response=response,
                prompt_id=prompt_ids[card["prompt"]],
                text=card["text"],
                category=card["category"],
                effect=card["effect"],
                shared=card["shared"],
            )
            for card in _cards(open_retro, index)
        )
        _note_xid()


XIDS: list[int] = []


def _note_xid() -> None:
    """PostgreSQL: remember the 32-bit id of the transaction we are in (as pg_waldump
    prints it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text")
            XIDS.append(int(cursor.fetchone()[0]) % 2**32)


def _everything(
    open_run: OpenRun,
    open_retro: OpenRetro,
    needles: Needles,
    *,
    before_opening: Callable[[list[bytes]], Any] = lambda _: None,
) -> None:
    """Through the services: six people answer and write, the board publishes the six,
    two more answer and write (held back), the run and the session close. Whatever is
    sealed is shown to `before_opening` before it is opened; `needles` gathers the marks
    and everything written in the clear."""
    submit_all(open_run, 6)
    _write_cards(open_retro, range(6))
    before_opening(_sealed_samples())
    needles.gather()
    retro_board_publish(session_id=open_retro.session.pk)
    needles.gather()
    submit_all_from(open_run, 6, WRITERS)
    _write_cards(open_retro, range(6, WRITERS))
    before_opening(_sealed_samples())
    pulses.pulse_run_close(run_id=open_run.run.pk)
    retros.retro_session_close(session_id=open_retro.session.pk)
    needles.gather()
    assert Response.objects.filter(run=open_run.run).count() == WRITERS
    assert RetroResponse.objects.filter(session=open_retro.session).count() == WRITERS
    assert RetroCard.objects.filter(response__session=open_retro.session).count() == 2 * WRITERS


def _sealed_samples() -> list[bytes]:
    """A slice from the middle of every sealed blob now stored (random bytes: found
    anywhere, it is that blob)."""
    from surveys.pulses.models import SealedResponse
    from surveys.retros.models import SealedRetroResponse

    blobs = [
        bytes(blob)
        for model in (SealedResponse, SealedRetroResponse)
        for blob in model.objects.values_list("blob", flat=True)
    ]
    return [blob[len(blob) // 2 : len(blob) // 2 + 48] for blob in blobs]


# --- SQLite: the WAL's frames -----------------------------------------------------------------

WAL_MAGIC = (0x377F0682, 0x377F0683)
WAL_HEADER = 32
FRAME_HEADER = 24
TABLE_LEAF = 0x0D


@dataclass(frozen=True)
class Frame:
    page: int
    commit: int  # the database's size in pages after a commit frame, else 0
    salt: tuple[int, int]
    image: bytes


def wal_frames(data: bytes) -> list[Frame]:
    """Every frame of a WAL file: stale ones (an older salt) are read too, as an attacker
    would."""
    if len(data) < WAL_HEADER:
        return []
    magic, _, page_size = struct.unpack(">III", data[:12])
    assert magic in WAL_MAGIC, hex(magic)
    frames, offset = [], WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(data):
        page, commit, salt1, salt2 = struct.unpack(">IIII", data[offset : offset + 16])
        if page:
            start = offset + FRAME_HEADER
            frames.append(Frame(page, commit, (salt1, salt2), data[start : start + page_size]))
        offset += FRAME_HEADER + page_size
    return frames


def wal_transactions(data: bytes) -> list[list[Frame]]:
    """The frames grouped per transaction: a run of frames of one salt up to its commit
    frame (a trailing run without one counts too)."""
    transactions: list[list[Frame]] = []
    current: list[Frame] = []
    for frame in wal_frames(data):
        if current and frame.salt != current[-1].salt:
            transactions.append(current)
            current = []
        current.append(frame)
        if frame.commit:
            transactions.append(current)
            current = []
    if current:
        transactions.append(current)
    return transactions


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = 0
    for step in range(8):
        byte = data[position + step]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, position + step + 1
    return (value << 8) | data[position + 8], position + 9


_WIDTHS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8}


def _record(payload: bytes) -> list[Any]:
    """The values of one SQLite record (the file format's serial types)."""
    header_size, position = _varint(payload, 0)
    types = []
    while position < header_size:
        serial, position = _varint(payload, position)
        types.append(serial)
    values: list[Any] = []
    body = header_size
    for serial in types:
        if serial in _WIDTHS:
            width = _WIDTHS[serial]
            values.append(int.from_bytes(payload[body : body + width], "big", signed=True))
            body += width
        elif serial == 7:
            values.append(struct.unpack(">d", payload[body : body + 8])[0])
            body += 8
        elif serial in (8, 9):
            values.append(serial - 8)
        elif serial >= 12:
            width = (serial - 12) // 2
            raw = payload[body : body + width]
            values.append(raw if serial % 2 == 0 else raw.decode("utf-8", "replace"))
            body += width
        else:
            values.append(None)
    return values


def leaf_records(frame: Frame) -> Iterator[list[Any]]:
    """The records of a table b-tree leaf page held whole on the page (a participation
    row is small: it never overflows)."""
    image, header = frame.image, 100 if frame.page == 1 else 0
    if image[header] != TABLE_LEAF:
        return
    cells = int.from_bytes(image[header + 3 : header + 5], "big")
    for cell in range(cells):
        pointer = int.from_bytes(image[header + 8 + 2 * cell : header + 10 + 2 * cell], "big")
        try:
            size, position = _varint(image, pointer)
            _, position = _varint(image, position)  # the rowid
            if size > len(image) - 35 or position + size > len(image):
                continue
            yield _record(image[position : position + size])
        except (IndexError, struct.error):
            continue


def _columns(model: type) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({model._meta.db_table})")
        return [row[1] for row in cursor.fetchall()]


@dataclass(frozen=True)
class Finding:
    marks: frozenset[str]  # token hashes of invitations written with used = 1
    clear: frozenset[bytes]  # answers and cards (texts, keys) written in the clear

    @property
    def pairs(self) -> bool:
        return bool(self.marks) and bool(self.clear)


def sqlite_findings(transactions: Sequence[list[Frame]], needles: Needles) -> list[Finding]:
    """What each transaction of the WAL wrote, as the detector sees it."""
    layouts = []
    for model in PARTICIPATION:
        names = _columns(model)
        hash_columns = [names.index(n) for n in ("token_hash", "reminder_token_hash") if n in names]
        layouts.append((hash_columns, names.index("used")))
    findings = []
    for frames in transactions:
        marks = set()
        for frame in frames:
            for record in leaf_records(frame):
                for hash_columns, used in layouts:
                    if len(record) <= max([used, *hash_columns]) or record[used] != 1:
                        continue
                    marks |= {record[c] for c in hash_columns if record[c] in needles.hashes}
        clear = {needle for needle in needles.clear if any(needle in f.image for f in frames)}
        findings.append(Finding(frozenset(marks), frozenset(clear)))
    return findings


def _wal_path() -> Path:
    return Path(f"{connection.settings_dict['NAME']}-wal")


def _file_bytes(path: Path) -> bytes:
    """A file's bytes, read by another process. Never open SQLite's files from this one:
    closing any descriptor of a file drops every POSIX lock this process holds on it, so
    SQLite's own locks would silently go and another process (a Celery worker of a later
    test) could delete the WAL under our connection — a corrupt database."""
    if not path.exists():
        return b""
    return subprocess.run(["cat", str(path)], capture_output=True, check=True).stdout


def _wal_truncated_now() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert cursor.fetchone()[0] == 0  # not busy
    assert _wal_path().stat().st_size == 0


@contextmanager
def wal_copies() -> Iterator[list[bytes]]:
    """The WAL file as an attacker could have copied it at any time: before every
    checkpoint the application runs (each truncates it), and at the end. SQLite's own
    automatic checkpoints are held off meanwhile, so no frame is overwritten unseen."""
    path = _wal_path()
    copies: list[bytes] = []

    def keep(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        if "wal_checkpoint" in sql:
            copies.append(_file_bytes(path))
        return execute(sql, *args)

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    try:
        with connection.execute_wrapper(keep):
            yield copies
        copies.append(_file_bytes(path))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=1000")


def _sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's WAL file: this suite runs on PostgreSQL (CI runs it on SQLite too)")


@pytest.mark.django_db(transaction=True)
def test_no_wal_transaction_pairs_a_participation_mark_with_an_answer_or_card(no_broker) -> None:
    _sqlite_only()
    open_run, open_retro = make_open_run(size=WRITERS), make_open_retro(size=WRITERS)
    needles = Needles()
    _wal_truncated_now()
    samples: set[bytes] = set()
    with wal_copies() as copies:
        _everything(open_run, open_retro, needles, before_opening=samples.update)

    transactions = [t for copy in copies for t in wal_transactions(copy)]
    findings = sqlite_findings(transactions, needles)
    assert [f for f in findings if f.pairs] == []
    # Not vacuous: the log holds every participation mark and everything written in the
    # clear — each in transactions of its own.
    assert len(set().union(*(f.marks for f in findings))) == 2 * WRITERS
    assert set().union(*(f.clear for f in findings)) == needles.clear
    tally("attack 13: SQLite WAL transactions replayed", len(transactions))

    # After the closes: the WAL is empty, and no sealed blob is left in the main file.
    assert _wal_path().stat().st_size == 0
    assert len(samples) == 2 * WRITERS
    assert all(any(sample in copy for copy in copies) for sample in samples)
    main = _file_bytes(Path(connection.settings_dict["NAME"]))
    assert [sample for sample in samples if sample in main] == []


@pytest.mark.django_db(transaction=True)
def test_the_wal_detector_catches_a_submission_written_in_the_clear(no_broker) -> None:
    _sqlite_only()
    open_run, open_retro = make_open_run(size=5), make_open_retro(size=5)
    _wal_truncated_now()
    with wal_copies() as copies:
        submit_all(open_run, 2)  # sealed
        _write_cards(open_retro, range(2))
        _answer_in_the_clear(open_run, 2)  # as before sealing
        _cards_in_the_clear(open_retro, 2)
    needles = Needles()
    needles.gather()
    findings = sqlite_findings([t for c in copies for t in wal_transactions(c)], needles)
    paired = [f.marks for f in findings if f.pairs]
    hashes = [
        Invitation.objects.get(pk=open_run.invitations[2].pk).token_hash,
        RetroInvitation.objects.get(pk=open_retro.invitations[2].pk).token_hash,
    ]
    # Each flags the one submitter whose answers it wrote — and those of the earlier
    # submitters on the same page, in the clear or not: the page is the unit of the log.
    assert len(paired) == 2
    assert all(hash_ in marks for hash_, marks in zip(hashes, paired, strict=True))


# --- PostgreSQL: the WAL's records, as pg_waldump prints them -------------------------------

RECORD = re.compile(r"rmgr: (\w+)\s.*?tx:\s+(\d+), .*?desc: (\S+)")
BLOCK = re.compile(r"rel (\d+)/(\d+)/(\d+)")
MARKING = {("Heap", "UPDATE"), ("Heap", "HOT_UPDATE")}
INSERTING = {
    ("Heap", "INSERT"),
    ("Heap", "INSERT+INIT"),
    ("Heap2", "MULTI_INSERT"),
    ("Heap2", "MULTI_INSERT+INIT"),
}


def _postgresql_ready() -> tuple[Path, Path]:
    """pg_waldump for the server's version and the server's pg_wal/ directory, readable
    from here (the same machine; CI runs as root): found with pg_monitor's rights, which
    .ci/run grants to the test role. Skips without them, except on CI, where they must be
    there."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's WAL through pg_waldump: this suite runs on SQLite")
    major = connection.pg_version // 10000
    waldump = Path(f"/usr/lib/postgresql/{major}/bin/pg_waldump")
    if not waldump.exists():
        waldump = Path(shutil.which("pg_waldump") or waldump)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_has_role(current_user, 'pg_monitor', 'MEMBER')")
        (monitor,) = cursor.fetchone()
        wal_dir = None
        if monitor:
            cursor.execute("SELECT current_setting('data_directory')")
            wal_dir = Path(cursor.fetchone()[0]) / "pg_wal"
    missing = []
    if not waldump.exists():
        missing.append(f"pg_waldump (not at {waldump} nor on PATH)")
    if not monitor:
        missing.append("the role pg_monitor for the test role (to find pg_wal/)")
    elif wal_dir is None or not os.access(wal_dir, os.R_OK | os.X_OK):
        missing.append(f"read access to {wal_dir} (the server on this machine; root)")
    if missing:
        reason = f"reading PostgreSQL's WAL needs {' and '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    assert wal_dir is not None
    return waldump, wal_dir


def _lsn() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return str(cursor.fetchone()[0])


def _waldump(waldump: Path, wal_dir: Path, start: str, end: str, into: Path) -> str:
    """pg_waldump's text for start..end, read from copies of the segments it spans (the
    server may recycle a segment while pg_waldump reads)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_walfile_name(%s::pg_lsn), pg_walfile_name(%s::pg_lsn)", [start, end]
        )
        first, last = cursor.fetchone()
    for segment in wal_dir.iterdir():
        if re.fullmatch(r"[0-9A-F]{24}", segment.name) and first <= segment.name <= last:
            shutil.copyfile(segment, into / segment.name)
    done = subprocess.run(
        [str(waldump), "--path", str(into), "--start", start, "--end", end],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout, done.stderr
    return done.stdout


def _filenodes(models: Sequence[type]) -> set[tuple[int, int]]:
    """(database oid, relfilenode) of each table and of its TOAST table."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        (database,) = cursor.fetchone()
        found = set()
        for model in models:
            cursor.execute(
                "SELECT pg_relation_filenode(c.oid), pg_relation_filenode(c.reltoastrelid)"
                " FROM pg_class c WHERE c.oid = %s::regclass",
                [model._meta.db_table],
            )
            found |= {(database, node) for node in cursor.fetchone() if node}
    return found


def postgresql_findings(dump: str) -> dict[int, tuple[bool, bool]]:
    """Per transaction id: (it updated an invitation, it inserted an answer or card)."""
    participation, clear = _filenodes(PARTICIPATION), _filenodes(CLEAR)
    found: dict[int, tuple[bool, bool]] = {}
    for line in dump.splitlines():
        record = RECORD.search(line)
        if record is None or record.group(2) == "0":
            continue
        operation = (record.group(1), record.group(3))
        tables = {(int(db), int(node)) for _, db, node in BLOCK.findall(line)}
        marks, inserts = found.get(int(record.group(2)), (False, False))
        found[int(record.group(2))] = (
            marks or (operation in MARKING and bool(tables & participation)),
            inserts or (operation in INSERTING and bool(tables & clear)),
        )
    return found


@pytest.mark.django_db(transaction=True)
def test_no_postgresql_transaction_pairs_an_invitation_update_with_an_answer_or_card(
    no_broker, tmp_path: Path
) -> None:
    waldump, wal_dir = _postgresql_ready()
    open_run, open_retro = make_open_run(size=WRITERS), make_open_retro(size=WRITERS)
    start = _lsn()
    _everything(open_run, open_retro, Needles())
    served = _lsn()
    # The detector's own check: submissions written in the clear, as before sealing.
    other_run, other_retro = make_open_run(size=5), make_open_retro(size=5, label="Other")
    XIDS.clear()
    _answer_in_the_clear(other_run, 0)
    _cards_in_the_clear(other_retro, 0)
    end = _lsn()

    findings = postgresql_findings(_waldump(waldump, wal_dir, start, end, tmp_path))
    paired = {xid for xid, (marks, inserts) in findings.items() if marks and inserts}
    assert paired == set(XIDS)
    assert len(XIDS) == 2
    served_xids = postgresql_findings(_waldump(waldump, wal_dir, start, served, tmp_path))
    # Not vacuous: every submission's flag and the clear rows were in the log, apart.
    assert sum(marks for marks, _ in served_xids.values()) == 2 * WRITERS
    assert any(inserts for _, inserts in served_xids.values())
    assert not any(marks and inserts for marks, inserts in served_xids.values())
    tally("attack 13: PostgreSQL WAL transactions replayed", len(findings))
