"""What ``train()`` returns (:class:`TrainResult`) and the statistics it reports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .config import check_int


def accuracy_ci95(accuracy: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95% interval for an accuracy measured on ``n`` examples.

    >>> [round(v, 4) for v in accuracy_ci95(0.9, 100)]
    [0.8256, 0.9448]
    """
    check_int("n", n, minimum=1)
    if not 0.0 <= float(accuracy) <= 1.0:
        raise ValueError(f"accuracy must be in [0, 1]; got {accuracy!r}")
    p = float(accuracy)
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if p == 0.0 else max(0.0, centre - half)
    high = 1.0 if p == 1.0 else min(1.0, centre + half)
    return low, high


def images_seen(steps: int, batch_size: int, n_train: int) -> int:
    """Training images read in ``steps`` batches of a batched, repeated pass over ``n_train`` images.

    A pass is ``ceil(n_train / batch_size)`` batches, the last one partial; ``fit(steps_per_epoch=)``
    reads on through the repeated data, so a run can end mid-pass.

    >>> images_seen(8 * 211, 64, 54_000)   # 8 quarter-pass epochs: two passes, 844 batches each
    108000
    >>> images_seen(112, 64, 7_200)        # less than one pass of 113 batches: all full
    7168
    """
    check_int("steps", steps, minimum=0)
    check_int("batch_size", batch_size, minimum=1)
    check_int("n_train", n_train, minimum=1)
    passes, rest = divmod(steps, math.ceil(n_train / batch_size))
    return passes * n_train + rest * batch_size


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
    class_names: list | None = None

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

    def report(self, hardware: str | None = None) -> str:
        """The notebooks' "Evaluate" block: the test accuracy with its interval, then what produced it.

        ``hardware``: a line describing the machine (e.g. ``notebook.setup()["machine"]``).
        """
        lo, hi = self.test_ci95
        c = self.config
        steps, batch = c.get("steps_per_epoch"), c.get("batch_size")
        run = f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}"
        if steps and batch:
            if c.get("n_train"):   # the last batch of each pass is partial: count it as it is
                seen = images_seen(self.epochs * steps, batch, c["n_train"])
            else:                  # a result recorded before train() stored n_train
                seen = self.epochs * (c.get("images_per_epoch") or steps * batch)
            run += f" of {steps:,} steps, batch {batch} ({seen:,} training images seen)"
        details = [run]
        rate = c.get("learning_rate")
        if isinstance(rate, (int, float)):
            details.append(f"{c.get('optimizer', '?')}, peak learning rate {rate:g}")
        elif rate is not None:  # a Keras schedule, recorded by its class name
            details.append(f"{c.get('optimizer', '?')}, learning-rate schedule {rate}")
        if "augment" in c:
            details.append(f"augmentation {'on' if c['augment'] else 'off'}")
        details.append(f"wall time {self.wall_seconds:.0f} s")
        lines = [f"test accuracy {self.test_accuracy:.1%} (95% Wilson interval {lo:.1%}-{hi:.1%}, "
                 f"n = {self.n_test:,} test images)",
                 f"dataset: {self.dataset}",
                 f"{'shipped sample' if self.is_sample else 'real dataset'}; " + ", ".join(details)]
        if hardware:
            lines.append(f"hardware: {hardware}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def results_table(runs) -> pd.DataFrame:
    """The notebooks' comparison table: one row per run of ``{label: TrainResult}``.

    Columns: the last epoch's training loss and error (%), its validation accuracy (%), the test
    accuracy (%) with its 95% Wilson interval, the median training images/s over the epochs and the
    wall time (s). Labels may be tuples (e.g. ``(network, seed)``): they become a MultiIndex.
    """
    if not runs:
        raise ValueError("runs must map at least one label to a TrainResult; got an empty mapping")
    rows, labels = [], []
    for label, result in runs.items():
        if not isinstance(result, TrainResult):
            raise TypeError(f"runs[{label!r}] must be a TrainResult; got {type(result).__name__}")
        last = result.metrics.iloc[-1]
        lo, hi = result.test_ci95
        labels.append(label)
        rows.append({"train loss": float(last["loss"]), "train error %": 100 * (1 - float(last["accuracy"])),
                     "val accuracy %": 100 * float(last["val_accuracy"]),
                     "test accuracy %": 100 * result.test_accuracy, "test 95% CI": f"{lo:.1%}-{hi:.1%}",
                     "images/s (median)": float(result.metrics["images_per_sec"].median()),
                     "wall time (s)": result.wall_seconds})
    index = (pd.MultiIndex.from_tuples(labels) if all(isinstance(k, tuple) for k in labels)
             else pd.Index(labels, name="run"))
    return pd.DataFrame(rows, index=index)
