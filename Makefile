# Patron: `make demo` and `make test` are the only set-up commands on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/patron demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/clv.py
	$(BIN)/python bench/segments.py
	$(BIN)/python bench/refresh.py
	$(BIN)/python bench/concurrency.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/analyze.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/send.py
	$(BIN)/python bench/journeys.py
	$(BIN)/python bench/experiments.py
	$(BIN)/python bench/coupons.py
	$(BIN)/python bench/loyalty.py
	$(BIN)/python bench/recommend.py

clean:
	rm -rf $(VENV) .pytest_cache patron.egg-info
