"""A facilitator starts a retro; five engineers write cards from their links on a phone;
the facilitator, without closing the session, sees the board appear and downloads the
Markdown export, which holds the shared cards and nothing that identifies anyone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from PIL import Image

from surveys.people.models import Role
from surveys.retros.models import RetroSession
from surveys.retros.services import retro_invitations_send
from tests.browser.conftest import screenshot
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PEOPLE = [
    ("priya", "Priya", "Natarajan"),
    ("jonas", "Jonas", "Weber"),
    ("mei", "Mei", "Tanaka"),
    ("diego", "Diego", "Alvarez"),
    ("noor", "Noor", "Haddad"),
]
SHARED = [
    "Copilot drafted the billing fixtures in ten minutes",
    "The assistant invented a Stripe parameter; lost an hour",
    "Wrote the refund rules by hand on purpose",
    "Ask for the tests first, then the code",
    "Paired with Jonas Weber and mailed jonas@northwind.example, thanks @mei",
]
UNSHARED = "Not for the retro: I nearly shipped a leaked key"


def _not_blank(path: Path) -> None:
    low, high = Image.open(path).convert("L").getextrema()
    assert high - low > 50, f"{path.name} is blank"


def _fits_a_phone(page: Any) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375


def _write_cards(browser: Any, link: str, index: int) -> None:
    """One engineer, in a browser of their own, writes a shared card (and the first one an
    unshared card too) for the prompt their number picks."""
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(link)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('textarea, select, input:not([type=hidden])')]
                 .filter(field => field.labels.length === 0).length"""
    )
    assert unlabelled == 0
    _fits_a_phone(page)
    slot = 1 + 2 * (index % 4)  # the first card slot of prompt 1, 2, 3, 4, then 1 again
    page.get_by_label("Your card").nth(index % 4).fill(SHARED[index])
    page.locator(f"#c{slot}-category").select_option(label="Tests")
    if index % 4 == 3:
        page.locator(f"#c{slot}").get_by_label("Helped").check()  # prompt 4 suggests none
    page.locator(f"#c{slot}").get_by_label("This card may be shown in the retro").check()
    if index == 0:
        page.locator("details.another").nth(1).locator("summary").click()
        page.locator("#c4-text").fill(UNSHARED)
        page.locator("#c4-category").select_option("security_sensitive")
    page.get_by_role("button", name="Send my cards").click()
    page.wait_for_selector("text=your cards are in")
    assert errors == []
    context.close()


def test_a_facilitator_runs_a_retro_and_exports_only_the_shared_cards(
    page: Any, browser: Any, live_server: Any
) -> None:
    team = TeamFactory(name="Payments", slug="payments")
    engineers = []
    for username, first, last in PEOPLE:
        email = f"{username}@northwind.example"
        user = UserFactory(username=username, first_name=first, last_name=last, email=email)
        MembershipFactory(user=user, team=team)
        engineers.append(user)
    fran = UserFactory(username="fran", first_name="Fran", last_name="Moreau", password="pw-fran")
    MembershipFactory(user=fran, team=team, role=Role.FACILITATOR)

    # The facilitator starts a retro from the team's retro page.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("fran")
    page.get_by_label("Password").fill("pw-fran")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/teams/payments/retros/")
    page.get_by_role("link", name="Start a retro").click()
    page.get_by_label("Sprint", exact=True).fill("Sprint 42")
    _fits_a_phone(page)
    page.get_by_role("button", name="Start the retro and email the links").click()
    page.wait_for_selector("[data-board=waiting]")
    assert page.locator("[data-people]").get_attribute("data-people") == "fewer-than-k"
    session = RetroSession.objects.get()
    assert session.prompts.count() == 4

    # The links go out (the worker's job, run here) and four engineers write their cards.
    assert retro_invitations_send(session_id=session.pk) == 6
    links = {
        m.to[0]: re.search(r"https?://\S+/r/\S+/", m.body)
        .group(0)
        .replace("http://testserver", live_server.url)
        for m in mail.outbox
    }
    for index, (username, *_) in enumerate(PEOPLE[:4]):
        _write_cards(browser, links[f"{username}@northwind.example"], index)

    # After four, the facilitator sees only "fewer than 5" (as after none); after the fifth,
    # the board, while the session stays open.
    page.reload()
    assert page.locator("[data-people]").get_attribute("data-people") == "fewer-than-k"
    assert page.locator("[data-board=waiting]").is_visible()
    assert "Copilot drafted" not in page.content()
    _write_cards(browser, links[f"{PEOPLE[4][0]}@northwind.example"], 4)
    page.reload()
    page.wait_for_selector("[data-board=shown]")
    # Five of the six invited: the one who did not write is fewer than k, so "5 or more".
    assert page.locator("[data-people]").get_attribute("data-people") == "k-or-more"
    assert page.get_by_role("button", name="Close the session now").is_visible()
    assert RetroSession.objects.get().status == "open"
    board = page.locator("main").inner_text()
    for text in SHARED[:4]:
        assert text in board
    assert "Paired with [name] and mailed [email], thanks [@mention]" in board
    assert UNSHARED not in board
    _fits_a_phone(page)
    _not_blank(screenshot(page, "retro-board"))

    with page.expect_download() as download:
        page.get_by_role("link", name="Cards (Markdown)").click()
    markdown = Path(download.value.path()).read_text()
    assert markdown.startswith("# Payments · Sprint 42: retro cards")
    for text in SHARED[:4]:
        assert text in markdown
    assert r"Paired with \[name\] and mailed \[email\], thanks \[@mention\]" in markdown
    assert UNSHARED not in markdown
    for person in [*engineers, fran]:
        for identifying in (person.username, person.first_name, person.last_name, person.email):
            assert identifying.lower() not in markdown.lower()
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", markdown)  # no ids
    assert not re.search(r"\d{1,2}:\d{2}", markdown)  # no times
    assert page.console_errors == []
