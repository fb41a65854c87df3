# The two set-up commands: `make run` (service on SQLite with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DATABASE_URL ?= sqlite://followups.sqlite3

.PHONY: run test lint bench schema clean servers

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/followups demo
	$(BIN)/followups serve

# Real servers the suite starts on loopback (Cyrus, Dovecot, ...): each tests/servers/install-*.sh
# installs its own from Debian's packages when missing (idempotent, quick when present).
servers:
	@for s in tests/servers/install-*.sh; do [ -e "$$s" ] || continue; bash "$$s" || exit 1; done

# The suite runs in TEST_WORKERS parallel processes (pytest-xdist; 0: one process). Most of
# its time is spent waiting on real servers and subprocesses, so more workers than cores pay;
# worksteal hands a finished worker tests queued for a busy one (the slow ones cluster).
TEST_WORKERS ?= 3

test: $(STAMP) servers
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check config app schema resolvers orm
	$(BIN)/mypy config app schema resolvers orm calcore sync mail
	$(BIN)/lint-imports
	$(BIN)/deptry .

schema: $(STAMP)
	$(BIN)/followups export-schema schema.graphql

bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) followups.sqlite3
