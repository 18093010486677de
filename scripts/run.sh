#!/usr/bin/env bash
# Runs the Candor quickstart in the foreground: the Django development server, a Celery
# worker and Celery beat. Ctrl-C (or SIGTERM) stops all three; if any one of them exits,
# the others are stopped too. `make run` calls this after migrating and seeding.
#
# Environment: PORT (default 8000), HOST (default 127.0.0.1); everything else
# (DATABASE_URL, REDIS_URL, CANDOR_DATA_DIR, ...) reaches the processes untouched.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
VENV="${VENV:-.venv}"
export CANDOR_BASE_URL="${CANDOR_BASE_URL:-http://${HOST}:${PORT}}"
export PYTHONUNBUFFERED=1

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "run.sh: $VENV/bin/python not found; run 'make install' first." >&2
    exit 1
fi

# Job control puts each service in its own process group, so the terminal's Ctrl-C reaches
# only this script (the worker would take a second SIGINT as a cold shutdown), and a service
# that ignores SIGTERM can still be killed with all of its children.
set -m

pids=()
names=()
stopping=0

start() {
    local name="$1"
    shift
    "$@" &
    pids+=("$!")
    names+=("$name")
    echo "run.sh: started $name (pid $!)"
}

stop_all() {
    ((stopping)) && return 0
    stopping=1
    # The terminal or a pipe (make run | tee) may be gone already: a write must not kill
    # this script before it has stopped the services, so signal first and talk after.
    trap '' PIPE HUP
    trap - INT TERM
    local pid
    # SIGTERM to each service's main process only: the Celery worker then stops its own pool
    # (signalling the pool directly just makes it respawn children), and runserver's
    # autoreloader stops its child.
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    echo "run.sh: stopping web, worker and beat..." 2>/dev/null || true
    # Give the worker time for a warm shutdown, then force whatever is left, group-wide.
    local waited=0
    while ((waited < 200)); do
        local alive=0
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        ((alive)) || break
        sleep 0.1
        waited=$((waited + 1))
    done
    for pid in "${pids[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    echo "run.sh: stopped." 2>/dev/null || true
}

trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 129' HUP
trap 'stop_all' EXIT

start web "$VENV/bin/python" manage.py runserver "${HOST}:${PORT}"
start worker "$VENV/bin/celery" -A config worker --loglevel=INFO --concurrency=2
start beat "$VENV/bin/celery" -A config beat --loglevel=INFO

# Wait (up to 60 s) for the web server to accept connections, then print the URL and logins.
for _ in $(seq 1 120); do
    if (exec 3<>"/dev/tcp/${HOST}/${PORT}") 2>/dev/null; then
        break
    fi
    kill -0 "${pids[0]}" 2>/dev/null || break
    sleep 0.5
done
if kill -0 "${pids[0]}" 2>/dev/null; then
    "$VENV/bin/python" manage.py seed_demo --print-logins || true
    echo "  Open ${CANDOR_BASE_URL}/ - press Ctrl-C to stop web, worker and beat."
    echo
fi

# Block until any one service exits; then stop the rest and report which one it was.
status=0
wait -n || status=$?
if ((!stopping)); then
    for i in "${!pids[@]}"; do
        if ! kill -0 "${pids[$i]}" 2>/dev/null; then
            echo "run.sh: ${names[$i]} exited (status $status); stopping the others." >&2
        fi
    done
    stop_all
    trap - EXIT
    exit $((status == 0 ? 1 : status))
fi
