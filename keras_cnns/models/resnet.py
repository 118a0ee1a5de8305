"""ResNet (He et al., 2015), its CIFAR family and plain twins, and ResNeXt (Xie et al., 2017).

One generic builder, :func:`resnet`, stacks stages of :func:`residual_block`
(basic) or :func:`bottleneck_block`; ResNeXt is the bottleneck with ``groups``
and ``width_per_group`` (as in torchvision), not a copy. Layers are named
``conv{stage}_block{b}_{op}`` as in ``keras.applications``.

* ImageNet stem: 7x7/2 conv (64) + BN + ReLU + 3x3/2 max pool; stages of
  64-128-256-512 planes with strides 1-2-2-2; total stride 32.
  Small inputs (under 64 px, automatically): the usual CIFAR adaptation, a
  3x3/1 conv stem and no max pool (total stride 8).
* CIFAR stem (He et al. Sec. 4.2): 3x3 conv (16) and three stages of n blocks
  with 16-32-64 filters: depth = 6n + 2. Shortcuts default to the paper's
  option A (zero padding, parameter-free); ``shortcut="projection"`` is option B.
* ResNeXt-29 (Xie et al. Sec. 5.3): 3x3 conv (64) and three stages of three
  bottlenecks with 256-512-1024 output channels, cardinality C, width d.
"""

import keras
from keras import layers

from ..blocks._common import check_choice, check_positive_int, conv_bn_act
from ..blocks.residual import bottleneck_block, residual_block
from ._common import check_head, check_input, head, make_input, register

IMAGENET_DEPTHS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)),
                   50: ("bottleneck", (3, 4, 6, 3)), 101: ("bottleneck", (3, 4, 23, 3)),
                   152: ("bottleneck", (3, 8, 36, 3))}


def stack(x, block, planes, num_blocks, strides, stage, groups=1, width_per_group=64,
          shortcut="auto"):
    """One stage: ``num_blocks`` blocks, the first with ``strides``; names ``conv{stage}_block{b}``."""
    for b in range(1, num_blocks + 1):
        s = strides if b == 1 else 1
        name = f"conv{stage}_block{b}"
        if block == "basic":
            x = residual_block(x, planes, 3, s, shortcut=shortcut, name=name)
        else:
            x = bottleneck_block(x, planes, s, groups, width_per_group, shortcut=shortcut,
                                 name=name)
    return x


def resnet(block, layers_per_stage, planes=(64, 128, 256, 512), stem="imagenet",
           input_shape=None, classes=1000, include_top=True, pooling=None,
           classifier_activation="softmax", groups=1, width_per_group=64, shortcut="auto",
           small_input=None, resize_to=None, name="resnet"):
    """Generic ResNet/ResNeXt builder.

    Args:
        block: "basic" (two 3x3 convs) or "bottleneck" (1x1-3x3-1x1, x4 expansion).
        layers_per_stage: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        planes: filters per stage (output = planes * 4 for bottlenecks).
        stem: "imagenet" (7x7/2 + max pool), "cifar" (3x3 conv to ``planes[0]``), or
            "cifar64" (3x3 conv to 64, ResNeXt-29).
        groups, width_per_group: ResNeXt cardinality and width per group.
        shortcut: see :func:`keras_cnns.blocks.residual_block`; "none" makes a plain net.
    """
    check_choice(block, "block", ("basic", "bottleneck"))
    check_choice(stem, "stem", ("imagenet", "cifar", "cifar64"))
    check_head(classes, include_top, pooling, classifier_activation)
    for n in layers_per_stage:
        check_positive_int(n, "layers_per_stage")
    if len(planes) != len(layers_per_stage):
        raise ValueError(f"`planes` ({len(planes)} stages) and `layers_per_stage` "
                         f"({len(layers_per_stage)} stages) must have the same length.")
    if stem == "imagenet":
        input_shape, small = check_input(input_shape, (224, 224, 3), 32, name, small_input,
                                         small_min=8, resize_to=resize_to)
    else:
        total = 2 ** (len(planes) - 1)
        input_shape, small = check_input(input_shape, (32, 32, 3), total, name,
                                         small_input, resize_to=resize_to)
    inputs, x = make_input(input_shape, resize_to)
    if stem == "imagenet" and not small:
        x = conv_bn_act(x, 64, 7, 2, name="conv1")
        x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    else:
        x = conv_bn_act(x, 16 if stem == "cifar" and block == "basic" else 64, 3, name="conv1")
    for i, (n, p) in enumerate(zip(layers_per_stage, planes)):
        x = stack(x, block, p, n, 1 if i == 0 else 2, stage=i + 2, groups=groups,
                  width_per_group=width_per_group, shortcut=shortcut)
    x = head(x, include_top, pooling, classes, classifier_activation)
    return keras.Model(inputs, x, name=name)


# The named builders pass their own arguments (``locals()``, their first statement) to the
# generic ones. Counts at 224x224x3, 1000 classes: torchvision's table (GFLOPS there = GMACs).
# Like torchvision's, the bottleneck ResNets are "v1.5": the stride is in the 3x3 conv.

def _imagenet_resnet(depth, name, groups=1, width_per_group=64, **kwargs):
    block, layers_per_stage = IMAGENET_DEPTHS[depth]
    return resnet(block, layers_per_stage, groups=groups, width_per_group=width_per_group,
                  name=name, **kwargs)


@register("resnet18")
def resnet18(input_shape=None, classes=1000, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None):
    """ResNet-18 from He et al., "Deep Residual Learning for Image Recognition" (2015), Table 1.

    Basic blocks (two 3x3 convs) in four stages of (2, 2, 2, 2).
    11,689,512 parameters, 1.814 GMACs.
    """
    return _imagenet_resnet(18, "resnet18", **locals())


@register("resnet34")
def resnet34(input_shape=None, classes=1000, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None):
    """ResNet-34 from He et al. (2015), Table 1.

    Basic blocks in four stages of (3, 4, 6, 3). 21,797,672 parameters, 3.664 GMACs.
    """
    return _imagenet_resnet(34, "resnet34", **locals())


@register("resnet50")
def resnet50(input_shape=None, classes=1000, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None):
    """ResNet-50 from He et al. (2015), Table 1.

    Bottleneck blocks (1x1-3x3-1x1, 4x expansion) in four stages of (3, 4, 6, 3).
    25,557,032 parameters, 4.089 GMACs.
    """
    return _imagenet_resnet(50, "resnet50", **locals())


@register("resnet101")
def resnet101(input_shape=None, classes=1000, include_top=True, pooling=None,
              classifier_activation="softmax", small_input=None, resize_to=None):
    """ResNet-101 from He et al. (2015), Table 1.

    Bottleneck blocks in four stages of (3, 4, 23, 3). 44,549,160 parameters, 7.801 GMACs.
    """
    return _imagenet_resnet(101, "resnet101", **locals())


@register("resnet152")
def resnet152(input_shape=None, classes=1000, include_top=True, pooling=None,
              classifier_activation="softmax", small_input=None, resize_to=None):
    """ResNet-152 from He et al. (2015), Table 1.

    Bottleneck blocks in four stages of (3, 8, 36, 3). 60,192,808 parameters, 11.514 GMACs.
    """
    return _imagenet_resnet(152, "resnet152", **locals())


@register("resnext50_32x4d")
def resnext50_32x4d(input_shape=None, classes=1000, include_top=True, pooling=None,
                    classifier_activation="softmax", small_input=None, resize_to=None):
    """ResNeXt-50 (32x4d) from Xie et al., "Aggregated Residual Transformations" (2017), Table 1.

    ResNet-50's bottlenecks with a grouped 3x3 conv: cardinality 32, width 4 per group.
    25,028,904 parameters, 4.23 GMACs.
    """
    return _imagenet_resnet(50, "resnext50_32x4d", 32, 4, **locals())


@register("resnext101_32x8d")
def resnext101_32x8d(input_shape=None, classes=1000, include_top=True, pooling=None,
                     classifier_activation="softmax", small_input=None, resize_to=None):
    """ResNeXt-101 (32x8d) from Xie et al. (2017), as in torchvision.

    ResNet-101's stages with cardinality 32, width 8 per group. 88,791,336 parameters.
    """
    return _imagenet_resnet(101, "resnext101_32x8d", 32, 8, **locals())


def cifar_resnet(depth, input_shape=None, classes=10, shortcut="zero_pad", plain=False,
                 **kwargs):
    """He et al.'s CIFAR ResNet of ``depth = 6n + 2`` layers (20, 32, 44, 56, 110, 1202...).

    ``shortcut``: "zero_pad" (option A, default, the paper's Table 6) or
    "projection" (option B: a 1x1 projection where the shape changes, identity
    elsewhere). ``plain=True`` removes every shortcut.
    """
    if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"`depth` must be 6n + 2 for a CIFAR ResNet (valid: 8, 14, 20, 32, 44, "
                         f"56, 110, ...), got {depth!r}.")
    check_choice(shortcut, "shortcut", ("zero_pad", "projection"))
    n = (depth - 2) // 6
    name = f"{'plain' if plain else 'resnet'}{depth}"
    return resnet("basic", (n, n, n), (16, 32, 64), stem="cifar", input_shape=input_shape,
                  classes=classes, name=name, **kwargs,
                  shortcut="none" if plain else {"zero_pad": "zero_pad", "projection": "auto"}[shortcut])


# CIFAR ResNets and their plain twins (He et al. 2015, Sec. 4.2 and Table 6); the exact
# counts (32x32x3, 10 classes) are those of the option-A reference port.
_SHORTCUT = """
        shortcut: "zero_pad" (option A, parameter-free, the paper's Table 6) or
            "projection" (option B: a 1x1 projection where the shape changes)."""


@register("resnet20", (32, 32, 3), _SHORTCUT)
def resnet20(input_shape=None, classes=10, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None,
             shortcut="zero_pad"):
    """ResNet-20 for CIFAR from He et al. (2015), Sec. 4.2: 3 stages of 3 basic blocks.

    269,722 parameters (the paper's Table 6: 0.27M).
    """
    return cifar_resnet(20, **locals())


@register("resnet32", (32, 32, 3), _SHORTCUT)
def resnet32(input_shape=None, classes=10, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None,
             shortcut="zero_pad"):
    """ResNet-32 for CIFAR (He et al. 2015, Sec. 4.2): 3 stages of 5 basic blocks.

    464,154 parameters (Table 6: 0.46M).
    """
    return cifar_resnet(32, **locals())


@register("resnet44", (32, 32, 3), _SHORTCUT)
def resnet44(input_shape=None, classes=10, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None,
             shortcut="zero_pad"):
    """ResNet-44 for CIFAR (He et al. 2015, Sec. 4.2): 3 stages of 7 basic blocks.

    658,586 parameters (Table 6: 0.66M).
    """
    return cifar_resnet(44, **locals())


@register("resnet56", (32, 32, 3), _SHORTCUT)
def resnet56(input_shape=None, classes=10, include_top=True, pooling=None,
             classifier_activation="softmax", small_input=None, resize_to=None,
             shortcut="zero_pad"):
    """ResNet-56 for CIFAR (He et al. 2015, Sec. 4.2): 3 stages of 9 basic blocks.

    853,018 parameters (Table 6: 0.85M).
    """
    return cifar_resnet(56, **locals())


@register("resnet110", (32, 32, 3), _SHORTCUT)
def resnet110(input_shape=None, classes=10, include_top=True, pooling=None,
              classifier_activation="softmax", small_input=None, resize_to=None,
              shortcut="zero_pad"):
    """ResNet-110 for CIFAR (He et al. 2015, Sec. 4.2): 3 stages of 18 basic blocks.

    1,727,962 parameters (Table 6: 1.7M).
    """
    return cifar_resnet(110, **locals())


@register("plain20", (32, 32, 3))
def plain20(input_shape=None, classes=10, include_top=True, pooling=None,
            classifier_activation="softmax", small_input=None, resize_to=None):
    """Plain-20 (He et al. 2015, Sec. 4.2, Fig. 6): ResNet-20 without its shortcuts.

    269,722 parameters, exactly ResNet-20's: option-A shortcuts have none.
    """
    return cifar_resnet(20, plain=True, **locals())


@register("plain56", (32, 32, 3))
def plain56(input_shape=None, classes=10, include_top=True, pooling=None,
            classifier_activation="softmax", small_input=None, resize_to=None):
    """Plain-56 (He et al. 2015, Sec. 4.2, Fig. 6): ResNet-56 without its shortcuts.

    853,018 parameters, exactly ResNet-56's; the deeper plain net trains worse than plain-20.
    """
    return cifar_resnet(56, plain=True, **locals())


def cifar_resnext(depth=29, cardinality=8, width=64, input_shape=None, classes=10, **kwargs):
    """ResNeXt-{depth} ({cardinality}x{width}d) for CIFAR: depth = 9n + 2 (29 -> 3 blocks per stage)."""
    if not isinstance(depth, int) or depth < 11 or (depth - 2) % 9:
        raise ValueError(f"`depth` must be 9n + 2 for a CIFAR ResNeXt (valid: 11, 20, 29, ...), "
                         f"got {depth!r}.")
    check_positive_int(cardinality, "cardinality")
    check_positive_int(width, "width")
    n = (depth - 2) // 9
    return resnet("bottleneck", (n, n, n), (64, 128, 256), stem="cifar64",
                  input_shape=input_shape, classes=classes, groups=cardinality,
                  width_per_group=width, name=f"resnext{depth}_{cardinality}x{width}d", **kwargs)


# CIFAR ResNeXts (Xie et al. 2017, Sec. 5.3), 32x32x3, 10 classes.

@register("resnext11_4x16d", (32, 32, 3))
def resnext11_4x16d(input_shape=None, classes=10, include_top=True, pooling=None,
                    classifier_activation="softmax", small_input=None, resize_to=None):
    """A small CIFAR ResNeXt (4x16d), one bottleneck per stage: the family's entry in notebook 09.

    Not in the paper (its smallest is ResNeXt-29); built like ResNeXt-29 by
    :func:`cifar_resnext` with depth 11. 1,398,346 parameters.
    """
    return cifar_resnext(11, 4, 16, **locals())


@register("resnext29_8x64d", (32, 32, 3))
def resnext29_8x64d(input_shape=None, classes=10, include_top=True, pooling=None,
                    classifier_activation="softmax", small_input=None, resize_to=None):
    """ResNeXt-29 (8x64d) from Xie et al. (2017), Sec. 5.3: 3 stages of 3 grouped bottlenecks.

    34,426,698 parameters (the paper's Table 7: 34.4M).
    """
    return cifar_resnext(29, 8, 64, **locals())


@register("resnext29_16x64d", (32, 32, 3))
def resnext29_16x64d(input_shape=None, classes=10, include_top=True, pooling=None,
                     classifier_activation="softmax", small_input=None, resize_to=None):
    """ResNeXt-29 (16x64d) from Xie et al. (2017), Sec. 5.3: cardinality 16, width 64.

    68,155,210 parameters (the paper's Table 7: 68.1M).
    """
    return cifar_resnext(29, 16, 64, **locals())
