# d-DeVIS: `make run` serves the site and a worker, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Django 6.1 needs Python 3.12: use it from PATH, or from pyenv when that is where it lives.
PYTHON312 ?= $(shell command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' 2>/dev/null && echo python3.12 || ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | tail -n 1)
ADDR ?= 127.0.0.1:8000
WORKERS ?= 1

.PHONY: run test install browser lint check clean

$(VENV)/.installed: requirements.txt requirements/web.txt requirements/worker.txt requirements/dev.txt
	@test -n "$(PYTHON312)" || { echo "Python 3.12 is needed (python3.12 on PATH or under ~/.pyenv)."; exit 1; }
	test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py register_bundled_model
	$(PY) manage.py compute_filter_insight --missing --queue
	$(PY) manage.py seed_demo
	$(PY) manage.py serve $(ADDR) --workers $(WORKERS)

# The browser tests drive the system Chromium (never a downloaded one): install it from
# Debian's packages when it is missing and we may.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium from Debian's packages…"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; \
	  else echo "The browser tests need Chromium: sudo apt-get install -y chromium"; fi; }

# The suite on TEST_WORKERS processes (pytest-xdist; each has its own test database, media and ports),
# given whole files, so that a module's fixtures start once, in the order of the collection (the longest
# first: tests/conftest.py); TEST_WORKERS=0 runs it in this one process. One worker more than the two
# cores of the machines it runs on: many tests wait on processes they start (servers, workers, Chromium),
# and a third worker fills those waits (on 2 cores: 338 s against 397 s with two).
TEST_WORKERS ?= 3
test: install browser
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# Style, formatting and types (mypy with the Django and DRF stubs, configured in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

check: lint test

clean:
	rm -rf $(VENV) .pytest_cache
