"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012), in torchvision's single-GPU form.

torchvision (like most frameworks) follows Krizhevsky's "one weird trick" (2014)
variant: 64-192-384-256-256 channels instead of the paper's 96-256-384-384-256
split over two GPUs. 61,100,840 parameters at 224x224x3, 1000 classes.

Small inputs (28x28 MNIST, 32x32 CIFAR; chosen automatically under 64 px):
the 11x11/4 stem would shrink the image to nothing, so every conv becomes 3x3
stride 1 and the three 3x3/2 max pools become 2x2/2 -- same channels, same head.
"""

import keras
from keras import layers

from ..blocks._common import conv_bn_act
from ._common import check_head, check_input, fc_head, make_input, register


@register("alexnet", args_doc="""
        fc_units: width of the two hidden fully connected layers (4096 in the paper).
        dropout: dropout rate before each hidden FC layer (0.5 in the paper; 0 disables).
        batch_norm: add BatchNormalization after each conv (not in the paper).""")
def alexnet(input_shape=None, classes=1000, include_top=True, pooling=None,
            classifier_activation="softmax", small_input=None, resize_to=None,
            fc_units=4096, dropout=0.5, batch_norm=False):
    """AlexNet from "ImageNet Classification with Deep Convolutional Neural Networks" (2012).

    Five convolutions (64-192-384-256-256, torchvision's single-GPU form) with
    three max pools, then two 4096-unit fully connected layers with dropout.
    61,100,840 parameters and 0.71 GMACs at 224x224x3 with 1000 classes
    (torchvision's table). Under 64 px the small-input variant is used (module docstring).
    """
    check_head(classes, include_top, pooling, classifier_activation)
    input_shape, small = check_input(input_shape, (224, 224, 3), 63, "alexnet",
                                     small_input, small_min=8, resize_to=resize_to)
    inputs, x = make_input(input_shape, resize_to)
    bn = dict(batch_norm_=batch_norm, use_bias=True)
    if small:
        pool = dict(pool_size=2, strides=2)
        x = conv_bn_act(x, 64, 3, name="conv1", **bn)
    else:
        pool = dict(pool_size=3, strides=2)
        x = layers.ZeroPadding2D(2, name="conv1_pad")(x)
        x = conv_bn_act(x, 64, 11, 4, padding="valid", name="conv1", **bn)
    x = layers.MaxPooling2D(**pool, name="pool1")(x)
    x = conv_bn_act(x, 192, 3 if small else 5, name="conv2", **bn)
    x = layers.MaxPooling2D(**pool, name="pool2")(x)
    x = conv_bn_act(x, 384, 3, name="conv3", **bn)
    x = conv_bn_act(x, 256, 3, name="conv4", **bn)
    x = conv_bn_act(x, 256, 3, name="conv5", **bn)
    x = layers.MaxPooling2D(**pool, name="pool5")(x)
    x = fc_head(x, include_top, pooling, classes, classifier_activation, fc_units, dropout)
    return keras.Model(inputs, x, name="alexnet")
