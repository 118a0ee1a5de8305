"""Functional-API building blocks, each ``f(x, ...) -> tensor`` with named layers.

=================  ==========================================  =====================
block              architecture                                 module
=================  ==========================================  =====================
conv_bn_act        every modern CNN                            ``_common``
vgg_block          VGG (2014)                                   ``vgg``
nin_block          Network in Network (2013)                    ``nin``
inception_block    GoogLeNet (2014)                             ``inception``
residual_block     ResNet-18/34, CIFAR ResNets, plain nets      ``residual``
bottleneck_block   ResNet-50/101/152, ResNeXt (groups > 1)      ``residual``
dense_block,       DenseNet (2017)                              ``dense``
transition_block
=================  ==========================================  =====================
"""

from ._common import BN_EPSILON, BN_MOMENTUM, KERNEL_INIT, GroupedConv2D, conv_bn_act
from .dense import dense_block, dense_layer, transition_block
from .inception import inception_block
from .nin import nin_block
from .residual import SHORTCUTS, ChannelPad, bottleneck_block, residual_block
from .vgg import vgg_block

__all__ = [
    "BN_EPSILON", "BN_MOMENTUM", "KERNEL_INIT", "SHORTCUTS", "ChannelPad", "GroupedConv2D",
    "bottleneck_block", "conv_bn_act", "dense_block", "dense_layer",
    "inception_block", "nin_block", "residual_block", "transition_block", "vgg_block",
]
