"""VGG block (Simonyan & Zisserman, 2014): ``num_convs`` 3x3 convolutions, then 2x2 max pooling."""

from keras import layers

from ._common import block_name, check_positive_int, conv_bn_act


def vgg_block(x, num_convs, filters, batch_norm=False, pool_padding="valid", name=None):
    """``num_convs`` x (3x3 conv, ReLU) then a 2x2/2 max pool.

    Two stacked 3x3 convolutions see a 5x5 window with 2 * 9 * C^2 weights instead
    of 25 * C^2. With ``batch_norm=True`` a BatchNormalization follows each
    convolution; the conv keeps its bias, exactly as torchvision's ``vgg*_bn``.

    Layers are named ``{name}_conv{i}``, ``{name}_conv{i}_bn``, ``{name}_conv{i}_relu``, ``{name}_pool``.

    Example:
        >>> import keras
        >>> from keras_cnns.blocks import vgg_block
        >>> tuple(vgg_block(keras.Input((32, 32, 3)), 2, 64).shape)
        (None, 16, 16, 64)
    """
    check_positive_int(num_convs, "num_convs")
    check_positive_int(filters, "filters")
    name = block_name(name, "vgg_block")
    for i in range(1, num_convs + 1):
        x = conv_bn_act(
            x, filters, 3, batch_norm_=batch_norm, use_bias=True, name=f"{name}_conv{i}"
        )
    return layers.MaxPooling2D(2, strides=2, padding=pool_padding, name=f"{name}_pool")(x)
