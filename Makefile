# dermatrack: every target that runs code first makes sure .venv is installed and current.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: install demo test test-fast bench lint docs clean

install: $(STAMP)

# Re-install when the project's metadata changes. mediapipe 0.10.21 (the last release
# whose wheel carries the FaceMesh model) and colour-checker-detection declare pins that
# clash with numpy 2 and headless OpenCV, so they go in without their declared deps;
# the packages they really use are in pyproject.toml.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (dermatrack needs Python 3.11)" >&2; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps mediapipe==0.10.21 colour-checker-detection==0.2.3
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dermatrack demo

test: $(STAMP)
	scripts/run-tests.sh $(BIN) -n $(PYTEST_WORKERS)

bench: $(STAMP)
	@for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy src/dermatrack

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
