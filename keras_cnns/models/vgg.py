"""VGG-11/13/16/19 with and without BatchNorm (Simonyan & Zisserman, 2014; torchvision).

Five stages of 3x3 convolutions, each closed by 2x2 max pooling, then the
AlexNet-style head (4096-4096-classes). Configurations A, B, D, E of the paper.

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
    x = fc_head(x, include_top, pooling, classes, classifier_activation, units, dropout)
    return keras.Model(inputs, x, name=name)


def _wrapper(depth, batch_norm):
    name = f"vgg{depth}{'_bn' if batch_norm else ''}"

    def build(input_shape=None, classes=1000, **kwargs):
        return vgg(depth, input_shape, classes, batch_norm=batch_norm, **kwargs)

    build.__name__ = name
    build.__doc__ = f"VGG-{depth}{' with BatchNorm' if batch_norm else ''}; see :func:`vgg`."
    return register(name)(build)


vgg11, vgg13, vgg16, vgg19 = (_wrapper(d, False) for d in (11, 13, 16, 19))
vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn = (_wrapper(d, True) for d in (11, 13, 16, 19))
