"""One call that prepares a notebook: quiet logs, seeds, device, compact figures.

    from keras_cnns import notebook
    DEVICE = notebook.setup(seed=0)      # prints the hardware line the results refer to
"""

import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def machine():
    """One line naming the hardware and software a result was measured on."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    gpus = tf.config.list_physical_devices("GPU")
    gpu = f"{len(gpus)} GPU(s)" if gpus else "no GPU"
    return (f"{cpu}, {os.cpu_count()} CPU cores, {gpu}; TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__}, Python {platform.python_version()}")


def setup(seed=0, deterministic=True, figure_dpi=72):
    """Seed everything, configure the device, and size figures for the web page.

    ``deterministic=True`` enables TensorFlow op determinism: with a fixed seed the
    losses repeat exactly on the CPU. Returns the dict of
    :func:`keras_cnns.training.configure_device`, plus ``"machine"``.
    """
    import logging
    import warnings

    import matplotlib
    import pandas as pd

    from . import training

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")
    # Warnings print as "Category: message", without the kernel's temporary file path.
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"{category.__name__}: {message}\n"
    matplotlib.rcParams.update({"figure.dpi": figure_dpi, "savefig.dpi": figure_dpi,
                                "figure.figsize": (8, 3.2), "axes.grid": True})
    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", 20)
    training.set_seed(seed, deterministic=deterministic)
    device = training.configure_device()
    device["machine"] = machine()
    return device
