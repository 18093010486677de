"""Sealed submissions (surveys/links/sealing.py): what a submission stores next to its
participation mark, and how closing (or publishing) turns it into anonymous rows — all of
them, once, or none."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test import override_settings

from surveys.links.sealing import (
    SEAL_SIZE_MIN,
    SealUnreadable,
    blob_length,
    seal_key,
    submission_seal,
    submission_unseal,
    wal_truncate,
)
from surveys.pulses import services as pulses
from surveys.pulses.models import (
    Answer,
    Invitation,
    PulseRun,
    Question,
    QuestionKind,
    Response,
    RunStatus,
    SealedResponse,
)
from surveys.pulses.signals import run_closed
from surveys.retros import services as retros
from surveys.retros.cards import CARDS_MAX
from surveys.retros.models import (
    CARD_TEXT_MAX,
    RetroCard,
    RetroInvitation,
    RetroResponse,
    RetroSession,
    RetroStatus,
    RetroTally,
    SealedRetroResponse,
)
from surveys.retros.publication import retro_board_publish
from tests.conftest import make_open_retro, make_open_run, submit_all, submit_retro, valid_answers

pytestmark = pytest.mark.django_db

ANOTHER_SECRET = "another-secret-key-of-at-least-fifty-characters-0123456789"


def _cards(open_retro, *, count: int, length: int) -> list[dict]:
    prompt = open_retro.session.prompts.first().prompt_id
    return [
        {
            "prompt": prompt,
            "text": ("é" * length)[:length],
            "category": "tests",
            "effect": "helped",
            "shared": False,
        }
        for _ in range(count)
    ]


# --- the blob -------------------------------------------------------------------------------


def test_a_retro_blob_is_as_long_whether_one_word_or_thirty_full_cards_were_written() -> None:
    open_retro = make_open_retro(size=5)
    lengths = set()
    for index, (count, length) in enumerate([(1, 1), (1, 40), (3, 300), (CARDS_MAX, 1000)]):
        invitation = retros.retro_invitation_redeem(raw_token=open_retro.tokens[index])
        sealed = retros.retro_response_submit(
            invitation=invitation, cards=_cards(open_retro, count=count, length=length)
        )
        lengths.add(len(sealed.blob))
    # Four-byte characters, the widest UTF-8 has, fill 30 cards to the brim and still fit.
    invitation = retros.retro_invitation_redeem(raw_token=open_retro.tokens[4])
    widest = _cards(open_retro, count=CARDS_MAX, length=CARD_TEXT_MAX)
    for card in widest:
        card["text"] = "\U0001f600" * CARD_TEXT_MAX
    lengths.add(len(retros.retro_response_submit(invitation=invitation, cards=widest).blob))
    assert lengths == {blob_length(retros.RETRO_SEAL_SIZE)}
    assert retros.RETRO_SEAL_SIZE == 128 * 1024


def test_a_pulse_blob_is_as_long_whatever_was_answered() -> None:
    open_run = make_open_run(size=6)
    questions = [rq.question for rq in open_run.run.run_questions.select_related("question")]

    def longest(question: Question) -> int | list[str]:
        if question.kind == QuestionKind.MULTI:
            return [option["key"] for option in question.options]
        return min(question.scale_min, question.scale_max, key=lambda end: -len(str(end)))

    lengths = set()
    for index in range(6):
        answers = valid_answers(open_run.run, index)
        if index % 2:
            answers = {question.key: longest(question) for question in questions}
        invitation = pulses.invitation_redeem(raw_token=open_run.tokens[index])
        lengths.add(len(pulses.response_submit(invitation=invitation, answers=answers).blob))
    assert len(lengths) == 1
    assert lengths.pop() >= blob_length(SEAL_SIZE_MIN)


def test_a_blob_holds_no_answer_or_card_in_the_clear() -> None:
    open_retro = make_open_retro(size=5)
    invitation = retros.retro_invitation_redeem(raw_token=open_retro.tokens[0])
    cards = _cards(open_retro, count=1, length=10)
    cards[0]["text"] = "plainly-findable-card-text"
    sealed = retros.retro_response_submit(invitation=invitation, cards=cards)
    stored = bytes(SealedRetroResponse.objects.get(pk=sealed.pk).blob)
    assert b"plainly-findable" not in stored
    assert b"helped" not in stored


def test_a_blob_opens_only_with_its_own_windows_key() -> None:
    fields, rows = {"run_id": 7, "team_id": 3}, [{"question_id": 1, "value": 4, "choices": None}]
    blob = submission_seal(kind="pulse", window_id=7, size=512, fields=fields, rows=rows)
    assert submission_unseal(blob, kind="pulse", window_id=7) == (fields, rows)
    for kind, window_id in [("pulse", 8), ("retro", 7)]:
        with pytest.raises(SealUnreadable):
            submission_unseal(blob, kind=kind, window_id=window_id)
    # One key per window: even the same secret derives another key for another window.
    assert seal_key("s", kind="pulse", window_id=7) != seal_key("s", kind="pulse", window_id=8)
    assert seal_key("s", kind="pulse", window_id=7) != seal_key("s", kind="retro", window_id=7)
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(SealUnreadable):
        submission_unseal(bytes(tampered), kind="pulse", window_id=7)


def test_a_rotated_secret_still_opens_blobs_through_the_fallbacks(settings) -> None:
    blob = submission_seal(kind="retro", window_id=2, size=512, fields={"a": 1}, rows=[])
    old = settings.SECRET_KEY
    with override_settings(SECRET_KEY=ANOTHER_SECRET, SECRET_KEY_FALLBACKS=[old]):
        assert submission_unseal(blob, kind="retro", window_id=2) == ({"a": 1}, [])
    with (
        override_settings(SECRET_KEY=ANOTHER_SECRET, SECRET_KEY_FALLBACKS=[]),
        pytest.raises(SealUnreadable),
    ):
        submission_unseal(blob, kind="retro", window_id=2)


def test_a_submission_wider_than_the_window_allows_is_refused_not_truncated() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        submission_seal(kind="pulse", window_id=1, size=512, fields={"x": "y" * 600}, rows=[])


# --- closing a pulse run ----------------------------------------------------------------------


def _run_counts(run_id: int) -> tuple[int, int, int, int]:
    return (
        SealedResponse.objects.filter(run_id=run_id).count(),
        Response.objects.filter(run_id=run_id).count(),
        Answer.objects.filter(response__run_id=run_id).count(),
        Invitation.objects.filter(run_id=run_id, used=True).count(),
    )


def test_closing_a_run_writes_every_sealed_response_once_and_keeps_none() -> None:
    open_run = make_open_run(size=9)
    submit_all(open_run, 7)
    questions = open_run.run.run_questions.count()
    assert _run_counts(open_run.run.pk) == (7, 0, 0, 7)
    pulses.pulse_run_close(run_id=open_run.run.pk)
    assert _run_counts(open_run.run.pk) == (0, 7, 7 * questions, 7)
    pulses.pulse_run_close(run_id=open_run.run.pk)  # again: nothing changes
    assert _run_counts(open_run.run.pk) == (0, 7, 7 * questions, 7)


def test_a_close_that_fails_late_loses_nothing_and_can_be_run_again() -> None:
    open_run = make_open_run(size=6)
    submit_all(open_run, 6)
    sealed_before = set(SealedResponse.objects.values_list("pk", "blob"))

    def fail(**_: object) -> None:
        raise RuntimeError("the close fails after writing every answer")

    run_closed.connect(fail, sender=PulseRun, dispatch_uid="test-fail")
    try:
        with pytest.raises(RuntimeError):
            pulses.pulse_run_close(run_id=open_run.run.pk)
    finally:
        run_closed.disconnect(dispatch_uid="test-fail", sender=PulseRun)
    assert PulseRun.objects.get(pk=open_run.run.pk).status == RunStatus.OPEN
    assert {(pk, bytes(blob)) for pk, blob in sealed_before} == {
        (pk, bytes(blob)) for pk, blob in SealedResponse.objects.values_list("pk", "blob")
    }
    assert _run_counts(open_run.run.pk) == (6, 0, 0, 6)
    pulses.pulse_run_close(run_id=open_run.run.pk)
    assert _run_counts(open_run.run.pk) == (0, 6, 6 * open_run.run.run_questions.count(), 6)


def test_a_close_meeting_a_blob_no_key_opens_changes_nothing(settings) -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)
    with override_settings(SECRET_KEY=ANOTHER_SECRET), pytest.raises(SealUnreadable):
        pulses.pulse_run_close(run_id=open_run.run.pk)
    assert PulseRun.objects.get(pk=open_run.run.pk).status == RunStatus.OPEN
    assert _run_counts(open_run.run.pk) == (5, 0, 0, 5)
    pulses.pulse_run_close(run_id=open_run.run.pk)  # the key is back
    assert _run_counts(open_run.run.pk)[:2] == (0, 5)


def test_results_of_a_closed_run_are_those_of_the_answers_given() -> None:
    """The close writes exactly the answers submitted: the same multiset of answer rows
    (question, value, choices), grouped by person, as the forms sent."""
    open_run = make_open_run(size=6)
    submit_all(open_run, 6)
    pulses.pulse_run_close(run_id=open_run.run.pk)
    keys = dict(open_run.run.run_questions.values_list("question_id", "question__key"))
    stored = Counter(
        frozenset(
            (keys[question], value if choices is None else tuple(choices))
            for question, value, choices in response.answers.values_list(
                "question_id", "value", "choices"
            )
        )
        for response in Response.objects.filter(run=open_run.run)
    )
    sent = Counter(
        frozenset(
            (key, tuple(value) if isinstance(value, list) else value)
            for key, value in valid_answers(open_run.run, index).items()
        )
        for index in range(6)
    )
    assert stored == sent


# --- retros: publishing and closing ---------------------------------------------------------


def _session_counts(session_id: int) -> tuple[int, int, int, int]:
    return (
        SealedRetroResponse.objects.filter(session_id=session_id).count(),
        RetroResponse.objects.filter(session_id=session_id).count(),
        RetroCard.objects.filter(response__session_id=session_id).count(),
        RetroInvitation.objects.filter(session_id=session_id, used=True).count(),
    )


def test_publishing_opens_the_sealed_submissions_only_once_k_wait() -> None:
    open_retro = make_open_retro(size=12)
    session_id = open_retro.session.pk
    submit_retro(open_retro, 4)
    retro_board_publish(session_id=session_id)
    assert _session_counts(session_id) == (4, 0, 0, 4)  # under k: still sealed
    submit_retro(open_retro, 1, first=4)
    publication = retro_board_publish(session_id=session_id)
    assert (publication.submissions, publication.published) == (5, 5)
    assert _session_counts(session_id) == (0, 5, 10, 5)
    assert set(RetroResponse.objects.values_list("batch", flat=True)) == {1}
    submit_retro(open_retro, 3, first=5)
    publication = retro_board_publish(session_id=session_id)
    assert (publication.submissions, publication.published, publication.held_back) == (8, 5, 3)
    assert _session_counts(session_id) == (3, 5, 10, 8)


def test_closing_a_session_writes_every_card_once_shared_or_not() -> None:
    open_retro = make_open_retro(size=8)
    session_id = open_retro.session.pk
    submit_retro(open_retro, 5, shared=False)
    retro_board_publish(session_id=session_id)
    submit_retro(open_retro, 3, first=5)
    assert _session_counts(session_id) == (3, 5, 10, 8)
    retros.retro_session_close(session_id=session_id)
    assert _session_counts(session_id) == (0, 8, 16, 8)
    assert Counter(RetroResponse.objects.values_list("batch", flat=True)) == {1: 5, None: 3}
    assert RetroCard.objects.filter(shared=False).count() == 10
    retros.retro_session_close(session_id=session_id)  # again: nothing changes
    assert _session_counts(session_id) == (0, 8, 16, 8)


def test_a_session_close_that_fails_late_loses_nothing(monkeypatch) -> None:
    open_retro = make_open_retro(size=8)
    session_id = open_retro.session.pk
    submit_retro(open_retro, 5)
    retro_board_publish(session_id=session_id)
    submit_retro(open_retro, 3, first=5)
    published = set(RetroResponse.objects.values_list("pk", flat=True))

    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("the close fails at its last step")

    with monkeypatch.context() as patch:
        patch.setattr(RetroTally.objects, "bulk_create", fail)
        with pytest.raises(RuntimeError):
            retros.retro_session_close(session_id=session_id)
    assert RetroSession.objects.get(pk=session_id).status == RetroStatus.OPEN
    assert _session_counts(session_id) == (3, 5, 10, 8)
    assert set(RetroResponse.objects.values_list("pk", flat=True)) == published
    retros.retro_session_close(session_id=session_id)
    assert _session_counts(session_id) == (0, 8, 16, 8)


# --- SQLite's WAL -----------------------------------------------------------------------------


def test_the_wal_is_not_touched_inside_a_transaction_nor_on_postgresql() -> None:
    """Checkpointing needs autocommit: inside the test's transaction it does nothing (and
    raises nothing), as on PostgreSQL, whose WAL the application cannot clean."""
    assert wal_truncate() is False
    assert connection.in_atomic_block or connection.vendor != "sqlite"
