# Two commands: `make demo` runs Yaosu with a demo world; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: install demo serve test lint format bench browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/yaosu demo

serve: install
	$(BIN)/yaosu serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: install lint
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/audit.py

clean:
	rm -rf $(VENV) .yaosu .pytest_cache .mypy_cache .ruff_cache bench/.data bench/.peers
