"""What the anonymity attacks (tests/security/test_anon_*.py) share: worlds built through
the real services, the tally of what was tried that the README quotes, and answers and
cards that can be rewritten in place so a surface can be compared with itself — in the
clear, and inside the sealed submissions of open runs and sessions (opened and sealed
again under the window's key), so an open window's answers change underneath too.

A world is an organisation with teams, pulses, runs, retros and the people who look at
them. Everything goes through the services the pages and tasks use: invitations are
issued, answers submitted with the run's clock, runs closed, aggregates refreshed.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from analytics import pipeline
from surveys.links.sealing import NONCE_BYTES, TAG_BYTES, submission_seal, submission_unseal
from surveys.people.models import Organisation, Role, Team
from surveys.pulses import services
from surveys.pulses.models import (
    Answer,
    Invitation,
    Pulse,
    PulseRun,
    Question,
    QuestionKind,
    Response,
    RunStatus,
    SealedResponse,
)
from surveys.pulses.schedule import period_sequence_on
from surveys.retros import services as retros
from surveys.retros.models import RetroCard, RetroPrompt, RetroSession, SealedRetroResponse
from tests.conftest import valid_answers
from tests.factories import (
    MembershipFactory,
    TeamFactory,
    UserFactory,
    opened_ago,
    this_monday,
)

K = 5
PULSE_WEEKS = 12  # a weekly pulse starts this many weeks before this Monday
ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "anonymity-attacks.json"

# --- the tally -----------------------------------------------------------------------------

TALLY: Counter[str] = Counter()
REPORTED: list[bool] = []


def tally(what: str, count: int = 1) -> None:
    """Count something the attacks tried (an attack, a surface compared, a cell checked)."""
    TALLY[what] += count


@pytest.fixture(scope="session")
def anonymity_tally(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    """At the end of the session, print what the attacks tried and write it to
    test-artifacts/anonymity-attacks.json (figures for the README)."""
    yield TALLY
    # Each test module imports this fixture, so it is finalised once per module, all at
    # the end of the session: the first finalisation reports.
    if not TALLY or REPORTED:
        return
    REPORTED.append(True)
    ARTIFACT.parent.mkdir(exist_ok=True)
    backend = os.environ.get("DATABASE_URL", "sqlite").split(":")[0]
    ARTIFACT.write_text(json.dumps({"backend": backend, **dict(sorted(TALLY.items()))}, indent=1))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():  # the last test's teardown is captured
        reporter.write_line("")
        reporter.write_sep("-", f"anonymity attacks (also in {ARTIFACT.name})")
        for name, count in sorted(TALLY.items()):
            reporter.write_line(f"{name}: {count}")


# --- building worlds ------------------------------------------------------------------------


@dataclass
class World:
    """An organisation, its teams and what happened in them, by name."""

    organisation: Organisation = field(
        default_factory=lambda: Organisation.objects.create(
            name="Attacked", slug=f"attacked-{Organisation.objects.count()}"
        )
    )
    teams: dict[str, Team] = field(default_factory=dict)
    members: dict[str, list[Any]] = field(default_factory=dict)
    pulses: dict[str, Pulse] = field(default_factory=dict)
    runs: dict[str, PulseRun] = field(default_factory=dict)
    sessions: dict[str, RetroSession] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    viewers: dict[str, Any] = field(default_factory=dict)

    def team(self, name: str, size: int, *, parent: str | None = None) -> Team:
        """A team of `size` engineers (who have been on it for a year)."""
        team: Team = TeamFactory(
            organisation=self.organisation,
            name=name,
            slug=f"{self.organisation.slug}-{name.lower().replace(' ', '-')}",
            parent=self.teams[parent] if parent else None,
        )
        self.teams[name] = team
        self.members[name] = [MembershipFactory(team=team).user for _ in range(size)]
        return team

    def join(self, team: str, people: Sequence[Any], role: str = Role.ENGINEER) -> None:
        """Put people (already on another team) on this team too."""
        for person in people:
            MembershipFactory(team=self.teams[team], user=person, role=role)
        self.members[team] = [*self.members[team], *people]

    def viewer(self, name: str, team: str | None, role: str) -> Any:
        user = UserFactory(username=f"{self.organisation.slug}-{name}")
        if team is not None:
            MembershipFactory(team=self.teams[team], user=user, role=role)
        self.viewers[name] = user
        return user

    def pulse(self, team: str, name: str | None = None, *, k: int = K) -> Pulse:
        """A weekly pulse of the team (a team may have several), three-day answer window."""
        pulse = Pulse.objects.create(
            team=self.teams[team],
            start_date=this_monday() - timedelta(weeks=PULSE_WEEKS),
            answer_window_days=3,
            k=k,
        )
        self.pulses[name or team] = pulse
        return pulse

    def run(
        self,
        name: str,
        pulse: str,
        *,
        weeks_ago: int,
        answering: Sequence[int],
        close: bool = True,
        offset: int = 0,
    ) -> PulseRun:
        """The pulse's run of a past week (or of this week, `weeks_ago=0`, left open),
        answered through the links of the invitees numbered in `answering` (invitations
        in membership order), with valid answers varied by `offset`."""
        pulse_row = self.pulses[pulse]
        day = this_monday() - timedelta(weeks=weeks_ago)
        sequence = period_sequence_on(
            cadence=pulse_row.cadence, start_date=pulse_row.start_date, day=day
        )
        assert sequence is not None
        run = services.pulse_run_ensure(pulse=pulse_row, sequence=sequence)
        if weeks_ago == 0:  # open now, whatever the hour, on today's date
            now = timezone.now()
            PulseRun.objects.filter(pk=run.pk).update(
                opens_at=opened_ago(timedelta(hours=1)),
                remind_at=now + timedelta(days=1),
                closes_at=now + timedelta(days=2),
            )
        run = services.pulse_run_open(run_id=run.pk, send=False)
        invitations = list(run.invitations.order_by("pk"))
        for index, invitation in enumerate(invitations):
            raw = services.invitation_token_issue(invitation_id=invitation.pk)
            assert raw is not None
            self.tokens[f"{name}:{index}"] = raw
        for index in answering:
            self.answer(name=name, run=run, index=index, offset=offset)
        if close:
            services.pulse_run_close(run_id=run.pk)
        self.runs[name] = PulseRun.objects.get(pk=run.pk)
        return self.runs[name]

    def answer(self, *, name: str, run: PulseRun, index: int, offset: int = 0) -> None:
        """Answer the run through invitee `index`'s link, at a time inside its window."""
        invitation = services.invitation_redeem(
            raw_token=self.tokens[f"{name}:{index}"], now=self.clock(run)
        )
        services.response_submit(
            invitation=invitation,
            answers=valid_answers(run, index + offset),
            now=self.clock(run),
        )

    @staticmethod
    def clock(run: PulseRun) -> datetime:
        """Now for a run open now; else an hour into its window."""
        now = timezone.now()
        return now if run.opens_at <= now < run.closes_at else run.opens_at + timedelta(hours=1)

    def retro(
        self, name: str, team: str, *, writers: Sequence[int], close: bool, k: int = K
    ) -> RetroSession:
        """A retro of the team on the built-in prompts, written by the engineers numbered in
        `writers` (two shared cards each), closed or left open."""
        facilitator = self.viewers.get("facilitator") or self.viewer(
            "facilitator", team, Role.FACILITATOR
        )
        now = timezone.now()
        session = retros.retro_session_create(
            team=self.teams[team],
            created_by=facilitator,
            label=name,
            sprint_start=timezone.localdate() - timedelta(days=13 + 14 * len(self.sessions)),
            sprint_end=timezone.localdate() - timedelta(days=14 * len(self.sessions)),
            closes_at=now + timedelta(days=2),
            opens_at=opened_ago(timedelta(minutes=5)),
            prompt_ids=list(
                RetroPrompt.objects.filter(organisation__isnull=True).values_list("pk", flat=True)
            ),
            k=k,
            send=False,
        )
        for index, person in enumerate(self.members[team]):
            invitation = session.invitations.get(user=person)
            raw = retros.retro_invitation_token_issue(invitation_id=invitation.pk)
            assert raw is not None
            self.tokens[f"{name}:{index}"] = raw
        for index in writers:
            self.write_cards(name, session, index)
        if close:
            retros.retro_session_close(session_id=session.pk)
        self.sessions[name] = RetroSession.objects.get(pk=session.pk)
        return self.sessions[name]

    def write_cards(self, name: str, session: RetroSession, index: int, tag: str = "") -> None:
        invitation = retros.retro_invitation_redeem(raw_token=self.tokens[f"{name}:{index}"])
        prompts = list(session.prompts.values_list("prompt_id", flat=True))
        categories = ("tests", "debugging", "boilerplate")
        retros.retro_response_submit(
            invitation=invitation,
            cards=[
                {
                    "prompt": prompts[position],
                    "text": f"card {tag}{index}.{position} of {name}",
                    "category": categories[(index + position) % len(categories)],
                    "effect": ("helped", "hurt", "chose_not")[(2 * index + position) % 3],
                    "shared": True,
                }
                for position in range(2)
            ],
        )


def refresh_everything() -> None:
    """What the nightly task does: every closed run's aggregates, every team-period, and
    the reports after them (alerts, heatmap rows, correlations, roll-ups)."""
    pipeline.everything_refresh()


# --- rewriting what people said -------------------------------------------------------------


def _mirrored(question: Question, value: int | None, choices: list | None) -> tuple[Any, Any]:
    """Another valid answer to the question: a scale mirrored, a percentage moved, another
    set of options."""
    if question.kind == QuestionKind.MULTI:
        keys = [option["key"] for option in question.options]
        return None, sorted(set(keys) - set(choices or [])) or keys[:1]
    if question.kind == QuestionKind.PERCENT:
        return (100 if value != 100 else -50), None
    mirrored = question.scale_min + question.scale_max - (value or 0)
    if mirrored == value:
        mirrored = question.scale_max if mirrored != question.scale_max else question.scale_min
    return mirrored, None


def _resealed(sealed: Any, window: str, change: Any) -> int:
    """Open each of these sealed submissions, change its rows (`change(rows)` returns the
    new rows) and seal it again under its window's key at its size; returns how many rows
    changed."""
    changed = 0
    for row in sealed:
        window_id = getattr(row, f"{window}_id")
        fields, rows = submission_unseal(row.blob, kind=row.SEAL_KIND, window_id=window_id)
        rows = change(rows)
        row.blob = submission_seal(
            kind=row.SEAL_KIND,
            window_id=window_id,
            size=len(bytes(row.blob)) - NONCE_BYTES - TAG_BYTES,
            fields=fields,
            rows=rows,
        )
        row.save(update_fields=["blob"])
        changed += len(rows)
    return changed


def answers_mirrored(runs: Sequence[PulseRun]) -> int:
    """Give every answer of these runs another valid value (`_mirrored`), whether in the
    clear or still sealed. Returns how many answers changed."""
    changed = 0
    for answer in Answer.objects.filter(response__run__in=list(runs)).select_related("question"):
        answer.value, answer.choices = _mirrored(answer.question, answer.value, answer.choices)
        answer.save(update_fields=["value", "choices"])
        changed += 1
    questions = Question.objects.in_bulk()

    def mirror(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            row
            | dict(
                zip(
                    ("value", "choices"),
                    _mirrored(questions[row["question_id"]], row["value"], row["choices"]),
                    strict=True,
                )
            )
            for row in rows
        ]

    sealed = SealedResponse.objects.filter(run__in=list(runs))
    return changed + _resealed(sealed, "run", mirror)


def respondent_dropped(run: PulseRun) -> None:
    """Take one response out of a run (a sealed one while it is open), and its invitation's
    `used` flag with it, as if one fewer person had answered."""
    if Response.objects.filter(run=run).exists():
        Response.objects.filter(pk=Response.objects.filter(run=run).values("pk")[:1]).delete()
    else:
        SealedResponse.objects.filter(
            pk=SealedResponse.objects.filter(run=run).values("pk")[:1]
        ).delete()
    invitation = Invitation.objects.filter(run=run, used=True).order_by("-pk").first()
    assert invitation is not None
    Invitation.objects.filter(pk=invitation.pk).update(used=False)


def cards_rewritten(sessions: Sequence[RetroSession], tag: str) -> int:
    """Give every card of these sessions, in the clear or still sealed, other words,
    another category and effect."""
    cards = RetroCard.objects.filter(response__session__in=list(sessions))
    count = cards.count()
    cards.update(text=F("id"), category="security_sensitive", effect="chose_not")
    for card in RetroCard.objects.filter(response__session__in=list(sessions)):
        RetroCard.objects.filter(pk=card.pk).update(text=f"{tag} {card.pk}")

    def rewrite(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            row
            | {
                "text": f"{tag} sealed {index}",
                "category": "security_sensitive",
                "effect": "chose_not",
            }
            for index, row in enumerate(rows)
        ]

    sealed = SealedRetroResponse.objects.filter(session__in=list(sessions))
    return count + _resealed(sealed, "session", rewrite)


def superuser(name: str = "root") -> Any:
    existing = get_user_model().objects.filter(username=name).first()
    return existing or get_user_model().objects.create_superuser(username=name, password="pw")


def closed_runs(world: World, *names: str) -> list[PulseRun]:
    runs = [world.runs[name] for name in names]
    assert all(run.status == RunStatus.CLOSED for run in PulseRun.objects.filter(pk__in=runs))
    return runs
