#!/usr/bin/env bash
# make test-dates: the tests that read the clock, run under shifted clocks.
#
# Pulse runs open at 09:00 local on their period's Monday and close answer_window_days
# later; retros, roll-ups (ISO weeks), memberships and the heatmap window all count from
# today. A test that builds its dates from today instead of from one anchor (this week's
# Monday, a run's own period start) passes on some weekdays or hours only, and CI runs on
# whatever day a change is submitted. This script runs those tests with the clock moved by
# libfaketime (Debian's `faketime` package) to every day of one week, twice a day, in time
# zones from UTC-12 to UTC+14, plus the two days a year Europe/Berlin changes its clocks.
#
# Each setting moves the process clock (TZ) and the app's clock (CANDOR_TIME_ZONE) to the
# same zone, and shifts the time by a fixed offset (FAKETIME="+N" seconds), so every process
# a test starts (git, the worker) shares the one shifted clock, and it keeps running.
# The week is fixed, so a failure can be reproduced: Monday 28 December 2026 to Sunday
# 3 January 2027, which also crosses a month end, a year end and ISO week 53.
#
# What runs: the tests marked `dates` (pytest -m dates; the marker is set per module, so it
# moves with the files): the modules whose outcome could follow the clock and that are
# cheap enough to run 16 times: pulse windows, openings, reminders and the worker's tick
# (an in-process worker), run and retro lifecycles, memberships and churn, the weeks'
# roll-ups and team-periods, the heatmap window and alerts, the seeded demo and the
# anonymity attacks over time. Left out, though their dates come from the same fixtures:
# the browser tests (Chromium), the fault tests that start gunicorn, celery and redis
# (minutes of waiting for processes), the access matrix, schemathesis, fuzzing and the
# surface-by-surface attacks (minutes of reading that takes no date of its own), and what
# reads no clock at all (parsers, statistics, fixed dates). About 13 minutes on two cores.
# Pass other pytest arguments to choose other tests (they replace `-m dates`), and
# TEST_DATES to try other settings:
#
#   scripts/test-dates.sh tests/surveys/pulses/test_schedule.py -x
#   TEST_DATES=$'2026-12-06 23:30|Pacific/Kiritimati\n2026-12-07 07:00|Etc/GMT+12' scripts/test-dates.sh
#
# Meant for the SQLite default: a PostgreSQL or Redis server keeps its own, real clock.
# Without libfaketime it fails under CI=true, and says so and skips elsewhere.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTEST="${PYTEST:-.venv/bin/pytest}"
PYTHON="${PYTHON:-.venv/bin/python}"

# "local date and time|time zone": seven consecutive days, two times a day each, then the
# Sundays Europe/Berlin moves its clocks forward (23-hour day) and back (25-hour day).
DEFAULT_SETTINGS="\
2026-12-28 07:00|Etc/GMT+12
2026-12-28 23:30|Pacific/Kiritimati
2026-12-29 00:30|Pacific/Kiritimati
2026-12-29 09:00|Etc/GMT+12
2026-12-30 08:30|Europe/Berlin
2026-12-30 23:30|UTC
2026-12-31 09:00|UTC
2026-12-31 23:30|Pacific/Kiritimati
2027-01-01 00:30|Etc/GMT+12
2027-01-01 13:00|Europe/Berlin
2027-01-02 00:30|UTC
2027-01-02 23:30|Etc/GMT+12
2027-01-03 07:00|Europe/Berlin
2027-01-03 23:30|Pacific/Kiritimati
2027-03-28 03:30|Europe/Berlin
2026-10-25 23:30|Europe/Berlin"
SETTINGS="${TEST_DATES:-$DEFAULT_SETTINGS}"

if (($# == 0)); then
    set -- -m dates
fi

find_libfaketime() {
    local candidate
    for candidate in ${FAKETIME_LIB:-} /usr/lib/*/faketime/libfaketime.so.1 \
        /usr/lib/faketime/libfaketime.so.1 /usr/local/lib/faketime/libfaketime.so.1; do
        if [[ -f "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! LIBFAKETIME="$(find_libfaketime)"; then
    if [[ "${CI:-}" == "true" ]]; then
        echo "test-dates: FAILED: libfaketime not found (apt-get install faketime, or set FAKETIME_LIB)" >&2
        exit 1
    fi
    echo "test-dates: SKIPPED: libfaketime not found (apt-get install faketime, or set FAKETIME_LIB)" >&2
    exit 0
fi
echo "test-dates: ${LIBFAKETIME}; pytest $*"

results=()
failed=0
started=$SECONDS
while IFS='|' read -r when zone; do
    [[ -z "$when" ]] && continue
    # The offset from the real clock to that local time in that zone, taken just before
    # pytest starts: the tests begin within seconds of it.
    target="$(TZ="$zone" date -d "$when" +%s)"
    offset=$((target - $(date +%s)))
    clock=(
        env LD_PRELOAD="$LIBFAKETIME" FAKETIME="$(printf '%+d' "$offset")"
        FAKETIME_DONT_FAKE_MONOTONIC=1 TZ="$zone" CANDOR_TIME_ZONE="$zone"
        PYTHONPATH="scripts/faketime${PYTHONPATH:+:$PYTHONPATH}"
    )
    # What Python sees under that clock; it must be the day and hour asked for, or the
    # run would prove nothing.
    seen="$("${clock[@]}" "$PYTHON" -c \
        'import datetime; print(datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %a %z"))' </dev/null)"
    echo
    echo "=== test-dates: ${when} ${zone} (python sees ${seen})"
    if [[ "${seen:0:13}" != "${when:0:13}" ]]; then
        echo "test-dates: the shifted clock reads ${seen}, not ${when}" >&2
        exit 1
    fi
    run_start=$SECONDS
    if "${clock[@]}" "$PYTEST" -p no:cacheprovider -q "$@" </dev/null; then
        status="passed"
    else
        status="FAILED"
        failed=$((failed + 1))
    fi
    results+=("$(printf '%-7s %s  %-20s %s  (%d s)' "$status" "$when" "$zone" "${seen:17}" \
        $((SECONDS - run_start)))")
done <<<"$SETTINGS"

echo
echo "=== test-dates summary: ${#results[@]} clock settings, ${failed} failed, $((SECONDS - started)) s"
printf '%s\n' "${results[@]}"
((failed == 0))
