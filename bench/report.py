"""The one report writer: printed tables, goal checks, README snippets, results/latest.json.

Each benchmark describes what it measured as a Report — sections of lines, tables and
goals to print, the blocks of its README snippet, its part of the JSON and whether it ran
clean — and this module lays them out alike for all three: tables padded to their
columns (text) or as GitHub tables (Markdown), goals as PASS/MISS lines, the machine a
README snippet was measured on, and every part in one results/latest.json.
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.databases import Backend

INDENT = "  "


@dataclass(frozen=True)
class Goal:
    label: str
    passed: bool
    detail: str

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "MISS"


@dataclass(frozen=True)
class Column:
    title: str
    width: int = 0  # printed: padded to this; 0: free text after two spaces (the last column)
    align: str = ">"  # "<" or ">"; in Markdown "---" or "---:"


@dataclass(frozen=True)
class Table:
    """Cells already formatted. A printed row shorter than the columns ends in free text
    (why a step has no figures)."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Goals:
    goals: Sequence[Goal]


@dataclass(frozen=True)
class Section:
    """A heading and, indented under it, lines, tables, goals and sections."""

    heading: str
    blocks: Sequence[Block] = ()


Block = str | Table | Goals | Section


@dataclass(frozen=True)
class Report:
    key: str  # its part of results/latest.json
    title: str  # what the README snippet is of
    sections: Sequence[Section]  # printed
    markdown: Sequence[str | Table]  # the README snippet, blank lines between blocks; () none
    document: dict[str, Any]  # its part of results/latest.json
    ok: bool  # ran clean: every step finished and every integrity check held


# --- figures as text ---------------------------------------------------------------------


def seconds(value: float) -> str:
    return f"{value:.2f} s" if math.isfinite(value) else "—"


def times(value: float) -> str:
    """A ratio against a baseline."""
    if not math.isfinite(value):
        return "—"
    return f"{value:.1f}×" if value < 100 else f"{value:,.0f}×"


def mb(value: float) -> str:
    return f"{value:,.0f} MB" if math.isfinite(value) else "—"


def judged(goal: Goal | None, value: str) -> str:
    """A Markdown cell: the value, and whether it meets its goal when it has one."""
    return value if goal is None else f"{value} {goal.verdict}"


def skipped_note(reasons: Sequence[str]) -> str:
    return "Skipped: " + "; ".join(reasons) + "."


# --- printing ----------------------------------------------------------------------------


def _text_row(columns: Sequence[Column], cells: Sequence[str]) -> str:
    short = len(cells) < len(columns)
    text = ""
    for number, (column, cell) in enumerate(zip(columns, cells, strict=False)):
        if not column.width:
            text += INDENT + cell
            continue
        free = short and number == len(cells) - 1
        text += (" " if number else "") + (cell if free else f"{cell:{column.align}{column.width}}")
    return text.rstrip()


def table_lines(table: Table) -> list[str]:
    header = [column.title for column in table.columns]
    return [_text_row(table.columns, row) for row in (header, *table.rows)]


def goal_lines(goals: Sequence[Goal]) -> list[str]:
    width = max((len(goal.label) for goal in goals), default=0)
    return [f"{goal.verdict}  {goal.label:<{width}} {goal.detail}" for goal in goals]


def _block_lines(block: Block, indent: str) -> list[str]:
    if isinstance(block, str):
        return [indent + block]
    if isinstance(block, Table):
        return [indent + line for line in table_lines(block)]
    if isinstance(block, Goals):
        block = Section("goals:", goal_lines(block.goals))
    return [
        indent + block.heading,
        *(line for inner in block.blocks for line in _block_lines(inner, indent + INDENT)),
    ]


def section_text(section: Section) -> str:
    return "\n".join(_block_lines(section, ""))


def markdown_table(table: Table) -> list[str]:
    def row(cells: Sequence[str]) -> str:
        return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"

    rule = "|" + "".join("---:|" if c.align == ">" else "---|" for c in table.columns)
    return [row([c.title for c in table.columns]), rule, *(row(cells) for cells in table.rows)]


def markdown_text(blocks: Sequence[str | Table]) -> str:
    return "\n\n".join(
        block if isinstance(block, str) else "\n".join(markdown_table(block)) for block in blocks
    )


def show(report: Report) -> None:
    """Print the report's sections, then its README snippet."""
    for section in report.sections:
        print(section_text(section) + "\n", flush=True)
    if report.markdown:
        print(f"Markdown for the README ({report.title}):\n")
        print(markdown_text(report.markdown) + "\n", flush=True)


# --- the machine and the JSON ------------------------------------------------------------


def environment() -> dict[str, Any]:
    return {
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.platform(terse=True),
        "python": platform.python_version(),
    }


def machine() -> str:
    """What a README snippet was measured on, and when."""
    env = environment()
    return f"{env['cpus']} CPUs, Python {env['python']}, {env['date'][:10]}"


def backend_json(backend: Backend) -> dict[str, str]:
    return {"name": backend.name, "label": backend.label}


def goals_json(goals: Sequence[Goal]) -> list[dict[str, Any]]:
    return [asdict(goal) for goal in goals]


def write_json(path: Path, reports: Sequence[Report]) -> None:
    """results/latest.json: the environment and each benchmark's part of this run."""
    document = {"environment": environment(), **{r.key: r.document for r in reports}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
