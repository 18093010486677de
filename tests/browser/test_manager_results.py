"""A manager logs in and sees team results, with the small team shown as suppressed."""

from __future__ import annotations

from typing import Any

import pytest

from surveys.people.models import Role
from tests.browser.conftest import screenshot
from tests.conftest import close_and_refresh, make_open_run, submit_all
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_manager_sees_results_and_the_small_team_suppressed(page: Any, live_server: Any) -> None:
    big = make_open_run(size=7, team=TeamFactory(name="Payments", slug="payments"))
    submit_all(big, 6)
    small = make_open_run(size=3, team=TeamFactory(name="Design Systems", slug="design-systems"))
    submit_all(small, 3)
    for open_run in (big, small):
        close_and_refresh(open_run.run.pk)
    manager = UserFactory(username="omar", password="a-long-demo-password")
    for team in (big.team, small.team):
        MembershipFactory(user=manager, team=team, role=Role.MANAGER)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("omar")
    page.get_by_label("Password").fill("a-long-demo-password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("text=Your teams")

    small_row = page.locator("tr", has_text="Design Systems")
    assert "Not enough responses (k = 5)" in small_row.inner_text()
    big_row = page.locator("tr", has_text="Payments")
    assert "n = 6" in big_row.inner_text()
    screenshot(page, "manager-dashboard")

    page.get_by_role("link", name="Payments").click()
    page.wait_for_selector("svg[role=img]")
    assert page.locator("svg[role=img] circle").count() >= 1
    page.get_by_role("link", name="Design Systems").count()
    page.goto(f"{live_server.url}/teams/design-systems/")
    assert "Not enough responses (k = 5)" in page.content()
    assert page.console_errors == []
