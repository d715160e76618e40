# The two commands of the README: `make demo` and `make test`.
# Everything else is installed by these targets; nothing is started by hand.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup install browser services-status services-down clean

demo: setup
	$(BIN)/benefits demo

test: setup browser
	$(BIN)/pytest

setup: install
	$(BIN)/benefits setup

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian's chromium drives the Playwright browser tests (browser downloads are not possible
# here); without a CJK font, Chinese pages render as boxes in the screenshots.
BROWSER_PACKAGES := chromium fonts-noto-cjk

browser:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; }

services-status: install
	$(BIN)/benefits services status

services-down: install
	$(BIN)/benefits services down

clean: services-down
	rm -rf var tests/artifacts
