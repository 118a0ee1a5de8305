"""The time budget of :mod:`keras_cnns.compare`: a Keras callback that stops ``fit`` when the budget is
spent, and the cosine schedule it drives by progress through the budget.

Kept apart from ``compare`` so that ``compare`` itself imports without TensorFlow: with
``compare(isolate=True)`` only the worker processes train, and the notebook's kernel stays light.
"""

from __future__ import annotations

import math
import time

import keras

__all__ = ["BudgetCallback", "ProgressCosine"]


class ProgressCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine decay from ``peak`` to 0 over a *progress* variable in [0, 1] set by a callback."""

    def __init__(self, peak: float):
        self.peak = float(peak)
        self.progress = keras.Variable(0.0, trainable=False, dtype="float32", name="budget_progress")

    def __call__(self, step):
        p = keras.ops.clip(self.progress, 0.0, 1.0)
        return self.peak * 0.5 * (1.0 + keras.ops.cos(math.pi * p))

    def get_config(self):
        return {"peak": self.peak}


class BudgetCallback(keras.callbacks.Callback):
    """Stop training once ``budget_seconds`` of training time have passed; measure throughput.

    Time counts from the end of the first training batch to the end of ``fit`` (model building,
    the one-off tracing of the train step and the test evaluation are outside the budget; validation
    passes are inside it, as in any real run, including the one that ends the epoch in which the
    budget ran out). Throughput
    (``images_per_sec``) counts only training batches after each epoch's first one, so the
    one-off tracing of the train step is excluded.
    """

    def __init__(self, budget_seconds: float | None, total_steps: int, batch_size: int,
                 schedule: ProgressCosine | None = None):
        super().__init__()
        self.budget = budget_seconds
        self.total_steps = max(1, int(total_steps))
        self.batch_size = int(batch_size)
        self.schedule = schedule
        self.start = None
        self.steps = 0
        self.timed_images = 0
        self.timed_seconds = 0.0
        self._last = None
        self.stopped_by_budget = False
        self.end = None

    def on_train_begin(self, logs=None):
        self.start = self.end = None

    def on_train_end(self, logs=None):
        self.end = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._last = None

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.steps += 1
        if self.start is None:  # the clock starts after the first step (tracing excluded)
            self.start = now
        if self._last is not None:
            self.timed_seconds += now - self._last
            self.timed_images += self.batch_size
        self._last = now
        elapsed = now - self.start
        progress = self.steps / self.total_steps
        if self.budget:
            progress = max(progress, elapsed / self.budget)
            if elapsed >= self.budget:
                self.stopped_by_budget = True
                self.model.stop_training = True
        if self.schedule is not None:
            self.schedule.progress.assign(min(1.0, progress))

    @property
    def images_per_sec(self) -> float:
        return self.timed_images / self.timed_seconds if self.timed_seconds else float("nan")

    @property
    def elapsed(self) -> float:
        """Seconds from the end of the first training batch to the end of ``fit`` (or to now)."""
        if self.start is None:
            return 0.0
        return (self.end if self.end is not None else time.perf_counter()) - self.start
