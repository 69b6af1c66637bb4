# cmvoice_nb — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: demo test test-fast lab bench clean help

help:
	@echo "make demo   - create .venv, install, run the whole job against the built-in simulator"
	@echo "make test   - create .venv, install with test extras, run the test suite (notebooks included)"
	@echo "make test-fast - the quick tests on every core: no notebooks, no browser, nothing marked slow"
	@echo "make lab    - open JupyterLab on notebooks/"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make docs   - create .venv, install the docs extras, build the docs site into build/site (strict)"
	@echo "make lint   - create .venv, install the dev extras, run ruff and mypy (fails on any finding)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(TESTSTAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@ $(STAMP)

demo: $(STAMP)
	$(PY) -m cmvoice_nb.demo --out build/demo

# Everything, as CI runs it.
test: $(TESTSTAMP)
	$(PY) -m pytest tests

# The quick tests, for a change: by marker (pyproject.toml), in parallel on every core (pytest-xdist).
FAST := not notebooks and not browser and not slow
test-fast: $(TESTSTAMP)
	$(PY) -m pytest tests -m "$(FAST)" -n auto --dist worksteal

# Kernels on plain TCP warn on every start; encrypt their transport where jupyter_client and pyzmq can
# ('auto' fails without CurveZMQ, and an older jupyter_client has no such option).
KERNEL_FLAGS = $$($(PY) -c 'import zmq; from jupyter_client import KernelManager as K; \
	print("--KernelManager.transport_encryption=auto" if zmq.has("curve") and "transport_encryption" in K.class_trait_names() else "")')

lab: $(TESTSTAMP)
	$(VENV)/bin/jupyter lab $(KERNEL_FLAGS) notebooks/

bench: $(STAMP)
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

# The docs site: every warning (a broken link, an unresolvable reference) fails the build.
.PHONY: docs
DOCSSTAMP := $(VENV)/.installed-docs

$(DOCSSTAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[docs]'
	@touch $@ $(STAMP)

docs: $(DOCSSTAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# Lint and types: ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade) and mypy, both configured in
# pyproject.toml. Each exits non-zero on a finding, and make stops at the first that does.
.PHONY: lint
DEVSTAMP := $(VENV)/.installed-dev
LINTED   := cmvoice_nb tests bench notebooks/_build.py docs/_hooks

$(DEVSTAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(STAMP)

lint: $(DEVSTAMP)
	$(PY) -m ruff check $(LINTED)
	$(PY) -m mypy

clean:
	rm -rf build .pytest_cache
