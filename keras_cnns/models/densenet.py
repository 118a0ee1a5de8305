"""DenseNet-121/169/201 (torchvision) and DenseNet-BC for CIFAR (Huang et al., 2017).

ImageNet: 7x7/2 conv (64) + BN + ReLU + 3x3/2 max pool, four dense blocks
(growth rate 32, bottleneck 4k) with transitions halving the channels, then
BN + ReLU + global average pooling + classifier.
DenseNet-BC for CIFAR: 3x3 conv to 2k channels, three dense blocks of
(depth - 4) / 6 bottleneck layers, compression 0.5.
"""

import keras
from keras import layers

from ..blocks._common import batch_norm, check_positive_int, conv_bn_act
from ..blocks.dense import dense_block, transition_block
from ._common import check_head, check_input, head, make_input, register

IMAGENET_BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}


def densenet(blocks, growth_rate=32, init_filters=64, compression=0.5, bottleneck=True,
             stem="imagenet", input_shape=None, classes=1000, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None,
             name="densenet"):
    """Generic DenseNet builder: ``blocks`` layers per dense block, transitions in between."""
    for n in blocks:
        check_positive_int(n, "blocks")
    check_positive_int(growth_rate, "growth_rate")
    check_positive_int(init_filters, "init_filters")
    check_head(classes, include_top, pooling, classifier_activation)
    total = 2 ** (len(blocks) - 1)
    if stem == "imagenet":
        input_shape, small = check_input(input_shape, (224, 224, 3), 4 * total, name,
                                         small_input, small_min=total, resize_to=resize_to)
    else:
        input_shape, small = check_input(input_shape, (32, 32, 3), total, name, small_input,
                                         resize_to=resize_to)
    inputs, x = make_input(input_shape, resize_to)
    if stem == "imagenet" and not small:
        x = conv_bn_act(x, init_filters, 7, 2, name="conv1")
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    else:
        x = layers.Conv2D(init_filters, 3, padding="same", use_bias=False,
                          kernel_initializer="he_normal", name="conv1_conv")(x)
    for i, n in enumerate(blocks, start=1):
        x = dense_block(x, n, growth_rate, bottleneck=bottleneck, name=f"conv{i + 1}")
        if i < len(blocks):
            x = transition_block(x, compression, name=f"pool{i + 1}")
    x = batch_norm(x, "bn")
    x = layers.Activation("relu", name="relu")(x)
    x = head(x, include_top, pooling, classes, classifier_activation)
    return keras.Model(inputs, x, name=name)


# The named builders pass their own arguments (``locals()``, their first statement) to
# :func:`densenet`. Counts at 224x224x3, 1000 classes: torchvision's table.

@register("densenet121")
def densenet121(input_shape=None, classes=1000, include_top=True, pooling=None,
                classifier_activation="softmax", small_input=None, resize_to=None):
    """DenseNet-121 from Huang et al., "Densely Connected Convolutional Networks" (2017), Table 1.

    Four dense blocks of (6, 12, 24, 16) bottleneck layers, growth rate 32, compression 0.5.
    7,978,856 parameters, 2.83 GMACs.
    """
    return densenet(IMAGENET_BLOCKS[121], name="densenet121", **locals())


@register("densenet169")
def densenet169(input_shape=None, classes=1000, include_top=True, pooling=None,
                classifier_activation="softmax", small_input=None, resize_to=None):
    """DenseNet-169 from Huang et al. (2017), Table 1.

    Dense blocks of (6, 12, 32, 32) layers, growth rate 32. 14,149,480 parameters.
    """
    return densenet(IMAGENET_BLOCKS[169], name="densenet169", **locals())


@register("densenet201")
def densenet201(input_shape=None, classes=1000, include_top=True, pooling=None,
                classifier_activation="softmax", small_input=None, resize_to=None):
    """DenseNet-201 from Huang et al. (2017), Table 1.

    Dense blocks of (6, 12, 48, 32) layers, growth rate 32. 20,013,928 parameters.
    """
    return densenet(IMAGENET_BLOCKS[201], name="densenet201", **locals())


def densenet_bc(depth=100, growth_rate=12, input_shape=None, classes=10, **kwargs):
    """DenseNet-BC for CIFAR: depth = 6n + 4 (100 -> 16 layers per block), compression 0.5."""
    if not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ValueError(f"`depth` must be 6n + 4 for DenseNet-BC (valid: 40, 100, 190, ...), "
                         f"got {depth!r}.")
    n = (depth - 4) // 6
    return densenet((n, n, n), growth_rate, 2 * growth_rate, 0.5, True, stem="cifar",
                    input_shape=input_shape, classes=classes,
                    name=f"densenet_bc_{depth}_{growth_rate}", **kwargs)


# DenseNet-BC for CIFAR (Huang et al. 2017, Sec. 4), 32x32x3, 10 classes.

@register("densenet_bc_100_12", (32, 32, 3))
def densenet_bc_100_12(input_shape=None, classes=10, include_top=True, pooling=None,
                       classifier_activation="softmax", small_input=None, resize_to=None):
    """DenseNet-BC (L=100, k=12) from Huang et al. (2017), Table 2: 3 dense blocks of 16 layers.

    769,162 parameters (the paper's Table 2: 0.8M).
    """
    return densenet_bc(100, 12, **locals())


@register("densenet_bc_40", (32, 32, 3))
def densenet_bc_40(input_shape=None, classes=10, include_top=True, pooling=None,
                   classifier_activation="softmax", small_input=None, resize_to=None):
    """DenseNet-BC (L=40, k=12): 3 dense blocks of 6 bottleneck layers, the family's entry in notebook 09.

    Not in the paper (its DenseNet-BC starts at L=100); 176,122 parameters.
    The Keras model is named ``densenet_bc_40_12``, as :func:`densenet_bc` names it.
    """
    return densenet_bc(40, 12, **locals())
