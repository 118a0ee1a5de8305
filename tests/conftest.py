"""Shared fixtures. Tests run on the small real samples shipped in keras_cnns/samples."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the package need not be installed to be tested
    sys.path.insert(0, str(REPO))

import pytest  # noqa: E402


def run_python(code: str, *args, env: dict | None = None, cwd=None, timeout: float = 300):
    """``python -c CODE ARGS`` in a fresh process (output captured, ``TF_CPP_MIN_LOG_LEVEL=3`` unless
    ``env`` says otherwise). Once CODE has run, the process flushes its output and leaves with
    ``os._exit(0)``: Python's own shutdown would spend ~1-2.5 s of CPU taking TensorFlow's modules
    apart (measured 2026-12-07), and the tests read only the output and the exit code."""
    import subprocess

    leave = "\nimport os as _os, sys as _sys\n_sys.stdout.flush(); _sys.stderr.flush(); _os._exit(0)\n"
    return subprocess.run([sys.executable, "-c", code + leave, *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})


@pytest.fixture(scope="session", autouse=True)
def _freeze_imported_objects():
    """Move everything imported so far (TensorFlow, Keras, the test modules) out of the garbage collector's
    sight: the ``gc.collect()`` that frees each test's models then scans only what the tests made
    (~0.3 s less per collection, measured)."""
    import gc

    import keras  # noqa: F401  (imported before the freeze)

    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def samples():
    """The shipped real samples: {"mnist": Dataset, "fashion_mnist": Dataset, "cifar10": Dataset}."""
    from keras_cnns.data import load

    return {name: load(name, sample=True) for name in ("mnist", "fashion_mnist", "cifar10")}


def small_bn_cnn(input_shape=(28, 28, 1), classes=10, filters=(32, 64, 128), bn_momentum=0.9):
    """A small conv-BN-ReLU network with a global-average-pool softmax head (for training tests)."""
    import keras

    inputs = keras.Input(input_shape)
    x = inputs
    for i, width in enumerate(filters):
        x = keras.layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=bn_momentum)(x)
        x = keras.layers.ReLU()(x)
        if i < len(filters) - 1:
            x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x))


@pytest.fixture
def make_cnn():
    """Factory fixture for :func:`small_bn_cnn` (seeded, so weights are reproducible)."""
    import keras

    def make(*args, seed=0, **kwargs):
        keras.utils.set_random_seed(seed)
        return small_bn_cnn(*args, **kwargs)

    return make


# pytest-xdist deals the files out one at a time (``--dist loadscope``), by default the files with the
# most tests first; some of the longest hold only a few tests (one subprocess each) and then ran last,
# one worker waiting for the other. Here the files go out longest first (their time in a --durations
# profile of 2026-12-07), each file's tests in their own order.
LONGEST_FIRST = ["test_cli", "test_models", "test_training", "test_pretrained", "test_distribute", "test_bench",
                 "test_backends", "test_blocks", "test_predict"]


def pytest_configure(config):
    # --no-loadscope-reorder (pytest-xdist 3.8): keep the order below
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))
