"""Redis goes away while people answer: refused (the server killed, and restarted empty)
and frozen (SIGSTOP: connections open, nothing answers). A web server (gunicorn) runs as
a process with REDIS_URL on a redis-server of the test's own, so the Django cache and the
Celery broker are both that server.

Submissions never touch the broker, but the token routes' throttle counts in the cache:
each submission must still be stored, and answered in under a second. Closing a run
flags it stale in its transaction and then enqueues the refresh: with the broker down
the close must still stand, and beat's sweep refresh the run once Redis is back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from django.conf import settings

from analytics.insights.models import RunSummary
from analytics.tasks import aggregates_refresh_stale
from config.cache import RETRY_SECONDS
from config.celery import app
from surveys.pulses import services
from surveys.pulses.models import Invitation, PulseRun, RunStatus, SealedResponse
from surveys.retros.models import SealedRetroResponse
from tests.conftest import (
    make_open_retro,
    make_open_run,
    submit_all,
    valid_answers,
    valid_cards,
)
from tests.security.faults_world import *  # noqa: F403
from tests.security.faults_world import (
    TALLY,
    Processes,
    RedisServer,
    worst,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROMPT_SECONDS = 1.0  # the longest a submission may take while Redis is away
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def timed(call: Callable[[], requests.Response]) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def answer_by_api(base: str, token: str, answers: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{base}/api/invitations/{token}/response/", json={"answers": answers}, timeout=10
    )


def answer_by_page(base: str, token: str, answers: dict[str, Any]) -> requests.Response:
    """The emailed link's page: GET the form (and its CSRF token), POST the answers."""
    browser = requests.Session()
    form = browser.get(f"{base}/p/{token}/", timeout=10)
    assert form.status_code == 200, form.text[:500]
    found = CSRF.search(form.text)
    assert found is not None
    fields: dict[str, Any] = {"csrfmiddlewaretoken": found[1], **answers}
    return browser.post(f"{base}/p/{token}/", data=fields, timeout=10)


def write_cards_by_api(base: str, token: str, cards: list[dict]) -> requests.Response:
    return requests.post(
        f"{base}/api/retro-invitations/{token}/submission/", json={"cards": cards}, timeout=10
    )


def test_it_stores_every_submission_promptly_while_redis_is_refused_or_frozen(
    processes: Processes, redis_server: RedisServer
) -> None:
    base = processes.web(REDIS_URL=redis_server.url)
    pulse = make_open_run(size=9)
    retro = make_open_retro(size=4)
    answered = iter(range(9))
    timings: dict[str, list[float]] = {}

    def submit_each_way(phase: str) -> None:
        for way in (answer_by_api, answer_by_page):
            index = next(answered)
            token, answers = pulse.tokens[index], valid_answers(pulse.run, index)
            response, seconds = timed(lambda: way(base, token, answers))  # noqa: B023
            assert response.status_code in (200, 201), (phase, way.__name__, response.text[:300])
            timings.setdefault(phase, []).append(seconds)
        index = len(timings) - 1
        response, seconds = timed(
            lambda: write_cards_by_api(
                base,
                retro.tokens[index],
                valid_cards(retro.session, index),
            )
        )
        assert response.status_code == 201, (phase, response.text[:300])
        timings[phase].append(seconds)

    assert requests.get(f"{base}/api/invitations/{pulse.tokens[-1]}/", timeout=30).ok  # warm
    submit_each_way("Redis up")
    redis_server.kill()
    TALLY["Redis killed (connections refused) during submissions"] += 1
    submit_each_way("Redis refused")
    redis_server.start()
    time.sleep(RETRY_SECONDS)  # the server tries Redis again
    submit_each_way("Redis back, empty")
    redis_server.freeze()
    TALLY["Redis frozen (SIGSTOP) during submissions"] += 1
    submit_each_way("Redis frozen")
    redis_server.thaw()

    slow = {phase: max(seconds) for phase, seconds in timings.items()}
    assert all(seconds < PROMPT_SECONDS for seconds in slow.values()), slow
    for phase in ("Redis refused", "Redis frozen"):
        worst(f"a submission, {phase}", slow[phase])
    log = processes.started[0].output()
    assert "Redis cache unreachable (ConnectionError)" in log  # the faults did reach it
    assert "Redis cache unreachable (TimeoutError)" in log
    TALLY["submissions made while Redis was away, all stored"] += 6
    assert SealedResponse.objects.filter(run=pulse.run).count() == 8  # open: sealed
    assert Invitation.objects.filter(run=pulse.run, used=True).count() == 8
    assert SealedRetroResponse.objects.filter(session=retro.session).count() == 4


@pytest.fixture
def broker_on(redis_server: RedisServer) -> Iterator[RedisServer]:
    """This process's Celery app publishes to the test's own redis-server."""
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = redis_server.url
    app.conf.broker_transport_options = settings.REDIS_BROKER_TRANSPORT_OPTIONS
    app._pool, app.amqp._producer_pool = None, None
    yield redis_server
    app.conf.broker_url, app.conf.broker_transport_options = saved
    app._pool, app.amqp._producer_pool = None, None


@pytest.mark.parametrize("fault", ["refused", "frozen"])
def test_it_closes_a_run_while_the_broker_is_down_and_refreshes_it_once_when_back(
    broker_on: RedisServer, fault: str
) -> None:
    """Refused fails at once; frozen waits out the broker socket timeout on each of the
    two publish attempts, and no longer (it used to hang for as long as Redis stayed
    frozen)."""
    pulse = make_open_run(size=6)
    submit_all(pulse, 6)
    if fault == "refused":
        broker_on.kill()
        TALLY["Redis killed (broker refused) while a run closed"] += 1
    else:
        broker_on.freeze()
        TALLY["Redis frozen (broker silent) while a run closed"] += 1

    started = time.monotonic()
    services.pulse_run_close(run_id=pulse.run.pk)  # as beat's task or the admin action does
    seconds = time.monotonic() - started
    worst(f"closing a run, broker {fault}", seconds)

    run = PulseRun.objects.get(pk=pulse.run.pk)
    assert (run.status, run.aggregates_stale) == (RunStatus.CLOSED, True)
    assert not RunSummary.objects.filter(run=run).exists()
    bound = 5 if fault == "refused" else 2 * (settings.BROKER_SOCKET_SECONDS + 1)
    assert seconds < bound, seconds
    if fault == "refused":
        broker_on.start()
    else:
        broker_on.thaw()
    refreshed = [aggregates_refresh_stale() for _ in range(3)]  # beat's minute sweep
    assert refreshed == [1, 0, 0]
    assert RunSummary.objects.get(run=run).respondents == 6
