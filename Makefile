# Two commands matter: `make dev` (the whole product on this machine) and `make test` (the whole suite).
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)
NPM := cd web && npm

.PHONY: install web-install web-build dev test lint typecheck pytest web-lint web-test web-e2e web-client \
	web-figures migrate superuser bench clean-data roles-doc

install:
	@scripts/bootstrap.sh

web-install:
	@if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then \
		$(NPM) ci --no-audit --no-fund; fi

web-build: web-install
	$(NPM) run build

dev: install web-build
	$(PY) -m devstack

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: install
	.venv/bin/mypy core workflows activities worker api devstack

pytest: install
	@scripts/ensure-nginx.sh
	.venv/bin/pytest -q -p no:cacheprovider

web-lint: install web-install
	$(NPM) run typecheck
	$(NPM) run lint

web-test: install web-install
	$(NPM) test

web-e2e: install web-build
	@scripts/ensure-chromium.sh
	$(NPM) run e2e

web-client: install web-install
	$(NPM) run gen:client

web-figures: install web-build
	@scripts/ensure-chromium.sh
	$(NPM) run figures

test: lint typecheck web-lint pytest web-test web-e2e

roles-doc: install
	$(PY) -m tests.api.test_roles

migrate: install
	.venv/bin/alembic upgrade head

superuser: install
	$(PY) -m core.cli create-superuser

bench: install
	$(PY) bench/board.py

clean-data:
	rm -rf .data
