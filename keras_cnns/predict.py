"""Classify your own images with a trained model: ``python -m keras_cnns predict`` and its functions.

>>> from keras_cnns import pretrained, predict
>>> model = pretrained.load("resnet20", "cifar10")                      # doctest: +SKIP
>>> predict.predict(model, ["keras_cnns/samples/images/chelsea.png"])   # doctest: +SKIP
[{'path': '.../chelsea.png', 'top': [{'class': 'cat', 'probability': 0.71}, ...],
  'notes': ['resized 451x300 -> 32x32 (centre crop 300x300 first)']}]

Images of any size and mode that Pillow reads (PNG, JPEG, BMP, GIF, ...; RGB, greyscale, RGBA,
palette) are brought to the model's input: EXIF rotation applied, transparency composited on white,
channels converted (RGB <-> greyscale), resized (by default the centre square is cropped first, so the
aspect ratio is kept).  Every such conversion is reported as a note.  The pixels stay raw uint8 0-255:
models trained by ``keras_cnns.training.train`` normalise them themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["FITS", "ImageError", "load_image", "predict", "prepare_image", "format_result"]

#: How an image whose aspect ratio differs from the model's is resized.
FITS = ("crop", "stretch")


class ImageError(ValueError):
    """An image that cannot be read or used; the message names the file."""


def _model_input(input_shape) -> tuple[int, int, int]:
    shape = tuple(int(d) for d in (input_shape[1:] if len(input_shape) == 4 else input_shape))
    if len(shape) != 3 or shape[-1] not in (1, 3):
        raise ValueError(f"input_shape must be (height, width, 1 or 3); got {input_shape!r}")
    return shape


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    try:
        image = Image.open(path)
        image.load()
    except UnidentifiedImageError as error:
        raise ImageError(f"{path}: not an image Pillow can read (PNG, JPEG, BMP, ...)") from error
    except (OSError, SyntaxError, ValueError) as error:  # truncated / corrupt / unreadable
        raise ImageError(f"{path}: cannot read the image ({error})") from error
    return image


def _to_pil(image, name: str):
    """A PIL image from a PIL image or an (H, W), (H, W, 1/3/4) uint8 array."""
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    array = np.asarray(image)
    if array.dtype != np.uint8:
        if not np.issubdtype(array.dtype, np.integer) or array.size and (array.min() < 0 or array.max() > 255):
            raise ImageError(f"{name}: expected raw uint8 pixels 0-255 (the model normalises them itself); "
                             f"got {array.dtype} values")
        array = array.astype(np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(f"{name}: expected an (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array; "
                         f"got shape {array.shape}")
    return Image.fromarray(array)


def _standard_mode(image, notes: list[str]):
    """``image`` as "L" or "RGB" (EXIF rotation applied, alpha composited on white), with notes."""
    from PIL import Image, ImageOps

    orientation = image.getexif().get(0x0112, 1)  # EXIF Orientation tag
    if orientation not in (1, None):
        image = ImageOps.exif_transpose(image)
        notes.append(f"rotated/flipped as its EXIF orientation ({orientation}) says")
    mode = image.mode
    if mode in ("L", "RGB"):
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        notes.append(f"converted palette (P) -> {image.mode}")
        if image.mode == "RGB":
            return image
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        out = Image.alpha_composite(background, rgba)
        base = "L" if mode in ("LA", "La") else "RGB"
        notes.append(f"composited {mode} on a white background -> {base}")
        return out.convert(base)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        notes.append(f"scaled {mode} greyscale to 8 bits (0-{top:.0f} -> 0-255)")
        return Image.fromarray(np.clip(np.rint(array * 255.0 / top), 0, 255).astype(np.uint8))
    if mode == "1":
        notes.append("converted black-and-white (1) -> greyscale")
        return image.convert("L")
    notes.append(f"converted {mode} -> RGB")  # CMYK, YCbCr, LAB, HSV
    return image.convert("RGB")


def prepare_image(image, input_shape, *, fit: str = "crop", name: str = "image") -> tuple[np.ndarray, list[str]]:
    """A PIL image or uint8 array as the model's ``(H, W, C)`` uint8 input, and the notes on what changed.

    ``fit="crop"`` crops the centre region of the model's aspect ratio before resizing (nothing is
    distorted, the borders are lost); ``"stretch"`` resizes the whole image (nothing is lost, shapes
    are distorted).  Resizing uses Lanczos filtering, which also smooths (antialiases) a reduction.
    """
    from PIL import Image

    if fit not in FITS:
        raise ValueError(f"fit must be one of {', '.join(FITS)}; got {fit!r}")
    height, width, channels = _model_input(input_shape)
    notes: list[str] = []
    image = _standard_mode(_to_pil(image, name), notes)
    if channels == 1 and image.mode == "RGB":
        image = image.convert("L")  # ITU-R 601-2 luma
        notes.append("converted RGB -> greyscale (luma)")
    elif channels == 3 and image.mode == "L":
        image = image.convert("RGB")
        notes.append("converted greyscale -> RGB (the grey channel repeated)")
    w0, h0 = image.size
    if (w0, h0) != (width, height):
        note = f"resized {w0}x{h0} -> {width}x{height}"
        box = None
        if fit == "crop" and w0 * height != h0 * width:
            scale = min(w0 / width, h0 / height)
            cw, ch = max(1, round(width * scale)), max(1, round(height * scale))
            left, top = (w0 - cw) // 2, (h0 - ch) // 2
            box = (left, top, left + cw, top + ch)
            note += f" (centre crop {cw}x{ch} first)"
        elif fit == "stretch" and w0 * height != h0 * width:
            note += " (stretched: aspect ratio changed)"
        image = image.resize((width, height), Image.Resampling.LANCZOS, box=box)
        notes.append(note)
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[..., None]
    return array, notes


def load_image(path, input_shape, *, fit: str = "crop") -> tuple[np.ndarray, list[str]]:
    """Read an image file as the model's ``(H, W, C)`` uint8 input; returns ``(array, notes)``.

    Raises :class:`ImageError` (naming the file) for a missing path, a folder, or a file Pillow
    cannot read.
    """
    path = Path(path)
    with _open(path) as image:
        return prepare_image(image, input_shape, fit=fit, name=str(path))


def _is_probability(rows: np.ndarray) -> bool:
    return bool(np.all(rows >= -1e-6) and np.all(rows <= 1 + 1e-6) and np.allclose(rows.sum(-1), 1.0, atol=1e-3))


def _softmax(rows: np.ndarray) -> np.ndarray:
    shifted = rows - rows.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _class_names(model, class_names) -> list[str]:
    classes = int(model.output_shape[-1])
    names = class_names if class_names is not None else getattr(model, "class_names", None)
    if names is None:
        raise ValueError(f"the model names no classes ({classes} outputs): pass class_names=[...] (CLI: "
                         "--class-names a,b,c, or --class-names index for the label numbers)")
    names = [str(n) for n in names]
    if len(names) != classes:
        raise ValueError(f"{len(names)} class names given for a model with {classes} outputs")
    return names


def predict(model, images_or_paths, top: int = 3, class_names=None, *, fit: str = "crop",
            batch_size: int = 64) -> list[dict]:
    """Classify images (paths, PIL images or uint8 arrays) with ``model``; one dict per image, in order.

    Each dict holds ``"path"`` (the path, or ``"#i"`` for an in-memory image), ``"top"`` (the ``top``
    most probable classes as ``{"class", "probability"}``, most probable first) and ``"notes"`` (the
    conversions applied); an image that cannot be used has ``"error"`` instead of ``"top"``, and the
    others are still classified.  ``class_names`` defaults to ``model.class_names`` (set by
    ``keras_cnns.pretrained.load``).  A model that outputs logits gets a softmax (and a note).
    """
    if isinstance(images_or_paths, (str, os.PathLike)) or (
            isinstance(images_or_paths, np.ndarray) and images_or_paths.ndim in (2, 3)):
        images_or_paths = [images_or_paths]
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a positive int; got {top!r}")
    names = _class_names(model, class_names)
    input_shape = _model_input(model.input_shape)
    model_notes = _model_notes(model)
    results, arrays, slots = [], [], []
    for index, item in enumerate(images_or_paths):
        is_path = isinstance(item, (str, os.PathLike))
        label = os.fspath(item) if is_path else f"#{index}"
        try:
            if is_path:
                array, notes = load_image(item, input_shape, fit=fit)
            else:
                array, notes = prepare_image(item, input_shape, fit=fit, name=label)
        except ImageError as error:
            results.append({"path": label, "error": str(error)})
            continue
        results.append({"path": label, "notes": model_notes + notes})
        arrays.append(array)
        slots.append(len(results) - 1)
    if arrays:
        batch = np.stack(arrays)
        outputs = np.concatenate([np.asarray(model(batch[i:i + batch_size], training=False), dtype=np.float64)
                                  for i in range(0, len(batch), batch_size)])
        if not _is_probability(outputs):
            outputs = _softmax(outputs)
            for slot in slots:
                results[slot]["notes"].append("the model outputs logits: softmax applied")
        k = min(int(top), len(names))
        for slot, row in zip(slots, outputs):
            order = np.argsort(-row, kind="stable")[:k]
            results[slot]["top"] = [{"class": names[i], "probability": float(row[i])} for i in order]
            results[slot] = {"path": results[slot]["path"], "top": results[slot]["top"],
                             "notes": results[slot]["notes"]}
    return results


def _model_notes(model) -> list[str]:
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if layers and isinstance(layers[0], keras.layers.Normalization):
        return []
    return ["the model has no Normalization layer at its input: raw 0-255 pixels were fed as they are"]


def format_result(result: dict) -> str:
    """One readable line: ``cat.png: cat 91.2% (dog 5.1%, deer 1.0%)`` (or ``error: <path>: ...``)."""
    if "error" in result:
        return f"error: {result['error']}"
    first, *rest = result["top"]
    line = f"{result['path']}: {first['class']} {100 * first['probability']:.1f}%"
    if rest:
        line += " (" + ", ".join(f"{r['class']} {100 * r['probability']:.1f}%" for r in rest) + ")"
    return line
