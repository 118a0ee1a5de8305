"""Network-in-Network block (Lin, Chen & Yan, 2013)."""

from ._common import block_name, check_positive_int, conv_bn_act


def nin_block(x, filters, kernel_size, strides=1, padding="same", mlp_filters=None,
              batch_norm=False, name=None):
    """A spatial convolution followed by two 1x1 convolutions ("mlpconv").

    A 1x1 convolution is a fully connected layer applied at every pixel:
    y[i, j, :] = W x[i, j, :] + b. Stacking two of them after a normal
    convolution puts a small MLP in each receptive field.

    Args:
        filters: channels of the spatial conv (and of the 1x1 convs by default).
        mlp_filters: pair of channels for the two 1x1 convs (the paper's CIFAR
            model uses e.g. (160, 96)); default ``(filters, filters)``.

    Layers: ``{name}_conv``, ``{name}_mlp1``, ``{name}_mlp2`` prefixes, each followed by
    ``_conv``, ``_bn`` (with BatchNorm) and ``_relu`` (e.g. ``block1_mlp1_conv``).

    Example:
        >>> import keras
        >>> from keras_cnns.blocks import nin_block
        >>> tuple(nin_block(keras.Input((32, 32, 3)), 96, 5).shape)
        (None, 32, 32, 96)
    """
    check_positive_int(filters, "filters")
    name = block_name(name, "nin_block")
    m1, m2 = mlp_filters if mlp_filters is not None else (filters, filters)
    check_positive_int(m1, "mlp_filters[0]")
    check_positive_int(m2, "mlp_filters[1]")
    x = conv_bn_act(x, filters, kernel_size, strides, padding, batch_norm_=batch_norm,
                    name=f"{name}_conv")
    x = conv_bn_act(x, m1, 1, batch_norm_=batch_norm, name=f"{name}_mlp1")
    return conv_bn_act(x, m2, 1, batch_norm_=batch_norm, name=f"{name}_mlp2")
