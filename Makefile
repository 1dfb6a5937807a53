# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench bench-pg

# The audit integrator and a witness run beside the server (scripts/demo-serve), as in
# production, so the log's checkpoints advance and are cosigned while you use the demo.
demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@bash scripts/demo-serve

test: install
	@bash scripts/run-tests -n 2

install: $(STAMP)

$(STAMP): pyproject.toml client/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The department client (client/), whose tests run with the gateway's.
	$(BIN)/python -m pip install --quiet -e './client[excel]'
	@touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/screening.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/client.py

# These two need PostgreSQL (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres,
# where each run creates and drops its own database) and, for the second, pgbench.
bench-pg: install
	$(BIN)/python bench/http_load.py
	$(BIN)/python bench/audit_sql.py
