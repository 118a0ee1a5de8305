"""Training on more than one device with ``tf.distribute``: :func:`get_strategy`.

``train(..., strategy="mirrored")`` (CLI: ``--strategy mirrored``) builds, compiles and trains the model
under a ``tf.distribute.MirroredStrategy``: one replica per local GPU, synchronous data parallelism, the
gradients summed across replicas (all-reduce) before every update.

* **Batch size is global.** ``batch_size`` is the number of images per *step*, split evenly across
  the replicas (128 on 2 replicas = 64 each), so it must be divisible by the number of replicas.
  The learning rate follows the global batch (SGD's default ``0.1 * batch_size / 128``), so a run on
  N replicas at the same global batch is the same optimisation as on one device: the same steps, the
  same learning rate, the same schedule.  To use N times the devices for N times the data per step,
  raise ``batch_size`` N-fold; the default learning rate then scales with it (the linear scaling rule
  of Goyal et al. 2017; add ``warmup_epochs`` for large batches, as they do).
* **BatchNorm statistics are per replica** (Keras' default, ``synchronized=False``): each replica
  normalises with the mean and variance of its own share of the batch.  With 64 images per replica
  this is what the papers did on several GPUs; it is why 2 replicas agree with 1 only up to a small
  tolerance.
* **Data order.** Under a strategy Keras draws one batch to build the model before training, so a
  shuffled epoch is not in the order of a one-device run with the same seed.
* **A CPU-only machine** has one CPU device.  ``KERAS_CNNS_CPU_REPLICAS=2`` splits it into two
  logical CPU devices before TensorFlow starts, so that a mirrored run (2 replicas) can be tested
  without a GPU.  It shows that the code path works; it is not faster (the same cores do both
  replicas' work).
* **Several machines**: ``strategy="multi_worker"`` makes a ``tf.distribute.MultiWorkerMirroredStrategy``
  from the ``TF_CONFIG`` environment variable.  Keras 3's ``fit`` does not work under it (upstream
  keras-team/keras#20585; see the README, "Beyond one machine"), so ``train`` refuses it with that
  explanation rather than failing deep inside ``fit``.
"""

from __future__ import annotations

import os
import warnings

import tensorflow as tf

from .config import STRATEGIES
CPU_REPLICAS_ENV = "KERAS_CNNS_CPU_REPLICAS"
KERAS_MULTI_WORKER_ISSUE = "https://github.com/keras-team/keras/issues/20585"

_STRATEGIES: dict[str, tf.distribute.Strategy] = {}


def requested_cpu_replicas() -> int:
    """``KERAS_CNNS_CPU_REPLICAS`` as an int >= 1 (1 when unset); a bad value raises ``ValueError``."""
    text = os.environ.get(CPU_REPLICAS_ENV, "").strip()
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{CPU_REPLICAS_ENV} must be a whole number >= 1 (logical CPU devices); got {text!r}")
    return int(text)


def configure_cpu_replicas(n: int | None = None) -> int:
    """Split the CPU into ``n`` logical devices (default: ``KERAS_CNNS_CPU_REPLICAS``); returns how many exist.

    Must run before TensorFlow initialises its devices (before the first op).  Calling it again with
    the same ``n`` is harmless; a different ``n`` after start-up raises ``RuntimeError``.
    """
    n = requested_cpu_replicas() if n is None else int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1 logical CPU devices; got {n!r}")
    cpus = tf.config.list_physical_devices("CPU")
    current = tf.config.get_logical_device_configuration(cpus[0])
    have = len(current) if current else 1
    if n == have:
        return have
    try:
        tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError as error:
        raise RuntimeError(
            f"cannot split the CPU into {n} logical devices: TensorFlow has already started with {have}. "
            f"Set {CPU_REPLICAS_ENV}={n} in the environment before Python starts (or call "
            "keras_cnns.training.configure_cpu_replicas first thing)") from error
    return n


def get_strategy(name: str = "default") -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy called ``name`` (one per process: build models in its ``scope()``).

    ``"default"``: no distribution (whatever ``tf.distribute.get_strategy()`` is).  ``"mirrored"``: every
    local GPU, or on a CPU-only machine the logical CPU devices of ``KERAS_CNNS_CPU_REPLICAS``.
    ``"multi_worker"``: ``MultiWorkerMirroredStrategy`` from ``TF_CONFIG``.
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(map(repr, STRATEGIES))}; got {name!r}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name not in _STRATEGIES:
        if name == "mirrored":
            gpus = tf.config.list_logical_devices("GPU")
            if gpus:
                strategy = tf.distribute.MirroredStrategy()
            else:
                configure_cpu_replicas()
                cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
                if len(cpus) == 1:
                    warnings.warn(f"strategy='mirrored' on one CPU device: 1 replica. Set {CPU_REPLICAS_ENV}=2 "
                                  "to try 2 replicas on logical CPU devices.", stacklevel=2)
                strategy = tf.distribute.MirroredStrategy(devices=cpus)
        else:
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
        _STRATEGIES[name] = strategy
    return _STRATEGIES[name]


def describe(name: str, strategy: tf.distribute.Strategy) -> dict:
    """``{"strategy": name, "replicas": N, "replica_devices": [...]}`` for ``summary.json``."""
    try:
        devices = list(strategy.extended.worker_devices)
    except RuntimeError:  # the default strategy: wherever TensorFlow places the ops
        devices = []
    return {"strategy": name, "replicas": int(strategy.num_replicas_in_sync), "replica_devices": devices}


def check_model_in_scope(model, strategy: tf.distribute.Strategy, name: str) -> None:
    """Raise ``ValueError`` if ``model``'s variables were not created under ``strategy.scope()``."""
    if name == "default" or not model.weights:
        return
    variable = model.weights[0]
    variable = getattr(variable, "value", variable)
    if not strategy.extended.variable_created_in_scope(variable):
        raise ValueError(
            f"strategy={name!r}: the model was built outside the strategy's scope, so its weights live on "
            "one device. Pass the model's name (train builds it in the scope), or build it inside "
            f"`with keras_cnns.training.get_strategy({name!r}).scope():`")


def check_global_batch(batch_size: int, strategy: tf.distribute.Strategy) -> None:
    """The global batch must split evenly across the replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(f"batch_size is the global batch and must be divisible by the {replicas} replicas; "
                         f"got {batch_size} (try {batch_size - batch_size % replicas or replicas})")


def _apply_environment() -> None:
    """On import: split the CPU as ``KERAS_CNNS_CPU_REPLICAS`` asks, while TensorFlow has not started yet.

    Errors wait for :func:`get_strategy` (a bad value must not break ``import keras_cnns.training``)."""
    if os.environ.get(CPU_REPLICAS_ENV, "").strip():
        try:
            configure_cpu_replicas()
        except (ValueError, RuntimeError):
            pass


_apply_environment()
