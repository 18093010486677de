"""An engineer answers a pulse from a link on a phone, by keyboard alone."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from surveys.pulses.models import SealedResponse
from surveys.pulses.rotation import MAX_ITEMS
from tests.browser.conftest import screenshot
from tests.conftest import make_open_run

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _answer_by_keyboard(page: Any) -> None:
    """Tab through the form; pick the first option of every unanswered group; submit."""
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || !el.name) return {kind: el && el.type ? el.type : null};
                const group = document.querySelectorAll(`input[name="${el.name}"]:checked`).length;
                return {kind: el.type, answered: group > 0};
            }"""
        )
        if focused["kind"] in ("radio", "checkbox") and not focused["answered"]:
            page.keyboard.press("Space")
        elif focused["kind"] == "submit":
            page.keyboard.press("Enter")
            return
    raise AssertionError("never reached the submit button by keyboard")


def test_an_engineer_answers_from_a_link_by_keyboard_on_a_phone(
    page: Any, live_server: Any
) -> None:
    open_run = make_open_run(size=5)
    link = f"{live_server.url}/p/{open_run.tokens[0]}/"
    page.goto(link)
    assert page.locator("fieldset").count() == MAX_ITEMS

    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden])')]
                 .filter(input => input.labels.length === 0).length"""
    )
    assert unlabelled == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375

    _answer_by_keyboard(page)
    page.wait_for_selector("text=your answers are in")
    shot = screenshot(page, "pulse-answered")
    colours = Image.open(shot).convert("L").getextrema()
    assert colours[1] - colours[0] > 50, "the confirmation screenshot is blank"
    assert SealedResponse.objects.filter(run=open_run.run).count() == 1  # sealed until close

    assert page.console_errors == []

    page.goto(link)  # answers 409, which the console reports as a failed load
    assert page.locator("h1").inner_text() == "This pulse has already been answered"
