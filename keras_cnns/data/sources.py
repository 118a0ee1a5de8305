"""Finding a dataset: :func:`load` and the sources it tries, in order.

1. the shipped sample (``sample=True``, or ``sample=None`` with ``KERAS_CNNS_FAST`` set);
2. local roots: ``data_dir`` (else ``$KERAS_CNNS_DATA_DIR``, ``os.pathsep``-separated), then Debian's
   ``/usr/share/datasets``. In a root: a folder ``<name>/`` or ``<name>-jpeg/`` (any spelling in
   :data:`~keras_cnns.data.core.NAME_VARIANTS`) holding an ``.npz``, IDX files or ``train/``+``test/``
   image folders; a file ``<name>.npz``; or a tarball ``<name>[-jpeg].tar.gz|.tgz|.tar``;
3. Keras' own cache (``$KERAS_HOME`` or ``~/.keras``), read through ``keras.datasets``;
4. a Keras download, only after a quick reachability probe (offline it fails within seconds);
5. otherwise :class:`DatasetNotFoundError`, listing what was tried and how to fix it.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

import numpy as np

from . import readers
from .core import (CLASS_NAMES, DATASETS, DISPLAY_NAMES, NAME_VARIANTS, SAMPLES_DIR, Dataset,
                   DatasetNotFoundError, canonical_name, fast_mode, offline_mode, stratified_split,
                   system_data_dir)

#: Seed and test fraction used when only one split exists on disk (e.g. only the MNIST test set).
SPLIT_SEED = 0
CARVE_TEST_FRACTION = 0.2

#: Files that ``keras.datasets.<name>.load_data()`` (Keras 3) reads from ``$KERAS_HOME/datasets``
#: without downloading. For CIFAR, ``get_file`` only skips the download when its archive is kept.
KERAS_CACHE_FILES = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": tuple(f"fashion-mnist/{stem}.gz" for pair in readers.IDX_NAMES.values() for stem in pair),
    "cifar10": ("cifar-10-batches-py-target_archive",),
    "cifar100": ("cifar-100-python-target_archive",),
}
#: Where Keras downloads each dataset from; probed before a download is attempted.
ORIGIN_HOSTS = {
    "mnist": ("storage.googleapis.com", 443),
    "fashion_mnist": ("storage.googleapis.com", 443),
    "cifar10": ("www.cs.toronto.edu", 443),
    "cifar100": ("www.cs.toronto.edu", 443),
}
PROBE_TIMEOUT = 3.0      # seconds to reach the origin host before giving up on a download
DOWNLOAD_TIMEOUT = 30.0  # socket timeout while Keras downloads


# ------------------------------------------------------------------------------------------ helpers
def sample_names() -> list[str]:
    """Datasets that have a shipped sample in ``keras_cnns/samples``."""
    return [n for n in DATASETS if (SAMPLES_DIR / f"{n}.npz").is_file()]


def local_roots(data_dir: str | os.PathLike | None = None) -> list[tuple[Path, str]]:
    """``(folder, label)`` pairs to search: ``data_dir`` (else ``$KERAS_CNNS_DATA_DIR``), then Debian's."""
    if data_dir is not None:
        parts, label = str(os.fspath(data_dir)).split(os.pathsep), "data_dir"
    else:
        parts, label = os.environ.get("KERAS_CNNS_DATA_DIR", "").split(os.pathsep), "$KERAS_CNNS_DATA_DIR"
    roots = [(Path(p).expanduser(), label) for p in parts if p]
    system = system_data_dir()
    if system:
        roots.append((Path(system), "<Debian datasets>"))
    return roots


def keras_home() -> Path:
    """Keras' cache root as Keras resolves it: ``$KERAS_HOME`` or ``~/.keras`` (once Keras is imported,
    the value it fixed at import time)."""
    config = sys.modules.get("keras.src.backend.config")
    if config is not None and hasattr(config, "keras_home"):
        return Path(os.path.expanduser(config.keras_home()))
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def _reachable(host: str, port: int, timeout: float) -> tuple[bool, str]:
    """Can a TCP connection to ``host:port`` be opened within ``timeout`` (DNS included)?"""
    result: dict = {}

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result["ok"] = True
        except OSError as exc:
            result["error"] = exc

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if thread.is_alive():
        return False, f"no answer within {timeout:g} s"
    return "ok" in result, str(result.get("error", ""))


def _carve_split(arrays: dict, missing: str, display: str) -> tuple[dict, str]:
    """Make a stratified train/test split out of the one split present; return it with a note."""
    present = "test" if missing == "train" else "train"
    x, y = arrays[f"x_{present}"], arrays[f"y_{present}"]
    n_test = int(round(len(y) * CARVE_TEST_FRACTION))
    test_idx, train_idx = stratified_split(y, n_test, seed=SPLIT_SEED)
    out = {"x_train": x[train_idx], "y_train": y[train_idx], "x_test": x[test_idx], "y_test": y[test_idx]}
    note = (f"train/test split carved from the {display} {present} set (only the {present} set was "
            f"available): {len(train_idx):,} train / {len(test_idx):,} test, stratified, seed {SPLIT_SEED}")
    return out, note


def _class_names_for(canon: str | None, arrays: dict, found: list[str] | None) -> tuple[list[str], dict]:
    """Pick class names (and reorder labels to the canonical order when folder names match it)."""
    if found is None and "class_names" in arrays:
        found = [str(c) for c in np.atleast_1d(arrays["class_names"])]
    if canon is not None:
        expected = CLASS_NAMES[canon]
        if found is None or list(found) == expected:
            return list(expected), arrays
        if sorted(found) == sorted(expected):  # same classes, other order: relabel to canonical order
            remap = np.array([expected.index(c) for c in found], dtype=np.int64)
            arrays = dict(arrays, y_train=remap[arrays["y_train"]], y_test=remap[arrays["y_test"]])
            return list(expected), arrays
        return list(found), arrays
    if found is None:
        top = max(int(np.max(arrays["y_train"])), int(np.max(arrays["y_test"])))
        found = [str(i) for i in range(top + 1)]
    return list(found), arrays


def _dataset(name, canon, arrays, origin, source, *, notes=(), class_names=None, is_sample=False):
    """Validate the arrays and wrap them in a :class:`Dataset`."""
    class_names, arrays = _class_names_for(canon, arrays, class_names)
    checked = readers.validate_arrays(arrays, origin, num_classes=len(class_names))
    return Dataset(name=name, class_names=class_names, source=source, is_sample=is_sample,
                   notes="; ".join(n for n in notes if n), **checked)


def _jpeg_note(canon: str | None, kind: str) -> str:
    if canon in ("cifar10", "cifar100") and kind == "JPEG":
        return (f"{DISPLAY_NAMES[canon]} decoded from a lossy JPEG re-encoding (e.g. quality 75): pixel "
                "values differ slightly from the original release; accuracy may sit slightly below the original")
    return ""


def _skipped_note(arrays: dict) -> str:
    skipped = int(arrays.get("skipped", 0))
    return f"skipped {skipped} non-image file(s) in the class folders" if skipped else ""


# ---------------------------------------------------------------------------------------- readers
def load_sample(canon: str, reason: str = "") -> Dataset:
    """The small sample shipped in ``keras_cnns/samples/<name>.npz``."""
    path = SAMPLES_DIR / f"{canon}.npz"
    if not path.is_file():
        raise DatasetNotFoundError(f"no shipped sample for name={canon!r}; samples exist for "
                                   f"{', '.join(sample_names()) or 'none'}")
    arrays = readers.read_npz(path)
    note = str(arrays["notes"]) if "notes" in arrays else ""
    source = f"shipped sample (keras_cnns/samples/{path.name}{'; ' + reason if reason else ''})"
    return _dataset(canon, canon, arrays, path.name, source, notes=[note], is_sample=True)


def _pick_npz(folder: Path, variants: tuple[str, ...]) -> Path | None:
    preferred = [folder / f"{v}.npz" for v in variants] + [folder / "data.npz"]
    for path in preferred:
        if path.is_file():
            return path
    found = sorted(folder.glob("*.npz"))
    if len(found) > 1:
        raise ValueError(f"{folder.name}/: several .npz files {[p.name for p in found]}; name the one to "
                         f"use {variants[0]}.npz")
    return found[0] if found else None


def _load_dir(folder: Path, name: str, canon: str | None, where: str):
    """A :class:`Dataset` from ``folder`` (an .npz, IDX files or image folders), or None if none is there."""
    variants = NAME_VARIANTS.get(canon, (name,))
    display = DISPLAY_NAMES.get(canon, name)
    npz = _pick_npz(folder, variants)
    if npz is not None:
        arrays = readers.read_npz(npz)
        note = str(arrays["notes"]) if "notes" in arrays else ""
        return _dataset(name, canon, arrays, npz.name, f"local .npz ({where}/{npz.name})", notes=[note])
    train, test = readers.read_idx_split(folder, "train"), readers.read_idx_split(folder, "test")
    if train or test:
        files = (train or test)[2] + (test[2] if train and test else [])
        arrays = {}
        for split, part in (("train", train), ("test", test)):
            if part:
                arrays[f"x_{split}"], arrays[f"y_{split}"] = part[0], part[1]
        note = ""
        if not (train and test):
            arrays, note = _carve_split(arrays, "train" if test else "test", display)
        return _dataset(name, canon, arrays, " + ".join(files), f"local IDX files ({where})", notes=[note])
    if readers.has_folder_layout(folder):
        arrays, class_names, kind = readers.read_image_folders(folder, name)
        return _dataset(name, canon, arrays, f"{folder.name}/", f"{kind} class folders ({where})",
                        notes=[_jpeg_note(canon, kind), _skipped_note(arrays)], class_names=class_names)
    return None


def _load_archive(path: Path, name: str, canon: str | None, where: str):
    """A :class:`Dataset` from a tarball. Image folders are decoded straight from the archive once and
    cached (keyed by the archive's path, size and mtime); other contents are extracted into the cache dir."""
    key = readers.fingerprint(path)
    hit = readers.read_cached_folders(name, key)
    if hit is None:
        scanned = readers.scan_tar_image_folders(path)
        if scanned is not None:
            hit = readers.decode_image_files(*scanned, path.name, name, key)
    if hit is not None:
        arrays, class_names, kind = hit
        return _dataset(name, canon, arrays, path.name, f"{kind} class folders ({where})",
                        notes=[_jpeg_note(canon, kind), _skipped_note(arrays)], class_names=class_names)
    extracted = readers.extract_archive(path, key)
    for folder in [extracted] + sorted(p for p in extracted.iterdir() if p.is_dir()):
        ds = _load_dir(folder, name, canon, where)
        if ds is not None:
            return ds
    raise ValueError(f"{path.name}: the archive holds no .npz, IDX files or train/+test/ image folders")


def _load_candidate(path: Path, name: str, canon: str | None, where: str):
    if path.is_dir():
        return _load_dir(path, name, canon, where)
    if path.name.lower().endswith(readers.ARCHIVE_EXTENSIONS):
        return _load_archive(path, name, canon, where)
    arrays = readers.read_npz(path)
    note = str(arrays["notes"]) if "notes" in arrays else ""
    return _dataset(name, canon, arrays, path.name, f"local .npz ({where})", notes=[note])


def _candidates(root: Path, variants: tuple[str, ...]) -> list[Path]:
    """Paths in ``root`` that may hold the dataset, best first."""
    out = [root] if root.name.lower() in variants else []
    for v in variants:
        out += [root / v, root / f"{v}-jpeg", root / f"{v}.npz"]
        out += [root / f"{stem}{ext}" for stem in (v, f"{v}-jpeg") for ext in readers.ARCHIVE_EXTENSIONS]
    return out


def _from_local(name: str, canon: str | None, data_dir, tried: list[str]):
    variants = NAME_VARIANTS.get(canon, (name,))
    for root, label in local_roots(data_dir):
        if not root.is_dir():
            tried.append(f"{label} {root}: not a folder")
            continue
        looked = []
        for path in _candidates(root, variants):
            if not path.exists() or path in looked:
                continue
            looked.append(path)
            where = label if path == root else f"{label}/{path.name}"
            ds = _load_candidate(path, name, canon, where)
            if ds is not None:
                return ds
            tried.append(f"{path}: exists but holds no .npz, IDX files or train/+test/ image folders")
        if not looked:
            tried.append(f"{label} {root}: nothing named {' / '.join(variants)} "
                         "(folder, -jpeg folder, .npz, .tar.gz/.tgz/.tar)")
    return None


def _keras_load_data(canon: str) -> dict:
    """Call ``keras.datasets.<canon>.load_data()`` with a socket timeout, so it cannot hang."""
    import keras

    module = getattr(keras.datasets, canon)
    kwargs = {"label_mode": "fine"} if canon == "cifar100" else {}
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data(**kwargs)
    finally:
        socket.setdefaulttimeout(previous)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _from_keras(canon: str, tried: list[str]):
    """Keras' cache if its files exist; else a download when the origin answers a quick probe."""
    cache = keras_home() / "datasets"
    missing = [f for f in KERAS_CACHE_FILES[canon] if not (cache / f).is_file()]
    api = f"keras.datasets.{canon}"
    if not missing:
        try:
            return _dataset(canon, canon, _keras_load_data(canon), api, f"Keras cache ({api})")
        except Exception as exc:  # noqa: BLE001 - a broken cache is reported, then the next source is tried
            tried.append(f"Keras cache {cache}: present but unreadable ({exc})")
            return None
    tried.append(f"Keras cache: {cache / missing[0]} not found")
    if offline_mode():
        tried.append(f"download via {api}: skipped ($KERAS_CNNS_OFFLINE is set)")
        return None
    host, port = ORIGIN_HOSTS[canon]
    ok, why = _reachable(host, port, PROBE_TIMEOUT)
    if not ok:
        tried.append(f"download via {api}: {host} unreachable ({why})")
        return None
    try:
        return _dataset(canon, canon, _keras_load_data(canon), api, f"Keras download ({api})")
    except Exception as exc:  # noqa: BLE001
        tried.append(f"download via {api}: failed ({exc})")
        return None


def _load_path(path: Path) -> Dataset:
    """A dataset given as a path: an image/IDX/npz folder, an .npz file or a tarball."""
    stem = readers.archive_stem(path) if path.is_file() else path.name
    base = stem[:-5] if stem.lower().endswith("-jpeg") else stem
    canon = canonical_name(base)
    name = canon or stem
    ds = _load_candidate(path, name, canon, path.name)
    if ds is None:
        raise ValueError(f"name={str(path)!r}: the folder holds no .npz, IDX files or train/<class>/ + "
                         "test/<class>/ image folders")
    return ds


# ------------------------------------------------------------------------------------------- load
def load(name: str, data_dir: str | os.PathLike | None = None, *, sample: bool | None = None,
         fast: bool | None = None) -> Dataset:
    """Load a dataset into memory as a :class:`Dataset` (uint8 NHWC images, int64 labels).

    Args:
        name: one of :data:`DATASETS` (``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"cifar100"``;
            spellings such as ``"fashion-mnist"`` work), a path to a folder with ``train/<class>/`` and
            ``test/<class>/`` images (or an ``.npz`` / tarball), or the name of such a folder in a data dir.
        data_dir: folder(s) to search first (``os.pathsep``-separated); default ``$KERAS_CNNS_DATA_DIR``.
        sample: True for the small shipped sample; False never uses it; None uses it in the fast setting
            when the dataset has one (otherwise the full data, which the pipelines subsample).
        fast: the fast setting; None reads ``KERAS_CNNS_FAST`` (:func:`~keras_cnns.data.core.fast_mode`).
            This is the one place where fast / sample / full is decided: the CLI, ``training.train`` and
            ``compare`` all call ``load(name, fast=...)``.

    Raises:
        ValueError: unknown ``name``, or a corrupt / mis-shaped file (the message names it).
        DatasetNotFoundError: no copy found; the message lists what was tried and how to fix it.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise TypeError(f"name must be a dataset name or a path; got {type(name).__name__}")
    text = os.fspath(name)
    canon = canonical_name(text)
    if canon is None and (isinstance(name, os.PathLike) or os.sep in text or os.path.exists(text)):
        return _load_path(Path(text).expanduser())
    if canon is not None and (sample is True or (sample is None and fast_mode(fast) and canon in sample_names())):
        return load_sample(canon, "" if sample else "KERAS_CNNS_FAST is set" if fast is None else "fast setting")
    if sample is True:
        raise ValueError(f"sample=True needs name to be one of {', '.join(sample_names())}; got {text!r}")
    tried: list[str] = []
    ds = _from_local(canon or text, canon, data_dir, tried)
    if ds is None and canon is None:
        raise ValueError(f"unknown dataset name={text!r}; valid names: {', '.join(DATASETS)}, or a path to a "
                         "folder with train/<class>/ and test/<class>/ images (nothing named so was found in: "
                         f"{'; '.join(tried) or 'no data dirs'})")
    ds = ds or _from_keras(canon, tried)
    if ds is None:
        raise DatasetNotFoundError(_not_found_message(canon, tried))
    return ds


def _not_found_message(canon: str, tried: list[str]) -> str:
    lines = "\n".join(f"  - {t}" for t in tried)
    sample_hint = (f"or use the small shipped sample: load({canon!r}, sample=True), the --fast flag, or "
                   "KERAS_CNNS_FAST=1" if canon in sample_names() else
                   f"there is no shipped sample of {canon} (samples exist for {', '.join(sample_names())})")
    return (f"No copy of {canon!r} was found. Tried, in order:\n{lines}\n"
            f"To fix: put it (IDX .gz files, an .npz with x_train/y_train/x_test/y_test, train/+test/ class "
            f"folders, or a tarball of those) in a folder named {canon!r} and point KERAS_CNNS_DATA_DIR at "
            f"its parent (or pass data_dir=...); connect to the internet so Keras can download it; "
            f"{sample_hint}.")
