"""Deployments and incidents from CSV, for organisations whose releases are not tags
(pure: text in, records out; every problem named with its line).

deployments.csv — columns:
  repository   required  the repository's name in Candor
  deployed_at  required  ISO 8601 with a time zone, e.g. 2026-03-02T14:05:00Z
  id           optional  your deployment id; makes re-imports update instead of add
  environment  optional  default "production"; only production deployments count
incidents.csv — columns:
  repository   required
  opened_at    required  ISO 8601 with a time zone
  resolved_at  optional  empty while open
  id           optional  your incident id
  title        optional
Unknown columns are refused (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

DEPLOYMENT_COLUMNS = {"repository": True, "deployed_at": True, "id": False, "environment": False}
INCIDENT_COLUMNS = {
    "repository": True,
    "opened_at": True,
    "resolved_at": False,
    "id": False,
    "title": False,
}
MAX_ROWS = 200_000
# The longest value each column may hold (the database's limits); the title is cut.
MAX_LENGTHS = {"repository": 200, "id": 200, "environment": 100}


class CsvFormatError(ValueError):
    """The file cannot be imported; the message names the line and the column."""


@dataclass(frozen=True)
class ParsedDeployment:
    line: int
    repository: str
    deployed_at: datetime
    external_id: str
    environment: str


@dataclass(frozen=True)
class ParsedIncident:
    line: int
    repository: str
    opened_at: datetime
    resolved_at: datetime | None
    external_id: str
    title: str


def _time(value: str, line: int, column: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CsvFormatError(f"line {line}: {column} {value!r} is not an ISO 8601 time") from None
    if parsed.utcoffset() is None:
        raise CsvFormatError(f"line {line}: {column} {value!r} has no time zone (add Z or +01:00)")
    try:
        parsed.astimezone(UTC)  # stored in UTC (PostgreSQL takes no offset over 15:59)
    except OverflowError:
        raise CsvFormatError(f"line {line}: {column} {value!r} is out of range") from None
    return parsed


def _rows(text: str, columns: dict[str, bool]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as error:
        raise CsvFormatError(f"line 1: {error}") from None
    if not header:
        raise CsvFormatError("line 1: the file is empty; it needs a header row")
    unknown = sorted(set(header) - set(columns))
    missing = sorted(name for name, required in columns.items() if required and name not in header)
    if unknown or missing:
        problems = [
            f"unknown column(s) {', '.join(unknown)}" if unknown else "",
            f"missing {', '.join(missing)}" if missing else "",
        ]
        raise CsvFormatError(
            f"line 1: {'; '.join(p for p in problems if p)} (columns: {', '.join(columns)})"
        )
    reader.fieldnames = header
    try:
        for count, row in enumerate(reader, start=1):
            if count > MAX_ROWS:
                raise CsvFormatError(f"more than {MAX_ROWS} rows; split the file")
            if None in row:
                raise CsvFormatError(f"line {reader.line_num}: more fields than columns")
            values = {key: (value or "").strip() for key, value in row.items()}
            for name, longest in MAX_LENGTHS.items():
                if len(values.get(name, "")) > longest:
                    raise CsvFormatError(
                        f"line {reader.line_num}: {name} is longer than {longest} characters"
                    )
            for name, required in columns.items():
                if required and not values.get(name):
                    raise CsvFormatError(f"line {reader.line_num}: {name} is empty")
            yield reader.line_num, values
    except csv.Error as error:
        raise CsvFormatError(f"line {reader.line_num}: {error}") from None


def _decode(data: str | bytes) -> str:
    """The file's text; refused whole if it is not UTF-8 or holds a NUL, which no text
    column can store (PostgreSQL refuses it)."""
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CsvFormatError(f"the file is not UTF-8 (byte {error.start})") from None
    if (nul := text.find("\x00")) != -1:
        raise CsvFormatError(f"line {text.count(chr(10), 0, nul) + 1}: a NUL byte")
    return text


def _fallback_id(*parts: str) -> str:
    return "row-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def parse_deployments_csv(data: str | bytes) -> list[ParsedDeployment]:
    parsed = []
    for line, row in _rows(_decode(data), DEPLOYMENT_COLUMNS):
        when = _time(row["deployed_at"], line, "deployed_at")
        parsed.append(
            ParsedDeployment(
                line=line,
                repository=row["repository"],
                deployed_at=when.astimezone(UTC),
                external_id=row.get("id") or _fallback_id(row["repository"], when.isoformat()),
                environment=(row.get("environment") or "production").lower(),
            )
        )
    return parsed


def parse_incidents_csv(data: str | bytes) -> list[ParsedIncident]:
    parsed = []
    for line, row in _rows(_decode(data), INCIDENT_COLUMNS):
        opened = _time(row["opened_at"], line, "opened_at")
        resolved = (
            _time(row["resolved_at"], line, "resolved_at") if row.get("resolved_at") else None
        )
        if resolved is not None and resolved < opened:
            raise CsvFormatError(f"line {line}: resolved_at is before opened_at")
        parsed.append(
            ParsedIncident(
                line=line,
                repository=row["repository"],
                opened_at=opened.astimezone(UTC),
                resolved_at=resolved.astimezone(UTC) if resolved else None,
                external_id=row.get("id") or _fallback_id(row["repository"], opened.isoformat()),
                title=(row.get("title") or "")[:300],
            )
        )
    return parsed
