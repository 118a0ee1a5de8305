"""VGG-11/13/16/19 with and without BatchNorm (Simonyan & Zisserman, 2014; torchvision).

Five stages of 3x3 convolutions, each closed by 2x2 max pooling, then the
FC head (4096-4096-classes, dropout after each hidden layer as in torchvision). Configurations A, B, D, E of the paper.

Small inputs (under 64 px, automatically): the pools use "same" padding so a
28x28 image survives five halvings (28-14-7-4-2-1), and the hidden FC layers
default to 512 units, as in the usual CIFAR VGGs.
"""

import keras

from ..blocks.vgg import vgg_block
from ._common import check_head, check_input, fc_head, make_input, register

CONFIGS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
FILTERS = (64, 128, 256, 512, 512)


def vgg(depth, input_shape=None, classes=1000, include_top=True, pooling=None,
        classifier_activation="softmax", batch_norm=False, small_input=None, resize_to=None,
        fc_units=None, dropout=0.5):
    """Generic VGG builder; ``depth`` in (11, 13, 16, 19)."""
    if depth not in CONFIGS:
        raise ValueError(f"`depth` must be one of {sorted(CONFIGS)} for VGG, got {depth!r}.")
    check_head(classes, include_top, pooling, classifier_activation)
    name = f"vgg{depth}{'_bn' if batch_norm else ''}"
    input_shape, small = check_input(input_shape, (224, 224, 3), 32, name, small_input,
                                     small_min=16, resize_to=resize_to)
    inputs, x = make_input(input_shape, resize_to)
    for stage, (n, f) in enumerate(zip(CONFIGS[depth], FILTERS), start=1):
        x = vgg_block(x, n, f, batch_norm=batch_norm,
                      pool_padding="same" if small else "valid", name=f"block{stage}")
    units = fc_units or (512 if small else 4096)
    x = fc_head(x, include_top, pooling, classes, classifier_activation, units, dropout, dropout_after=True)
    return keras.Model(inputs, x, name=name)


# The named builders: each passes its own arguments (``locals()``, its first statement) to
# :func:`vgg`. Parameter counts at 224x224x3, 1000 classes: torchvision's table.
_ARGS = """
        fc_units: width of the two hidden FC layers (default 4096; 512 for small inputs).
        dropout: dropout rate after each hidden FC layer (0.5 in the paper; placed as torchvision and the
            released Caffe models place it, after fc6 and fc7; 0 disables)."""


@register("vgg11", args_doc=_ARGS)
def vgg11(input_shape=None, classes=1000, include_top=True, pooling=None,
          classifier_activation="softmax", small_input=None, resize_to=None, fc_units=None,
          dropout=0.5):
    """VGG-11 (configuration A) from Simonyan & Zisserman, "Very Deep Convolutional Networks" (2014).

    Eight 3x3 convolutions in five stages (1-1-2-2-2), then 4096-4096-classes.
    132,863,336 parameters.
    """
    return vgg(11, **locals())


@register("vgg13", args_doc=_ARGS)
def vgg13(input_shape=None, classes=1000, include_top=True, pooling=None,
          classifier_activation="softmax", small_input=None, resize_to=None, fc_units=None,
          dropout=0.5):
    """VGG-13 (configuration B) from Simonyan & Zisserman (2014).

    Ten 3x3 convolutions in five stages (2-2-2-2-2), then 4096-4096-classes.
    133,047,848 parameters.
    """
    return vgg(13, **locals())


@register("vgg16", args_doc=_ARGS)
def vgg16(input_shape=None, classes=1000, include_top=True, pooling=None,
          classifier_activation="softmax", small_input=None, resize_to=None, fc_units=None,
          dropout=0.5):
    """VGG-16 (configuration D) from Simonyan & Zisserman (2014).

    Thirteen 3x3 convolutions in five stages (2-2-3-3-3), then 4096-4096-classes.
    138,357,544 parameters and 15.47 GMACs.
    """
    return vgg(16, **locals())


@register("vgg19", args_doc=_ARGS)
def vgg19(input_shape=None, classes=1000, include_top=True, pooling=None,
          classifier_activation="softmax", small_input=None, resize_to=None, fc_units=None,
          dropout=0.5):
    """VGG-19 (configuration E) from Simonyan & Zisserman (2014).

    Sixteen 3x3 convolutions in five stages (2-2-4-4-4), then 4096-4096-classes.
    143,667,240 parameters.
    """
    return vgg(19, **locals())


@register("vgg11_bn", args_doc=_ARGS)
def vgg11_bn(input_shape=None, classes=1000, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None, fc_units=None,
             dropout=0.5):
    """VGG-11 with BatchNormalization after every convolution (Ioffe & Szegedy, 2015; torchvision).

    132,868,840 parameters.
    """
    return vgg(11, batch_norm=True, **locals())


@register("vgg13_bn", args_doc=_ARGS)
def vgg13_bn(input_shape=None, classes=1000, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None, fc_units=None,
             dropout=0.5):
    """VGG-13 with BatchNormalization after every convolution (torchvision).

    133,053,736 parameters.
    """
    return vgg(13, batch_norm=True, **locals())


@register("vgg16_bn", args_doc=_ARGS)
def vgg16_bn(input_shape=None, classes=1000, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None, fc_units=None,
             dropout=0.5):
    """VGG-16 with BatchNormalization after every convolution (torchvision).

    138,365,992 parameters.
    """
    return vgg(16, batch_norm=True, **locals())


@register("vgg19_bn", args_doc=_ARGS)
def vgg19_bn(input_shape=None, classes=1000, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None, fc_units=None,
             dropout=0.5):
    """VGG-19 with BatchNormalization after every convolution (torchvision).

    143,678,248 parameters.
    """
    return vgg(19, batch_norm=True, **locals())
