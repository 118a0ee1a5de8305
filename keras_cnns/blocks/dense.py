"""DenseNet blocks (Huang et al., 2017).

Layer l of a dense block sees the concatenation of all earlier feature maps:

    x_l = H_l([x_0, x_1, ..., x_{l-1}])

so a block of L layers with growth rate k turns C channels into C + L*k.
"""

from keras import layers

from ._common import batch_norm, block_name, channels, check_positive_int, KERNEL_INIT


def _bn_relu_conv(x, filters, kernel_size, name):
    x = batch_norm(x, f"{name}_bn")
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    return layers.Conv2D(filters, kernel_size, padding="same", use_bias=False,
                         kernel_initializer=KERNEL_INIT, name=f"{name}_conv")(x)


def dense_layer(x, growth_rate, bottleneck=True, bn_size=4, name=None):
    """One composite function H_l: (BN-ReLU-1x1 conv to ``bn_size*k``) if bottleneck, BN-ReLU-3x3 conv to k."""
    name = block_name(name, "dense_layer")
    y = x
    if bottleneck:
        y = _bn_relu_conv(y, bn_size * growth_rate, 1, f"{name}_1")
    y = _bn_relu_conv(y, growth_rate, 3, f"{name}_2")
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([x, y])


def dense_block(x, num_layers, growth_rate, bottleneck=True, bn_size=4, name=None):
    """``num_layers`` dense layers; output channels = input channels + num_layers * growth_rate.

    ``bottleneck=True`` is DenseNet-B (a 1x1 conv to ``bn_size * growth_rate`` first).

    Example:
        >>> import keras
        >>> from keras_cnns.blocks import dense_block
        >>> tuple(dense_block(keras.Input((8, 8, 24)), 4, 12).shape)   # 24 + 4*12
        (None, 8, 8, 72)
    """
    check_positive_int(num_layers, "num_layers")
    check_positive_int(growth_rate, "growth_rate")
    check_positive_int(bn_size, "bn_size")
    name = block_name(name, "dense_block")
    for i in range(1, num_layers + 1):
        x = dense_layer(x, growth_rate, bottleneck, bn_size, name=f"{name}_layer{i}")
    return x


def transition_block(x, compression=0.5, name=None):
    """BN-ReLU-1x1 conv to ``floor(compression * C)`` channels, then 2x2 average pooling.

    ``compression < 1`` is DenseNet-C (BC with the bottleneck); it must be in (0, 1].
    """
    if not 0 < compression <= 1:
        raise ValueError(f"`compression` must be in (0, 1], got {compression!r}.")
    name = block_name(name, "transition")
    x = _bn_relu_conv(x, int(channels(x) * compression), 1, name)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)
