"""Trained weights shipped with the package, their model cards, and a safe ``.keras`` loader.

Every shipped weights file ``keras_cnns/weights/<model>_<weights>.keras`` has a model card beside it,
``<model>_<weights>.json`` (written by ``scripts/export_weights.py``): dataset and its caveats, the
command that trained it, test accuracy with its Wilson 95% interval, class names in label order, input
shape, licence, size and SHA-256 of the file.  The shipped models take **raw pixels** (uint8 0-255,
H x W x C): their first layer after the input is a ``keras.layers.Normalization`` with the training
split's statistics.

>>> from keras_cnns import pretrained
>>> pretrained.available()                              # doctest: +SKIP
[('resnet20', 'cifar10'), ('resnet20', 'cifar10_0to4'), ('resnet20', 'fashion_mnist')]
>>> model = pretrained.load("resnet20", "cifar10")      # doctest: +SKIP
>>> model.class_names[:3], pretrained.card("resnet20", "cifar10")["test_accuracy"]  # doctest: +SKIP

``load`` verifies the file's SHA-256, loads it with ``safe_mode=True`` and checks that it really is
the named architecture (``keras_cnns.models.build``); errors are :class:`WeightsError` (a
``ValueError``) or :class:`WeightsNotFoundError` (a ``FileNotFoundError``) and list what exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

__all__ = ["WEIGHTS_DIR", "WeightsError", "WeightsNotFoundError", "available", "card", "card_path",
           "check_architecture", "evaluate", "load", "load_model", "sha256", "weights_path"]

#: Where the shipped weights and their model cards live (package data).
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class WeightsError(ValueError):
    """Unknown weights name, a corrupt file, or weights that do not fit the requested model."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """A weights file (or its model card) that should exist does not."""


# ------------------------------------------------------------------------ registry


def sha256(path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cards() -> dict[tuple[str, str], Path]:
    """``{(model, weights): card path}`` for every model card in :data:`WEIGHTS_DIR`."""
    found = {}
    for path in sorted(WEIGHTS_DIR.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a card; card() reports a broken one by name
        if isinstance(record, dict) and isinstance(record.get("model"), str) and isinstance(
                record.get("weights"), str):
            found[(record["model"], record["weights"])] = path
    return found


def available(model: str | None = None) -> list[tuple[str, str]]:
    """Sorted ``(model, weights)`` pairs with shipped weights (only ``model``'s if given)."""
    return sorted(pair for pair in _cards() if model is None or pair[0] == model)


def _describe_available() -> str:
    pairs = available()
    if not pairs:
        return "no weights are shipped (keras_cnns/weights/ holds no model card)"
    by_model: dict[str, list[str]] = {}
    for model, weights in pairs:
        by_model.setdefault(model, []).append(weights)
    return "shipped weights: " + "; ".join(f"{m} ({', '.join(w)})" for m, w in by_model.items())


def card_path(model: str, weights: str) -> Path:
    """Path of the model card of ``(model, weights)``; :class:`WeightsError` listing what exists."""
    path = _cards().get((model, weights))
    if path is not None:
        return path
    names = [w for m, w in available() if m == model]
    if names:
        raise WeightsError(f"{model} has no weights named {weights!r}; {model} has weights: "
                           f"{', '.join(names)} (or give a path to a .keras file)")
    raise WeightsError(f"{model} has no shipped weights; {_describe_available()} "
                       "(or give a path to a .keras file)")


def card(model: str, weights: str) -> dict:
    """The model card of shipped weights as a dict (a copy; see ``keras_cnns/weights/README.md``)."""
    path = card_path(model, weights)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise WeightsError(f"model card {path} cannot be read: {error}") from error


def weights_path(model: str, weights: str) -> Path:
    """Path of a shipped ``.keras`` file (which must exist)."""
    info = card(model, weights)
    path = WEIGHTS_DIR / info["file"]
    if not path.is_file():
        raise WeightsNotFoundError(f"{path} is missing although its model card {card_path(model, weights).name} "
                                   "exists; regenerate it with scripts/export_weights.py (see "
                                   "keras_cnns/weights/README.md)")
    return path


# -------------------------------------------------------------------------- loading


def _attach(model, name: str, value) -> None:
    """Set a plain Python attribute (not tracked by Keras, so a list stays a list)."""
    object.__setattr__(model, name, value)


def _check_keras_file(path: Path) -> None:
    if not path.exists():
        raise WeightsNotFoundError(f"{path}: no such file")
    if path.is_dir() or path.suffix != ".keras":
        raise WeightsError(f"{path} is not a .keras file (a Keras 3 model saved with model.save('x.keras'))")
    if not zipfile.is_zipfile(path):
        raise WeightsError(f"{path} is not a valid .keras file (not a zip archive: truncated or corrupt?)")


def load_model(path, **kwargs):
    """Load a ``.keras`` model file with ``safe_mode=True`` (the project's custom layers registered).

    Works for any run's ``best.keras``: the models of ``keras_cnns.training.train`` take raw uint8
    pixels.  ``kwargs`` go to ``keras.saving.load_model`` (e.g. ``compile=False``).  Attaches
    ``model.class_names`` when a model card ``<stem>.json`` or a run's ``summary.json`` lies beside
    the file and names the classes (else ``model.class_names`` is None).
    """
    path = Path(path)
    _check_keras_file(path)
    import keras

    import keras_cnns.blocks  # noqa: F401  registers ChannelPad, GroupedConv2D, ... for safe_mode

    kwargs.setdefault("safe_mode", True)
    try:
        model = keras.saving.load_model(path, **kwargs)
    except Exception as error:  # Keras raises ValueError/KeyError/OSError/... for a broken file
        raise WeightsError(f"{path} cannot be loaded as a Keras model: {type(error).__name__}: {error}") from error
    _attach(model, "class_names", _sibling_class_names(path, model))
    return model


def _sibling_class_names(path: Path, model) -> list[str] | None:
    """Class names from ``<stem>.json`` (a model card) or ``summary.json`` beside ``path``, if they fit."""
    classes = int(model.output_shape[-1]) if len(model.output_shape) == 2 else None
    for candidate in (path.with_suffix(".json"), path.parent / "summary.json"):
        try:
            names = json.loads(candidate.read_text(encoding="utf-8")).get("class_names")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(names, list) and len(names) == classes and all(isinstance(n, str) for n in names):
            return list(names)
    return None


def _body_layers(model) -> list:
    """The layers after the input, without a leading ``Normalization`` (added by ``train``)."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if layers and isinstance(layers[0], keras.layers.Normalization):
        layers = layers[1:]
    return layers


def _signature(model) -> list[tuple[str, str, tuple]]:
    """``(layer name, class, weight shapes)`` per layer: what makes two models the same architecture."""
    return [(layer.name, type(layer).__name__, tuple(tuple(w.shape) for w in layer.weights))
            for layer in _body_layers(model)]


def check_architecture(model, name: str, source: str = "the weights") -> None:
    """Raise :class:`WeightsError` unless ``model`` is ``models.build(name)`` for its own shapes.

    Same layer names, classes and weight shapes (a leading ``Normalization`` aside) and the same
    number of trainable parameters as a freshly built ``name``.
    """
    from keras_cnns import models

    input_shape = tuple(int(d) for d in model.input_shape[1:])
    classes = int(model.output_shape[-1])
    try:
        reference = models.build(name, input_shape=input_shape, classes=classes)
    except ValueError as error:
        raise WeightsError(f"{source} ({_shape(input_shape)} input, {classes} classes) cannot be a "
                           f"{name}: {error}") from error
    got, want = _signature(model), _signature(reference)
    params = (_trainable_count(model), _trainable_count(reference))
    if got == want and params[0] == params[1]:
        return
    detail = f"{len(got)} layers vs {len(want)}"
    for index, (a, b) in enumerate(zip(got, want)):
        if a != b:
            detail = f"layer {index} is {a[0]} ({a[1]}, weights {list(a[2])}), a {name} has {b[0]} " \
                     f"({b[1]}, weights {list(b[2])})"
            break
    raise WeightsError(f"{source} is not a {name} ({model.name!r}: {params[0]:,} trainable parameters, "
                       f"a {name} for {_shape(input_shape)} and {classes} classes has {params[1]:,}; "
                       f"{detail})")


def _trainable_count(model) -> int:
    total = 0
    for weight in model.trainable_weights:
        size = 1
        for d in weight.shape:
            size *= int(d)
        total += size
    return total


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape)


def _is_path(weights) -> bool:
    text = os.fspath(weights)
    return (isinstance(weights, os.PathLike) or text.endswith(".keras") or os.sep in text
            or bool(os.altsep and os.altsep in text) or bool(Path(text).suffix and os.path.exists(text)))


def load(name: str, weights, input_shape=None, classes=None, **kwargs):
    """A ``name`` model with trained ``weights``: a shipped name (see :func:`available`) or a ``.keras`` path.

    Shipped weights: the file's SHA-256 must match its model card; ``input_shape`` and ``classes``
    default to the card's and must agree with it when given.  A path: any ``.keras`` file holding a
    ``name`` model (e.g. a run's ``best.keras``).  Either way the file is loaded with
    ``safe_mode=True`` and checked against ``keras_cnns.models.build(name, ...)``.  The model takes raw
    uint8 pixels; ``model.class_names`` lists the classes in label order (None if unknown) and
    ``model.model_card`` is the card (None for a path without one).

    ``kwargs`` are builder options (``include_top``, ``classifier_activation``, ...): the weights fix
    the architecture, so any given is an error.
    """
    from keras_cnns import models

    if name not in models.list_models():
        raise WeightsError(f"unknown model {name!r}; valid models: {', '.join(models.list_models())}")
    if kwargs:
        raise WeightsError(f"weights={weights!r} fixes the architecture; builder options cannot be changed "
                           f"({', '.join(sorted(kwargs))} given)")
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"weights must be a weights name or a path to a .keras file; got {type(weights).__name__}")
    if _is_path(weights):
        path, info = Path(weights).expanduser(), None
        source = str(path)
    else:
        info = card(name, str(weights))
        path = weights_path(name, str(weights))
        digest = sha256(path)
        if digest != info.get("sha256"):
            raise WeightsError(f"{path} is corrupt: its SHA-256 is {digest}, its model card "
                               f"{card_path(name, str(weights)).name} says {info.get('sha256')} "
                               "(reinstall the package or re-export it with scripts/export_weights.py)")
        source = f"{name} weights {weights!r} ({path.name})"
    model = load_model(path, compile=False)
    check_architecture(model, name, source)
    _check_request(model, input_shape, classes, source)
    if info is not None:
        names = list(info["class_names"])
        if len(names) != int(model.output_shape[-1]) or list(info["input_shape"]) != list(model.input_shape[1:]):
            raise WeightsError(f"{source}: the model card ({len(names)} classes, input {info['input_shape']}) "
                               f"does not describe the file ({model.output_shape[-1]} outputs, input "
                               f"{list(model.input_shape[1:])})")
        _attach(model, "class_names", names)
    _attach(model, "model_card", info)
    return model


def _check_request(model, input_shape, classes, source: str) -> None:
    have_shape = tuple(int(d) for d in model.input_shape[1:])
    have_classes = int(model.output_shape[-1])
    if input_shape is not None and tuple(int(d) for d in input_shape) != have_shape:
        raise WeightsError(f"{source} take {_shape(have_shape)} input; input_shape={tuple(input_shape)} was "
                           "requested (leave it out, or resize the images: keras_cnns.predict.load_image)")
    if classes is not None and int(classes) != have_classes:
        raise WeightsError(f"{source} have {have_classes} classes; classes={classes} was requested "
                           "(leave it out, or fine-tune a new head)")


def evaluate(model, x, y, batch_size: int = 250, flip: bool = False) -> dict:
    """Accuracy of ``model`` on raw uint8 images ``x`` with labels ``y``, with its Wilson 95% interval.

    Returns ``{"accuracy", "ci95": (low, high), "n", "flip"}``; the images go through the model as
    they are (no normalisation outside the model). ``flip=True`` is test-time augmentation: the
    class probabilities of each image and of its left-right mirror image are averaged (right for
    models trained with random flips, such as the CIFAR ones; report it as such, apart from the
    plain accuracy).
    """
    import numpy as np

    from keras_cnns.training import accuracy_ci95

    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"x and y must hold the same positive number of examples; got {len(x)} and {len(y)}")
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of images (N, height, width, channels); got shape {x.shape}")

    def probabilities(batch):
        p = np.asarray(model(batch, training=False))
        return (p + np.asarray(model(batch[:, :, ::-1], training=False))) / 2 if flip else p

    predicted = np.concatenate([np.argmax(probabilities(x[i:i + batch_size]), axis=-1)
                                for i in range(0, len(x), batch_size)])
    accuracy = float(np.mean(predicted == y))
    return {"accuracy": accuracy, "ci95": accuracy_ci95(accuracy, len(y)), "n": int(len(y)), "flip": bool(flip)}
