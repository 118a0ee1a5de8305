"""Datasets for the notebooks: loading (offline-first) and ``tf.data`` pipelines.

>>> from keras_cnns import data
>>> ds = data.load("cifar10")            # local copy, Keras cache, download, or a clear error
>>> ds = data.load("mnist", sample=True)  # the small sample shipped with the package
>>> pipes = data.make_pipelines(ds, batch_size=128, image_size=64)
>>> model.fit(pipes.train, validation_data=pipes.val, epochs=1)

Where :func:`load` looks, in order, is described in :mod:`keras_cnns.data.sources`. Environment:
``KERAS_CNNS_DATA_DIR`` (local data roots), ``KERAS_CNNS_FAST`` (shipped samples, subsampled pipelines),
``KERAS_CNNS_CACHE_DIR`` (decoded-image cache), ``KERAS_CNNS_OFFLINE`` (never download),
``KERAS_CNNS_SYSTEM_DATA_DIR`` (Debian's ``/usr/share/datasets``; empty disables it).
"""

from .core import (CLASS_NAMES, DATASETS, Dataset, DatasetNotFoundError, cache_dir, fast_mode,
                   list_datasets, stratified_split)
from .pipelines import Pipelines, make_pipelines, train_val_indices
from .sources import load, load_sample, sample_names

__all__ = [
    "CLASS_NAMES", "DATASETS", "Dataset", "DatasetNotFoundError", "Pipelines", "cache_dir", "fast_mode",
    "list_datasets", "load", "load_sample", "make_pipelines", "sample_names", "stratified_split", "train_val_indices",
]
