"""Shipped weights (keras_cnns/weights), their model cards, pretrained.load and scripts/export_weights.py.

Tests on the shipped files are parametrized over what is shipped; ``test_issue_10_weights_are_shipped``
fails while one of the weights of issue 10 is missing (export them with scripts/export_weights.py).
The others build small registries in tmp folders, so they run without the shipped files.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import run_python
from keras_cnns import pretrained

REPO = Path(__file__).resolve().parent.parent
ISSUE_10_WEIGHTS = [("resnet20", "cifar10"), ("resnet20", "fashion_mnist"), ("resnet20", "cifar10_0to4")]
CARD_FIELDS = {"model", "weights", "file", "size_bytes", "sha256", "dataset", "dataset_source", "dataset_notes",
               "classes", "class_names", "input_shape", "test_accuracy", "test_ci95", "n_test", "test_set",
               "checkpoint", "command", "epochs", "wall_seconds", "hardware", "versions", "licence",
               "dataset_licence"}
SHIPPED = pretrained.available()


def raw_pixel_model(input_shape=(32, 32, 3), classes=10, name="resnet20"):
    """``models.build(name)`` behind a Normalization layer, as ``training.train`` saves it (untrained)."""
    import keras

    from keras_cnns import models

    keras.utils.set_random_seed(0)
    body = models.build(name, input_shape=input_shape, classes=classes)
    inputs = keras.Input(input_shape, name="pixels")
    channels = input_shape[-1]
    norm = keras.layers.Normalization(mean=[120.0] * channels, variance=[4000.0] * channels)
    return keras.Model(inputs, body.call(norm(inputs)), name=body.name)


@pytest.fixture(scope="module")
def tmp_registry(tmp_path_factory):
    """A weights folder with one (untrained) ``resnet20`` weights file ``dev`` and its card."""
    folder = tmp_path_factory.mktemp("weights")
    path = folder / "resnet20_dev.keras"
    raw_pixel_model().save(path)
    card = {"model": "resnet20", "weights": "dev", "file": path.name, "sha256": pretrained.sha256(path),
            "size_bytes": path.stat().st_size, "classes": 10, "input_shape": [32, 32, 3],
            "class_names": [f"c{i}" for i in range(10)]}
    (folder / "resnet20_dev.json").write_text(json.dumps(card))
    return folder


@pytest.fixture
def use_registry(tmp_registry, tmp_path, monkeypatch):
    """A writable copy of :func:`tmp_registry` as ``pretrained.WEIGHTS_DIR``."""
    folder = tmp_path / "weights"
    shutil.copytree(tmp_registry, folder)
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", folder)
    return folder


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """A run folder of ``python -m keras_cnns train resnet20 --dataset cifar10 --epochs 1 --fast`` (2 steps).

    Made in this process, by the command line's own ``main`` (the loading test below is the fresh process)."""
    from keras_cnns.cli import main

    out = tmp_path_factory.mktemp("run") / "resnet20"
    assert main(["train", "resnet20", "--dataset", "cifar10", "--epochs", "1", "--fast", "--steps", "2",
                 "--batch-size", "32", "--verbose", "0", "--out", str(out)]) == 0
    return out


# ------------------------------------------------------------------ the shipped files


def test_issue_10_weights_are_shipped():
    missing = [f"{m}_{w}" for m, w in ISSUE_10_WEIGHTS if (m, w) not in SHIPPED]
    assert not missing, (f"not exported yet: {', '.join(missing)} (python scripts/export_weights.py "
                         "runs/weights/<run> --name <weights>)")


@pytest.mark.parametrize("model_name,weights", SHIPPED)
def test_shipped_card_is_complete_and_matches_its_file(model_name, weights):
    card = pretrained.card(model_name, weights)
    assert CARD_FIELDS <= set(card), CARD_FIELDS - set(card)
    path = pretrained.WEIGHTS_DIR / card["file"]
    assert path.stat().st_size == card["size_bytes"]
    assert pretrained.sha256(path) == card["sha256"]
    assert len(card["class_names"]) == card["classes"]
    lo, hi = card["test_ci95"]
    assert lo <= card["test_accuracy"] <= hi and card["n_test"] >= 5000  # the full test split
    assert "MIT" in card["licence"] and card["command"].startswith("python -m keras_cnns train")
    readme = (pretrained.WEIGHTS_DIR / "README.md").read_text()
    assert card["file"] in readme and f"{100 * card['test_accuracy']:.1f}%" in readme


@pytest.mark.parametrize("model_name,weights", SHIPPED)
def test_shipped_weights_reload_and_agree_with_their_card_on_the_test_sample(model_name, weights):
    from keras_cnns import data, training

    card = pretrained.card(model_name, weights)
    model = pretrained.load(model_name, weights)
    assert training.has_normalization(model)  # takes raw pixels
    assert model.class_names == card["class_names"] and model.model_card == card
    assert list(model.input_shape[1:]) == card["input_shape"]
    ds = data.load(card["dataset"], sample=True)  # real test images (300 CIFAR-10 / 500 Fashion-MNIST)
    if ds.class_names != card["class_names"]:
        ds = ds.select_classes(card["class_names"])
    result = pretrained.evaluate(model, ds.x_test, ds.y_test)
    lo, hi = result["ci95"]
    assert lo <= card["test_accuracy"] <= hi, (
        f"card {card['test_accuracy']:.3f}, sample {result['accuracy']:.3f} ({lo:.3f}-{hi:.3f}, n={result['n']})")
    assert result["accuracy"] > 2.0 / card["classes"]  # well above chance


def test_flip_averaging_is_the_mean_of_the_image_and_its_mirror_image():
    import numpy as np

    from keras_cnns import data

    model = pretrained.load("resnet20", "cifar10")
    ds = data.load("cifar10", sample=True)
    x, y = ds.x_test[:64], ds.y_test[:64]
    plain, tta = pretrained.evaluate(model, x, y, batch_size=24), pretrained.evaluate(model, x, y, batch_size=24, flip=True)
    assert not plain["flip"] and tta["flip"] and tta["n"] == 64
    # By hand: average the softmax of each image and of its left-right mirror (axis 2 is the width).
    by_hand = (np.asarray(model.predict(x, verbose=0)) + np.asarray(model.predict(x[:, :, ::-1], verbose=0))) / 2
    assert tta["accuracy"] == pytest.approx(float(np.mean(by_hand.argmax(-1) == y)))
    mirrored = pretrained.evaluate(model, x[:, :, ::-1], y, flip=True)  # the pair is the same either way
    assert mirrored["accuracy"] == pytest.approx(tta["accuracy"])
    with pytest.raises(ValueError, match="batch of images"):
        pretrained.evaluate(model, x[0], y[:32])


# -------------------------------------------------------------------- loading errors


def test_registry_lists_and_loads_a_card(use_registry):
    assert pretrained.available() == [("resnet20", "dev")]
    model = pretrained.load("resnet20", "dev")
    assert model.class_names == [f"c{i}" for i in range(10)]
    assert pretrained.card("resnet20", "dev")["weights"] == "dev"


def test_corrupt_file_is_refused(use_registry):
    path = use_registry / "resnet20_dev.keras"
    blob = bytearray(path.read_bytes())
    for i in range(len(blob) // 2, len(blob) // 2 + 64):
        blob[i] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(pretrained.WeightsError, match=r"resnet20_dev\.keras is corrupt: its SHA-256"):
        pretrained.load("resnet20", "dev")


def test_unknown_weights_name_lists_the_valid_ones(use_registry):
    with pytest.raises(ValueError, match=r"resnet20 has no weights named 'imagenet'; resnet20 has weights: dev"):
        pretrained.load("resnet20", "imagenet")


def test_model_without_weights_lists_what_is_shipped(use_registry):
    with pytest.raises(ValueError, match=r"vgg11 has no shipped weights; shipped weights: resnet20 \(dev\)"):
        pretrained.load("vgg11", "cifar10")


def test_unknown_model_name_lists_the_models():
    with pytest.raises(ValueError, match=r"unknown model 'resnet21'; valid models: .*resnet20"):
        pretrained.load("resnet21", "cifar10")


def test_missing_file_of_a_card(use_registry):
    (use_registry / "resnet20_dev.keras").unlink()
    with pytest.raises(FileNotFoundError, match=r"resnet20_dev\.keras is missing although its model card"):
        pretrained.load("resnet20", "dev")


def test_paths_that_are_not_keras_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.keras: no such file"):
        pretrained.load("resnet20", tmp_path / "nope.keras")
    text = tmp_path / "model.h5"
    text.write_text("not a model")
    with pytest.raises(ValueError, match=r"model\.h5 is not a \.keras file"):
        pretrained.load("resnet20", str(text))
    fake = tmp_path / "fake.keras"
    fake.write_text("not a zip")
    with pytest.raises(ValueError, match=r"fake\.keras is not a valid \.keras file"):
        pretrained.load_model(fake)


def test_a_model_of_another_architecture_is_refused(tmp_registry):
    with pytest.raises(ValueError, match=r"is not a resnet32 .*269,722 trainable parameters"):
        pretrained.load("resnet32", tmp_registry / "resnet20_dev.keras")


def test_requested_shape_and_classes_must_match(use_registry):
    with pytest.raises(ValueError, match="have 10 classes; classes=5 was requested"):
        pretrained.load("resnet20", "dev", classes=5)
    with pytest.raises(ValueError, match=r"take 32x32x3 input; input_shape=\(64, 64, 3\)"):
        pretrained.load("resnet20", "dev", input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="builder options cannot be changed"):
        pretrained.load("resnet20", "dev", classifier_activation=None)
    model = pretrained.load("resnet20", "dev", input_shape=(32, 32, 3), classes=10)
    assert model.output_shape == (None, 10)


def test_models_build_with_weights(use_registry):
    import inspect

    from keras_cnns import models

    if "weights" not in inspect.signature(models.build).parameters:
        pytest.skip("models.build has no weights argument yet")
    model = models.build("resnet20", weights="dev")
    assert model.class_names == [f"c{i}" for i in range(10)]


# ------------------------------------------------------- a training run, fresh process, export


@pytest.mark.slow
def test_best_keras_classifies_raw_pixels_in_a_fresh_process(short_run):
    code = (
        "import json, sys, numpy as np\n"
        "import keras_cnns.blocks, keras\n"
        "from keras_cnns import data\n"
        "m = keras.saving.load_model(sys.argv[1], safe_mode=True)\n"
        "x = data.load('cifar10', sample=True).x_test[:16]\n"
        "assert x.dtype == np.uint8\n"
        "p = np.asarray(m.predict(x, verbose=0))\n"
        "first = [l for l in m.layers if not isinstance(l, keras.layers.InputLayer)][0]\n"
        "print(json.dumps({'first': type(first).__name__, 'shape': list(p.shape),\n"
        "                  'min': float(p.min()), 'sums': p.sum(1).tolist()}))\n"
    )
    proc = run_python(code, short_run / "best.keras", cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["first"] == "Normalization"
    assert out["shape"] == [16, 10] and out["min"] >= 0.0
    assert np.allclose(out["sums"], 1.0, atol=1e-4)


@pytest.mark.slow
def test_a_run_folder_loads_by_path_with_its_class_names(short_run):
    model = pretrained.load("resnet20", short_run / "best.keras")
    assert model.class_names[:2] == ["airplane", "automobile"] and model.model_card is None
    with pytest.raises(ValueError, match="is not a resnet56"):
        pretrained.load("resnet56", short_run / "best.keras")


@pytest.mark.slow
def test_export_script_writes_weights_card_and_readme(short_run, tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import export_weights
    finally:
        sys.path.remove(str(REPO / "scripts"))
    data_dir = tmp_path / "data"  # stands in for the full dataset: the 300 sample test images
    data_dir.mkdir()
    shutil.copy(REPO / "keras_cnns" / "samples" / "cifar10.npz", data_dir / "cifar10.npz")
    out = tmp_path / "weights"
    args = [str(short_run), "--name", "dev", "--data-dir", str(data_dir), "--out-dir", str(out)]
    with pytest.raises(SystemExit, match="fast setting"):
        export_weights.main(args)
    assert export_weights.main(args + ["--allow-fast"]) == 0
    card = json.loads((out / "resnet20_dev.json").read_text())
    assert CARD_FIELDS <= set(card), CARD_FIELDS - set(card)
    assert card["n_test"] == 300 and card["class_names"][3] == "cat"
    assert card["command"].startswith("python -m keras_cnns train resnet20 --dataset cifar10")
    assert card["sha256"] == pretrained.sha256(out / "resnet20_dev.keras")
    readme = (out / "README.md").read_text()
    assert "resnet20_dev.keras" in readme and "MIT" in readme and "--name dev" in readme
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", out)
    model = pretrained.load("resnet20", "dev")
    assert getattr(model, "optimizer", None) is None  # shipped without optimizer state
    import zipfile

    with zipfile.ZipFile(short_run / "best.keras") as run_zip, zipfile.ZipFile(out / card["file"]) as ship_zip:
        assert ship_zip.getinfo("model.weights.h5").file_size < run_zip.getinfo("model.weights.h5").file_size
