"""Organisations for the feasibility attack (tests/security/test_anon_feasibility.py):
teams of 5 to 10 people answering the real question bank — 5- and 7-step scales, the
percentage question, the multiple-choice one — at random with a fixed seed, and
adversarially (all but one agree; everyone at the extremes), through the real services.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from analytics.insights.aggregation.queries import AI_TRUST_KEY, AI_USAGE_KEY
from surveys.people.models import Role
from surveys.pulses import services
from surveys.pulses.models import Answer, PulseRun, QuestionKind
from tests.security.anon_world import World, refresh_everything
from tests.security.feasibility_surfaces import steps_of

Answers = Callable[[PulseRun, int], dict[str, Any]]
SEED = 20260101
RUNS = 3  # closed weekly runs per team


@dataclass
class AnsweredWorld(World):
    """A World whose respondents give the answers of `answers(run, respondent)`."""

    answers: Answers | None = None

    def answer(self, *, name: str, run: PulseRun, index: int, offset: int = 0) -> None:
        assert self.answers is not None
        invitation = services.invitation_redeem(
            raw_token=self.tokens[f"{name}:{index}"], now=self.clock(run)
        )
        services.response_submit(
            invitation=invitation, answers=self.answers(run, index), now=self.clock(run)
        )


def _profile_answers(profile: str, rng: random.Random) -> Answers:
    """Answers by profile: "random" (a team mood plus noise, different per run),
    "dissent" (everyone on one step but respondent 0), "extremes" (the ends only)."""

    def answers(run: PulseRun, respondent: int) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for run_question in run.run_questions.select_related("question"):
            question = run_question.question
            if question.kind == QuestionKind.MULTI:
                keys = [o["key"] for o in question.options]
                found[question.key] = sorted(rng.sample(keys, rng.randint(1, 3)))
                continue
            steps = steps_of(question)
            if profile == "dissent":
                agreed = steps[len(steps) // 2]
                found[question.key] = steps[0] if respondent == 0 else agreed
            elif profile == "extremes":
                found[question.key] = rng.choice((steps[0], steps[-1]))
            else:
                # The team's mood on this question this week: the same for every respondent.
                mood = random.Random(f"{run.sequence}:{question.key}").random() * (len(steps) - 1)
                index = round(rng.gauss(mood, 1.2))
                found[question.key] = steps[max(0, min(len(steps) - 1, index))]
        return found

    return answers


# (team, people, who answers, profile)
TEAMS = (
    ("Five", 5, 5, "random"),
    ("Six", 6, 6, "random"),
    ("Seven", 7, 7, "random"),
    ("Eight", 8, 7, "random"),
    ("Nine", 9, 9, "random"),
    ("Ten", 10, 10, "random"),
    ("Dissent", 6, 6, "dissent"),
    ("Extremes", 7, 7, "extremes"),
)


def generated_world(
    teams: Sequence[tuple[str, int, int, str]] = TEAMS, runs: int = RUNS
) -> tuple[AnsweredWorld, dict[str, Any]]:
    """An organisation of the teams (TEAMS) under one parent, `runs` closed weekly runs
    each, and the viewers: the organisation's admin, the parent's manager, an engineer of
    Seven who answered, and Dissent's facilitator (those teams being there)."""
    world = AnsweredWorld()
    world.team("Engineering", 0)
    rng = random.Random(SEED)
    profiles = {name: _profile_answers(profile, rng) for name, _, _, profile in teams}
    for name, size, _, _ in teams:
        world.team(name, size, parent="Engineering")
        world.pulse(name)
    for name, _, answering, _ in teams:
        world.answers = profiles[name]
        for weeks_ago in range(runs, 0, -1):
            world.run(f"{name} w{weeks_ago}", name, weeks_ago=weeks_ago, answering=range(answering))
    refresh_everything()
    viewers = {
        "admin": world.viewer("admin", "Engineering", Role.ADMIN),
        "manager": world.viewer("manager", "Engineering", Role.MANAGER),
    }
    if "Seven" in world.members:
        viewers["engineer"] = world.members["Seven"][0]
    if "Dissent" in world.teams:
        viewers["facilitator"] = world.viewer("facilitator", "Dissent", Role.FACILITATOR)
    return world, viewers


def true_counts(run_ids: list[int]) -> dict[tuple[int, str], Counter[int]]:
    """What the attack must never exclude: per (run, question key), how many gave each
    value (read from the answers, which no viewer can)."""
    found: dict[tuple[int, str], Counter[int]] = {}
    rows = Answer.objects.filter(response__run_id__in=run_ids, value__isnull=False).values_list(
        "response__run_id", "question__key", "value"
    )
    for run_id, key, value in rows:
        if value is not None:
            found.setdefault((run_id, key), Counter())[value] += 1
    return found


def true_pairs(run_ids: list[int], weekly: int, trusting: int) -> dict[int, Counter[int]]:
    """Per run, the trust gap's 2 × 2 table: cell index (0 weekly & trusting, 1 weekly
    only, 2 trusting only, 3 neither) → people."""
    people: dict[tuple[int, int], dict[str, int]] = {}
    rows = Answer.objects.filter(
        response__run_id__in=run_ids,
        question__key__in=(AI_USAGE_KEY, AI_TRUST_KEY),
        value__isnull=False,
    ).values_list("response__run_id", "response_id", "question__key", "value")
    for run_id, response_id, key, value in rows:
        people.setdefault((run_id, response_id), {})[key] = value
    found: dict[int, Counter[int]] = {}
    for (run_id, _), answers in people.items():
        if len(answers) < 2:
            continue
        uses, trusts = answers[AI_USAGE_KEY] >= weekly, answers[AI_TRUST_KEY] >= trusting
        cell = 0 if uses and trusts else 1 if uses else 2 if trusts else 3
        found.setdefault(run_id, Counter())[cell] += 1
    return found
