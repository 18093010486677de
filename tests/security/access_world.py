"""The world the access-control attacks run in: two organisations, team A (the attackers'
team) and team B (the target), one person per role, and team B's objects — a closed pulse
run with results, an open run with a link, a retro with published cards and a link, a
safety alert — plus organisation-level objects (a question, a retro prompt, a prompt set).

Team B's objects carry canaries: distinctive strings that appear in every page, API
answer and export showing them, so a body that holds one has shown team B's data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from analytics.insights.models import SafetyAlert
from surveys.people.models import Role, Team
from surveys.pulses import services
from surveys.pulses.models import Construct, PulseRun, Question, QuestionKind
from surveys.pulses.schedule import period_sequence_on
from surveys.retros import services as retros
from surveys.retros.models import RetroPromptSet, RetroSession
from surveys.retros.publication import retro_board_publish
from tests.conftest import close_and_refresh, make_open_retro, valid_answers, valid_cards
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    PulseFactory,
    TeamFactory,
    UserFactory,
    opened_ago,
)

ANONYMOUS = "anonymous"
# The attackers: the brief's roles, each of them on team A or in another organisation.
ATTACKERS = ("engineer_a", "manager_a", "facilitator_a", "admin_other_org")
# Positive controls: people who may see team B, so the canaries must show for them.
CONTROLS = ("engineer_b", "admin_same_org")
ROLES = (ANONYMOUS, *ATTACKERS, *CONTROLS)

SEES_B = frozenset({"engineer_b", "admin_same_org"})
RUNS_B_RETROS = frozenset({"admin_same_org"})
INVITED_B = frozenset({"engineer_b"})
IN_ORGANISATION = frozenset({"engineer_a", "manager_a", "facilitator_a", *SEES_B})
ORG_ADMINS = frozenset({"admin_other_org", "admin_same_org"})

TEAM_B_CANARY = "bravo-canary"  # team B's slug and name, and its cards' text
ORGANISATION_CANARY = "orgone-canary"  # the organisation's own question, prompt and set
CANARY_CARD = f"{TEAM_B_CANARY} card: the assistant wrote the migration"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "security"


@dataclass
class World:
    team_a: Team
    team_b: Team
    people: dict[str, Any]  # role → user (no entry for anonymous)
    closed_run: PulseRun  # team B's, with results
    open_run: PulseRun  # team B's, engineer_b invited and not yet answered
    pulse_token: str  # engineer_b's link to the open run
    retro: RetroSession  # team B's, open, with a published board
    retro_token: str  # engineer_b's retro link
    prompt_set: RetroPromptSet


def _person(role: str, team: Team, membership: str) -> Any:
    user = UserFactory(username=role.replace("_", "-"))
    MembershipFactory(user=user, team=team, role=membership)
    return user


def _team_b_runs(team_b: Team) -> tuple[PulseRun, PulseRun]:
    """Last period's run, answered by five and closed with results; this period's, open."""
    pulse = PulseFactory(team=team_b)
    now = timezone.now()
    current = period_sequence_on(
        cadence=pulse.cadence, start_date=pulse.start_date, day=timezone.localdate()
    )
    assert current is not None
    assert current > 0
    closed = services.pulse_run_ensure(pulse=pulse, sequence=current - 1)
    PulseRun.objects.filter(pk=closed.pk).update(
        opens_at=now - timedelta(days=6), closes_at=now + timedelta(days=1)
    )
    services.pulse_run_open(run_id=closed.pk, send=False)
    engineers = closed.invitations.exclude(user__username="engineer-b").order_by("pk")[:5]
    for offset, invitation in enumerate(engineers):
        raw = services.invitation_token_issue(invitation_id=invitation.pk)
        assert raw is not None
        services.response_submit(
            invitation=services.invitation_redeem(raw_token=raw),
            answers=valid_answers(closed, offset),
        )
    close_and_refresh(closed.pk)
    SafetyAlert.objects.create(
        run=closed,
        team=team_b,
        period_start=closed.period_start,
        index=40.0,
        trailing_mean=60.0,
    )
    opened = services.pulse_run_ensure(pulse=pulse, sequence=current)
    PulseRun.objects.filter(pk=opened.pk).update(opens_at=opened_ago(timedelta(hours=1)))
    return PulseRun.objects.get(pk=closed.pk), services.pulse_run_open(run_id=opened.pk, send=False)


def _team_b_retro(team_b: Team) -> RetroSession:
    """An open retro (engineer_b invited) whose five other writers' cards carry the canary."""
    open_retro = make_open_retro(size=5, team=team_b, label="Sprint 7")
    session = open_retro.session
    for index, raw in enumerate(open_retro.tokens):
        cards = valid_cards(session, index)
        cards[0]["text"] = CANARY_CARD
        retros.retro_response_submit(
            invitation=retros.retro_invitation_redeem(raw_token=raw), cards=cards
        )
    retro_board_publish(session_id=session.pk)
    return session


def _organisation_objects(team: Team, admin: Any) -> RetroPromptSet:
    Question.objects.create(
        organisation=team.organisation,
        key=f"{ORGANISATION_CANARY}-question",
        construct=Construct.CUSTOM,
        kind=QuestionKind.SCALE,
        text=f"{ORGANISATION_CANARY}: how was the on-call week?",
        scale_min=1,
        scale_max=5,
    )
    prompt = retros.retro_prompt_create(
        team=team, created_by=admin, text=f"{ORGANISATION_CANARY}: what would you automate?"
    )
    return retros.retro_prompt_set_create(
        team=team, created_by=admin, name=f"{ORGANISATION_CANARY} set", prompt_ids=[prompt.pk]
    )


def world_build() -> World:
    """Everything the attacks need, in the test's transaction."""
    organisation = OrganisationFactory(name="Org one", slug="org-one")
    team_a = TeamFactory(organisation=organisation, name="Alpha", slug="alpha")
    team_b = TeamFactory(organisation=organisation, name=TEAM_B_CANARY, slug=TEAM_B_CANARY)
    elsewhere = TeamFactory(name="Elsewhere", slug="elsewhere")
    people = {
        "engineer_a": _person("engineer_a", team_a, Role.ENGINEER),
        "manager_a": _person("manager_a", team_a, Role.MANAGER),
        "facilitator_a": _person("facilitator_a", team_a, Role.FACILITATOR),
        "admin_other_org": _person("admin_other_org", elsewhere, Role.ADMIN),
        "engineer_b": _person("engineer_b", team_b, Role.ENGINEER),
        "admin_same_org": _person("admin_same_org", team_a, Role.ADMIN),
    }
    for _ in range(5):
        MembershipFactory(team=team_b)
    closed_run, open_run = _team_b_runs(team_b)
    invitation = open_run.invitations.get(user=people["engineer_b"])
    pulse_token = services.invitation_token_issue(invitation_id=invitation.pk)
    retro = _team_b_retro(team_b)
    retro_invitation = retro.invitations.get(user=people["engineer_b"])
    retro_token = retros.retro_invitation_token_issue(invitation_id=retro_invitation.pk)
    assert pulse_token is not None
    assert retro_token is not None
    prompt_set = _organisation_objects(team_a, people["admin_same_org"])
    return World(
        team_a=team_a,
        team_b=team_b,
        people=people,
        closed_run=closed_run,
        open_run=open_run,
        pulse_token=pulse_token,
        retro=retro,
        retro_token=retro_token,
        prompt_set=prompt_set,
    )


def canaries_seen_by(role: str) -> tuple[str, ...]:
    """The canaries that must never appear in a body `role` receives."""
    hidden = [] if role in SEES_B else [TEAM_B_CANARY]
    if role not in IN_ORGANISATION:
        hidden.append(ORGANISATION_CANARY)
    return tuple(hidden)


def figures_record(config: Any, name: str, figures: dict[str, Any], summary: str) -> Path:
    """Write what a test counted to test-artifacts/security/<name>-<database>.json (the
    README's figures come from there) and print `summary` past pytest's output capture, so
    the figures show in every run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}-{connection.vendor}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{summary} ({connection.vendor})", flush=True)
    return path
