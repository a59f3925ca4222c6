# The open CERS: `make run` serves the demo, `make test` runs the tests. `make help` lists all.
#
# Everything runs from .venv, made on first use with Python 3.13 (pyenv's, per .python-version),
# or else any Python >= 3.12.2 on PATH. Set PYTHON=/path/to/python to choose one yourself.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
PY := $(VENV)/bin/python
# Written after a successful install; newer than pyproject.toml means nothing to install.
STAMP := $(VENV)/.installed

HOST ?= 127.0.0.1
PORT ?= 8000
# The services the integration run uses (CI=true or TEST_SERVICES=1); override either.
TEST_DATABASE_URL ?= postgres://root@127.0.0.1:5432/cers
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS='-k outbox -x'`.
PYTEST_ARGS ?=
# Test processes side by side (pytest-xdist): `auto` is one a core; `make test PYTEST_WORKERS=0`
# runs the suite in one process. A test module stays in one process (--dist loadfile), so the
# fixtures it shares are built once there. Running pytest directly starts no workers.
PYTEST_WORKERS ?= auto
XDIST = -n $(PYTEST_WORKERS) $(if $(filter 0,$(PYTEST_WORKERS)),,--dist loadfile)
# With PYTEST_ARGS narrowing the run, a part that selects no test (pytest's status 5) is fine.
NO_TESTS_OK = $(if $(strip $(PYTEST_ARGS)), || [ $$? -eq 5 ])

# Exit status 0 when the running interpreter is new enough: 3.12.2 has CPython's fix for
# overlapping-entry ZIP bombs, and Django 6.1 needs 3.12.
VERSION_OK := import sys; sys.exit(0 if sys.version_info >= (3, 12, 2) else 1)

# Is the integration run wanted? (CI=true, or TEST_SERVICES=1)
SERVICES_WANTED = $(if $(filter true 1,$(CI)),yes,$(if $(filter 1 true yes,$(TEST_SERVICES)),yes,))

.PHONY: help run test test-fast test-browser test-services services-check install lint format check \
	migrate seed worker beat bench bench-portal faults clean distclean

help:
	@echo "make run       install, migrate, load the demo data, serve http://$(HOST):$(PORT)/"
	@echo "make test      the fast suite (SQLite, eager tasks); with CI=true or TEST_SERVICES=1"
	@echo "               also the whole suite on PostgreSQL, integration tests with Redis"
	@echo "               and a real Celery worker; the browser tests where Chromium is installed"
	@echo "make test-browser  only the browser tests (Playwright driving Debian's Chromium)"
	@echo "make lint      ruff check and ruff format --check"
	@echo "make format    ruff format and ruff check --fix"
	@echo "make check     makemigrations --check; check --deploy against production settings"
	@echo "make worker    a Celery worker (needs REDIS_URL)"
	@echo "make beat      the Celery beat scheduler, exactly one per deployment (needs REDIS_URL)"
	@echo "make bench     the EDT and portal benchmarks on PostgreSQL (BENCH_DATABASE_URL; minutes)"
	@echo "make bench-portal  the portal pages alone (BENCH_FACILITIES=10000,200000)"
	@echo "make faults    the fault harness: worker kills, Redis restarts (PostgreSQL, redis-server)"
	@echo "make clean     remove caches and collected static files (distclean: also .venv)"

# -- the virtual environment ---------------------------------------------------------------

# Create .venv with the first interpreter that is new enough (--clear: a .venv without a working
# bin/python, e.g. made by a pyenv version since removed, is rebuilt).
$(PY):
	@python="$${PYTHON:-}"; \
	if [ -n "$$python" ]; then \
	  if ! "$$python" -c '$(VERSION_OK)' 2>/dev/null; then \
	    echo "error: PYTHON=$$python is not a working Python >= 3.12.2." >&2; exit 1; \
	  fi; \
	else \
	  for candidate in python3.13 python3.14 python3.12 python3 python; do \
	    command -v "$$candidate" >/dev/null 2>&1 || continue; \
	    if "$$candidate" -c '$(VERSION_OK)' 2>/dev/null; then python="$$candidate"; break; fi; \
	  done; \
	fi; \
	if [ -z "$$python" ]; then \
	  echo "error: no Python >= 3.12.2 found. Install Python 3.13 (for example" >&2; \
	  echo "       'pyenv install 3.13', as .python-version asks), or run" >&2; \
	  echo "       'make PYTHON=/path/to/python3.13 ...'." >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$(command -v "$$python") ($$("$$python" --version 2>&1))"; \
	"$$python" -m venv --clear $(VENV)

# Every target that uses .venv checks what the venv really runs (it may predate this rule).
.PHONY: venv-version
venv-version: $(PY)
	@if ! $(PY) -c '$(VERSION_OK)'; then \
	  echo "error: $(VENV) runs $$($(PY) --version 2>&1); Python >= 3.12.2 is needed." >&2; \
	  echo "       Remove it ('make distclean' or 'rm -rf $(VENV)') and run make again." >&2; \
	  exit 1; \
	fi

# (venv-version is order-only: it runs first but never forces a reinstall by itself.)
$(STAMP): pyproject.toml | venv-version
	$(PY) -m pip install --disable-pip-version-check --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

# -- the demo --------------------------------------------------------------------------------

migrate: install
	$(PY) manage.py migrate --no-input

# The demo's links (sign-in list, EDT header, e-mails) name the address it is served at.
seed: migrate
	CERS_SITE_URL="$${CERS_SITE_URL:-http://$(HOST):$(PORT)}" $(PY) manage.py seed_demo

run: seed
	@echo
	@echo "Serving the demo at http://$(HOST):$(PORT)/ (sign in with an account above; Ctrl-C stops)"
	CERS_SITE_URL="$${CERS_SITE_URL:-http://$(HOST):$(PORT)}" $(PY) manage.py runserver $(HOST):$(PORT)

# -- tests -----------------------------------------------------------------------------------

# The fast suite always runs on the embedded default (SQLite, tasks run eagerly), whatever
# DATABASE_URL or REDIS_URL the shell has. With CI=true or TEST_SERVICES=1 the whole suite runs
# again on PostgreSQL, in two parts: the ordinary tests (tasks still eager: they assert what a
# task did, so they need it to run in-process), then the integration tests, which add Redis and
# start a real Celery worker.
test: test-fast test-browser
ifeq ($(SERVICES_WANTED),yes)
	$(MAKE) --no-print-directory test-services
else
	@echo "(Integration tests not run: they need PostgreSQL and Redis. TEST_SERVICES=1 make test)"
endif

test-fast: install
	env -u DATABASE_URL -u REDIS_URL -u EMAIL_URL $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# The browser tests (tests/browser): Playwright drives Debian's Chromium, never a downloaded
# browser. Where Chromium is missing they are not run, and this says so; in CI they must run.
CHROMIUM ?= $(or $(CERS_CHROMIUM),$(shell command -v chromium 2>/dev/null))
test-browser: install
ifeq ($(strip $(CHROMIUM)),)
ifeq ($(CI),true)
	@echo "error: CI runs the browser tests, and Chromium was not found (apt-get install chromium," >&2
	@echo "       or set CERS_CHROMIUM=/path/to/chromium)." >&2
	@exit 1
else
	@echo "(Browser tests not run: Chromium was not found. 'apt-get install chromium', or set"
	@echo " CERS_CHROMIUM=/path/to/chromium; then 'make test-browser'.)"
endif
else
	@echo "== the browser tests: Playwright with $(CHROMIUM); screenshots in var/screenshots/"
	env -u DATABASE_URL -u REDIS_URL -u EMAIL_URL CERS_CHROMIUM='$(CHROMIUM)' \
	  $(PY) -m pytest -m browser tests/browser $(PYTEST_ARGS) $(NO_TESTS_OK)
endif

test-services: install services-check
	@echo "== the ordinary suite on PostgreSQL"
	env -u REDIS_URL -u EMAIL_URL DATABASE_URL='$(TEST_DATABASE_URL)' \
	  $(PY) -m pytest -m 'not integration and not browser' $(XDIST) $(PYTEST_ARGS) $(NO_TESTS_OK)
	@echo "== the integration suite: PostgreSQL, Redis, a Celery worker"
	env -u EMAIL_URL DATABASE_URL='$(TEST_DATABASE_URL)' REDIS_URL='$(TEST_REDIS_URL)' \
	  $(PY) -m pytest -m integration $(PYTEST_ARGS) $(NO_TESTS_OK)

# Fail early, and clearly, when a service the integration run needs does not answer.
define SERVICES_CHECK_PY
import os, sys
import psycopg, redis
errors = []
db_url, redis_url = os.environ["TEST_DATABASE_URL"], os.environ["TEST_REDIS_URL"]
if not db_url.startswith(("postgres://", "postgresql://")):
    errors.append(f"TEST_DATABASE_URL={db_url} does not name PostgreSQL")
else:
    # The test database is created next to this one; the server must answer, not the database.
    last = None
    for dbname in (None, "postgres"):
        try:
            kwargs = {"dbname": dbname} if dbname else {}
            psycopg.connect(db_url, connect_timeout=5, **kwargs).close()
            break
        except psycopg.Error as exc:
            last = last or exc
    else:
        errors.append(f"PostgreSQL at {db_url} does not answer: {str(last).strip()}")
try:
    redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=5).ping()
except redis.RedisError as exc:
    errors.append(f"Redis at {redis_url} does not answer: {exc}")
if errors:
    print("error: the integration tests need PostgreSQL and Redis:", file=sys.stderr)
    for error in errors:
        print(f"  - {error}", file=sys.stderr)
    print("Start them (.ci/run shows how), or point TEST_DATABASE_URL / TEST_REDIS_URL at "
          "running ones.", file=sys.stderr)
    sys.exit(1)
print(f"PostgreSQL ({db_url}) and Redis ({redis_url}) answer.")
endef
export SERVICES_CHECK_PY

services-check: install
	@TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' \
	  $(PY) -c "$$SERVICES_CHECK_PY"

# -- code checks -----------------------------------------------------------------------------

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The deploy check runs the production settings with what a deployment must set: a throwaway
# secret (never used to sign anything), the host name, and a real mail server (Django refuses
# the console backend, the embedded default, in production).
check: install
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py makemigrations --check --dry-run
	@echo "manage.py check --deploy --fail-level WARNING (cers.settings_production)"
	@env -u DATABASE_URL -u REDIS_URL \
	  DJANGO_SETTINGS_MODULE=cers.settings_production \
	  DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')" \
	  DJANGO_ALLOWED_HOSTS=cers.example.org \
	  EMAIL_URL='smtp://mail.cers.example.org:587/?tls=True' \
	  $(PY) manage.py check --deploy --fail-level WARNING

# -- workers ---------------------------------------------------------------------------------

define NEED_REDIS
	@if [ -z "$${REDIS_URL:-}" ]; then \
	  echo "error: REDIS_URL is not set. Without it tasks run eagerly inside the web process" >&2; \
	  echo "       and no $(1) is needed; set REDIS_URL (and DATABASE_URL) to run one." >&2; \
	  exit 1; \
	fi
endef

worker: install
	$(call NEED_REDIS,worker)
	$(PY) -m celery -A cers worker --loglevel=INFO

beat: install
	$(call NEED_REDIS,beat)
	@mkdir -p var
	$(PY) -m celery -A cers beat --loglevel=INFO --schedule=var/celerybeat-schedule

# -- housekeeping ----------------------------------------------------------------------------

# The EDT benchmarks, each beside its raw limit: the queries (RFSQ, RFQ, RCMEQ, RAIQ, RFTQ)
# and the uploads (RFSAN, RCMES, RFS), on a PostgreSQL database of their own (dropped and
# created again). About three minutes on an idle 2-core machine, several times that under
# load; BENCH_EDT_ARGS narrows it.
BENCH_DATABASE_URL ?= postgres://root@127.0.0.1:5432/cers_bench
BENCH_EDT_ARGS ?= --rfq --cme --cme-uploads 1000,5000 --rfs-uploads 1000,10000
bench: install
	env -u REDIS_URL DATABASE_URL='$(BENCH_DATABASE_URL)' $(PY) bench/bench_edt.py $(BENCH_EDT_ARGS)
	$(MAKE) --no-print-directory bench-portal

# The portal pages of each persona on seed_scale's data set, beside their slowest query run
# raw; one database per size (BENCH_DATABASE_URL's name and the size), reused when it holds
# that many facilities.
BENCH_FACILITIES ?= 10000
bench-portal: install
	env -u REDIS_URL DATABASE_URL='$(BENCH_DATABASE_URL)' $(PY) bench/bench_portal.py \
		--facilities '$(BENCH_FACILITIES)'

# The fault harness (tools/faults.py): gunicorn, a worker, beat and a Redis of its own on free
# ports; worker kills and Redis restarts while uploads are processed; per fault class the lost,
# duplicated, partial and late uploads. Its database is dropped and created again.
FAULTS_DATABASE_URL ?= postgres://root@127.0.0.1:5432/cers_faults
FAULTS_ARGS ?= --kills 50 --redis-restarts 20
faults: install
	@command -v redis-server >/dev/null || { \
	  echo "error: the fault harness starts its own Redis: redis-server is not on PATH" >&2; \
	  echo "       (apt-get install redis-server)." >&2; exit 1; }
	@$(PY) -c "import psycopg, sys; psycopg.connect(sys.argv[1], dbname='postgres', connect_timeout=5).close()" \
	  '$(FAULTS_DATABASE_URL)' 2>/dev/null || { \
	  echo "error: PostgreSQL at $(FAULTS_DATABASE_URL) does not answer; start it or set" >&2; \
	  echo "       FAULTS_DATABASE_URL." >&2; exit 1; }
	env -u REDIS_URL $(PY) tools/faults.py --database-url '$(FAULTS_DATABASE_URL)' $(FAULTS_ARGS)

clean:
	rm -rf .pytest_cache .ruff_cache staticfiles var/celerybeat-schedule*
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
