# The two commands of the README: `make run` (set up and run the app) and
# `make test` (set up and run every test). Everything else is a helper.

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test setup migrate bench lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/n8nclone up

test: setup
	$(VENV)/bin/ruff check n8nclone tests bench
	$(VENV)/bin/pytest

migrate: setup
	$(VENV)/bin/n8nclone migrate

bench: setup
	$(PY) bench/engine.py

clean:
	rm -rf $(VENV) .web .web-dist .pytest_cache data
