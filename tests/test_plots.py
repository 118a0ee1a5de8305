"""Tests of keras_cnns.plots: every function returns a Figure with the expected content."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from keras_cnns import plots
from keras_cnns.training import TrainResult


def metrics_frame(n=3, offset=0.0):
    epochs = np.arange(n)
    return pd.DataFrame({
        "epoch": epochs,
        "loss": 2.0 - 0.5 * epochs + offset,
        "accuracy": 0.3 + 0.2 * epochs,
        "val_loss": 2.1 - 0.4 * epochs + offset,
        "val_accuracy": 0.25 + 0.2 * epochs,
        "lr": 0.1 / (1 + epochs),
    })


def as_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# ------------------------------------------------------------------------- learning curves


def test_learning_curves_single_run():
    fig = plots.learning_curves(metrics_frame(), title="run")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    for ax, metric in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        styles = sorted(line.get_linestyle() for line in ax.lines)
        assert styles == ["-", "--"]  # validation solid, train dashed
        assert ax.get_ylabel() == metric
    train_line = next(line for line in loss_ax.lines if line.get_linestyle() == "--")
    np.testing.assert_allclose(train_line.get_xdata(), [1, 2, 3])  # 1-based epochs
    np.testing.assert_allclose(train_line.get_ydata(), [2.0, 1.5, 1.0])
    assert as_png(fig)[:4] == b"\x89PNG"


def test_learning_curves_overlay_two_runs_one_colour_each():
    history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.7], "val_loss": [1.1, 0.6], "val_accuracy": [0.4, 0.6]}
    fig = plots.learning_curves({"plain": metrics_frame(), "residual": history})
    for ax in fig.axes:
        assert len(ax.lines) == 2 * 2
        colours = {}
        for line in ax.lines:
            run = line.get_label().split(" (")[0]
            colours.setdefault(run, set()).add(to_rgba(line.get_color()))
        assert set(colours) == {"plain", "residual"}
        assert all(len(c) == 1 for c in colours.values())
        assert colours["plain"] != colours["residual"]


def test_learning_curves_accepts_train_result_and_history():
    frame = metrics_frame(2)
    result = TrainResult(history=None, metrics=frame, test_loss=1.0, test_accuracy=0.5,
                         test_ci95=(0.4, 0.6), n_test=100, model=None, out_dir=None, dataset="x",
                         is_sample=True, device={"device": "CPU"}, wall_seconds=1.0)

    class FakeHistory:
        history = {"loss": [1.0, 0.8]}
        epoch = [0, 1]

    assert len(plots.learning_curves(result).axes[0].lines) == 2
    fig = plots.learning_curves(FakeHistory())  # no validation, no accuracy
    assert [len(ax.lines) for ax in fig.axes] == [1, 0]
    with pytest.raises(TypeError, match="metrics must be"):
        plots.learning_curves(42)


# ------------------------------------------------------------------------------ sample grid


def test_sample_grid_grey_uint8(samples):
    ds = samples["mnist"]
    fig = plots.sample_grid(ds.x_test, ds.y_test, ds.class_names, n=6)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes] == [ds.class_names[y] for y in ds.y_test[:6]]
    assert fig.axes[0].images[0].get_array().shape == ds.input_shape[:2]
    as_png(fig)


def test_sample_grid_random_selection(samples):
    ds = samples["cifar10"]  # the sample's arrays are ordered by class
    fig = plots.sample_grid(ds.x_test, ds.y_test, ds.class_names, n=9, seed=0)
    chosen = np.random.default_rng(0).choice(len(ds.y_test), size=9, replace=False)
    assert [ax.get_title() for ax in fig.axes] == [ds.class_names[y] for y in ds.y_test[chosen]]
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), ds.x_test[chosen[0]] / 255.0)


def test_sample_grid_float_rgb_pixels_with_predictions(samples):
    ds = samples["cifar10"]
    x = ds.x_test[:4].astype(np.float32)  # raw pixels as floats 0-255, as the pipelines yield them
    y = ds.y_test[:4]
    wrong = (y[1] + 1) % 10
    probabilities = np.eye(10)[[y[0], wrong, y[2], y[3]]]
    fig = plots.sample_grid(x, y, ds.class_names, predictions=probabilities, n=16)
    assert len(fig.axes) == 4  # n is capped by the number of images
    colours = [to_rgba(ax.title.get_color()) for ax in fig.axes]
    assert colours[1] == to_rgba("red") and colours[0] == to_rgba("black")
    assert fig.axes[1].get_title() == f"{ds.class_names[y[1]]} / {ds.class_names[wrong]}"
    for ax, image in zip(fig.axes, ds.x_test[:4]):
        np.testing.assert_allclose(ax.images[0].get_array(), image / 255.0, atol=1e-6)  # the same as uint8


def test_sample_grid_rejects_normalised_images(samples):
    ds = samples["cifar10"]
    mean = ds.x_train.mean(axis=(0, 1, 2))
    std = ds.x_train.std(axis=(0, 1, 2))
    x = ((ds.x_test[:4] - mean) / std).astype(np.float32)  # what a model's Normalization layer sees
    with pytest.raises(ValueError, match="raw pixels in 0-255"):
        plots.sample_grid(x, ds.y_test[:4], ds.class_names)
    with pytest.raises(ValueError, match="raw pixels in 0-255"):
        plots.sample_grid(ds.x_test[:4] * 2.0, ds.y_test[:4], ds.class_names)  # 0-510
    with pytest.raises(TypeError):
        plots.sample_grid(ds.x_test[:4], ds.y_test[:4], ds.class_names, mean=mean, std=std)  # no guessing


# ------------------------------------------------------------------------- confusion matrix


def test_confusion_matrix_normalised_rows():
    y_true = [0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 2, 0, 2]
    fig = plots.confusion_matrix(y_true, y_pred, ["a", "b", "c"])
    matrix = np.asarray(fig.axes[0].images[0].get_array())
    np.testing.assert_allclose(matrix, [[0.5, 0.5, 0], [0, 1, 0], [0.25, 0, 0.75]])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c"]
    counts = plots.confusion_matrix(y_true, np.eye(3)[y_pred], ["a", "b", "c"], normalize=False)
    np.testing.assert_array_equal(counts.axes[0].images[0].get_array(), [[1, 1, 0], [0, 2, 0], [1, 0, 3]])


# --------------------------------------------------------------------------- gradient norms


def test_gradient_norms_plain_vs_residual(samples):
    import keras

    from keras_cnns import models

    ds = samples["mnist"]
    x = (ds.x_train[:16].astype(np.float32) / 255.0 - 0.13) / 0.31
    y = ds.y_train[:16]
    nets = {
        "plain20": models.build("plain20", input_shape=ds.input_shape, classes=10),
        "resnet20": models.build("resnet20", input_shape=ds.input_shape, classes=10),
    }
    before = [v.numpy().copy() for v in nets["resnet20"].non_trainable_variables]
    fig, table = plots.gradient_norms(nets, x, y)

    assert isinstance(fig, Figure) and len(fig.axes[0].lines) == 2
    assert fig.axes[0].get_yscale() == "log"
    for name, model in nets.items():
        expected = [layer for layer in model._flatten_layers(include_self=False)
                    if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
        rows = table[table["model"] == name]
        assert len(rows) == len(expected) >= 20
        assert rows["depth"].tolist() == list(range(1, len(expected) + 1))
        assert rows["kind"].iloc[-1] == "dense" and rows["kind"].iloc[0] == "conv"
        assert np.isfinite(rows["norm"]).all() and (rows["norm"] > 0).all()
    for saved, variable in zip(before, nets["resnet20"].non_trainable_variables):
        np.testing.assert_array_equal(saved, variable.numpy())  # BN statistics untouched


def _patches(fig):
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    return boxes, arrows


def test_block_diagram_is_read_from_the_keras_graph():
    """One box per layer, one arrow per connection; only the residual block has a (red) shortcut."""
    import keras
    from matplotlib.colors import to_hex

    from keras_cnns import blocks, plots
    from keras_cnns.diagram import graph

    inputs = keras.Input((8, 8, 16))
    residual = keras.Model(inputs, blocks.residual_block(inputs, 16, 3, name="r"))
    plain = keras.Model(inputs, blocks.vgg_block(inputs, 2, 16, name="v"))
    for model, shortcuts in ((residual, 1), (plain, 0)):
        layers, inbound = graph(model)
        assert len(layers) == len(model.layers)
        boxes, arrows = _patches(plots.block_diagram(model, title="t"))
        assert len(boxes) == len(model.layers)
        assert len(arrows) == sum(len(parents) for parents in inbound.values())
        assert sum(to_hex(a.get_edgecolor()) == "#c0392b" for a in arrows) == shortcuts
    _, inbound = graph(residual)
    assert sorted(inbound["r_add"]) == sorted([residual.layers[0].name, "r_2_bn"])  # F(x) + x
    assert plots.block_diagram(residual).dpi >= 100
