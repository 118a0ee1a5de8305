"""GoogLeNet / Inception v1 (Szegedy et al., 2014), with BatchNorm as in torchvision.

Stem 7x7/2 conv, 3x3/2 pool, 1x1 and 3x3 convs, 3x3/2 pool; nine Inception
blocks (3a-3b, 4a-4e, 5a-5b) with pools between; global average pooling,
dropout, classifier. No auxiliary classifiers: torchvision builds them by default
(``aux_logits=True`` unless pretrained weights are loaded) and uses them only in training;
its 6,624,904 parameters are counted without them.

``kernel_5x5=3`` reproduces torchvision's count (6,624,904), whose "5x5" branch
is a 3x3 conv; the default 5 is the paper's.
Small inputs (under 64 px): a 3x3 stride-1 stem (64, 64, 192) and one pool before 3a.
"""

import keras
from keras import layers

from ..blocks._common import conv_bn_act
from ..blocks.inception import inception_block
from ._common import check_head, check_input, head, make_input, register

# (c1, (c2 reduce, c2), (c3 reduce, c3), c4) per block, from Table 1 of the paper.
BLOCKS = {
    "3a": (64, (96, 128), (16, 32), 32), "3b": (128, (128, 192), (32, 96), 64),
    "4a": (192, (96, 208), (16, 48), 64), "4b": (160, (112, 224), (24, 64), 64),
    "4c": (128, (128, 256), (24, 64), 64), "4d": (112, (144, 288), (32, 64), 64),
    "4e": (256, (160, 320), (32, 128), 128),
    "5a": (256, (160, 320), (32, 128), 128), "5b": (384, (192, 384), (48, 128), 128),
}


@register("googlenet", args_doc="""
        kernel_5x5: kernel of the "5x5" branch: 5 (the paper) or 3 (torchvision's weights).
        batch_norm: BatchNormalization after each conv (torchvision; not in the paper).
        dropout: dropout rate before the classifier (0.2 as torchvision; the paper: 0.4).""")
def googlenet(input_shape=None, classes=1000, include_top=True, pooling=None,
              classifier_activation="softmax", small_input=None, resize_to=None,
              kernel_5x5=5, batch_norm=True, dropout=0.2):
    """GoogLeNet (Inception v1) from Szegedy et al., "Going Deeper with Convolutions" (2014).

    A stem of three convolutions, nine Inception blocks (parallel 1x1, 3x3, 5x5 and
    pool branches, Table 1 of the paper), global average pooling, dropout and the
    classifier; no auxiliary classifiers. 7,005,832 parameters with 1000 classes;
    with ``kernel_5x5=3``, torchvision's 6,624,904 parameters and 1.5 GMACs.
    """
    check_head(classes, include_top, pooling, classifier_activation)
    input_shape, small = check_input(input_shape, (224, 224, 3), 32, "googlenet", small_input,
                                     small_min=8, resize_to=resize_to)
    inputs, x = make_input(input_shape, resize_to)
    bn = dict(batch_norm_=batch_norm)
    if small:
        x = conv_bn_act(x, 64, 3, name="stem1", **bn)
    else:
        x = conv_bn_act(x, 64, 7, 2, name="stem1", **bn)
        x = layers.MaxPooling2D(3, 2, padding="same", name="stem1_pool")(x)
    x = conv_bn_act(x, 64, 1, name="stem2", **bn)
    x = conv_bn_act(x, 192, 3, name="stem3", **bn)
    x = layers.MaxPooling2D(3, 2, padding="same", name="stem3_pool")(x)
    for block, spec in BLOCKS.items():
        if block in ("4a", "5a"):
            x = layers.MaxPooling2D(3, 2, padding="same", name=f"pool{block[0]}")(x)
        x = inception_block(x, *spec, batch_norm=batch_norm, kernel_5x5=kernel_5x5,
                            name=f"inception{block}")
    x = head(x, include_top, pooling, classes, classifier_activation, dropout=dropout)
    return keras.Model(inputs, x, name="googlenet")
