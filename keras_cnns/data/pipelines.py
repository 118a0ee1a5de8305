"""``tf.data`` input pipelines for a :class:`~keras_cnns.data.core.Dataset`.

Train: cache (uint8) -> shuffle(seed) -> batch -> float32 -> augment (pad-4 crop + flip) -> resize ->
prefetch. Validation and test: cache -> batch -> float32 -> resize -> prefetch. Every step is a
TensorFlow op on whole batches: no Python runs per batch.

tf.data's autotuning is switched off (:func:`pipeline_options`). With it on, a pass over one of
these pipelines -- a training epoch, a validation or a test pass -- sometimes ended on a doubling of
10 ms (5.12, 10.24, 20.48, 40.96, 81.92 s) instead of when its work was done: two epochs of ResNet-20
on 6,000 Fashion-MNIST images once took 81.9 s instead of 48.5 s on 2 CPU cores, and on another host
type test passes took 5.12 s instead of 4.48 s (``scripts/autotune_probe.py``, ``results/autotune/``).

The pipelines yield *raw* pixel values (0-255, as floats): normalisation is part of the model, a
``keras.layers.Normalization`` layer made by :meth:`Pipelines.normalization` from the training
split's per-channel statistics (``keras_cnns.training`` puts it at the model's input), so that a
saved model classifies raw images on its own.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

from .core import Dataset, fast_mode, stratified_split

#: Fast mode keeps at most this many training / test images (stratified).
FAST_MAX_TRAIN = 2000
FAST_MAX_TEST = 500
PAD = 4  # pixels of padding for the random-crop augmentation
PARALLEL_CALLS = os.cpu_count() or 1  # parallel map calls (tf.data's autotuning is off)


def pipeline_options():
    """``tf.data.Options`` of every pipeline here: autotuning off (see the module docstring).

    The parallel maps run one call per CPU core (:data:`PARALLEL_CALLS`) and the prefetch buffer
    holds 2 batches, fixed instead of tuned.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


@dataclasses.dataclass(repr=False)
class Pipelines:
    """Batched, prefetched ``tf.data`` pipelines yielding ``(float32 raw pixels 0-255, int64 labels)``.

    ``mean`` and ``std`` are the training split's per-channel statistics in [0, 1] units; the model
    normalises with them (:meth:`normalization`).
    """

    train: "tf.data.Dataset"  # noqa: F821
    val: "tf.data.Dataset"  # noqa: F821
    test: "tf.data.Dataset"  # noqa: F821
    mean: np.ndarray          # per channel, from the training split only, in [0, 1] pixel units
    std: np.ndarray
    n_train: int
    n_val: int
    n_test: int
    steps_per_epoch: int
    input_shape: tuple        # what the model must accept (after any resize)
    num_classes: int
    batch_size: int = 128
    augment: bool = False
    fast: bool = False
    notes: str = ""

    def normalization(self, name: str = "normalization"):
        """A ``keras.layers.Normalization`` with this training split's per-channel mean and variance,
        in raw pixel units: ``(x - mean) / std`` for pixels ``x`` in 0-255."""
        import keras

        return keras.layers.Normalization(mean=(self.mean * 255.0).tolist(),
                                          variance=np.square(self.std * 255.0).tolist(), name=name)

    def describe(self) -> str:
        """One line: split sizes, input shape, augmentation and fast mode."""
        text = (f"{self.n_train:,} train / {self.n_val:,} val / {self.n_test:,} test, input "
                f"{'x'.join(map(str, self.input_shape))}, {self.steps_per_epoch} steps/epoch, "
                f"augment={'on' if self.augment else 'off'}")
        return text + (f" ({self.notes})" if self.notes else "")

    def __repr__(self) -> str:
        return f"Pipelines<{self.describe()}>"


def channel_stats(x: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of uint8 images ``(N, H, W, C)`` in [0, 1] units, in chunks (no float copy
    of the whole array)."""
    total = np.zeros(x.shape[-1])
    squares = np.zeros(x.shape[-1])
    for start in range(0, len(x), chunk):
        part = x[start:start + chunk].astype(np.float64)
        total += part.sum(axis=(0, 1, 2))
        squares += np.square(part).sum(axis=(0, 1, 2))
    count = x.size / x.shape[-1]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean ** 2, 0.0))
    return (mean / 255.0).astype(np.float32), np.maximum(std / 255.0, 1.0 / 255.0).astype(np.float32)


def _image_size(image_size, native: tuple) -> tuple[int, int] | None:
    """Normalise ``image_size`` (int or (h, w)) to a pair, or None when no resize is needed."""
    if image_size is None:
        return None
    size = (image_size, image_size) if isinstance(image_size, (int, np.integer)) else tuple(image_size)
    if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size):
        raise ValueError(f"image_size must be a positive int or a (height, width) pair; got {image_size!r}")
    size = (int(size[0]), int(size[1]))
    return None if size == tuple(native[:2]) else size


def _subsample(x, y, limit: int, seed: int):
    if len(y) <= limit:
        return x, y
    keep, _ = stratified_split(y, limit, seed=seed)
    return x[keep], y[keep]


def random_crop_flip(images, seed):
    """Pad each image by :data:`PAD` pixels (zeros: black, as torchvision's ``RandomCrop(padding=4)``), crop back to its
    size at a random offset, and flip it left-right with probability 1/2. ``seed`` is a stateless seed
    pair; every image of the batch gets its own offset and flip."""
    import tensorflow as tf

    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    padded = tf.pad(images, [[0, 0], [PAD, PAD], [PAD, PAD], [0, 0]])
    offsets = tf.random.stateless_uniform([batch, 2], seed=seed, minval=0, maxval=2 * PAD + 1, dtype=tf.int32)
    rows = offsets[:, :1] + tf.range(height)[tf.newaxis, :]  # (B, H)
    cols = offsets[:, 1:] + tf.range(width)[tf.newaxis, :]   # (B, W)
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)
    cropped = tf.gather(cropped, cols, axis=2, batch_dims=1)
    flip = tf.random.stateless_uniform([batch], seed=seed + [0, 1]) < 0.5
    return tf.where(flip[:, tf.newaxis, tf.newaxis, tf.newaxis], tf.reverse(cropped, axis=[2]), cropped)


def train_val_indices(y: np.ndarray, validation_split: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The (train, validation) indices into ``y`` that :func:`make_pipelines` uses: a stratified hold-out
    of ``round(len(y) * validation_split)`` images, then each part in one seeded random order.

    Sources read from class folders come sorted by class, and a shuffle buffer smaller than the training
    set would then give batches of two or three classes (BatchNorm statistics and SGD both suffer). One
    seeded permutation up front makes every buffer a random mix. Other frameworks trained on "the same
    split" (``scripts/torch_reference.py``) call this function too.
    """
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1); got {validation_split!r}")
    n_val = int(round(len(y) * validation_split))
    val_idx, train_idx = stratified_split(y, n_val, seed=seed)
    rng = np.random.default_rng(seed)
    return rng.permutation(train_idx), rng.permutation(val_idx)


def make_pipelines(ds: Dataset, batch_size: int = 128, *, validation_split: float = 0.1,
                   augment: bool | None = None, image_size: int | tuple | None = None, seed: int = 0,
                   fast: bool | None = None, cache: bool = True, shuffle_buffer: int = 10000) -> Pipelines:
    """Build train/val/test ``tf.data`` pipelines for ``ds``.

    Args:
        ds: the dataset (see :func:`keras_cnns.data.load`).
        batch_size: images per batch (positive int).
        validation_split: fraction of the *training* data held out for validation (0 <= x < 1),
            stratified with ``seed``; the test set is never touched.
        augment: pad-4 random crop + horizontal flip on the training pipeline only. None: on for
            RGB images (CIFAR-like), off for single-channel ones (MNIST-like).
        image_size: resize each batch on the fly to ``image_size`` (int or (h, w)); None keeps the size.
        seed: seeds the validation split, the fast-mode subsample, shuffling and augmentation.
        fast: keep at most :data:`FAST_MAX_TRAIN` training and :data:`FAST_MAX_TEST` test images
            (stratified). None: ``KERAS_CNNS_FAST``.
        cache: cache the uint8 images in the pipelines (before augmentation).
        shuffle_buffer: size of the shuffle buffer (capped at the training set size).
    """
    import tensorflow as tf

    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1); got {validation_split!r}")
    if not isinstance(shuffle_buffer, (int, np.integer)) or shuffle_buffer < 1:
        raise ValueError(f"shuffle_buffer must be a positive int; got {shuffle_buffer!r}")
    fast = fast_mode() if fast is None else bool(fast)
    channels = ds.input_shape[-1]
    augment = (channels == 3) if augment is None else bool(augment)
    size = _image_size(image_size, ds.input_shape)

    x_train, y_train, x_test, y_test = ds.x_train, ds.y_train, ds.x_test, ds.y_test
    notes = []
    if fast:
        x_train, y_train = _subsample(x_train, y_train, FAST_MAX_TRAIN, seed)
        x_test, y_test = _subsample(x_test, y_test, FAST_MAX_TEST, seed)
        if (len(y_train), len(y_test)) != (len(ds.y_train), len(ds.y_test)):
            notes.append(f"fast mode: subsampled (stratified) from {len(ds.y_train):,} / {len(ds.y_test):,} "
                         f"to {len(y_train):,} train+val / {len(y_test):,} test")
    train_idx, val_idx = train_val_indices(y_train, validation_split, seed)
    x_val, y_val = x_train[val_idx], y_train[val_idx]
    x_train, y_train = x_train[train_idx], y_train[train_idx]
    mean, std = channel_stats(x_train)

    def to_float(images, labels):
        return tf.cast(images, tf.float32), labels

    def resize(images, labels):
        return tf.image.resize(images, size), labels

    def build(x, y, training: bool):
        data = tf.data.Dataset.from_tensor_slices((x, y))
        if cache:
            data = data.cache()
        if training:
            data = data.shuffle(min(shuffle_buffer, max(len(y), 1)), seed=seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size).map(to_float, num_parallel_calls=PARALLEL_CALLS)
        if training and augment:
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            data = tf.data.Dataset.zip((data, seeds)).map(
                lambda batch, s: (random_crop_flip(batch[0], s), batch[1]),
                num_parallel_calls=PARALLEL_CALLS)
        if size is not None:
            data = data.map(resize, num_parallel_calls=PARALLEL_CALLS)
        return data.prefetch(2).with_options(pipeline_options())

    h, w, c = ds.input_shape
    return Pipelines(
        train=build(x_train, y_train, True), val=build(x_val, y_val, False), test=build(x_test, y_test, False),
        mean=mean, std=std, n_train=len(y_train), n_val=len(y_val), n_test=len(y_test),
        steps_per_epoch=math.ceil(len(y_train) / batch_size), input_shape=(*(size or (h, w)), c),
        num_classes=ds.num_classes, batch_size=int(batch_size), augment=augment, fast=fast, notes="; ".join(notes))
