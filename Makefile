# Grassroots: `make run` serves the seeded forum, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The first interpreter that actually runs (pyenv shims exist even where they fail).
PYTHON ?= $(shell for candidate in python3.13 python3.12; do \
	if $$candidate -c '' >/dev/null 2>&1; then echo $$candidate; break; fi; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check chromium clean

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_seeds
	@echo "Grassroots is at http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Persistent connections would outlive the live-server threads of browser tests and
# keep PostgreSQL from dropping the test database.
test: $(VENV)/.installed-test chromium
	DB_CONN_MAX_AGE=0 $(PY) -m pytest

check: $(VENV)/.installed
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_ENV=production SECRET_KEY=check-only-$$RANDOM$$RANDOM$$RANDOM$$RANDOM$$RANDOM ALLOWED_HOSTS=example.org \
		$(PY) manage.py check --deploy --fail-level WARNING

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
		echo "Grassroots needs Python 3.13 or 3.12: neither python3.13 nor python3.12 runs here." >&2; \
		echo "Install one (e.g. apt-get install python3.12, or pyenv install 3.13) and try again." >&2; \
		exit 1; fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# Browser tests drive Debian's Chromium; Playwright cannot download its own here.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "Note: /usr/bin/chromium is missing and this is not root, so browser tests will be skipped" \
				"(sudo apt-get install chromium)."; \
		fi; \
	fi

clean:
	rm -rf $(VENV) staticfiles *.egg-info
