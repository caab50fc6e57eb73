# Two commands matter: `make dev` (the whole product on this machine) and `make test` (the whole suite).
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: install dev test lint typecheck pytest migrate superuser bench clean-data

install:
	@scripts/bootstrap.sh

dev: install
	$(PY) -m devstack

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: install
	.venv/bin/mypy core workflows activities worker api devstack

pytest: install
	.venv/bin/pytest -q -p no:cacheprovider

test: lint typecheck pytest

migrate: install
	.venv/bin/alembic upgrade head

superuser: install
	$(PY) -m core.cli create-superuser

bench: install
	$(PY) bench/board.py

clean-data:
	rm -rf .data
