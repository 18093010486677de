"""Anonymity attack 7: lowering k once a run or a retro session has opened is refused —
through the admin, the API, a model's clean(), a direct call of the service, and, for a
k under the floor of 5, even a plain UPDATE of the database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from surveys.anonymity import K_MIN
from surveys.people.models import Role
from surveys.pulses import services
from surveys.pulses.models import Pulse, PulseRun
from surveys.retros import services as retros
from surveys.retros.models import RetroPrompt, RetroSession
from tests.security.anon_world import (
    World,
    anonymity_tally,  # noqa: F401
    superuser,
    tally,
)

pytestmark = [pytest.mark.dates, pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]


def _opened(k: int = 7) -> World:
    world = World()
    world.team("Locked", 8)
    world.viewer("facilitator", "Locked", Role.FACILITATOR)
    world.pulse("Locked", k=k)
    world.run("now", "Locked", weeks_ago=0, answering=range(3), close=False)
    world.retro("Sprint 1", "Locked", writers=range(2), close=False, k=k)
    return world


def _admin_post(url: str, data: dict[str, Any]) -> int:
    client = Client()
    client.force_login(superuser())
    return client.post(url, data).status_code


def test_the_admin_refuses_to_lower_k() -> None:
    world = _opened()
    pulse, run, session = world.pulses["Locked"], world.runs["now"], world.sessions["Sprint 1"]
    form = {
        "team": pulse.team_id,
        "cadence": pulse.cadence,
        "start_date": pulse.start_date.isoformat(),
        "sprint_length_days": pulse.sprint_length_days,
        "answer_window_days": pulse.answer_window_days,
        "k": 5,
        "active": "on",
    }
    # The form comes back with the error (200) instead of saving and redirecting (302).
    assert _admin_post(f"/admin/surveys/pulse/{pulse.pk}/change/", form) == 200
    _admin_post(f"/admin/surveys/pulserun/{run.pk}/change/", {"k": 5})
    _admin_post(f"/admin/surveys/retrosession/{session.pk}/change/", {"k": 5})
    assert Pulse.objects.get(pk=pulse.pk).k == 7
    assert PulseRun.objects.get(pk=run.pk).k == 7
    assert RetroSession.objects.get(pk=session.pk).k == 7
    tally("attack 7: ways to lower k tried", 3)


def test_the_api_refuses_a_k_under_the_floor() -> None:
    world = _opened()
    client = Client()
    client.force_login(world.viewers["facilitator"])
    body = {
        "label": "Sprint 2",
        "sprint_start": timezone.localdate().isoformat(),
        "sprint_end": timezone.localdate().isoformat(),
        "closes_at": (timezone.now() + timedelta(days=1)).isoformat(),
        "prompts": list(
            RetroPrompt.objects.filter(organisation__isnull=True).values_list("pk", flat=True)
        ),
        "k": K_MIN - 1,
    }
    response = client.post(
        f"/api/teams/{world.teams['Locked'].slug}/retros/", body, "application/json"
    )
    assert response.status_code == 400
    assert "k" in response.json()["errors"]
    tally("attack 7: ways to lower k tried")


def test_a_models_clean_refuses_to_lower_k() -> None:
    world = _opened()
    pulse = world.pulses["Locked"]
    pulse.k = 5
    run = PulseRun.objects.get(pk=world.runs["now"].pk)
    run.k = 5
    session = RetroSession.objects.get(pk=world.sessions["Sprint 1"].pk)
    session.k = 5
    for model in (pulse, run, session):
        with pytest.raises(ValidationError) as refused:
            model.full_clean()
        assert "k" in refused.value.message_dict, model
        tally("attack 7: ways to lower k tried")


def test_the_services_refuse_to_lower_k() -> None:
    world = _opened()
    with pytest.raises(ValidationError):
        services.pulse_k_raise(pulse=world.pulses["Locked"], k=5)
    run = services.pulse_run_open(run_id=world.runs["now"].pk)  # opening again changes nothing
    assert run.k == 7
    with pytest.raises(ValidationError):
        retros.retro_session_create(
            team=world.teams["Locked"],
            created_by=world.viewers["facilitator"],
            label="Sprint 3",
            sprint_start=timezone.localdate(),
            sprint_end=timezone.localdate(),
            closes_at=timezone.now() + timedelta(days=1),
            prompt_ids=[RetroPrompt.objects.filter(organisation__isnull=True).first().pk],
            k=K_MIN - 1,
            send=False,
        )
    tally("attack 7: ways to lower k tried", 3)


@pytest.mark.parametrize("model", [Pulse, PulseRun, RetroSession], ids=lambda m: m.__name__)
def test_the_database_refuses_a_k_under_the_floor(model: type) -> None:
    world = _opened()
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(
            pk__in=[
                *(p.pk for p in world.pulses.values()),
                *(r.pk for r in world.runs.values()),
                *(s.pk for s in world.sessions.values()),
            ]
        ).update(k=K_MIN - 1)
    tally("attack 7: ways to lower k tried")
