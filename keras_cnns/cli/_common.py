"""What every command shares: the program name, :class:`CommandError`, argument types and name checks."""

from __future__ import annotations

import argparse
import os

PROG = "python -m keras_cnns"
RUN_FILES = ("metrics.csv", "curves.png", "best.keras", "summary.json")


class CommandError(Exception):
    """A user error detected by a command: printed as ``error: ...`` with an exit code."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------- helpers


def _quiet_tensorflow() -> None:
    """Import TensorFlow without its C++ start-up lines (unless the user chose ``TF_CPP_MIN_LOG_LEVEL``).

    Every command but ``--help`` needs TensorFlow; ``--help`` never reaches this.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from keras_cnns.notebook import import_tensorflow

    import_tensorflow()


def _input_shape(text: str) -> tuple[int, int, int]:
    """argparse type: ``"32,32,3"`` or ``"32x32x3"`` -> ``(32, 32, 3)``."""
    parts = text.replace("x", ",").replace("X", ",").split(",")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHT,WIDTH,CHANNELS such as 32,32,3; got {text!r}"
        )
    return shape


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _check_model(name: str) -> None:
    """Raise :class:`CommandError` (exit 2) unless ``name`` is a registered model."""
    from keras_cnns import models

    valid = models.list_models()
    if name not in valid:
        raise CommandError(f"unknown model {name!r}; valid models: {', '.join(valid)}")


def _check_dataset(name: str) -> None:
    """Raise :class:`CommandError` (exit 2) unless ``name`` is a known dataset or a path."""
    from keras_cnns import data

    valid = data.list_datasets()
    if name in valid or os.path.exists(name):
        return
    canonical = getattr(getattr(data, "core", None), "canonical_name", None)
    if canonical is not None and canonical(name) is not None:  # e.g. "fashion-mnist"
        return
    raise CommandError(
        f"unknown dataset {name!r}; valid datasets: {', '.join(valid)} (or a path to image folders)"
    )


def _fmt_count(value: int) -> str:
    """``269722`` -> ``"269,722"``."""
    return f"{int(value):,}"


def _fmt_shape(shape) -> str:
    """``(32, 32, 3)`` -> ``"32x32x3"``."""
    return "x".join(str(d) for d in shape)


