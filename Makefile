# Rosetta: one set of commands for people and CI.
#   make run    set up and start the demo (gateway + bundled backends)
#   make test   set up and run the whole suite
#   make lint   ruff + mypy
#   make bench  throughput and added latency, as ratios against direct calls

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install system-deps run test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Servers the tests and benchmarks run for real (Redis; nginx and wrk for bench).
# Installed from Debian when missing and we may (root with apt-get); otherwise
# the tests that need them say so.
system-deps:
	@missing=""; \
	for tool in redis-server nginx wrk; do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing from Debian:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	$(VENV)/bin/rosetta demo

test: install system-deps
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check gateway translators tests bench
	$(VENV)/bin/mypy

bench: install system-deps
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
