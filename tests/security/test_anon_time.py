"""Anonymity attacks 5 and 6: what changes over time. A person joining or leaving, or a
team moving in the tree, never makes anyone's answers derivable from a change; late
answers never move a published figure until k more arrive — a pulse shows results only
once it has closed and refuses answers after that, a week's roll-ups never take in a run
that closes after them, and a retro board publishes late cards only in batches of k.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from analytics.insights.models import SafetyAlert, TeamPeriod
from surveys.people.models import Membership, Role, Team
from surveys.pulses import services
from surveys.pulses.errors import RunClosed
from surveys.pulses.models import Response, SealedResponse
from surveys.retros.models import RetroSession
from tests.conftest import valid_answers
from tests.factories import this_monday
from tests.security.anon_surfaces import (
    assert_unchanged,
    cli_exports,
    every_surface,
    read,
    urls,
)
from tests.security.anon_world import (
    World,
    anonymity_tally,  # noqa: F401
    refresh_everything,
    superuser,
    tally,
)

pytestmark = [pytest.mark.dates, pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]
DATA_ROUTES = (
    "api-team-results",
    "api-team-questions",
    "api-team-periods",
    "api-team-rollups",
    "api-team-correlations",
    "api-heatmap",
    "api-run-results",
    "api-team-retro-heatmap",
    "team-insights-csv",
    "insights-csv",
)


def _figures(world: World, viewer: Any) -> dict:
    """Every figure the API and the CSVs give about the world, by URL (unfiltered: which
    teams a filter takes in follows the tree, and is no figure)."""
    found = urls(world)
    wanted = [url for name in DATA_ROUTES for url in found[name] if "under=" not in url]
    return read({"viewer": viewer}, wanted)


# --- 6: late answers --------------------------------------------------------------------------


def test_it_shows_nothing_of_an_open_run_however_many_have_answered() -> None:
    world = World()
    world.team("Open", 8)
    world.pulse("Open")
    world.run("now", "Open", weeks_ago=0, answering=range(6), close=False)
    viewers = {"manager": world.viewer("manager", "Open", Role.MANAGER), "root": superuser()}
    tokens = [world.tokens["now:7"]]
    before = every_surface(world, viewers, tokens)
    for late in (6,):
        world.answer(name="now", run=world.runs["now"], index=late)
        refresh_everything()
        after = every_surface(world, viewers, tokens)
        assert_unchanged(before, after)
        tally("attack 6: surfaces compared while a run is open", len(after))

    services.pulse_run_close(run_id=world.runs["now"].pk)
    refresh_everything()
    page = Client()
    page.force_login(viewers["manager"])
    assert "n = 7" in page.get(f"/runs/{world.runs['now'].pk}/").content.decode()


def test_it_refuses_an_answer_after_the_close_on_every_way_in() -> None:
    world = World()
    world.team("Late", 8)
    world.pulse("Late")
    run = world.run("now", "Late", weeks_ago=0, answering=range(6), close=False)
    late_person = world.members["Late"][7]
    services.pulse_run_close(run_id=run.pk)
    refresh_everything()
    viewer = world.viewer("manager", "Late", Role.MANAGER)
    before = _figures(world, viewer)
    token = world.tokens["now:7"]
    answers = valid_answers(run, 3)
    link, logged_in = Client(), Client()
    logged_in.force_login(late_person)
    attempts = {
        "page by link": link.post(f"/p/{token}/", answers).status_code,
        "API by link": link.post(
            f"/api/invitations/{token}/response/", {"answers": answers}, "application/json"
        ).status_code,
        "page logged in": logged_in.post(f"/pulses/{run.pk}/", answers).status_code,
        "API logged in": logged_in.post(
            f"/api/me/pulses/{run.pk}/", {"answers": answers}, "application/json"
        ).status_code,
    }
    assert attempts == {
        "page by link": 410,
        "API by link": 410,
        "page logged in": 404,
        "API logged in": 404,
    }
    invitation = run.invitations.get(user=late_person)
    with pytest.raises(RunClosed):
        services.response_submit(invitation=invitation, answers=answers)
    assert Response.objects.filter(run=run).count() == 6
    assert not SealedResponse.objects.filter(run=run).exists()  # nothing sealed late either
    refresh_everything()
    assert _figures(world, viewer) == before
    tally("attack 6: late answers tried after a close", len(attempts) + 1)


def test_a_weeks_roll_up_never_moves_when_a_late_run_of_that_week_closes() -> None:
    world = World()
    world.team("Parent", 0)
    for name, size in (("Big", 6), ("Left", 3), ("Right", 3), ("Late", 2)):
        world.team(name, size, parent="Parent")
        world.pulse(name)
        world.run(name, name, weeks_ago=1, answering=range(size), close=name != "Late")
    refresh_everything()
    viewer = world.viewer("manager", "Parent", Role.MANAGER)
    client = Client()
    client.force_login(viewer)
    url = f"/api/teams/{world.teams['Parent'].slug}/rollups/"
    versions = [client.get(url).json()]
    services.pulse_run_close(run_id=world.runs["Late"].pk)
    refresh_everything()
    versions.append(client.get(url).json())
    shown = [
        {(row["week_start"], row["respondents"], row["perceived"]) for row in rows if row["shown"]}
        for rows in versions
    ]
    tally("attack 6: roll-up versions compared", len(versions))
    # Once shown, a week's roll-up never changes: the late run's two people would be the
    # difference between the versions.
    assert not (shown[0] and shown[1]) or shown[0] == shown[1], shown


def _cards_on_every_surface(world: World, viewer: Any, session: RetroSession) -> dict:
    """The multiset of card texts each card surface shows (page, print, API board, every
    export by page, API and CLI)."""
    mine = [
        url
        for name, group in urls(world).items()
        if name.startswith(("retro-session", "api-retro"))
        for url in group
        if f"/{session.pk}/" in url
    ]
    found = {url: text for (_, url), (_, text) in read({"v": viewer}, mine).items()}
    found |= cli_exports(world)
    card = re.compile(r"card \d+\.\d of " + re.escape(session.label))
    return {where: Counter(card.findall(text)) for where, text in found.items()}


def test_a_retro_board_takes_late_cards_only_in_batches_of_k() -> None:
    world = World()
    world.team("Retro", 10)
    world.viewer("facilitator", "Retro", Role.FACILITATOR)
    session = world.retro("Sprint 9", "Retro", writers=range(5), close=False)
    viewer = world.viewers["facilitator"]
    published = _cards_on_every_surface(world, viewer, session)
    assert sum(published[f"/api/retros/{session.pk}/board/"].values()) == 10
    for late in range(5, 9):  # one to four late writers: nothing moves
        world.write_cards("Sprint 9", session, late)
        assert _cards_on_every_surface(world, viewer, session) == published, late
        tally("attack 6: late retro writers held back")
    world.write_cards("Sprint 9", session, 9)  # the fifth late writer: a new batch
    grown = _cards_on_every_surface(world, viewer, session)
    assert sum(grown[f"/api/retros/{session.pk}/board/"].values()) == 20


# --- 5: churn ---------------------------------------------------------------------------------


def test_it_withholds_the_change_when_one_person_joins_or_leaves() -> None:
    world = World()
    world.team("Churn", 7)
    world.pulse("Churn")
    viewer = world.viewer("manager", "Churn", Role.MANAGER)
    leaver, newcomer = world.members["Churn"][6], world.viewer("newcomer", None, Role.ENGINEER)
    for weeks_ago in (5, 4, 3, 2):
        world.run(f"w{weeks_ago}", "Churn", weeks_ago=weeks_ago, answering=range(6))
    # The runs open on their weeks' Mondays (w0 today), so both dates hang on this week's
    # Monday: a date counted back from today would fall in another run's week on some days.
    end = this_monday() - timedelta(weeks=1, days=3)  # the Friday of w2's week
    Membership.objects.filter(user=leaver).update(end=end)  # left before last week's run
    world.run("w1", "Churn", weeks_ago=1, answering=range(6))
    world.join("Churn", [newcomer])  # and someone joins for this week's
    Membership.objects.filter(user=newcomer).update(start=this_monday())
    world.run("w0", "Churn", weeks_ago=0, answering=range(7))
    services.pulse_run_close(run_id=world.runs["w0"].pk)
    refresh_everything()
    change = dict(
        TeamPeriod.objects.filter(team=world.teams["Churn"]).values_list("run_id", "change_shown")
    )
    assert change[world.runs["w4"].pk]  # nobody moved
    assert change[world.runs["w2"].pk]
    assert not change[world.runs["w1"].pk]  # one left
    assert not change[world.runs["w0"].pk]  # one joined
    client = Client()
    client.force_login(viewer)
    for page in ("insights", "report"):
        text = client.get(f"/teams/{world.teams['Churn'].slug}/{page}/").content.decode()
        assert "since the period before" not in text or "withheld" in text
    assert not SafetyAlert.objects.filter(run__in=[world.runs["w1"], world.runs["w0"]]).exists()
    tally("attack 5: joiners and leavers between runs", 2)


def test_no_published_figure_moves_when_people_or_teams_move_afterwards() -> None:
    world = World()
    world.team("Parent", 0)
    world.team("Other", 0)
    for name, size in (("Big", 6), ("Left", 3), ("Right", 3), ("Extra", 3)):
        world.team(name, size, parent="Parent")
        world.pulse(name)
        for weeks_ago in (2, 1):
            world.run(f"{name}-{weeks_ago}", name, weeks_ago=weeks_ago, answering=range(size))
    refresh_everything()
    viewer = superuser()
    before = _figures(world, viewer)
    assert (
        '"shown":true' in before[("viewer", f"/api/teams/{world.teams['Parent'].slug}/rollups/")][1]
    )
    leaver = world.members["Big"][0]
    Membership.objects.filter(user=leaver).update(end=timezone.localdate())
    world.join("Left", [world.members["Extra"][0]])
    # Right (3 people) moves away: Parent without it would still be shown (Left + Extra
    # hidden together are 6), so the old and new Parent would differ by Right alone.
    Team.objects.filter(pk=world.teams["Right"].pk).update(parent=world.teams["Other"])
    refresh_everything()
    after = _figures(world, viewer)
    assert_unchanged(before, after)
    tally("attack 5: people and teams moved after publication", 3)
