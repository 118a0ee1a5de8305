"""What every model builder shares: input validation, the optional resize, the head, the registry."""

import inspect

import keras
from keras import layers

from ..blocks._common import check_choice, check_positive_int

_REGISTRY = {}

_ARGS_DOC = """

    Args:
        input_shape: (height, width, channels); default {shape}.
        classes: number of classes of the classifier (default {classes}).
        include_top: end with the classifier (default); False returns the features.
        pooling: with ``include_top=False``: None (the last feature maps), "avg" or "max"
            (global pooling to a vector).
        classifier_activation: activation of the classifier ("softmax"; None for logits).
        small_input: {small}
        resize_to: resize the input on the fly to this size (an int or (h, w)), e.g. 224.{extra}

    Returns:
        A ``keras.Model``.
"""
_SMALL_DOC = {
    True: "use the small-input (CIFAR/MNIST) stem; None picks it under 64 px.",
    False: "None or False: the stem is already the small (CIFAR) one.",
}


def register(name, default_input_shape=(224, 224, 3), args_doc=""):
    """Decorator adding a named builder to the registry used by :func:`keras_cnns.models.build`.

    It completes the builder's docstring with the arguments every builder shares
    (then ``args_doc``, the family's own options, as "Args" lines) and refuses
    a builder with a ``**kwargs`` catch-all (so ``help()`` and ``inspect.signature``
    show each builder's real parameters) or a name another builder already has.
    """

    def wrap(fn):
        params = inspect.signature(fn).parameters
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            raise TypeError(f"builder {name!r} must list its arguments, not take **kwargs")
        other = _REGISTRY.get(name)
        if other is not None and (other.__module__, other.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"model name {name!r} is already registered by {other.__qualname__}")
        small = tuple(default_input_shape)[:2] != (32, 32)
        fn.__doc__ = fn.__doc__.rstrip() + _ARGS_DOC.format(
            shape=tuple(default_input_shape), classes=params["classes"].default,
            small=_SMALL_DOC[small], extra=args_doc.rstrip())
        fn.default_input_shape = tuple(default_input_shape)
        _REGISTRY[name] = fn
        return fn

    return wrap


def check_input(input_shape, default, min_size, model_name, small_input=None, small_min=None,
                resize_to=None):
    """Validate ``input_shape`` and decide whether the small-input variant is used.

    Returns ``(input_shape, small)``. ``small_input=None`` picks the small
    variant automatically for inputs under 64 pixels (when the family has one).
    ``resize_to`` (an int or (h, w)) instead resizes the input on the fly to the
    size the network was designed for.
    """
    if input_shape is None:
        input_shape = default
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or any(
        not isinstance(d, int) or isinstance(d, bool) or d < 1 for d in input_shape
    ):
        raise ValueError(
            f"`input_shape` must be (height, width, channels) with positive integers, "
            f"got {input_shape!r}.")
    h, w, _ = _size_after_resize(input_shape, resize_to)
    has_small = small_min is not None
    if small_input and not has_small:
        raise ValueError(f"`small_input=True` is not defined for {model_name}; "
                         "its input stem is already the small (CIFAR) one.")
    small = bool(small_input) if small_input is not None else (has_small and min(h, w) < 64)
    need = small_min if small else min_size
    if min(h, w) < need:
        hint = ""
        if has_small and not small:
            hint = f" or pass small_input=True (needs >= {small_min})"
        raise ValueError(
            f"`input_shape` {input_shape} is too small for {model_name}"
            f"{' (small-input variant)' if small else ''}: height and width must be at least "
            f"{need} (its total stride){hint}, or pass resize_to=... to resize on the fly.")
    return input_shape, small


def _size_after_resize(input_shape, resize_to):
    if resize_to is None:
        return input_shape
    if isinstance(resize_to, int):
        resize_to = (resize_to, resize_to)
    check_positive_int(resize_to[0], "resize_to")
    check_positive_int(resize_to[1], "resize_to")
    return (resize_to[0], resize_to[1], input_shape[2])


def make_input(input_shape, resize_to=None, input_tensor=None):
    """The ``keras.Input`` and the tensor the stem starts from (resized if asked)."""
    inputs = keras.Input(input_shape, name="input") if input_tensor is None else input_tensor
    x = inputs
    if resize_to is not None:
        h, w, _ = _size_after_resize(input_shape, resize_to)
        x = layers.Resizing(h, w, name="resize")(x)
    return inputs, x


def check_head(classes, include_top, pooling, classifier_activation):
    if include_top:
        check_positive_int(classes, "classes")
    check_choice(pooling, "pooling", (None, "avg", "max"))


def head(x, include_top, pooling, classes, classifier_activation, dropout=0.0, name="predictions"):
    """Global pooling + Dense classifier (when ``include_top``), or pooled features."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout:
            x = layers.Dropout(dropout, name="head_dropout")(x)
        return classifier(x, classes, classifier_activation, name)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def classifier(x, classes, classifier_activation, name="predictions"):
    """Dense logits, then the activation in float32 (safe under mixed precision)."""
    x = layers.Dense(classes, name=f"{name}_dense")(x)
    if classifier_activation is None:
        return layers.Activation("linear", dtype="float32", name=name)(x)
    return layers.Activation(classifier_activation, dtype="float32", name=name)(x)


def fc_head(x, include_top, pooling, classes, classifier_activation, units, dropout, dropout_after=False):
    """AlexNet/VGG head: Flatten, two Dense(units)+ReLU with Dropout, classifier.

    As torchvision: AlexNet drops out *before* each hidden FC layer (``dropout_after=False``:
    Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear); VGG *after* each
    (``dropout_after=True``: Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear).
    """
    if not include_top:
        return head(x, False, pooling, classes, classifier_activation)
    check_positive_int(units, "fc_units")
    x = layers.Flatten(name="flatten")(x)
    for i in (1, 2):
        if dropout and not dropout_after:
            x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
        x = layers.Dense(units, activation="relu", name=f"fc{i}")(x)
        if dropout and dropout_after:
            x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    return classifier(x, classes, classifier_activation)
