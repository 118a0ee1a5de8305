"""`pytest --nbval notebooks/` as typed is the test run: fast setting, sanitised, cell timeout.

* The notebooks run in their fast setting (``KERAS_CNNS_FAST=1``; the kernels inherit this
  process's environment). The full setting is an explicit opt-in: ``KERAS_CNNS_FAST=0 pytest ...``.
* ``notebooks/sanitize.cfg`` is the sanitizer unless ``--nbval-sanitize-with`` names another file.
* Each cell may run for :data:`CELL_TIMEOUT` seconds unless ``--nbval-cell-timeout`` says otherwise.
* pytest-xdist (``-n 2 --dist loadscope`` in ``pyproject.toml``) runs two notebooks at a time; a
  notebook's cells share one scope (the file), so they run in order, in one kernel, on one worker.
"""

import os
import shlex
from pathlib import Path

os.environ.setdefault("KERAS_CNNS_FAST", "1")   # before any kernel starts

SANITIZE = Path(__file__).resolve().parent / "sanitize.cfg"
CELL_TIMEOUT = 600   # seconds per cell (nbval's own default is 2000)


def _given(config, flag: str) -> bool:
    """True if ``flag`` was passed on the command line or in ``PYTEST_ADDOPTS``."""
    args = [*config.invocation_params.args, *shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))]
    return any(str(arg) == flag or str(arg).startswith(flag + "=") for arg in args)


def pytest_configure(config):
    option = config.option
    if not hasattr(option, "nbval_sanitize_with"):   # nbval is not installed
        return
    if option.nbval_sanitize_with is None and not getattr(option, "sanitize_with", None):
        option.nbval_sanitize_with = str(SANITIZE)
    if not _given(config, "--nbval-cell-timeout"):
        option.nbval_cell_timeout = CELL_TIMEOUT

