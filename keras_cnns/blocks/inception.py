"""Inception block of GoogLeNet (Szegedy et al., 2014)."""

from keras import layers

from ._common import block_name, check_positive_int, conv_bn_act


def inception_block(x, c1, c2, c3, c4, batch_norm=True, kernel_5x5=5, name=None):
    """Four parallel branches concatenated along channels.

    * branch 1: 1x1 conv, ``c1`` channels;
    * branch 2: 1x1 conv to ``c2[0]`` channels, then 3x3 conv to ``c2[1]``;
    * branch 3: 1x1 conv to ``c3[0]`` channels, then 5x5 conv to ``c3[1]``;
    * branch 4: 3x3/1 max pool, then 1x1 conv to ``c4`` channels.

    Output channels: ``c1 + c2[1] + c3[1] + c4``; the spatial size is kept.

    ``kernel_5x5=3`` reproduces torchvision's GoogLeNet, which (for weight
    compatibility) uses a 3x3 kernel in the "5x5" branch. ``batch_norm=True``
    follows torchvision (convs without bias + BN); the 2014 paper had no BN.

    Example:
        >>> import keras
        >>> from keras_cnns.blocks import inception_block
        >>> y = inception_block(keras.Input((28, 28, 192)), 64, (96, 128), (16, 32), 32)
        >>> tuple(y.shape)   # 64 + 128 + 32 + 32 = 256 channels
        (None, 28, 28, 256)
    """
    for value, param in ((c1, "c1"), (c2[0], "c2[0]"), (c2[1], "c2[1]"),
                         (c3[0], "c3[0]"), (c3[1], "c3[1]"), (c4, "c4")):
        check_positive_int(value, param)
    name = block_name(name, "inception")
    bn = dict(batch_norm_=batch_norm)
    b1 = conv_bn_act(x, c1, 1, name=f"{name}_b1_1x1", **bn)
    b2 = conv_bn_act(x, c2[0], 1, name=f"{name}_b2_1x1", **bn)
    b2 = conv_bn_act(b2, c2[1], 3, name=f"{name}_b2_3x3", **bn)
    b3 = conv_bn_act(x, c3[0], 1, name=f"{name}_b3_1x1", **bn)
    b3 = conv_bn_act(b3, c3[1], kernel_5x5, name=f"{name}_b3_5x5", **bn)
    b4 = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_b4_pool")(x)
    b4 = conv_bn_act(b4, c4, 1, name=f"{name}_b4_1x1", **bn)
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([b1, b2, b3, b4])
