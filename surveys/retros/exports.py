"""The retro as documents to paste wherever the retro happens: Markdown, CSV and JSON.

Pure: a `RetroDocument` (built by surveys/retros/board.py with the published cards, their
texts already scrubbed and shuffled) in, text out. The schema is stable and documented in
the README; it carries no ids, no times and nothing about who wrote what.

JSON (`candor-retro-export/1`):
    {"schema", "team", "session", "sprint": {"start", "end"}, "k",
     "submissions" (the people whose cards are included; null when prompts only, and
        when it would count fewer than k people: see surveys/retros/participation.py),
     "shared_cards_included",
     "prompts": [{"number", "text",
                  "cards": [{"category", "category_label", "effect", "effect_label", "text"}]}]}
CSV: one row per shared card (one per prompt, card columns empty, when prompts only),
    columns CSV_COLUMNS.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from surveys.retros.models import CardEffect, TaskCategory

SCHEMA = "candor-retro-export/1"
CSV_COLUMNS = (
    "prompt_number",
    "prompt",
    "category",
    "category_label",
    "effect",
    "effect_label",
    "text",
)
FORMATS = ("md", "csv", "json")
CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportCard:
    category: str
    effect: str
    text: str

    @property
    def category_label(self) -> str:
        return str(TaskCategory(self.category).label)

    @property
    def effect_label(self) -> str:
        return str(CardEffect(self.effect).label)


@dataclass(frozen=True)
class ExportPrompt:
    number: int
    text: str
    cards: tuple[ExportCard, ...] = ()

    def by_category(self) -> list[tuple[str, list[ExportCard]]]:
        """The cards grouped by task category, in the categories' fixed order; within a
        group, the order they came in (shuffled by the selector)."""
        groups: dict[str, list[ExportCard]] = {}
        for card in self.cards:
            groups.setdefault(card.category, []).append(card)
        return [
            (str(category.label), groups[category.value])
            for category in TaskCategory
            if category.value in groups
        ]


@dataclass(frozen=True)
class RetroDocument:
    team: str
    session: str
    sprint_start: date
    sprint_end: date
    k: int
    prompts: tuple[ExportPrompt, ...]
    cards_included: bool = False  # False: the prompts alone
    # people whose cards are in, where it may be shown (Participation.people); else None
    submissions: int | None = None
    # the session closed with cards of fewer than k people written since the last batch:
    # those are never shown (how many is not said)
    held_back: bool = False

    @property
    def shared_count(self) -> int:
        return sum(len(prompt.cards) for prompt in self.prompts)


def _sprint(document: RetroDocument) -> str:
    start, end = document.sprint_start, document.sprint_end
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def _md(text: str) -> str:
    """One line of Markdown that renders as the text itself (no links, HTML or markup)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def document_markdown(document: RetroDocument) -> str:
    if not document.cards_included:
        return _prompts_markdown(document)
    held_back = (
        f" Cards written later are held back: fewer than k = {document.k} people wrote them."
        if document.held_back
        else ""
    )
    people = (
        f"{document.submissions} people"
        if document.submissions is not None
        else f"{document.k} or more people"
    )
    lines = [
        f"# {_md(document.team)} · {_md(document.session)}: retro cards",
        "",
        f"Sprint {_sprint(document)}. Published: the cards of {people}, of which "
        f"{document.shared_count} were shared for the retro.{held_back} Anonymous: no names, "
        "times or order; email addresses, @mentions and team members' names are masked.",
    ]
    for prompt in document.prompts:
        lines += ["", f"## {prompt.number}. {_md(prompt.text)}", ""]
        groups = prompt.by_category()
        if not groups:
            lines.append("_No shared cards for this prompt._")
        for label, cards in groups:
            lines += [f"### {label}", ""]
            lines += [f"- {_md(card.text)} _({card.effect_label.lower()})_" for card in cards]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _prompts_markdown(document: RetroDocument) -> str:
    categories = ", ".join(str(category.label) for category in TaskCategory)
    lines = [
        f"# {_md(document.team)} · {_md(document.session)}: retro prompts",
        "",
        f"Sprint {_sprint(document)}. Write your cards in Candor before the retro; they are "
        "anonymous, and only the ones you choose to share are shown.",
        "",
        *(f"{prompt.number}. {_md(prompt.text)}" for prompt in document.prompts),
        "",
        f"Each card gets a task category ({categories}) and says whether AI helped, hurt or "
        "slowed you down, or you chose not to use it.",
    ]
    return "\n".join(lines) + "\n"


def document_data(document: RetroDocument) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "team": document.team,
        "session": document.session,
        "sprint": {
            "start": document.sprint_start.isoformat(),
            "end": document.sprint_end.isoformat(),
        },
        "k": document.k,
        "submissions": document.submissions,
        "shared_cards_included": document.cards_included,
        "prompts": [
            {
                "number": prompt.number,
                "text": prompt.text,
                "cards": [
                    {
                        "category": card.category,
                        "category_label": card.category_label,
                        "effect": card.effect,
                        "effect_label": card.effect_label,
                        "text": card.text,
                    }
                    for _, cards in prompt.by_category()
                    for card in cards
                ],
            }
            for prompt in document.prompts
        ],
    }


def document_json(document: RetroDocument) -> str:
    return json.dumps(document_data(document), ensure_ascii=False, indent=2) + "\n"


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def document_csv(document: RetroDocument) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for prompt in document_data(document)["prompts"]:
        head = [prompt["number"], _cell(prompt["text"])]
        if not document.cards_included:
            writer.writerow([*head, "", "", "", "", ""])
        for card in prompt["cards"]:
            writer.writerow(
                [
                    *head,
                    card["category"],
                    card["category_label"],
                    card["effect"],
                    card["effect_label"],
                    _cell(card["text"]),
                ]
            )
    return buffer.getvalue()


def document_render(document: RetroDocument, export_format: str) -> str:
    """The document in one of FORMATS."""
    renderers = {"md": document_markdown, "csv": document_csv, "json": document_json}
    return renderers[export_format](document)
