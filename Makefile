# keras-cnns: `make lab` opens the series, `make test` runs every test.
# Both create a virtual environment in .venv on first use (Python 3.10-3.12 and pip).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup lab notebooks test test-unit test-notebooks bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## The main job: the notebook series in JupyterLab (--allow-root only when run as root, e.g. in a container).
lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

## Headless: run every notebook top to bottom in the full setting, saving the outputs.
## Each notebook's wall time and its kernel's peak memory go to results/notebooks.csv.
notebooks: setup
	$(BIN)/python scripts/run_notebooks.py notebooks/[0-9][0-9]_*.ipynb --csv results/notebooks.csv

## All tests: the package's unit tests, then every notebook under nbval. notebooks/conftest.py makes
## `pytest --nbval notebooks/` the fast setting (KERAS_CNNS_FAST=0 opts into the full one), with
## notebooks/sanitize.cfg and a 600 s cell timeout.
test: setup
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval notebooks/

test-unit: setup
	$(BIN)/python -m pytest tests

test-notebooks: setup
	$(BIN)/python -m pytest --nbval notebooks/

bench: setup
	$(BIN)/python -m keras_cnns bench

clean:
	rm -rf $(VENV) .pytest_cache runs
