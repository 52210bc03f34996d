# Certify — `make run` to try it, `make test` to check it. Both set everything up first.
SHELL := /bin/bash
# The first interpreter that really runs and is 3.11+ (pyenv shims may name ones that do not).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PO := certify/translations/zh/LC_MESSAGES/messages.po
MO := $(PO:.po=.mo)
# The port `make run` serves on. Exported: in development the app's BASE_URL (the address
# QR codes, slips and share links carry) defaults to http://127.0.0.1:$PORT.
PORT ?= 5000
export PORT
AXE := tests/e2e/node_modules/.installed

.PHONY: setup run serve test imports lint format bench translations-update system-packages db demo clean

setup: system-packages $(STAMP) $(MO)

system-packages:
	@bash scripts/install-system-packages.sh

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Certify needs Python 3.11 or newer (python3 --version)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Certify needs Python 3.11 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

$(MO): $(PO) | $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d certify/translations >/dev/null

db: setup
	$(FLASK) db upgrade

demo: db
	@mkdir -p instance
	@if [ -f instance/.demo-loaded ]; then $(FLASK) demo accounts; \
	else $(FLASK) demo load && touch instance/.demo-loaded; fi
	@$(FLASK) keys init >/dev/null  # the signing key for certificates (kept in instance/keys)

# Production: gunicorn (gunicorn.conf.py: 2 × cores + 1 workers, 4 threads each) on
# DATABASE_URL and REDIS_URL, with CERTIFY_ENV=production (it refuses a missing SECRET_KEY,
# and a missing or loopback BASE_URL: the public address every certificate carries).
serve: setup
	@test -n "$$DATABASE_URL" || { echo "make serve needs DATABASE_URL=postgresql://… (see docs/deploy.md)"; exit 1; }
	@test -n "$$BASE_URL" || { echo "make serve needs BASE_URL=https://…, the public address every certificate's QR code carries (see docs/deploy.md)"; exit 1; }
	@test -n "$$REDIS_URL" || echo "warning: no REDIS_URL: rate limits are per process and jobs run inline"
	CERTIFY_ENV=production $(FLASK) db upgrade
	CERTIFY_ENV=production $(FLASK) keys init >/dev/null
	CERTIFY_ENV=production $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Which package imports which (docs/architecture.md); `lint-imports` checks the rules.
imports: setup
	$(BIN)/python -m certify.devtools.imports
	$(BIN)/lint-imports --no-cache

run: demo
	@echo "Certify is at http://127.0.0.1:$(PORT)/  (Ctrl-C stops it)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# axe-core for the accessibility tests, as pinned in tests/e2e/package-lock.json (never a CDN).
$(AXE): tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/e2e --no-audit --no-fund && touch $@; \
	else echo "warning: npm is missing, so the accessibility tests are skipped (make system-packages installs it)" >&2; fi

test: setup $(AXE)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest $(PYTEST_ARGS)

# Exam-day load: 500 workers start within a minute and answer every ~20 s while 1,000
# certificates render in an RQ worker (~35 min; bench/README.md; --candidates 2000 for the
# province day, --think-ms 0 --batch 0 for the old stress test).
# SQLite by default; DATABASE_URL=postgresql://... for PostgreSQL (its public schema is reset).
# Then certificate rendering (bench/certificates.py, always on a temporary SQLite file).
# Then faults during an exam (bench/faults.py: workers killed, server and Redis restarted; on
# PostgreSQL it also restarts the local cluster: FAULT_BENCH_ARGS=--no-db-restart to spare it).
# Quick run: make bench BENCH_ARGS="--candidates 50 --ramp-seconds 5 --think-ms 500 --batch 50" CERT_BENCH_ARGS="--batch 100"
bench: setup
	$(BIN)/python bench/exam_load.py $(BENCH_ARGS)
	$(BIN)/python bench/certificates.py $(CERT_BENCH_ARGS)
	$(BIN)/python bench/faults.py $(FAULT_BENCH_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check certify tests

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format certify tests

translations-update: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs '.*' --no-location --sort-output \
	  -o certify/translations/messages.pot . >/dev/null
	$(BIN)/pybabel update -i certify/translations/messages.pot -d certify/translations \
	  --no-fuzzy-matching --width 100 >/dev/null
	@echo "Now translate the empty msgstr entries in $(PO)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
