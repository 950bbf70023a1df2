# Two commands: `make demo` runs Yaosu with a demo world; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: install demo serve test lint format bench browser peers clean

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
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# Browser tests drive Debian's Chromium (Playwright's own download does not work offline);
# CJK fonts make screenshots legible. Installed here when missing and we are root.
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null; }; \
	  else echo "install chromium and fonts-noto-cjk (Debian packages) for the browser tests"; exit 1; fi; }

# Reference tools that conflict with the core's pins (pycanon pins typing_extensions) live in
# their own venv; tests and benchmarks call them there.
# The stamp is named after the list, so adding a peer reinstalls on the next run.
PEERS     := bench/.peers
PEER_PKGS := pycanon==1.3.6 pymerkle==7.0.0 beancount==3.2.3
PEER_STAMP := $(PEERS)/.installed-$(shell echo '$(PEER_PKGS)' | sha256sum | cut -c1-12)
# pyDVL (bench/valuation.py) requires numpy<2 and pycanon pins numpy==2.0.2, so pip cannot put
# them in one venv: pyDVL gets its own, inside bench/.peers (ignored and cleaned with it). No
# test needs it: only ``make bench`` installs it.
PYDVL      := $(PEERS)/pydvl
PYDVL_PKGS := pydvl==0.10.0
PYDVL_STAMP := $(PYDVL)/.installed-$(shell echo '$(PYDVL_PKGS)' | sha256sum | cut -c1-12)
# ACRO (bench/compute_checks.py, the SACRO project's output checker) pins pandas<=2.3.3, which
# the core's pandas outgrows: its own venv too, built only by ``make bench``.
ACRO       := $(PEERS)/acro
ACRO_PKGS  := acro==1.0.2
ACRO_STAMP := $(ACRO)/.installed-$(shell echo '$(ACRO_PKGS)' | sha256sum | cut -c1-12)
peers: $(PEER_STAMP)
$(PEER_STAMP):
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install -q $(PEER_PKGS)
	rm -f $(PEERS)/.installed*
	touch $@
$(PYDVL_STAMP):
	test -x $(PYDVL)/bin/python || $(PYTHON) -m venv $(PYDVL)
	$(PYDVL)/bin/python -m pip install -q $(PYDVL_PKGS)
	rm -f $(PYDVL)/.installed*
	touch $@
$(ACRO_STAMP):
	test -x $(ACRO)/bin/python || $(PYTHON) -m venv $(ACRO)
	$(ACRO)/bin/python -m pip install -q $(ACRO_PKGS)
	rm -f $(ACRO)/.installed*
	touch $@

# Two workers per two cores: the suite is CPU-bound (DuckDB, Spark, Chromium, Argon2).
test: install lint browser peers
	$(BIN)/pytest -n auto

bench: install peers $(PYDVL_STAMP) $(ACRO_STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/scan.py
	$(BIN)/python bench/query.py
	$(BIN)/python bench/market.py
	$(BIN)/python bench/valuation.py
	$(BIN)/python bench/compute.py

clean:
	rm -rf $(VENV) .yaosu .pytest_cache .mypy_cache .ruff_cache .import_linter_cache bench/.data bench/.peers bench/.peers-snsql
