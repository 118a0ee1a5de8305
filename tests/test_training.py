"""Tests of keras_cnns.training: learning on the MNIST sample, resume after a kill,
argument checks, checkpoint reload, optimiser/schedule details, the Wilson interval."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, run_python, small_bn_cnn

from keras_cnns import data, training


@pytest.fixture(scope="module")
def mnist():
    return data.load("mnist", sample=True)


@pytest.fixture(scope="module")
def trained(mnist, tmp_path_factory):
    """A small BN CNN trained for 2 epochs on the MNIST sample, with a run folder."""
    out = tmp_path_factory.mktemp("run")
    training.set_seed(0)
    model = small_bn_cnn()
    result = training.train(model, mnist, epochs=2, batch_size=64, out_dir=out, verbose=0, fast=False)
    return result, out


def read_epochs(path: Path) -> list[int]:
    with path.open(newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


# ------------------------------------------------------------------------------- learning


def test_learns_mnist_sample_in_inference_mode(trained, mnist):
    """Well above chance (10%) when evaluated with BatchNorm's moving statistics."""
    result, _ = trained
    test = data.make_pipelines(mnist, 64, fast=False).test
    loss, accuracy = result.model.evaluate(test, verbose=0)
    assert accuracy >= 0.65, result.summary()
    assert result.test_accuracy == pytest.approx(accuracy, abs=1e-6)
    assert result.test_loss == pytest.approx(loss, rel=1e-5)
    assert result.n_test == len(mnist.y_test) == 500
    lo, hi = result.test_ci95
    assert lo < result.test_accuracy < hi and hi - lo < 0.1
    assert result.is_sample is True and result.dataset_name == "mnist"
    assert "mnist" in result.dataset


def test_result_metrics_and_summary(trained):
    result, out = trained
    frame = result.metrics
    assert list(frame.columns[:8]) == [
        "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "images_per_sec"
    ]
    assert frame["epoch"].tolist() == [0, 1]
    assert (frame["seconds"] > 0).all() and (frame["images_per_sec"] > 0).all()
    # cosine decay from the default peak 0.1 * 64 / 128, logged at the start of each epoch
    assert frame["lr"].iloc[0] == pytest.approx(0.05)
    assert 0 < frame["lr"].iloc[1] < frame["lr"].iloc[0]
    assert frame["loss"].iloc[1] < frame["loss"].iloc[0]
    assert read_epochs(out / "metrics.csv") == [0, 1]
    line = str(result)
    assert line.startswith("test accuracy ") and "95% CI" in line and "n=500" in line
    assert "\n" not in line and str(out) not in line
    assert result.device["device"] in ("CPU", "GPU") and result.wall_seconds > 0


def test_report_states_the_result_and_what_produced_it(trained, mnist):
    result, _ = trained
    text = result.report(hardware="2 CPU cores (test)")
    first, *rest = text.splitlines()
    lo, hi = result.test_ci95
    assert first == (f"test accuracy {result.test_accuracy:.1%} (95% Wilson interval {lo:.1%}-{hi:.1%}, "
                     "n = 500 test images)")
    n_train = data.make_pipelines(mnist, 64, fast=False).n_train   # the 90% kept for training
    steps = -(-n_train // 64)                                        # one pass, batch 64: the last batch partial
    assert n_train < steps * 64
    assert f"2 epochs of {steps} steps, batch 64 ({2 * n_train:,} training images seen)" in text
    assert "shipped sample;" in text and "sgd, peak learning rate 0.05" in text and "augmentation" in text
    assert rest[-1] == "hardware: 2 CPU cores (test)" and "hardware" not in result.report()


def test_images_seen_counts_what_the_repeated_pipeline_yields(trained, mnist):
    """Quarter-pass epochs read on through the repeated data and cross the partial last batch of a pass."""
    import dataclasses

    pipes = data.make_pipelines(mnist, 64, fast=False)
    per_pass = -(-pipes.n_train // 64)
    steps = per_pass // 4 + 1                 # an epoch a little over a quarter pass: epoch 4 crosses a pass
    counted = sum(int(x.shape[0]) for x, _ in pipes.train.repeat().take(4 * steps))
    assert counted < 4 * steps * 64           # the partial batch was read
    assert training.images_seen(4 * steps, 64, pipes.n_train) == counted
    result = dataclasses.replace(trained[0], metrics=trained[0].metrics.iloc[[0, 1, 1, 1]],
                                 config={**trained[0].config, "steps_per_epoch": steps})
    assert f"4 epochs of {steps} steps, batch 64 ({counted:,} training images seen)" in result.report()


def test_best_checkpoint_reloads_safely(trained, mnist):
    """best.keras loads with safe_mode=True and is the best-validation epoch."""
    import keras

    result, out = trained
    reloaded = keras.models.load_model(out / "best.keras", safe_mode=True)
    pipes = data.make_pipelines(mnist, 64, fast=False)
    best_epoch = int(result.metrics["val_accuracy"].idxmax())
    _, val_accuracy = reloaded.evaluate(pipes.val, verbose=0)
    assert val_accuracy == pytest.approx(result.metrics["val_accuracy"].max(), abs=1e-6)
    if best_epoch == len(result.metrics) - 1:  # the last epoch: the final model itself
        x, _ = next(iter(pipes.test))
        np.testing.assert_allclose(
            reloaded.predict(x, verbose=0), result.model.predict(x, verbose=0), atol=1e-5
        )


def test_high_bn_momentum_warns(mnist):
    model = small_bn_cnn(filters=(8,), bn_momentum=0.99)
    with pytest.warns(UserWarning, match="set_bn_momentum"):
        training.train(model, mnist, epochs=1, steps_per_epoch=1, verbose=0, fast=False)
    assert training.set_bn_momentum(model, 0.9) == 1
    assert model.layers[2].momentum == 0.9


# --------------------------------------------------------------------------------- resume

KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {repo!r}); sys.path.insert(0, {tests!r})
    import keras
    from conftest import small_bn_cnn
    from keras_cnns import data, training

    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, like a lost machine

    training.set_seed(0)
    training.train(small_bn_cnn(filters=(8, 16)), data.load("mnist", sample=True), epochs=4,
                   batch_size=64, steps_per_epoch=2, out_dir=sys.argv[1], verbose=0, fast=False,
                   callbacks=[Kill()])
    """
)


def test_killed_run_resumes_where_it_stopped(tmp_path, mnist):
    out = tmp_path / "run"
    script = KILLED_RUN.format(repo=str(REPO), tests=str(REPO / "tests"))
    proc = run_python(script, out)   # killed before it would leave
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert read_epochs(out / "metrics.csv") == [0, 1]
    # a kill between CSVLogger and BackupAndRestore can leave a row the backup lacks
    with (out / "metrics.csv").open("a") as f:
        f.write("2,0.5,1.0,0.1,1.0,0.1,0.1,0.1\n")

    training.set_seed(0)
    model = small_bn_cnn(filters=(8, 16))
    result = training.train(model, mnist, epochs=4, batch_size=64, steps_per_epoch=2,
                            out_dir=out, resume=True, verbose=0, fast=False)
    assert result.history.epoch == [2, 3]  # only the missing epochs ran
    assert read_epochs(out / "metrics.csv") == [0, 1, 2, 3]
    assert result.metrics["epoch"].tolist() == [0, 1, 2, 3]
    assert int(result.model.optimizer.iterations) == 4 * 2  # optimiser state came back too
    # the restored schedule continues: lr at epoch 2 is the cosine value at step 4 of 8
    assert result.metrics["lr"].iloc[2] == pytest.approx(0.05 * 0.5, rel=1e-4)
    assert (out / "best.keras").exists()

    again = training.train(small_bn_cnn(filters=(8, 16)), mnist, epochs=4, batch_size=64,
                           steps_per_epoch=2, out_dir=out, resume=True, verbose=0, fast=False)
    assert again.history.epoch == [] and read_epochs(out / "metrics.csv") == [0, 1, 2, 3]


def test_fresh_run_replaces_old_run_folder(tmp_path, mnist):
    out = tmp_path / "run"
    for _ in range(2):
        result = training.train(small_bn_cnn(filters=(8,)), mnist, epochs=1, steps_per_epoch=1,
                                out_dir=out, verbose=0, fast=False)
    assert read_epochs(out / "metrics.csv") == [0]
    assert result.history.epoch == [0]


# ---------------------------------------------------------------------- fast mode, options


def test_ready_pipelines_without_validation(tmp_path, mnist, monkeypatch):
    pipes = data.make_pipelines(mnist, 50, validation_split=0.0, fast=False)
    traces = count_train_step_traces(monkeypatch)
    result = training.train(small_bn_cnn(filters=(8,)), pipes, epochs=1, steps_per_epoch=2,
                            out_dir=tmp_path, verbose=0, fast=False)
    assert len(traces) == 1   # SGD's momentum made before fit: one trace (sparse labels)
    assert result.config["batch_size"] == 50  # taken from the pipelines
    assert result.config["validation_split"] == 0.0
    assert result.dataset.startswith("pipelines") and result.is_sample is None
    assert "val_accuracy" not in result.metrics and "accuracy" in result.metrics
    assert (tmp_path / "best.keras").exists()  # checkpoint on training accuracy then


def test_fast_mode_by_name_uses_sample_and_caps_steps(monkeypatch):
    monkeypatch.setenv("KERAS_CNNS_FAST", "1")
    result = training.train(small_bn_cnn(filters=(8,)), "mnist", epochs=1, batch_size=32, verbose=0)
    assert result.is_sample is True and result.config["fast"] is True
    assert result.config["steps_per_epoch"] == training.FAST_MAX_STEPS
    # images/s counts only the capped steps
    assert result.metrics["images_per_sec"].iloc[0] > 0


def count_train_step_traces(monkeypatch) -> list:
    """Patch ``keras.Model.train_step`` to record each call: in graph mode, each trace of the train step."""
    import keras

    traces, step = [], keras.Model.train_step
    monkeypatch.setattr(keras.Model, "train_step", lambda self, batch: traces.append(1) or step(self, batch))
    return traces


def test_adamw_warmup_label_smoothing(mnist, monkeypatch):
    import keras

    model = small_bn_cnn(filters=(8,))
    traces = count_train_step_traces(monkeypatch)
    result = training.train(model, mnist, epochs=2, optimizer="adamw", warmup_epochs=1,
                            label_smoothing=0.1, steps_per_epoch=2, verbose=0, fast=False)
    # AdamW's moments and the accuracy's counters were made before fit (one-hot labels here), so the
    # train step was traced once; made in its first trace, TensorFlow would have traced it twice
    assert len(traces) == 1
    lr = result.metrics["lr"].tolist()
    assert lr[0] == pytest.approx(0.0) and lr[1] == pytest.approx(1e-3)  # warm-up to the peak
    assert isinstance(result.model.optimizer, keras.optimizers.AdamW)
    assert result.model.optimizer.weight_decay == pytest.approx(0.05)
    assert isinstance(result.model.loss, keras.losses.CategoricalCrossentropy)
    assert np.isfinite(result.test_loss)


def test_weight_decay_skips_biases_and_batchnorm():
    model = small_bn_cnn(filters=(8,))
    optimizer = training.make_optimizer("sgd", 0.1, weight_decay=5e-4, model=model)
    decayed = {v.path for v in model.trainable_variables if optimizer._use_weight_decay(v)}
    assert all(path.endswith("kernel") for path in decayed) and len(decayed) == 2
    assert optimizer.nesterov and optimizer.momentum == 0.9


def test_default_learning_rate_scales_with_batch():
    assert training.default_learning_rate("sgd", 256) == pytest.approx(0.2)
    assert training.default_learning_rate("adamw", 256) == pytest.approx(1e-3)


# ------------------------------------------------------------------------- argument checks


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"optimizer": "adam"}, "optimizer"),
        ({"learning_rate": -0.1}, "learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"epochs": 2, "warmup_epochs": 2}, "warmup_epochs"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"validation_split": 1.0}, "validation_split"),
        ({"verbose": 3}, "verbose"),
        ({"steps_per_epoch": 0}, "steps_per_epoch"),
        ({"seed": -1}, "seed"),
        ({"resume": True}, "out_dir"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        training.train(None, "mnist", **kwargs)  # checked before anything is loaded or built


def test_bad_optimizer_lists_valid_values():
    with pytest.raises(ValueError, match="'sgd', 'adamw'"):
        training.train(None, "mnist", optimizer="rmsprop")


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="mixed_precision"):
        training.configure_device(mixed_precision="half")
    with pytest.raises(ValueError, match="xla"):
        training.configure_device(xla="yes")
    with pytest.raises(ValueError, match="momentum"):
        training.set_bn_momentum(small_bn_cnn(filters=(8,)), 1.5)
    with pytest.raises(ValueError, match="n must"):
        training.accuracy_ci95(0.5, 0)
    with pytest.raises(ValueError, match="accuracy"):
        training.accuracy_ci95(1.5, 10)


# ------------------------------------------------------------------------------ helpers


def test_configure_device_on_cpu():
    info = training.configure_device()
    assert set(info) >= {"device", "gpus", "mixed_precision", "jit_compile", "cpu_count"}
    if info["gpus"] == 0:
        assert info == {**info, "device": "CPU", "mixed_precision": False, "jit_compile": False,
                        "dtype_policy": "float32"}
    assert info["cpu_count"] >= 1


def test_wilson_interval_known_values():
    lo, hi = training.accuracy_ci95(0.9, 100)
    assert (round(lo, 4), round(hi, 4)) == (0.8256, 0.9448)  # published Wilson interval for 90/100
    assert training.accuracy_ci95(1.0, 10) == (pytest.approx(0.7225, abs=1e-4), 1.0)
    assert training.accuracy_ci95(0.0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    narrow = training.accuracy_ci95(0.9, 10000)
    assert narrow[0] > lo and narrow[1] < hi and narrow[0] < 0.9 < narrow[1]


DETERMINISTIC_RUNS = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {repo!r}); sys.path.insert(0, {tests!r})
    from conftest import small_bn_cnn
    from keras_cnns import data, training

    ds = data.load("mnist", sample=True)
    losses = []
    for _ in range(2):
        training.set_seed(3, deterministic=True)
        model = small_bn_cnn(filters=(8, 16))
        result = training.train(model, ds, epochs=1, batch_size=64, steps_per_epoch=3, seed=3,
                                deterministic=True, verbose=0, fast=False)
        losses.append(result.metrics["loss"].tolist() + [result.test_loss])
    print(json.dumps(losses))
    """
)


def test_deterministic_runs_repeat_exactly():
    """Same seed + op determinism: identical losses (own process: determinism is global)."""
    import json

    script = DETERMINISTIC_RUNS.format(repo=str(REPO), tests=str(REPO / "tests"))
    proc = run_python(script)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, second = json.loads(proc.stdout.strip().splitlines()[-1])
    assert first == second


# ------------------------------------------------------- normalisation inside the model, TrainConfig


def test_saved_model_takes_raw_pixels_in_a_fresh_process(trained, mnist):
    """best.keras starts with the training split's Normalization and classifies raw uint8 images alone."""
    result, out = trained
    assert training.has_normalization(result.model)
    norm = result.model.layers[1]
    # the layer's statistics are the training split's, in pixel units (pipelines: [0, 1] units)
    pipes = data.make_pipelines(mnist, 64, fast=False)
    np.testing.assert_allclose(np.ravel(norm.mean), pipes.mean * 255.0, rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.ravel(norm.variance)), pipes.std * 255.0, rtol=1e-5)
    np.save(out / "x.npy", mnist.x_test)  # raw uint8, nothing done to them
    code = textwrap.dedent(f"""
        import json, sys
        import numpy as np, keras
        model = keras.saving.load_model({str(out / "best.keras")!r}, safe_mode=True)
        x = np.load({str(out / "x.npy")!r})
        assert x.dtype == np.uint8
        print(json.dumps(model.predict(x, verbose=0).argmax(-1).tolist()))
    """)
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    predicted = np.array(json.loads(proc.stdout.strip().splitlines()[-1]))
    accuracy = float((predicted == mnist.y_test).mean())
    assert accuracy >= 0.6, accuracy  # chance is 0.1; the trained fixture reaches ~0.7+


def test_train_config_is_frozen_and_validates():
    import dataclasses

    config = training.TrainConfig(epochs=3, optimizer="adamw")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 4
    with pytest.raises(ValueError, match="batch_size"):
        training.TrainConfig(batch_size=0)
    with pytest.raises(TypeError, match="unknown training setting.*epoch_count"):
        training.train(None, "mnist", epoch_count=3)
    assert training.TrainConfig.make(config, seed=2).seed == 2 and config.seed == 0
    assert config.to_dict()["optimizer"] == "adamw" and config.peak_weight_decay == 0.05


def test_train_by_name_builds_for_the_pipelines(tmp_path):
    """A model name is built after seeding, for the pipelines' input shape and classes."""
    config = training.TrainConfig(epochs=1, batch_size=32, steps_per_epoch=1, fast=True)
    result = training.train("resnet20", "fashion_mnist", config=config, verbose=0)
    assert result.model.input_shape[1:] == (28, 28, 1) and result.model.output_shape[-1] == 10
    assert result.config["fast"] is True and result.config["batch_size"] == 32
    assert result.class_names[0] == "T-shirt/top"


def test_results_table_reads_every_run_from_its_own_result(trained):
    """One row per run, each number taken from that run's metrics and test evaluation."""
    import dataclasses

    result = trained[0]
    other = dataclasses.replace(result, test_accuracy=0.25, test_ci95=(0.2, 0.3), wall_seconds=7.0)
    table = training.results_table({"a": result, "b": other})
    assert list(table.index) == ["a", "b"]
    last = result.metrics.iloc[-1]
    assert table.loc["a", "train loss"] == pytest.approx(last["loss"])
    assert table.loc["a", "train error %"] == pytest.approx(100 * (1 - last["accuracy"]))
    assert table.loc["a", "val accuracy %"] == pytest.approx(100 * last["val_accuracy"])
    assert table.loc["a", "test accuracy %"] == pytest.approx(100 * result.test_accuracy)
    assert table.loc["b", "test accuracy %"] == pytest.approx(25.0) and table.loc["b", "test 95% CI"] == "20.0%-30.0%"
    assert table.loc["a", "images/s (median)"] == pytest.approx(result.metrics["images_per_sec"].median())
    assert table.loc["b", "wall time (s)"] == 7.0
    by_seed = training.results_table({("net", 0): result, ("net", 1): other})
    assert by_seed.index.nlevels == 2 and by_seed.loc[("net", 1), "test accuracy %"] == pytest.approx(25.0)
    with pytest.raises(ValueError, match="runs"):
        training.results_table({})
    with pytest.raises(TypeError, match=r"runs\['c'\] must be a TrainResult"):
        training.results_table({"c": 0.5})
