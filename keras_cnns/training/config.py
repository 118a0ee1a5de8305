"""The training recipe as one frozen, self-validating record: :class:`TrainConfig`.

Every field is checked when the record is made, so a bad value fails before any data is loaded or any
model is built, with a ``ValueError`` that names the field and what would be valid. ``to_dict()`` is
what ``summary.json`` stores.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

OPTIMIZERS = ("sgd", "adamw")
DEFAULT_LEARNING_RATE = {"sgd": 0.1, "adamw": 1e-3}
DEFAULT_WEIGHT_DECAY = {"sgd": 5e-4, "adamw": 0.05}
REFERENCE_BATCH_SIZE = 128  # SGD's 0.1 is the learning rate at this batch size
NO_DECAY_VARIABLE_NAMES = ("bias", "gamma", "beta")
MIXED_PRECISION_CHOICES = ("auto", True, False, "float32", "mixed_float16", "mixed_bfloat16")

STRATEGIES = ("default", "mirrored", "multi_worker")  # keras_cnns.training.distribute

FAST_MAX_STEPS = 20  # training batches per epoch in fast mode
FAST_MAX_VAL_STEPS = 5  # validation batches per epoch in fast mode
FAST_MAX_TEST_IMAGES = 1000  # test images evaluated in fast mode


def check_int(name: str, value, minimum: int | None = None, allow_none: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int >= minimum."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (
        minimum is not None and value < minimum
    ):
        bound = f" >= {minimum}" if minimum is not None else ""
        none = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an integer{bound}{none}; got {value!r}")


def check_float(name: str, value, low: float, high: float, *, high_open=False, allow_none=False):
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


def _is_schedule(value) -> bool:
    import keras

    return isinstance(value, keras.optimizers.schedules.LearningRateSchedule)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How :func:`keras_cnns.training.train` trains: the whole recipe, validated on creation.

    Attributes:
        epochs: total number of epochs (also after a resume).
        batch_size: images per step (ignored when ``train`` is given ready ``Pipelines``: theirs wins).
        optimizer: ``"sgd"`` (momentum, Nesterov) or ``"adamw"``.
        learning_rate: peak learning rate, or a Keras schedule; ``None`` = SGD ``0.1 * batch_size / 128``,
            AdamW ``1e-3``. A float is decayed with a cosine schedule after ``warmup_epochs``.
        momentum, nesterov: SGD momentum.
        weight_decay: decoupled weight decay (``None``: 5e-4 SGD, 0.05 AdamW).
        warmup_epochs: epochs of linear warm-up from 0 (``< epochs``).
        label_smoothing: in [0, 1).
        augment: pad-4 crop + flip (``None``: on for RGB, off for greyscale images).
        image_size: resize the images on the fly (``None``: keep).
        validation_split: share of the training split held out for validation.
        seed: seeds Python, NumPy, TensorFlow, the split, shuffling and augmentation.
        deterministic: TensorFlow op determinism (bit-identical reruns, slower).
        fast: the fast setting (``None``: ``KERAS_CNNS_FAST``): shipped sample when there is one, at
            most ``FAST_MAX_STEPS`` batches per epoch, ``FAST_MAX_VAL_STEPS`` validation batches and
            ``FAST_MAX_TEST_IMAGES`` test images.
        steps_per_epoch: at most this many batches per epoch.
        strategy: ``"default"`` (one device), ``"mirrored"`` (``tf.distribute.MirroredStrategy``: all
            local GPUs, or the logical CPU devices of ``KERAS_CNNS_CPU_REPLICAS``) or ``"multi_worker"``
            (refused: Keras 3's ``fit`` fails under it). ``batch_size`` is the global batch, split
            across the replicas. See :mod:`keras_cnns.training.distribute`.
    """

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    learning_rate: Any = None
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float | None = None
    warmup_epochs: int = 0
    label_smoothing: float = 0.0
    augment: bool | None = None
    image_size: Any = None
    validation_split: float = 0.1
    seed: int = 0
    deterministic: bool = False
    fast: bool | None = None
    steps_per_epoch: int | None = None
    strategy: str = "default"

    def __post_init__(self):
        check_int("epochs", self.epochs, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}; "
                             f"got {self.optimizer!r}")
        if self.learning_rate is not None and not _is_schedule(self.learning_rate):
            check_float("learning_rate", self.learning_rate, 0.0, math.inf)
            if self.learning_rate <= 0:
                raise ValueError(f"learning_rate must be > 0 or None; got {self.learning_rate!r}")
        check_float("momentum", self.momentum, 0.0, 1.0, high_open=True)
        check_float("weight_decay", self.weight_decay, 0.0, math.inf, allow_none=True)
        check_int("warmup_epochs", self.warmup_epochs, minimum=0)
        if self.warmup_epochs >= self.epochs:
            raise ValueError(f"warmup_epochs must be smaller than epochs ({self.epochs}); "
                             f"got {self.warmup_epochs!r}")
        check_float("label_smoothing", self.label_smoothing, 0.0, 1.0, high_open=True)
        check_float("validation_split", self.validation_split, 0.0, 1.0, high_open=True)
        check_int("seed", self.seed, minimum=0)
        check_int("steps_per_epoch", self.steps_per_epoch, minimum=1, allow_none=True)
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(map(repr, STRATEGIES))}; got {self.strategy!r}")
        for name in ("nesterov", "deterministic"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False; got {getattr(self, name)!r}")
        for name in ("augment", "fast"):
            if getattr(self, name) not in (None, True, False):
                raise ValueError(f"{name} must be True, False or None; got {getattr(self, name)!r}")

    @classmethod
    def fields(cls) -> list[str]:
        """The names a config (and ``train(**settings)``) accepts."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def make(cls, config: "TrainConfig | None" = None, **settings) -> "TrainConfig":
        """``config`` (or the defaults) with ``settings`` replaced; unknown names raise ``TypeError``."""
        unknown = sorted(set(settings) - set(cls.fields()))
        if unknown:
            raise TypeError(f"unknown training setting(s) {', '.join(unknown)}; valid: {', '.join(cls.fields())}")
        return dataclasses.replace(config or cls(), **settings)

    @property
    def peak_weight_decay(self) -> float:
        """``weight_decay`` with its default filled in."""
        return DEFAULT_WEIGHT_DECAY[self.optimizer] if self.weight_decay is None else float(self.weight_decay)

    def to_dict(self) -> dict:
        """The config as JSON-ready values (a schedule is written as its class name)."""
        out = dataclasses.asdict(self)
        if self.learning_rate is not None and _is_schedule(self.learning_rate):
            out["learning_rate"] = type(self.learning_rate).__name__
        if self.image_size is not None and not isinstance(self.image_size, int):
            out["image_size"] = list(self.image_size)
        return out
