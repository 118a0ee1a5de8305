"""Training on top of ``model.fit``: normalisation, optimiser, schedule, callbacks, test evaluation.

One call trains a model the way the notebooks need it::

    from keras_cnns import training
    result = training.train("resnet20", "cifar10", epochs=2, fast=True, out_dir="runs/resnet20")
    print(result)                        # one line: test accuracy, its 95% CI, n, epochs, time
    result.model                         # takes raw pixels: Normalization is its first layer

or with a model built by hand (seed first, so its initial weights repeat)::

    training.set_seed(0)
    ds = data.load("cifar10", fast=True)
    model = models.build("resnet20", input_shape=ds.input_shape, classes=ds.num_classes)
    result = training.train(model, ds, epochs=2, batch_size=64)

The recipe is a frozen :class:`TrainConfig` (``train(..., config=TrainConfig(...))`` or its fields as
keywords); the package's parts: ``config`` (the recipe and its checks), ``device`` (seeds, precision,
BatchNorm momentum), ``optim`` (optimiser and schedule), ``callbacks`` (timer, run folder, resume),
``result`` (:class:`TrainResult`, Wilson interval, ``results_table`` of several runs), ``recipe`` (``recipe(result)``: the run written out
as Keras code, read back from the compiled model), ``distribute`` (``tf.distribute`` strategies: the
``strategy`` setting) and ``loop`` (:func:`train`).

What ``train()`` adds to ``model.fit``
--------------------------------------
* **Normalisation inside the model.** The pipelines yield raw pixels; ``train`` puts a
  ``keras.layers.Normalization`` layer with the training split's per-channel mean and variance at the
  model's input, so ``best.keras`` and ``result.model`` classify raw images (0-255) on their own.
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
float32 and XLA stays off: ``jit_compile=True`` measured 1.6-3.6x slower than plain
TensorFlow for a CIFAR ResNet on a 2-core machine (README, "Throughput benchmark").
"""

from .callbacks import EpochTimer
from .config import (DEFAULT_LEARNING_RATE, DEFAULT_WEIGHT_DECAY, FAST_MAX_STEPS, FAST_MAX_TEST_IMAGES,
                     FAST_MAX_VAL_STEPS, OPTIMIZERS, REFERENCE_BATCH_SIZE, TrainConfig)
from .device import configure_device, set_bn_momentum, set_seed
from .distribute import STRATEGIES, configure_cpu_replicas, get_strategy
from .loop import add_normalization, has_normalization, train
from .optim import default_learning_rate, make_optimizer
from .recipe import recipe
from .result import TrainResult, accuracy_ci95, images_seen, results_table

__all__ = [
    "DEFAULT_LEARNING_RATE", "DEFAULT_WEIGHT_DECAY", "FAST_MAX_STEPS", "FAST_MAX_TEST_IMAGES", "FAST_MAX_VAL_STEPS",
    "OPTIMIZERS", "REFERENCE_BATCH_SIZE", "STRATEGIES", "EpochTimer", "TrainConfig", "TrainResult", "accuracy_ci95", "images_seen",
    "add_normalization", "configure_cpu_replicas", "configure_device", "default_learning_rate", "get_strategy",
    "has_normalization", "make_optimizer", "recipe", "results_table", "set_bn_momentum", "set_seed", "train",
]
