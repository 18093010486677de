"""The demo organisation: teams of different sizes, twelve weeks of plausible pulses, and
retro sessions with anonymous cards (surveys/retros/demo.py).

Built through the same services as production (open a run, issue tokens, submit answers,
close, refresh aggregates), so the demo exercises the real code path. Deterministic.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from analytics import pipeline
from analytics.delivery.git.importer import repository_import
from analytics.delivery.git.pull_import import pull_requests_store
from analytics.delivery.git.pulls import parse_gh_json
from analytics.delivery.models import Contributor, Repository
from demo.git_history import Author, demo_repository_write
from demo.retros import demo_retros_seed
from surveys.links.tokens import token_hash, token_new
from surveys.people.models import Membership, Organisation, Role, Team
from surveys.pulses import services
from surveys.pulses.models import PERCENT_STEPS, Invitation, Pulse, PulseRun, Question, QuestionKind
from surveys.pulses.selectors import invitations_open_for

DEMO_PASSWORD = "candor-demo"  # noqa: S105 — printed for the local demo only
WEEKS = 12
BASELINE_GIT_WEEKS = 10  # Git history before the organisation adopted AI tools (the pulses' start)
LATE_ADOPTER = "mobile"  # adopts 4 weeks after the demo's last week: the comparison team


@dataclass(frozen=True)
class DemoTeam:
    slug: str
    name: str
    parent: str | None
    engineers: int
    response_rate: float
    safety_start: float  # latent safety on the 7-point scale at week 0
    safety_end: float  # ... and at the last week


TEAMS = (
    DemoTeam("platform", "Platform", None, 0, 0.0, 5.5, 5.5),
    DemoTeam("platform-infra", "Platform Infra", "platform", 7, 0.85, 5.4, 5.6),
    DemoTeam("developer-tools", "Developer Tools", "platform", 6, 0.9, 5.8, 5.9),
    DemoTeam("payments", "Payments", None, 9, 0.85, 5.7, 3.6),
    DemoTeam("mobile", "Mobile", None, 6, 0.75, 5.0, 5.2),
    DemoTeam("data", "Data", None, 11, 0.8, 5.2, 5.5),
    DemoTeam("design-systems", "Design Systems", None, 3, 1.0, 5.5, 5.5),
)
MANAGERS = {
    "maya": ("Maya", "Okafor", ["platform"]),
    "omar": ("Omar", "Haddad", ["payments", "mobile"]),
    "lena": ("Lena", "Virtanen", ["data", "design-systems"]),
}
FACILITATOR = ("fran", "Fran", "Moreau", "payments")
ADMIN = ("admin", "Ada", "Admin")
FIRST_NAMES = (
    "Alex",
    "Sam",
    "Priya",
    "Jonas",
    "Mei",
    "Tomas",
    "Aisha",
    "Lars",
    "Noor",
    "Diego",
    "Hana",
    "Yusuf",
    "Ines",
    "Kofi",
    "Zoe",
    "Ravi",
    "Elena",
    "Mateo",
    "Sofia",
    "Ken",
    "Amara",
    "Felix",
    "Lina",
    "Arjun",
    "Chloe",
    "Emeka",
    "Ida",
    "Luca",
    "Nia",
    "Oskar",
    "Rosa",
    "Theo",
    "Uma",
    "Vera",
    "Wen",
    "Xavier",
    "Yara",
    "Zack",
    "Bea",
    "Cyrus",
    "Dara",
    "Emil",
)


def _user(username: str, first: str, last: str, password: str, **extra: object) -> Any:
    user, _ = get_user_model().objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@northwind.example",
            "password": password,
            **extra,
        },
    )
    return user


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


class _Answers:
    """Plausible answers with trends: felt speed rises, trust falls, usage rises."""

    def __init__(self, rng: random.Random, team: DemoTeam, week: int) -> None:
        self.rng, self.week = rng, week
        progress = week / (WEEKS - 1)
        self.safety = team.safety_start + (team.safety_end - team.safety_start) * progress

    def value(self, question: Question) -> int | list[str]:
        rng, week = self.rng, self.week
        if question.kind == QuestionKind.MULTI:
            keys = [o["key"] for o in question.options if o["key"] != "none"]
            return sorted(rng.sample(keys, rng.randint(1, 4)))
        if question.key == "perceived_speed":
            felt = rng.gauss(12 + 1.6 * week, 18)
            return min(PERCENT_STEPS, key=lambda step: abs(step - felt))
        latent = {
            "ai_usage_frequency": 3.0 + 0.12 * week,
            "ai_trust_accuracy": 3.7 - 0.08 * week,
            "ai_satisfaction": 3.4 - 0.03 * week,
            "review_time": 3.1 + 0.08 * week,
            "review_confidence": 3.4 - 0.06 * week,
        }.get(question.key)
        if question.key.startswith("psych_safety"):
            latent = 8 - self.safety if question.reverse_scored else self.safety
        if latent is None:
            latent = (question.scale_min + question.scale_max) / 2 + 0.3
        return _clamp(rng.gauss(latent, 0.9), question.scale_min, question.scale_max)


def _week_start(today: date) -> date:
    return today - timedelta(days=today.weekday())


def _answer_run(
    run: PulseRun, team: DemoTeam, rng: random.Random, now: datetime, *, current: bool
) -> None:
    answers = _Answers(rng, team, run.sequence)
    for invitation in run.invitations.select_related("run__team", "user"):
        if rng.random() > team.response_rate or (current and invitation.user.username == "alex"):
            continue
        raw = services.invitation_token_issue(invitation_id=invitation.pk)
        if raw is None:
            continue
        invitation.token_hash = token_hash(raw)
        questions = [rq.question for rq in run.run_questions.select_related("question")]
        services.response_submit(
            invitation=invitation, answers={q.key: answers.value(q) for q in questions}, now=now
        )


@transaction.atomic
def demo_seed(*, today: date | None = None) -> Organisation:
    """Create the demo organisation once; a second call changes nothing."""
    existing = Organisation.objects.filter(slug="northwind").first()
    if existing is not None:
        # A demo seeded before retros existed gets them now; a second call changes nothing.
        demo_retros_seed(organisation=existing, today=today)
        return existing
    today = today or timezone.localdate()
    rng = random.Random(20251)  # noqa: S311 — demo data, not security
    start = _week_start(today) - timedelta(weeks=WEEKS)
    organisation = Organisation.objects.create(
        name="Northwind Labs", slug="northwind", ai_adopted_on=start
    )
    history_start = start - timedelta(days=120)
    teams: dict[str, Team] = {}
    for spec in TEAMS:
        teams[spec.slug] = Team.objects.create(
            organisation=organisation,
            name=spec.name,
            slug=spec.slug,
            parent=teams.get(spec.parent or ""),
            ai_adopted_on=start + timedelta(weeks=WEEKS + 4) if spec.slug == LATE_ADOPTER else None,
        )
    # One hash for every demo account: hashing 47 passwords separately takes ten seconds.
    password = make_password(DEMO_PASSWORD)
    admin = _user(*ADMIN, password, is_staff=True, is_superuser=True)
    Membership.objects.create(
        user=admin, team=teams["platform"], role=Role.ADMIN, start=history_start
    )
    for username, (first, last, managed) in MANAGERS.items():
        manager = _user(username, first, last, password)
        for slug in managed:
            Membership.objects.create(
                user=manager, team=teams[slug], role=Role.MANAGER, start=history_start
            )
    names = iter(FIRST_NAMES)
    for spec in TEAMS:
        for _ in range(spec.engineers):
            first = next(names)
            engineer = _user(first.lower(), first, "Demo", password)
            Membership.objects.create(user=engineer, team=teams[spec.slug], start=history_start)
    username, first, last, slug = FACILITATOR
    facilitator = _user(username, first, last, password)
    Membership.objects.create(
        user=facilitator, team=teams[slug], role=Role.FACILITATOR, start=history_start
    )
    for spec in TEAMS:
        if spec.engineers == 0:
            continue
        pulse = Pulse.objects.create(team=teams[spec.slug], start_date=start, answer_window_days=7)
        for sequence in range(WEEKS + 1):
            run = services.pulse_run_ensure(pulse=pulse, sequence=sequence)
            if run.opens_at > timezone.now():
                continue
            services.pulse_run_open(run_id=run.pk, send=False)
            current = sequence == WEEKS
            _answer_run(
                run,
                spec,
                rng,
                now=run.opens_at + timedelta(hours=rng.randint(1, 60)),
                current=current,
            )
            if not current:
                services.pulse_run_close(run_id=run.pk)
    # Git's own stream: how many answers were drawn above depends on the clock (this week's
    # run is answered only once it has opened), and the history must not.
    _demo_git_history(organisation, teams, start, random.Random(20252))  # noqa: S311
    pipeline.organisation_refresh(organisation_id=organisation.pk)
    PulseRun.objects.filter(team__organisation=organisation).update(aggregates_stale=False)
    demo_retros_seed(organisation=organisation, today=today)
    return organisation


def _demo_git_history(
    organisation: Organisation, teams: dict[str, Team], start: date, rng: random.Random
) -> None:
    """A generated repository per team with its pull requests, imported through the real
    importers."""
    folder = Path(settings.DATA_DIR) / "demo-repositories"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    began = datetime.combine(start, time(0, 0), tzinfo=UTC) - timedelta(weeks=BASELINE_GIT_WEEKS)
    for spec in TEAMS:
        members = [
            m.user
            for m in teams[spec.slug].memberships.filter(role=Role.ENGINEER).select_related("user")
        ]
        if not members:
            continue
        authors = [Author(name=u.get_full_name(), email=u.email, login=u.username) for u in members]
        Contributor.objects.bulk_create(
            Contributor(
                organisation=organisation,
                email=u.email,
                name=u.get_full_name(),
                github_login=u.username,
                user=u,
            )
            for u in members
        )
        path = folder / f"{spec.slug}.git"
        pulls = demo_repository_write(
            path,
            authors=authors,
            start=began,
            weeks=BASELINE_GIT_WEEKS + WEEKS,
            rng=rng,
            adopted=None if spec.slug == LATE_ADOPTER else BASELINE_GIT_WEEKS,
        )
        repository = Repository.objects.create(
            organisation=organisation,
            team=teams[spec.slug],
            name=f"{spec.slug}-service",
            source=str(path),
        )
        repository_import(repository_id=repository.pk)
        pull_requests_store(repository_id=repository.pk, pulls=parse_gh_json(json.dumps(pulls)))


def demo_logins() -> list[tuple[str, str]]:
    return [
        ("admin", "org admin and superuser (Django admin at /admin/)"),
        ("maya", "manager of Platform and its sub-teams Platform Infra and Developer Tools"),
        ("omar", "manager of Payments (safety falling) and Mobile"),
        ("lena", "manager of Data and Design Systems (3 people: always suppressed)"),
        ("fran", "facilitator on Payments: its retro board, exports and heatmap"),
        ("alex", "engineer on Platform Infra"),
    ]


def demo_link(*, username: str = "alex") -> str | None:
    """A fresh single-use link to the person's open pulse, if they have one unanswered."""
    user = get_user_model().objects.get(username=username)
    invitation = invitations_open_for(user=user).first()
    if invitation is None:
        return None
    # Demo only: a fresh link each time the logins are printed; the old one stops working.
    raw, hashed = token_new()
    Invitation.objects.filter(pk=invitation.pk).update(reminder_token_hash=hashed)
    return settings.CANDOR_BASE_URL + reverse("pulse-answer", args=[raw])
