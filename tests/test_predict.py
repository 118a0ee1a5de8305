"""keras_cnns.predict and ``python -m keras_cnns predict``: image conversions, results, errors, JSON.

Classification of real test images uses the shipped weights (skipped while they are not exported:
tests/test_pretrained.py::test_issue_10_weights_are_shipped fails then); everything else uses an
untrained ResNet-20 that takes raw pixels, saved in a tmp folder.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_cnns import predict, pretrained
from keras_cnns.cli import main
from test_pretrained import raw_pixel_model, tmp_registry, use_registry  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent
CHELSEA = REPO / "keras_cnns" / "samples" / "images" / "chelsea.png"
CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def shipped(model_name, weights):
    if (model_name, weights) not in pretrained.available():
        pytest.skip(f"{model_name}_{weights}.keras not exported yet")
    return pretrained.load(model_name, weights)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run-like folder: an untrained raw-pixel resnet20 as best.keras and a summary.json naming the classes."""
    folder = tmp_path_factory.mktemp("run")
    raw_pixel_model().save(folder / "best.keras")
    (folder / "summary.json").write_text(json.dumps({"class_names": CIFAR10}))
    return folder


@pytest.fixture(scope="module")
def images(tmp_path_factory, samples):
    """A few image files: good ones (PNG, JPEG, BMP, greyscale, RGBA, palette) and bad ones."""
    folder = tmp_path_factory.mktemp("images")
    x = samples["cifar10"].x_test[0]
    files = {}
    for name, image in {"rgb.png": Image.fromarray(x), "big.jpg": Image.fromarray(x).resize((90, 60)),
                        "grey.bmp": Image.fromarray(x).convert("L"), "rgba.png": Image.fromarray(x).convert("RGBA"),
                        "palette.gif": Image.fromarray(x).convert("P")}.items():
        image.save(folder / name)
        files[name] = str(folder / name)
    (folder / "text.png").write_text("this is not an image\n")
    files["text.png"] = str(folder / "text.png")
    files["missing.png"] = str(folder / "missing.png")
    return files


# --------------------------------------------------------------------------- load_image


def test_load_image_resizes_and_says_so():
    array, notes = predict.load_image(CHELSEA, (32, 32, 3))
    assert array.shape == (32, 32, 3) and array.dtype == np.uint8
    assert notes == ["resized 451x300 -> 32x32 (centre crop 300x300 first)"]
    array, notes = predict.load_image(CHELSEA, (32, 32, 3), fit="stretch")
    assert notes == ["resized 451x300 -> 32x32 (stretched: aspect ratio changed)"]


def test_load_image_converts_channels_and_says_so(images):
    array, notes = predict.load_image(images["rgb.png"], (32, 32, 3))
    assert array.shape == (32, 32, 3) and notes == []
    array, notes = predict.load_image(images["rgb.png"], (28, 28, 1))
    assert array.shape == (28, 28, 1)
    assert notes == ["converted RGB -> greyscale (luma)", "resized 32x32 -> 28x28"]
    array, notes = predict.load_image(images["grey.bmp"], (32, 32, 3))
    assert array.shape == (32, 32, 3) and np.array_equal(array[..., 0], array[..., 2])
    assert notes == ["converted greyscale -> RGB (the grey channel repeated)"]
    _, notes = predict.load_image(images["rgba.png"], (32, 32, 3))
    assert notes == ["composited RGBA on a white background -> RGB"]
    _, notes = predict.load_image(images["palette.gif"], (32, 32, 3))
    assert notes == ["converted palette (P) -> RGB"]


def test_exif_rotation_and_16_bit_images(tmp_path):
    tall = np.zeros((40, 20, 3), np.uint8)
    tall[:10] = 255  # white top rows
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated 90 degrees clockwise
    Image.fromarray(tall).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    array, notes = predict.load_image(tmp_path / "phone.jpg", (20, 40, 3), fit="stretch")
    assert notes == ["rotated/flipped as its EXIF orientation (6) says"]
    assert array[:, -5:].mean() > 200 and array[:, :5].mean() < 50  # the white rows are now on the right
    deep = (np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) * 64)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    array, notes = predict.load_image(tmp_path / "deep.png", (32, 32, 1))
    assert notes[0].startswith("scaled I;16") and array.max() > 200


def test_bad_paths_raise_errors_naming_the_file(images, tmp_path):
    with pytest.raises(predict.ImageError, match=r"text\.png: not an image Pillow can read"):
        predict.load_image(images["text.png"], (32, 32, 3))
    with pytest.raises(predict.ImageError, match=r"missing\.png: no such file"):
        predict.load_image(images["missing.png"], (32, 32, 3))
    with pytest.raises(predict.ImageError, match="is a folder"):
        predict.load_image(tmp_path, (32, 32, 3))
    with pytest.raises(predict.ImageError, match="expected raw uint8 pixels"):
        predict.prepare_image(np.zeros((32, 32, 3), np.float32) + 0.5, (32, 32, 3))


# ----------------------------------------------------------------------------- predict()


def test_predict_returns_ranked_distributions_and_keeps_going_after_errors(run_dir, images):
    model = pretrained.load_model(run_dir / "best.keras")
    assert model.class_names == CIFAR10  # from summary.json beside it
    paths = [images["rgb.png"], images["text.png"], images["big.jpg"], images["missing.png"]]
    results = predict.predict(model, paths, top=4)
    assert [r["path"] for r in results] == paths
    assert "error" in results[1] and "error" in results[3] and "top" not in results[1]
    for result in (results[0], results[2]):
        probabilities = [t["probability"] for t in result["top"]]
        assert len(probabilities) == 4 and probabilities == sorted(probabilities, reverse=True)
        assert all(t["class"] in CIFAR10 for t in result["top"]) and 0 < sum(probabilities) <= 1 + 1e-6
    assert results[2]["notes"] == ["resized 90x60 -> 32x32 (centre crop 60x60 first)"]
    arrays = predict.predict(model, [np.asarray(Image.open(images["rgb.png"]))], top=20)
    assert arrays[0]["path"] == "#0" and len(arrays[0]["top"]) == 10
    assert abs(sum(t["probability"] for t in arrays[0]["top"]) - 1) < 1e-4
    assert arrays[0]["top"] == results[0]["top"][:1] + arrays[0]["top"][1:]


def test_predict_needs_class_names(run_dir):
    import keras_cnns.blocks  # noqa: F401
    import keras

    model = keras.saving.load_model(run_dir / "best.keras", safe_mode=True)  # no class names attached
    with pytest.raises(ValueError, match="the model names no classes"):
        predict.predict(model, [CHELSEA])
    with pytest.raises(ValueError, match="3 class names given for a model with 10 outputs"):
        predict.predict(model, [CHELSEA], class_names=["a", "b", "c"])
    result = predict.predict(model, [CHELSEA], class_names=list("abcdefghij"), top=1)
    assert result[0]["top"][0]["class"] in "abcdefghij"


def _most_confident_correct(model, x, y):
    probabilities = np.asarray(model(x, training=False))
    correct = np.flatnonzero(probabilities.argmax(1) == y)
    assert len(correct) > len(y) // 2, "the shipped weights misclassify most of the sample"
    return int(correct[np.argmax(probabilities[correct].max(1))])


def test_cifar10_test_images_as_png_are_classified(samples, tmp_path):
    model = shipped("resnet20", "cifar10")
    ds = samples["cifar10"]
    i = _most_confident_correct(model, ds.x_test, ds.y_test)
    Image.fromarray(ds.x_test[i]).save(tmp_path / "small.png")
    Image.fromarray(ds.x_test[i]).resize((128, 128), Image.Resampling.BICUBIC).save(tmp_path / "large.png")
    results = predict.predict(model, [tmp_path / "small.png", tmp_path / "large.png"], top=3)
    truth = ds.class_names[ds.y_test[i]]
    assert [r["top"][0]["class"] for r in results] == [truth, truth]
    assert results[0]["notes"] == [] and results[1]["notes"] == ["resized 128x128 -> 32x32"]


def test_fashion_mnist_greyscale_image_as_rgb_jpeg_is_classified(samples, tmp_path):
    model = shipped("resnet20", "fashion_mnist")
    ds = samples["fashion_mnist"]
    i = _most_confident_correct(model, ds.x_test, ds.y_test)
    Image.fromarray(ds.x_test[i][..., 0]).convert("RGB").save(tmp_path / "item.jpg", quality=95)
    (result,) = predict.predict(model, [tmp_path / "item.jpg"])
    assert result["top"][0]["class"] == ds.class_names[ds.y_test[i]]
    assert result["notes"] == ["converted RGB -> greyscale (luma)"]


def test_the_shipped_photo_runs_through_the_cifar10_weights():
    model = shipped("resnet20", "cifar10")
    (result,) = predict.predict(model, [CHELSEA], top=10)
    assert abs(sum(t["probability"] for t in result["top"]) - 1) < 1e-4


def test_the_shipped_photo_has_its_source_and_licence():
    readme = (CHELSEA.parent / "README.md").read_text()
    assert "chelsea.png" in readme and "CC0" in readme and "scikit-image" in readme
    assert "not from CIFAR-10" in readme
    with Image.open(CHELSEA) as image:
        assert image.size == (451, 300) and image.mode == "RGB"


# ---------------------------------------------------------------------------------- CLI


def test_cli_prints_good_images_and_names_the_bad_ones(run_dir, images, capsys):
    code = main(["predict", str(run_dir / "best.keras"), images["rgb.png"], images["text.png"],
                 images["grey.bmp"], images["missing.png"]])
    out, err = capsys.readouterr()
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(images["rgb.png"] + ": ")
    assert lines[1].startswith(images["grey.bmp"] + ": ") and "% (" in lines[1]
    assert f"error: {images['text.png']}: not an image" in err
    assert f"error: {images['missing.png']}: no such file" in err
    assert f"note: converted greyscale -> RGB (the grey channel repeated): {images['grey.bmp']}" in err


def test_cli_json_schema(run_dir, images, capsys):
    code = main(["predict", str(run_dir / "best.keras"), images["big.jpg"], images["text.png"], "--json",
                 "--top", "2"])
    out, _ = capsys.readouterr()
    assert code == 1
    results = json.loads(out)
    assert [set(r) for r in results] == [{"path", "top", "notes"}, {"path", "error"}]
    assert [set(t) for t in results[0]["top"]] == [{"class", "probability"}] * 2
    assert results[0]["notes"] == ["resized 90x60 -> 32x32 (centre crop 60x60 first)"]
    assert results[1]["path"] == images["text.png"] and images["text.png"] in results[1]["error"]
    assert main(["predict", str(run_dir), images["rgb.png"], "--json"]) == 0  # a run folder works too
    assert len(json.loads(capsys.readouterr().out)[0]["top"]) == 3


def test_cli_model_without_class_names(run_dir, images, tmp_path, capsys):
    bare = tmp_path / "elsewhere.keras"
    bare.write_bytes((run_dir / "best.keras").read_bytes())  # no summary.json beside it
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(bare), images["rgb.png"]])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"{bare}: the model names no classes" in err and "--class-names" in err
    assert main(["predict", str(bare), images["rgb.png"], "--class-names", "index", "--top", "1"]) == 0
    assert capsys.readouterr().out.split(": ")[1].split()[0] in [str(i) for i in range(10)]


def test_cli_model_names_and_missing_files(images, tmp_path, capsys, use_registry):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "resnet20", images["rgb.png"]])
    assert exit_info.value.code == 2 and "add --weights NAME" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "resnet20", images["rgb.png"], "--weights", "imagenet"])
    assert exit_info.value.code == 2 and "resnet20 has weights: dev" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "vgg11", images["rgb.png"], "--weights", "cifar10"])
    assert exit_info.value.code == 2 and "vgg11 has no shipped weights" in capsys.readouterr().err
    assert main(["predict", "resnet20", "--weights", "dev", images["rgb.png"], "--top", "2"]) == 0
    assert capsys.readouterr().out.startswith(images["rgb.png"] + ": c")  # the card's class names
    (use_registry / "resnet20_dev.keras").write_bytes(b"corrupt")
    assert main(["predict", "resnet20", "--weights", "dev", images["rgb.png"]]) == 1
    assert "resnet20_dev.keras is corrupt" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "resnet21", images["rgb.png"], "--weights", "cifar10"])
    assert exit_info.value.code == 2 and "unknown model 'resnet21'" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "gone.keras"), images["rgb.png"]]) == 1
    assert "gone.keras: no such file" in capsys.readouterr().err


def test_cli_with_shipped_weights(images, capsys):
    shipped("resnet20", "cifar10")
    assert main(["predict", "resnet20", "--weights", "cifar10", images["rgb.png"], "--top", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(images["rgb.png"] + ": ") and out.split(": ")[1].split()[0] in CIFAR10
