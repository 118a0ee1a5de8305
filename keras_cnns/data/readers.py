"""Readers for the on-disk formats: IDX (MNIST-style), ``.npz`` and ``train/``+``test/`` image folders.

Every reader validates what it reads and raises ``ValueError`` naming the file and what was expected,
so that nothing is silently dropped or misread.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import struct
import tarfile
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np

from .core import cache_dir

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # as keras.utils.image_dataset_from_directory
ARCHIVE_EXTENSIONS = (".tar.gz", ".tgz", ".tar")
_FORMAT_WORDS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".gif": "GIF"}
#: MNIST distribution file names (Fashion-MNIST and Keras' cache use the same).
IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


# --------------------------------------------------------------------------------------------- IDX
def find_idx_file(folder: Path, stem: str) -> Path | None:
    """The IDX file ``stem`` in ``folder``: gzipped or not, ``-idx`` or ``.idx`` spelling."""
    for base in (stem, stem.replace("-idx", ".idx")):
        for candidate in (folder / f"{base}.gz", folder / base):
            if candidate.is_file():
                return candidate
    return None


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes with ``ndim`` dimensions (3 for images, 1 for labels)."""
    path = Path(path)
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path.name}: cannot read the IDX file ({exc})") from exc
    expected_magic = 0x0800 + ndim
    kind = "image" if ndim == 3 else "label"
    magic = struct.unpack(">I", data[:4])[0] if len(data) >= 4 else None
    if magic != expected_magic:
        found = "a file shorter than 4 bytes" if magic is None else f"0x{magic:08X}"
        raise ValueError(f"{path.name}: bad IDX magic number {found}; expected 0x{expected_magic:08X} "
                         f"(an IDX {kind} file of unsigned bytes with {ndim} dimension(s))")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path.name}: truncated IDX header ({len(data)} bytes; expected {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected, actual = int(np.prod(dims)), len(data) - header
    if actual != expected:
        raise ValueError(f"{path.name}: the header gives shape {dims}, i.e. {expected:,} bytes of data, "
                         f"but the file holds {actual:,} (truncated or corrupt)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_idx_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    """``(images, labels, file names)`` of one split ("train"/"test"), or None if neither file is there."""
    image_stem, label_stem = IDX_NAMES[split]
    images, labels = find_idx_file(folder, image_stem), find_idx_file(folder, label_stem)
    if images is None and labels is None:
        return None
    if images is None or labels is None:
        missing = image_stem if images is None else label_stem
        present = (labels or images).name
        raise ValueError(f"{folder.name}/: found {present} but not its partner {missing}(.gz)")
    x, y = read_idx(images, 3), read_idx(labels, 1)
    if len(x) != len(y):
        raise ValueError(f"{images.name} + {labels.name}: {len(x):,} images but {len(y):,} labels; they must "
                         "match one to one")
    return x, y, [images.name, labels.name]


# --------------------------------------------------------------------------------------------- npz
def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read a dataset ``.npz`` (keys x_train, y_train, x_test, y_test; optional class_names, notes)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in NPZ_KEYS if k not in f.files]
            if missing:
                raise ValueError(f"{path.name}: missing key(s) {', '.join(missing)}; a dataset .npz needs "
                                 f"keys {', '.join(NPZ_KEYS)} (optional: class_names); found {f.files}")
            return {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{path.name}: not a readable .npz file ({exc})") from exc
    except ValueError as exc:
        if str(exc).startswith(path.name):
            raise
        raise ValueError(f"{path.name}: cannot load without pickle ({exc}); store images and labels "
                         "as numeric arrays and class_names as a unicode array") from exc


# ------------------------------------------------------------------------------------- validation
def _as_images(x: np.ndarray, where: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4:
        raise ValueError(f"{where}: expected images shaped (N, H, W) or (N, H, W, C); got {x.shape}")
    if x.shape[-1] > 4 and x.shape[1] in (1, 3):
        raise ValueError(f"{where}: images shaped {x.shape} look channels-first; expected channels-last "
                         "(N, H, W, C)")
    if x.dtype != np.uint8:
        if not np.issubdtype(x.dtype, np.integer) or (x.size and (x.min() < 0 or x.max() > 255)):
            raise ValueError(f"{where}: expected uint8 pixel values 0-255; got dtype {x.dtype}")
        x = x.astype(np.uint8)
    return x


def _as_labels(y: np.ndarray, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{where}: expected integer class labels shaped (N,); got {y.dtype} {y.shape}")
    return y.astype(np.int64)


def validate_arrays(arrays: dict, origin: str, num_classes: int | None = None) -> dict:
    """Check and normalise x_train, y_train, x_test, y_test (uint8 NHWC images, int64 labels).

    ``origin`` names the file(s) in error messages; ``num_classes`` bounds the labels when known.
    """
    out = {}
    for split in ("train", "test"):
        x = _as_images(arrays[f"x_{split}"], f"{origin} x_{split}")
        y = _as_labels(arrays[f"y_{split}"], f"{origin} y_{split}")
        if len(x) != len(y):
            raise ValueError(f"{origin}: the {split} split has {len(x):,} images but {len(y):,} labels; "
                             "they must match one to one")
        if len(x) == 0:
            raise ValueError(f"{origin}: the {split} split is empty")
        if y.min() < 0 or (num_classes is not None and y.max() >= num_classes):
            limit = f"0..{num_classes - 1}" if num_classes is not None else "non-negative"
            raise ValueError(f"{origin}: {split} labels span {y.min()}..{y.max()}; expected {limit}")
        out[f"x_{split}"], out[f"y_{split}"] = x, y
    if out["x_train"].shape[1:] != out["x_test"].shape[1:]:
        raise ValueError(f"{origin}: train images are {out['x_train'].shape[1:]} but test images are "
                         f"{out['x_test'].shape[1:]}; both splits must share one image shape")
    return out


# ----------------------------------------------------------------------------------- image folders
def has_folder_layout(folder: Path) -> bool:
    """True if ``folder`` holds ``train/`` and ``test/`` sub-folders (one folder per class inside)."""
    return (folder / "train").is_dir() and (folder / "test").is_dir()


#: ``{split: {class name: [(display name, Path or bytes), ...]}}`` as found on disk or in an archive.
ImageFiles = dict


def _add_image(found: ImageFiles, split: str, cls: str, fname: str, src) -> bool:
    """Record one file of ``split/cls``; False (and nothing recorded) if it is not an image file."""
    items = found.setdefault(split, {}).setdefault(cls, [])
    if not fname.lower().endswith(IMAGE_EXTENSIONS):
        return False
    items.append((f"{split}/{cls}/{fname}", src))
    return True


def list_image_folders(folder: Path) -> tuple[ImageFiles, int]:
    """The image files under ``folder/train/<class>/`` and ``folder/test/<class>/``, and how many
    non-image files were skipped (hidden files are ignored)."""
    found: ImageFiles = {}
    skipped = 0
    for split in ("train", "test"):
        for class_dir in sorted(p for p in (folder / split).iterdir() if p.is_dir()):
            found.setdefault(split, {}).setdefault(class_dir.name, [])
            for path in class_dir.iterdir():
                if path.is_file() and not path.name.startswith("."):
                    skipped += not _add_image(found, split, class_dir.name, path.name, path)
    return found, skipped


def scan_tar_image_folders(path: Path) -> tuple[ImageFiles, int] | None:
    """Read the image files of a tarball laid out as ``[prefix/]train|test/<class>/<file>`` straight
    from the archive (no extraction), or None if it has no such layout."""
    groups: dict[str, tuple[ImageFiles, list[int]]] = {}
    try:
        with tarfile.open(path) as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if not member.isfile() or len(parts) < 3 or parts[-3] not in ("train", "test"):
                    continue
                split, cls, fname = parts[-3:]
                if fname.startswith("."):
                    continue
                found, skipped = groups.setdefault("/".join(parts[:-3]), ({}, [0]))
                data = tar.extractfile(member).read()
                skipped[0] += not _add_image(found, split, cls, fname, data)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path.name}: cannot read the archive ({exc})") from exc
    complete = sorted((len(prefix), prefix) for prefix, (found, _) in groups.items()
                      if {"train", "test"} <= set(found))
    if not complete:
        return None
    found, skipped = groups[complete[0][1]]
    return found, skipped[0]


def _labelled(found: ImageFiles, where: str) -> tuple[list[str], dict[str, list[tuple[str, object, int]]]]:
    """Class names (sorted class folders of train/) and the ``(name, source, label)`` files per split."""
    class_names = sorted(found.get("train", {}))
    if not class_names:
        raise ValueError(f"{where}/train: no class sub-folders; expected train/<class>/<image>")
    files = {}
    for split in ("train", "test"):
        classes = found.get(split, {})
        extra = sorted(set(classes) - set(class_names))
        if extra:
            raise ValueError(f"{where}/{split}: class folder(s) {extra} do not exist in train/, which has "
                             f"{class_names}")
        files[split] = [(name, src, label) for label, cls in enumerate(class_names)
                        for name, src in sorted(classes.get(cls, []), key=lambda item: item[0])]
        if not files[split]:
            raise ValueError(f"{where}/{split}: no images ({', '.join(IMAGE_EXTENSIONS)}) found")
    return class_names, files


def _decode_one(item: tuple) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    name, src = item[0], item[1]
    try:
        with Image.open(src if isinstance(src, Path) else io.BytesIO(src)) as img:
            mode = "L" if img.mode in ("1", "L", "I", "I;16", "F") else "RGB"
            arr = np.asarray(img.convert(mode), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValueError(f"cannot read image {name}: {exc}") from exc
    return arr[..., np.newaxis] if arr.ndim == 2 else arr


def decode_images(items: list[tuple], workers: int | None = None) -> np.ndarray:
    """Decode ``(name, Path or bytes, ...)`` items with Pillow (in a thread pool) into one uint8
    ``(N, H, W, C)`` array.

    Grayscale images stay 1-channel unless some image is in colour, then all become RGB.
    All images must share one size; an unreadable file raises ``ValueError`` naming it.
    """
    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        images = list(pool.map(_decode_one, items, chunksize=512))
    channels = max(img.shape[-1] for img in images)
    size = images[0].shape[:2]
    for item, img in zip(items, images):
        if img.shape[:2] != size:
            raise ValueError(f"image {item[0]} is {img.shape[1]}x{img.shape[0]} but {items[0][0]} is "
                             f"{size[1]}x{size[0]}; all images must share one size (resize them first)")
    out = np.empty((len(images), *size, channels), dtype=np.uint8)
    for i, img in enumerate(images):
        out[i] = img  # broadcasts a 1-channel image to RGB when needed
    return out


def fingerprint(*paths: Path) -> str:
    """A short key from the paths' resolved locations, sizes and modification times."""
    h = hashlib.sha1()
    for p in paths:
        st = p.stat()
        h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def folder_fingerprint(found: ImageFiles) -> str:
    """A key that changes when any listed image file is added, removed, renamed or modified."""
    h = hashlib.sha1()
    for split, classes in sorted(found.items()):
        for cls, items in sorted(classes.items()):
            for name, path in sorted(items, key=lambda item: item[0]):
                st = path.stat()
                h.update(f"{name}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def decoded_cache_path(stem: str, key: str) -> Path:
    """Where the decoded arrays of an image-folder source with this key are cached."""
    return cache_dir() / "decoded" / f"{stem}-{key}.npz"


def save_arrays(path: Path, arrays: dict) -> None:
    """Write arrays to an uncompressed ``.npz`` atomically (write to a temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def read_cached_folders(stem: str, key: str) -> tuple[dict, list[str], str] | None:
    """The cached decode of an image-folder source (arrays, class names, format word), or None."""
    cached = decoded_cache_path(stem, key)
    if not cached.is_file():
        return None
    arrays = read_npz(cached)
    return arrays, [str(c) for c in arrays["class_names"]], str(arrays.get("kind", "image"))


def decode_image_files(found: ImageFiles, skipped: int, where: str, stem: str, key: str):
    """Decode found image files into arrays (plus class_names, skipped count and format word), cache them
    under ``key`` and return ``(arrays, class_names, kind)``."""
    class_names, files = _labelled(found, where)
    kinds = {_FORMAT_WORDS.get(Path(name).suffix.lower(), "image") for items in files.values() for name, *_ in items}
    kind = kinds.pop() if len(kinds) == 1 else "image"
    arrays = {}
    for split, items in files.items():
        arrays[f"x_{split}"] = decode_images(items)
        arrays[f"y_{split}"] = np.array([label for *_, label in items], dtype=np.int64)
    arrays["class_names"] = np.array(class_names, dtype=str)
    arrays["skipped"] = np.array(skipped)
    arrays["kind"] = np.array(kind)
    save_arrays(decoded_cache_path(stem, key), arrays)
    return arrays, class_names, kind


def read_image_folders(folder: Path, stem: str) -> tuple[dict, list[str], str]:
    """Arrays, class names and a format word ("JPEG", "PNG", ...) for a ``train/``+``test/`` folder.

    Decoded arrays are cached under ``cache_dir()/decoded``, keyed by a fingerprint of every file, so
    the images are decoded only once. ``arrays["skipped"]`` counts skipped non-image files.
    """
    found, skipped = list_image_folders(folder)
    key = folder_fingerprint(found)
    hit = read_cached_folders(stem, key)
    if hit is not None:
        return hit
    return decode_image_files(found, skipped, folder.name, stem, key)


# ---------------------------------------------------------------------------------------- archives
def archive_stem(path: Path) -> str:
    """``cifar10-jpeg.tar.gz`` -> ``cifar10-jpeg``."""
    name = path.name
    for ext in ARCHIVE_EXTENSIONS:
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return path.stem


def extract_archive(path: Path, key: str) -> Path:
    """Extract a tarball once into ``cache_dir()/extracted/<stem>-<key>`` (safely: the "data" filter
    refuses absolute paths, links outside the tree and device files) and return that folder."""
    dest = cache_dir() / "extracted" / f"{archive_stem(path)}-{key}"
    if (dest / ".complete").is_file():
        return dest
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4: the library checks every member
            fmt = "tar" if path.name.lower().endswith(".tar") else "gztar"
            shutil.unpack_archive(path, tmp, format=fmt, filter="data")
        else:  # older Pythons: check members by hand (regular files and folders inside tmp only)
            with tarfile.open(path) as tar:
                inside = str(tmp.resolve()) + os.sep
                for member in tar.getmembers():
                    if not (member.isfile() or member.isdir()) or \
                            not str((tmp / member.name).resolve()).startswith(inside):
                        raise tarfile.TarError(f"refusing unsafe member {member.name!r}")
                tar.extractall(tmp)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ValueError(f"{path.name}: cannot extract the archive ({exc})") from exc
    (tmp / ".complete").touch()
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    return dest
