"""``train()``: data -> pipelines -> model with its input normalisation -> ``compile`` -> ``fit`` ->
``evaluate``.  The recipe is a :class:`~keras_cnns.training.config.TrainConfig`."""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from . import callbacks as cb
from . import distribute
from .config import FAST_MAX_STEPS, FAST_MAX_TEST_IMAGES, FAST_MAX_VAL_STEPS, TrainConfig
from .device import batchnorm_layers, current_device, set_seed
from .optim import default_learning_rate, lr_schedule, make_optimizer
from .result import TrainResult, accuracy_ci95
from .._backend import build_training_state
from ..data.pipelines import PARALLEL_CALLS

VERBOSE_CHOICES = (0, 1, 2, "auto")


# ------------------------------------------------------------------------------------------- data


@dataclasses.dataclass
class Prepared:
    """Datasets as ``fit`` will see them, after the fast-setting caps and label mapping."""

    train: Any
    val: Any
    test: Any
    steps_per_epoch: int
    fit_steps: int | None  # steps_per_epoch for fit (None: one pass over train)
    images_per_epoch: int
    n_test: int


def resolve_data(data, config: TrainConfig):
    """A dataset name / ``Dataset`` / ``Pipelines`` -> ``(Dataset or None, Pipelines)``."""
    from keras_cnns import data as kdata  # lazy: keep this module importable alone

    if isinstance(data, (str, os.PathLike)):
        data = kdata.load(data, fast=config.fast)
    if isinstance(data, kdata.Dataset):
        pipelines = kdata.make_pipelines(
            data, config.batch_size, validation_split=config.validation_split, augment=config.augment,
            image_size=config.image_size, seed=config.seed, fast=config.fast)
        return data, pipelines
    if isinstance(data, kdata.Pipelines):
        if config.augment is not None or config.image_size is not None:
            warnings.warn("train(): data is already a Pipelines; augment/image_size/validation_split are "
                          "ignored (pass them to keras_cnns.data.make_pipelines instead)", stacklevel=3)
        return None, data
    raise TypeError("data must be a dataset name, a keras_cnns.data.Dataset or a keras_cnns.data.Pipelines; "
                    f"got {type(data).__name__}")


def _cardinality(dataset, fallback: int) -> int:
    """Number of batches of a finite ``tf.data`` dataset (``fallback`` if unknown)."""
    n = int(dataset.cardinality())
    return n if n >= 0 else int(fallback)


def prepare(pipelines, config: TrainConfig) -> Prepared:
    """Apply the fast-setting / ``steps_per_epoch`` caps and one-hot labels if needed."""
    train_ds, val_ds, test_ds = pipelines.train, pipelines.val, pipelines.test
    if not pipelines.n_val:
        val_ds = None  # validation_split=0: nothing to validate on
    batch_size, n_test = pipelines.batch_size, pipelines.n_test
    steps = _cardinality(train_ds, pipelines.steps_per_epoch)
    cap = config.steps_per_epoch
    if config.fast:
        cap = min(cap or FAST_MAX_STEPS, FAST_MAX_STEPS)
    fit_steps = None
    if cap is not None and cap < steps:
        # repeat + fit(steps_per_epoch): successive epochs read on through the data
        # (``take`` would abandon the pipeline's cache every epoch, with a warning)
        train_ds, steps, fit_steps = train_ds.repeat(), cap, cap
    if config.fast and val_ds is not None:
        val_ds = val_ds.take(FAST_MAX_VAL_STEPS)
    if config.fast and n_test > FAST_MAX_TEST_IMAGES:
        test_batches = math.ceil(FAST_MAX_TEST_IMAGES / batch_size)
        test_ds = test_ds.take(test_batches)
        n_test = min(n_test, test_batches * batch_size)
    if config.label_smoothing:
        def one_hot(x, y):
            return x, tf.one_hot(tf.cast(y, tf.int32), pipelines.num_classes)

        train_ds, val_ds, test_ds = (None if d is None else d.map(one_hot, num_parallel_calls=PARALLEL_CALLS)
                                     for d in (train_ds, val_ds, test_ds))
    return Prepared(train=train_ds, val=val_ds, test=test_ds, steps_per_epoch=steps, fit_steps=fit_steps,
                    images_per_epoch=min(steps * batch_size, pipelines.n_train), n_test=n_test)


# ------------------------------------------------------------------------------------------ model


def has_normalization(model) -> bool:
    """True if the layer right after the model's input is a ``keras.layers.Normalization``."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    return bool(layers) and isinstance(layers[0], keras.layers.Normalization)


def add_normalization(model, pipelines):
    """``model`` with the pipelines' ``Normalization`` layer at its input: it then takes raw pixels.

    The new model is flat (``pixels -> normalization -> the model's own layers``) and *shares* its layers
    with ``model``: training one trains the other.  A model that already starts with a ``Normalization``
    layer (e.g. a reloaded ``best.keras``) is returned unchanged.
    """
    if has_normalization(model):
        return model
    if not isinstance(model, keras.Model) or len(model.inputs) != 1:
        raise TypeError(f"train() needs a single-input Keras model; got {type(model).__name__}")
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    outputs = model.call(pipelines.normalization()(inputs))
    return keras.Model(inputs, outputs, name=model.name)


def _outputs_probabilities(model) -> bool:
    """True if the model ends in a softmax (so the loss must not use logits)."""
    last = model.layers[-1] if getattr(model, "layers", None) else None
    if last is None or isinstance(last, keras.layers.Softmax):
        return True
    activation = getattr(last, "activation", None)
    return "softmax" in str(getattr(activation, "__name__", activation))


def _warn_bn_momentum(model, total_steps: int) -> None:
    """Warn when BatchNorm momentum is too high for the number of training steps."""
    slow = [layer for layer in batchnorm_layers(model) if layer.momentum > 0.95]
    if slow and total_steps < 1000:
        warnings.warn(
            f"{len(slow)} BatchNormalization layer(s) use momentum {slow[0].momentum}: with only {total_steps} "
            "training steps their moving statistics will lag far behind and evaluation can sit near chance. "
            "Call keras_cnns.training.set_bn_momentum(model, 0.9) first.", stacklevel=3)


def _build(name: str, pipelines):
    from keras_cnns import models

    return models.build(name, input_shape=pipelines.input_shape, classes=pipelines.num_classes)


def _compile(model, config: TrainConfig, steps_per_epoch: int, batch_size: int, jit_compile: bool):
    """Optimiser with its schedule, the loss that matches the model's head, accuracy."""
    total_steps = config.epochs * steps_per_epoch
    peak = config.learning_rate
    if peak is None:
        peak = default_learning_rate(config.optimizer, batch_size)
    schedule = peak
    if not isinstance(peak, keras.optimizers.schedules.LearningRateSchedule):
        schedule = lr_schedule(peak, total_steps, config.warmup_epochs * steps_per_epoch)
    optimizer = make_optimizer(config.optimizer, schedule, batch_size=batch_size, momentum=config.momentum,
                               nesterov=config.nesterov, weight_decay=config.weight_decay, model=model)
    from_logits = not _outputs_probabilities(model)
    if config.label_smoothing:
        loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits,
                                                    label_smoothing=config.label_smoothing)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], jit_compile=jit_compile)
    return peak


# ------------------------------------------------------------------------------------------ train


def train(model, data, epochs: int | None = None, *, config: TrainConfig | None = None, out_dir=None,
          resume: bool = False, verbose=2, callbacks=None, **settings) -> TrainResult:
    """Train ``model`` on ``data`` with ``model.fit``, then evaluate it on the test set.

    Args:
        model: a built Keras model, or a registered model name (``"resnet20"``), built after seeding
            for the pipelines' input shape and number of classes.  The model that is trained and returned
            (``result.model``) has a ``Normalization`` layer at its input (training-split statistics),
            so it takes raw pixels; it shares its layers with the model passed in.
        data: a dataset name (loaded with ``keras_cnns.data.load(name, fast=...)``), a
            ``keras_cnns.data.Dataset``, or ready ``keras_cnns.data.Pipelines``.
        epochs: shorthand for ``settings["epochs"]``.
        config: a :class:`TrainConfig`; ``settings`` (any of its fields, e.g. ``batch_size=64``)
            replace its values.
        out_dir: folder for ``metrics.csv``, ``best.keras`` and ``backup/``; ``None`` writes nothing.
        resume: continue a killed run from ``out_dir/backup`` (``metrics.csv`` keeps each epoch once).
            Without it an existing run folder is started afresh.
        verbose: ``model.fit`` verbosity (2 = one line per epoch).
        callbacks: extra Keras callbacks (run after the built-in ones).
    """
    if epochs is not None:
        settings["epochs"] = epochs
    config = TrainConfig.make(config, **settings)
    if verbose not in VERBOSE_CHOICES:
        raise ValueError(f"verbose must be one of 0, 1, 2, 'auto'; got {verbose!r}")
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (where the backup and metrics.csv live)")
    from keras_cnns import data as kdata

    config = dataclasses.replace(config, fast=kdata.fast_mode(config.fast))  # decided here, once
    start = time.perf_counter()
    device = current_device()
    set_seed(config.seed, config.deterministic)
    if config.strategy == "multi_worker":
        raise ValueError("strategy='multi_worker' is not supported: Keras 3's model.fit fails under "
                         "tf.distribute.MultiWorkerMirroredStrategy (PerReplica values reach the train step; "
                         f"{distribute.KERAS_MULTI_WORKER_ISSUE}). Use 'mirrored' on one machine; the README's "
                         "'Beyond one machine' section gives the options for several.")
    strategy = distribute.get_strategy(config.strategy)
    dataset, pipelines = resolve_data(data, config)
    distribute.check_global_batch(pipelines.batch_size, strategy)
    with strategy.scope():  # variables (model, normalisation, optimiser) are mirrored on every replica
        if isinstance(model, str):
            model = _build(model, pipelines)
        distribute.check_model_in_scope(model, strategy, config.strategy)
        model = add_normalization(model, pipelines)
        prepared = prepare(pipelines, config)
        _warn_bn_momentum(model, config.epochs * prepared.steps_per_epoch)
        peak = _compile(model, config, prepared.steps_per_epoch, pipelines.batch_size, device["jit_compile"])
        build_training_state(model, prepared.train.element_spec)   # the train step is traced once
    device.update(distribute.describe(config.strategy, strategy))

    monitor = "val_accuracy" if prepared.val is not None else "accuracy"
    run_dir = None if out_dir is None else Path(out_dir)
    best = None if run_dir is None else cb.prepare_run_dir(run_dir, resume, monitor)[1]
    timer = cb.EpochTimer(prepared.images_per_epoch)
    run_callbacks = cb.run_callbacks(run_dir, resume=resume, monitor=monitor, best=best, timer=timer)
    if hasattr(model, "_initial_epoch"):
        model._initial_epoch = None  # stale state of an earlier BackupAndRestore
    history = model.fit(prepared.train, validation_data=prepared.val, epochs=config.epochs,
                        steps_per_epoch=prepared.fit_steps, callbacks=run_callbacks + list(callbacks or []),
                        verbose=verbose, shuffle=False)  # the pipelines shuffle
    evaluation = model.evaluate(prepared.test, verbose=0, return_dict=True)
    test_accuracy = float(evaluation["accuracy"])

    device["mixed_precision"] = model.dtype_policy.name != "float32"
    device["dtype_policy"] = model.dtype_policy.name
    resolved = config.to_dict()
    resolved.update(
        batch_size=pipelines.batch_size, steps_per_epoch=prepared.steps_per_epoch,
        images_per_epoch=prepared.images_per_epoch, n_train=pipelines.n_train,
        learning_rate=peak if isinstance(peak, (int, float)) else type(peak).__name__,
        weight_decay=config.peak_weight_decay, augment=pipelines.augment,
        validation_split=round(pipelines.n_val / max(pipelines.n_train + pipelines.n_val, 1), 4),
        fit_steps=prepared.fit_steps, callbacks=[type(c).__name__ for c in run_callbacks + list(callbacks or [])])
    return TrainResult(
        history=history, metrics=cb.metrics_frame(run_dir, history), test_loss=float(evaluation["loss"]),
        test_accuracy=test_accuracy, test_ci95=accuracy_ci95(test_accuracy, prepared.n_test),
        n_test=prepared.n_test, model=model, out_dir=None if out_dir is None else str(out_dir),
        dataset=dataset.describe() if dataset is not None else f"pipelines: {pipelines.describe()}",
        is_sample=None if dataset is None else bool(dataset.is_sample), device=device,
        wall_seconds=time.perf_counter() - start, dataset_name=None if dataset is None else dataset.name,
        config=resolved, class_names=None if dataset is None else list(dataset.class_names))
