"""The export documents: Markdown, CSV and JSON with a stable schema. Pure."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from surveys.retros.exports import (
    CSV_COLUMNS,
    SCHEMA,
    ExportCard,
    ExportPrompt,
    RetroDocument,
    document_csv,
    document_data,
    document_json,
    document_markdown,
)


def document(*, with_cards: bool = True) -> RetroDocument:
    cards = (
        ExportCard("tests", "helped", "Fixtures in *minutes*"),
        ExportCard("debugging", "hurt", "Chased a [name] hallucinated API\nfor an hour"),
        ExportCard("tests", "helped", "=SUM(A1) looked like a formula"),
    )
    return RetroDocument(
        team="Payments",
        session="Sprint 42",
        sprint_start=date(2026, 11, 2),
        sprint_end=date(2026, 11, 13),
        k=5,
        cards_included=with_cards,
        submissions=7 if with_cards else None,
        prompts=(
            ExportPrompt(1, "When did AI help you this sprint?", cards if with_cards else ()),
            ExportPrompt(2, "What did you choose not to use it for, and why?"),
        ),
    )


def test_the_prompts_alone_are_a_numbered_markdown_list() -> None:
    text = document_markdown(document(with_cards=False))
    assert text.startswith("# Payments · Sprint 42: retro prompts\n")
    assert "Sprint 2 Nov 2026 – 13 Nov 2026." in text
    assert "1. When did AI help you this sprint?\n2. What did you choose not to" in text
    assert "Fixtures" not in text


def test_the_markdown_groups_shared_cards_by_prompt_then_category() -> None:
    text = document_markdown(document())
    assert "the cards of 7 people, of which 3 were shared" in text
    prompt = text.index("## 1. When did AI help")
    tests = text.index("### Tests")
    debugging = text.index("### Debugging")
    assert prompt < tests < debugging  # categories in their fixed order, not arrival order
    assert text[tests:debugging].count("\n- ") == 2
    assert "## 2. What did you choose not" in text
    assert "_No shared cards for this prompt._" in text


def test_card_text_cannot_inject_markdown_or_break_a_list_item() -> None:
    text = document_markdown(document())
    assert r"- Fixtures in \*minutes\* _(helped)_" in text
    assert r"Chased a \[name\] hallucinated API for an hour _(hurt or slowed me down)_" in text


def test_the_json_follows_the_documented_schema() -> None:
    data = json.loads(document_json(document()))
    assert data == document_data(document())
    assert list(data) == [
        "schema",
        "team",
        "session",
        "sprint",
        "k",
        "submissions",
        "shared_cards_included",
        "prompts",
    ]
    assert data["schema"] == SCHEMA
    assert data["sprint"] == {"start": "2026-11-02", "end": "2026-11-13"}
    first = data["prompts"][0]
    assert [card["category"] for card in first["cards"]] == ["tests", "tests", "debugging"]
    assert set(first["cards"][0]) == {
        "category",
        "category_label",
        "effect",
        "effect_label",
        "text",
    }
    assert first["cards"][2]["effect_label"] == "Hurt or slowed me down"


def test_the_json_of_the_prompts_alone_has_the_same_shape_without_cards() -> None:
    data = document_data(document(with_cards=False))
    assert data["submissions"] is None
    assert data["shared_cards_included"] is False
    assert all(prompt["cards"] == [] for prompt in data["prompts"])


def test_the_csv_has_one_row_per_shared_card_and_defuses_formulas() -> None:
    rows = list(csv.reader(io.StringIO(document_csv(document()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 3
    texts = [row[-1] for row in rows[1:]]
    assert "'=SUM(A1) looked like a formula" in texts
    assert "Chased a [name] hallucinated API\nfor an hour" in texts


def test_the_csv_of_the_prompts_alone_has_one_row_per_prompt() -> None:
    rows = list(csv.reader(io.StringIO(document_csv(document(with_cards=False)))))
    assert [row[:2] for row in rows[1:]] == [
        ["1", "When did AI help you this sprint?"],
        ["2", "What did you choose not to use it for, and why?"],
    ]
    assert all(cell == "" for row in rows[1:] for cell in row[2:])
