"""Matplotlib figures for the notebooks; every function returns the ``Figure``.

Nothing here calls ``plt.show()``: notebooks display the returned figure (end a
cell with it, or ``display(fig)``), scripts save it with ``fig.savefig(...)``.
The figures are plain ``matplotlib.figure.Figure`` objects, not pyplot-managed.  Sizes and dpi are modest so that PNGs embedded
in notebooks stay small.

* :func:`learning_curves` - loss and accuracy per epoch, train (dashed) vs
  validation (solid), one colour per run when several runs are overlaid.
* :func:`sample_grid` - images (raw pixels, 0-255) with their true (and predicted) labels.
* :func:`confusion_matrix` - row-normalised confusion matrix.
* :func:`gradient_norms` - per-layer gradient L2 norms of a few models on one
  batch (deep plain nets vs residual nets).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.pyplot as plt  # noqa: F401  (sets up the backend / notebook display)
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from keras_cnns.diagram import block_diagram  # noqa: F401  (a block drawn from its Keras graph)

__all__ = ["confusion_matrix", "gradient_norms", "learning_curves", "sample_grid"]

DPI = 100
KERNEL_NAMES = ("kernel", "depthwise_kernel", "pointwise_kernel")


def _figure(width: float, height: float) -> Figure:
    """A new Figure with the module's dpi.

    Not registered with pyplot: a notebook cell returning it shows it exactly once
    (pyplot figures are shown again at the end of the cell) and nothing needs
    ``plt.close``.
    """
    return Figure(figsize=(width, height), dpi=DPI)


# ----------------------------------------------------------------- learning curves


def _is_history_dict(obj) -> bool:
    """True for a ``History.history``-style dict ``{"loss": [...], ...}``."""
    return isinstance(obj, Mapping) and bool(obj) and all(
        isinstance(v, (list, tuple, np.ndarray, pd.Series)) for v in obj.values()
    ) and any(k in obj for k in ("loss", "accuracy", "val_loss", "val_accuracy"))


def as_metrics_frame(obj) -> pd.DataFrame:
    """Per-epoch metrics as a DataFrame from a DataFrame, ``TrainResult``, ``History``
    or ``History.history`` dict (adds a 0-based ``epoch`` column if missing)."""
    if isinstance(obj, pd.DataFrame):
        frame = obj.copy()
    elif isinstance(getattr(obj, "metrics", None), pd.DataFrame):  # TrainResult
        frame = obj.metrics.copy()
    elif hasattr(obj, "history") and isinstance(obj.history, Mapping):  # keras History
        frame = pd.DataFrame(obj.history)
        if getattr(obj, "epoch", None) is not None and len(obj.epoch) == len(frame):
            frame.insert(0, "epoch", list(obj.epoch))
    elif _is_history_dict(obj):
        frame = pd.DataFrame({k: list(v) for k, v in obj.items()})
    else:
        raise TypeError(
            "metrics must be a pandas DataFrame, a TrainResult, a keras History, a "
            f"History.history dict, or a dict of those; got {type(obj).__name__}"
        )
    if "epoch" not in frame:
        frame.insert(0, "epoch", range(len(frame)))
    return frame


def _runs(metrics) -> dict[str | None, pd.DataFrame]:
    """``{label: frame}``: one unlabelled run, or the runs of a ``{label: run}`` dict."""
    if isinstance(metrics, Mapping) and not _is_history_dict(metrics):
        if not metrics:
            raise ValueError("metrics dict is empty: give at least one run")
        return {str(label): as_metrics_frame(run) for label, run in metrics.items()}
    return {None: as_metrics_frame(metrics)}


def learning_curves(metrics, title: str | None = None) -> Figure:
    """Loss (left) and accuracy (right) per epoch; train dashed, validation solid.

    Args:
        metrics: a DataFrame (``TrainResult.metrics`` / ``metrics.csv``), a
            ``TrainResult``, a Keras ``History``, or a dict ``{label: any of
            those}`` to overlay several runs (one colour per run).
        title: optional figure title.

    Returns:
        the Figure; its two axes have one line per run and split present
        (2 runs with validation -> 4 lines per axis).
    """
    runs = _runs(metrics)
    fig = _figure(9, 3.4)
    axes = fig.subplots(1, 2)
    for i, (label, frame) in enumerate(runs.items()):
        colour = f"C{i % 10}"
        epochs = frame["epoch"].to_numpy() + 1  # Keras prints epoch 0 as "Epoch 1"
        for ax, metric in zip(axes, ("loss", "accuracy")):
            for prefix, split, style in (("", "train", "--"), ("val_", "val", "-")):
                column = prefix + metric
                if column not in frame:
                    continue
                name = split if label is None else f"{label} ({split})"
                ax.plot(epochs, frame[column].to_numpy(), style, color=colour, label=name,
                        marker="." if len(frame) < 30 else None)
    for ax, metric in zip(axes, ("loss", "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:  # one legend for both panels, under them: it never covers a curve
        ncol = min(len(labels), 4 if len(labels) > 4 else 2 if len(labels) > 2 else len(labels))
        rows = math.ceil(len(labels) / ncol)
        legend_height = 0.28 * rows + 0.15
        fig.set_size_inches(9, 3.4 + legend_height)
        fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=10, frameon=False)
        fig.tight_layout(rect=(0, legend_height / (3.4 + legend_height), 1, 1))
    else:
        fig.tight_layout()
    return fig


# -------------------------------------------------------------------- sample grid


def _as_class_indices(values) -> np.ndarray:
    """Integer classes from integer labels, one-hot labels or probabilities."""
    values = np.asarray(values)
    if values.ndim == 2:
        return values.argmax(axis=-1)
    return values.astype(np.int64).reshape(-1)


def _displayable(images) -> np.ndarray:
    """Raw pixels (uint8, or floats in 0-255) as floats in [0, 1] for ``imshow``.

    No normalisation is guessed or undone: the data pipelines and the datasets hold raw pixels
    (models normalise inside, with their ``Normalization`` layer), and that is what is plotted.
    """
    images = np.asarray(images)
    if images.ndim == 3:  # (N, H, W) -> (N, H, W, 1)
        images = images[..., np.newaxis]
    if images.ndim != 4:
        raise ValueError(f"images must be shaped (N, H, W) or (N, H, W, C); got {images.shape}")
    if images.dtype != np.uint8:
        if not (np.issubdtype(images.dtype, np.floating) or np.issubdtype(images.dtype, np.integer)):
            raise ValueError(f"images must be raw pixels (uint8, or numbers in 0-255); got dtype {images.dtype}")
        if images.size and (images.min() < 0 or images.max() > 255):
            raise ValueError(
                f"images must be raw pixels in 0-255; got values in [{images.min():.3g}, {images.max():.3g}] "
                "(normalised images? plot the dataset's or the pipelines' raw pixels instead)")
    return images.astype(np.float32) / 255.0


def sample_grid(
    images, labels, class_names, predictions=None, n: int = 16, seed: int | None = None
) -> Figure:
    """A grid of ``n`` images titled with their labels (the first ``n``, or random ones).

    Args:
        images: ``(N, H, W[, C])`` raw pixels: uint8, or floats in 0-255 (what
            ``Dataset`` arrays and the data pipelines hold); 1 or 3 channels.
            Anything outside 0-255 (e.g. normalised images) raises ``ValueError``.
        labels: integer labels (or one-hot rows).
        class_names: names indexed by label.
        predictions: optional predicted labels or class probabilities; the
            title then reads ``true / predicted`` and is red when they differ.
        n: number of images shown (at most ``len(images)``).
        seed: if given, show ``n`` images drawn at random (without replacement)
            with this seed instead of the first ``n`` (useful when the arrays are
            ordered by class).

    Returns:
        the Figure, with one axis per image shown.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    pictures = _displayable(images)
    truth = _as_class_indices(labels)
    guesses = None if predictions is None else _as_class_indices(predictions)
    count = min(int(n), len(pictures))
    if seed is None:
        chosen = np.arange(count)
    else:
        chosen = np.random.default_rng(seed).choice(len(pictures), size=count, replace=False)
    pictures, truth = pictures[chosen], truth[chosen]
    guesses = None if guesses is None else guesses[chosen]
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    fig = _figure(1.5 * cols, 1.6 * rows + 0.2)
    for i in range(count):
        ax = fig.add_subplot(rows, cols, i + 1)
        picture = pictures[i]
        if picture.shape[-1] == 1:
            ax.imshow(picture[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
        else:
            ax.imshow(picture)
        title, colour = str(class_names[truth[i]]), "black"
        if guesses is not None:
            title = f"{title} / {class_names[guesses[i]]}"
            colour = "black" if guesses[i] == truth[i] else "red"
        ax.set_title(title, fontsize=8, color=colour)
        ax.axis("off")
    if guesses is not None:
        fig.suptitle("true / predicted (red: wrong)", fontsize=9)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------- confusion matrix


def confusion_counts(y_true, y_pred, num_classes: int) -> np.ndarray:
    """``(num_classes, num_classes)`` counts: rows true class, columns prediction."""
    truth, guess = _as_class_indices(y_true), _as_class_indices(y_pred)
    if truth.shape != guess.shape:
        raise ValueError(f"y_true and y_pred must have the same length; got {truth.shape} and {guess.shape}")
    for name, labels in (("y_true", truth), ("y_pred", guess)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} holds labels outside 0..{num_classes - 1}")
    import tensorflow as tf

    return tf.math.confusion_matrix(truth, guess, num_classes=num_classes).numpy().astype(np.int64)


def confusion_matrix(y_true, y_pred, class_names, normalize: bool = True) -> Figure:
    """Confusion matrix heat map (rows: true class; columns: predicted class).

    ``y_pred`` may be labels or class probabilities.  With ``normalize`` each row
    sums to 1 (per-class recall on the diagonal); otherwise raw counts.  The
    matrix is the data of ``fig.axes[0].images[0]``.
    """
    k = len(class_names)
    matrix = confusion_counts(y_true, y_pred, k).astype(np.float64)
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1.0)
    side = min(10.0, max(4.0, 0.45 * k + 2.5))
    fig = _figure(side + 1.0, side)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else None)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), [str(c) for c in class_names], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), [str(c) for c in class_names], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix" + (" (rows normalised)" if normalize else " (counts)"))
    if k <= 12:
        threshold = matrix.max() / 2 if matrix.size else 0
        for (row, col), value in np.ndenumerate(matrix):
            text = f"{value:.2f}" if normalize else f"{int(value)}"
            ax.text(col, row, text, ha="center", va="center", fontsize=7,
                    color="white" if value > threshold else "black")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ gradient norms


def _kernels(model) -> list:
    """Conv / dense kernels of ``model`` in depth (layer) order."""
    return [v for v in model.trainable_variables if v.name in KERNEL_NAMES and len(v.shape) >= 2]


def layer_gradient_norms(model, x, y) -> pd.DataFrame:
    """Gradient L2 norm of the loss w.r.t. every conv/dense kernel on one batch.

    The forward pass runs in training mode (BatchNorm uses batch statistics, as
    during training); the BatchNorm moving statistics are restored afterwards so
    the model is left unchanged.  Columns: ``depth`` (1 = first layer), ``layer``,
    ``kind`` (``conv``/``dense``), ``norm``.
    """
    import keras
    import tensorflow as tf

    from keras_cnns.training.loop import _outputs_probabilities

    kernels = _kernels(model)
    if not kernels:
        raise ValueError("model has no conv/dense kernels to measure")
    saved = [v.numpy() for v in model.non_trainable_variables]
    x = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
    y = tf.convert_to_tensor(_as_class_indices(y))
    try:
        with tf.GradientTape() as tape:
            probabilities = model(x, training=True)
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(
                    y, tf.cast(probabilities, tf.float32), from_logits=not _outputs_probabilities(model)
                )
            )
        grads = tape.gradient(loss, kernels)
    finally:
        for variable, value in zip(model.non_trainable_variables, saved):
            variable.assign(value)
    rows = []
    for depth, (variable, grad) in enumerate(zip(kernels, grads), start=1):
        norm = float(tf.norm(tf.cast(grad, tf.float32))) if grad is not None else float("nan")
        rows.append({
            "depth": depth,
            "layer": variable.path.rsplit("/", 1)[0],
            "kind": "dense" if len(variable.shape) == 2 else "conv",
            "norm": norm,
        })
    return pd.DataFrame(rows)


def gradient_norms(models: Mapping, x, y, title: str | None = None) -> tuple[Figure, pd.DataFrame]:
    """Per-layer gradient norms of several models on the same batch, log y-axis.

    Used to contrast a deep plain network with a residual one. What to look for is
    how much the norm changes between the last layers and the first (the x-axis runs
    from input to output): in a deep plain network the gradients can vanish (shrink
    towards the input) or explode (grow towards the input) -- with BatchNorm at
    initialisation, notebook 06's plain-56 shows them growing by a factor of several
    hundred -- while a residual network keeps them within about one order of magnitude.

    Args:
        models: ``{label: keras.Model}``.
        x, y: one batch of images and integer labels; ``x`` is what the models take
            (raw pixels for a model trained by ``training.train``, whose ``result.model``
            normalises inside; normalised pixels for a bare ``models.build`` network).

    Returns:
        ``(fig, frame)``: one line per model; ``frame`` has one row per conv/dense
        kernel per model with columns ``model, depth, layer, kind, norm``.
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must be a non-empty dict {label: keras.Model}")
    frames = []
    for label, model in models.items():
        frame = layer_gradient_norms(model, x, y)
        frame.insert(0, "model", str(label))
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    fig = _figure(7, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    for i, (label, frame) in enumerate(table.groupby("model", sort=False)):
        ax.semilogy(frame["depth"], frame["norm"], marker=".", color=f"C{i % 10}",
                    label=f"{label} ({len(frame)} layers)")
    ax.set_xlabel("layer (input \u2192 output)")
    ax.set_ylabel("gradient L2 norm")
    ax.set_title(title or "per-layer gradient norms, one batch")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig, table
