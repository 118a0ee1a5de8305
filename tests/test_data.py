"""Tests of keras_cnns.data: loading (samples, IDX, npz, image folders, tarballs, errors) and pipelines.

Only the shipped samples and files written to temporary folders are used: no network, no local copies.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import socket
import struct
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from keras_cnns import data  # noqa: E402
from keras_cnns.data import pipelines as pipelines_mod  # noqa: E402
from keras_cnns.data import readers, sources  # noqa: E402


# ------------------------------------------------------------------------------------------ helpers
@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No data dirs, no Debian root, no fast mode, a private cache dir and Keras home."""
    for var in ("KERAS_CNNS_DATA_DIR", "KERAS_CNNS_FAST", "KERAS_CNNS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KERAS_CNNS_SYSTEM_DATA_DIR", "")
    monkeypatch.setenv("KERAS_CNNS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path


@pytest.fixture(scope="module")
def mnist():
    return data.load("mnist", sample=True)


@pytest.fixture(scope="module")
def cifar():
    return data.load("cifar10", sample=True)


def write_idx(path: Path, array: np.ndarray, magic: int | None = None, cut: int = 0) -> None:
    """Write ``array`` (uint8) as a gzipped IDX file; ``magic``/``cut`` make it corrupt on purpose."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = (0x0800 + array.ndim) if magic is None else magic
    blob = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(blob[: len(blob) - cut])


def write_idx_set(folder: Path, x_train=None, y_train=None, x_test=None, y_test=None) -> None:
    if x_train is not None:
        write_idx(folder / "train-images-idx3-ubyte.gz", x_train[..., 0])
        write_idx(folder / "train-labels-idx1-ubyte.gz", y_train)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", x_test[..., 0])
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", y_test)


def write_image_folders(root: Path, ds, per_class: tuple[int, int], ext: str) -> dict:
    """Write the first ``per_class`` train/test images of each class as ``root/{split}/{class}/NNN.ext``."""
    from PIL import Image

    written = {}
    for split, n in zip(("train", "test"), per_class):
        x, y = getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}")
        keep = np.concatenate([np.flatnonzero(y == c)[:n] for c in range(ds.num_classes)])
        for i in keep:
            folder = root / split / ds.class_names[y[i]]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(x[i].squeeze()).save(folder / f"{i:04d}{ext}", quality=95)
        written[split] = keep
    return written


def assert_proportional(part: np.ndarray, whole: np.ndarray) -> None:
    """Each class holds its proportional share of ``part`` (to within one image)."""
    expected = np.bincount(whole, minlength=10) * len(part) / len(whole)
    assert np.abs(np.bincount(part, minlength=10) - expected).max() <= 1, "not stratified"


def image_hashes(x: np.ndarray) -> set[bytes]:
    return {hashlib.sha1(img.tobytes()).digest() for img in x}


def collect(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset])
    return np.concatenate(xs), np.concatenate(ys)


def denormalise(x: np.ndarray, p) -> np.ndarray:
    """The pipelines yield raw pixel values as float32: exact integers in 0-255."""
    assert x.dtype == np.float32 and np.array_equal(x, np.rint(x)) and 0 <= x.min() and x.max() <= 255
    return x.astype(np.uint8)


def with_arrays(ds, **changes):
    fields = {k: getattr(ds, k) for k in ("name", "x_train", "y_train", "x_test", "y_test", "class_names",
                                         "source", "is_sample", "notes")}
    fields.update(changes)
    return data.Dataset(**fields)


# ------------------------------------------------------------------------------------ basics/samples
def test_list_datasets_and_fast_mode(monkeypatch):
    assert data.list_datasets() == ["mnist", "fashion_mnist", "cifar10", "cifar100"]
    for value, expected in [("1", True), ("TRUE", True), ("yes", True), ("0", False), ("false", False),
                            ("", False)]:
        monkeypatch.setenv("KERAS_CNNS_FAST", value)
        assert data.fast_mode() is expected, value
    monkeypatch.delenv("KERAS_CNNS_FAST")
    assert data.fast_mode() is False


@pytest.mark.parametrize("name, shape, n_train, n_test, first_class", [
    ("mnist", (28, 28, 1), 2000, 500, "0"),
    ("fashion_mnist", (28, 28, 1), 2000, 500, "T-shirt/top"),
    ("cifar10", (32, 32, 3), 1200, 300, "airplane"),
])
def test_shipped_samples(name, shape, n_train, n_test, first_class):
    ds = data.load(name, sample=True)
    assert ds.is_sample and ds.name == name
    assert ds.x_train.dtype == np.uint8 and ds.x_test.dtype == np.uint8
    assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
    assert ds.x_train.shape == (n_train, *shape) and ds.x_test.shape == (n_test, *shape)
    assert ds.input_shape == shape and ds.num_classes == 10 and ds.class_names[0] == first_class
    assert ds.source == f"shipped sample (keras_cnns/samples/{name}.npz)"
    # stratified: the class proportions of both splits agree (and are exactly equal where the source is
    # balanced, as Fashion-MNIST and CIFAR-10 are)
    train_frac = np.bincount(ds.y_train, minlength=10) / n_train
    test_frac = np.bincount(ds.y_test, minlength=10) / n_test
    assert np.abs(train_frac - test_frac).max() < 0.01 and train_frac.min() > 0.05
    if name != "mnist":
        assert np.bincount(ds.y_train, minlength=10).tolist() == [n_train // 10] * 10
    assert "stratified" in ds.notes and name in ds.describe()
    assert len(repr(ds)) < 1000  # no array dump


def test_mnist_sample_says_it_comes_from_the_test_set(mnist):
    assert "carved from the MNIST test set" in mnist.notes


def test_fast_mode_picks_the_sample(monkeypatch):
    monkeypatch.setenv("KERAS_CNNS_FAST", "1")
    ds = data.load("fashion-mnist")
    assert ds.is_sample and ds.name == "fashion_mnist" and "KERAS_CNNS_FAST" in ds.source


def test_sample_true_without_sample_is_clear():
    with pytest.raises(data.DatasetNotFoundError, match="no shipped sample for name='cifar100'"):
        data.load("cifar100", sample=True)


def test_stratified_split_keeps_proportions():
    y = np.repeat(np.arange(4), [100, 200, 300, 400])
    first, rest = data.stratified_split(y, 250, seed=3)
    assert len(first) == 250 and len(rest) == 750 and not set(first) & set(rest)
    assert np.bincount(y[first]).tolist() == [25, 50, 75, 100]
    again, _ = data.stratified_split(y, 250, seed=3)
    other, _ = data.stratified_split(y, 250, seed=4)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


# ------------------------------------------------------------------------------------------- pipelines
def test_validation_comes_from_train_and_never_from_test(mnist):
    assert not image_hashes(mnist.x_train) & image_hashes(mnist.x_test)  # precondition of this test
    p = data.make_pipelines(mnist, 256, validation_split=0.2, seed=1)
    assert (p.n_train, p.n_val, p.n_test) == (1600, 400, 500) and not p.augment
    x_val, y_val = collect(p.val)
    x_tr, _ = collect(p.train)
    val, tr = image_hashes(denormalise(x_val, p)), image_hashes(denormalise(x_tr, p))
    assert len(val) == 400 and len(tr) == 1600
    assert val <= image_hashes(mnist.x_train) and tr <= image_hashes(mnist.x_train)
    assert not val & tr and not val & image_hashes(mnist.x_test)
    assert_proportional(y_val, mnist.y_train)
    x_te, y_te = collect(p.test)
    assert np.array_equal(denormalise(x_te, p), mnist.x_test) and np.array_equal(y_te, mnist.y_test)
    assert p.steps_per_epoch == 7 == int(p.train.cardinality())


def test_train_val_indices_are_the_pipelines_split(mnist):
    # scripts/torch_reference.py trains PyTorch on "the same split" through this function.
    train_idx, val_idx = data.train_val_indices(mnist.y_train, 0.2, seed=1)
    assert len(val_idx) == 400 and len(train_idx) == 1600 and not set(train_idx) & set(val_idx)
    assert not np.array_equal(np.sort(val_idx), val_idx)  # a seeded random order, not sorted by class
    p = data.make_pipelines(mnist, 256, validation_split=0.2, seed=1)
    x_val, y_val = collect(p.val)
    assert np.array_equal(y_val, mnist.y_train[val_idx])
    assert np.array_equal(denormalise(x_val, p), mnist.x_train[val_idx])
    with pytest.raises(ValueError, match="validation_split"):
        data.train_val_indices(mnist.y_train, 1.0)


def test_normalisation_uses_per_channel_training_stats(cifar):
    p = data.make_pipelines(cifar, 128, validation_split=0.25, augment=False, seed=0)
    _, train_idx = data.stratified_split(cifar.y_train, 300, seed=0)
    expected = cifar.x_train[train_idx].reshape(-1, 3) / 255.0
    assert p.mean.shape == p.std.shape == (3,)
    np.testing.assert_allclose(p.mean, expected.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(p.std, expected.std(axis=0), atol=1e-5)
    whole = cifar.x_train.reshape(-1, 3) / 255.0
    assert np.abs(p.mean - whole.mean(axis=0)).max() > 1e-5  # the validation images are left out
    x, _ = collect(p.train)
    assert x.dtype == np.float32  # raw pixels: the model normalises
    np.testing.assert_allclose(x.reshape(-1, 3).astype(np.float64).mean(axis=0), expected.mean(axis=0) * 255.0,
                               rtol=1e-6)
    normed = np.asarray(p.normalization()(x))  # the layer train() puts at the model's input
    np.testing.assert_allclose(normed.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(normed.std(axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_augmentation_crops_and_flips_train_only():
    rng = np.random.default_rng(0)
    n = 24
    ds = data.Dataset("toy", rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), np.arange(n),
                      rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8), np.arange(8),
                      [str(i) for i in range(n)], "test", False)
    p = data.make_pipelines(ds, 8, validation_split=0.0, seed=5)
    assert p.augment  # default on for RGB
    normed = ds.x_train.astype(np.float32)  # raw pixels; padding is black (0), as torchvision's
    padded = np.pad(normed, [(0, 0), (4, 4), (4, 4), (0, 0)])
    changed, epochs = 0, []
    for _ in range(2):
        x, y = collect(p.train)
        epochs.append(x[np.argsort(y)])
        for img, label in zip(x, y):
            candidates = [padded[label, r:r + 32, c:c + 32] for r in range(9) for c in range(9)]
            candidates += [cand[:, ::-1] for cand in candidates]
            errors = [np.abs(img - cand).max() for cand in candidates]
            assert min(errors) < 1e-4, "augmented image is not a pad-4 crop (+ flip) of its original"
            changed += errors[40] > 1e-4  # index 40 = offset (4, 4), no flip: the original
    assert changed > n  # most images were moved or flipped
    assert np.abs(epochs[0] - epochs[1]).max() > 25  # new augmentation each epoch (pixel units)
    x_te, _ = collect(p.test)
    np.testing.assert_allclose(x_te, ds.x_test.astype(np.float32), atol=1e-5)
    off = data.make_pipelines(ds, 8, validation_split=0.0, augment=False)
    x, y = collect(off.train)
    np.testing.assert_allclose(x[np.argsort(y)], normed, atol=1e-5)


def test_resize_on_the_fly(cifar, mnist):
    p = data.make_pipelines(cifar, 32, image_size=40)
    assert p.input_shape == (40, 40, 3)
    for part in (p.train, p.val, p.test):
        x, _ = next(iter(part))
        assert tuple(x.shape[1:]) == (40, 40, 3)
    q = data.make_pipelines(mnist, 32, image_size=(24, 36))
    x, _ = next(iter(q.test))
    assert q.input_shape == (24, 36, 1) and tuple(x.shape[1:]) == (24, 36, 1)
    with pytest.raises(ValueError, match="image_size"):
        data.make_pipelines(mnist, 32, image_size=0)
    with pytest.raises(ValueError, match="validation_split"):
        data.make_pipelines(mnist, 32, validation_split=1.0)


def test_fast_mode_subsamples(monkeypatch, mnist):
    monkeypatch.setattr(pipelines_mod, "FAST_MAX_TRAIN", 500)
    monkeypatch.setattr(pipelines_mod, "FAST_MAX_TEST", 100)
    monkeypatch.setenv("KERAS_CNNS_FAST", "yes")
    p = data.make_pipelines(mnist, 64)
    assert p.fast and (p.n_train + p.n_val, p.n_test) == (500, 100) and "fast mode" in p.notes
    _, y = collect(p.test)
    assert_proportional(y, mnist.y_test)
    assert not data.make_pipelines(mnist, 64, fast=False).fast


# ------------------------------------------------------------------------------------- local files
def test_idx_files_full_and_test_only(tmp_path, mnist):
    write_idx_set(tmp_path / "mnist", mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test)
    ds = data.load("mnist", data_dir=tmp_path)
    assert not ds.is_sample and ds.source == "local IDX files (data_dir/mnist)" and ds.notes == ""
    assert np.array_equal(ds.x_train, mnist.x_train) and np.array_equal(ds.y_test, mnist.y_test)
    assert ds.x_train.shape == (2000, 28, 28, 1) and ds.y_train.dtype == np.int64

    only_test = tmp_path / "only"
    write_idx_set(only_test / "mnist", x_test=mnist.x_train, y_test=mnist.y_train)  # 2,000 "test" images
    ds = data.load("mnist", data_dir=only_test)
    assert (len(ds.x_train), len(ds.x_test)) == (1600, 400)
    assert "carved from the MNIST test set" in ds.notes and "stratified" in ds.notes
    assert_proportional(ds.y_test, mnist.y_train)
    assert not image_hashes(ds.x_train) & image_hashes(ds.x_test)
    assert str(tmp_path) not in ds.source + ds.notes


def test_env_data_dir_and_spelling_variants(tmp_path, monkeypatch):
    fashion = data.load("fashion_mnist", sample=True)
    write_idx_set(tmp_path / "b" / "fashion-mnist", fashion.x_train, fashion.y_train, fashion.x_test,
                  fashion.y_test)
    monkeypatch.setenv("KERAS_CNNS_DATA_DIR", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    ds = data.load("Fashion-MNIST")
    assert ds.name == "fashion_mnist" and ds.class_names == fashion.class_names
    assert ds.source == "local IDX files ($KERAS_CNNS_DATA_DIR/fashion-mnist)"
    monkeypatch.setenv("KERAS_CNNS_SYSTEM_DATA_DIR", str(tmp_path / "b"))  # the Debian root, last
    monkeypatch.delenv("KERAS_CNNS_DATA_DIR")
    assert data.load("fashion_mnist").source == "local IDX files (<Debian datasets>/fashion-mnist)"


def test_npz_file_and_path_name(tmp_path, cifar):
    np.savez(tmp_path / "cifar10.npz", x_train=cifar.x_train, y_train=cifar.y_train[:, None],
             x_test=cifar.x_test, y_test=cifar.y_test)
    ds = data.load("cifar10", data_dir=tmp_path)
    assert ds.source == "local .npz (data_dir/cifar10.npz)" and ds.y_train.shape == (1200,)
    assert np.array_equal(ds.x_test, cifar.x_test) and ds.class_names == cifar.class_names
    by_path = data.load(str(tmp_path / "cifar10.npz"))
    assert by_path.name == "cifar10" and np.array_equal(by_path.y_train, cifar.y_train)


def test_image_folders_png_roundtrip_and_cache(tmp_path, cifar, monkeypatch):
    kept = write_image_folders(tmp_path / "toyset", cifar, (6, 2), ".png")
    (tmp_path / "toyset" / "train" / "cat" / "notes.txt").write_text("not an image")
    ds = data.load(str(tmp_path / "toyset"))
    assert ds.name == "toyset" and ds.class_names == sorted(cifar.class_names)
    assert ds.x_train.shape == (60, 32, 32, 3) and ds.x_test.shape == (20, 32, 32, 3)
    assert ds.source == "PNG class folders (toyset)" and "skipped 1 non-image file" in ds.notes
    expected = cifar.x_train[kept["train"]]  # PNG is lossless and classes were written in label order
    assert np.array_equal(ds.x_train, expected) and np.array_equal(ds.y_train, cifar.y_train[kept["train"]])
    # second load: served from the decoded cache, no image is decoded
    monkeypatch.setattr(readers, "decode_images", lambda *a, **k: pytest.fail("decoded again"))
    again = data.load(str(tmp_path / "toyset"))
    assert np.array_equal(again.x_train, ds.x_train) and again.class_names == ds.class_names
    # a changed folder invalidates the cache
    monkeypatch.undo()
    (tmp_path / "toyset" / "test" / "cat" / "9999.png").write_bytes(
        (tmp_path / "toyset" / "test" / "dog").iterdir().__next__().read_bytes())
    assert len(data.load(str(tmp_path / "toyset")).x_test) == 21


def test_jpeg_tarball_in_data_dir_is_decoded_once(tmp_path, cifar, monkeypatch):
    folder = tmp_path / "src" / "cifar10-jpeg"
    kept = write_image_folders(folder, cifar, (3, 1), ".jpg")
    root = tmp_path / "datasets"
    root.mkdir()
    with tarfile.open(root / "cifar10-jpeg.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar10-jpeg")
    ds = data.load("cifar10", data_dir=root)
    assert ds.source == "JPEG class folders (data_dir/cifar10-jpeg.tar.gz)" and "JPEG" in ds.notes
    assert (len(ds.x_train), len(ds.x_test)) == (30, 10) and ds.class_names == cifar.class_names
    assert np.abs(ds.x_train.astype(int) - cifar.x_train[kept["train"]]).mean() < 3  # JPEG q95: close
    monkeypatch.setattr(readers, "scan_tar_image_folders", lambda *a: pytest.fail("archive read again"))
    again = data.load("cifar10", data_dir=root)
    assert np.array_equal(again.x_train, ds.x_train) and again.source == ds.source


def test_tarball_of_idx_files_is_extracted_into_the_cache(tmp_path, mnist):
    write_idx_set(tmp_path / "src" / "mnist", mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test)
    root = tmp_path / "datasets"
    root.mkdir()
    with tarfile.open(root / "mnist.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "mnist", arcname="mnist")
    ds = data.load("mnist", data_dir=root)
    assert ds.source == "local IDX files (data_dir/mnist.tar.gz)" and np.array_equal(ds.x_test, mnist.x_test)
    assert list((tmp_path / "cache" / "extracted").glob("mnist-*/mnist/t10k-images-idx3-ubyte.gz"))


def test_tarball_escaping_its_folder_is_refused(tmp_path):
    root = tmp_path / "datasets"
    root.mkdir()
    evil = tmp_path / "evil.txt"
    evil.write_text("x")
    with tarfile.open(root / "mnist.tar.gz", "w:gz") as tar:
        tar.add(evil, arcname="../../evil.txt")
    with pytest.raises(ValueError, match=r"mnist\.tar\.gz: cannot extract the archive"):
        data.load("mnist", data_dir=root)


def test_keras_cache_is_used_when_present(tmp_path, monkeypatch):
    """Fashion-MNIST files in Keras' cache are read by keras.datasets itself (no download, no local copy)."""
    from keras.src.backend import config

    fashion = data.load("fashion_mnist", sample=True)
    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras_home"))
    write_idx_set(tmp_path / "keras_home" / "datasets" / "fashion-mnist", fashion.x_train, fashion.y_train,
                  fashion.x_test, fashion.y_test)
    monkeypatch.setattr(sources, "ORIGIN_HOSTS", {})  # any download attempt would fail loudly
    ds = data.load("fashion_mnist")
    assert ds.source == "Keras cache (keras.datasets.fashion_mnist)" and not ds.is_sample
    assert np.array_equal(ds.x_train, fashion.x_train) and ds.y_test.dtype == np.int64


def test_image_folder_by_name_under_data_dir(tmp_path, mnist):
    write_image_folders(tmp_path / "digits", mnist, (2, 1), ".png")
    ds = data.load("digits", data_dir=tmp_path)
    assert ds.input_shape == (28, 28, 1) and ds.num_classes == 10 and ds.source.startswith("PNG class folders")


# ------------------------------------------------------------------------------------------ errors
def test_unreadable_image_is_an_error(tmp_path, mnist):
    write_image_folders(tmp_path / "digits", mnist, (2, 1), ".png")
    (tmp_path / "digits" / "train" / "3" / "broken.jpg").write_bytes(b"definitely not a jpeg")
    with pytest.raises(ValueError, match=r"cannot read image train/3/broken\.jpg"):
        data.load(str(tmp_path / "digits"))


@pytest.mark.parametrize("corruption, message", [
    (dict(magic=0x0801), r"t10k-images-idx3-ubyte\.gz: bad IDX magic number 0x00000801; expected 0x00000803"),
    (dict(cut=100), r"t10k-images-idx3-ubyte\.gz: .*truncated"),
])
def test_corrupt_idx_is_an_error(tmp_path, mnist, corruption, message):
    folder = tmp_path / "mnist"
    write_idx(folder / "t10k-images-idx3-ubyte.gz", mnist.x_test[..., 0], **corruption)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", mnist.y_test)
    with pytest.raises(ValueError, match=message):
        data.load("mnist", data_dir=tmp_path)


def test_idx_label_count_mismatch_and_missing_partner(tmp_path, mnist):
    folder = tmp_path / "mnist"
    write_idx(folder / "t10k-images-idx3-ubyte.gz", mnist.x_test[..., 0])
    with pytest.raises(ValueError, match="not its partner t10k-labels-idx1-ubyte"):
        data.load("mnist", data_dir=tmp_path)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", mnist.y_test[:-3])
    with pytest.raises(ValueError, match="500 images but 497 labels"):
        data.load("mnist", data_dir=tmp_path)


@pytest.mark.parametrize("change, message", [
    (dict(drop="x_test"), r"cifar10\.npz: missing key\(s\) x_test"),
    (dict(y_train=np.zeros(5, np.int64)), "1,200 images but 5 labels"),
    (dict(y_test=np.full(300, 10)), r"test labels span 10\.\.10; expected 0\.\.9"),
    (dict(x_train=np.zeros((1200, 3, 32, 32), np.uint8)), "channels-first"),
    (dict(x_train=np.zeros((1200, 32, 32, 3), np.float32)), "expected uint8"),
    (dict(y_train=np.array([object()] * 1200)), "without pickle"),
])
def test_bad_npz_is_an_error(tmp_path, cifar, change, message):
    arrays = {"x_train": cifar.x_train, "y_train": cifar.y_train, "x_test": cifar.x_test,
              "y_test": cifar.y_test}
    arrays.pop(change.pop("drop", None), None)
    arrays.update(change)
    np.savez(tmp_path / "cifar10.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        data.load("cifar10", data_dir=tmp_path)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="name='imagenet'") as info:
        data.load("imagenet")
    for name in data.DATASETS:
        assert name in str(info.value)


def _closed_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_without_any_copy_fails_fast_and_clearly(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sources, "keras_home", lambda: tmp_path / "keras_home")  # no Keras cache
    monkeypatch.setenv("KERAS_CNNS_DATA_DIR", str(empty))
    # a download is attempted only when the origin answers: point it at a closed port on this machine
    port = _closed_loopback_port()
    monkeypatch.setattr(sources, "ORIGIN_HOSTS", {k: ("127.0.0.1", port) for k in sources.ORIGIN_HOSTS})
    start = time.monotonic()
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load("cifar10")
    assert time.monotonic() - start < 10
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    for needed in ("No copy of 'cifar10'", "$KERAS_CNNS_DATA_DIR", "Keras cache", "127.0.0.1 unreachable",
                   "KERAS_CNNS_DATA_DIR", "data_dir=", "sample=True", "--fast", "KERAS_CNNS_FAST=1"):
        assert needed in message, needed
    monkeypatch.setenv("KERAS_CNNS_OFFLINE", "1")
    with pytest.raises(data.DatasetNotFoundError, match="skipped"):
        data.load("mnist")


def test_sources_never_unpickle():
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "keras_cnns").rglob("*.py")
                 if "allow_pickle=True" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_class_sorted_source_gives_mixed_training_batches(samples):
    """CIFAR-10 read from class folders is sorted by class; batches must still mix the classes."""
    from keras_cnns.data import make_pipelines

    ds = samples["cifar10"]
    order = np.argsort(ds.y_train, kind="stable")
    assert (np.diff(ds.y_train[order]) >= 0).all()
    sorted_ds = dataclasses.replace(ds, x_train=ds.x_train[order], y_train=ds.y_train[order])
    pipes = make_pipelines(sorted_ds, 64, shuffle_buffer=64, augment=False, fast=False)
    _, labels = next(iter(pipes.train))
    assert len(np.unique(labels.numpy())) >= 8     # 10 classes, 64 images: a sorted stream gives 1
    _, val_labels = next(iter(pipes.val))
    assert len(np.unique(val_labels.numpy())) >= 8


# ------------------------------------------------------------------------------- subset, classes
def test_subset_is_stratified_and_noted(mnist):
    sub = mnist.subset(200, 100, seed=0)
    assert (len(sub.y_train), len(sub.y_test)) == (200, 100)
    assert_proportional(sub.y_train, mnist.y_train)
    assert_proportional(sub.y_test, mnist.y_test)
    assert image_hashes(sub.x_train) <= image_hashes(mnist.x_train)
    assert "subset: 200 of 2,000 training and 100 of 500 test images" in sub.describe()
    assert len(mnist.y_train) == 2000  # the original is untouched
    again, other = mnist.subset(200, seed=0), mnist.subset(200, seed=1)
    assert np.array_equal(again.x_train, sub.x_train) and not np.array_equal(other.x_train, sub.x_train)
    assert len(again.y_test) == 500  # None keeps the split whole
    with pytest.raises(ValueError, match="train must be a positive int"):
        mnist.subset(0)


def test_select_classes_relabels(cifar):
    sub = cifar.select_classes(["cat", "dog", 0])
    assert sub.class_names == ["cat", "dog", "airplane"] and sub.num_classes == 3
    for new, old in enumerate((3, 5, 0)):
        assert (sub.y_train == new).sum() == (cifar.y_train == old).sum()
        assert image_hashes(sub.x_train[sub.y_train == new]) == image_hashes(cifar.x_train[cifar.y_train == old])
    assert "classes: cat, dog, airplane only" in sub.describe()
    with pytest.raises(ValueError, match="'lion' is not a class of cifar10; valid: airplane"):
        cifar.select_classes(["lion"])
    with pytest.raises(ValueError, match="must not repeat"):
        cifar.select_classes(["cat", 3])


def test_load_decides_fast_sample_and_full_in_one_place(monkeypatch):
    monkeypatch.delenv("KERAS_CNNS_FAST", raising=False)
    assert data.load("mnist", fast=True).is_sample  # a shipped sample exists
    monkeypatch.setenv("KERAS_CNNS_FAST", "1")
    assert data.load("mnist", fast=True).is_sample and data.fast_mode() and not data.fast_mode(False)
    # no sample of CIFAR-100: the fast setting falls back to the full data; missing -> one clear error
    monkeypatch.setenv("KERAS_CNNS_DATA_DIR", os.devnull)
    monkeypatch.setenv("KERAS_CNNS_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", os.devnull)
    monkeypatch.setenv("KERAS_CNNS_SYSTEM_DATA_DIR", "")
    with pytest.raises(data.DatasetNotFoundError, match="no shipped sample of cifar100"):
        data.load("cifar100", fast=True)


def test_pipelines_are_not_autotuned(mnist):
    # tf.data's autotuning made passes end on doublings of 10 ms on 2 CPU cores (an evaluation of
    # 8.4 s took 20.48 s, two epochs 82.0 s against 52.4): results/autotune/. Every pipeline, and what
    # training derives from it (repeat, take), keeps it off, with fixed parallelism and prefetch.
    pipes = data.make_pipelines(mnist, 64, augment=True)
    for ds in (pipes.train, pipes.val, pipes.test, pipes.train.repeat().take(3)):
        assert ds.options().autotune.enabled is False
    assert pipes.train.element_spec[0].shape.as_list() == [None, 28, 28, 1]
