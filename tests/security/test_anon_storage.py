"""Anonymity attacks 8 and 9: what storage and order give away.

8. No response, answer or card table has a key or a column pointing at a person, or a
   time finer than the run's period, and keys are random: read from the app registry
   (so a new model that hangs off a response is inspected too) and from the database's
   own description of the tables.
9. No page, API route, export or CLI lists cards in an order that follows when they were
   written: every card surface is read many times and the order it shows is compared
   with the order of writing (Kendall's tau, which is near 0 for a shuffle and 1 for
   writing order); the threshold is six standard deviations of tau under a shuffle.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, models
from scipy import stats

from surveys.pulses import services as pulses
from surveys.pulses.models import Answer, Invitation, Response, SealedResponse
from surveys.retros import services as retros
from surveys.retros.models import RetroCard, RetroInvitation, RetroResponse, SealedRetroResponse
from surveys.retros.publication import retro_board_publish
from tests.security.anon_surfaces import cli_exports, read, urls
from tests.security.anon_world import (
    K,
    World,
    anonymity_tally,  # noqa: F401
    tally,
)

pytestmark = [pytest.mark.usefixtures("anonymity_tally")]
ROOTS = (Response, RetroResponse, SealedResponse, SealedRetroResponse)
PARTICIPATION = (Invitation, RetroInvitation)
TIME_TYPES = {"DateTimeField", "DateField", "TimeField", "DurationField"}
WRITERS = 12
READINGS = 20
# Kendall's tau of a random order of n has variance 2(2n + 5) / (9n(n − 1)).
TAU_SD = math.sqrt(2 * (2 * WRITERS + 5) / (9 * WRITERS * (WRITERS - 1)))


def anonymous_models() -> list[type[models.Model]]:
    """The anonymous records: responses and retro submissions, sealed or in the clear, and
    every model that hangs off them (answers, cards, and whatever is added later)."""
    found: list[type[models.Model]] = []
    frontier = list(ROOTS)
    while frontier:
        model = frontier.pop()
        if model in found:
            continue
        found.append(model)
        frontier += [
            related.related_model
            for related in model._meta.related_objects
            if related.related_model is not None
        ]
    return found


def test_the_anonymous_records_are_the_ones_we_think() -> None:
    assert set(anonymous_models()) == {
        Response,
        Answer,
        RetroResponse,
        RetroCard,
        SealedResponse,
        SealedRetroResponse,
    }


@pytest.mark.parametrize("model", anonymous_models(), ids=lambda m: m.__name__)
def test_it_keeps_no_person_and_no_time_on_an_anonymous_record(model: type[models.Model]) -> None:
    pointing = {get_user_model(), *PARTICIPATION}
    for field in model._meta.get_fields():
        tally("attack 8: model fields inspected")
        assert field.get_internal_type() not in TIME_TYPES, field
        assert getattr(field, "related_model", None) not in pointing, field
        assert not getattr(field, "auto_now", False)
        assert not getattr(field, "auto_now_add", False)
    pk = model._meta.pk
    assert isinstance(pk, models.UUIDField), pk
    assert pk.default is uuid.uuid4, pk


@pytest.mark.django_db
@pytest.mark.parametrize("model", anonymous_models(), ids=lambda m: m.__name__)
def test_its_tables_hold_no_person_and_no_time_either(model: type[models.Model]) -> None:
    """What the database says, whatever the models say: column types and foreign keys."""
    introspection = connection.introspection
    people = {
        get_user_model()._meta.db_table,
        *(participation._meta.db_table for participation in PARTICIPATION),
    }
    with connection.cursor() as cursor:
        columns = introspection.get_table_description(cursor, model._meta.db_table)
        constraints = introspection.get_constraints(cursor, model._meta.db_table)
    for column in columns:
        tally("attack 8: database columns inspected")
        kind = introspection.get_field_type(column.type_code, column)
        assert kind not in TIME_TYPES, (model._meta.db_table, column.name, kind)
    for name, constraint in constraints.items():
        target = constraint.get("foreign_key")
        assert not target or target[0] not in people, (name, target)


@pytest.mark.django_db
def test_its_keys_are_random_not_a_sequence() -> None:
    world = World()
    world.team("Keys", 30)
    world.pulse("Keys")
    world.run("keys", "Keys", weeks_ago=0, answering=range(30), close=False)
    run_id = world.runs["keys"].pk
    # Open: the sealed submissions, written in this order (their storage order).
    _assert_random_keys(_in_storage_order(SealedResponse, run_id))
    pulses.pulse_run_close(run_id=run_id)
    _assert_random_keys(_in_storage_order(Response, run_id))
    tally("attack 8: keys checked for order", 2 * 30)


def _assert_random_keys(written: list[uuid.UUID]) -> None:
    """uuid4 keys that do not sort like the order the rows were stored in."""
    assert len(written) == 30
    assert all(key.version == 4 for key in written)
    tau = stats.kendalltau(written, sorted(written)).statistic
    assert abs(tau) < 6 * math.sqrt(2 * (2 * 30 + 5) / (9 * 30 * 29)), tau


def _in_storage_order(model: type[models.Model], run_id: int) -> list[uuid.UUID]:
    physical = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {model._meta.db_table} WHERE run_id = %s "  # noqa: S608
            f"ORDER BY {physical}",
            [run_id],
        )
        return [uuid.UUID(str(row[0])) for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_retro_batch_is_a_group_of_at_least_k_not_a_time() -> None:
    world = World()
    world.team("Batches", 12)
    session = world.retro("Sprint 3", "Batches", writers=range(5), close=False)
    retro_board_publish(session_id=session.pk)
    for index in range(5, 12):  # the board is read after each late writer
        world.write_cards("Sprint 3", session, index)
        retro_board_publish(session_id=session.pk)
    retros.retro_session_close(session_id=session.pk)
    sizes = RetroResponse.objects.filter(session=session).values_list("batch", flat=True)
    by_batch = {batch: list(sizes).count(batch) for batch in set(sizes)}
    assert all(batch is None or count >= K for batch, count in by_batch.items()), by_batch
    assert by_batch == {1: 5, 2: 5, None: 2}, by_batch  # the last two are never shown


# --- 9: order ---------------------------------------------------------------------------------

CARD = re.compile(r"written (\d+)th")


def _numbered_cards(world: World, *, close: bool) -> World:
    """WRITERS people write one shared card each, same prompt and category, in order."""
    world.team("Order", WRITERS)
    session = world.retro("Sprint 5", "Order", writers=(), close=False)
    prompt = session.prompts.first()
    assert prompt is not None
    for index in range(WRITERS):
        invitation = retros.retro_invitation_redeem(raw_token=world.tokens[f"Sprint 5:{index}"])
        card = {"prompt": prompt.prompt_id, "text": f"written {index:02}th", "category": "tests"}
        retros.retro_response_submit(
            invitation=invitation, cards=[card | {"effect": "helped", "shared": True}]
        )
    if close:
        retros.retro_session_close(session_id=session.pk)
    return world


def _orders(world: World, viewer: object) -> Iterator[tuple[str, list[int]]]:
    """(surface, the writing numbers of the cards in the order shown) of one reading."""
    session = world.sessions["Sprint 5"]
    card_urls = [
        url
        for name, group in urls(world).items()
        if name.startswith(("retro-session", "api-retro"))
        for url in group
        if f"/{session.pk}/" in url and "prompts=only" not in url
    ]
    for (_, url), (status, text) in read({"v": viewer}, card_urls).items():
        if status == 200 and CARD.search(text):
            yield url, [int(number) for number in CARD.findall(text)]
    for command, text in cli_exports(world).items():
        if CARD.search(text):
            yield command, [int(number) for number in CARD.findall(text)]


Orders = dict[str, list[tuple[int, ...]]]


def _readings(world: World) -> Orders:
    """Per card surface, the order shown at each of READINGS readings."""
    viewer = world.viewers["facilitator"]
    orders: Orders = {}
    for _ in range(READINGS):
        for surface, order in _orders(world, viewer):
            assert sorted(order) == list(range(WRITERS)), (surface, order)
            orders.setdefault(surface, []).append(tuple(order))
    assert len(orders) >= 8, sorted(orders)  # page, print, API board, 3 + 3 exports, CLI
    return orders


def _following(orders: Orders) -> list[str]:
    """The surfaces whose order follows writing: a mean Kendall's tau beyond six standard
    deviations of a shuffle's, or the same order twice (for 12 cards, 1 in 479 001 600)."""
    limit = 6 * TAU_SD / math.sqrt(READINGS)
    found = []
    for surface, shown in orders.items():
        taus = [stats.kendalltau(order, range(WRITERS)).statistic for order in shown]
        if abs(sum(taus) / len(taus)) > limit or len(set(shown)) < len(shown) - 1:
            found.append(surface)
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("close", [False, True], ids=["open session", "closed session"])
def test_no_card_surface_follows_the_order_of_writing(close: bool) -> None:
    orders = _readings(_numbered_cards(World(), close=close))
    assert _following(orders) == []
    tally("attack 9: card surface readings tested for order", sum(map(len, orders.values())))


class _WritingOrder:
    """A 'shuffle' that puts cards back in writing order: the vulnerable board."""

    def shuffle(self, cards: list) -> None:
        cards.sort(key=lambda card: card.text)


@pytest.mark.django_db
def test_the_order_test_catches_a_board_in_writing_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("surveys.retros.board.random", SimpleNamespace(SystemRandom=_WritingOrder))
    orders = _readings(_numbered_cards(World(), close=True))
    assert len(_following(orders)) == len(orders)
