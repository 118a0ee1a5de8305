"""tf.distribute: a mirrored run on 2 logical CPU devices is the same optimisation as 1 device at the
same global batch, records its strategy, and bad requests get clear errors."""

import json
import textwrap

import pytest

from conftest import REPO, run_python
from keras_cnns import training
from keras_cnns.cli import main


# One process (logical devices are fixed when TensorFlow starts): KERAS_CNNS_CPU_REPLICAS=2.
TWO_REPLICAS = textwrap.dedent("""
    import json, sys
    import keras
    import numpy as np
    sys.path.insert(0, {repo!r})
    from keras_cnns import data, training
    from keras_cnns.cli import main

    ds = data.load("mnist", sample=True)
    # 256 real MNIST images in a fixed order (shuffle buffer 1): under a strategy Keras draws one batch
    # from a fresh iterator to build the model, which would reshuffle the mirrored run's epoch.
    pipes = data.make_pipelines(ds.subset(256, 128, seed=0), 64, validation_split=0.0, augment=False,
                                shuffle_buffer=1, fast=False)
    runs = {{}}
    # A small CNN built by hand: convolutions (with or without BatchNorm), pooling, dense; no dropout.
    def plain_cnn(batch_norm=False):
        inputs = keras.Input((28, 28, 1))
        x = inputs
        for i, filters in enumerate((16, 32)):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm)(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(momentum=0.9)(x)
            x = keras.layers.ReLU()(x)
            x = keras.layers.MaxPooling2D()(x) if i == 0 else x
        x = keras.layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))

    # With BatchNorm (each replica normalises over its own half of the batch): the same loss, nearly.
    for strategy in ("default", "mirrored"):
        training.set_seed(0)
        with training.get_strategy(strategy).scope():
            model = plain_cnn(batch_norm=True)
        result = training.train(model, pipes, epochs=1, learning_rate=0.02, weight_decay=0.0,
                                fast=False, verbose=0, strategy=strategy)
        runs[strategy] = {{"loss": float(result.metrics["loss"].iloc[0]),
                          "steps": int(keras.ops.convert_to_numpy(result.model.optimizer.iterations)),
                          "replicas": result.device["replicas"]}}
    # Without BatchNorm nothing depends on the per-replica split: the same weights.

    for strategy in ("default", "mirrored"):
        training.set_seed(0)
        with training.get_strategy(strategy).scope():  # a model built by hand, in the strategy's scope
            model = plain_cnn()
        start = keras.ops.convert_to_numpy(model.weights[0]).ravel()
        training.train(model, pipes, epochs=1, learning_rate=0.02, weight_decay=0.0, fast=False, verbose=0,
                       strategy=strategy)
        runs["plain_" + strategy] = keras.ops.convert_to_numpy(model.weights[0]).ravel().tolist()
        runs["plain_start"] = start.tolist()
    training.set_seed(0)
    outside = plain_cnn()
    try:
        training.train(outside, pipes, epochs=1, fast=False, verbose=0, strategy="mirrored")
    except ValueError as error:
        runs["outside_scope_error"] = str(error)
    try:
        with training.get_strategy("mirrored").scope():
            odd = plain_cnn()
        training.train(odd, ds, epochs=1, batch_size=63, steps_per_epoch=1, fast=False, verbose=0,
                       strategy="mirrored")
    except ValueError as error:
        runs["odd_batch_error"] = str(error)
    code = main(["train", "nin", "--dataset", "cifar10", "--fast", "--epochs", "1", "--steps", "2",
                 "--strategy", "mirrored", "--verbose", "0", "--out", sys.argv[1]])
    runs["cli_code"] = code
    print("@@" + json.dumps(runs))
""")


@pytest.fixture(scope="module")
def two_replicas(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirrored") / "run"
    proc = run_python(TWO_REPLICAS.format(repo=str(REPO)), out, timeout=600,
                      env={"KERAS_CNNS_CPU_REPLICAS": "2", "KERAS_CNNS_FAST": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(l for l in proc.stdout.splitlines() if l.startswith("@@"))
    return json.loads(line[2:]), out


def test_two_replicas_train_like_one_device_at_the_same_global_batch(two_replicas):
    import numpy as np

    runs, _ = two_replicas
    one, two = runs["default"], runs["mirrored"]
    assert one["replicas"] == 1 and two["replicas"] == 2
    assert one["steps"] == two["steps"] == 4  # the global batch (256 / 64): the same number of updates
    # First-epoch loss of the BatchNorm CNN: the same within 2% (BatchNorm normalises per replica,
    # over 32 images instead of 64).
    assert two["loss"] == pytest.approx(one["loss"], rel=0.02)
    # Without BatchNorm the two runs take the same steps: the first kernel differs by float round-off
    # only. (Summing instead of averaging the replicas' gradients would double every step: a
    # difference as large as the whole movement.)
    start, w1, w2 = (np.array(runs[k]) for k in ("plain_start", "plain_default", "plain_mirrored"))
    moved = np.linalg.norm(w1 - start)
    assert moved > 0
    assert np.linalg.norm(w2 - w1) < 1e-3 * moved


def test_a_model_built_outside_the_scope_is_refused(two_replicas):
    runs, _ = two_replicas
    assert "built outside the strategy's scope" in runs["outside_scope_error"]


def test_global_batch_must_split_across_replicas(two_replicas):
    runs, _ = two_replicas
    assert "batch_size" in runs["odd_batch_error"] and "2 replicas" in runs["odd_batch_error"]


def test_cli_mirrored_records_strategy_and_replicas(two_replicas):
    runs, out = two_replicas
    assert runs["cli_code"] == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["strategy"] == "mirrored" and summary["replicas"] == 2
    assert summary["config"]["strategy"] == "mirrored"
    assert len(summary["device"]["replica_devices"]) == 2
    assert "--strategy mirrored" in summary["command"]


def test_unknown_strategy_names_the_setting():
    with pytest.raises(ValueError, match="strategy must be one of 'default', 'mirrored', 'multi_worker'"):
        training.TrainConfig(strategy="tpu")


def test_multi_worker_is_refused_with_the_upstream_issue(samples):
    with pytest.raises(ValueError, match="20585"):
        training.train("resnet20", samples["mnist"], epochs=1, steps_per_epoch=1, fast=True, verbose=0,
                       strategy="multi_worker")


def test_bad_cpu_replica_count_is_a_clear_cli_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KERAS_CNNS_CPU_REPLICAS", "two")
    with pytest.raises(SystemExit) as exit_info:  # a usage error: exit 2 with the command's usage line
        main(["train", "resnet20", "--dataset", "mnist", "--fast", "--epochs", "1", "--strategy", "mirrored",
              "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    assert "KERAS_CNNS_CPU_REPLICAS must be a whole number >= 1" in capsys.readouterr().err
