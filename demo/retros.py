"""Demo retros: for every demo team with engineers, five closed two-week sprints with
cards and this sprint's session open. Built through the services (create, redeem a
link, submit, close), so the demo exercises the real code path. Deterministic.

The cards follow a pattern a team would recognise — AI helps with tests and
boilerplate, hurts in debugging and security-sensitive code, and people choose not to
use it for architecture — and some of them name a teammate or mention an address, so
the board shows the scrubbing at work.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from surveys.links.tokens import token_new
from surveys.people.models import Organisation, Role, Team
from surveys.retros import services
from surveys.retros.models import RetroInvitation, RetroPrompt, RetroSession

CLOSED_SPRINTS = 5
SPRINT_DAYS = 14
PARTICIPATION = 0.85
SHARE_RATE = 0.7
SKIPS_THE_OPEN_RETRO = "alex"  # left unanswered, so the printed demo link works

# How likely each task comes up on a card, and what AI did there: (helped, hurt, chose_not).
CATEGORY_WEIGHTS = {
    "tests": 10,
    "boilerplate": 8,
    "debugging": 8,
    "documentation": 3,
    "code_review": 3,
    "security_sensitive": 2,
    "refactoring": 2,
    "architecture": 1,
    "business_logic": 1,
    "integrations": 1,
    "other": 1,
}
EFFECTS = {
    "tests": (0.75, 0.15, 0.10),
    "boilerplate": (0.85, 0.05, 0.10),
    "debugging": (0.25, 0.60, 0.15),
    "documentation": (0.70, 0.10, 0.20),
    "code_review": (0.35, 0.45, 0.20),
    "security_sensitive": (0.05, 0.25, 0.70),
    "refactoring": (0.55, 0.30, 0.15),
    "architecture": (0.15, 0.15, 0.70),
    "business_logic": (0.35, 0.35, 0.30),
    "integrations": (0.40, 0.45, 0.15),
    "other": (0.40, 0.30, 0.30),
}
TEXTS = {
    "helped": [
        "Generated the {task} scaffolding in minutes; I only had to fix the edge cases.",
        "Paired with {teammate} and the assistant on {task}: much faster than alone.",
        "It wrote most of the {task} and the review caught nothing serious.",
        "Good at the boring half of {task}; I kept the interesting half.",
    ],
    "hurt": [
        "Lost an afternoon on {task}: the suggestion called an API that does not exist.",
        "The generated {task} looked right and was subtly wrong; {teammate} found it in review.",
        "Too much plausible output on {task}; reviewing it took longer than writing it.",
        "It kept rewriting {task} in a style nobody here uses. Ask {email} if you doubt it.",
    ],
    "chose_not": [
        "Did {task} by hand: I need to understand it well enough to be on call for it.",
        "Chose not to use it for {task}; our rules for customer data are too specific.",
        "Wrote {task} myself on purpose, to learn that part of the codebase.",
    ],
}
ADVICE = [  # (text, category, effect)
    ("Ask it for the tests first, then the code. @{handle} showed me this.", "tests", "helped"),
    ("Never paste a stack trace with customer data into it.", "security_sensitive", "chose_not"),
    ("Use it for the first draft of the boilerplate, never the last one.", "boilerplate", "helped"),
    ("Read every line it writes for anything touching money.", "business_logic", "hurt"),
]
TASK_WORDS = {
    "tests": "the tests",
    "boilerplate": "the boilerplate",
    "debugging": "the debugging",
    "documentation": "the docs",
    "code_review": "the review",
    "security_sensitive": "the auth change",
    "refactoring": "the refactoring",
    "architecture": "the design",
    "business_logic": "the pricing rules",
    "integrations": "the webhook integration",
    "other": "the release notes",
}


def _sprint_start(today: date, sprint: int) -> date:
    """Monday of sprint `sprint`; sprint CLOSED_SPRINTS is the one running today."""
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=SPRINT_DAYS * (CLOSED_SPRINTS - sprint))


def _card(rng: random.Random, prompts: dict[str, int], category: str, names: list[str]) -> dict:
    helped, hurt, _ = EFFECTS[category]
    roll = rng.random()
    effect = "helped" if roll < helped else "hurt" if roll < helped + hurt else "chose_not"
    teammate = rng.choice(names)
    text = rng.choice(TEXTS[effect]).format(
        task=TASK_WORDS[category],
        teammate=teammate,
        email=f"{teammate.lower()}@northwind.example",
    )
    return {
        "prompt": prompts[effect],
        "text": text,
        "category": category,
        "effect": effect,
        "shared": rng.random() < SHARE_RATE,
    }


def _cards(rng: random.Random, prompts: dict[str, int], names: list[str]) -> list[dict]:
    """Two or three cards on different tasks, sometimes a piece of advice as well."""
    categories: list[str] = []
    while len(categories) < rng.choice((2, 3, 3)):
        [category] = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))
        if category not in categories:
            categories.append(category)
    cards = [_card(rng, prompts, category, names) for category in categories]
    if rng.random() < 0.4:
        text, category, effect = rng.choice(ADVICE)
        cards.append(
            {
                "prompt": prompts["advice"],
                "text": text.format(handle=rng.choice(names).lower()),
                "category": category,
                "effect": effect,
                "shared": True,
            }
        )
    return cards


def _session_run(
    team: Team, sprint: int, today: date, rng: random.Random, prompt_ids: dict[str, int]
) -> None:
    start = _sprint_start(today, sprint)
    end = start + timedelta(days=SPRINT_DAYS - 1)
    current = sprint == CLOSED_SPRINTS
    now = timezone.now()
    opens_at = now - timedelta(hours=2) if current else _at(end - timedelta(days=2), time(9))
    session = services.retro_session_create(
        team=team,
        created_by=None,
        label=f"Sprint {start.isocalendar().week // 2 + 1} ({start:%b})",
        sprint_start=start,
        sprint_end=end,
        opens_at=opens_at,
        closes_at=_at(end + timedelta(days=1), time(10)),
        prompt_ids=list(prompt_ids.values()),
        send=False,
        now=opens_at,
    )
    names = list(
        team.memberships.filter(role=Role.ENGINEER).values_list("user__first_name", flat=True)
    )
    writing_at = now if current else opens_at + timedelta(hours=3)
    for invitation in session.invitations.select_related("user").order_by("user__username"):
        if rng.random() > PARTICIPATION or (
            current and invitation.user.username == SKIPS_THE_OPEN_RETRO
        ):
            continue
        raw = services.retro_invitation_token_issue(invitation_id=invitation.pk)
        assert raw is not None
        services.retro_response_submit(
            invitation=services.retro_invitation_redeem(raw_token=raw, now=writing_at),
            cards=_cards(rng, prompt_ids, names),
            now=writing_at,
        )
    if not current:
        services.retro_session_close(session_id=session.pk)


def _at(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def demo_retros_seed(*, organisation: Organisation, today: date | None = None) -> int:
    """The demo retros, once: returns how many sessions were created (0 if they exist)."""
    if RetroSession.objects.filter(team__organisation=organisation).exists():
        return 0
    today = today or timezone.localdate()
    rng = random.Random(5)  # noqa: S311 — demo data, not security
    builtin = RetroPrompt.objects.filter(organisation__isnull=True)
    prompt_ids = {
        "helped": builtin.get(key="ai-helped").pk,
        "hurt": builtin.get(key="ai-hurt").pk,
        "chose_not": builtin.get(key="ai-chose-not").pk,
        "advice": builtin.get(key="ai-advice").pk,
    }
    teams = (
        Team.objects.filter(organisation=organisation, memberships__role=Role.ENGINEER)
        .distinct()
        .order_by("slug")
    )
    created = 0
    for team in teams:
        for sprint in range(CLOSED_SPRINTS + 1):
            _session_run(team, sprint, today, rng, prompt_ids)
            created += 1
    return created


def demo_retro_link(*, username: str = SKIPS_THE_OPEN_RETRO) -> str | None:
    """A fresh single-use link to the person's open retro, if they have not written yet."""
    invitation: Any = (
        RetroInvitation.objects.filter(
            user__username=username,
            used=False,
            session__status="open",
            session__closes_at__gt=timezone.now(),
        )
        .select_related("session")
        .first()
    )
    if invitation is None:
        return None
    # Demo only: a fresh link each time the logins are printed; the old one stops working.
    raw, hashed = token_new()
    RetroInvitation.objects.filter(pk=invitation.pk).update(sent=True, token_hash=hashed)
    return settings.CANDOR_BASE_URL + reverse("retro-write", args=[raw])
