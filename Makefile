# Two commands on a fresh machine:  make demo  ·  make test
# Each sets up what it needs by itself (virtual environment, packages, Chromium).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench bench-probes docs chromium wrk clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Signalfire needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/signalfire demo

# Browser tests drive Debian's Chromium; install it if it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Chromium from Debian's packages"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }

test: $(STAMP) chromium
	$(BIN)/ruff check signalfire tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check signalfire tests bench

bench: $(STAMP) wrk
	$(BIN)/python bench/status_page.py --rounds 3

bench-probes: $(STAMP)
	$(BIN)/python bench/probes.py

# docs/cli.md is generated from the commands' help; a test checks it is current.
docs: $(STAMP)
	$(BIN)/python -m signalfire.cli.reference > docs/cli.md

clean:
	rm -rf $(VENV) artifacts .pytest_cache
