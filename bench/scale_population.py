"""The analytics-scale organisation, loaded in bulk (import after django.setup()).

One organisation of N teams in a two-level tree (a tenth of them parents with about nine
sub-teams each; parents run pulses of their own), a weekly pulse per team with W closed
runs going back W weeks from last week, 20 questions per run (the built-in bank —
perceived speed, AI usage and trust, the seven safety items, the rest, the multiple-choice
task types with choices — topped up with the organisation's own scale items when the bank
has fewer than 20), about R respondents per run (3 … R + 4, so a few runs are under k = 5),
one anonymous Response each with one Answer per question, and a TeamWeekDelivery row per
team-week. Each team has R + 4 engineers of its own, all invited to every run; the
invitations of the run's respondents (a random subset each week) are used — the
participation record that roll-ups and the churn check count people from. One org admin
can see every team (the API step logs in as them).

Rows are written with raw SQL in large transactions, table and column names from the
models' _meta: PostgreSQL through COPY on the Django connection's psycopg connection,
SQLite through executemany. Keys are assigned here (the database is fresh), sequences are
reset afterwards, and the tables are analysed (VACUUM ANALYZE on PostgreSQL) so the
measurements meet the planner statistics a live database would have.

Values have structure rather than pure noise: each team has its own level per question, a
slow drift over the weeks (felt speed rises) and per-answer noise, so aggregates, gaps,
alerts and correlations all have something to compute.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from analytics.delivery.models import TeamWeekDelivery
from bench.harness import say
from surveys.people.models import Membership, Organisation, Role, Team
from surveys.pulses.models import (
    Answer,
    Cadence,
    Construct,
    Invitation,
    Pulse,
    PulseRun,
    Question,
    QuestionKind,
    Response,
    RunQuestion,
    RunStatus,
)

QUESTIONS_PER_RUN = 20
FIRST_KEYS = (
    "perceived_speed",
    "ai_usage_frequency",
    "ai_trust_accuracy",
    *(f"psych_safety_{number}" for number in range(1, 8)),
)
CHILDREN_PER_PARENT = 9
K = 5
OPEN_HOUR = day_time(9)
ANSWER_WINDOW_DAYS = 3
ACTIVE_CONTRIBUTORS = 6
BASELINE_WEEKS = 10  # the organisation adopts AI tools after this many weeks
TEAMS_PER_CHUNK = 10  # one transaction: ~200 000 answers at the default size
ADMIN_USERNAME = "scale-admin"
SQLITE_LOAD_PRAGMAS = ("PRAGMA cache_size=-1048576", "PRAGMA synchronous=OFF")
POSTGRES_LOAD_SETTINGS = ("SET synchronous_commit TO off", "SET maintenance_work_mem TO '512MB'")


@dataclass(frozen=True)
class Size:
    teams: int
    weeks: int
    respondents: int  # mean per run
    seed: int


@dataclass(frozen=True)
class AskedQuestion:
    """A question as the generator answers it."""

    id: int
    key: str
    kind: str
    low: int
    high: int
    options: tuple[str, ...]


@dataclass
class Counts:
    teams: int = 0
    parents: int = 0
    runs: int = 0
    runs_under_k: int = 0
    people: int = 0
    invitations: int = 0
    run_questions: int = 0
    responses: int = 0
    answers: int = 0
    delivery_weeks: int = 0


# --- writing rows ------------------------------------------------------------------------


def _columns(model: type[models.Model], names: Sequence[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


def _next_id(model: type[models.Model]) -> int:
    highest = model.objects.aggregate(top=models.Max("pk"))["top"]
    return (highest or 0) + 1


class BulkWriter:
    """Rows straight into a table: COPY on PostgreSQL, executemany on SQLite.

    Values must already be in a form both drivers take as is (str, int, None, bool, or what
    a field's get_db_prep_value returned).
    """

    def __init__(self) -> None:
        connection.ensure_connection()
        self.postgres = connection.vendor == "postgresql"
        if connection.vendor not in {"postgresql", "sqlite"}:
            raise RuntimeError(f"no bulk loader for {connection.vendor}")

    def prepare(self) -> None:
        with connection.cursor() as cursor:
            for statement in POSTGRES_LOAD_SETTINGS if self.postgres else SQLITE_LOAD_PRAGMAS:
                cursor.execute(statement)

    def write(
        self, model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple]
    ) -> None:
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in _columns(model, fields))
        raw = connection.connection
        assert raw is not None
        if self.postgres:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(fields))
        cursor = raw.cursor()
        try:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                rows,
            )
        finally:
            cursor.close()

    def finish(self, tables: Sequence[type[models.Model]]) -> None:
        """Sequences past the assigned keys, planner statistics, a checkpointed WAL."""
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), list(tables)):
                cursor.execute(statement)  # only the tables with auto keys have one
            if self.postgres:
                for model in tables:
                    cursor.execute(
                        f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}"
                    )
            else:
                cursor.execute("ANALYZE")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _prep(model: type[models.Model], name: str, value: Any) -> Any:
    return model._meta.get_field(name).get_db_prep_value(value, connection)


def _uuid_hex(rng: np.random.Generator, count: int) -> list[str]:
    """`count` random version-4 UUIDs as 32 hex digits (what both databases accept)."""
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [text[i : i + 32] for i in range(0, 32 * count, 32)]


# --- the organisation --------------------------------------------------------------------


def _mondays(weeks: int) -> list[date]:
    """The Mondays of the last `weeks` full weeks, oldest first (last week's run is closed)."""
    today = timezone.localdate()
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=weeks - number) for number in range(weeks)]


def _team_tree(organisation: Organisation, teams: int) -> list[Team]:
    """Parents first, then their children in turn; a tenth of the teams are parents."""
    parents = max(1, round(teams / (CHILDREN_PER_PARENT + 1)))
    tops = Team.objects.bulk_create(
        Team(organisation=organisation, name=f"Area {p + 1:03d}", slug=f"scale-{p + 1:03d}")
        for p in range(parents)
    )
    children = [
        Team(
            organisation=organisation,
            parent=tops[c % parents],
            name=f"Area {c % parents + 1:03d} team {c // parents + 1}",
            slug=f"scale-{c % parents + 1:03d}-{c // parents + 1}",
        )
        for c in range(teams - parents)
    ]
    return tops + Team.objects.bulk_create(children)


def _questions(organisation: Organisation) -> list[AskedQuestion]:
    """FIRST_KEYS, then the rest of the bank, then the organisation's own scale items."""
    bank = list(Question.objects.filter(organisation__isnull=True, active=True))
    bank.sort(
        key=lambda q: (q.key not in FIRST_KEYS, q.kind == QuestionKind.MULTI, q.rotation_order)
    )
    chosen = bank[:QUESTIONS_PER_RUN]
    for number in range(QUESTIONS_PER_RUN - len(chosen)):
        chosen.append(
            Question.objects.create(
                organisation=organisation,
                key=f"scale-own-{number + 1}",
                construct=Construct.CUSTOM,
                kind=QuestionKind.SCALE,
                text=f"The organisation's own item {number + 1}",
                scale_min=1,
                scale_max=5,
                rotation_order=200 + number,
            )
        )
    return [
        AskedQuestion(
            id=q.pk,
            key=q.key,
            kind=q.kind,
            low=q.scale_min,
            high=q.scale_max,
            options=tuple(str(o["key"]) for o in q.options or ()),
        )
        for q in chosen
    ]


def _org_admin(organisation: Organisation, team: Team) -> None:
    user = get_user_model().objects.create(username=ADMIN_USERNAME, password="!")  # noqa: S106
    Membership.objects.create(user=user, team=team, role=Role.ADMIN, start=date(2000, 1, 1))


def _engineers(teams: list[Team], per_team: int) -> dict[int, list[int]]:
    """`per_team` engineers on each team since long before the first run: user ids by team."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{team.slug}-{number + 1}", password="!")  # noqa: S106
        for team in teams
        for number in range(per_team)
    )
    members = {
        team.pk: [user.pk for user in users[n * per_team : (n + 1) * per_team]]
        for n, team in enumerate(teams)
    }
    Membership.objects.bulk_create(
        Membership(user_id=user, team_id=team, role=Role.ENGINEER, start=date(2000, 1, 1))
        for team, people in members.items()
        for user in people
    )
    return members


# --- one chunk of teams ------------------------------------------------------------------


@dataclass
class Shape:
    """The structure the answers follow: per team levels and drifts."""

    rng: np.random.Generator
    questions: list[AskedQuestion]
    weeks: int
    respondents: int
    choice_sets: list[str]

    def respondent_counts(self, runs: int) -> np.ndarray:
        low = max(1, min(3, self.respondents))
        counts = np.rint(self.rng.normal(self.respondents, 2.5, size=runs))
        return np.clip(counts, low, self.respondents + 4).astype(np.int64)

    def values(self, team_of: np.ndarray, week_of: np.ndarray, teams: int) -> np.ndarray:
        """One row per answer set (respondent), one column per question; -1 for multi."""
        rows = len(team_of)
        progress = week_of / max(1, self.weeks - 1)
        out = np.empty((rows, len(self.questions)), dtype=np.int64)
        for column, q in enumerate(self.questions):
            if q.kind == QuestionKind.MULTI:
                out[:, column] = -1
                continue
            if q.kind == QuestionKind.PERCENT:
                level = self.rng.uniform(0, 30, size=teams)[team_of]
                drift = self.rng.uniform(0, 25, size=teams)[team_of] * progress
                raw = self.rng.normal(level + drift, 25)
                out[:, column] = np.clip(np.rint(raw), q.low, q.high)
                continue
            level = self.rng.uniform(0.35, 0.8, size=teams)[team_of]
            drift = self.rng.normal(0, 0.12, size=teams)[team_of] * progress
            fraction = np.clip(level + drift + self.rng.normal(0, 0.18, size=rows), 0, 1)
            out[:, column] = np.rint(q.low + (q.high - q.low) * fraction)
        return out


def _choice_sets(rng: np.random.Generator, questions: list[AskedQuestion]) -> list[str]:
    options = next((q.options for q in questions if q.kind == QuestionKind.MULTI), ())
    if not options:
        return []
    picks = [
        sorted(rng.choice(options, size=int(rng.integers(1, 4)), replace=False).tolist())
        for _ in range(64)
    ]
    return [json.dumps(pick) for pick in picks]


@dataclass
class Ids:
    run: int
    run_question: int
    delivery: int
    invitation: int


def _run_rows(
    pulse_ids: Sequence[int], team_ids: Sequence[int], mondays: list[date], first_id: int
) -> list[tuple]:
    rows = []
    run_id = first_id
    for pulse_id, team_id in zip(pulse_ids, team_ids, strict=True):
        for sequence, start in enumerate(mondays):
            opens_at = timezone.make_aware(datetime.combine(start, OPEN_HOUR))
            closes_at = opens_at + timedelta(days=ANSWER_WINDOW_DAYS)
            rows.append(
                (
                    run_id,
                    pulse_id,
                    team_id,
                    sequence,
                    _prep(PulseRun, "period_start", start),
                    _prep(PulseRun, "period_end", start + timedelta(days=7)),
                    _prep(PulseRun, "opens_at", opens_at),
                    _prep(PulseRun, "remind_at", closes_at - timedelta(days=1)),
                    _prep(PulseRun, "closes_at", closes_at),
                    RunStatus.CLOSED.value,
                    K,
                    _prep(PulseRun, "form", []),
                    True,
                    False,
                    False,
                )
            )
            run_id += 1
    return rows


RUN_FIELDS = (
    "id",
    "pulse",
    "team",
    "sequence",
    "period_start",
    "period_end",
    "opens_at",
    "remind_at",
    "closes_at",
    "status",
    "k",
    "form",
    "reminders_sent",
    "aggregates_stale",
    "invitations_pending",
)


def _delivery_rows(
    rng: np.random.Generator, team_ids: Sequence[int], mondays: list[date], first_id: int
) -> list[tuple]:
    rows = []
    row_id = first_id
    weeks = len(mondays)
    for team_id in team_ids:
        base = rng.uniform(1.5, 4.0)
        ai_lift = rng.uniform(-0.15, 0.3)
        review = rng.uniform(4, 20)
        for number, start in enumerate(mondays):
            progress = number / max(1, weeks - 1)
            count = int(rng.poisson(ACTIVE_CONTRIBUTORS * base * (1 + ai_lift * progress)))
            metrics = {
                "throughput": round(count / ACTIVE_CONTRIBUTORS, 3),
                "throughput_count": count,
                "throughput_basis": "merged PRs",
                "cycle_median_h": round(max(1.0, rng.normal(36, 10)), 1),
                "review_median_h": round(
                    max(0.5, review * (1 + 0.5 * progress) + rng.normal(0, 3)), 1
                ),
                "pr_size_median": int(max(5, rng.normal(180, 60))),
                "change_failure_rate": round(float(np.clip(rng.normal(0.12, 0.06), 0, 1)), 3),
                "ai_pr_share": round(
                    float(np.clip(0.1 + 0.6 * progress + rng.normal(0, 0.1), 0, 1)), 3
                ),
            }
            rows.append(
                (
                    row_id,
                    team_id,
                    _prep(TeamWeekDelivery, "week_start", start),
                    K,
                    False,
                    ACTIVE_CONTRIBUTORS,
                    _prep(TeamWeekDelivery, "metrics", metrics),
                )
            )
            row_id += 1
    return rows


DELIVERY_FIELDS = ("id", "team", "week_start", "k", "suppressed", "active_contributors", "metrics")


def _invitation_rows(
    rng: np.random.Generator,
    run_ids: np.ndarray,
    members: np.ndarray,
    respondents: np.ndarray,
    first_id: int,
) -> Iterable[tuple]:
    """Every member invited to every run of their team (members: one row of user ids per
    run), the invitations of `respondents` of them, chosen at random, used."""
    ranks = rng.random(members.shape).argsort(axis=1).argsort(axis=1)
    used = (ranks < respondents[:, None]).ravel().tolist()
    runs = np.repeat(run_ids, members.shape[1]).tolist()
    for offset, (run_id, user_id, was_used) in enumerate(
        zip(runs, members.ravel().tolist(), used, strict=True)
    ):
        yield (first_id + offset, run_id, user_id, True, False, was_used, 1)


INVITATION_FIELDS = ("id", "run", "user", "sent", "reminded", "used", "send_attempts")
LOADED: tuple[type[models.Model], ...] = (
    PulseRun,
    Invitation,
    RunQuestion,
    Response,
    Answer,
    TeamWeekDelivery,
)


def _chunk_write(
    writer: BulkWriter,
    shape: Shape,
    teams: list[Team],
    pulses: dict[int, int],
    members: dict[int, list[int]],
    mondays: list[date],
    ids: Ids,
    counts: Counts,
) -> None:
    """Runs, their questions, responses, answers and delivery weeks of some teams."""
    team_ids = [t.pk for t in teams]
    weeks, questions = len(mondays), shape.questions
    runs = _run_rows([pulses[t] for t in team_ids], team_ids, mondays, ids.run)
    run_ids = np.arange(ids.run, ids.run + len(runs))
    run_questions = [
        (ids.run_question + n * len(questions) + position, int(run_id), q.id, position + 1)
        for n, run_id in enumerate(run_ids)
        for position, q in enumerate(questions)
    ]
    respondents = shape.respondent_counts(len(runs))
    invitees = np.repeat(np.asarray([members[t] for t in team_ids]), weeks, axis=0)
    team_index = np.repeat(np.arange(len(teams)), weeks)  # per run
    week_index = np.tile(np.arange(weeks), len(teams))  # per run
    response_ids = _uuid_hex(shape.rng, int(respondents.sum()))
    response_run = np.repeat(run_ids, respondents)
    response_team = np.repeat(np.repeat(np.asarray(team_ids), weeks), respondents)
    values = shape.values(
        np.repeat(team_index, respondents), np.repeat(week_index, respondents), len(teams)
    )
    deliveries = _delivery_rows(shape.rng, team_ids, mondays, ids.delivery)
    with transaction.atomic():
        writer.write(PulseRun, RUN_FIELDS, runs)
        writer.write(RunQuestion, ("id", "run", "question", "position"), run_questions)
        writer.write(
            Invitation,
            INVITATION_FIELDS,
            _invitation_rows(shape.rng, run_ids, invitees, respondents, ids.invitation),
        )
        writer.write(
            Response,
            ("id", "run", "team"),
            zip(response_ids, response_run.tolist(), response_team.tolist(), strict=True),
        )
        writer.write(
            Answer,
            ("id", "response", "question", "value", "choices"),
            _answer_rows(shape, response_ids, values),
        )
        writer.write(TeamWeekDelivery, DELIVERY_FIELDS, deliveries)
    ids.run += len(runs)
    ids.run_question += len(run_questions)
    ids.delivery += len(deliveries)
    ids.invitation += invitees.size
    counts.invitations += invitees.size
    counts.runs += len(runs)
    counts.runs_under_k += int((respondents < K).sum())
    counts.run_questions += len(run_questions)
    counts.responses += len(response_ids)
    counts.answers += len(response_ids) * len(questions)
    counts.delivery_weeks += len(deliveries)


def _answer_rows(shape: Shape, response_ids: list[str], values: np.ndarray) -> Iterable[tuple]:
    questions = shape.questions
    answer_ids = _uuid_hex(shape.rng, values.size)
    picks = shape.rng.integers(0, max(1, len(shape.choice_sets)), size=values.size).tolist()
    flat = values.ravel().tolist()
    question_ids = [q.id for q in questions]
    multi = [q.kind == QuestionKind.MULTI for q in questions]
    width = len(questions)
    for index, value in enumerate(flat):
        column = index % width
        if multi[column]:
            yield (
                answer_ids[index],
                response_ids[index // width],
                question_ids[column],
                None,
                shape.choice_sets[picks[index]],
            )
        else:
            yield (
                answer_ids[index],
                response_ids[index // width],
                question_ids[column],
                value,
                None,
            )


# --- the whole organisation --------------------------------------------------------------


def generate(size: Size) -> dict[str, Any]:
    """Build the organisation; the counts and where the time went."""
    began = time.perf_counter()
    writer = BulkWriter()
    writer.prepare()
    rng = np.random.default_rng(size.seed)
    mondays = _mondays(size.weeks)
    organisation = Organisation.objects.create(
        name="Scale Corp",
        slug="scale",
        ai_adopted_on=mondays[min(BASELINE_WEEKS, len(mondays) - 1)],
    )
    teams = _team_tree(organisation, size.teams)
    _org_admin(organisation, teams[0])
    members = _engineers(teams, size.respondents + 4)
    pulses = {
        p.team_id: p.pk
        for p in Pulse.objects.bulk_create(
            Pulse(
                team=team,
                cadence=Cadence.WEEKLY,
                start_date=mondays[0],
                answer_window_days=ANSWER_WINDOW_DAYS,
                k=K,
            )
            for team in teams
        )
    }
    questions = _questions(organisation)
    shape = Shape(rng, questions, size.weeks, size.respondents, _choice_sets(rng, questions))
    ids = Ids(
        _next_id(PulseRun), _next_id(RunQuestion), _next_id(TeamWeekDelivery), _next_id(Invitation)
    )
    counts = Counts(
        teams=len(teams),
        parents=sum(1 for t in teams if t.parent_id is None),
        people=sum(len(people) for people in members.values()),
    )
    setup_seconds = time.perf_counter() - began
    for start in range(0, len(teams), TEAMS_PER_CHUNK):
        _chunk_write(
            writer,
            shape,
            teams[start : start + TEAMS_PER_CHUNK],
            pulses,
            members,
            mondays,
            ids,
            counts,
        )
        elapsed = time.perf_counter() - began
        say(
            f"    generated {min(start + TEAMS_PER_CHUNK, len(teams))}/{len(teams)} teams: "
            f"{counts.answers:,} answers in {elapsed:.0f} s "
            f"({counts.answers / max(elapsed - setup_seconds, 1e-9):,.0f} answers/s)"
        )
    load_seconds = time.perf_counter() - began - setup_seconds
    say("    analysing the tables")
    writer.finish(LOADED)
    seconds = time.perf_counter() - began
    return {
        "counts": asdict(counts),
        "questions": [q.key for q in questions],
        "latest_week": mondays[-1].isoformat(),
        "setup_seconds": setup_seconds,
        "load_seconds": load_seconds,
        "finish_seconds": seconds - setup_seconds - load_seconds,
        "seconds": seconds,
        "answers_per_second": counts.answers / seconds if seconds else 0.0,
    }
