"""The entry points of ``compare``'s worker processes (``isolate=True``).

Kept free of TensorFlow imports: a spawned worker unpickles these functions first, so TensorFlow is
imported inside them, through :func:`keras_cnns.notebook.import_tensorflow` (no C++ start-up lines on
the notebook's stderr).
"""


def leave_quickly():
    """The pool's initializer: at shutdown the worker leaves with ``os._exit(0)`` after the exit handlers
    registered later (TensorFlow's among them; those registered before, such as ``logging.shutdown``, are
    skipped), without Python's teardown of TensorFlow's modules: ~1 s less per worker (2026-12-07). Its
    results went back through the pool's queue before, and multiprocessing flushed its stdout/stderr."""
    import atexit
    import os

    atexit.register(os._exit, 0)


def _start():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from keras_cnns.notebook import import_tensorflow

    import_tensorflow()


def run_one(name: str, source, settings: dict):
    """Load the data (a dataset name, or the ``Dataset`` itself), then ``compare._run_one``.

    Returns the table row and what the parent reports with the table: the device (with the
    ``machine`` line of :func:`keras_cnns.notebook.machine`) and the peak learning rate.
    """
    _start()
    from keras_cnns import compare, data, notebook, training

    dataset, data_dir = source
    ds = data.load(dataset, data_dir, fast=settings["fast"]) if isinstance(dataset, str) else dataset
    device = training.configure_device()
    device["machine"] = notebook.machine()
    row = compare._run_one(name, ds, **settings)
    return row, {"device": device,
                 "peak_learning_rate": training.default_learning_rate(settings["optimizer"], settings["batch_size"])}


def sizes(names, input_shape, classes):
    """``compare.sizes`` in this process.

    Only builds, no training: TensorFlow's oneDNN CPU allocator would keep every freed model's
    memory in its pool (VGG-16 at 224x224: ~1.3 GB more per build, measured on an AVX-512 host),
    so this worker uses the system allocator, which gives it back between builds.
    """
    import os

    os.environ.setdefault("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "1")   # read when TensorFlow loads, below
    _start()
    from keras_cnns import compare

    return compare._size_rows(names, input_shape, classes)
