"""A manager opens the heatmap and a team's insights on the demo organisation: the charts
draw, suppressed cells say so, the CSV downloads, and nothing is blank."""

from __future__ import annotations

import csv
import importlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from PIL import Image

from analytics.delivery.models import AiAttributionRule
from analytics.insights.models import TeamPeriod
from analytics.insights.selectors import EXPORT_FIELDS
from demo.organisation import DEMO_PASSWORD
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _attribution_rules() -> None:
    """The AI attribution rules a migration seeds: an earlier transactional test's flush
    wipes them, and the demo would then have no AI-assisted PR."""
    seeded = importlib.import_module("analytics.migrations.0003_ai_attribution_rules")
    for kind, pattern, tool in seeded.RULES:
        AiAttributionRule.objects.get_or_create(
            organisation=None, kind=kind, pattern=pattern, defaults={"tool": tool}
        )


CANVAS_INK = """canvas => {
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) ink++; }
  return ink;
}"""


def _not_blank(path: Path) -> None:
    low, high = Image.open(path).convert("L").getextrema()
    assert high - low > 50, f"{path.name} is blank"


def _log_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("text=Your teams")


def test_a_manager_reads_the_heatmap_and_a_teams_charts(
    page: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    _log_in(page, live_server.url, "omar")  # manages Payments and Mobile (too small)

    page.get_by_role("link", name="Insights").click()
    page.wait_for_selector("table.heatmap")
    mobile = page.locator("tr", has_text="Mobile")
    assert mobile.locator("td[data-state=suppressed]").count() == 9
    assert "not enough responses" in mobile.inner_text().lower()
    assert mobile.locator("td[data-state=shown]").count() == 0
    payments = page.locator("tr", has_text="Payments")
    assert payments.locator("td[data-state=shown]").count() >= 4
    _not_blank(screenshot(page, "insights-heatmap"))

    payments.get_by_role("link", name="Payments").click()
    page.wait_for_selector("canvas[data-drawn]")
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == 5
    for index in range(canvases.count()):
        canvas = canvases.nth(index)
        assert canvas.get_attribute("data-drawn"), f"chart {index} did not draw"
        assert canvas.evaluate(CANVAS_INK) > 500, f"chart {index} is empty"
    assert "points" in page.locator(".tile").first.inner_text()
    assert "It cannot show why" in page.locator("[data-explains=perception]").inner_text()
    assert "as long" in page.locator("p[data-same-size]").inner_text()
    _not_blank(screenshot(page, "insights-team"))

    with page.expect_download() as download:
        page.get_by_role("link", name="All periods (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == EXPORT_FIELDS
    assert len(rows) - 1 == TeamPeriod.objects.filter(team__slug="payments").count()
    assert page.console_errors == []


def test_a_team_with_no_closed_period_says_what_is_missing(
    page: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    call_command("seed_demo")
    TeamPeriod.objects.filter(team__slug="payments").delete()
    _log_in(page, live_server.url, "omar")
    page.goto(f"{live_server.url}/teams/payments/insights/")
    assert page.locator("[data-empty=no-periods]").is_visible()
    assert page.locator("canvas").count() == 0
    assert page.console_errors == []
