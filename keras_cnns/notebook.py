"""One call that prepares a notebook: quiet logs, seeds, device, compact figures.

    from keras_cnns import notebook
    DEVICE = notebook.setup(seed=0)      # prints the hardware line the results refer to

Quiet logs: TensorFlow's C++ start-up lines ("oneDNN custom operations are on", "Could not find
cuda drivers", ...) are logged through absl *before* absl applies ``TF_CPP_MIN_LOG_LEVEL``, so they
reach the process's stderr whatever that variable says, and Jupyter shows them as a red block.
:func:`setup` imports TensorFlow with those lines filtered (:func:`import_tensorflow`); only logs
are hidden, no TensorFlow option is changed.  Import ``keras``/``tensorflow`` after ``setup()``.
"""

import os
import platform
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# An absl log line: severity, MMDD, time (before absl is initialised: 00:00:<epoch seconds>), thread,
# file:line] message, e.g. "I0000 00:00:1795402883.317140    9382 port.cc:153] oneDNN custom ...".
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^\]\s]+:\d+\] ")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_LEVELS = {"I": 0, "W": 1, "E": 2, "F": 3}   # TF_CPP_MIN_LOG_LEVEL: hide the severities below it


def _without_hidden_logs(text: str, min_level: int) -> str:
    """``text`` without the absl log lines that ``TF_CPP_MIN_LOG_LEVEL`` = ``min_level`` hides.

    A hidden message's continuation lines (lines that start no new message) are hidden with it.
    """
    kept, hiding = [], False
    for line in text.splitlines(keepends=True):
        match = _ABSL_LINE.match(line)
        if line.rstrip("\n") == _ABSL_PREAMBLE:
            hiding = min_level > 0
        elif match:
            hiding = _LEVELS[match.group(1)] < min_level
        if not hiding:
            kept.append(line)
    return "".join(kept)


def import_tensorflow():
    """``import tensorflow``, without the C++ start-up log lines that ``TF_CPP_MIN_LOG_LEVEL`` hides.

    While TensorFlow loads, the process's stderr (file descriptor 2, where C++ code writes; in a
    Jupyter kernel it is forwarded to the notebook as a stderr stream) goes to a temporary file;
    afterwards every line is written back to ``sys.stderr`` except the absl log lines below
    ``TF_CPP_MIN_LOG_LEVEL`` (0: show all, 1: hide INFO, 2: also WARNING, 3: also ERROR; this module
    sets 3 unless it is already set).  Returns the ``tensorflow`` module; a no-op if it is imported.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    try:
        min_level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        min_level = 0
    sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = _without_hidden_logs(text, min_level)
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()
    return tensorflow


def machine(tensorflow: bool = True):
    """One line naming the hardware and software a result was measured on.

    ``tensorflow=False`` names the CPU and Python only, without importing TensorFlow.
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    if not tensorflow:
        return f"{cpu}, {os.cpu_count()} CPU cores; Python {platform.python_version()}"
    tf = import_tensorflow()
    import keras

    gpus = tf.config.list_physical_devices("GPU")
    gpu = f"{len(gpus)} GPU(s)" if gpus else "no GPU"
    return (f"{cpu}, {os.cpu_count()} CPU cores, {gpu}; TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__}, Python {platform.python_version()}")


def setup(seed=0, deterministic=True, figure_dpi=100, tensorflow=True):
    """Seed everything, configure the device, and size figures for the web page.

    ``deterministic=True`` enables TensorFlow op determinism: with a fixed seed the
    losses repeat exactly on the CPU. Returns the dict of
    :func:`keras_cnns.training.configure_device`, plus ``"machine"``.

    ``tensorflow=False`` only sizes the figures and tables and returns ``{"machine": ...}`` without
    importing TensorFlow: for a notebook whose training runs in worker processes (notebook 09), so
    that the kernel stays small. Whatever trains later seeds itself.
    """
    import logging
    import warnings

    import matplotlib
    import pandas as pd

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)   # "findfont: ... not found"
    # Warnings print as "Category: message", without the kernel's temporary file path.
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"{category.__name__}: {message}\n"
    matplotlib.rcParams.update({"figure.dpi": figure_dpi, "savefig.dpi": figure_dpi,
                                "figure.figsize": (8, 3.2), "axes.grid": True})
    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", 20)
    if not tensorflow:
        return {"machine": machine(tensorflow=False)}

    import_tensorflow()
    import keras

    from . import training

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    # Keras prints fit/evaluate logs with print() to stdout only with interactive logging on (the
    # default); off, they go to absl logging, i.e. stderr (a red block in Jupyter).
    keras.config.enable_interactive_logging()
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")
    training.set_seed(seed, deterministic=deterministic)
    device = training.configure_device()
    device["machine"] = machine()
    return device
