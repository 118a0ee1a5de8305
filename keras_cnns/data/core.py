"""Shared definitions: dataset names, class names, the :class:`Dataset` record,
environment switches and the error raised when no copy of a dataset is found."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")

#: Spellings accepted for each dataset (for ``load(name)`` and for folder/file names on disk).
NAME_VARIANTS = {
    "mnist": ("mnist",),
    "fashion_mnist": ("fashion_mnist", "fashion-mnist", "fashionmnist"),
    "cifar10": ("cifar10", "cifar-10", "cifar_10"),
    "cifar100": ("cifar100", "cifar-100", "cifar_100"),
}

_CIFAR100_FINE = """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup
dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion
lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear
pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew
skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger
tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()

#: Class names in label order (label ``i`` is ``CLASS_NAMES[name][i]``).
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer",
                "dog", "frog", "horse", "ship", "truck"],
    "cifar100": _CIFAR100_FINE,
}

#: How each dataset is written in prose (notes, messages).
DISPLAY_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}

#: Where the shipped samples live (inside the installed package).
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "samples"

#: Debian's dataset packages (e.g. ``dataset-fashion-mnist``) install here. Tried as the last local
#: root; override with ``$KERAS_CNNS_SYSTEM_DATA_DIR`` (an empty value disables it).
SYSTEM_DATA_DIR = "/usr/share/datasets"

_TRUE = {"1", "true", "yes", "on"}


class DatasetNotFoundError(FileNotFoundError):
    """No usable copy of a dataset was found (locally, in the Keras cache, or by download)."""


def list_datasets() -> list[str]:
    """Names accepted by :func:`load` (besides a path to an image folder)."""
    return list(DATASETS)


def fast_mode(fast: bool | None = None) -> bool:
    """The fast setting: ``fast`` when given, else True when ``$KERAS_CNNS_FAST`` is 1/true/yes/on."""
    if fast is not None:
        return bool(fast)
    return os.environ.get("KERAS_CNNS_FAST", "").strip().lower() in _TRUE


def offline_mode() -> bool:
    """True when ``$KERAS_CNNS_OFFLINE`` is 1/true/yes/on: never try to download."""
    return os.environ.get("KERAS_CNNS_OFFLINE", "").strip().lower() in _TRUE


def cache_dir() -> Path:
    """Directory for decoded-image caches and extracted archives.

    ``$KERAS_CNNS_CACHE_DIR``, else ``$XDG_CACHE_HOME/keras_cnns``, else ``~/.cache/keras_cnns``.
    """
    explicit = os.environ.get("KERAS_CNNS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keras_cnns"


def system_data_dir() -> str | None:
    """The Debian datasets root, or None when disabled by ``KERAS_CNNS_SYSTEM_DATA_DIR=""``."""
    value = os.environ.get("KERAS_CNNS_SYSTEM_DATA_DIR", SYSTEM_DATA_DIR)
    return value or None


def canonical_name(name: str) -> str | None:
    """Map a spelling such as ``"Fashion-MNIST"`` or ``"cifar-10"`` to its entry in :data:`DATASETS`."""
    key = name.strip().lower()
    for canon, variants in NAME_VARIANTS.items():
        if key in variants:
            return canon
    return None


def stratified_split(y: np.ndarray, n_first: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split indices ``0..len(y)-1`` into ``n_first`` and the rest, keeping class proportions.

    Every class gets (within one) its share of ``n_first``; which members is drawn with ``seed``.
    Both index arrays are returned sorted, so the original order is kept inside each part.
    """
    y = np.asarray(y)
    n = len(y)
    if not 0 <= n_first <= n:
        raise ValueError(f"n_first must be between 0 and {n}; got {n_first}")
    perm = np.random.default_rng(seed).permutation(n)
    y_perm = y[perm]
    order = np.argsort(y_perm, kind="stable")
    sorted_y = y_perm[order]
    starts = np.flatnonzero(np.r_[True, sorted_y[1:] != sorted_y[:-1]])
    counts = np.diff(np.r_[starts, n])
    rank = np.empty(n)
    rank[order] = np.arange(n) - np.repeat(starts, counts)
    size = np.empty(n)
    size[order] = np.repeat(counts, counts)
    # Position of each sample within its class, as a fraction: taking the smallest n_first fractions
    # gives each class its proportional share; ties fall in the (random) permuted order.
    chosen = np.argsort((rank + 0.5) / size, kind="stable")[:n_first]
    first = np.sort(perm[chosen])
    rest = np.setdiff1d(np.arange(n), first, assume_unique=True)
    return first, rest


@dataclasses.dataclass(repr=False)
class Dataset:
    """An image-classification dataset held in memory.

    Images are ``uint8`` arrays shaped ``(N, H, W, C)`` (channels last, MNIST has ``C=1``);
    labels are ``int64`` arrays shaped ``(N,)``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str
    is_sample: bool
    notes: str = ""

    @property
    def input_shape(self) -> tuple:
        """``(H, W, C)`` of one image."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        """Number of classes (``len(class_names)``)."""
        return len(self.class_names)

    def describe(self) -> str:
        """One line: name, sizes, image shape, classes, source and caveats."""
        h, w, c = self.input_shape
        text = (f"{self.name}: {len(self.x_train):,} train / {len(self.x_test):,} test, "
                f"{h}x{w}x{c}, {self.num_classes} classes — {self.source}")
        if self.is_sample:
            text += " [sample]"
        if self.notes:
            text += f" ({self.notes})"
        return text

    def subset(self, train: int | None = None, test: int | None = None, *, seed: int = 0) -> "Dataset":
        """A copy keeping at most ``train`` training and ``test`` test images, stratified by class.

        The choice is drawn with ``seed`` (see :func:`stratified_split`); ``None`` (or a limit at least
        the split's size) keeps that split whole. A note states what was kept, e.g. ``subset: 12,000 of
        60,000 training and 10,000 of 10,000 test images``; it shows in :meth:`describe`.
        """
        for arg, value in (("train", train), ("test", test)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                      or value < 1):
                raise ValueError(f"{arg} must be a positive int or None; got {value!r}")
        n_train, n_test = len(self.y_train), len(self.y_test)
        arrays = {}
        for split, limit, n in (("train", train, n_train), ("test", test, n_test)):
            if limit is not None and limit < n:
                keep, _ = stratified_split(getattr(self, f"y_{split}"), int(limit), seed=seed)
                arrays[f"x_{split}"] = getattr(self, f"x_{split}")[keep]
                arrays[f"y_{split}"] = getattr(self, f"y_{split}")[keep]
        kept_train = len(arrays.get("y_train", self.y_train))
        kept_test = len(arrays.get("y_test", self.y_test))
        note = (f"subset: {kept_train:,} of {n_train:,} training and {kept_test:,} of {n_test:,} "
                "test images")
        return dataclasses.replace(self, **arrays, notes=(self.notes + "; " if self.notes else "") + note)

    def select_classes(self, classes) -> "Dataset":
        """A copy with only ``classes`` (names or labels), relabelled ``0..k-1`` in the order given.

        >>> # ds.select_classes(["airplane", "automobile", "bird", "cat", "deer"])
        """
        wanted = list(classes)
        if not wanted:
            raise ValueError(f"classes must name at least one of {self.class_names}; got {classes!r}")
        labels = []
        for c in wanted:
            if isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c < self.num_classes:
                labels.append(int(c))
            elif isinstance(c, str) and c in self.class_names:
                labels.append(self.class_names.index(c))
            else:
                raise ValueError(f"classes: {c!r} is not a class of {self.name}; valid: "
                                 f"{', '.join(self.class_names)} (or labels 0-{self.num_classes - 1})")
        if len(set(labels)) != len(labels):
            raise ValueError(f"classes must not repeat a class; got {classes!r}")
        lookup = np.full(self.num_classes, -1, dtype=np.int64)
        lookup[labels] = np.arange(len(labels))
        arrays = {}
        for split in ("train", "test"):
            y = lookup[getattr(self, f"y_{split}")]
            keep = np.flatnonzero(y >= 0)
            arrays[f"x_{split}"], arrays[f"y_{split}"] = getattr(self, f"x_{split}")[keep], y[keep]
        names = [self.class_names[i] for i in labels]
        note = f"classes: {', '.join(names)} only (relabelled 0-{len(names) - 1})"
        return dataclasses.replace(self, **arrays, class_names=names,
                                   notes=(self.notes + "; " if self.notes else "") + note)

    def __repr__(self) -> str:
        return f"Dataset<{self.describe()}>"
