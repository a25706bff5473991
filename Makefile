# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SEED_ENTERPRISES ?= 2000

.PHONY: install run test lint typecheck schema bench-seed bench-audit bench-import bench-evaluate clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Migrate var/hub.db (or HUB_DATABASE_URL), load demo data if empty, serve on 127.0.0.1:8000
## with the webhook dispatcher beside it.
run: install
	$(BIN)/hub db upgrade
	$(BIN)/hub seed --if-empty --enterprises $(SEED_ENTERPRISES)
	$(BIN)/hub demo-clients
	$(BIN)/hub dispatch & dispatcher=$$!; trap 'kill $$dispatcher 2>/dev/null' EXIT INT TERM; $(BIN)/hub serve

## Lint, type-check and run the whole suite (PostgreSQL too when HUB_TEST_DATABASE_URL is set).
test: install lint typecheck
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

## Regenerate schema/schema.graphql after changing the schema.
schema: install
	$(BIN)/hub export-schema

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache *.egg-info

## Time loading 100,000 demo enterprises on SQLite and PostgreSQL (figures for BENCHMARKS.md).
bench-seed: install
	$(BIN)/python -m bench.seed 100000

## Audited vs unaudited throughput and the writer's appends/s (figures for BENCHMARKS.md).
bench-audit: install
	$(BIN)/python -m bench.audit

## Import 100,000 penalty decisions from CSV and XLSX on SQLite and PostgreSQL (BENCHMARKS.md).
bench-import: install
	$(BIN)/python -m bench.imports 100000

## Evaluate 100,000 enterprises under each scheme on SQLite and PostgreSQL (BENCHMARKS.md).
bench-evaluate: install
	$(BIN)/python -m bench.evaluation 100000
