# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SEED_ENTERPRISES ?= 2000
# pytest-xdist processes for `make test`; PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2

.PHONY: install run test lint typecheck schema bench-seed bench-portal bench-review bench-search bench-audit bench-import bench-evaluate bench soak clean

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

## Lint, type-check and run the whole suite (PostgreSQL too when HUB_TEST_DATABASE_URL is set)
## on PYTEST_WORKERS processes, each with its own databases (tests/conftest.py).
test: install lint typecheck
	$(BIN)/pytest --numprocesses $(PYTEST_WORKERS) --dist load

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

## Portal pages at 100,000 enterprises: median render time of each (figures for BENCHMARKS.md).
bench-portal: install
	$(BIN)/python -m bench.portal

## Credit reviews against plain lookups of the same codes, in one process (figures for BENCHMARKS.md).
bench-review: install
	$(BIN)/python -m bench.review

## Name search with the trigram indexes and as a plain scan, on the `bench` database of
## `make bench` and a 100,000-enterprise SQLite file, in one process (BENCHMARKS.md).
bench-search: install
	$(BIN)/python -m bench.search

## Audited vs unaudited throughput and the writer's appends/s (figures for BENCHMARKS.md).
bench-audit: install
	$(BIN)/python -m bench.audit

## Import 100,000 penalty decisions from CSV and XLSX on SQLite and PostgreSQL (BENCHMARKS.md).
bench-import: install
	$(BIN)/python -m bench.imports 100000

## Evaluate 100,000 enterprises under each scheme on SQLite and PostgreSQL (BENCHMARKS.md).
bench-evaluate: install
	$(BIN)/python -m bench.evaluation 100000

## The hub against PostGraphile v5, a plain Starlette reference and itself without audit and
## authorization, over HTTP with wrk, on the `bench` database (BENCHMARKS.md). About 15 minutes.
## PostGraphile is installed into var/bench-peer/ on first use (npm, about 480 MB).
bench: install
	@command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install -y wrk"; exit 1; }
	@command -v npm >/dev/null || { echo "npm is missing: sudo apt-get install -y npm"; exit 1; }
	$(BIN)/python -m bench.api $(BENCH_ARGS)

## Ten minutes at 70 % of the hub's top single-lookup rate: errors, p99 and memory per minute.
## Quick try: make soak SOAK_ARGS="--minutes 1"
soak: install
	@command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install -y wrk"; exit 1; }
	$(BIN)/python -m bench.soak $(SOAK_ARGS)
