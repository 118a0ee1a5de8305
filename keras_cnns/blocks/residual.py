"""Residual blocks (He et al., 2015) and the grouped bottleneck of ResNeXt (Xie et al., 2017).

A residual block learns the residual F(x) and adds its input back:

    y = ReLU(F(x) + shortcut(x))

``shortcut`` is the identity when shapes agree; when the stride or the channel
count changes it is a 1x1 projection + BN ("option B" of the paper) or a
parameter-free subsample + zero-padding of the channels ("option A", used by
the paper's CIFAR ResNets). ``shortcut="none"`` drops it: the "plain" network
of the degradation experiment.
"""

import keras
from keras import layers, ops

from ._common import (BN_EPSILON, BN_MOMENTUM, KERNEL_INIT, batch_norm, block_name,
                      channels, check_choice, check_positive_int, conv_bn_act)

SHORTCUTS = ("auto", "identity", "projection", "zero_pad", "none")


@keras.saving.register_keras_serializable(package="keras_cnns")
class ChannelPad(layers.Layer):
    """Option-A shortcut: subsample by ``strides`` and zero-pad channels to ``filters``.

    Parameter-free. Padding is split evenly before/after, as in the common
    PyTorch port of the paper's CIFAR models.
    """

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.strides = int(strides)

    def call(self, x):
        if self.strides > 1:
            x = x[:, :: self.strides, :: self.strides, :]
        extra = self.filters - x.shape[-1]
        if extra > 0:
            x = ops.pad(x, [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])
        return x

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        s = self.strides
        h = None if h is None else (h + s - 1) // s
        w = None if w is None else (w + s - 1) // s
        return (b, h, w, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}


def _shortcut(x, filters, strides, shortcut, name):
    """The branch added to F(x); ``None`` for a plain block."""
    same_shape = strides == 1 and channels(x) == filters
    if shortcut == "none":
        return None
    if shortcut == "identity" or (shortcut == "auto" and same_shape):
        if not same_shape:
            raise ValueError(
                f"`shortcut='identity'` needs the input shape kept, but strides={strides} "
                f"and channels {channels(x)} -> {filters}; use shortcut='auto', "
                "'projection' or 'zero_pad'.")
        return x
    if shortcut == "zero_pad":
        if same_shape:
            return x
        if filters < channels(x):
            raise ValueError(
                f"`shortcut='zero_pad'` can only add channels ({channels(x)} -> {filters}); "
                "use shortcut='projection'.")
        return ChannelPad(filters, strides, name=f"{name}_0_pad")(x)
    # "projection", or "auto" with a shape change
    s = layers.Conv2D(filters, 1, strides=strides, use_bias=False,
                      kernel_initializer=KERNEL_INIT, name=f"{name}_0_conv")(x)
    return batch_norm(s, f"{name}_0_bn")


def _merge(x, residual, name):
    if residual is not None:
        x = layers.Add(name=f"{name}_add")([residual, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def residual_block(x, filters, kernel_size=3, strides=1, shortcut="auto", name=None):
    """The basic residual block: Conv-BN-ReLU-Conv-BN, add the shortcut, ReLU.

        y = ReLU(BN(W2 * ReLU(BN(W1 * x))) + shortcut(x))      (y = F(x) + x)

    Shape rules: the output has ``filters`` channels and the spatial size is
    divided by ``strides`` ("same" padding). The shortcut is the identity when
    ``strides == 1`` and the input already has ``filters`` channels; otherwise
    (``shortcut="auto"``) a 1x1 convolution with ``strides`` + BN projects it.

    Accepts the classic positional call ``residual_block(input_tensor, filters, kernel_size)``.

    Args:
        x: input tensor (channels last).
        filters: output channels (>= 1).
        kernel_size: size of both convolutions (default 3).
        strides: stride of the first convolution (and of the projection).
        shortcut: "auto" (identity if shapes agree, else projection), "identity",
            "projection" (always 1x1 conv + BN), "zero_pad" (paper's option A,
            parameter-free), or "none" (a *plain* block, no shortcut).
        name: layer-name prefix; layers are ``{name}_1_conv``, ``{name}_1_bn``,
            ``{name}_1_relu``, ``{name}_2_conv``, ``{name}_2_bn``, ``{name}_0_conv``
            (projection), ``{name}_add``, ``{name}_out``.

    Example:
        >>> import keras
        >>> from keras_cnns.blocks import residual_block
        >>> inputs = keras.Input((28, 28, 64))
        >>> y = residual_block(inputs, 64, 3)          # identity shortcut
        >>> tuple(y.shape)
        (None, 28, 28, 64)
        >>> tuple(residual_block(y, 128, strides=2).shape)   # projection shortcut
        (None, 14, 14, 128)
    """
    check_positive_int(filters, "filters")
    check_positive_int(strides, "strides")
    check_choice(shortcut, "shortcut", SHORTCUTS)
    name = block_name(name, "residual_block")
    residual = _shortcut(x, filters, strides, shortcut, name)
    y = conv_bn_act(x, filters, kernel_size, strides, name=f"{name}_1")
    y = conv_bn_act(y, filters, kernel_size, activation=None, name=f"{name}_2")
    return _merge(y, residual, name)


def bottleneck_block(x, filters, strides=1, groups=1, width_per_group=64, expansion=4,
                     width=None, shortcut="auto", name=None):
    """The bottleneck block: 1x1 reduce, 3x3 (grouped) conv, 1x1 expand, add, ReLU.

    ResNet-50/101/152 use ``groups=1``; ResNeXt is *the same block* with
    ``groups > 1`` (split-transform-merge = a grouped convolution). As in
    torchvision, the inner width is ``int(filters * width_per_group / 64) * groups``
    and the output has ``filters * expansion`` channels; the stride sits in the
    3x3 convolution (ResNet v1.5).

    Args:
        filters: "planes"; output channels are ``filters * expansion``.
        groups: cardinality C of ResNeXt (1 for ResNet).
        width_per_group: bottleneck width d per group (64 for ResNet).
        width: give the inner width directly instead (must be divisible by ``groups``).
        shortcut: as in :func:`residual_block`.

    Example:
        >>> import keras
        >>> from keras_cnns.blocks import bottleneck_block
        >>> x = keras.Input((56, 56, 256))
        >>> tuple(bottleneck_block(x, 64, groups=32, width_per_group=4).shape)  # ResNeXt 32x4d
        (None, 56, 56, 256)
    """
    for value, param in ((filters, "filters"), (strides, "strides"), (groups, "groups"),
                         (width_per_group, "width_per_group"), (expansion, "expansion")):
        check_positive_int(value, param)
    check_positive_int(width, "width", allow_none=True)
    check_choice(shortcut, "shortcut", SHORTCUTS)
    if width is None:
        width = int(filters * width_per_group / 64) * groups
        if width < groups:
            raise ValueError(
                f"`width_per_group`={width_per_group} gives an inner width of {width} for "
                f"filters={filters}, fewer than groups={groups}; raise width_per_group.")
    elif width % groups:
        raise ValueError(f"`groups` (cardinality) must divide the width: width={width} is not "
                         f"divisible by groups={groups}; valid groups divide {width}.")
    name = block_name(name, "bottleneck_block")
    out = filters * expansion
    residual = _shortcut(x, out, strides, shortcut, name)
    y = conv_bn_act(x, width, 1, name=f"{name}_1")
    y = conv_bn_act(y, width, 3, strides, groups=groups, name=f"{name}_2")
    y = conv_bn_act(y, out, 1, activation=None, name=f"{name}_3")
    return _merge(y, residual, name)


__all__ = ["residual_block", "bottleneck_block", "ChannelPad", "SHORTCUTS",
           "BN_MOMENTUM", "BN_EPSILON"]
