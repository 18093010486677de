"""`manage.py export_retro`: the same documents as the pages, on stdout."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from surveys.retros.exports import CSV_COLUMNS
from surveys.retros.services import (
    retro_invitation_redeem,
    retro_response_submit,
    retro_session_close,
)
from tests.conftest import make_open_retro, submit_retro

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_retro", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def closed_retro():
    """Six people write two shared cards each; a seventh names two teammates in one. Of the
    13 invited, 6 do not write: as many as k or more, so the 7 may be counted."""
    open_retro = make_open_retro(size=12)
    submit_retro(open_retro, 6)
    named, mailed = open_retro.invitations[0].user, open_retro.invitations[1].user
    retro_response_submit(
        invitation=retro_invitation_redeem(raw_token=open_retro.tokens[6]),
        cards=[
            {
                "prompt": open_retro.session.prompts.first().prompt_id,
                "text": f"Paired with {named.username}, mailed {mailed.email} and @sam",
                "category": "code_review",
                "effect": "helped",
                "shared": True,
            }
        ],
    )
    retro_session_close(session_id=open_retro.session.pk)
    return open_retro


def test_it_prints_the_prompts_alone_as_markdown_at_any_time() -> None:
    open_retro = make_open_retro(size=5)
    text = _run(str(open_retro.session.pk), "--format", "md", "--prompts-only")
    assert "1. When did AI help you this sprint?" in text
    assert "4. What would you tell a teammate" in text


def test_it_prints_the_shared_cards_as_markdown(closed_retro) -> None:
    text = _run(str(closed_retro.session.pk), "--format", "md")
    assert text.count("\n- Card ") == 12
    assert "the cards of 7 people, of which 13 were shared" in text
    assert r"Paired with \[name\], mailed \[email\] and \[@mention\]" in text


def test_it_prints_csv_and_json_with_the_documented_columns(closed_retro) -> None:
    rows = list(csv.reader(io.StringIO(_run(str(closed_retro.session.pk), "--format", "csv"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 13
    data = json.loads(_run(str(closed_retro.session.pk), "--format", "json"))
    assert data["schema"] == "candor-retro-export/1"
    assert data["submissions"] == 7


def test_the_exports_carry_no_ids_times_or_names(closed_retro) -> None:
    session = closed_retro.session
    people = [i.user for i in closed_retro.invitations] + [closed_retro.facilitator]
    for export_format in ("md", "csv", "json"):
        text = _run(str(session.pk), "--format", export_format)
        assert "Paired with" in text
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text)  # no uuid
        assert not re.search(r"\d{1,2}:\d{2}", text)  # no time of day
        assert not re.search(r'"\w*id"\s*:', text)  # no id field
        for person in people:
            assert person.username not in text
            assert person.email not in text


def test_it_exports_no_cards_before_k_people_have_written_then_publishes_like_the_board() -> None:
    open_retro = make_open_retro(size=6)
    submit_retro(open_retro, 4)
    with pytest.raises(CommandError, match="at least 5 people have written"):
        _run(str(open_retro.session.pk), "--format", "md")
    submit_retro(open_retro, 1, first=4)
    assert _run(str(open_retro.session.pk), "--format", "md").count("\n- Card ") == 10
    assert not open_retro.session.responses.filter(batch__isnull=True).exists()


def test_a_session_under_k_exports_no_cards() -> None:
    open_retro = make_open_retro(size=6)
    submit_retro(open_retro, 4)
    retro_session_close(session_id=open_retro.session.pk)
    with pytest.raises(CommandError, match=r"k = 5"):
        _run(str(open_retro.session.pk), "--format", "json")


def test_an_unknown_session_or_format_is_refused_clearly() -> None:
    with pytest.raises(CommandError, match="no retro session 999"):
        _run("999", "--format", "md")
    with pytest.raises(CommandError, match="invalid choice"):
        _run("1", "--format", "pdf")
