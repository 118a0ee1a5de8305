"""Training on top of ``model.fit``: optimiser, schedule, callbacks, test evaluation.

One call trains a model the way the notebooks need it::

    from keras_cnns import data, models, training
    training.set_seed(0)
    training.configure_device()          # before building: mixed precision on GPUs
    ds = data.load("cifar10", sample=True)
    model = models.build("resnet20", input_shape=ds.input_shape, classes=ds.num_classes)
    result = training.train(model, ds, epochs=2, out_dir="runs/resnet20")
    print(result)                        # one line: test accuracy, its 95% CI, n, epochs, time

What ``train()`` adds to ``model.fit``
--------------------------------------
* **Optimiser.** ``"sgd"``: SGD with momentum 0.9 (Nesterov by default) and a peak
  learning rate of ``0.1 * batch_size / 128`` (the linear scaling rule of Goyal et
  al. 2017 around the 0.1-at-128 of He et al. 2015).  ``"adamw"``: AdamW with a
  peak learning rate of ``1e-3`` (not scaled with the batch size).
* **Weight decay** is *decoupled*: it is passed as the optimiser's
  ``weight_decay`` argument, and Keras 3 applies it before each update as
  ``w <- w - learning_rate * weight_decay * w`` (for SGD as well as AdamW; it
  follows the learning-rate schedule).  It is therefore *not* an L2 term in the
  loss: with SGD momentum ``m`` a coupled L2 penalty ``wd`` (PyTorch's
  ``SGD(weight_decay=wd)``, the papers' "weight decay 1e-4/5e-4") acts about
  ``1 / (1 - m)`` = 10x more strongly than the same number here (to mimic a
  paper's coupled 1e-4 with momentum 0.9, pass ``weight_decay=1e-3``).  Defaults:
  ``5e-4`` for SGD, ``0.05`` for AdamW.  Biases and normalisation parameters
  (variables named ``bias``, ``gamma``, ``beta``) are excluded through
  ``optimizer.exclude_from_weight_decay``.
* **Schedule.** Cosine decay to zero over all training steps, with an optional
  linear warm-up from 0 over ``warmup_epochs``
  (``keras.optimizers.schedules.CosineDecay(..., warmup_target, warmup_steps)``).
* **Label smoothing.** Keras 3's ``SparseCategoricalCrossentropy`` has no
  ``label_smoothing`` argument, so with ``label_smoothing > 0`` the labels are
  one-hot encoded in the ``tf.data`` pipelines and ``CategoricalCrossentropy``
  is used; otherwise the model is compiled with the sparse loss (so it can be
  evaluated directly on the integer-labelled pipelines of ``keras_cnns.data``).
* **Callbacks** (with ``out_dir``): ``CSVLogger`` -> ``metrics.csv``,
  ``ModelCheckpoint`` of the best ``val_accuracy`` -> ``best.keras``,
  ``BackupAndRestore`` -> ``backup/`` so that ``resume=True`` continues a killed
  run at the epoch where it stopped (``metrics.csv`` then holds every epoch exactly
  once), and an :class:`EpochTimer` that adds ``seconds``, ``images_per_sec``
  and ``lr`` to the logs (and so to ``metrics.csv`` and the history).
* **Test evaluation** with ``model.evaluate`` (inference mode: BatchNorm uses its
  moving statistics) of the *final* model, with a Wilson 95% interval.

BatchNormalization momentum
---------------------------
Keras' default BatchNormalization momentum is 0.99: the moving mean/variance used at
inference move by 1% per step, so after the few hundred steps of a short tutorial
run they are still close to their initial values (0 and 1) and the evaluated model
sits near chance although training accuracy is high.  The builders in
``keras_cnns.models`` use momentum 0.9 (PyTorch's 0.1); for a model built elsewhere
call :func:`set_bn_momentum` before training.  ``train()`` warns when it sees
momentum > 0.95 on a short run.

Device
------
:func:`configure_device` must run *before the model is built* for mixed precision
to apply (the dtype policy is read when the layers are created).  ``train()`` calls
it with its defaults if it has not been called yet.  On the CPU everything stays
float32 and XLA stays off: ``jit_compile=True`` measured 3-6x slower than plain
TensorFlow for a CIFAR ResNet on a 2-core machine.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

__all__ = [
    "OPTIMIZERS",
    "EpochTimer",
    "TrainResult",
    "accuracy_ci95",
    "configure_device",
    "default_learning_rate",
    "make_optimizer",
    "set_bn_momentum",
    "set_seed",
    "train",
]

OPTIMIZERS = ("sgd", "adamw")
DEFAULT_LEARNING_RATE = {"sgd": 0.1, "adamw": 1e-3}
DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adamw": 0.05}
REFERENCE_BATCH_SIZE = 128  # SGD's 0.1 is the learning rate at this batch size

FAST_MAX_STEPS = 20  # training batches per epoch in fast mode
FAST_MAX_VAL_STEPS = 5  # validation batches per epoch in fast mode
FAST_MAX_TEST_IMAGES = 1000  # test images evaluated in fast mode

MIXED_PRECISION_CHOICES = ("auto", True, False, "float32", "mixed_float16", "mixed_bfloat16")
METRIC_COLUMNS = (
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "lr",
    "seconds",
    "images_per_sec",
)
NO_DECAY_VARIABLE_NAMES = ("bias", "gamma", "beta")

_DEVICE: dict | None = None


# --------------------------------------------------------------------------- setup


def set_seed(seed: int = 0, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``).

    With ``deterministic=True`` also enables TensorFlow op determinism
    (``tf.config.experimental.enable_op_determinism``): bit-identical reruns,
    somewhat slower, and it cannot be switched off again in the same process.
    Call it before building the model so the initial weights are reproducible.
    """
    _check_int("seed", seed, minimum=0)
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def _cpu_count() -> int:
    """CPU cores this process may use (respects affinity / container limits)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _gpu_policy(gpus: list) -> str:
    """Best mixed-precision policy for the first GPU: bfloat16 from Ampere on."""
    try:
        details = tf.config.experimental.get_device_details(gpus[0])
    except Exception:  # details are best effort
        details = {}
    capability = details.get("compute_capability") or (0, 0)
    if tuple(capability) >= (8, 0):
        return "mixed_bfloat16"  # no loss scaling needed, same speed as float16
    if tuple(capability) >= (7, 0):
        return "mixed_float16"  # tensor cores, with dynamic loss scaling
    return "float32"  # older GPUs gain nothing from float16


def configure_device(mixed_precision="auto", xla=None, memory_growth=True) -> dict:
    """Choose precision and compilation for this machine; returns a description.

    Must be called *before the model is built*: the global Keras dtype policy is
    read when layers are created, so a model built earlier stays float32.

    Args:
        mixed_precision: ``"auto"`` (mixed precision on a GPU that benefits:
            ``mixed_bfloat16`` from compute capability 8.0, ``mixed_float16``
            from 7.0; float32 on the CPU), ``True`` (mixed precision even on the
            CPU: bfloat16), ``False``/``"float32"``, or an explicit policy name
            ``"mixed_float16"`` / ``"mixed_bfloat16"``.
        xla: ``jit_compile`` for ``model.compile``; ``None`` means on for a GPU,
            off for the CPU (where XLA was measured 3-6x slower for a CIFAR ResNet).
        memory_growth: let TensorFlow allocate GPU memory on demand instead of
            all at once (only possible before the GPU is first used).

    Returns:
        e.g. ``{"device": "CPU", "gpus": 0, "gpu_name": None, "mixed_precision":
        False, "dtype_policy": "float32", "jit_compile": False, "cpu_count": 2}``.
    """
    global _DEVICE
    if not (
        isinstance(mixed_precision, bool)
        or isinstance(mixed_precision, str) and mixed_precision in MIXED_PRECISION_CHOICES
    ):
        raise ValueError(
            f"mixed_precision must be one of {', '.join(map(repr, MIXED_PRECISION_CHOICES))}; "
            f"got {mixed_precision!r}"
        )
    if xla not in (None, True, False):
        raise ValueError(f"xla must be None, True or False; got {xla!r}")
    gpus = tf.config.list_physical_devices("GPU")
    if memory_growth:
        for gpu in gpus:
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:  # GPU already initialised: setting is fixed
                pass
    if mixed_precision is True:
        policy = _gpu_policy(gpus) if gpus else "mixed_bfloat16"
    elif mixed_precision == "auto":
        policy = _gpu_policy(gpus) if gpus else "float32"
    elif mixed_precision in (False, "float32"):
        policy = "float32"
    else:
        policy = mixed_precision
    keras.mixed_precision.set_global_policy(policy)
    gpu_name = None
    if gpus:
        try:
            gpu_name = tf.config.experimental.get_device_details(gpus[0]).get("device_name")
        except Exception:
            gpu_name = None
    _DEVICE = {
        "device": "GPU" if gpus else "CPU",
        "gpus": len(gpus),
        "gpu_name": gpu_name,
        "mixed_precision": policy != "float32",
        "dtype_policy": policy,
        "jit_compile": bool(gpus) if xla is None else bool(xla),
        "cpu_count": _cpu_count(),
    }
    return dict(_DEVICE)


def set_bn_momentum(model, momentum: float = 0.9) -> int:
    """Set ``momentum`` on every BatchNormalization layer of ``model`` (nested too).

    Use it for models built outside ``keras_cnns.models`` (whose builders already
    use 0.9): Keras' default 0.99 leaves the moving statistics far behind in short
    runs, and evaluation then sits near chance.  Call it before ``train()``
    (which compiles the model, so the new value is traced into the train step).

    Returns:
        the number of BatchNormalization layers changed.
    """
    if not isinstance(momentum, (int, float)) or not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be a float in [0, 1); got {momentum!r}")
    layers = _batchnorm_layers(model)
    for layer in layers:
        layer.momentum = float(momentum)
    return len(layers)


def _batchnorm_layers(model) -> list:
    """All BatchNormalization layers of a model, including nested models/layers."""
    found = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
    return found


# --------------------------------------------------------------------- statistics


def accuracy_ci95(accuracy: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95% interval for an accuracy measured on ``n`` examples.

    >>> [round(v, 4) for v in accuracy_ci95(0.9, 100)]
    [0.8256, 0.9448]
    """
    _check_int("n", n, minimum=1)
    if not 0.0 <= float(accuracy) <= 1.0:
        raise ValueError(f"accuracy must be in [0, 1]; got {accuracy!r}")
    p = float(accuracy)
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if p == 0.0 else max(0.0, centre - half)
    high = 1.0 if p == 1.0 else min(1.0, centre + half)
    return low, high


# -------------------------------------------------------------------- optimiser


def _no_decay_variables(model) -> list:
    """Trainable biases and normalisation scales/offsets (excluded from decay)."""
    return [v for v in model.trainable_variables if v.name in NO_DECAY_VARIABLE_NAMES]


def _lr_schedule(peak: float, total_steps: int, warmup_steps: int):
    """Cosine decay to 0 over ``total_steps``, after a linear warm-up from 0."""
    if warmup_steps > 0:
        return keras.optimizers.schedules.CosineDecay(
            0.0,
            decay_steps=max(1, total_steps - warmup_steps),
            warmup_target=float(peak),
            warmup_steps=int(warmup_steps),
        )
    return keras.optimizers.schedules.CosineDecay(float(peak), decay_steps=max(1, total_steps))


def make_optimizer(
    name: str = "sgd",
    learning_rate=None,
    *,
    batch_size: int = REFERENCE_BATCH_SIZE,
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float | None = None,
    model=None,
):
    """The optimiser ``train()`` uses (see the module docstring for the defaults).

    ``learning_rate`` may be a float or a Keras schedule; ``None`` picks the
    default peak (SGD: ``0.1 * batch_size / 128``; AdamW: ``1e-3``).  With
    ``model`` given, its biases and normalisation parameters are excluded from
    weight decay.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}; got {name!r}")
    if learning_rate is None:
        learning_rate = default_learning_rate(name, batch_size)
    if weight_decay is None:
        weight_decay = DEFAULT_WEIGHT_DECAY[name]
    if name == "sgd":
        optimizer = keras.optimizers.SGD(
            learning_rate=learning_rate,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay or None,
        )
    else:
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    if model is not None and weight_decay:
        optimizer.exclude_from_weight_decay(var_list=_no_decay_variables(model))
    return optimizer


def default_learning_rate(optimizer: str, batch_size: int) -> float:
    """Default peak learning rate: SGD ``0.1 * batch_size / 128``, AdamW ``1e-3``."""
    if optimizer == "sgd":
        return DEFAULT_LEARNING_RATE["sgd"] * batch_size / REFERENCE_BATCH_SIZE
    return DEFAULT_LEARNING_RATE[optimizer]


def current_learning_rate(optimizer) -> float:
    """The learning rate the optimiser would use for its next step."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


# -------------------------------------------------------------------- callbacks


class EpochTimer(keras.callbacks.Callback):
    """Adds ``seconds``, ``images_per_sec`` and ``lr`` to each epoch's logs.

    ``seconds`` is the wall time of the whole epoch (training + validation);
    ``images_per_sec`` is training images / training time, so it excludes
    validation (the first epoch also includes tracing the train step);
    ``lr`` is the learning rate at the end of the epoch.  Put it before
    ``CSVLogger`` in the callback list so the values reach ``metrics.csv``.
    """

    def __init__(self, images_per_epoch: int):
        super().__init__()
        self.images_per_epoch = int(images_per_epoch)
        self._start = 0.0
        self._train_end = None
        self._lr = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._train_end = None
        optimizer = getattr(self.model, "optimizer", None)
        self._lr = None if optimizer is None else current_learning_rate(optimizer)

    def on_train_batch_end(self, batch, logs=None):
        self._train_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        now = time.perf_counter()
        train_seconds = (self._train_end or now) - self._start
        logs["seconds"] = now - self._start
        logs["images_per_sec"] = self.images_per_epoch / max(train_seconds, 1e-9)
        if self._lr is not None:
            logs["lr"] = self._lr


# -------------------------------------------------------------------- results


@dataclass
class TrainResult:
    """Everything a notebook needs after ``train()``; ``str()`` is one readable line."""

    history: Any = field(repr=False)
    metrics: pd.DataFrame = field(repr=False)
    test_loss: float
    test_accuracy: float
    test_ci95: tuple[float, float]
    n_test: int
    model: Any = field(repr=False)
    out_dir: str | None
    dataset: str
    is_sample: bool | None
    device: dict
    wall_seconds: float
    dataset_name: str | None = None
    config: dict = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        """Number of epochs recorded in ``metrics`` (all of them after a resume)."""
        return len(self.metrics)

    def summary(self) -> str:
        """One line, e.g. ``test accuracy 97.1% (95% CI 96.6-97.5%, n=2000) ...``."""
        lo, hi = self.test_ci95
        parts = [
            f"test accuracy {100 * self.test_accuracy:.1f}% "
            f"(95% CI {100 * lo:.1f}\u2013{100 * hi:.1f}%, n={self.n_test})",
            f"test loss {self.test_loss:.3f}",
            f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}",
            f"{self.wall_seconds:.0f} s on {self.device.get('device', '?')}",
        ]
        if self.dataset_name:
            sample = " (shipped sample)" if self.is_sample else ""
            parts.append(f"{self.dataset_name}{sample}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return self.summary()


# ------------------------------------------------------------------ validation


def _check_int(name: str, value, minimum: int | None = None, allow_none: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int >= minimum."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (
        minimum is not None and value < minimum
    ):
        bound = f" >= {minimum}" if minimum is not None else ""
        none = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an integer{bound}{none}; got {value!r}")


def _check_float(name: str, value, low: float, high: float, *, high_open=False, allow_none=False):
    """Raise ``ValueError`` naming ``name`` unless ``low <= value <= high`` (or < high)."""
    if value is None and allow_none:
        return
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if ok:
        ok = low <= value < high if high_open else low <= value <= high
    if not ok:
        interval = f"[{low}, {high})" if high_open else f"[{low}, {high}]"
        none = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a number in {interval}{none}; got {value!r}")


def _validate_train_args(
    *,
    epochs,
    batch_size,
    optimizer,
    learning_rate,
    momentum,
    weight_decay,
    warmup_epochs,
    label_smoothing,
    validation_split,
    verbose,
    steps_per_epoch,
    out_dir,
    resume,
    seed,
) -> None:
    """Check ``train()``'s arguments before any work; ``ValueError`` names the culprit."""
    _check_int("epochs", epochs, minimum=1)
    _check_int("batch_size", batch_size, minimum=1)
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}; got {optimizer!r}"
        )
    if learning_rate is not None and not isinstance(
        learning_rate, keras.optimizers.schedules.LearningRateSchedule
    ):
        _check_float("learning_rate", learning_rate, 0.0, math.inf)
        if learning_rate <= 0:
            raise ValueError(f"learning_rate must be > 0 or None; got {learning_rate!r}")
    _check_float("momentum", momentum, 0.0, 1.0, high_open=True)
    _check_float("weight_decay", weight_decay, 0.0, math.inf, allow_none=True)
    _check_int("warmup_epochs", warmup_epochs, minimum=0)
    if warmup_epochs >= epochs:
        raise ValueError(
            f"warmup_epochs must be smaller than epochs ({epochs}); got {warmup_epochs!r}"
        )
    _check_float("label_smoothing", label_smoothing, 0.0, 1.0, high_open=True)
    _check_float("validation_split", validation_split, 0.0, 1.0, high_open=True)
    if verbose not in (0, 1, 2, "auto"):
        raise ValueError(f"verbose must be one of 0, 1, 2, 'auto'; got {verbose!r}")
    _check_int("steps_per_epoch", steps_per_epoch, minimum=1, allow_none=True)
    _check_int("seed", seed, minimum=0)
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (where the backup and metrics.csv live)")


# ------------------------------------------------------------------------ data


@dataclass
class _Prepared:
    """Datasets as ``fit`` will see them, after fast-mode caps and label mapping."""

    train: Any
    val: Any
    test: Any
    steps_per_epoch: int
    fit_steps: int | None  # steps_per_epoch for fit (None: one pass over train)
    images_per_epoch: int
    batch_size: int
    n_test: int
    num_classes: int | None


def _resolve_data(data, *, batch_size, validation_split, augment, image_size, seed, fast):
    """Turn a dataset name / ``Dataset`` / ``Pipelines`` into ``(Dataset|None, Pipelines)``."""
    from keras_cnns import data as kdata  # lazy: keep this module importable alone

    if isinstance(data, (str, os.PathLike)):
        data = _load_by_name(kdata, str(data), fast)
    if hasattr(data, "x_train") and hasattr(data, "y_train"):
        pipelines = kdata.make_pipelines(
            data,
            batch_size,
            validation_split=validation_split,
            augment=augment,
            image_size=image_size,
            seed=seed,
            fast=fast,
        )
        return data, pipelines
    if hasattr(data, "train") and hasattr(data, "test"):
        if augment is not None or image_size is not None:
            warnings.warn(
                "train(): data is already a Pipelines; augment/image_size/validation_split "
                "are ignored (pass them to keras_cnns.data.make_pipelines instead)",
                stacklevel=3,
            )
        return None, data
    raise TypeError(
        "data must be a dataset name, a keras_cnns.data.Dataset or a "
        f"keras_cnns.data.Pipelines; got {type(data).__name__}"
    )


def _load_by_name(kdata, name: str, fast: bool):
    """``load(name)``; in fast mode the shipped sample when there is one."""
    if fast:
        try:
            return kdata.load(name, sample=True)
        except ValueError:  # no shipped sample: the full data, subsampled by the pipelines
            pass
    return kdata.load(name)


def _cardinality(dataset, fallback: int) -> int:
    """Number of batches of a finite ``tf.data`` dataset (``fallback`` if unknown)."""
    try:
        n = int(dataset.cardinality())
    except Exception:
        return int(fallback)
    return n if n >= 0 else int(fallback)


def _prepare(pipelines, *, batch_size, fast, steps_per_epoch, label_smoothing, model, from_pipelines):
    """Apply the fast-mode / ``steps_per_epoch`` caps and one-hot labels if needed."""
    train_ds, val_ds, test_ds = pipelines.train, pipelines.val, pipelines.test
    if not getattr(pipelines, "n_val", 1):
        val_ds = None  # validation_split=0: nothing to validate on
    n_train, n_test = int(pipelines.n_train), int(pipelines.n_test)
    steps = _cardinality(train_ds, getattr(pipelines, "steps_per_epoch", 0) or 1)
    if from_pipelines:  # the batch size is the pipelines', not the argument's
        batch_size = int(getattr(pipelines, "batch_size", 0) or max(1, math.ceil(n_train / max(steps, 1))))
    cap = steps_per_epoch
    if fast:
        cap = min(cap or FAST_MAX_STEPS, FAST_MAX_STEPS)
    fit_steps = None
    if cap is not None and cap < steps:
        # repeat + fit(steps_per_epoch): successive epochs read on through the data
        # (``take`` would abandon the pipeline's cache every epoch, with a warning)
        train_ds, steps, fit_steps = train_ds.repeat(), cap, cap
    if fast and val_ds is not None:
        val_ds = val_ds.take(FAST_MAX_VAL_STEPS)
    if fast and n_test > FAST_MAX_TEST_IMAGES:
        test_batches = math.ceil(FAST_MAX_TEST_IMAGES / batch_size)
        test_ds = test_ds.take(test_batches)
        n_test = min(n_test, test_batches * batch_size)
    num_classes = getattr(pipelines, "num_classes", None) or int(model.output_shape[-1])
    if label_smoothing:
        train_ds, val_ds, test_ds = (
            None if d is None else d.map(_one_hot(num_classes), num_parallel_calls=tf.data.AUTOTUNE)
            for d in (train_ds, val_ds, test_ds)
        )
    return _Prepared(
        train=train_ds,
        val=val_ds,
        test=test_ds,
        steps_per_epoch=steps,
        fit_steps=fit_steps,
        images_per_epoch=min(steps * batch_size, n_train),
        batch_size=batch_size,
        n_test=n_test,
        num_classes=num_classes,
    )


def _describe_pipelines(pipelines) -> str:
    """``Pipelines.describe()`` when available (for ``TrainResult.dataset``)."""
    describe = getattr(pipelines, "describe", None)
    return f"pipelines: {describe()}" if callable(describe) else "pipelines"


def _validation_fraction(pipelines, default: float) -> float:
    """Share of the training data held out for validation by ``pipelines``."""
    n_train, n_val = getattr(pipelines, "n_train", None), getattr(pipelines, "n_val", None)
    if not n_train or n_val is None:
        return default
    return round(n_val / (n_train + n_val), 4)


def _one_hot(num_classes: int):
    """``tf.data`` map function: integer labels -> float one-hot labels."""

    def fn(x, y):
        return x, tf.one_hot(tf.cast(y, tf.int32), num_classes)

    return fn


# ----------------------------------------------------------------- run folder


def _completed_epochs(backup_dir: Path) -> int:
    """Epochs finished according to a BackupAndRestore folder (0 if none)."""
    import json

    meta = backup_dir / "training_metadata.json"
    if not meta.exists() or not (backup_dir / "latest.weights.h5").exists():
        return 0
    try:
        return int(json.loads(meta.read_text())["epoch"])
    except (ValueError, KeyError, OSError):
        return 0


def _truncate_csv(path: Path, keep_epochs: int) -> None:
    """Keep only the rows of epochs ``< keep_epochs`` (a kill may leave one extra)."""
    if not path.exists():
        return
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    header, body = rows[0], rows[1:]
    kept = [r for r in body if r and r[0].strip().isdigit() and int(r[0]) < keep_epochs]
    seen, unique = set(), []
    for r in kept:  # one row per epoch, first occurrence wins
        if r[0] not in seen:
            seen.add(r[0])
            unique.append(r)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        if unique:
            writer.writerow(header)
            writer.writerows(unique)


def _best_so_far(path: Path, monitor: str) -> float | None:
    """Best value of ``monitor`` already in ``metrics.csv`` (threshold on resume)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    frame = pd.read_csv(path)
    if monitor not in frame or frame[monitor].dropna().empty:
        return None
    return float(frame[monitor].max())


def _prepare_run_dir(out_dir: Path, resume: bool, monitor: str) -> tuple[int, float | None]:
    """Create/clean ``out_dir``; on resume, align metrics.csv with the backup.

    Returns ``(completed_epochs, best_monitor_value)``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    backup, metrics = out_dir / "backup", out_dir / "metrics.csv"
    if not resume:
        shutil.rmtree(backup, ignore_errors=True)
        for stale in (metrics, out_dir / "best.keras"):
            stale.unlink(missing_ok=True)
        return 0, None
    done = _completed_epochs(backup)
    _truncate_csv(metrics, done)
    return done, _best_so_far(metrics, monitor)


def _run_callbacks(out_dir: Path | None, *, resume: bool, monitor: str, best, timer) -> list:
    """Timer, then (with ``out_dir``) CSVLogger, ModelCheckpoint, BackupAndRestore."""
    callbacks = [timer]
    if out_dir is None:
        return callbacks
    callbacks += [
        keras.callbacks.CSVLogger(str(out_dir / "metrics.csv"), append=resume),
        keras.callbacks.ModelCheckpoint(
            str(out_dir / "best.keras"),
            monitor=monitor,
            mode="max",
            save_best_only=True,
            initial_value_threshold=best,
        ),
        # kept after a finished run so resume=True of a done run is a no-op
        keras.callbacks.BackupAndRestore(str(out_dir / "backup"), delete_checkpoint=False),
    ]
    return callbacks


def _metrics_frame(out_dir: Path | None, history) -> pd.DataFrame:
    """Per-epoch metrics: from metrics.csv (complete across resumes) or the History."""
    path = None if out_dir is None else out_dir / "metrics.csv"
    if path is not None and path.exists() and path.stat().st_size > 0:
        frame = pd.read_csv(path)
    else:
        frame = pd.DataFrame(history.history)
        frame.insert(0, "epoch", list(history.epoch))
    frame = frame.dropna(axis="columns", how="all")  # CSVLogger's val_* without validation
    ordered = [c for c in METRIC_COLUMNS if c in frame] + [c for c in frame if c not in METRIC_COLUMNS]
    return frame[ordered].reset_index(drop=True)


# ------------------------------------------------------------------------ model


def _outputs_probabilities(model) -> bool:
    """True if the model ends in a softmax (so the loss must not use logits)."""
    last = model.layers[-1] if getattr(model, "layers", None) else None
    if last is None:
        return True
    if isinstance(last, keras.layers.Softmax):
        return True
    activation = getattr(last, "activation", None)
    name = getattr(activation, "__name__", str(activation))
    return "softmax" in str(name)


def _warn_bn_momentum(model, total_steps: int) -> None:
    """Warn when BatchNorm momentum is too high for the number of training steps."""
    slow = [layer for layer in _batchnorm_layers(model) if layer.momentum > 0.95]
    if slow and total_steps < 1000:
        warnings.warn(
            f"{len(slow)} BatchNormalization layer(s) use momentum {slow[0].momentum}: with only "
            f"{total_steps} training steps their moving statistics will lag far behind and "
            "evaluation can sit near chance. Call keras_cnns.training.set_bn_momentum(model, 0.9) "
            "first.",
            stacklevel=3,
        )


# ---------------------------------------------------------------- normalisation


def has_normalization(model) -> bool:
    """True if the layer right after the model's input is a ``keras.layers.Normalization``."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    return bool(layers) and isinstance(layers[0], keras.layers.Normalization)


def add_normalization(model, pipelines):
    """``model`` with the pipelines' ``Normalization`` layer at its input: it then takes raw pixels.

    The new model is flat (``input -> normalization -> the model's own layers``) and *shares* its
    layers with ``model``: training one trains the other.  A model that already starts with a
    ``Normalization`` layer (e.g. a reloaded ``best.keras``) is returned unchanged.
    """
    if has_normalization(model):
        return model
    if not isinstance(model, keras.Model) or not hasattr(model, "call") or len(model.inputs) != 1:
        raise TypeError("add_normalization needs a single-input Keras model; got " + type(model).__name__)
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    outputs = model.call(pipelines.normalization()(inputs))
    return keras.Model(inputs, outputs, name=model.name)


# ------------------------------------------------------------------------ train


def train(
    model,
    data,
    epochs: int = 10,
    *,
    batch_size: int = 128,
    optimizer: str = "sgd",
    learning_rate=None,
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float | None = None,
    warmup_epochs: int = 0,
    label_smoothing: float = 0.0,
    augment=None,
    image_size=None,
    validation_split: float = 0.1,
    seed: int = 0,
    deterministic: bool = False,
    out_dir=None,
    resume: bool = False,
    verbose=2,
    fast: bool | None = None,
    steps_per_epoch: int | None = None,
    callbacks=None,
) -> TrainResult:
    """Compile and fit ``model`` on ``data``, then evaluate it on the test set.

    Args:
        model: an (uncompiled or compiled) built Keras model; it is (re)compiled.
        data: a dataset name (loaded with ``keras_cnns.data.load``; the shipped
            sample in fast mode), a ``keras_cnns.data.Dataset``, or a ready
            ``Pipelines`` (then ``batch_size``, ``augment``, ``image_size`` and
            ``validation_split`` are taken from the pipelines).
        epochs: total number of epochs (also after a resume).
        batch_size: images per step.
        optimizer: ``"sgd"`` or ``"adamw"``.
        learning_rate: peak learning rate, or a Keras schedule; ``None`` =
            SGD ``0.1 * batch_size / 128``, AdamW ``1e-3``.  A float is decayed
            with a cosine schedule (after ``warmup_epochs`` of linear warm-up).
        momentum, nesterov: SGD momentum.
        weight_decay: decoupled weight decay (``None``: 5e-4 SGD, 0.05 AdamW);
            see the module docstring for how it compares with an L2 penalty.
        warmup_epochs: epochs of linear warm-up from 0 (``< epochs``).
        label_smoothing: in [0, 1).
        augment, image_size, validation_split, seed: passed to
            ``keras_cnns.data.make_pipelines``; ``seed`` also seeds Keras.
        deterministic: enable TensorFlow op determinism.
        out_dir: folder for ``metrics.csv``, ``best.keras`` and ``backup/``;
            ``None`` writes nothing.
        resume: continue a killed run from ``out_dir/backup`` (total ``epochs``
            unchanged; ``metrics.csv`` keeps each epoch once).  Without it an
            existing run folder is started afresh.
        verbose: ``model.fit`` verbosity (2 = one line per epoch).
        fast: cap training at ``FAST_MAX_STEPS`` batches per epoch, validation at
            ``FAST_MAX_VAL_STEPS`` batches and the test set at
            ``FAST_MAX_TEST_IMAGES`` (``None``: ``keras_cnns.data.fast_mode()``).
        steps_per_epoch: at most this many batches per epoch.
        callbacks: extra Keras callbacks (run after the built-in ones).

    Returns:
        a :class:`TrainResult`.
    """
    _validate_train_args(
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        learning_rate=learning_rate,
        momentum=momentum,
        weight_decay=weight_decay,
        warmup_epochs=warmup_epochs,
        label_smoothing=label_smoothing,
        validation_split=validation_split,
        verbose=verbose,
        steps_per_epoch=steps_per_epoch,
        out_dir=out_dir,
        resume=resume,
        seed=seed,
    )
    start = time.perf_counter()
    device = dict(_DEVICE) if _DEVICE is not None else configure_device()
    set_seed(seed, deterministic)
    if fast is None:
        from keras_cnns import data as kdata

        fast = bool(kdata.fast_mode())

    dataset, pipelines = _resolve_data(
        data,
        batch_size=batch_size,
        validation_split=validation_split,
        augment=augment,
        image_size=image_size,
        seed=seed,
        fast=fast,
    )
    prepared = _prepare(
        pipelines,
        batch_size=batch_size,
        fast=fast,
        steps_per_epoch=steps_per_epoch,
        label_smoothing=label_smoothing,
        model=model,
        from_pipelines=dataset is None,
    )
    model = add_normalization(model, pipelines)
    total_steps = epochs * prepared.steps_per_epoch
    _warn_bn_momentum(model, total_steps)

    if learning_rate is None:
        learning_rate = default_learning_rate(optimizer, prepared.batch_size)
    schedule = learning_rate
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        schedule = _lr_schedule(learning_rate, total_steps, warmup_epochs * prepared.steps_per_epoch)
    opt = make_optimizer(
        optimizer,
        schedule,
        batch_size=prepared.batch_size,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
        model=model,
    )
    from_logits = not _outputs_probabilities(model)
    if label_smoothing:
        loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    model.compile(optimizer=opt, loss=loss, metrics=["accuracy"], jit_compile=device["jit_compile"])

    monitor = "val_accuracy" if prepared.val is not None else "accuracy"
    run_dir = None if out_dir is None else Path(out_dir)
    best = None
    if run_dir is not None:
        _, best = _prepare_run_dir(run_dir, resume, monitor)
    run_callbacks = _run_callbacks(
        run_dir,
        resume=resume,
        monitor=monitor,
        best=best,
        timer=EpochTimer(prepared.images_per_epoch),
    ) + list(callbacks or [])

    if hasattr(model, "_initial_epoch"):
        model._initial_epoch = None  # stale state of an earlier BackupAndRestore
    history = model.fit(
        prepared.train,
        validation_data=prepared.val,
        epochs=epochs,
        steps_per_epoch=prepared.fit_steps,
        callbacks=run_callbacks,
        verbose=verbose,
        shuffle=False,  # the pipelines shuffle (Keras warns otherwise)
    )
    evaluation = model.evaluate(prepared.test, verbose=0, return_dict=True)
    test_accuracy = float(evaluation["accuracy"])

    device["mixed_precision"] = model.dtype_policy.name != "float32"
    device["dtype_policy"] = model.dtype_policy.name
    return TrainResult(
        history=history,
        metrics=_metrics_frame(run_dir, history),
        test_loss=float(evaluation["loss"]),
        test_accuracy=test_accuracy,
        test_ci95=accuracy_ci95(test_accuracy, prepared.n_test),
        n_test=prepared.n_test,
        model=model,
        out_dir=None if out_dir is None else str(out_dir),
        dataset=dataset.describe() if dataset is not None else _describe_pipelines(pipelines),
        is_sample=None if dataset is None else bool(dataset.is_sample),
        device=device,
        wall_seconds=time.perf_counter() - start,
        dataset_name=None if dataset is None else dataset.name,
        config={
            "epochs": epochs,
            "batch_size": prepared.batch_size,
            "steps_per_epoch": prepared.steps_per_epoch,
            "optimizer": optimizer,
            "learning_rate": learning_rate
            if isinstance(learning_rate, (int, float))
            else type(learning_rate).__name__,
            "momentum": momentum if optimizer == "sgd" else None,
            "nesterov": nesterov if optimizer == "sgd" else None,
            "weight_decay": DEFAULT_WEIGHT_DECAY[optimizer] if weight_decay is None else weight_decay,
            "warmup_epochs": warmup_epochs,
            "label_smoothing": label_smoothing,
            "augment": getattr(pipelines, "augment", augment),
            "validation_split": _validation_fraction(pipelines, validation_split),
            "seed": seed,
            "fast": fast,
        },
    )
