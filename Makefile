# Grassroots: `make run` serves the seeded forum, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The first interpreter that actually runs (pyenv shims exist even where they fail).
PYTHON ?= $(shell for candidate in python3.13 python3.12; do \
	if $$candidate -c '' >/dev/null 2>&1; then echo $$candidate; break; fi; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test check bench soak chromium gettext wrk clean

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_seeds
	@echo "Grassroots is at http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# The production server on one machine: migrate, collect static files for whitenoise,
# then gunicorn with config/gunicorn.conf.py. Set DJANGO_ENV=production and the
# variables in README.md first. With several app servers the systemd unit in deploy/
# starts gunicorn instead, and migrations run once per release (README "Upgrading").
serve: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	GUNICORN_BIND="$${GUNICORN_BIND:-$(HOST):$(PORT)}" exec $(VENV)/bin/gunicorn -c config/gunicorn.conf.py

# The suite runs on every core (pytest-xdist; each worker has its own test database and
# Redis database); worksteal hands the long browser tests at the end of the order to
# whichever worker is free. ARGS picks tests and passes options through, e.g.
# `make test ARGS="tests/forums -k reply"`, or `make test WORKERS=0` to run in one process.
# Persistent connections would outlive the live-server threads of browser tests and
# keep PostgreSQL from dropping the test database.
WORKERS ?= auto
test: $(VENV)/.installed-test chromium gettext node_modules/.installed
	DB_CONN_MAX_AGE=0 $(PY) -m pytest -n $(WORKERS) --dist worksteal $(ARGS)

check: $(VENV)/.installed
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_ENV=production SECRET_KEY=check-only-$$(head -c 48 /dev/urandom | base64 | tr -d "/+=\n") ALLOWED_HOSTS=example.org \
		$(PY) manage.py check --deploy --fail-level WARNING

# Benchmark: builds (once) a 1,000,000-post data set, serves it with gunicorn under
# production settings and measures every main page with wrk. BENCH_POSTS, BENCH_DATABASE
# (sqlite or postgres), BENCH_REDIS_URL and BENCH_SECONDS change what is measured;
# BENCH_PAGE_CACHE=off renders every visitor's page (cache misses), and BENCH_WRITES=1
# (with BENCH_REDIS_URL) posts a reply every second meanwhile and reports visitors' cache
# hit rate, also over a mix of 500 pages (`.venv/bin/python bench/run.py --help`).
bench: $(VENV)/.installed wrk
	$(PY) bench/run.py

# Soak: 20 members reading and posting for 5 minutes against gunicorn on a fresh
# PostgreSQL database (created and dropped); fails on any error, any lost post or
# growing worker memory. SOAK_SECONDS shortens it; REDIS_URL puts the cache in Redis.
soak: $(VENV)/.installed
	$(PY) bench/soak.py

wrk:
	@command -v wrk >/dev/null || { 		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; 		else echo "make bench needs wrk (sudo apt-get install wrk)." >&2; exit 1; fi; }

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

# axe-core, which the browser tests load into each page to check accessibility.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# A Debian package the tests need: installed when running as root; otherwise a note
# says which tests will skip without it. $(1) tells whether it is there, $(2) names
# the package, $(3) the tests.
define debian_package
	@if ! $(1) >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); \
		else \
			echo "Note: $(2) is missing and this is not root, so $(3) will be skipped (sudo apt-get install $(2))."; \
		fi; \
	fi
endef

# Browser tests drive Debian's Chromium; Playwright cannot download its own here.
chromium:
	$(call debian_package,test -x /usr/bin/chromium,chromium,browser tests)

# tests/test_translations.py runs makemessages, which needs GNU gettext's xgettext.
gettext:
	$(call debian_package,command -v xgettext,gettext,the makemessages test)

clean:
	rm -rf $(VENV) staticfiles *.egg-info
