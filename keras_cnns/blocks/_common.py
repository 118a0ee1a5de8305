"""Shared defaults, validation and the Conv-BN-activation unit used by every block.

Defaults chosen for the whole package (documented in the README):

* ``BN_MOMENTUM = 0.9``: Keras' own default (0.99) makes the moving statistics
  trail far behind after a few hundred steps, so short CPU runs evaluate near
  chance. 0.9 is PyTorch's default (``momentum=0.1`` there, defined the other way round).
* ``BN_EPSILON = 1e-5``: the value of the papers' Torch/Caffe code and torchvision.
* ``KERNEL_INIT = "he_normal"``: He et al. (2015) initialisation for ReLU networks.
"""

import numbers

import keras
from keras import layers, ops

from .._backend import grouped_conv_gradient_is_slow

BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5
KERNEL_INIT = "he_normal"


@keras.saving.register_keras_serializable(package="keras_cnns")
class GroupedConv2D(layers.Conv2D):
    """``Conv2D(groups=G)`` that can compute its groups as G ordinary convolutions.

    The kernel, the weights and the outputs are exactly those of
    ``keras.layers.Conv2D(..., groups=G)`` (it *is* a ``Conv2D``); only the
    computation differs. With ``split=True`` the input channels and the kernel
    are cut into G slices, each slice is convolved on its own and the results are
    concatenated -- the 3x3 step of form (b) of ResNeXt's Fig. 3 (Xie et al., 2017).
    TensorFlow's CPU kernels compute the *gradient* of a fused grouped convolution
    about 60-120x slower than this split form (notebook 08 measures one 32-group
    3x3 conv; the README lists the runs), which makes ResNeXt untrainable on a CPU;
    on a GPU (cuDNN) or the JAX/PyTorch backends the fused kernel is the right one.

    Args:
        split: ``"auto"`` (default: split on TensorFlow without a GPU), ``True`` or ``False``.
        Other arguments: as ``keras.layers.Conv2D``.
    """

    def __init__(self, *args, split="auto", **kwargs):
        super().__init__(*args, **kwargs)
        if split not in ("auto", True, False):
            raise ValueError(f"`split` must be 'auto', True or False; got {split!r}.")
        self.split = split

    def convolution_op(self, inputs, kernel):
        split = grouped_conv_gradient_is_slow() if self.split == "auto" else self.split
        if self.groups == 1 or not split:
            return super().convolution_op(inputs, kernel)
        axis = -1 if self.data_format == "channels_last" else 1
        outputs = [
            ops.conv(x, k, strides=list(self.strides), padding=self.padding,
                     dilation_rate=self.dilation_rate, data_format=self.data_format)
            for x, k in zip(ops.split(inputs, self.groups, axis=axis), ops.split(kernel, self.groups, axis=-1))
        ]
        return ops.concatenate(outputs, axis=axis)

    def get_config(self):
        return {**super().get_config(), "split": self.split}


def check_positive_int(value, param, allow_none=False):
    """Raise ``ValueError`` naming ``param`` unless ``value`` is an int >= 1."""
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{param}` must be a positive integer (>= 1), got {value!r}.")


def check_choice(value, param, choices):
    """Raise ``ValueError`` naming ``param`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{param}` must be one of {valid}; got {value!r}.")


def block_name(name, prefix):
    """Return ``name`` or a fresh unique prefix such as ``residual_block_3``."""
    if name is not None:
        return name
    return f"{prefix}_{keras.backend.get_uid(prefix)}"


def channels(x):
    """Number of channels of a channels-last tensor."""
    return int(x.shape[-1])


def batch_norm(x, name, momentum=BN_MOMENTUM, epsilon=BN_EPSILON):
    """BatchNormalization over the channel axis with the package defaults."""
    return layers.BatchNormalization(
        axis=-1, momentum=momentum, epsilon=epsilon, name=name
    )(x)


def conv_bn_act(
    x,
    filters,
    kernel_size=3,
    strides=1,
    padding="same",
    groups=1,
    activation="relu",
    batch_norm_=True,
    use_bias=None,
    name=None,
    kernel_initializer=KERNEL_INIT,
):
    """Conv2D -> BatchNormalization -> activation, the unit of every modern CNN.

    Layers are named ``{name}_conv``, ``{name}_bn`` and ``{name}_{activation}``.
    The convolution has no bias when BatchNormalization follows (BN's beta
    does the job), as in torchvision.

    Args:
        x: input tensor (channels last).
        filters: number of output channels (>= 1).
        kernel_size, strides, padding, groups: as in ``keras.layers.Conv2D``.
        activation: activation name, or ``None`` for none.
        batch_norm_: whether to insert BatchNormalization.
        use_bias: default ``not batch_norm_``.
        name: layer-name prefix (a unique one is made when ``None``).

    Example:
        >>> import keras
        >>> from keras_cnns.blocks import conv_bn_act
        >>> y = conv_bn_act(keras.Input((32, 32, 3)), 16, name="stem")
        >>> tuple(y.shape)
        (None, 32, 32, 16)
    """
    check_positive_int(filters, "filters")
    check_positive_int(groups, "groups")
    name = block_name(name, "conv_bn_act")
    if use_bias is None:
        use_bias = not batch_norm_
    conv = layers.Conv2D if groups == 1 else GroupedConv2D   # same weights; see GroupedConv2D
    x = conv(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        groups=groups,
        use_bias=use_bias,
        kernel_initializer=kernel_initializer,
        name=f"{name}_conv",
    )(x)
    if batch_norm_:
        x = batch_norm(x, f"{name}_bn")
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_{activation}")(x)
    return x
