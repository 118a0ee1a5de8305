"""What a trained CNN looks at: feature maps and Grad-CAM (Selvaraju et al., 2017).

Grad-CAM, for a class ``c`` and the feature maps ``A^k`` (``k = 1..K``, each ``H x W``) of a
convolutional layer::

    alpha_k^c = 1/(H W) * sum_ij  d y^c / d A^k_ij        (global-average-pooled gradients)
    L^c       = ReLU( sum_k alpha_k^c A^k )                (an H x W map, then scaled to [0, 1])

``y^c`` is the class *score* before the softmax (Selvaraju et al. Sec. 3). Notebook 10 builds the
same computation step by step with ``tf.GradientTape`` and checks it against :func:`grad_cam`.

>>> maps = grad_cam(model, images)                  # (N, H, W) in [0, 1], for the predicted classes
>>> maps = grad_cam(model, images, class_index=3)   # for class 3 ("cat" in CIFAR-10)
"""

from __future__ import annotations

import numpy as np


def last_conv_output_layer(model) -> str:
    """Name of the last layer whose output is a 4-D feature map (``N, H, W, C``) before global pooling."""
    import keras

    name = None
    for layer in model.layers:
        if isinstance(layer, (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D,
                              keras.layers.Flatten)):
            break
        if len(getattr(layer, "output").shape) == 4:
            name = layer.name
    if name is None:
        raise ValueError(f"model {model.name!r} has no 4-D feature map before its head; pass layer=...")
    return name


def score_layer(model) -> str:
    """The layer giving the class scores before the softmax (``predictions_dense`` in this package)."""
    import keras

    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if isinstance(last, keras.layers.Activation) and "softmax" in activation:
        return model.layers[-2].name  # the package's head: Dense logits, then Activation("softmax")
    if isinstance(last, keras.layers.Dense) and "softmax" not in activation:
        return last.name
    raise ValueError(f"cannot find the pre-softmax scores of {model.name!r}: its last layer is "
                     f"{type(last).__name__}; expected Dense logits (+ a softmax Activation)")


def feature_model(model, layer_names):
    """A ``keras.Model`` from the model's input to the outputs of ``layer_names`` (a list)."""
    import keras

    missing = [n for n in layer_names if n not in {layer.name for layer in model.layers}]
    if missing:
        raise ValueError(f"layer_names: {missing} are not layers of {model.name!r}")
    return keras.Model(model.inputs, [model.get_layer(n).output for n in layer_names])


def grad_cam(model, images, class_index=None, layer: str | None = None, upsample: bool = True) -> np.ndarray:
    """Grad-CAM heat maps for ``images`` (raw pixels, as the model takes them).

    Args:
        model: a functional classifier (e.g. ``models.build("resnet20", weights="cifar10")``).
        images: ``(N, H, W, C)`` or one ``(H, W, C)`` image.
        class_index: the class ``c`` to explain: ``None`` (each image's predicted class), an int, or one
            int per image.
        layer: the convolutional layer ``A`` (default: the last 4-D feature map before the head).
        upsample: resize the maps bilinearly to the input's ``H x W`` (else the layer's own size).

    Returns:
        ``(N, h, w)`` float32 maps, each scaled so its maximum is 1 (all zeros if the ReLU removed
        everything), so that maps of different images share one colour scale.
    """
    import tensorflow as tf

    x = np.asarray(images)
    single = x.ndim == 3
    if single:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C) or (H, W, C); got shape {np.shape(images)}")
    layer = layer or last_conv_output_layer(model)
    inner = feature_model(model, [layer, score_layer(model)])
    x = tf.convert_to_tensor(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)  # in case the explained layer is the input itself
        features, scores = inner(x, training=False)
        if class_index is None:
            target = tf.argmax(scores, axis=-1)
        else:
            target = tf.broadcast_to(tf.constant(class_index, tf.int64), [tf.shape(scores)[0]])
        score = tf.gather(scores, target, axis=1, batch_dims=1)
    grads = tape.gradient(score, features)                      # d y^c / d A^k_ij
    alpha = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)   # alpha_k^c
    cam = tf.nn.relu(tf.reduce_sum(alpha * features, axis=-1))  # ReLU(sum_k alpha_k^c A^k)
    if upsample:
        cam = tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear")[..., 0]
    peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
    cam = tf.math.divide_no_nan(cam, peak).numpy().astype(np.float32)
    return cam[0] if single else cam
