"""The board publishes submissions in batches of at least k people: nothing before the
first k, then a late submission only together with k - 1 others (docs/DESIGN.md §2.2, late
answers), the same on the page, the printable page, the API, every export and the CLI."""

from __future__ import annotations

import importlib
import io
import json
import random
import re
import threading
import time
from collections import Counter

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from surveys.retros import board, publication, services
from surveys.retros.exports import FORMATS
from surveys.retros.models import RetroResponse, RetroSession, RetroStatus, RetroTally
from tests.conftest import OpenRetro, make_open_retro, submit_retro

pytestmark = [pytest.mark.dates, pytest.mark.django_db]

CARD = re.compile(r"Card (\d+)[ab]:")


def _readings(client, session_id: int) -> dict[str, tuple[int, str]]:
    """Status and body of every place a facilitator can read cards, plus the CLI's output."""
    urls = {
        "page": reverse("retro-session", args=[session_id]),
        "print": reverse("retro-session-print", args=[session_id]),
        "api board": reverse("api-retro-board", args=[session_id]),
    }
    for export_format in FORMATS:
        urls[f"export {export_format}"] = reverse(
            "retro-session-export", args=[session_id, export_format]
        )
        urls[f"api export {export_format}"] = reverse(
            "api-retro-export", args=[session_id, export_format]
        )
    readings = {}
    for name, url in urls.items():
        response = client.get(url)
        readings[name] = (response.status_code, response.content.decode())
    for export_format in FORMATS:
        out = io.StringIO()
        try:
            call_command("export_retro", str(session_id), "--format", export_format, stdout=out)
        except CommandError as error:
            readings[f"cli {export_format}"] = (409, str(error))
        else:
            readings[f"cli {export_format}"] = (200, out.getvalue())
    return readings


CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _without_tokens(readings: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """The readings without the form tokens, which differ on every page view."""
    return {name: (status, CSRF_TOKEN.sub("", body)) for name, (status, body) in readings.items()}


def _writers_shown(body: str) -> set[int]:
    """The numbers of the people whose cards a reading holds."""
    return {int(number) for number in CARD.findall(body)}


def _assert_everywhere_shown(client, open_retro: OpenRetro, writers: range) -> dict:
    readings = _readings(client, open_retro.session.pk)
    for name, (status, body) in readings.items():
        assert status == 200, name
        assert _writers_shown(body) == set(writers), name
    page = readings["page"][1]
    assert 'data-board="shown"' in page
    assert page.count('class="retro-card effect-') == 2 * len(writers)
    return readings


def _batches(session: RetroSession) -> Counter:
    """People per batch; None: written but not published — still sealed, or in the clear
    with no batch (written before sealing existed, or held back at close)."""
    batches = Counter(session.responses.values_list("batch", flat=True))
    sealed = session.sealed.count()
    if sealed:
        batches[None] += sealed
    return batches


@pytest.fixture
def facilitator_client(client):
    def log_in(open_retro: OpenRetro):
        client.force_login(open_retro.facilitator)
        return client

    return log_in


@pytest.fixture
def first_five_shown(facilitator_client):
    """A session for `size` people whose first five have written and been shown."""

    def make(size: int):
        open_retro = make_open_retro(size=size)
        client = facilitator_client(open_retro)
        submit_retro(open_retro, 5)
        _assert_everywhere_shown(client, open_retro, range(5))
        return open_retro, client

    return make


def test_it_shows_only_the_count_until_k_people_have_written(facilitator_client) -> None:
    open_retro = make_open_retro(size=5)
    submit_retro(open_retro, 4)
    readings = _readings(facilitator_client(open_retro), open_retro.session.pk)
    for name, (status, body) in readings.items():
        assert not _writers_shown(body), name
        assert status == (200 if name in ("page", "print") else 409), name
    page = readings["page"][1]
    assert 'data-people="fewer-than-k"' in page  # not 4: a count of fewer than k people
    assert 'data-board="waiting"' in page
    assert "The cards appear here once at least 5 people have written" in readings["print"][1]
    assert "once at least 5 people have written (so far fewer than 5)" in readings["cli md"][1]
    assert not any("so far 4" in body.lower() for _, body in readings.values())
    assert json.loads(readings["api board"][1])["code"] == "board_hidden"
    assert _batches(open_retro.session) == {None: 4}


def test_the_fifth_submission_shows_all_five_without_closing(facilitator_client) -> None:
    open_retro = make_open_retro(size=6)
    submit_retro(open_retro, 5)
    readings = _assert_everywhere_shown(facilitator_client(open_retro), open_retro, range(5))
    # While open the notice is always the same: whether anyone wrote since is not said.
    assert 'data-held-back="open"' in readings["page"][1]
    assert "Close the session now" in readings["page"][1]
    assert RetroSession.objects.get().status == RetroStatus.OPEN
    assert _batches(open_retro.session) == {1: 5}
    assert services.retro_invitation_redeem(raw_token=open_retro.tokens[5])  # still writable


def test_a_late_submission_waits_for_k_more_then_joins_the_board(
    first_five_shown, monkeypatch
) -> None:
    open_retro, client = first_five_shown(10)
    # The same cards in the same order, so that readings can be compared whole.
    monkeypatch.setattr(board.random, "SystemRandom", lambda: random.Random(0))
    shown = _assert_everywhere_shown(client, open_retro, range(5))
    # The first five of 11 invited: 5 published, 6 not; both at least k, so "5" is said.
    assert 'data-people="shown"' in shown["page"][1]
    assert "5 people</strong> have their cards on the board" in shown["page"][1]
    assert json.loads(shown["export json"][1])["submissions"] == 5
    submit_retro(open_retro, 1, first=5)
    late = _assert_everywhere_shown(client, open_retro, range(5))
    # One more wrote: nothing anywhere says so (not 6, not "1 more", not "4 more needed").
    assert _without_tokens(late) == _without_tokens(shown)
    assert "Cards written after the board was last shown join it once k = 5" in late["page"][1]

    submit_retro(open_retro, 3, first=6)
    later = _assert_everywhere_shown(client, open_retro, range(5))
    assert _without_tokens(later) == _without_tokens(shown)

    submit_retro(open_retro, 1, first=9)
    readings = _assert_everywhere_shown(client, open_retro, range(10))
    # 10 published of 11 invited: the one who did not write is fewer than k.
    assert 'data-people="k-or-more"' in readings["page"][1]
    assert json.loads(readings["api board"][1])["submissions"] is None
    assert _batches(open_retro.session) == {1: 5, 2: 5}


def test_reading_again_under_k_publishes_nothing() -> None:
    open_retro = make_open_retro(size=8)
    submit_retro(open_retro, 5)
    first = publication.retro_board_publish(session_id=open_retro.session.pk)
    submit_retro(open_retro, 3, first=5)
    again = [publication.retro_board_publish(session_id=open_retro.session.pk) for _ in range(3)]
    assert first.published == 5
    assert [(p.submissions, p.published, p.held_back) for p in again] == [(8, 5, 3)] * 3
    assert sorted(again[0].cards) == sorted(first.cards)
    assert _batches(open_retro.session) == {1: 5, None: 3}


@pytest.mark.django_db(transaction=True)
def test_two_readers_at_once_publish_one_batch(monkeypatch) -> None:
    open_retro = make_open_retro(size=5)
    submit_retro(open_retro, 5)
    steps: list[str] = []
    publish = publication.batch_publish

    def slow_publish(session: RetroSession) -> None:
        # Hold the window open: without the lock both readers would be in here at once,
        # each deciding on what it counted before the other wrote.
        steps.append("enter")
        time.sleep(0.3)
        publish(session)
        steps.append("leave")

    monkeypatch.setattr(publication, "batch_publish", slow_publish)
    barrier = threading.Barrier(2)
    published: list[int] = []

    def read() -> None:
        barrier.wait()
        try:
            published.append(
                publication.retro_board_publish(session_id=open_retro.session.pk).published
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert steps == ["enter", "leave", "enter", "leave"]
    assert published == [5, 5]
    assert _batches(open_retro.session) == {1: 5}


def test_closing_never_shows_fewer_than_k_written_since_the_last_batch(
    first_five_shown,
) -> None:
    open_retro, client = first_five_shown(8)
    submit_retro(open_retro, 3, first=5)
    services.retro_session_close(session_id=open_retro.session.pk)
    readings = _assert_everywhere_shown(client, open_retro, range(5))
    page = readings["page"][1]
    assert 'data-held-back="true"' in page
    assert "Held back: fewer than k = 5 people wrote after the board was last shown" in page
    assert "Cards written later are held back" in readings["export md"][1]
    # The three held back are never counted (a date such as "3 January" is not a count).
    held = re.compile(r"\b3 (?:people|person|more|of|have|wrote|writers?|cards?)\b")
    assert not any(held.search(body) for _, body in readings.values())
    assert "Close the session now" not in page
    assert _batches(open_retro.session) == {1: 5, None: 3}
    # The tallies still count everyone who wrote: all eight wrote a debugging card.
    assert RetroTally.objects.get(session=open_retro.session, category="debugging").people == 8


def test_closing_publishes_k_or_more_written_since_the_last_batch(first_five_shown) -> None:
    open_retro, client = first_five_shown(10)
    submit_retro(open_retro, 5, first=5)
    services.retro_session_close(session_id=open_retro.session.pk)
    assert _batches(open_retro.session) == {1: 5, 2: 5}
    _assert_everywhere_shown(client, open_retro, range(10))


def test_each_submission_keeps_its_batch_through_the_closing_rewrite() -> None:
    open_retro = make_open_retro(size=13)
    for first, count in [(0, 5), (5, 5), (10, 3)]:
        submit_retro(open_retro, count, first=first)
        publication.retro_board_publish(session_id=open_retro.session.pk)

    def batch_by_writer() -> dict[int, int | None]:
        return {
            int(CARD.match(response.cards.first().text).group(1)): response.batch
            for response in RetroResponse.objects.prefetch_related("cards")
        }

    before = batch_by_writer()
    assert Counter(before.values()) == {1: 5, 2: 5}  # the last three are still sealed
    keys = set(RetroResponse.objects.values_list("pk", flat=True))
    services.retro_session_close(session_id=open_retro.session.pk)
    assert not keys & set(RetroResponse.objects.values_list("pk", flat=True))
    assert batch_by_writer() == before | dict.fromkeys(range(10, 13))  # never shown


def test_the_migration_keeps_showing_boards_closed_before_batches_existed() -> None:
    shown, too_few, still_open = (
        make_open_retro(size=5, label=label) for label in ("Shown", "Too few", "Open")
    )
    submit_retro(shown, 5)
    submit_retro(too_few, 4)
    submit_retro(still_open, 5)
    for closed in (shown, too_few):
        services.retro_session_close(session_id=closed.session.pk)
    RetroResponse.objects.update(batch=None)
    migration = importlib.import_module("surveys.migrations.0007_retro_publication_batches")
    migration.publish_closed_boards(apps, None)
    assert _batches(shown.session) == {1: 5}
    assert _batches(too_few.session) == {None: 4}
    assert _batches(still_open.session) == {None: 5}
