"""Insight reports end to end below the browser: API, CSV, heatmap, correlations, alerts."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from analytics import pipeline
from analytics.insights import alerts, correlations, gaps, heatmap, noise, rollups
from analytics.insights import selectors as insights
from analytics.insights.models import (
    CorrelationResult,
    RollupRelease,
    SafetyAlert,
    TeamPeriod,
    TeamRollup,
)
from analytics.insights.team_periods.fill import period_fill
from surveys.people.models import Role, Team
from surveys.people.selectors import subtrees
from surveys.pulses.models import (
    Construct,
    Invitation,
    Pulse,
    PulseRun,
    Question,
    QuestionKind,
    RunStatus,
)
from tests.analytics.insights.released import assert_released_score
from tests.conftest import close_and_refresh, make_open_run, submit_all
from tests.factories import MembershipFactory, PulseFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def _period(team: Team, run: PulseRun, start: date, **fields: Any) -> TeamPeriod:
    return TeamPeriod.objects.create(
        run=run,
        team=team,
        period_start=start,
        period_end=start + timedelta(days=7),
        k=5,
        **fields,
    )


def _closed(respondents: int, team: Team | None = None) -> PulseRun:
    open_run = make_open_run(size=max(respondents, 5), team=team)
    submit_all(open_run, respondents)
    close_and_refresh(open_run.run.pk)
    pipeline.periods_refresh(reports_inline=True)
    return open_run.run


def test_the_periods_api_and_csv_carry_the_same_rows_and_nothing_under_k(
    api_client, manager_of
) -> None:
    shown = _closed(5)
    hidden = _closed(4, team=TeamFactory(organisation=shown.team.organisation))
    manager = manager_of(shown.team)
    MembershipFactory(user=manager, team=hidden.team, role=Role.MANAGER)
    api_client.force_login(manager)
    body = api_client.get(reverse("api-team-periods", args=[shown.team.slug])).json()
    assert [row["respondents"] for row in body] == [5]
    assert_released_score(body[0]["perceived"], shown, "perceived_speed", 18.0)
    under = api_client.get(reverse("api-team-periods", args=[hidden.team.slug])).json()
    assert under[0]["respondents"] is None
    assert all(under[0][name] is None for name in ("perceived", "gap", "trust_gap", "safety"))

    response = api_client.get(reverse("team-insights-csv", args=[shown.team.slug]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == insights.EXPORT_FIELDS
    assert float(rows[1][rows[0].index("perceived")]) == pytest.approx(body[0]["perceived"])
    assert not {"user", "email", "author", "submitted_at"} & set(rows[0])


def test_someone_outside_the_team_gets_404_everywhere(api_client) -> None:
    run = _closed(5)
    api_client.force_login(UserFactory())
    slug = run.team.slug
    for name in ("api-team-periods", "api-team-correlations", "team-insights", "team-report"):
        assert api_client.get(reverse(name, args=[slug])).status_code == 404
    assert api_client.get(reverse("team-insights-csv", args=[slug])).status_code == 404
    assert api_client.get(reverse("api-heatmap")).json()["results"] == []


def test_the_heatmap_marks_a_small_team_suppressed_without_a_number(api_client) -> None:
    big = _closed(5)
    small = _closed(3, team=TeamFactory(organisation=big.team.organisation))
    admin = UserFactory()
    MembershipFactory(user=admin, team=big.team, role=Role.MANAGER)
    MembershipFactory(user=admin, team=small.team, role=Role.MANAGER)
    api_client.force_login(admin)
    found = api_client.get(reverse("api-heatmap")).json()["results"]
    rows = {row["team"]: row for row in found}
    assert {c["state"] for c in rows[small.team.slug]["cells"]} == {"suppressed"}
    assert all(c["mean"] is None and c["n"] is None for c in rows[small.team.slug]["cells"])
    shown = [c for c in rows[big.team.slug]["cells"] if c["state"] == "shown"]
    assert shown
    assert all(c["n"] >= 5 for c in shown)
    page = api_client.get(reverse("insights")).content.decode()
    assert page.count('data-state="suppressed"') == len(heatmap.HEATMAP_CONSTRUCTS)


def _team_periods(team: Team, figures: list[dict[str, Any]], first: int = 0) -> list[TeamPeriod]:
    """Closed runs with the given TeamPeriod figures, a week apart from 5 January 2026."""
    pulse = Pulse.objects.filter(team=team).first() or PulseFactory(team=team)
    now = timezone.now()
    made = []
    for index, fields in enumerate(figures, start=first):
        start = date(2026, 1, 5) + timedelta(weeks=index)
        run = PulseRun.objects.create(
            pulse=pulse,
            team=team,
            sequence=index,
            period_start=start,
            period_end=start + timedelta(days=7),
            opens_at=now,
            remind_at=now,
            closes_at=now,
            status=RunStatus.CLOSED,
        )
        made.append(_period(team, run, start, **fields))
    return made


def test_correlations_appear_at_eight_team_periods_and_not_before(api_client, manager_of) -> None:
    team = TeamFactory()
    pairs = [(float(i), 10.0 + 2 * i + 3 * (i % 2)) for i in range(8)]
    figures = [{"perceived": x, "delivery": {"review_median_h": y}} for x, y in pairs]
    _team_periods(team, figures[:7])
    assert correlations.correlations_refresh(organisation_id=team.organisation_id) == 0
    _team_periods(team, figures[7:], first=7)
    assert correlations.correlations_refresh(organisation_id=team.organisation_id) > 0
    api_client.force_login(manager_of(team))
    found = api_client.get(reverse("api-team-correlations", args=[team.slug])).json()
    pooled = next(
        c
        for c in found
        if (c["x"], c["y"], c["method"], c["variant"])
        == ("perceived", "review_median_h", "spearman", "pooled")
    )
    assert pooled["n"] == 8
    # Ranks of y: 1 3 2 5 4 7 6 8 against 1..8: Σd² = 6, r = 1 − 6·6/(8·63) = 0.928571.
    assert pooled["r"] == pytest.approx(1 - 36 / 504)
    assert pooled["primary"] is False  # felt speed ~ review time: exploratory
    assert pooled["q"] >= pooled["p"]
    assert CorrelationResult.objects.filter(scope_team__isnull=True).exists()


def test_benjamini_hochberg_by_hand() -> None:
    # m = 5 sorted p-values; q_i = min over j ≥ i of p_j · m / j:
    # .13·5/5 = .13, .04·5/4 = .05, .02·5/3 = .0333, .011·5/2 = .0275, .005·5/1 = .025.
    found = correlations.q_values([0.04, 0.005, 0.13, 0.011, 0.02])
    assert found == pytest.approx([0.05, 0.025, 0.13, 0.0275, 0.02 * 5 / 3])


# Eight steady periods, then 24.75 points under the mean of the four before (69.75).
FALL = (70.0, 72.0, 68.0, 71.0, 69.0, 70.0, 71.0, 69.0, 45.0)


def _safety(index: float, **fields: Any) -> dict[str, Any]:
    """A period's released safety index from all seven items, n = 8, interval ± 12."""
    return {
        "safety": index,
        "safety_low": index - 12,
        "safety_high": index + 12,
        "safety_n": 8,
        "safety_items": 7,
        **fields,
    }


def _safety_falls_by_25_points(team: Team) -> None:
    _team_periods(team, [_safety(i, change_shown=True) for i in FALL])


def test_a_safety_drop_raises_one_alert_and_emails_the_managers_once(
    manager_of, django_capture_on_commit_callbacks
) -> None:
    team = TeamFactory()
    manager = manager_of(team)
    _safety_falls_by_25_points(team)
    with django_capture_on_commit_callbacks() as callbacks:
        pipeline.reports_refresh(team_ids=[team.pk])
    (alert,) = SafetyAlert.objects.filter(team=team)
    assert len(callbacks) == 1  # its email, enqueued once the alert is committed
    assert (alert.index, alert.trailing_mean, alert.n) == (45.0, 69.75, 8)
    assert (alert.index_low, alert.index_high) == (33.0, 57.0)
    assert alert.statistic < alert.limit == -gaps.CHART_LIMIT
    assert alert.false_alarm_rate == gaps.CHART_FALSE_ALARMS
    assert alerts.safety_alert_notify(alert_id=alert.pk) == 1
    assert alerts.safety_alert_notify(alert_id=alert.pk) == 0  # a redelivered task
    assert [m.to for m in mail.outbox] == [[manager.email]]
    body = mail.outbox[0].body
    assert "25 points" in body
    assert "95 % CI 33–57, n = 8" in body
    assert f"about {round(100 * gaps.CHART_FALSE_ALARMS)} times in 100 over 26 periods" in body
    assert alerts.safety_alerts_check(team_id=team.pk) == []  # checked again: no second alert
    assert SafetyAlert.objects.count() == 1


def test_an_alert_email_goes_to_the_managers_of_today_only(manager_of) -> None:
    team = TeamFactory()
    manager = manager_of(team)
    today = timezone.localdate()
    # `end` is exclusive: ending today, the first has left; the second starts tomorrow.
    for username, dates in (
        ("left-today", {"start": today - timedelta(days=30), "end": today}),
        ("starts-tomorrow", {"start": today + timedelta(days=1)}),
    ):
        user = UserFactory(username=username)
        MembershipFactory(user=user, team=team, role=Role.MANAGER, **dates)
    _safety_falls_by_25_points(team)
    (alert,) = alerts.safety_alerts_check(team_id=team.pk)
    assert alerts.safety_alert_notify(alert_id=alert.pk) == 1
    assert [m.to for m in mail.outbox] == [[manager.email]]


def test_an_alert_email_a_lost_task_left_unsent_goes_out_once_from_the_sweep(
    manager_of, django_capture_on_commit_callbacks, tasks_inline
) -> None:
    team = TeamFactory()
    manager = manager_of(team)
    _safety_falls_by_25_points(team)
    with django_capture_on_commit_callbacks(execute=False):  # the broker was away: lost
        pipeline.reports_refresh(team_ids=[team.pk])

    for _ in range(2):  # the sweep runs again: nothing more to send
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.safety_alerts_sweep()

    assert [m.to for m in mail.outbox] == [[manager.email]]


def test_an_alert_email_that_keeps_failing_is_tried_a_bounded_number_of_times(
    manager_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = TeamFactory()
    manager_of(team)
    _safety_falls_by_25_points(team)
    (alert,) = alerts.safety_alerts_check(team_id=team.pk)

    def refused(self: object, fail_silently: bool = False) -> int:
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr(alerts.EmailMultiAlternatives, "send", refused)
    failures = 0
    for _ in range(SafetyAlert.NOTIFY_ATTEMPTS + 3):
        try:
            alerts.safety_alert_notify(alert_id=alert.pk)
        except ConnectionRefusedError:
            failures += 1

    assert failures == SafetyAlert.NOTIFY_ATTEMPTS
    assert pipeline.safety_alerts_sweep() == 0  # the sweep gives up on it too
    assert not SafetyAlert.objects.get(pk=alert.pk).notified


def test_the_json_and_csv_exports_share_one_documented_schema() -> None:
    from analytics.insights.serializers import TeamPeriodOutput

    assert list(TeamPeriodOutput().fields) == insights.EXPORT_FIELDS


def _invite(run: PulseRun, users: list[Any]) -> None:
    Invitation.objects.bulk_create(Invitation(run=run, user=user) for user in users)


def test_one_person_joining_withholds_the_change_and_the_alert(manager_of) -> None:
    team = TeamFactory()
    people = [UserFactory() for _ in range(7)]
    made = _team_periods(team, [_safety(index) for index in FALL])
    for period in made[:-1]:
        _invite(period.run, people[:6])
    _invite(made[-1].run, people[:7])  # one person joined before the fall
    for period, index in zip(made, FALL, strict=True):
        period_fill(run_id=period.run_id)
        # The runs have no answers here: the index is put back as if released.
        TeamPeriod.objects.filter(run_id=period.run_id).update(**_safety(index))
    shown = dict(TeamPeriod.objects.filter(team=team).values_list("period_start", "change_shown"))
    assert list(shown.values()) == [False, *[True] * 7, False]
    assert alerts.safety_alerts_check(team_id=team.pk) == []
    # The same fall with the change shown alerts: it was the withheld change that held it.
    TeamPeriod.objects.filter(run_id=made[-1].run_id).update(change_shown=True)
    assert len(alerts.safety_alerts_check(team_id=team.pk)) == 1


def test_a_roll_up_that_would_reveal_a_small_sub_team_is_hidden(api_client, manager_of) -> None:
    parent = TeamFactory(name="Platform")
    open_runs = [
        make_open_run(size=6, team=TeamFactory(organisation=parent.organisation, parent=parent))
        for _ in range(2)
    ]
    for open_run, size in zip(open_runs, (6, 3), strict=True):
        submit_all(open_run, size)
        close_and_refresh(open_run.run.pk)
        pipeline.periods_refresh(reports_inline=True)
    api_client.force_login(manager_of(parent))
    rows = api_client.get(reverse("api-team-rollups", args=[parent.slug])).json()
    assert [(r["shown"], r["respondents"], r["perceived"]) for r in rows] == [(False, None, None)]
    page = api_client.get(reverse("team-insights", args=[parent.slug])).content.decode()
    assert 'data-state="rollup-hidden"' in page


def test_a_roll_up_waits_for_every_run_of_its_week_then_pools_them_all(
    api_client, manager_of
) -> None:
    parent = TeamFactory(name="Platform")
    open_runs = [
        make_open_run(
            size=max(size, 5), team=TeamFactory(organisation=parent.organisation, parent=parent)
        )
        for size in (6, 3, 2)
    ]
    api_client.force_login(manager_of(parent))
    for open_run, size in zip(open_runs[:2], (6, 3), strict=True):
        submit_all(open_run, size)
        close_and_refresh(open_run.run.pk)
        pipeline.periods_refresh(reports_inline=True)
    rows = api_client.get(reverse("api-team-rollups", args=[parent.slug])).json()
    assert [(r["waiting"], r["shown"], r["respondents"]) for r in rows] == [(True, False, None)]
    page = api_client.get(reverse("team-insights", args=[parent.slug])).content.decode()
    assert 'data-state="rollup-waiting"' in page

    # The third sub-team closes with two more people: the hidden part is 3 + 2 = 5 = k.
    submit_all(open_runs[2], 2)
    close_and_refresh(open_runs[2].run.pk)
    pipeline.periods_refresh(reports_inline=True)
    row = api_client.get(reverse("api-team-rollups", args=[parent.slug])).json()[0]
    assert (row["waiting"], row["shown"], row["respondents"], row["teams"]) == (False, True, 11, 3)
    # Felt speed of all eleven, small teams included: (−10 0 20 30 50 −10) (−10 0 20) (−10 0),
    # plus the roll-up's noise: Σ (x − c) moves by (span / 2) / ε per unit of the draw, the
    # mean by that over 11 people; the draw is stored.
    drawn = TeamRollup.objects.get(team=parent)
    assert drawn.released
    stored = RollupRelease.objects.get(construct=Construct.PERCEIVED_SPEED)
    assert sorted(stored.runs) == sorted(o.run.pk for o in open_runs[:3])
    scale = noise.scales(1)[0] * 150 / noise.GRID / 11
    assert row["perceived_low"] <= row["perceived"] <= row["perceived_high"]
    assert row["perceived"] != pytest.approx(80 / 11)
    assert abs(row["perceived"] - 80 / 11) < math.log(1e9) * scale


def test_a_roll_up_pools_the_small_teams_answers_exactly_under_its_noise(
    api_client, manager_of, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the noise drawn as zero, the roll-up is the plain pooled mean of everyone."""
    monkeypatch.setattr(noise, "discrete_laplace", lambda value, scale: value)
    parent = TeamFactory(name="Platform")
    open_runs = [
        make_open_run(size=5, team=TeamFactory(organisation=parent.organisation, parent=parent))
        for _ in range(2)
    ]
    api_client.force_login(manager_of(parent))
    for open_run in open_runs:
        submit_all(open_run, 5)
        close_and_refresh(open_run.run.pk)
    pipeline.periods_refresh(reports_inline=True)
    row = api_client.get(reverse("api-team-rollups", args=[parent.slug])).json()[0]
    assert (row["shown"], row["respondents"]) == (True, 10)
    # (−10 0 20 30 50) twice, to the grid's unit (150 / 1000).
    assert row["perceived"] == pytest.approx(90 / 5, abs=150 / noise.GRID / 10)


def test_roll_ups_pooling_the_same_answers_share_one_draw() -> None:
    """Top has a run nobody answered, Parent none, Child six answers: Parent and Top pool
    the same answers and, keyed on the runs that answered, show one draw (keyed on every
    pooled run, Top got a second, independent draw of the same sums to average with
    Parent's). The noise's range comes from the pooled runs' questions: another
    organisation's perceived-speed item from −100 to +1000 % does not widen it."""
    top = TeamFactory(name="Top")
    parent = TeamFactory(organisation=top.organisation, parent=top, name="Parent")
    child = make_open_run(size=6, team=TeamFactory(organisation=top.organisation, parent=parent))
    nobody = make_open_run(size=5, team=top)
    Question.objects.create(
        organisation=TeamFactory().organisation,
        key="odd_speed",
        construct=Construct.PERCEIVED_SPEED,
        kind=QuestionKind.PERCENT,
        text="How much faster?",
        scale_min=-100,
        scale_max=1000,
    )
    submit_all(child, 6)
    close_and_refresh(child.run.pk)
    close_and_refresh(nobody.run.pk)
    pipeline.periods_refresh(reports_inline=True)
    rows = {row.team_id: row for row in TeamRollup.objects.all()}
    assert rows[top.pk].shown
    assert rows[parent.pk].shown
    assert rows[top.pk].runs != rows[parent.pk].runs
    figures = ("perceived", "perceived_low", "perceived_high", "safety", "safety_low")
    assert [getattr(rows[top.pk], f) for f in figures] == [
        getattr(rows[parent.pk], f) for f in figures
    ]
    drawn = {row.construct: row for row in RollupRelease.objects.all()}
    assert set(drawn) == {Construct.PERCEIVED_SPEED, Construct.PSYCHOLOGICAL_SAFETY}
    assert drawn[Construct.PERCEIVED_SPEED].runs == [child.run.pk]
    assert (drawn[Construct.PERCEIVED_SPEED].low, drawn[Construct.PERCEIVED_SPEED].high) == (
        -50,
        100,
    )


def test_two_refreshes_racing_to_draw_a_pool_both_keep_the_first_stored() -> None:
    """A refresh that found no stored draw, drew one and lost the race to another refresh
    inserting first ends up with the stored draw, not its own."""
    parent = TeamFactory(name="Platform")
    child = make_open_run(size=6, team=TeamFactory(organisation=parent.organisation, parent=parent))
    submit_all(child, 6)
    close_and_refresh(child.run.pk)
    pipeline.periods_refresh(reports_inline=True)
    first = {row.construct: row.total for row in RollupRelease.objects.all()}
    assert first
    stored = rollups._stored
    calls: list[int] = []

    def blind_once(keys: Any) -> Any:
        calls.append(1)
        return {} if len(calls) == 1 else stored(keys)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rollups, "_stored", blind_once)
        TeamRollup.objects.update(released=False)
        rollups.rollups_refresh(organisation_id=parent.organisation_id)
    assert len(calls) == 2  # it drew, inserted nothing, and read the stored draw back
    assert {row.construct: row.total for row in RollupRelease.objects.all()} == first
    row = TeamRollup.objects.get(team=parent)
    unit = 150 / noise.GRID
    drawn = RollupRelease.objects.get(construct=Construct.PERCEIVED_SPEED)
    assert row.perceived == pytest.approx(
        max(-50, min(100, 25 + drawn.total * unit / row.respondents))
    )


def test_subtrees_from_parent_links() -> None:
    parents = {1: None, 2: 1, 3: 2, 4: None, 5: 1}
    assert subtrees(parents) == {1: {1, 2, 3, 5}, 2: {2, 3}, 3: {3}, 4: {4}, 5: {5}}


def test_the_heatmap_document_matches_its_documented_serializer() -> None:
    import json

    from analytics.insights.serializers import HeatmapRowOutput

    big = _closed(5)
    small = _closed(3, team=TeamFactory(organisation=big.team.organisation))
    rows = heatmap.heatmap(teams=[big.team, small.team])
    documented = json.loads(json.dumps(HeatmapRowOutput(rows, many=True).data))
    assert heatmap.heatmap_document(rows) == documented
    # Every gap carries its interval beside its n.
    gap_fields = {"perception_gap", "perception_gap_low", "perception_gap_high"}
    assert gap_fields | {"trust_gap", "trust_gap_low", "trust_gap_high", "trust_gap_n"} <= set(
        documented[0]
    )


def test_the_heatmap_reads_one_snapshot_per_team_in_a_fixed_number_of_queries(
    api_client, django_assert_max_num_queries
) -> None:
    first = _closed(5)
    organisation = first.team.organisation
    for _ in range(3):
        _closed(5, team=TeamFactory(organisation=organisation))
    admin = UserFactory()
    for team in Team.objects.filter(organisation=organisation):
        MembershipFactory(user=admin, team=team, role=Role.MANAGER)
    api_client.force_login(admin)
    with django_assert_max_num_queries(8):
        rows = api_client.get(reverse("api-heatmap")).json()["results"]
    assert len(rows) == 4
    assert all(any(c["state"] == "shown" for c in row["cells"]) for row in rows)


def _tree_with_an_admin() -> tuple[Any, dict[str, Any]]:
    """Platform with two sub-teams, and Sales beside it; a manager of all four."""
    platform = TeamFactory(name="Platform")
    teams = {
        "platform": platform,
        "api": TeamFactory(name="API", parent=platform, organisation=platform.organisation),
        "web": TeamFactory(name="Web", parent=platform, organisation=platform.organisation),
        "sales": TeamFactory(name="Sales", organisation=platform.organisation),
    }
    manager = UserFactory()
    for team in teams.values():
        MembershipFactory(user=manager, team=team, role=Role.MANAGER)
    return manager, teams


def test_the_heatmap_api_pages_teams_in_name_order(api_client) -> None:
    manager, _ = _tree_with_an_admin()
    api_client.force_login(manager)

    first = api_client.get(reverse("api-heatmap"), {"limit": 3}).json()
    rest = api_client.get(first["next"]).json()

    assert first["count"] == rest["count"] == 4
    assert [row["name"] for row in first["results"]] == ["API", "Platform", "Sales"]
    assert [row["name"] for row in rest["results"]] == ["Web"]
    assert rest["next"] is None


@pytest.mark.parametrize(
    ("name", "value"),
    [("offset", "2.00001"), ("offset", "-1"), ("offset", ""), ("limit", "0"), ("limit", "ten")],
)
def test_the_heatmap_api_names_a_page_that_is_not_a_whole_number(
    api_client, name: str, value: str
) -> None:
    manager, _ = _tree_with_an_admin()
    api_client.force_login(manager)

    response = api_client.get(reverse("api-heatmap"), {name: value})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [name]


def test_the_heatmap_api_filters_to_a_subtree_and_names_a_bad_filter(api_client) -> None:
    manager, teams = _tree_with_an_admin()
    hidden = TeamFactory(organisation=teams["sales"].organisation)
    api_client.force_login(manager)

    under = api_client.get(reverse("api-heatmap"), {"under": teams["platform"].slug}).json()

    assert [row["name"] for row in under["results"]] == ["API", "Platform", "Web"]
    for slug in ("no-such-team", hidden.slug):  # a team they can't see reads as unknown
        response = api_client.get(reverse("api-heatmap"), {"under": slug})
        assert response.status_code == 400
        assert response.json()["errors"] == {"under": ["No team you can see has this slug."]}


def test_the_heatmap_page_pages_and_filters_and_its_csv_follows_the_filter(
    client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from analytics.insights import views

    manager, teams = _tree_with_an_admin()
    client.force_login(manager)
    monkeypatch.setattr(views, "HEATMAP_PAGE", 2)

    first = client.get(reverse("insights")).content.decode()
    second = client.get(reverse("insights"), {"page": 2}).content.decode()
    under = client.get(reverse("insights"), {"under": teams["platform"].slug}).content.decode()
    exported = client.get(reverse("insights-csv"), {"under": teams["platform"].slug})

    assert "Teams 1–2 of 4" in first
    assert 'rel="next"' in first
    assert ">Sales<" in second
    assert ">Sales<" not in first
    assert ">Sales<" not in under
    assert f'<option value="{teams["platform"].slug}" selected>' in under
    names = [row[0] for row in csv.reader(io.StringIO(exported.content.decode()))][1:]
    assert names == ["API", "Platform", "Web"]
    assert client.get(reverse("insights"), {"under": "no-such-team"}).status_code == 404


def test_a_filtered_heatmap_shows_each_team_exactly_as_unfiltered(api_client) -> None:
    # Worked example: Platform (5 people) with a 3-person sub-team, beside Sales (5).
    # Filtering selects rows; it forms no new group, so the small team stays suppressed
    # and every row reads the same as in the whole heatmap.
    platform = _closed(5).team
    small = _closed(3, team=TeamFactory(parent=platform, organisation=platform.organisation))
    _closed(5, team=TeamFactory(organisation=platform.organisation))
    pipeline.reports_refresh(team_ids=Team.objects.values_list("pk", flat=True))
    manager = UserFactory()
    for team in Team.objects.filter(organisation=platform.organisation):
        MembershipFactory(user=manager, team=team, role=Role.MANAGER)
    api_client.force_login(manager)

    everything = api_client.get(reverse("api-heatmap")).json()["results"]
    under = api_client.get(reverse("api-heatmap"), {"under": platform.slug}).json()["results"]

    by_team = {row["team"]: row for row in everything}
    assert [row["team"] for row in under] == sorted(
        [platform.slug, small.team.slug], key=lambda slug: by_team[slug]["name"]
    )
    assert all(row == by_team[row["team"]] for row in under)
    suppressed = {c["state"] for c in by_team[small.team.slug]["cells"]}
    assert suppressed == {"suppressed"}
