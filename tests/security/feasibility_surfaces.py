"""The feasibility attack's reader: every figure a viewer is shown about a (run, question)
group, read from the pages, the API and the CSV exports as published — JSON floats as
themselves, printed numbers with their rounding, the released precision beside a mean —
then joined across surfaces and handed to the solver (tests/security/feasibility.py) as
the release's figures (`Released`: the mean's cell on a grid of twice the precision, the
interval a "t" or a "bound" one).

Derived figures are modelled as such: a construct's score (run and team results,
team-periods, the heatmap) is the mean of its items' released figures mapped, so it is
checked against that function of the stored releases (`check_derived`) and used as a
constraint only where it is one item's release on another unit (a construct of a single
item). The shares are checked to be unions of whole bins, the trust gap to be the
function of the two shares it is; the trust table is solved with it all the same.

Routes come from tests/security/anon_surfaces.py's enumeration of the URL resolver. A JSON
answer, and any JSON a page embeds, is read by one generic walk that knows the figures by
their field names (FIELD NAMES below: the one place to adjust when the release layer renames
or adds fields); a page's printed figures by a parser per page; every other route is
classified with a reason, and `unclassified` lists a new route until it is.

What the attacker knows besides the surfaces: the question bank and which questions a run
asked (every respondent sees both on the form), and the bin rule (DESIGN.md §2).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.test import Client
from django.urls import resolve

from analytics.insights.aggregation.queries import (
    AI_TRUST_A_LOT,
    AI_TRUST_KEY,
    AI_USAGE_KEY,
    AI_USAGE_WEEKLY,
)
from analytics.insights.stats import PERCENT_BUCKETS
from analytics.insights.views import CHARTS
from surveys.anonymity import ordered_bins
from surveys.pulses.models import PERCENT_STEPS, Construct, Question, QuestionKind
from tests.security.anon_surfaces import NOT_DATA, routes
from tests.security.feasibility import (
    PERCENT_LADDER,
    SCALE_LADDER,
    Bin,
    Estimate,
    Finding,
    Group,
    Interval,
    RangeFact,
    Released,
    Solution,
    TrustSolution,
    TrustTable,
    grids_for,
    joined,
    solve,
    solve_trust,
    subset_name,
    trust_figures,
)

# --- FIELD NAMES: how the surfaces name their figures ------------------------------------------


@dataclass(frozen=True)
class Names:
    """The fields of one kind of figure object (None: that surface has no such field). No
    surface publishes an SD any more; its field is still read, and an SD found is used as
    the exact figure it is (and reported)."""

    mean: str | None
    precision: str | None
    sd: str | None
    ci_low: str | None
    ci_high: str | None
    n: str | None


QUESTION_FIELDS = Names(
    mean="mean", precision="precision", sd="sd", ci_low="ci_low", ci_high="ci_high", n="n"
)
CONSTRUCT_FIELDS = QUESTION_FIELDS
HEATMAP_CELL_FIELDS = Names(
    mean="mean", precision=None, sd=None, ci_low="low", ci_high="high", n="n"
)
# A team-period row's construct figures (its n: the run's respondents, or the item's own).
PERIOD_CONSTRUCTS = {
    Construct.PERCEIVED_SPEED: Names(
        "perceived", None, "perceived_sd", "perceived_low", "perceived_high", "respondents"
    ),
    Construct.PSYCHOLOGICAL_SAFETY: Names(
        "safety", None, "safety_sd", "safety_low", "safety_high", "safety_n"
    ),
}
UNIT = "unit"  # a construct's unit ("index", "percent"), where a surface names it
DISTRIBUTION = ("distribution", "label", "count")  # list field, its label and count fields
RESPONDENTS = "respondents"
TRUST_FIELDS = {  # the trust gap's figures wherever they appear
    "gap": "trust_gap",
    "gap_low": "trust_gap_low",
    "gap_high": "trust_gap_high",
    "n": "trust_gap_n",
    "weekly_share": "ai_weekly_share",
    "trusting_share": "ai_trust_share",
}
# A JSON float stands for itself, up to float noise (a figure derived from released ones
# is a mean of mapped floats).
MEAN_TOLERANCE = 1e-9
SPREAD_TOLERANCE = 1e-6

# --- routes ------------------------------------------------------------------------------------

# Read and parsed: the JSON walk for JSON, a parser per page for HTML, the CSV walk for CSV.
PARSED = {
    "api-runs": "run ids, teams, periods and k (to tie team-period figures to a run)",
    "api-run-results": "questions (n, mean, SD, CI, bins), constructs, shares, trust gap",
    "api-team-results": "constructs per run, shares, trust gap",
    "api-team-questions": "each question's n, mean and CI per run",
    "api-team-periods": "perceived speed and its CI, shares, trust gap with its CI and n",
    "api-heatmap": "each construct's latest mean, CI and n, with its period",
    "run-results": "the run page: means and CIs to one decimal, n, bins, constructs, shares",
    "team-results": "the team page: question means and CIs per run, construct tables, gaps",
    "team-insights": "the periods JSON it embeds for its charts (exact), as the API",
    "team-report": "the same embedded periods JSON",
    "team-insights-csv": "the periods as CSV (exact floats)",
}
# Read by nobody here, with why: no survey figure of a run's group in them.
NOT_FIGURES = {
    "schema": "the API schema",
    "swagger-ui": "the API docs page",
    "api-teams": "team names",
    "api-team-delivery": "Git metrics",
    "api-team-correlations": "coefficients over team-periods, not a group's answers",
    "api-invitation": "a link's own form",
    "api-invitation-response": "a link's own answer",
    "api-my-pulses": "one's own open pulses",
    "api-my-pulse": "one's own open pulse",
    "api-questions": "the question bank (known to the attacker anyway)",
    "api-team-retros": "retro sessions",
    "api-team-retro-heatmap": "retro card counts (unordered: attack 1's count rule)",
    "api-retro": "a retro session",
    "api-retro-close": "closing a retro",
    "api-retro-board": "retro cards",
    "api-retro-export": "retro cards and prompts (Markdown, CSV, JSON, PDF)",
    "api-retro-invitation": "a retro link",
    "api-retro-invitation-submission": "a retro link's own cards",
    "api-my-retros": "one's own retros",
    "api-my-retro": "one's own retro",
    "api-retro-prompts": "prompts",
    "api-retro-prompt-sets": "prompt sets",
    "home": "the start page",
    "healthz": "a health check",
    "pulse-answer": "a link's own form",
    "my-pulses": "one's own open pulses",
    "my-pulse-answer": "one's own form",
    "retro-write": "a retro link's form",
    "my-retros": "one's own retros",
    "retro-session": "a retro session",
    "my-retro-write": "one's own retro form",
    "retro-session-close": "closing a retro",
    "retro-session-print": "retro cards to print",
    "retro-session-export": "retro cards and prompts (Markdown, CSV, JSON, PDF)",
    "team-retros": "retro sessions",
    "retro-session-new": "a form",
}
# Survey figures the reader does not parse, with why: the report lists them.
UNPARSED = {
    "dashboard": "each team's latest construct means to 0 decimals: the run page's, coarser",
    "insights": "the heatmap page: api-heatmap's cells to 0 decimals",
    "insights-csv": "the heatmap CSV: construct means by team name with no period to tie "
    "them to a run (api-heatmap has the same cells with their period)",
    "alerts": "the safety index (several items per person) of alerting periods",
    "api-alerts": "the same",
    "api-team-rollups": "pooled over a subtree's runs of a week, released with Laplace noise "
    "of unbounded support (analytics.insights.noise): it rules out no count "
    "vector; test_a_roll_up_of_one_run_pins_no_count_and_keeps_its_noise attacks it",
}


def unclassified() -> list[str]:
    """Routes neither read nor classified: a new surface, to be parsed or classified."""
    known = PARSED.keys() | NOT_FIGURES.keys() | UNPARSED.keys() | NOT_DATA.keys()
    return sorted(r.name or r.template for r in routes() if r.name not in known)


# --- observations ------------------------------------------------------------------------------

Where = int | tuple[str, str]  # a run id, or (team slug, period start) to tie to one


@dataclass(frozen=True)
class Figures:
    """One surface's figures about one group, on the surface's unit, each as the interval
    of values it stands for (the published value, not widened by its precision: that is
    `precision`, the published half-width of the mean's cell)."""

    n: int | None = None
    mean: Interval | None = None
    sd: Interval | None = None
    ci_low: Interval | None = None
    ci_high: Interval | None = None
    bins: tuple[tuple[str, int | None], ...] | None = None
    precision: Interval | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Observation:
    surface: str
    kind: str  # "question", "construct", "trust"
    where: Where | None
    subject: str  # question key, construct, or trust figure name
    figures: Figures | None = None
    value: Interval | None = None  # a trust figure
    count: int | None = None  # trust_gap_n, respondents


@dataclass(frozen=True)
class RunInfo:
    run: int
    team: str
    period_start: str
    k: int


@dataclass
class Reading:
    """Everything one viewer was shown."""

    observations: list[Observation] = field(default_factory=list)
    runs: dict[int, RunInfo] = field(default_factory=dict)
    surfaces: Counter[str] = field(default_factory=Counter)  # bodies read per route
    unmapped: Counter[str] = field(default_factory=Counter)  # figures with no run

    def run_of(self, where: Where | None) -> int | None:
        if where is None or isinstance(where, int):
            return where
        found = [i.run for i in self.runs.values() if (i.team, i.period_start) == where]
        return found[0] if len(found) == 1 else None


# --- reading figures out of values -------------------------------------------------------------


def json_figure(node: Mapping[str, Any], name: str | None, tolerance: float) -> Interval | None:
    """A JSON figure as the interval it stands for (None: absent or withheld)."""
    if name is None:
        return None
    value = node.get(name)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return Interval.exact(float(value), rel=MEAN_TOLERANCE, absolute=tolerance)


def _count(node: Mapping[str, Any], name: str | None) -> int | None:
    value = node.get(name) if name else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def json_figures(node: Mapping[str, Any], names: Names) -> Figures:
    bins = None
    listed, label, count = DISTRIBUTION
    if isinstance(node.get(listed), list):
        bins = tuple((str(row.get(label)), row.get(count)) for row in node[listed])
    unit = node.get(UNIT)
    return Figures(
        n=_count(node, names.n),
        mean=json_figure(node, names.mean, MEAN_TOLERANCE),
        sd=json_figure(node, names.sd, SPREAD_TOLERANCE),
        ci_low=json_figure(node, names.ci_low, SPREAD_TOLERANCE),
        ci_high=json_figure(node, names.ci_high, SPREAD_TOLERANCE),
        bins=bins,
        precision=json_figure(node, names.precision, MEAN_TOLERANCE),
        unit=unit if isinstance(unit, str) else None,
    )


def _has_figures(figures: Figures) -> bool:
    return any(
        f is not None for f in (figures.mean, figures.sd, figures.ci_low, figures.ci_high)
    ) or bool(figures.bins)


@dataclass(frozen=True)
class _Context:
    team: str | None = None
    run: int | None = None
    question: str | None = None


class JsonWalk:
    """Every figure in a JSON document, by field name, with the run it belongs to: a run
    object (`run: {id, …}`) above it, or its team (the URL's, or a `team` field) and its
    `period_start`."""

    def __init__(self, surface: str, reading: Reading, bank: Mapping[str, Question]) -> None:
        self.surface, self.reading, self.bank = surface, reading, bank

    def walk(self, node: Any, context: _Context) -> None:
        if isinstance(node, list):
            for item in node:
                self.walk(item, context)
            return
        if not isinstance(node, dict):
            return
        context = self._context(node, context)
        here: Where | None = context.run
        if here is None and context.team and isinstance(node.get("period_start"), str):
            here = (context.team, node["period_start"])
        self._figures(node, context, here)
        for key, value in node.items():
            if key != "run" and isinstance(value, dict | list):
                self.walk(value, context)

    def _context(self, node: dict[str, Any], context: _Context) -> _Context:
        run = node.get("run")
        if isinstance(run, dict):
            self._run(run)
            if isinstance(run.get("id"), int):
                context = replace(context, run=run["id"])
        if {"id", "team", "period_start", "k"} <= node.keys():
            self._run(node)
        if isinstance(node.get("team"), str):
            context = replace(context, team=node["team"])
        if node.get("key") in self.bank:
            context = replace(context, question=node["key"])
        return context

    def _run(self, node: Mapping[str, Any]) -> None:
        if all(isinstance(node.get(f), int | str) for f in ("id", "team", "period_start", "k")):
            info = RunInfo(node["id"], node["team"], node["period_start"], int(node["k"]))
            self.reading.runs[info.run] = info

    def _add(self, kind: str, where: Where | None, subject: str, **data: Any) -> None:
        if where is None:
            self.reading.unmapped[f"{self.surface}: {kind} {subject}"] += 1
            return
        self.reading.observations.append(Observation(self.surface, kind, where, subject, **data))

    def _figures(self, node: dict[str, Any], context: _Context, here: Where | None) -> None:
        question = node.get("key") if node.get("key") in self.bank else None
        if question is None and context.question and "run" in node:
            question = context.question  # a point of a question's trend
        if question is not None:
            figures = json_figures(node, QUESTION_FIELDS)
            if _has_figures(figures):
                self._add("question", here, question, figures=figures)
        construct = node.get("construct")
        if isinstance(construct, str) and construct in Construct.values:
            names = HEATMAP_CELL_FIELDS if "low" in node else CONSTRUCT_FIELDS
            figures = json_figures(node, names)
            if _has_figures(figures):
                self._add("construct", here, construct, figures=figures)
        for construct, names in PERIOD_CONSTRUCTS.items():
            if names.mean in node:
                figures = json_figures(node, names)
                if _has_figures(figures):
                    self._add("construct", here, construct, figures=figures)
        for figure, name in TRUST_FIELDS.items():
            if figure == "n":
                count = _count(node, name)
                if count is not None:
                    self._add("trust", here, figure, count=count)
                continue
            value = json_figure(node, name, SPREAD_TOLERANCE)
            if value is not None:
                self._add("trust", here, figure, value=value)
        if any(name in node for name in TRUST_FIELDS.values()):
            respondents = _count(node, RESPONDENTS)
            if respondents is not None:
                self._add("trust", here, "respondents", count=respondents)


# --- pages -------------------------------------------------------------------------------------

NUMBER = r"[-+−]?\d+(?:\.\d+)?"
PLUS_MINUS = rf'(?: <span class="muted">± (?P<pm>{NUMBER})</span>)?'


def printed(text: str) -> Interval:
    """A printed number as the interval it stands for: its last decimal's rounding."""
    text = text.replace("−", "-").replace("+", "")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return Interval.printed(float(text), decimals)


def _estimate_pattern() -> str:
    """`<strong>m</strong> <span class="muted">± p</span> <span class="muted">(95 % CI l to
    h, n = N)</span>` as the estimate include and the team page's question rows print it."""
    return (
        rf"<strong>(?P<mean>{NUMBER})(?: %)?</strong>{PLUS_MINUS}"
        rf"(?: <span class=\"muted\">\((?:95 % CI (?P<lo>{NUMBER}) to (?P<hi>{NUMBER}), )?"
        r"n = (?P<n>\d+)\)</span>)?"
    )


ESTIMATE = _estimate_pattern()
# A question's line on the run page: the mean with its precision and interval, or a note
# that it is withheld; then n.
RUN_QUESTION = (
    rf"<p>(?:Mean <strong>(?P<mean>{NUMBER})</strong>{PLUS_MINUS}"
    rf"(?: \(95 % CI (?P<lo>{NUMBER}) to (?P<hi>{NUMBER})\))? · )?"
    r"(?:<span class=\"muted\">Mean not shown[^<]*</span> · )?n = (?P<n>\d+)</p>"
)
CONSTRUCT_LABELS = {str(label): value for value, label in Construct.choices}
CHART_CONSTRUCTS = {str(title): str(construct) for construct, title, *_ in CHARTS}


def _printed_figures(match: re.Match[str], bins: tuple | None = None) -> Figures:
    groups = match.groupdict()
    return Figures(
        n=int(groups["n"]) if groups.get("n") else None,
        mean=printed(groups["mean"]) if groups.get("mean") else None,
        ci_low=printed(groups["lo"]) if groups.get("lo") else None,
        ci_high=printed(groups["hi"]) if groups.get("hi") else None,
        bins=bins,
        precision=printed(groups["pm"]) if groups.get("pm") else None,
    )


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _page_date(text: str) -> str | None:
    try:
        return datetime.strptime(text.strip(), "%d %b %Y").date().isoformat()  # noqa: DTZ007
    except ValueError:
        return None


class Pages:
    """The printed figures of the result pages."""

    def __init__(self, surface: str, reading: Reading, bank: Mapping[str, Question]) -> None:
        self.surface, self.reading = surface, reading
        self.by_text = {html.unescape(q.text): key for key, q in bank.items()}
        self.walk = JsonWalk(surface, reading, bank)

    def add(self, kind: str, where: Where | None, subject: str, **data: Any) -> None:
        self.walk._add(kind, where, subject, **data)

    def embedded_json(self, body: str, team: str | None) -> None:
        """JSON a page embeds for its charts (`json_script`): read as the API is."""
        for block in re.findall(
            r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', body, re.S
        ):
            try:
                self.walk.walk(json.loads(block), _Context(team=team))
            except json.JSONDecodeError:
                self.reading.unmapped[f"{self.surface}: unreadable embedded JSON"] += 1

    def run_results(self, body: str, run: int) -> None:
        k = re.search(r"· k = (\d+)</p>", body)
        headline = re.search(r"<p>n = (\d+)(.*?)</p>", body)
        if k and headline and run not in self.reading.runs:
            self.reading.runs[run] = RunInfo(run, "", "", int(k.group(1)))
        if headline:
            self.add("trust", run, "respondents", count=int(headline.group(1)))
            self._trust(run, int(headline.group(1)), headline.group(2))
        for item in re.finditer(r"<li>([^<]+): " + ESTIMATE, body):
            construct = CONSTRUCT_LABELS.get(html.unescape(item.group(1)).strip())
            if construct:
                self.add("construct", run, construct, figures=_printed_figures(item))
        for section in body.split('<section class="card question-result">')[1:]:
            title = re.search(r"<h3>(.*?)</h3>", section, re.S)
            key = self.by_text.get(_text(title.group(1))) if title else None
            if key is None:
                self.reading.unmapped[f"{self.surface}: a question section"] += 1
                continue
            mean = re.search(RUN_QUESTION, section)
            rows = re.findall(
                r'<tr><th scope="row">(.*?)</th>.*?<td class="(count|count-hidden)">(.*?)</td>',
                section,
                re.S,
            )
            bins = tuple(
                (_text(label), int(_text(count)) if kind == "count" else None)
                for label, kind, count in rows
            )
            if mean:
                self.add("question", run, key, figures=_printed_figures(mean, bins or None))

    def _trust(self, run: int, respondents: int, text: str) -> None:
        gap = re.search(rf"trust gap ({NUMBER}) points", text)
        if not gap:
            return
        self.add("trust", run, "respondents", count=respondents)
        self.add("trust", run, "gap", value=printed(gap.group(1)))
        shares = re.search(rf"({NUMBER}) % use [^,]*, ({NUMBER}) % trust", text)
        if shares:
            self.add("trust", run, "weekly_share", value=printed(shares.group(1)))
            self.add("trust", run, "trusting_share", value=printed(shares.group(2)))

    def team_results(self, body: str, team: str) -> None:
        for figure in re.findall(r'<figure class="card chart">(.*?)</figure>', body, re.S):
            caption = re.search(r"<figcaption>(.*?)</figcaption>", figure, re.S)
            construct = CHART_CONSTRUCTS.get(_text(caption.group(1))) if caption else None
            for row in re.finditer(r'<th scope="row">([^<]+)</th><td>' + ESTIMATE, figure):
                start = _page_date(row.group(1))
                if construct and start:
                    self.add("construct", (team, start), construct, figures=_printed_figures(row))
        for row in re.finditer(
            r'<a href="/runs/(\d+)/">[^<]*</a></th>\s*<td>[^<]*</td>\s*<td>n = (\d+)[^<]*</td>'
            r"\s*<td>(.*?)</td>",
            body,
            re.S,
        ):
            self._trust(int(row.group(1)), int(row.group(2)), "trust gap " + row.group(3))
        for block in body.split('<details class="card">')[1:]:
            summary = re.search(r"<summary>(.*?)</summary>", block, re.S)
            key = self.by_text.get(_text(summary.group(1))) if summary else None
            if key is None:
                continue
            for row in re.finditer(
                r'<a href="/runs/(\d+)/">[^<]*</a></th>\s*<td>' + ESTIMATE, block
            ):
                self.add("question", int(row.group(1)), key, figures=_printed_figures(row))


def read_json(
    surface: str, document: Any, reading: Reading, bank: Any, team: str | None = None
) -> None:
    """A JSON document (an API answer, or JSON a page embeds) into `reading`."""
    JsonWalk(surface, reading, bank).walk(document, _Context(team=team))


def read_csv(surface: str, body: str, team: str | None, reading: Reading, bank: Any) -> None:
    """A CSV export: each row as a JSON object of its columns (empty: withheld)."""
    rows = [
        {key: (value if value != "" else None) for key, value in row.items()}
        for row in csv.DictReader(io.StringIO(body))
    ]
    numeric = [{key: _number(value) for key, value in row.items()} for row in rows]
    JsonWalk(surface, reading, bank).walk(numeric, _Context(team=team))


def _number(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


# --- reading a world ---------------------------------------------------------------------------


def read(
    viewer: Any, url_groups: Mapping[str, Sequence[str]], bank: Mapping[str, Question]
) -> Reading:
    """Every parsed (and every unclassified) route's URLs, read as the viewer."""
    reading = Reading()
    client = Client()
    if viewer is not None:
        client.force_login(viewer)
    skip = NOT_FIGURES.keys() | UNPARSED.keys() | NOT_DATA.keys()
    for name, urls in url_groups.items():
        if name in skip:
            continue
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                continue
            reading.surfaces[name] += 1
            body = response.content.decode()
            kwargs = resolve(url.split("?")[0]).kwargs
            team, run = kwargs.get("slug"), kwargs.get("run_id")
            kind = response.get("Content-Type", "")
            if "json" in kind:
                JsonWalk(name, reading, bank).walk(json.loads(body), _Context(team=team, run=run))
            elif "csv" in kind:
                read_csv(name, body, team, reading, bank)
            elif "html" in kind:
                pages = Pages(name, reading, bank)
                pages.embedded_json(body, team)
                if name == "run-results" and run is not None:
                    pages.run_results(body, run)
                elif name == "team-results" and team is not None:
                    pages.team_results(body, team)
    return reading


# --- from observations to the solver's groups --------------------------------------------------


def steps_of(question: Question) -> list[int]:
    """The values a respondent can pick on the form (a percentage: the form's steps)."""
    if question.kind == QuestionKind.PERCENT:
        return [v for v in PERCENT_STEPS if question.scale_min <= v <= question.scale_max]
    return list(range(question.scale_min, question.scale_max + 1))


def category_labels(question: Question) -> list[str]:
    if question.kind == QuestionKind.PERCENT:
        return [label for label, _, _ in PERCENT_BUCKETS]
    steps = range(question.scale_min, question.scale_max + 1)
    return list(question.labels) or [str(step) for step in steps]


def categories_of(question: Question) -> tuple[tuple[int, ...], ...] | None:
    if question.kind != QuestionKind.PERCENT:
        return None
    steps = steps_of(question)
    return tuple(
        tuple(i for i, v in enumerate(steps) if low <= v <= high)
        for _, low, high in PERCENT_BUCKETS
    )


def bins_of(question: Question, shown: Sequence[tuple[str, int | None]]) -> tuple[Bin, ...]:
    """Published bins ("A", "A – C") as category ranges, in order."""
    labels = category_labels(question)
    found: list[Bin] = []
    at = 0
    for label, count in shown:
        last = next(
            (
                j
                for j in range(at, len(labels))
                if label == (labels[at] if j == at else f"{labels[at]} – {labels[j]}")
            ),
            None,
        )
        if last is None or count is None:
            raise ValueError(f"bin {label!r} of {question.key} is not a run of its steps")
        found.append(Bin(at, last, count))
        at = last + 1
    if at != len(labels):
        raise ValueError(f"the bins of {question.key} do not cover its scale")
    return tuple(found)


def score_map(question: Question) -> tuple[float, float, tuple[float, float]]:
    """(a, b, clip): a construct's unit value is a·x + b of the answer x (docs/DESIGN.md
    §4: reverse-scored where marked, mapped to 0–100; a percentage as it is)."""
    if question.kind != QuestionKind.SCALE:
        return 1.0, 0.0, (float(question.scale_min), float(question.scale_max))
    low, high = question.scale_min, question.scale_max
    step = 100.0 / (high - low)
    a, b = (-step, high * step) if question.reverse_scored else (step, -low * step)
    return a, b, (0.0, 100.0)


def unit_of(question: Question) -> str:
    """The unit its construct is scored on (`batch.column_of`)."""
    return "index" if question.kind == QuestionKind.SCALE else "percent"


def ladder_of(question: Question) -> tuple[tuple[float, str], ...]:
    return PERCENT_LADDER if question.kind == QuestionKind.PERCENT else SCALE_LADDER


def numeric(question: Question) -> bool:
    return question.kind in (QuestionKind.SCALE, QuestionKind.PERCENT)


def construct_items(
    run: int, construct: str, unit: str | None, asked: Mapping[int, Sequence[str]], bank: Any
) -> list[str]:
    """The numeric items of a construct (of one unit, or any) that the run asked."""
    return [
        key
        for key in asked.get(run, ())
        if key in bank
        and bank[key].construct == construct
        and numeric(bank[key])
        and (unit is None or unit_of(bank[key]) == unit)
    ]


def _joined_figures(found: Iterable[Figures]) -> tuple[set[int], Figures]:
    sizes: set[int] = set()
    mean = sd = low = high = precision = None
    bins: tuple[tuple[str, int | None], ...] | None = None
    for figures in found:
        if figures.n is not None:
            sizes.add(figures.n)
        mean, sd = joined(mean, figures.mean), joined(sd, figures.sd)
        low, high = joined(low, figures.ci_low), joined(high, figures.ci_high)
        precision = joined(precision, figures.precision)
        if figures.bins:
            if bins is not None and bins != figures.bins:
                raise ValueError(f"two surfaces show different bins: {bins} and {figures.bins}")
            bins = figures.bins
    return sizes, Figures(
        mean=mean, sd=sd, ci_low=low, ci_high=high, bins=bins, precision=precision
    )


def _unmapped(interval: Interval | None, a: float, b: float) -> Interval | None:
    """The values x with a·x + b in the interval."""
    if interval is None:
        return None
    ends = sorted(((interval.lo - b) / a, (interval.hi - b) / a))
    return Interval(ends[0], ends[1])


def released_of(question: Question, figures: Figures) -> Released | None:
    """A question's released mean and interval as read (None: no mean shown)."""
    if figures.mean is None:
        return None
    return Released(
        mean=figures.mean,
        grids=grids_for(figures.precision, ladder_of(question)),
        low=float(question.scale_min),
        high=float(question.scale_max),
        ci_low=figures.ci_low,
        ci_high=figures.ci_high,
    )


def item_release(question: Question, unit: Figures) -> Released | None:
    """A construct of this single item, read back as the item's release: the construct is
    a·mean + b of it, its interval the mapped ends (swapped when reverse-scored), its
    precision |a| times the item's."""
    if unit.mean is None:
        return None
    a, b, _ = score_map(question)
    low, high = (unit.ci_low, unit.ci_high) if a > 0 else (unit.ci_high, unit.ci_low)
    precision = _unmapped(unit.precision, abs(a), 0.0)
    return Released(
        mean=_unmapped(unit.mean, a, b) or unit.mean,
        grids=grids_for(precision, ladder_of(question)),
        low=float(question.scale_min),
        high=float(question.scale_max),
        ci_low=_unmapped(low, a, b),
        ci_high=_unmapped(high, a, b),
    )


@dataclass(frozen=True)
class Cell:
    """One (run, question) group as the solver sees it, and where it was read."""

    run: int
    key: str
    group: Group
    labels: tuple[str, ...]


@dataclass(frozen=True)
class TrustCell:
    run: int
    table: TrustTable


def cells(
    reading: Reading,
    bank: Mapping[str, Question],
    asked: Mapping[int, Sequence[str]],
    surfaces: Iterable[str] | None = None,
) -> tuple[list[Cell], list[TrustCell], Counter[str]]:
    """The groups the observations of `surfaces` (all: None) publish, joined across them.
    Also what could not be used, counted by why."""
    wanted = None if surfaces is None else set(surfaces)
    notes: Counter[str] = Counter()
    questions: dict[tuple[int, str], list[Figures]] = {}
    constructs: dict[tuple[int, str], list[Figures]] = {}
    trust: dict[int, dict[str, Any]] = {}
    for seen in reading.observations:
        if wanted is not None and seen.surface not in wanted:
            continue
        run = reading.run_of(seen.where)
        if run is None:
            notes[f"{seen.surface}: {seen.kind} with no run"] += 1
            continue
        if seen.kind == "question" and seen.figures:
            questions.setdefault((run, seen.subject), []).append(seen.figures)
        elif seen.kind == "construct" and seen.figures:
            constructs.setdefault((run, seen.subject), []).append(seen.figures)
        elif seen.kind == "trust":
            figures = trust.setdefault(run, {})
            if seen.value is not None:
                figures[seen.subject] = joined(figures.get(seen.subject), seen.value)
            if seen.count is not None:
                figures[seen.subject] = seen.count
    # A construct of one item in its run is that item's release on another unit: a group
    # of its own even where the question's figures are not shown. A construct of several
    # items is a function of their releases, and no constraint beyond theirs.
    for run, construct in constructs:
        items = construct_items(run, construct, None, asked, bank)
        if len(items) == 1:
            questions.setdefault((run, items[0]), [])
        elif items:
            notes["a construct of several items: derived, checked, not solved with"] += 1
    found: list[Cell] = []
    for (run, key), figures_list in sorted(questions.items()):
        question = bank[key]
        if question.kind == QuestionKind.MULTI:
            notes["multiple choice: no mean to solve with"] += 1
            continue
        info = reading.runs.get(run)
        if info is None:
            notes["no k known for the run"] += 1
            continue
        cell = _cell(
            run, question, figures_list, constructs, trust.get(run, {}), info.k, asked, bank
        )
        if isinstance(cell, str):
            notes[cell] += 1
        else:
            if any(e.sd is not None for e in cell.group.estimates):
                notes["an SD is published (solved with as exact)"] += 1
            found.append(cell)
    sizes = {(cell.run, cell.key): cell.group.sizes for cell in found}
    trust_cells = []
    for run, figures in sorted(trust.items()):
        info = reading.runs.get(run)
        n = figures.get("n", figures.get("respondents"))
        if (
            info is None
            or n is None
            or not any(figures.get(f) is not None for f in ("gap", "gap_low", "gap_high"))
        ):
            continue
        # The shares are of each question's n; the pairs are those who answered both, the
        # same people only when both questions have the pairs' n.
        of = [sizes.get((run, key)) for key in (AI_USAGE_KEY, AI_TRUST_KEY)]
        if any(found_sizes not in (None, (n,)) for found_sizes in of):
            notes["trust gap: the two questions' n differ from the pairs'"] += 1
            continue
        table = TrustTable(
            k=info.k,
            n=n,
            gap=figures.get("gap"),
            gap_low=figures.get("gap_low"),
            gap_high=figures.get("gap_high"),
            weekly_share=figures.get("weekly_share"),
            trusting_share=figures.get("trusting_share"),
        )
        trust_cells.append(TrustCell(run, table))
    return found, trust_cells, notes


def _cell(
    run: int,
    question: Question,
    figures_list: list[Figures],
    constructs: Mapping[tuple[int, str], list[Figures]],
    trust: Mapping[str, Any],
    k: int,
    asked: Mapping[int, Sequence[str]],
    bank: Mapping[str, Question],
) -> Cell | str:
    sizes, figures = _joined_figures(figures_list)
    clip = (float(question.scale_min), float(question.scale_max))
    releases = [released_of(question, figures)]
    estimates = [Estimate(sd=figures.sd, clip=clip)]  # an SD, were one published
    if construct_items(run, question.construct, None, asked, bank) == [question.key]:
        unit_figures = [
            f
            for f in constructs.get((run, question.construct), [])
            if f.unit in (None, unit_of(question))
        ]
        if unit_figures:
            construct_sizes, unit = _joined_figures(unit_figures)
            if not sizes or not construct_sizes or construct_sizes == sizes:
                sizes |= construct_sizes
                releases.append(item_release(question, unit))
                a, b, unit_clip = score_map(question)
                estimates.append(Estimate(sd=unit.sd, a=a, b=b, clip=unit_clip))
    bins = bins_of(question, figures.bins) if figures.bins else None
    if not sizes and bins is not None:
        sizes = {sum(b.count for b in bins)}  # n withheld, but the bins add up to it
    if not sizes and isinstance(trust.get("respondents"), int):
        sizes = {trust["respondents"]}  # every respondent answers every question of a run
    if len(sizes) != 1:
        return "no n published for a question" if not sizes else "conflicting n"
    values = steps_of(question)
    ranges = []
    for key, threshold, share in (
        (AI_USAGE_KEY, AI_USAGE_WEEKLY, "weekly_share"),
        (AI_TRUST_KEY, AI_TRUST_A_LOT, "trusting_share"),
    ):
        if question.key == key and trust.get(share) is not None:
            first = values.index(threshold)
            ranges.append(RangeFact(first, len(values) - 1, share=trust[share]))
    group = Group(
        values=tuple(values),
        k=k,
        sizes=tuple(sorted(sizes)),
        bins=bins,
        categories=categories_of(question),
        estimates=tuple(e for e in estimates if e.known()),
        ranges=tuple(ranges),
        releases=tuple(r for r in releases if r is not None),
    )
    return Cell(run, question.key, group, tuple(f"{v}" for v in _step_labels(question)))


def _step_labels(question: Question) -> list[str]:
    if question.kind == QuestionKind.PERCENT:
        return [f"{v:+d} %" if v else "0 %" for v in steps_of(question)]
    labels = category_labels(question)
    return [f"{label} ({step})" for label, step in zip(labels, steps_of(question), strict=True)]


# --- the attack --------------------------------------------------------------------------------


@dataclass
class Tally:
    cells: int = 0
    pinned: int = 0
    skipped: int = 0
    inherent: int = 0
    infeasible: int = 0  # no count vector fits: a wrong model of the publication
    excluded: int = 0  # the true answers do not fit: a wrong model of the publication
    tables: int = 0  # of the cells, trust gaps' 2 × 2 tables
    tables_pinned: int = 0
    derived: int = 0  # figures checked against the release (`check_derived`)
    underived: int = 0  # ... that are neither a released figure nor a function of them
    findings: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        return (
            f"feasibility {name}: {self.cells} cells, {self.pinned} pinned, "
            f"{self.skipped} skipped, {self.inherent} inherent, {self.infeasible} infeasible, "
            f"{self.excluded} excluding the truth (trust tables: {self.tables} cells, "
            f"{self.tables_pinned} pinned; figures checked against the release: {self.derived}, "
            f"{self.underived} not released nor derived from it)"
        )


_SOLVED: dict[tuple[Group, int | None], Solution] = {}
_TRUSTED: dict[tuple[TrustTable, int | None], TrustSolution] = {}


def solved(group: Group, own: int | None = None) -> Solution:
    key = (group, own)
    if key not in _SOLVED:
        _SOLVED[key] = solve(group, own)
    return _SOLVED[key]


def solved_trust(table: TrustTable, own: int | None = None) -> TrustSolution:
    key = (table, own)
    if key not in _TRUSTED:
        _TRUSTED[key] = solve_trust(table, own)
    return _TRUSTED[key]


@dataclass(frozen=True)
class ItemRelease:
    """A question's released figures in one run, as stored (QuestionAggregate)."""

    n: int
    mean: float | None
    low: float | None
    high: float | None
    precision: float | None


@dataclass(frozen=True)
class Truth:
    """What the experimenter knows and the attacker does not: the true counts, and every
    question's release as stored (which a viewer may see only part of)."""

    counts: Mapping[tuple[int, str], Mapping[int, int]]  # (run, key) → value → people
    pairs: Mapping[int, Mapping[int, int]]  # run → trust cell → people
    released: Mapping[tuple[int, str], ItemRelease] = field(default_factory=dict)
    respondents: Mapping[int, int] = field(default_factory=dict)  # run → respondents


# --- derived figures: functions of the released ones -------------------------------------------


def construct_figures(
    items: Sequence[tuple[Question, ItemRelease]],
) -> tuple[int, float, float, float, float] | None:
    """(n, mean, low, high, precision) of a construct from its items' releases, as
    `release.construct_release` documents it: the mean of the mapped released means, of
    the mapped interval ends (swapped when reverse-scored) and of the mapped precisions,
    over the items with a mean; n the largest item n. None when no item has a mean."""
    mapped = []
    for question, item in items:
        if item.mean is None or item.low is None or item.high is None:
            continue
        a, b, _ = score_map(question)
        ends = sorted((a * item.low + b, a * item.high + b))
        mapped.append((item.n, a * item.mean + b, *ends, abs(a) * (item.precision or 0.0)))
    if not mapped:
        return None
    count = len(mapped)
    return (
        max(m[0] for m in mapped),
        *(math.fsum(m[i] for m in mapped) / count for i in (1, 2, 3, 4)),
    )  # type: ignore[return-value]


def _bins_start_at(counts: Sequence[int], k: int, first: int) -> bool:
    """Whether steps first.. (to the top) are a union of whole published bins."""
    return first == 0 or any(steps.start == first for steps in ordered_bins(list(counts), k))


def check_derived(
    reading: Reading,
    bank: Mapping[str, Question],
    asked: Mapping[int, Sequence[str]],
    truth: Truth,
    surfaces: Iterable[str] | None = None,
) -> tuple[int, list[str]]:
    """Every figure the observations of `surfaces` show, checked against the release: a
    question's against its stored release (QuestionAggregate); a derived one against the
    function of released figures it should be — a construct's (run results, team results,
    team-periods, heatmap) against its items' stored releases, a share against its item's
    counts, shown only as a union of whole bins, the trust gap against the two shares. A
    figure that is neither is a channel the per-question audit never saw. Returns (figures
    checked, failures)."""
    wanted = None if surfaces is None else set(surfaces)
    checked, failures = 0, []
    trust: dict[int, dict[str, list[Interval | int]]] = {}
    for seen in reading.observations:
        if wanted is not None and seen.surface not in wanted:
            continue
        run = reading.run_of(seen.where)
        if run is None:
            continue
        if seen.kind == "trust":
            value = seen.value if seen.value is not None else seen.count
            if value is not None:
                trust.setdefault(run, {}).setdefault(seen.subject, []).append(value)
            continue
        if seen.figures is None or seen.kind not in ("question", "construct"):
            continue
        checked += 1
        if seen.kind == "question":
            problem = _question_problem(run, seen.subject, seen.figures, truth)
        else:
            problem = _construct_problem(run, seen.subject, seen.figures, asked, bank, truth)
        if problem:
            failures.append(f"UNDERIVED {seen.surface} run {run} {seen.subject}: {problem}")
    for run, figures in sorted(trust.items()):
        checked += 1
        info = reading.runs.get(run)
        problem = _trust_problem(run, figures, truth, info.k if info else None, bank)
        if problem:
            failures.append(f"UNDERIVED run {run} trust figures: {problem}")
    return checked, failures


def _question_problem(run: int, key: str, figures: Figures, truth: Truth) -> str | None:
    """A question's figures as read against its stored release (a surface that showed
    anything else — an exact mean, an SD — would be a channel the audit never saw)."""
    item = truth.released.get((run, key))
    if item is None:
        return "shown, but no release is stored"
    pairs = (
        (figures.mean, item.mean),
        (figures.ci_low, item.low),
        (figures.ci_high, item.high),
        (figures.precision, item.precision),
    )
    for shown, value in pairs:
        if shown is not None and (value is None or value not in shown):
            return f"{figures} is not its release {item}"
    if figures.sd is not None or (figures.n is not None and figures.n != item.n):
        return f"{figures} is not its release {item}"
    return None


def _construct_problem(
    run: int,
    construct: str,
    figures: Figures,
    asked: Mapping[int, Sequence[str]],
    bank: Mapping[str, Question],
    truth: Truth,
) -> str | None:
    candidates = []
    for unit in ("index", "percent"):
        if figures.unit not in (None, unit):
            continue
        keys = construct_items(run, construct, unit, asked, bank)
        items = [
            (bank[key], truth.released[(run, key)]) for key in keys if (run, key) in truth.released
        ]
        expected = construct_figures(items)
        if expected is not None:
            candidates.append(expected)
    if not candidates:
        return "shown, but no item of it has a released mean"
    for n, mean, low, high, precision in candidates:
        pairs = (
            (figures.mean, mean),
            (figures.ci_low, low),
            (figures.ci_high, high),
            (figures.precision, precision),
        )
        # A team-period's perceived speed is shown with the run's respondents as its n.
        sizes = (n, truth.respondents.get(run))
        if (
            all(shown is None or value in shown for shown, value in pairs)
            and figures.sd is None
            and (figures.n is None or figures.n in sizes)
        ):
            return None
    return f"{figures} is not f(released items) = {candidates}"


def _trust_problem(
    run: int,
    figures: Mapping[str, list[Interval | int]],
    truth: Truth,
    k: int | None,
    bank: Mapping[str, Question],
) -> str | None:
    shares = {}
    for name, key, threshold in (
        ("weekly_share", AI_USAGE_KEY, AI_USAGE_WEEKLY),
        ("trusting_share", AI_TRUST_KEY, AI_TRUST_A_LOT),
    ):
        shown = [f for f in figures.get(name, []) if isinstance(f, Interval)]
        if not shown:
            continue
        counts = truth.counts.get((run, key), {})
        item = truth.released.get((run, key))
        if item is None or k is None:
            return f"{name} shown for a question with no release"
        question_steps = steps_of(bank[key])
        scale = [counts.get(v, 0) for v in question_steps]
        yes = sum(c for v, c in counts.items() if v >= threshold)
        if not _bins_start_at(scale, k, question_steps.index(threshold)):
            return f"{name} shown, but its steps are not a union of whole bins"
        if any(100 * yes / item.n not in f for f in shown):
            return f"{name} {shown} is not {yes} of {item.n}"
        shares[name] = (yes, item.n)
    gap = {name: figures.get(name, []) for name in ("gap", "gap_low", "gap_high")}
    if not any(gap.values()):
        return None
    if len(shares) != 2:
        return "a trust gap shown without both shares: not a function of shown figures"
    (weekly, weekly_n), (trusting, trusting_n) = shares["weekly_share"], shares["trusting_share"]
    expected = trust_figures(weekly, weekly_n, trusting, trusting_n)
    for (name, shown), value in zip(gap.items(), expected, strict=True):
        if any(isinstance(f, Interval) and value not in f for f in shown):
            return f"{name} {shown} is not {value} (from the shares)"
    if any(n != min(weekly_n, trusting_n) for n in figures.get("n", [])):
        return f"trust_gap_n {figures['n']} is not min({weekly_n}, {trusting_n})"
    return None


def _where(cell_run: int, reading: Reading) -> str:
    info = reading.runs.get(cell_run)
    return f"run {cell_run}" + (f" ({info.team} {info.period_start})" if info and info.team else "")


def attack_cells(
    name: str,
    reading: Reading,
    found: Sequence[Cell],
    trust_cells: Sequence[TrustCell],
    truth: Truth,
    own: bool,
    derived: tuple[int, list[str]] = (0, []),
) -> Tally:
    """Solve every cell (from the outside, or as each respondent could) and tally, with
    the check of the derived figures (`check_derived`) the same surfaces show."""
    tally = Tally(derived=derived[0], underived=len(derived[1]))
    tally.findings += [f"{name}: {failure}" for failure in derived[1]]
    usage: dict[int, tuple[Cell, Solution]] = {}
    trusting: dict[int, tuple[Cell, Solution]] = {}
    for cell in found:
        tally.cells += 1
        vector = [truth.counts.get((cell.run, cell.key), {}).get(v, 0) for v in cell.group.values]
        base = solved(cell.group)
        if cell.key == AI_USAGE_KEY:
            usage[cell.run] = (cell, base)
        if cell.key == AI_TRUST_KEY:
            trusting[cell.run] = (cell, base)
        results = (
            [base]
            if not own
            else [solved(cell.group, step) for step, count in enumerate(vector) if count]
        )
        _count_cell(tally, name, cell, reading, base, results, vector)
    for trust_cell in trust_cells:
        _count_trust(
            tally, name, reading, trust_cell, _with_counts(trust_cell, usage, trusting), truth, own
        )
    return tally


def _count_trust(
    tally: Tally,
    name: str,
    reading: Reading,
    trust_cell: TrustCell,
    table: TrustTable,
    truth: Truth,
    own: bool,
) -> None:
    tally.cells += 1
    tally.tables += 1
    cells_true = truth.pairs.get(trust_cell.run, {})
    vector = tuple(cells_true.get(i, 0) for i in range(4))
    base = solved_trust(table)
    results = (
        [base] if not own else [solved_trust(table, i) for i, people in enumerate(vector) if people]
    )
    where = _where(trust_cell.run, reading)
    if not base.feasible:
        tally.infeasible += 1
        tally.findings.append(f"UNSOUND {name} {where} trust gap: no 2×2 table fits")
        return
    if vector not in base.tables_fit and sum(vector) == table.n:
        tally.excluded += 1
        tally.findings.append(
            f"UNSOUND {name} {where} trust gap: the true table {vector} does not fit"
        )
    leaks = [(r.own, leak) for r in results for leak in r.pinned]
    if leaks:
        tally.pinned += 1
        tally.tables_pinned += 1
        own_cell, (subset, count) = leaks[0]
        mine = "" if own_cell is None else f" (knowing mine: {subset_name([own_cell])})"
        tally.findings.append(
            f"{name} {where} trust gap (n = {table.n}){mine}: pinned {count} {subset}; "
            f"{len(base.tables_fit)} tables fit, true {list(vector)}"
        )
    if any(r.inherent for r in results):
        tally.inherent += 1


def _with_counts(
    trust_cell: TrustCell,
    usage: Mapping[int, tuple[Cell, Solution]],
    trusting: Mapping[int, tuple[Cell, Solution]],
) -> TrustTable:
    """The 2 × 2 table joined with the two questions' own distributions: the counts of
    weekly users and of trusting people they allow."""
    table = trust_cell.table
    for solutions, name, threshold in (
        (usage, "weekly_counts", AI_USAGE_WEEKLY),
        (trusting, "trusting_counts", AI_TRUST_A_LOT),
    ):
        if trust_cell.run not in solutions:
            continue
        cell, solution = solutions[trust_cell.run]
        if not solution.feasible or solution.skipped or solution.sizes != (table.n,):
            continue
        values = cell.group.values
        counts = solution.values.get((values.index(threshold), len(values) - 1))
        if counts is not None:
            table = replace(table, **{name: counts})
    return table


def _count_cell(
    tally: Tally,
    name: str,
    cell: Cell,
    reading: Reading,
    base: Solution,
    results: Sequence[Solution],
    vector: Sequence[int],
) -> None:
    where = f"{_where(cell.run, reading)} {cell.key} (n = {cell.group.sizes[0]})"
    if any(r.skipped for r in results) or base.skipped:
        tally.skipped += 1
        reason = next(r.skipped for r in (base, *results) if r.skipped)
        tally.findings.append(f"{name} {where}: skipped, {reason}")
        return
    if not base.feasible:
        tally.infeasible += 1
        tally.findings.append(f"UNSOUND {name} {where}: no count vector fits {cell.group}")
        return
    if sum(vector) and not base.admits(vector, cell.group):
        tally.excluded += 1
        tally.findings.append(f"UNSOUND {name} {where}: the true counts {list(vector)} do not fit")
    pinned = [(r.own, f) for r in results for f in r.pinned]
    if pinned:
        tally.pinned += 1
        # The plainest to show: a step's own count, then the narrowest run of steps.
        own_step, finding = min(
            pinned, key=lambda p: (p[1].complement, p[1].last - p[1].first, p[1].count)
        )
        mine = "" if own_step is None else f" (knowing mine: {cell.labels[own_step]})"
        tally.findings.append(
            f"{name} {where}{mine}: pinned {_described(finding, cell)}; "
            f"{results[0].vectors} vectors fit, true {list(vector)}"
        )
    if any(r.inherent for r in results):
        tally.inherent += 1


def _described(finding: Finding, cell: Cell) -> str:
    return finding.describe(cell.labels)
