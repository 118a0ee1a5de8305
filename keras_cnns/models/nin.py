"""Network in Network (Lin, Chen & Yan, 2013).

ImageNet form (the authors' Caffe model, also d2l's): mlpconv blocks
96-11x11/4, 256-5x5, 384-3x3, then a last block with ``classes`` channels and
global average pooling instead of fully connected layers.

Small inputs (under 64 px): the authors' released CIFAR-10 configuration -- 192-5x5 (160, 96),
192-5x5 (192, 192), 192-3x3 (192, classes) -- with 3x3/2 pooling and dropout 0.5.
"""

import keras
from keras import layers

from ..blocks.nin import nin_block
from ._common import check_head, check_input, make_input, register


@register("nin", args_doc="""
        dropout: dropout rate after the pools of the last stages (0.5, as the authors).
        batch_norm: add BatchNormalization after each conv (not in the paper).""")
def nin(input_shape=None, classes=1000, include_top=True, pooling=None,
        classifier_activation="softmax", small_input=None, resize_to=None,
        dropout=0.5, batch_norm=False):
    """Network in Network from Lin, Chen & Yan, "Network In Network" (2013).

    mlpconv blocks (a conv followed by two 1x1 convs) with max pools; the classifier
    *is* the last mlpconv block (``classes`` maps) + global average pooling, no
    fully connected layer. The paper publishes no total; the ImageNet form has
    7,595,176 parameters with 1000 classes (worked out from its layer table in
    ``tests/test_models.py``). Under 64 px: the authors' CIFAR-10 configuration.
    """
    check_head(classes, include_top, pooling, classifier_activation)
    input_shape, small = check_input(input_shape, (224, 224, 3), 63, "nin", small_input,
                                     small_min=4, resize_to=resize_to)
    inputs, x = make_input(input_shape, resize_to)
    bn = dict(batch_norm=batch_norm)
    if small:
        x = nin_block(x, 192, 5, mlp_filters=(160, 96), name="block1", **bn)
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
        x = layers.Dropout(dropout, name="drop1")(x)
        x = nin_block(x, 192, 5, name="block2", **bn)
        x = layers.AveragePooling2D(3, 2, padding="same", name="pool2")(x)
        x = layers.Dropout(dropout, name="drop2")(x)
        last = dict(filters=192, kernel_size=3, mlp_filters=(192, classes))
    else:
        x = nin_block(x, 96, 11, 4, padding="valid", name="block1", **bn)
        x = layers.MaxPooling2D(3, 2, name="pool1")(x)
        x = nin_block(x, 256, 5, name="block2", **bn)
        x = layers.MaxPooling2D(3, 2, name="pool2")(x)
        x = nin_block(x, 384, 3, name="block3", **bn)
        x = layers.MaxPooling2D(3, 2, name="pool3")(x)
        x = layers.Dropout(dropout, name="drop3")(x)
        last = dict(filters=1024, kernel_size=3, mlp_filters=(1024, classes))
    if include_top:
        x = nin_block(x, name="block_out", **last, **bn)
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        act = classifier_activation or "linear"
        x = layers.Activation(act, dtype="float32", name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return keras.Model(inputs, x, name="nin")
