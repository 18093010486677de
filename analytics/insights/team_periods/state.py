"""Which team-periods are due, and who fills them: `PeriodFill` records, one per closed
run. `periods_mark` flags periods pending (a run's aggregates changed, an import finished,
the nightly sweep); `periods_fill_pending` claims each one, fills it whole (`fill.py`)
and marks it done. A fill that crashed leaves its records `filling`; the next sweep takes
them again after STALE_FILLING. Re-running changes nothing but the figures' freshness.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from analytics.insights.models import PeriodFill
from analytics.insights.team_periods.fill import team_periods_fill
from surveys.pulses.models import PulseRun, RunStatus

logger = logging.getLogger(__name__)

FILL_RUNS = 5000  # periods per fill transaction, in whole teams


MAX_ATTEMPTS = 3


STALE_FILLING = timedelta(minutes=15)


def periods_mark(
    *,
    run_ids: Iterable[int] | None = None,
    organisation_id: int | None = None,
) -> int:
    """Flag the periods of these closed runs (or of every closed run of the organisation,
    or of all) pending, in one INSERT … ON CONFLICT DO UPDATE; returns how many."""
    runs = PulseRun.objects.filter(status=RunStatus.CLOSED)
    if run_ids is not None:
        runs = runs.filter(pk__in=list(run_ids))
    if organisation_id is not None:
        runs = runs.filter(team__organisation_id=organisation_id)
    select, params = runs.order_by().values_list("id").query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(PeriodFill._meta.db_table)
    # "WHERE true": without a WHERE, SQLite would read ON CONFLICT as the join's ON.
    sql = f"""
        INSERT INTO {table} (run_id, state, attempts, changed_at, error)
        SELECT marked.id, %s, 0, %s, '' FROM ({select}) marked WHERE true
        ON CONFLICT (run_id) DO UPDATE
        SET state = excluded.state, attempts = 0, changed_at = excluded.changed_at
    """  # noqa: S608 -- names from the models, values as parameters
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(PeriodFill.State.PENDING), now, *params])
        return max(cursor.rowcount, 0)


def _chunks(pending: Mapping[int, list[int]]) -> Iterable[dict[int, list[int]]]:
    """The pending periods by team, in groups of whole teams of about FILL_RUNS runs."""
    chunk: dict[int, list[int]] = {}
    for team_id in sorted(pending):
        chunk[team_id] = pending[team_id]
        if sum(map(len, chunk.values())) >= FILL_RUNS:
            yield chunk
            chunk = {}
    if chunk:
        yield chunk


def _claim(run_ids: list[int], claimable: Q) -> tuple[dict[int, list[int]], Any]:
    """Claim these runs' claimable fills; (claimed run ids by team, the claim's stamp)."""
    stamp = timezone.now()
    PeriodFill.objects.filter(claimable, run_id__in=run_ids).update(
        state=PeriodFill.State.FILLING, attempts=F("attempts") + 1, changed_at=stamp
    )
    mine = PeriodFill.objects.filter(
        run_id__in=run_ids, state=PeriodFill.State.FILLING, changed_at=stamp
    ).values_list("run__team_id", "run_id")
    claimed: dict[int, list[int]] = defaultdict(list)
    for team_id, run_id in mine:
        claimed[team_id].append(run_id)
    return claimed, stamp


def _settle(run_ids: list[int], stamp: Any, error: Exception | None) -> None:
    """Mark claimed fills done, or after a failure pending again (failed after
    MAX_ATTEMPTS) with the error. Fills marked pending again meanwhile stay pending."""
    mine = PeriodFill.objects.filter(
        run_id__in=run_ids, state=PeriodFill.State.FILLING, changed_at=stamp
    )
    now = timezone.now()
    if error is None:
        mine.update(state=PeriodFill.State.DONE, error="", changed_at=now)
        return
    message = f"{type(error).__name__}: {error}"[:2000]
    mine.filter(attempts__gte=MAX_ATTEMPTS).update(
        state=PeriodFill.State.FAILED, error=message, changed_at=now
    )
    mine.filter(attempts__lt=MAX_ATTEMPTS).update(
        state=PeriodFill.State.PENDING, error=message, changed_at=now
    )


def _fill(claimed: dict[int, list[int]], stamp: Any) -> list[tuple[int, date]]:
    """Fill the claimed periods, all teams at once; if that fails, team by team, so one
    failing team does not hold back the others."""
    try:
        made = team_periods_fill(runs_by_team=claimed)
    except Exception as error:
        if len(claimed) > 1:
            return [made for team in claimed.items() for made in _fill(dict([team]), stamp)]
        team_id, run_ids = next(iter(claimed.items()))
        logger.exception("Filling the periods of team %s failed", team_id)
        _settle(run_ids, stamp, error)
        return []
    _settle([run for runs in claimed.values() for run in runs], stamp, None)
    return made


def periods_fill_pending() -> list[tuple[int, date]]:
    """Fill every pending period (and any left `filling` by a crash), whole teams of about
    FILL_RUNS periods per transaction; returns (team, period start) of each period
    filled, for the reports that depend on them (the pipeline's to refresh). One failing
    team does not hold back the others; after MAX_ATTEMPTS its periods stay `failed` with
    the error until marked again.
    """
    stale = timezone.now() - STALE_FILLING
    claimable = Q(state=PeriodFill.State.PENDING) | Q(
        state=PeriodFill.State.FILLING, changed_at__lt=stale
    )
    pending: dict[int, list[int]] = defaultdict(list)
    for team_id, run_id in PeriodFill.objects.filter(claimable).values_list(
        "run__team_id", "run_id"
    ):
        pending[team_id].append(run_id)
    made: list[tuple[int, date]] = []
    for chunk in _chunks(pending):
        claimed, stamp = _claim([run for runs in chunk.values() for run in runs], claimable)
        if claimed:  # else another worker has them
            made += _fill(claimed, stamp)
    return made
