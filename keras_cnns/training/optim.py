"""The optimiser and its schedule: SGD (Nesterov) or AdamW, decoupled weight decay without biases and
normalisation parameters, cosine decay after an optional linear warm-up."""

from __future__ import annotations

import keras

from .config import DEFAULT_LEARNING_RATE, DEFAULT_WEIGHT_DECAY, NO_DECAY_VARIABLE_NAMES, OPTIMIZERS, \
    REFERENCE_BATCH_SIZE

def no_decay_variables(model) -> list:
    """Trainable biases and normalisation scales/offsets (excluded from decay)."""
    return [v for v in model.trainable_variables if v.name in NO_DECAY_VARIABLE_NAMES]


def lr_schedule(peak: float, total_steps: int, warmup_steps: int):
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
        optimizer.exclude_from_weight_decay(var_list=no_decay_variables(model))
    return optimizer


def default_learning_rate(optimizer: str, batch_size: int) -> float:
    """Default peak learning rate: SGD ``0.1 * batch_size / 128``, AdamW ``1e-3``."""
    if optimizer == "sgd":
        return DEFAULT_LEARNING_RATE["sgd"] * batch_size / REFERENCE_BATCH_SIZE
    return DEFAULT_LEARNING_RATE[optimizer]


def current_learning_rate(optimizer) -> float:
    """The learning rate the optimiser would use for its next step."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))

