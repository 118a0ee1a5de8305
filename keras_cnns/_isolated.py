"""The entry point of ``compare(isolate=True)``'s worker processes.

Kept free of TensorFlow imports: a spawned worker unpickles this function first, so TensorFlow is
imported inside it, through :func:`keras_cnns.notebook.import_tensorflow` (no C++ start-up lines on
the notebook's stderr).
"""


def run_one(name: str, source, settings: dict) -> dict:
    """Load the data (a dataset name, or the ``Dataset`` itself), then ``compare._run_one``."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from keras_cnns.notebook import import_tensorflow

    import_tensorflow()
    from keras_cnns import compare, data, training

    dataset, data_dir = source
    ds = data.load(dataset, data_dir, fast=settings["fast"]) if isinstance(dataset, str) else dataset
    training.configure_device()
    return compare._run_one(name, ds, **settings)
