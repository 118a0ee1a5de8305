# keras-cnns: `make lab` opens the series, `make test` runs every test.
# Both create a virtual environment in .venv on first use (Python 3.10-3.12 and pip).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout=600

.PHONY: setup lab notebooks test test-unit test-notebooks bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## The main job: the notebook series in JupyterLab.
lab: setup
	$(BIN)/jupyter lab notebooks/

## Headless: run every notebook top to bottom in the full setting, saving the outputs.
## Each notebook's wall time and its kernel's peak memory go to results/notebooks.csv.
notebooks: setup
	$(BIN)/python scripts/run_notebooks.py notebooks/[0-9][0-9]_*.ipynb --csv results/notebooks.csv

## All tests: the package's unit tests, then every notebook under nbval in the fast setting.
test: setup
	$(BIN)/python -m pytest tests
	KERAS_CNNS_FAST=1 $(BIN)/python -m pytest $(NBVAL) notebooks/

test-unit: setup
	$(BIN)/python -m pytest tests

test-notebooks: setup
	KERAS_CNNS_FAST=1 $(BIN)/python -m pytest $(NBVAL) notebooks/

bench: setup
	$(BIN)/python -m keras_cnns bench

clean:
	rm -rf $(VENV) .pytest_cache runs
