# Candor developer tasks. Everything runs from the project's own .venv.
#
#   make run      install, migrate, seed the demo and start web + worker + beat
#   make test     the whole pytest suite (pass extra arguments with PYTEST_ARGS="-k foo")
#   make test-dates  the tests that read the clock, under libfaketime at 16 dates, hours and zones
#   make lint     ruff check, ruff format --check, mypy, the import contracts (lint-imports)
#   make bench    the benchmarks (pass extra arguments with BENCH_ARGS=...)
#
# Settings come from the environment (DATABASE_URL, REDIS_URL, CANDOR_DATA_DIR, ...): this
# Makefile never sets them, so whatever you export reaches manage.py, pytest and celery as is.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The interpreter that creates the venv: python3.11 when it is on PATH, else python3.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3)

PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install run venv test test-dates lint bench vendor clean

help:
	@echo "make install  venv + migrate + seed_demo + collectstatic"
	@echo "make run      install, then runserver on 127.0.0.1:\$$PORT (default 8000), celery worker and beat"
	@echo "make venv     create .venv and pip install -e '.[dev]' (only when pyproject.toml changed)"
	@echo "make test     pytest (PYTEST_ARGS=... for extra arguments)"
	@echo "make test-dates  pytest -m dates under faketime: 7 days x 2 times, UTC-12 to UTC+14, DST"
	@echo "make lint     ruff check, ruff format --check, mypy, lint-imports (import contracts)"
	@echo "make bench    python -m bench (BENCH_ARGS=... for extra arguments)"
	@echo "make clean    remove data/ and .venv"

# --- the virtual environment -------------------------------------------------------------

$(PY):
	@if ! "$(PYTHON)" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then \
		echo "Candor needs Python 3.11; '$(PYTHON)' is $$("$(PYTHON)" --version 2>&1)." >&2; \
		echo "Install python3.11 or run: make PYTHON=/path/to/python3.11 ..." >&2; \
		exit 1; \
	fi
	"$(PYTHON)" -m venv $(VENV)

# Reinstall only when pyproject.toml is newer than the stamp. The venv's python is an
# order-only prerequisite: its timestamp must not force a reinstall.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[dev]"
	@touch $@

venv: $(STAMP)

# --- the embedded quickstart -------------------------------------------------------------

install: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput

run: install
	PORT="$(PORT)" bash scripts/run.sh

# --- checks --------------------------------------------------------------------------------

test: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The tests marked `dates`, once per clock setting (libfaketime; see the script's header).
# PYTEST_ARGS replaces the `-m dates` selection, TEST_DATES the settings.
test-dates: venv
	bash scripts/test-dates.sh $(PYTEST_ARGS)

# All four run even when one fails, so one pass shows every problem. The import contracts
# ([tool.importlinter] in pyproject.toml) keep the direction of imports the README draws.
lint: venv
	@status=0; \
	echo "+ ruff check ."; $(VENV)/bin/ruff check . || status=1; \
	echo "+ ruff format --check ."; $(VENV)/bin/ruff format --check . || status=1; \
	echo "+ mypy ."; $(VENV)/bin/mypy . || status=1; \
	echo "+ lint-imports"; $(VENV)/bin/lint-imports || status=1; \
	exit $$status

bench: venv
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m bench $(BENCH_ARGS)

# Re-fetch the vendored Chart.js from the npm registry (needs npm; the file is committed).
vendor:
	bash scripts/vendor-chartjs.sh

clean:
	rm -rf data $(VENV)
