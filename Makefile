# The two commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: demo test bench install dev vendor media clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip install -q --no-deps irrcac==0.4.4  # oracle for Gwet's coefficients; its scipy pin is too strict
	touch $(VENV)/.installed $@

install: $(VENV)/.installed vendor
dev: $(VENV)/.dev-installed vendor

vendor: $(VENV)/.installed
	PYTHON=$(PY) bash scripts/vendor.sh

demo: install
	DAILIES_DEMO=1 $(FLASK) db upgrade
	DAILIES_DEMO=1 $(FLASK) demo seed
	@echo "Serving Dailies on http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	DAILIES_DEMO=1 MEDIA_ROOT=$(CURDIR)/demo/media $(FLASK) run --host $(HOST) --port $(PORT)

test: dev
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Statistics speed, then load and faults on a real gunicorn server (SQLite; PostgreSQL too when
# BENCH_DATABASE_URL names a database whose schema may be replaced).
bench: dev
	$(PY) bench/run.py
	$(PY) bench/load.py $(BENCH_ARGS)
	$(PY) bench/exports.py
	$(PY) bench/media_store.py  # raters' media streamed from a bucket vs fetched from it directly (moto)
	$(PY) bench/report_scale.py  # the statistics report at 200k (SQLite) or 200k, 1M, 10M (BENCH_DATABASE_URL, wiped)
	$(PY) bench/desk_scale.py  # each desk page at 200k judgments (BENCH_DATABASE_URL, PostgreSQL, wiped; else skipped)
	$(PY) bench/app_bench.py --explain bench/plans/after  # routing and imports; PostgreSQL: BENCH_DATABASE_URL (wiped)

media:
	bash demo/make_media.sh

clean:
	rm -rf $(VENV) instance .pytest_cache
