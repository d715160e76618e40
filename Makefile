# The two commands of the README: `make demo` and `make test`.
# Everything else is installed by these targets; nothing is started by hand.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint lint-code lint-imports setup install browser fonts messages services-status services-down clean

# `benefits demo` checks the setup itself (one Python start fewer than `setup` as a prerequisite).
demo: install fonts
	$(BIN)/benefits demo

# Two workers share the machine's two cores (each with its own database, Redis database and
# search index prefix; see tests/conftest.py); tests that stop a shared component run after them, alone.
test: setup browser lint-code lint-imports
	$(BIN)/pytest -n 2 --dist loadfile -m "not exclusive"
	$(BIN)/pytest -p no:xdist -m exclusive

# The layers of docs/architecture.md, checked by import-linter (.importlinter): 0 breaches.
lint-imports: install
	$(BIN)/lint-imports --no-cache

# The code ruff checks (mypy's packages are in pyproject.toml).
LINTED := marketplace catalog providers evaluation benchmarks tests

# Everything the machine checks in the code: ruff's rules and format, mypy, the layers.
# `make test` runs it before the tests.
lint: lint-code lint-imports

lint-code: install
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

setup: install
	$(BIN)/benefits setup

install: $(STAMP)

# uv installs the pinned lock (with --no-deps: the lock holds every dependency, and
# `uv pip check` proves it) with parallel downloads and a cache of its own (~/.cache/uv).
# uv comes pinned from PyPI, installed into a venv made without pip by the system Python's
# pip (no ensurepip run, no pip self-upgrade): nothing installed by hand. The Meilisearch
# binary and the static assets download meanwhile (marketplace/runtime/downloads.py, standard
# library only); if that fails, `benefits setup` tries again and reports. docs/benchmarks.md
# has the figures, and why no --compile-bytecode (a fresh clone's demo is ready sooner without).
UV_VERSION := 0.13.9

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m marketplace.runtime.downloads & downloads=$$!; \
	$(PYTHON) -m venv --without-pip $(VENV) \
	  && $(PYTHON) -m pip --python $(BIN)/python install --quiet uv==$(UV_VERSION) \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -r requirements.lock -e . \
	  && $(BIN)/uv pip check --quiet --python $(BIN)/python; \
	installed=$$?; wait $$downloads; exit $$installed
	touch $(STAMP)

# Debian's chromium drives the Playwright browser tests (browser downloads are not possible
# here); without a CJK font, Chinese pages render as boxes in the screenshots, and without
# chromium-l10n native widgets (file pickers, date inputs) speak English on Chinese pages.
BROWSER_PACKAGES := chromium chromium-l10n fonts-noto-cjk

browser:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; }

# The demo's offer pictures carry Chinese words (marketplace/seed/pictures.py): a CJK font.
# Without one (no root, no network) the pictures are drawn without words.
fonts:
	@dpkg -s fonts-noto-cjk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq fonts-noto-cjk >/dev/null; } || \
	  echo "fonts-noto-cjk could not be installed: the demo's pictures will have no words"

services-status: install
	$(BIN)/benefits services status

services-down: install
	$(BIN)/benefits services down

clean: services-down
	rm -rf var tests/artifacts

# Extract every package's messages (templates, gettext calls and the domain errors named in
# marketplace/core/errors.py ERROR_KEYWORDS) into its own catalogs; then translate the new empty
# zh_Hans entries. `package:translations folder:sub-packages left out`, one per registered
# domain with catalogs (marketplace/composition.py); catalog/search keeps catalogs of its own.
I18N_PACKAGES = $(shell $(BIN)/python -c "from marketplace import composition; print(*composition.message_catalogs())")
# `=`, not `:=`: Python runs only when `make messages` uses it, not at every make (seconds on a busy machine).
I18N_KEYWORDS = $(foreach name,$(shell $(BIN)/python -c "from marketplace.core.errors import ERROR_KEYWORDS as K; print(*K)"),-k $(name))

messages: install
	@for pair in $(I18N_PACKAGES); do \
	  package=$${pair%%:*}; rest=$${pair#*:}; folder=$${rest%%:*}; skip=$${rest#*:}; ignore=; \
	  [ -n "$$skip" ] && ignore="--ignore-dirs=$$skip"; \
	  $(BIN)/pybabel extract --no-location --sort-output $(I18N_KEYWORDS) $$ignore \
	    -F marketplace/core/web/babel.cfg -o var/messages.pot $$package >/dev/null || exit 1; \
	  $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date -i var/messages.pot -d $$folder >/dev/null || exit 1; \
	done; rm -f var/messages.pot
