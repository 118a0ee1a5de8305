"""Callbacks and the run folder: :class:`EpochTimer`, ``CSVLogger`` -> ``metrics.csv``,
``ModelCheckpoint`` -> ``best.keras``, ``BackupAndRestore`` -> ``backup/`` and the bookkeeping that
makes ``resume=True`` continue a killed run with every epoch in ``metrics.csv`` exactly once."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import keras
import pandas as pd

from .optim import current_learning_rate

METRIC_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "images_per_sec")


class EpochTimer(keras.callbacks.Callback):
    """Adds ``seconds``, ``images_per_sec`` and ``lr`` to each epoch's logs.

    ``seconds`` is the wall time of the whole epoch (training + validation);
    ``images_per_sec`` is training images / training time, so it excludes
    validation (the first epoch also includes tracing the train step);
    ``lr`` is the learning rate at the epoch's first step (read in ``on_epoch_begin``).  Put it before
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



def completed_epochs(backup_dir: Path) -> int:
    """Epochs finished according to a BackupAndRestore folder (0 if none)."""
    meta = backup_dir / "training_metadata.json"
    if not meta.exists() or not (backup_dir / "latest.weights.h5").exists():
        return 0
    try:
        return int(json.loads(meta.read_text())["epoch"])
    except (ValueError, KeyError, OSError):
        return 0


def truncate_metrics(path: Path, keep_epochs: int) -> None:
    """Keep only the rows of epochs ``< keep_epochs``, each once (a kill may leave extra rows)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    frame = pd.read_csv(path, on_bad_lines="skip")
    frame = frame[pd.to_numeric(frame["epoch"], errors="coerce") < keep_epochs]
    frame = frame.drop_duplicates(subset="epoch", keep="first")
    if frame.empty:
        path.write_text("")
    else:
        frame.to_csv(path, index=False)


def best_so_far(path: Path, monitor: str) -> float | None:
    """Best value of ``monitor`` already in ``metrics.csv`` (threshold on resume)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    frame = pd.read_csv(path)
    if monitor not in frame or frame[monitor].dropna().empty:
        return None
    return float(frame[monitor].max())


def prepare_run_dir(out_dir: Path, resume: bool, monitor: str) -> tuple[int, float | None]:
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
    done = completed_epochs(backup)
    truncate_metrics(metrics, done)
    return done, best_so_far(metrics, monitor)


def run_callbacks(out_dir: Path | None, *, resume: bool, monitor: str, best, timer) -> list:
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


def metrics_frame(out_dir: Path | None, history) -> pd.DataFrame:
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

